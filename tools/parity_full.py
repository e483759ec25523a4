#!/usr/bin/env python3
"""Full-size parity: real-size DANet-R50 and R101 in both key layouts, built with PyTorch, saved in
zip and legacy formats and converted to a .danet model file, run through `danet infer`, compared
with PyTorch; the .danet file's logits must also equal the zip checkpoint's, bit for bit.

    swift build -c release && .venv/bin/python tools/parity_full.py [--size 385x513] [--threads 2]

Prints, per model and file format (zip, .danet, legacy), max|diff| and argmax agreement against PyTorch in float64 (the
exact result of the reference) and in float32 (as users run it), next to PyTorch float32's own
distance from float64: the noise floor that any float32 implementation shares. Pass criteria,
against the float64 reference: argmax agreement >= 99.99% of pixels and
max|diff| <= 1e-3 * max|reference|. Files go to bench-out/parity/.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import torch
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from danet_reference import DANet, randomize, to_mmseg  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MODELS = [  # name, depth, stem, layer4 dilations, align_corners, layout
    ("official-r50", 50, "resnet7", (4, 8, 16), True, "official"),
    ("official-r101", 101, "resnet7", (4, 8, 16), True, "official"),
    ("mmseg-r50", 50, "v1c", (2, 4, 4), False, "mmseg"),
    ("mmseg-r101", 101, "v1c", (2, 4, 4), False, "mmseg"),
]


REFERENCE_RUN = """
import sys, torch
sys.path.insert(0, {tools!r})
from danet_reference import DANet, to_mmseg
from safetensors.torch import load_file
torch.set_num_threads({threads})
model = DANet({depth}, {stem!r}, 19, 64, {dilations!r}, {align!r}).eval()
state = torch.load({weights!r}, weights_only=True)["state_dict"]
model.load_state_dict(state if not {mmseg!r} else {{n: state[m].reshape(model.state_dict()[n].shape) for n, m in
                      zip(model.state_dict(), to_mmseg(model.state_dict()))}})
del state
with torch.no_grad():
    model(load_file({input!r})["input"])
"""


def peak_rss_mb(command):
    """Peak resident memory of a command, from GNU time (a forked child would inherit this
    process's high-water mark in wait4's rusage)."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M"] + command, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(report.read().strip().splitlines()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="385x513", help="input HxW (default 385x513)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default=",".join(m[0] for m in MODELS))
    parser.add_argument("--memory", action="store_true", help="also compare peak RSS with a PyTorch run (zip files)")
    args = parser.parse_args()
    height, width = map(int, args.size.split("x"))
    torch.set_num_threads(args.threads)
    danet = os.path.join(ROOT, ".build", "release", "danet")
    if not os.path.exists(danet):
        sys.exit(f"{danet} missing: run `swift build -c release` first")
    out = os.path.join(ROOT, "bench-out", "parity")
    os.makedirs(out, exist_ok=True)
    x = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(7))
    input_path = os.path.join(out, f"input-{height}x{width}.safetensors")
    save_file({"input": x}, input_path)

    print(f"input 1x3x{height}x{width}, {args.threads} threads, torch {torch.__version__}")
    print("| model | file | max|ref| | danet vs torch fp64: max|diff| (rel) | argmax | danet vs torch fp32: max|diff| (rel) | argmax "
          "| torch fp32 vs fp64: max|diff| (rel) | argmax | danet infer s (whole process) | torch forward s | pass |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    all_pass = True
    memory = []
    for name, depth, stem, dilations, align, layout in MODELS:
        if name not in args.models.split(","):
            continue
        model = randomize(DANet(depth, stem, 19, 64, dilations, align), seed=depth)
        state = model.state_dict() if layout == "official" else to_mmseg(model.state_dict())
        wrapped = {"epoch": 240, "state_dict": state, "best_pred": 0.0} if layout == "official" else {"meta": {}, "state_dict": state}
        with torch.no_grad():
            start = time.perf_counter()
            ref32 = model(x)[0]
            torch_seconds = time.perf_counter() - start
            ref64 = model.double()(x.double())[0]
        drift = (ref32.double() - ref64).abs().max().item()
        drift_agreement = (ref32.argmax(1) == ref64.argmax(1)).double().mean().item()
        zip_logits = None
        for fmt in ("zip", "danet", "legacy"):
            weights = os.path.join(out, f"{name}.{ {'zip': 'pth', 'danet': 'danet', 'legacy': 'pth.tar'}[fmt] }")
            if fmt == "danet":
                subprocess.run([danet, "convert", os.path.join(out, f"{name}.pth"), weights], check=True, capture_output=True)
                os.remove(os.path.join(out, f"{name}.pth"))
            else:
                torch.save(wrapped, weights, _use_new_zipfile_serialization=fmt == "zip")
            result_path = os.path.join(out, f"{name}-{fmt}-out.safetensors")
            start = time.perf_counter()
            subprocess.run([danet, "infer", "--weights", weights, "--input", input_path, "--output", result_path,
                            "--threads", str(args.threads)], check=True, capture_output=True)
            danet_seconds = time.perf_counter() - start
            logits = load_file(result_path)["logits"]
            scale = ref32.abs().max().item()
            diff32 = (logits - ref32).abs().max().item()
            diff64 = (logits.double() - ref64).abs().max().item()
            agreement = (logits.argmax(1) == ref32.argmax(1)).double().mean().item()
            agreement64 = (logits.argmax(1) == ref64.argmax(1)).double().mean().item()
            ok = agreement64 >= 0.9999 and diff64 <= 1e-3 * scale
            if fmt == "zip":
                zip_logits = logits
            elif fmt == "danet":
                ok &= bool(torch.equal(logits, zip_logits))
            all_pass &= ok
            print(f"| {name} | {fmt} | {scale:.4g} | {diff64:.3g} ({diff64 / scale:.2g}) | {agreement64 * 100:.4f}% | "
                  f"{diff32:.3g} ({diff32 / scale:.2g}) | {agreement * 100:.4f}% | {drift:.3g} ({drift / scale:.2g}) | "
                  f"{drift_agreement * 100:.4f}% | {danet_seconds:.2f} | {torch_seconds:.2f} | {'yes' if ok else 'NO'} |")
            if args.memory and fmt == "zip":
                code = REFERENCE_RUN.format(tools=os.path.dirname(os.path.abspath(__file__)), threads=args.threads, depth=depth,
                                            stem=stem, dilations=dilations, align=align, weights=weights,
                                            mmseg=layout == "mmseg", input=input_path)
                memory.append((name, peak_rss_mb([danet, "infer", "--weights", weights, "--input", input_path, "--output",
                                                  result_path, "--threads", str(args.threads)]),
                               peak_rss_mb([sys.executable, "-c", code])))
            if fmt != "zip":
                os.remove(weights)
    if memory:
        print()
        print("| model | danet infer peak RSS | PyTorch (load_state_dict + forward) peak RSS | ratio |")
        print("|---|---:|---:|---:|")
        for name, ours, theirs in memory:
            print(f"| {name} | {ours:.0f} MB | {theirs:.0f} MB | {ours / theirs:.2f} |")
    print("all pass" if all_pass else "FAILED")
    sys.exit(0 if all_pass else 1)


if __name__ == "__main__":
    main()
