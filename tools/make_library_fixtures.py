#!/usr/bin/env python3
"""Writes Fixtures/library/: what the README's "Use it as a library" example opens.

    .venv/bin/python tools/make_library_fixtures.py

- danet101.pth.tar: a DANet-R101 in the layout and format of the released official DANet101
  (legacy torch.save, the training wrapper, stale fc and auxlayer weights), 19 Cityscapes classes,
  at a reduced width (4) so that the file stays small; random weights.
- street.jpg: the bundled demo street scene as a JPEG.

The example and its test (tools/test_library_example.sh) only need the files to load and run; the
model's numbers are checked against PyTorch by the parity fixtures in Fixtures/danet.
"""

import os
import sys

import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from danet_reference import DANet, randomize  # noqa: E402
from make_danet_fixtures import save  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Fixtures", "library")


def main():
    os.makedirs(OUT, exist_ok=True)
    model = randomize(DANet(101, "resnet7", 19, 4, (4, 8, 16), True), seed=7)
    path = os.path.join(OUT, "danet101.pth.tar")
    save(model.state_dict(), path, "legacy-wrapped", seed=107)
    Image.open(os.path.join(ROOT, "Fixtures", "demo", "street.png")).convert("RGB").save(
        os.path.join(OUT, "street.jpg"), quality=92)
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name)) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
