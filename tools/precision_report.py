#!/usr/bin/env python3
"""Accuracy of reduced precision: the same inputs through PyTorch fp32, danet f32, danet bf16 and
OpenVINO's bf16, compared with PyTorch fp32.

    swift build -c release --product danet
    .venv/bin/python tools/precision_report.py [--train-steps 500] [--threads 2] [--skip-random]

Three kinds of weights:
- the bundled street model (trained, width 8) on held-out street scenes (seeds never used in
  training), 256 x 512;
- a full-width DANet-R50 (official layout, 6 classes) that this script trains on the street scenes
  the first time it runs and caches outside git (~/.cache/swift-danet/, or $DANET_CACHE), on the
  same held-out scenes;
- the random-weight full-size R50 and R101 of tools/bench_speed.py (19 classes, trained-like batch
  norm statistics, which exaggerate rounding), on one 512 x 512 input.

Printed per model and engine: argmax agreement with PyTorch fp32 over all pixels, max|diff|/max|ref|
of the fused logits, and the mIoU against the scenes' labels where they exist. Files go to
bench-out/precision/.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import street_scenes  # noqa: E402
from danet_reference import DANet, train_step  # noqa: E402
import bench_speed  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "bench-out", "precision")
DANET = os.path.join(ROOT, ".build", "release", "danet")
BUNDLED = os.path.join(ROOT, "Sources", "CDemoModel", "model", "default-street-danet.pth")
CACHE = os.environ.get("DANET_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "swift-danet")
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
SCENE = (256, 512)
HELD_OUT = range(10_000_000, 10_000_000 + 24)


def scenes(seeds, size=SCENE):
    images, labels = zip(*(street_scenes.scene(np.random.default_rng(s), *size) for s in seeds))
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    return (x - MEAN) / STD, torch.from_numpy(np.stack(labels)).long()


def train_full_width(steps, threads):
    """A full-width DANet-R50 trained from scratch on street scenes at 256 x 512, batch 2."""
    path = os.path.join(CACHE, f"street-r50-full-{steps}.pth")
    if os.path.exists(path):
        return path
    os.makedirs(CACHE, exist_ok=True)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = DANet(50, "resnet7", len(street_scenes.CLASSES), 64, (4, 8, 16), True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=steps, pct_start=0.1)
    start = time.time()
    model.train()
    for step in range(steps):
        x, y = scenes(range(step * 2, step * 2 + 2))
        loss = train_step(model, optimizer, schedule, x, y)
        if step % 25 == 0 or step == steps - 1:
            print(f"train step {step}/{steps} loss {loss.item():.3f} ({time.time() - start:.0f} s)", flush=True)
    minutes = (time.time() - start) / 60
    temporary = path + ".partial"
    torch.save({"state_dict": model.state_dict(), "classes": street_scenes.CLASSES, "palette": street_scenes.PALETTE,
                "train_steps": steps, "train_minutes": minutes}, temporary)
    os.replace(temporary, path)
    print(f"trained {steps} steps in {minutes:.1f} min: {path}", flush=True)
    return path


def torch_logits(model, x, autocast=False):
    outputs = []
    with torch.no_grad():
        for i in range(x.shape[0]):
            if autocast:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    outputs.append(model(x[i:i + 1])[0].float())
            else:
                outputs.append(model(x[i:i + 1])[0])
    return torch.cat(outputs).numpy()


def danet_logits(weights, x, precision, threads, tag):
    from safetensors.numpy import load_file
    from safetensors.torch import save_file

    input_path = os.path.join(OUT, f"{tag}-input.safetensors")
    output_path = os.path.join(OUT, f"{tag}-danet-{precision}.safetensors")
    if not os.path.exists(input_path):
        save_file({"input": x.contiguous()}, input_path)
    run = subprocess.run([DANET, "infer", "--weights", weights, "--input", input_path, "--output", output_path,
                          "--heads", "fused", "--precision", precision, "--threads", str(threads)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"danet infer failed: {run.stderr.strip()}")
    note = run.stderr.strip().splitlines()
    return load_file(output_path)["logits"], note[-1] if note else ""


def openvino_logits(onnx, x, threads):
    import openvino as ov

    compiled = ov.Core().compile_model(onnx, "CPU", {"INFERENCE_NUM_THREADS": threads})
    hint = compiled.get_property("INFERENCE_PRECISION_HINT")
    precision = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
    request = compiled.create_infer_request()
    outputs = [np.asarray(request.infer({0: x[i:i + 1].numpy()})[0]).copy() for i in range(x.shape[0])]
    return np.concatenate(outputs), precision


def miou(prediction, labels, classes):
    confusion = np.bincount(labels.reshape(-1).astype(np.int64) * classes + prediction.reshape(-1),
                            minlength=classes * classes).reshape(classes, classes)
    union = confusion.sum(0) + confusion.sum(1) - np.diag(confusion)
    present = union > 0
    return float((np.diag(confusion)[present] / union[present]).mean())


def compare(name, reference, engines, labels, classes):
    """One table block: each engine's argmax agreement with PyTorch fp32, max|diff|/max|ref|, mIoU."""
    ref_argmax = reference.argmax(1)
    scale = float(np.abs(reference).max())
    rows = []
    ref_miou = miou(ref_argmax, labels.numpy(), classes) if labels is not None else None
    rows.append({"model": name, "engine": "PyTorch fp32", "agreement": 100.0, "relative": 0.0, "miou": ref_miou})
    for engine, logits in engines:
        rows.append({"model": name, "engine": engine,
                     "agreement": 100.0 * float((logits.argmax(1) == ref_argmax).mean()),
                     "relative": float(np.abs(logits - reference).max()) / scale,
                     "miou": miou(logits.argmax(1), labels.numpy(), classes) if labels is not None else None})
    for row in rows:
        m = f"{100 * row['miou']:.2f}" if row["miou"] is not None else "-"
        print(f"| {row['model']} | {row['engine']} | {row['agreement']:.3f}% | {row['relative']:.2e} | {m} |", flush=True)
    return rows


def run_model(name, model, weights, x, labels, classes, threads, tag, onnx=None):
    model.eval()
    reference = torch_logits(model, x)
    engines = [("PyTorch bf16 autocast", torch_logits(model, x, autocast=True))]
    notes = []
    for precision in ("f32", "bf16"):
        logits, note = danet_logits(weights, x, precision, threads, tag)
        engines.append((f"danet {precision}", logits))
        if note:
            notes.append(note)
    height, width = x.shape[2], x.shape[3]
    onnx = onnx or bench_speed.export_fused_onnx(model, os.path.join(OUT, f"{tag}-{height}x{width}.onnx"), height, width)
    logits, precision = openvino_logits(onnx, x, threads)
    engines.append((f"OpenVINO default ({precision})", logits))
    for note in notes:
        print(f"note: {note}")
    return compare(name, reference, engines, labels, classes)


def street_model(path, width):
    checkpoint = torch.load(path, weights_only=True)
    model = DANet(50, "resnet7", len(street_scenes.CLASSES), width, (4, 8, 16), True)
    model.load_state_dict(checkpoint["state_dict"])
    return model, checkpoint


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-only", action="store_true")
    parser.add_argument("--skip-random", action="store_true", help="leave out the random-weight R50 and R101")
    parser.add_argument("--only", choices=["bundled", "trained", "random"], help="one kind of weights")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(args.threads)
    trained = train_full_width(args.train_steps, args.threads) if args.only in (None, "trained") else None
    if args.train_only:
        return
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), "?")
    print(f"CPU: {model_name}, {os.cpu_count()} CPUs; torch {torch.__version__}; {args.threads} threads", flush=True)
    x, labels = scenes(HELD_OUT)
    print(f"\n| weights | engine | argmax agreement with PyTorch fp32 | max|diff|/max|ref| | mIoU % |")
    print("|---|---|---:|---:|---:|", flush=True)
    rows = []
    if args.only in (None, "bundled"):
        model, _ = street_model(BUNDLED, 8)
        rows += run_model(f"bundled street (width 8), {len(HELD_OUT)} held-out scenes {SCENE[0]}x{SCENE[1]}",
                          model, BUNDLED, x, labels, len(street_scenes.CLASSES), args.threads, "bundled")
    if trained:
        model, checkpoint = street_model(trained, 64)
        name = (f"full-width R50 trained {checkpoint['train_steps']} steps ({checkpoint['train_minutes']:.0f} min), "
                f"{len(HELD_OUT)} held-out scenes")
        rows += run_model(name, model, trained, x, labels, len(street_scenes.CLASSES), args.threads, "trained")
    if not args.skip_random and args.only in (None, "random"):
        for depth in (50, 101):
            model, weights, input_path, onnx = bench_speed.prepare(depth, 512, 512)
            from safetensors.torch import load_file

            rows += run_model(f"random-weight R{depth}, 512x512", model, weights, load_file(input_path)["input"], None, 19,
                              args.threads, f"random-r{depth}", onnx)
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
