#!/usr/bin/env python3
"""Speed and memory: PyTorch, ONNX Runtime and `danet infer` on the same DANet, weights and input,
in one run.

    swift build -c release && .venv/bin/pip install onnxruntime onnx
    .venv/bin/python tools/bench_speed.py [--threads 1,2] [--repeats 3] [--skip-frame]

Cases: R50 and R101 (official layout, 19 classes, random weights) at 512 x 512 with 1 and 2
threads; R101 on a whole 1024 x 2048 frame (2 threads); peak RSS of R101 against image size; the
checkpoint load time. Each engine runs in its own process: times are medians of the forward pass
after one warm-up (danet's is the time `danet infer` reports for the forward pass, per run of the
process), peak RSS is the whole process's (GNU time). FLOPs are counted by PyTorch's
FlopCounterMode. The sgemm rate is measured on 4096^3 with the same thread count, for danet's own
GEMM (AVX-512 where the CPU has it) and for the system OpenBLAS; "% of sgemm" is against the faster
of the two. Files go to bench-out/speed/.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from danet_reference import DANet, randomize  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "bench-out", "speed")
DANET = os.path.join(ROOT, ".build", "release", "danet")
BENCH = os.path.join(ROOT, ".build", "release", "danet-bench")

TORCH_RUN = """
import sys, time, json, statistics, torch
sys.path.insert(0, {tools!r})
from danet_reference import DANet
from safetensors.torch import load_file
torch.set_num_threads({threads})
start = time.perf_counter()
model = DANet({depth}, "resnet7", 19, 64, (4, 8, 16), True).eval()
model.load_state_dict(torch.load({weights!r}, weights_only=True)["state_dict"])
load = time.perf_counter() - start
x = load_file({input!r})["input"]
times = []
with torch.no_grad():
    for _ in range({repeats} + 1):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
print(json.dumps({{"forward": statistics.median(times[1:]), "load": load}}))
"""

ORT_RUN = """
import json, time, statistics, numpy as np, onnxruntime as ort
from safetensors.numpy import load_file
options = ort.SessionOptions()
options.intra_op_num_threads = {threads}
options.inter_op_num_threads = 1
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
start = time.perf_counter()
session = ort.InferenceSession({onnx!r}, options, providers=["CPUExecutionProvider"])
load = time.perf_counter() - start
x = load_file({input!r})["input"]
times = []
for _ in range({repeats} + 1):
    start = time.perf_counter()
    session.run(None, {{"input": x}})
    times.append(time.perf_counter() - start)
print(json.dumps({{"forward": statistics.median(times[1:]), "load": load}}))
"""


def measured(command):
    """(stdout, peak RSS in MB) of a command, or (None, None) with the reason printed if it fails."""
    with tempfile.NamedTemporaryFile("r") as report:
        result = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M"] + command, capture_output=True, text=True)
        lines = report.read().strip().splitlines()
    if result.returncode != 0:
        print(f"  ({os.path.basename(command[0])} failed: {(result.stderr or lines[-1] if lines else '').strip()[-200:]})")
        return None, None
    return result.stdout, int(lines[-1]) / 1024


def torch_run(depth, weights, input_path, threads, repeats):
    code = TORCH_RUN.format(tools=os.path.dirname(os.path.abspath(__file__)), threads=threads, depth=depth,
                            weights=weights, input=input_path, repeats=repeats)
    out, rss = measured([sys.executable, "-c", code])
    return (json.loads(out.strip().splitlines()[-1]), rss) if out else (None, rss)


def ort_run(onnx, input_path, threads, repeats):
    code = ORT_RUN.format(threads=threads, onnx=onnx, input=input_path, repeats=repeats)
    out, rss = measured([sys.executable, "-c", code])
    return (json.loads(out.strip().splitlines()[-1]), rss) if out else (None, rss)


def danet_run(weights, input_path, threads, repeats):
    forwards, loads, peaks = [], [], []
    for _ in range(repeats):
        out, rss = measured([DANET, "infer", "--weights", weights, "--input", input_path, "--output",
                             os.path.join(OUT, "danet-out.safetensors"), "--threads", str(threads)])
        if out is None:
            return None, None
        forward, load = re.search(r"in ([0-9.]+) s on .* loaded in ([0-9.]+) s", out).groups()
        forwards.append(float(forward))
        loads.append(float(load))
        peaks.append(rss)
    return {"forward": statistics.median(forwards), "load": statistics.median(loads)}, max(peaks)


def prepare(depth, height, width):
    """Weights, input and ONNX export for one model and size, cached in bench-out/speed."""
    os.makedirs(OUT, exist_ok=True)
    weights = os.path.join(OUT, f"r{depth}.pth")
    model = DANet(depth, "resnet7", 19, 64, (4, 8, 16), True)
    if not os.path.exists(weights):
        randomize(model, seed=depth)
        torch.save({"state_dict": model.state_dict()}, weights)
    model.load_state_dict(torch.load(weights, weights_only=True)["state_dict"])
    model.eval()
    input_path = os.path.join(OUT, f"input-{height}x{width}.safetensors")
    if not os.path.exists(input_path):
        save_file({"input": torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0))}, input_path)
    onnx = os.path.join(OUT, f"r{depth}-{height}x{width}.onnx")
    if not os.path.exists(onnx):
        class Fused(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, x):
                return self.inner(x)[0]

        with torch.no_grad():
            torch.onnx.export(Fused(model), torch.zeros(1, 3, height, width), onnx, input_names=["input"],
                              output_names=["logits"], opset_version=17, dynamo=False)
    return model, weights, input_path, onnx


def flops(model, height, width):
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, height, width))
    return counter.get_total_flops()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-frame", action="store_true", help="skip the 1024 x 2048 frame and the size sweep")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    for binary in (DANET, BENCH):
        if not os.path.exists(binary):
            sys.exit(f"{binary} missing: run `swift build -c release` first")
    def sgemm_rate(threads, backend):
        env = dict(os.environ, DANET_GEMM=backend)
        result = subprocess.run([BENCH, "sgemm", "4096", str(threads)], capture_output=True, text=True, check=True, env=env)
        return json.loads(result.stdout)

    rates = {(t, b): sgemm_rate(t, b) for t in threads_list for b in ("default", "openblas")}
    sgemm = {t: max(rates[(t, b)]["gflops"] for b in ("default", "openblas")) for t in threads_list}
    print(f"machine: {os.cpu_count()} cores, torch {torch.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}")
    for t in threads_list:
        print(f"sgemm 4096^3, {t} thread{'s' if t > 1 else ''}: danet ({rates[(t, 'default')]['backend']}) "
              f"{rates[(t, 'default')]['gflops']:.0f} GFLOP/s, OpenBLAS {rates[(t, 'openblas')]['gflops']:.0f} GFLOP/s")
    print()
    print("| case | threads | GFLOP | PyTorch s | ONNX Runtime s | danet s | danet/ORT | danet/PyTorch | danet GFLOP/s (% of sgemm) "
          "| peak RSS MB: PyTorch / ORT / danet | load s: PyTorch / ORT / danet |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for depth in (50, 101):
        model, weights, input_path, onnx = prepare(depth, 512, 512)
        gflop = flops(model, 512, 512) / 1e9
        for threads in threads_list:
            (t, t_rss), (o, o_rss) = torch_run(depth, weights, input_path, threads, args.repeats), ort_run(onnx, input_path, threads, args.repeats)
            d, d_rss = danet_run(weights, input_path, threads, args.repeats)
            rate = gflop / d["forward"]
            print(f"| R{depth} 512x512 | {threads} | {gflop:.0f} | {t['forward']:.2f} | {o['forward']:.2f} | {d['forward']:.2f} | "
                  f"{d['forward'] / o['forward']:.2f} | {d['forward'] / t['forward']:.2f} | {rate:.0f} ({100 * rate / sgemm[threads]:.0f}%) | "
                  f"{t_rss:.0f} / {o_rss:.0f} / {d_rss:.0f} | {t['load']:.2f} / {o['load']:.2f} / {d['load']:.2f} |", flush=True)
    if args.skip_frame:
        return
    print()
    print("R101, 2 threads, by image size (peak RSS of the whole process; PyTorch holds the N x N attention matrix):")
    print()
    print("| input | pixels at stride 8 (N) | N x N matrix MB | PyTorch s | PyTorch peak RSS MB | danet s | danet peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for height, width in ((256, 256), (512, 512), (768, 768), (1024, 1024), (1024, 2048)):
        _, weights, input_path, _ = prepare(101, height, width) if (height, width) == (512, 512) else (None, os.path.join(OUT, "r101.pth"), None, None)
        if input_path is None:
            input_path = os.path.join(OUT, f"input-{height}x{width}.safetensors")
            if not os.path.exists(input_path):
                save_file({"input": torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0))}, input_path)
        n = ((height + 7) // 8) * ((width + 7) // 8)
        t, t_rss = torch_run(101, weights, input_path, 2, 1)
        d, d_rss = danet_run(weights, input_path, 2, 1)
        torch_time = f"{t['forward']:.2f}" if t else "failed"
        print(f"| {height}x{width} | {n} | {n * n * 4 / 1e6:.0f} | {torch_time} | {t_rss or 0:.0f} | {d['forward']:.2f} | {d_rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
