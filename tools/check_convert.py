#!/usr/bin/env python3
"""Checks `danet convert` against PyTorch: converts real torch.save files and compares every tensor
that Python's `safetensors` reads back with what torch.load returns.

    swift build -c release && .venv/bin/python tools/check_convert.py [FILE ...]

Without arguments it makes one zip and one legacy DANet-R101 checkpoint (official layout, with a
'module.' prefix and the official wrapper) in bench-out/ and checks f32 (as stored), f16 and bf16.
"""

import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import danet_layout  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DANET = os.path.join(ROOT, ".build", "release", "danet")


def reference_state_dict(path):
    obj = torch.load(path, weights_only=True)
    return obj["state_dict"] if isinstance(obj, dict) and "state_dict" in obj else obj


def check(path, dtype, strip):
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "out.safetensors")
        command = [DANET, "convert", path, out] + (["--dtype", dtype] if dtype else []) + (["--strip-prefix", strip] if strip else [])
        subprocess.run(command, check=True, capture_output=True)
        converted = load_file(out)
        with safe_open(out, "pt") as f:
            metadata = f.metadata()
    reference = reference_state_dict(path)
    target = {"f16": torch.float16, "bf16": torch.bfloat16}.get(dtype)
    mismatched, max_diff = [], 0.0
    for name, tensor in reference.items():
        key = name[len(strip):] if strip and name.startswith(strip) else name
        expected = tensor.to(target) if target is not None and tensor.is_floating_point() else tensor
        got = converted.get(key)
        if got is None or got.dtype != expected.dtype or got.shape != expected.shape or not torch.equal(got, expected):
            mismatched.append(name)
        elif got.is_floating_point() and got.numel():
            max_diff = max(max_diff, (got.float() - tensor.float()).abs().max().item())
    extra = set(converted) - {n[len(strip):] if strip and n.startswith(strip) else n for n in reference}
    ok = not mismatched and not extra
    print(f"{os.path.basename(path)} --dtype {dtype or 'as stored'}: {len(converted)} tensors, "
          f"{'all equal to torch.load' + ('(.to(' + dtype + '))' if dtype else '') if ok else f'MISMATCH {mismatched[:3]} extra {sorted(extra)[:3]}'}"
          f", max|diff| vs the float32 original {max_diff:.3g}, metadata {metadata}")
    return ok


def main():
    paths = sys.argv[1:]
    if not paths:
        out = os.path.join(ROOT, "bench-out")
        os.makedirs(out, exist_ok=True)
        keys = danet_layout.official_keys(101)
        state = danet_layout.random_state_dict(keys, seed=1)
        wrapped = {"epoch": 240, "state_dict": {f"module.{k}": v for k, v in state.items()}, "best_pred": 0.7993}
        paths = [os.path.join(out, "check_zip.pth"), os.path.join(out, "check_legacy.pth.tar")]
        torch.save(wrapped, paths[0])
        torch.save(wrapped, paths[1], _use_new_zipfile_serialization=False)
    ok = True
    for path in paths:
        for dtype in (None, "f16", "bf16"):
            ok &= check(path, dtype, "module.")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
