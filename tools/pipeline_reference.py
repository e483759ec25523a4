"""The official DANet test-time pipeline in PyTorch, written from the official code's behaviour, for golden scores.

    scores = evaluate(model, image, scales, flip, base_size, crop_size, mode)   # (classes, H, W)

`image` is a (3, H, W) uint8 tensor. mode "slide" is the official MultiEvalModule: long side =
ceil(base * scale), align_corners=True resizes, padding with -mean/std (a black pixel), windows of
crop size with stride int(crop * 2/3) averaged over their overlap, exp(logits + flipped logits),
resized back and summed over scales. mode "whole" runs the whole resized image once, unpadded.
"""

import math

import torch
import torch.nn.functional as F

MEAN = torch.tensor([0.485, 0.456, 0.406])
STD = torch.tensor([0.229, 0.224, 0.225])


def resize(x, height, width):
    return F.interpolate(x, (height, width), mode="bilinear", align_corners=True)


def pad(x, crop):
    _, _, h, w = x.shape
    out = (-MEAN / STD).to(x.dtype).view(1, 3, 1, 1).expand(1, 3, max(h, crop), max(w, crop)).clone()
    out[:, :, :h, :w] = x
    return out


def infer(model, x, flip):
    logits = model(x)[0]
    if flip:
        logits = logits + model(x.flip(3))[0].flip(3)
    return logits.exp()


@torch.no_grad()
def evaluate(model, image, scales, flip, base_size, crop_size, mode="slide"):
    dtype = next(model.parameters()).dtype
    x = ((image.to(dtype) / 255 - MEAN.to(dtype).view(3, 1, 1)) / STD.to(dtype).view(3, 1, 1))[None]
    _, _, h, w = x.shape
    stride = int(crop_size * 2.0 / 3.0)
    total = None
    for scale in scales:
        long = int(math.ceil(base_size * scale))
        if h > w:
            height, width, short = long, int(1.0 * w * long / h + 0.5), int(1.0 * w * long / h + 0.5)
        else:
            height, width, short = int(1.0 * h * long / w + 0.5), long, int(1.0 * h * long / w + 0.5)
        current = resize(x, height, width)
        if mode == "whole":
            output = infer(model, current, flip)
        elif long <= crop_size:
            output = infer(model, pad(current, crop_size), flip)[:, :, :height, :width]
        else:
            padded = pad(current, crop_size) if short < crop_size else current
            _, _, ph, pw = padded.shape
            rows = int(math.ceil(1.0 * (ph - crop_size) / stride)) + 1
            cols = int(math.ceil(1.0 * (pw - crop_size) / stride)) + 1
            summed, count = None, torch.zeros(1, 1, ph, pw, dtype=x.dtype)
            for r in range(rows):
                for c in range(cols):
                    h0, w0 = r * stride, c * stride
                    h1, w1 = min(h0 + crop_size, ph), min(w0 + crop_size, pw)
                    result = infer(model, pad(padded[:, :, h0:h1, w0:w1], crop_size), flip)
                    if summed is None:
                        summed = torch.zeros(1, result.shape[1], ph, pw, dtype=x.dtype)
                    summed[:, :, h0:h1, w0:w1] += result[:, :, :h1 - h0, :w1 - w0]
                    count[:, :, h0:h1, w0:w1] += 1
            output = (summed / count)[:, :, :height, :width]
        back = resize(output, h, w)
        total = back if total is None else total + back
    return total[0]
