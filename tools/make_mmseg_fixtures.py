#!/usr/bin/env python3
"""Writes Fixtures/mmseg/: golden outputs of mmsegmentation's test pipeline (tools/mmseg_reference.py).

    .venv/bin/python tools/make_mmseg_fixtures.py

resize.golden.safetensors: 8-bit RGB images and what cv2.resize (INTER_LINEAR) makes of them, for
sizes that upscale, downscale, halve exactly and change the aspect ratio.
mmseg.json + mmseg.golden.safetensors: the small mmseg-layout R50 of Fixtures/danet
(align_corners false) on the 61 x 83 photo of Fixtures/pipeline, float64 scores: slide mode with a
resize that is not the identity, odd sizes, overlapping windows and windows moved back inside the
image; whole mode with flip and two ratios (probabilities averaged); whole mode with flip alone.
"""

import json
import os
import sys

import cv2
import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmseg_reference  # noqa: E402
from danet_reference import DANet, randomize, to_mmseg  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "Fixtures", "mmseg")
CLASSES = 5

CASES = {
    "slide": {"resizeLong": 120, "resizeShort": 90, "mode": "slide", "cropHeight": 64, "cropWidth": 48,
              "strideHeight": 40, "strideWidth": 30, "flip": False, "ratios": None},
    "whole-tta": {"resizeLong": 100, "resizeShort": 60, "mode": "whole", "flip": True, "ratios": [0.75, 1.5]},
    "whole-flip": {"resizeLong": 110, "resizeShort": 70, "mode": "whole", "flip": True, "ratios": None},
}


def fixture_model():
    """The mmseg_v1c_r50 fixture, rebuilt as tools/make_danet_fixtures.py made it, and checked against the file."""
    model = randomize(DANet(50, "v1c", CLASSES, 8, (2, 4, 4), False), seed=2)
    saved = torch.load(os.path.join(ROOT, "Fixtures", "danet", "mmseg_v1c_r50.pth"), weights_only=True)["state_dict"]
    for name, tensor in to_mmseg(model.state_dict()).items():
        assert torch.equal(saved[name], tensor), name
    return model.eval().double()


def resize_cases():
    rng = np.random.default_rng(11)
    tensors = {}
    for index, (w, h, ow, oh) in enumerate([(37, 29, 50, 41), (83, 61, 120, 88), (200, 100, 100, 50), (129, 65, 61, 97), (64, 48, 63, 49)]):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        tensors[f"source.{index}"] = torch.from_numpy(image)
        tensors[f"resized.{index}"] = torch.from_numpy(cv2.resize(image, (ow, oh), interpolation=cv2.INTER_LINEAR))
    save_file(tensors, os.path.join(OUT, "resize.golden.safetensors"))


def main():
    os.makedirs(OUT, exist_ok=True)
    resize_cases()
    image = np.array(Image.open(os.path.join(ROOT, "Fixtures", "pipeline", "photo.png")).convert("RGB"))
    model = fixture_model()
    golden = {}
    for name, settings in CASES.items():
        settings["alignCorners"] = False
        scores = mmseg_reference.evaluate(model, image, settings, CLASSES)
        golden[f"scores.{name}"] = scores.contiguous()
        print(f"{name}: scores {tuple(scores.shape)}, max {scores.abs().max().item():.4g}")
    save_file(golden, os.path.join(OUT, "mmseg.golden.safetensors"))
    with open(os.path.join(OUT, "mmseg.json"), "w") as f:
        json.dump({"image": "../pipeline/photo.png", "weights": "../danet/mmseg_v1c_r50.pth", "cases": CASES}, f, indent=1)
        f.write("\n")
    print(f"cv2 {cv2.__version__}, torch {torch.__version__}")


if __name__ == "__main__":
    main()
