#!/usr/bin/env python3
"""Load benchmark: PyTorch and swift-danet reading one full-size DANet-R101 checkpoint, in one run.

    swift build -c release && .venv/bin/python tools/bench_load.py [--repeats 7] [--threads 2]

Makes a random DANet-R101 state dict in the official layout (662 entries, about 266 MB, cached in
bench-out/), warms the page cache, then reports the median of each measurement:
  torch.load(weights_only=True)            every tensor in memory
  torch.load(mmap=True, weights_only=True) open and index, tensors mapped
  Swift Checkpoint.open                    open and index, in-process (danet-bench load)
  Swift open + every tensor as Float32     in-process (danet-bench load), two ways: copied into a
                                           [Float] per tensor (floats()), and as float32 buffers
                                           straight from the memory map where the file stores
                                           aligned little-endian float32 (withFloats(); legacy
                                           files are not 4-byte aligned and fall back to a copy).
                                           Both touch every 4 KB page of every tensor.
  danet inspect                            the whole CLI process, printing the table
Targets: open+index <= 0.5x torch mmap; every tensor as Float32 <= 0.5x torch.load.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import danet_layout  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--legacy", action="store_true", help="benchmark the legacy (pre-1.6) format instead of zip")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    out = os.path.join(ROOT, "bench-out")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "danet101_legacy.pth.tar" if args.legacy else "danet101.pth")
    if not os.path.exists(path):
        keys = danet_layout.official_keys(101)
        state = danet_layout.random_state_dict(keys)
        torch.save({"epoch": 240, "state_dict": state, "best_pred": 0.7993}, path,
                   _use_new_zipfile_serialization=not args.legacy)
    size = os.path.getsize(path)
    bench = os.path.join(ROOT, ".build", "release", "danet-bench")
    danet = os.path.join(ROOT, ".build", "release", "danet")
    for binary in (bench, danet):
        if not os.path.exists(binary):
            sys.exit(f"{binary} missing: run `swift build -c release` first")

    with open(path, "rb") as f:  # warm the page cache so every reader starts equal
        while f.read(1 << 24):
            pass

    def torch_full():
        sd = torch.load(path, weights_only=True)["state_dict"]
        return sum(t.numel() for t in sd.values())

    def torch_mmap():
        return len(torch.load(path, mmap=True, weights_only=True)["state_dict"])

    rows = []
    torch_full()
    full = median_time(torch_full, args.repeats)
    mmap = median_time(torch_mmap, args.repeats) if not args.legacy else None
    swift = json.loads(subprocess.run([bench, "load", path, str(args.repeats)], check=True, capture_output=True, text=True).stdout)
    inspect = median_time(lambda: subprocess.run([danet, "inspect", path], check=True, capture_output=True), args.repeats)

    rows.append(("torch.load(weights_only=True)", full))
    if mmap is not None:
        rows.append(("torch.load(mmap=True, weights_only=True)", mmap))
    rows.append(("swift: open and index (in-process)", swift["open_index_s"]))
    rows.append(("swift: every tensor as Float32, copied into [Float] (in-process)", swift["read_all_f32_copy_s"]))
    rows.append(("swift: every tensor as Float32, zero-copy withFloats (in-process)", swift["read_all_f32_view_s"]))
    rows.append(("danet inspect (whole process)", inspect))

    print(f"file: {os.path.relpath(path, ROOT)} ({size / 1e6:.1f} MB, {swift['tensors']} tensors, "
          f"{swift['elements']:,} elements), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, median of {args.repeats}")
    print()
    print("| measurement | median |")
    print("|---|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.1f} ms |")
    print()
    if mmap is not None:
        ratio = swift["open_index_s"] / mmap
        print(f"open and index / torch.load(mmap=True) = {ratio:.3f} (target <= 0.5)")
    for label, key in (("copied", "read_all_f32_copy_s"), ("zero-copy", "read_all_f32_view_s")):
        ratio = swift[key] / full
        print(f"every tensor as Float32 ({label}) / torch.load(weights_only=True) = {ratio:.3f} (target <= 0.5)")


if __name__ == "__main__":
    main()
