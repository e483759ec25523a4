#!/usr/bin/env python3
"""Writes Fixtures/pipeline/: golden scores of the test-time pipeline and images for the decoders.

    .venv/bin/python tools/make_pipeline_fixtures.py

pipeline.json + pipeline.golden.safetensors: the small official R50 of Fixtures/danet on a 61 x 83
photo-like PNG (float64 scores), in slide mode (scales 0.5/1/1.5 cover the padded single window, the unpadded grid
and a 3 x 3 grid) and whole mode, with flip, computed in float64 by tools/pipeline_reference.py.
eval/: three labelled scenes and the mIoU, pixel accuracy and per-class IoU that mmseg's formulas
give for the fixture model's predictions on them (slide mode, the settings above).
images/: PNG in every colour type and depth, JPEGs with EXIF orientations, a truncated file, and
images.json with the RGB values PIL gives for each (16-bit channels cut to 8 bits, alpha dropped,
EXIF orientation applied).
"""

import io
import json
import os
import sys

import numpy as np
import torch
from PIL import Image, ImageOps
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline_reference  # noqa: E402
import street_scenes  # noqa: E402
from danet_reference import DANet  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "Fixtures", "pipeline")


def load_fixture_model():
    """The official_resnet7_r50 fixture, loaded into the reference model."""
    model = DANet(50, "resnet7", 5, 8, (4, 8, 16), True)
    state = torch.load(os.path.join(ROOT, "Fixtures", "danet", "official_resnet7_r50.pth.tar"), weights_only=True)["state_dict"]
    model.load_state_dict({k: v for k, v in state.items() if not k.startswith(("pretrained.fc.", "auxlayer."))})
    return model.eval().double()


def pipeline_cases():
    image, _ = street_scenes.scene(np.random.default_rng(5), 61, 83)
    Image.fromarray(image).save(os.path.join(OUT, "photo.png"))
    pixels = torch.from_numpy(image).permute(2, 0, 1)
    model = load_fixture_model()
    settings = {"scales": [0.5, 1.0, 1.5], "flip": True, "baseSize": 96, "cropSize": 64}
    golden = {}
    for mode in ("slide", "whole"):
        golden[f"scores.{mode}"] = pipeline_reference.evaluate(model, pixels, settings["scales"], True, 96, 64, mode)
    save_file({k: v.contiguous() for k, v in golden.items()}, os.path.join(OUT, "pipeline.golden.safetensors"))
    with open(os.path.join(OUT, "pipeline.json"), "w") as f:
        json.dump({"image": "photo.png", "weights": "../danet/official_resnet7_r50.pth.tar", **settings}, f, indent=1)


def evaluation_case():
    """Three labelled scenes and the scores mmseg's formulas give for the fixture model on them."""
    folder = os.path.join(OUT, "eval")
    for sub in ("images", "labels"):
        os.makedirs(os.path.join(folder, sub), exist_ok=True)
    model = load_fixture_model()
    classes = 5
    confusion = np.zeros((classes, classes), np.int64)
    for index in range(3):
        image, label = street_scenes.scene(np.random.default_rng(40 + index), 61, 83)
        label = np.where(label >= classes, 255, label).astype(np.uint8)  # the fixture model has 5 classes
        label[:3, :5] = 255
        Image.fromarray(image).save(os.path.join(folder, "images", f"scene{index}.png"))
        Image.fromarray(label).save(os.path.join(folder, "labels", f"scene{index}.png"))
        scores = pipeline_reference.evaluate(model, torch.from_numpy(image).permute(2, 0, 1), [0.5, 1.0, 1.5], True, 96, 64)
        prediction = scores.argmax(0).numpy()
        valid = label != 255
        confusion += np.bincount(label[valid].astype(np.int64) * classes + prediction[valid], minlength=classes * classes).reshape(classes, classes)
    intersection = np.diag(confusion)
    union = confusion.sum(0) + confusion.sum(1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = intersection / union
    result = {"mIoU": float(np.nanmean(iou)), "pixelAccuracy": float(intersection.sum() / confusion.sum()),
              "perClass": [None if np.isnan(v) else float(v) for v in iou]}
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(result, f, indent=1)


def image_cases():
    folder = os.path.join(OUT, "images")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    expected = {}

    def record(name, pil_rgb):
        expected[name] = {"width": pil_rgb.shape[1], "height": pil_rgb.shape[0], "rgb": pil_rgb.reshape(-1).tolist()}

    Image.fromarray(rgb).save(os.path.join(folder, "rgb8.png"))
    record("rgb8.png", rgb)
    grey = rgb[:, :, 0]
    Image.fromarray(grey).save(os.path.join(folder, "grey8.png"))
    record("grey8.png", np.stack([grey] * 3, -1))
    rgba = np.concatenate([rgb, rng.integers(0, 256, (7, 5, 1), dtype=np.uint8)], -1)
    Image.fromarray(rgba).save(os.path.join(folder, "rgba8.png"))
    record("rgba8.png", rgb)
    palette = Image.fromarray(rgb).quantize(8)
    palette.save(os.path.join(folder, "palette.png"))
    record("palette.png", np.array(palette.convert("RGB")))
    wide = rng.integers(0, 65536, (7, 5), dtype=np.uint16)
    Image.fromarray(wide).save(os.path.join(folder, "grey16.png"))
    record("grey16.png", np.stack([(wide >> 8).astype(np.uint8)] * 3, -1))
    smooth = np.clip(np.add.outer(np.arange(24) * 9, np.arange(32) * 6)[:, :, None] + np.array([0, 40, 80]), 0, 255).astype(np.uint8)
    for orientation in (1, 3, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"orientation{orientation}.jpg"
        Image.fromarray(smooth).save(os.path.join(folder, name), quality=95, exif=exif)
        record(name, np.array(ImageOps.exif_transpose(Image.open(os.path.join(folder, name))).convert("RGB")))
    good = open(os.path.join(folder, "rgb8.png"), "rb").read()
    open(os.path.join(folder, "truncated.png"), "wb").write(good[: len(good) // 2])
    open(os.path.join(folder, "not-an-image.jpg"), "wb").write(b"<html>not an image</html>")
    labels = rng.integers(0, 5, (7, 5), dtype=np.uint8)
    labels[0, 0] = 255
    Image.fromarray(labels).save(os.path.join(folder, "labels.png"))
    expected["labels.png"] = {"width": 5, "height": 7, "values": labels.reshape(-1).tolist()}
    with open(os.path.join(folder, "images.json"), "w") as f:
        json.dump(expected, f)


def main():
    os.makedirs(OUT, exist_ok=True)
    pipeline_cases()
    evaluation_case()
    image_cases()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
