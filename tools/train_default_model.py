#!/usr/bin/env python3
"""Trains the bundled default model: a DANet-R50 at width 8 (official layout) on procedural street
scenes (tools/street_scenes.py), on the CPU, in minutes.

    .venv/bin/python tools/train_default_model.py [--steps 2500] [--threads 2]

Writes Sources/CDemoModel/model/default-street-danet.pth (torch.save, official layout), a demo
image Fixtures/demo/street.png, and prints the mIoU on 100 held-out scenes (seeds never used in
training), whole image, no flip, as `danet evaluate` computes it.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import street_scenes  # noqa: E402
from danet_reference import DANet, train_step  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def batch(seeds):
    images, labels = zip(*(street_scenes.scene(np.random.default_rng(s)) for s in seeds))
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return (x - MEAN) / STD, torch.from_numpy(np.stack(labels)).long()


def miou(model, seeds, classes=6):
    confusion = torch.zeros(classes, classes, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(seeds), 10):
            x, y = batch(seeds[start:start + 10])
            prediction = model(x)[0].argmax(1)
            confusion += torch.bincount(y.flatten() * classes + prediction.flatten(), minlength=classes * classes).view(classes, classes)
    inter = confusion.diag().double()
    union = confusion.sum(0).double() + confusion.sum(1).double() - inter
    return (inter / union).mean().item(), (inter / union).tolist()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = DANet(50, "resnet7", len(street_scenes.CLASSES), 8, (4, 8, 16), True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=args.steps, pct_start=0.1)
    start = time.time()
    model.train()
    for step in range(args.steps):
        x, y = batch(range(step * 8, step * 8 + 8))
        loss = train_step(model, optimizer, schedule, x, y)
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    held_out = list(range(10_000_000, 10_000_100))
    score, per_class = miou(model, held_out)
    print(f"held-out mIoU {score:.4f}: " + ", ".join(f"{n} {v:.3f}" for n, v in zip(street_scenes.CLASSES, per_class)))
    out = os.path.join(ROOT, "Sources", "CDemoModel", "model")
    os.makedirs(out, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "classes": street_scenes.CLASSES, "palette": street_scenes.PALETTE,
                "heldout_miou": score}, os.path.join(out, "default-street-danet.pth"))
    demo = os.path.join(ROOT, "Fixtures", "demo")
    os.makedirs(demo, exist_ok=True)
    image, label = street_scenes.scene(np.random.default_rng(20_000_000), 128, 256)  # the training size
    Image.fromarray(image).save(os.path.join(demo, "street.png"))
    Image.fromarray(label).save(os.path.join(demo, "street-label.png"))
    print(f"saved ({os.path.getsize(os.path.join(out, 'default-street-danet.pth')) / 1e6:.1f} MB) in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
