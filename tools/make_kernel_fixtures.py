#!/usr/bin/env python3
"""Writes Fixtures/kernels/kernels.safetensors: PyTorch results for each Swift kernel on small inputs.

    .venv/bin/python tools/make_kernel_fixtures.py

Tensors come in groups named `<case>.input`, `<case>.weight`, `<case>.bias`, `<case>.output`; the
case name carries the parameters (e.g. `conv.k3s2p1d1`, `resize.11x17.align1`), so that a failing
kernel test names what it ran. Computed in float64, stored as float32.
"""

import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "kernels")


def main():
    g = torch.Generator().manual_seed(0)
    t = {}
    x = torch.randn(3, 11, 13, generator=g, dtype=torch.float64)
    for k, s, p, d in [(3, 2, 1, 1), (3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4), (1, 2, 0, 1), (1, 1, 0, 1), (7, 2, 3, 1)]:
        w = torch.randn(4, 3, k, k, generator=g, dtype=torch.float64)
        b = torch.randn(4, generator=g, dtype=torch.float64)
        name = f"conv.k{k}s{s}p{p}d{d}"
        t[name + ".input"], t[name + ".weight"], t[name + ".bias"] = x, w, b
        t[name + ".output"] = F.conv2d(x[None], w, b, stride=s, padding=p, dilation=d)[0]
    pool_input = torch.randn(2, 9, 10, generator=g, dtype=torch.float64)
    t["maxpool.input"], t["maxpool.output"] = pool_input, F.max_pool2d(pool_input[None], 3, 2, 1)[0]
    small = torch.randn(2, 5, 7, generator=g, dtype=torch.float64)
    for height, width in [(11, 17), (3, 4), (5, 7), (1, 1), (40, 9)]:
        for align in (True, False):
            name = f"resize.{height}x{width}.align{int(align)}"
            t[name + ".input"] = small
            t[name + ".output"] = F.interpolate(small[None], (height, width), mode="bilinear", align_corners=align)[0]
    logits = torch.randn(6, 9, generator=g, dtype=torch.float64) * 20
    t["softmax.input"], t["softmax.output"] = logits, torch.softmax(logits, dim=-1)
    os.makedirs(OUT, exist_ok=True)
    save_file({k: v.float().contiguous() for k, v in t.items()}, os.path.join(OUT, "kernels.safetensors"))
    print(f"wrote {len(t)} tensors to {os.path.normpath(OUT)}/kernels.safetensors")


if __name__ == "__main__":
    main()
