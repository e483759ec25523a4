#!/usr/bin/env python3
"""Writes a held-out set of generated street scenes (seeds the training never uses) for
`danet evaluate`:

    .venv/bin/python tools/make_street_heldout.py [--count 50] [--out bench-out/street-heldout]
    .build/release/danet evaluate --images bench-out/street-heldout/images --labels bench-out/street-heldout/labels
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import street_scenes  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-out", "street-heldout"))
    parser.add_argument("--size", default="128x256", help="HxW of the scenes (the model was trained at 128x256)")
    args = parser.parse_args()
    for sub in ("images", "labels"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    for i in range(args.count):
        height, width = map(int, args.size.split("x"))
        image, label = street_scenes.scene(np.random.default_rng(30_000_000 + i), height, width)
        Image.fromarray(image).save(os.path.join(args.out, "images", f"scene{i:03d}.png"))
        Image.fromarray(label).save(os.path.join(args.out, "labels", f"scene{i:03d}.png"))
    print(f"wrote {args.count} scenes to {args.out}")


if __name__ == "__main__":
    main()
