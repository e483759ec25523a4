"""mmsegmentation 1.x's test-time pipeline, written from its documented behaviour for the parity
fixtures (tools/make_mmseg_fixtures.py); not mmseg's code. float64 on the network side; the 8-bit
resize is OpenCV's own (`cv2.resize`, INTER_LINEAR), as mmcv's `imrescale` calls it.

- Resize with the aspect ratio kept: scale = min(long / long side, short / short side), each side
  int(side * scale + 0.5) (mmcv `rescale_size`); with ratios (TTA), the bound is the original size
  times the ratio, rounded the same way.
- Normalise: (pixel - mean) / std, RGB, pixels in 0...255.
- whole: the network on the whole resized image; slide: h_grids = max(h - crop_h + stride_h - 1, 0)
  // stride_h + 1 windows (the same for columns), each window's end clamped to the image and its
  start moved back to end - crop (not below 0); logits summed and divided by the window count.
  The network's logits come back at its input's size (bilinear, the head's align_corners).
- Flip: the flipped image's logits flipped back. Every pass's logits are resized to the original
  size (bilinear, align_corners); with flip or ratios their softmax probabilities are averaged.
"""

import cv2
import numpy as np
import torch
import torch.nn.functional as F

MEAN = torch.tensor([123.675, 116.28, 103.53], dtype=torch.float64).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375], dtype=torch.float64).view(3, 1, 1)


def rescaled_size(width, height, long, short):
    scale = min(max(long, short) / max(width, height), min(long, short) / min(width, height))
    return int(width * scale + 0.5), int(height * scale + 0.5)


def ratio_size(width, height, ratio):
    bound = int(width * ratio + 0.5), int(height * ratio + 0.5)
    return rescaled_size(width, height, max(bound), min(bound))


def windows(size, crop, stride):
    grids = max(size - crop + stride - 1, 0) // stride + 1
    out = []
    for index in range(grids):
        end = min(index * stride + crop, size)
        out.append((max(end - crop, 0), end))
    return out


def fused(model, x):
    return model(x)[0]


def slide(model, x, crop, stride, classes):
    _, _, h, w = x.shape
    preds = x.new_zeros((1, classes, h, w))
    count = x.new_zeros((1, 1, h, w))
    for y1, y2 in windows(h, crop[0], stride[0]):
        for x1, x2 in windows(w, crop[1], stride[1]):
            preds[:, :, y1:y2, x1:x2] += fused(model, x[:, :, y1:y2, x1:x2])
            count[:, :, y1:y2, x1:x2] += 1
    return preds / count


@torch.no_grad()
def evaluate(model, image, settings, classes):
    """`image`: uint8 RGB (H, W, 3). Returns the merged scores (classes, H, W), float64."""
    height, width = image.shape[:2]
    ratios = settings.get("ratios")
    sizes = [ratio_size(width, height, r) for r in ratios] if ratios else \
        [rescaled_size(width, height, settings["resizeLong"], settings["resizeShort"])]
    flips = [False, True] if settings["flip"] else [False]
    align = settings["alignCorners"]
    passes = []
    for w, h in sizes:
        resized = cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)
        x = (torch.from_numpy(np.ascontiguousarray(resized)).permute(2, 0, 1).double() - MEAN) / STD
        for flip in flips:
            inp = x.flip(2) if flip else x
            inp = inp.unsqueeze(0)
            if settings["mode"] == "whole":
                logits = fused(model, inp)
            else:
                logits = slide(model, inp, (settings["cropHeight"], settings["cropWidth"]),
                               (settings["strideHeight"], settings["strideWidth"]), classes)
            if flip:
                logits = logits.flip(3)
            passes.append(F.interpolate(logits, size=(height, width), mode="bilinear", align_corners=align)[0])
    if settings["flip"] or ratios:
        return sum(p.softmax(0) for p in passes) / len(passes)
    return passes[0]
