#!/usr/bin/env python3
"""Speed and memory: PyTorch, ONNX Runtime, OpenVINO and `danet infer` on the same DANet, weights and
input, in one run.

    swift build -c release
    .venv/bin/pip install -r tools/requirements.txt
    .venv/bin/python tools/bench_speed.py [--threads 1,2] [--repeats 3] [--isa avx2] [--skip-frame]

Cases: R50 and R101 (official layout, 19 classes, random weights) at 512 x 512 with 1 and 2
threads; R101 on a whole 1024 x 2048 frame (2 threads); peak RSS of R101 against image size. Every
engine runs in its own process, and the engines alternate: each round runs PyTorch, ONNX Runtime,
OpenVINO and danet once, and a cell is the median over the rounds. A peer's time is its inference
call after one warm-up call in the same process (ONNX Runtime and OpenVINO read the same ONNX export;
OpenVINO on its CPU device in f32 with INFERENCE_NUM_THREADS set; PyTorch's forward returns all
three heads, the ONNX export the fused one). danet's time is its whole process, `danet infer
--heads fused` from start to exit, loading the checkpoint and writing the fused logits included;
its forward pass alone is shown beside it. Peak RSS is the whole process's (GNU time).

`--isa avx2` (or generic) forces danet's kernels lower with DANET_ISA and caps oneDNN, which PyTorch
and OpenVINO use, with ONEDNN_MAX_CPU_ISA=AVX2; ONNX Runtime has no such switch and runs what the
CPU has. FLOPs are counted by PyTorch's FlopCounterMode. The sgemm rate is measured on 4096^3 with
the same thread count, for danet's own GEMM and for the system OpenBLAS. Files go to bench-out/speed/.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from danet_reference import DANet, randomize  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "bench-out", "speed")
DANET = os.path.join(ROOT, ".build", "release", "danet")
BENCH = os.path.join(ROOT, ".build", "release", "danet-bench")

TORCH_RUN = """
import sys, time, json, torch
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
    for _ in range({calls}):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
print(json.dumps({{"forward": min(times[1:] or times), "load": load}}))
"""

ORT_RUN = """
import json, time, numpy as np, onnxruntime as ort
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
for _ in range({calls}):
    start = time.perf_counter()
    session.run(None, {{"input": x}})
    times.append(time.perf_counter() - start)
print(json.dumps({{"forward": min(times[1:] or times), "load": load}}))
"""

OPENVINO_RUN = """
import json, time, numpy as np, openvino as ov
from safetensors.numpy import load_file
core = ov.Core()
start = time.perf_counter()
compiled = core.compile_model({onnx!r}, "CPU", {{"INFERENCE_NUM_THREADS": {threads}, "INFERENCE_PRECISION_HINT": "f32"}})
request = compiled.create_infer_request()
load = time.perf_counter() - start
x = load_file({input!r})["input"]
times = []
for _ in range({calls}):
    start = time.perf_counter()
    request.infer({{0: x}})
    times.append(time.perf_counter() - start)
print(json.dumps({{"forward": min(times[1:] or times), "load": load}}))
"""


def cpu_description():
    """The CPU's model name and the SIMD flags that decide which kernels run."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() in ("flags", "Features"):
                    flags = set(value.split())
    except OSError:
        pass
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx_vnni",
                        "amx_tile", "asimd", "sve") if f in flags]
    return model, simd


def measured(command, env=None):
    """(stdout, peak RSS in MB, wall seconds) of a command, or (None, None, None) with the reason printed."""
    with tempfile.NamedTemporaryFile("r") as report:
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M"] + command, capture_output=True,
                                text=True, env=env)
        wall = time.perf_counter() - start
        lines = report.read().strip().splitlines()
    if result.returncode != 0:
        print(f"  ({os.path.basename(command[0])} failed: {(result.stderr or (lines[-1] if lines else '')).strip()[-300:]})")
        return None, None, None
    return result.stdout, int(lines[-1]) / 1024, wall


def python_run(template, env, **fields):
    code = template.format(tools=os.path.dirname(os.path.abspath(__file__)), **fields)
    out, rss, _ = measured([sys.executable, "-c", code], env=env)
    return (json.loads(out.strip().splitlines()[-1]), rss) if out else (None, rss)


def danet_run(weights, input_path, threads, env):
    out, rss, wall = measured([DANET, "infer", "--weights", weights, "--input", input_path, "--output",
                               os.path.join(OUT, "danet-out.safetensors"), "--threads", str(threads), "--heads", "fused"],
                              env=env)
    if out is None:
        return None, None
    forward, load = re.search(r"in ([0-9.]+) s on .* loaded in ([0-9.]+) s", out).groups()
    return {"process": wall, "forward": float(forward), "load": float(load)}, rss


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


def median_of(runs, key):
    values = [run[key] for run in runs if run]
    return statistics.median(values) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of alternating runs per cell")
    parser.add_argument("--models", default="50,101")
    parser.add_argument("--isa", help="force danet's kernels (avx512, avx2, neon, generic) and cap oneDNN to match")
    parser.add_argument("--skip-frame", action="store_true", help="skip the 1024 x 2048 frame and the size sweep")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    for binary in (DANET, BENCH):
        if not os.path.exists(binary):
            sys.exit(f"{binary} missing: run `swift build -c release` first")

    danet_env, peer_env = dict(os.environ), dict(os.environ)
    if args.isa:
        danet_env["DANET_ISA"] = args.isa
        peer_env["ONEDNN_MAX_CPU_ISA"] = {"avx512": "AVX512_CORE", "avx2": "AVX2"}.get(args.isa, "SSE41")

    def bench(*arguments, backend=None):
        env = dict(danet_env, DANET_GEMM=backend) if backend else danet_env
        result = subprocess.run([BENCH, *arguments], capture_output=True, text=True, env=env)
        return json.loads(result.stdout) if result.returncode == 0 else {}

    model_name, simd = cpu_description()
    kernels = bench("kernels")
    import onnxruntime
    import openvino
    print(f"machine: {model_name}, {os.cpu_count()} CPUs, SIMD flags: {' '.join(simd)}")
    print(f"danet: {kernels.get('isa', '?')} kernels (DANET_ISA={danet_env.get('DANET_ISA', '-')}), GEMM "
          f"{kernels.get('gemm', '?')}, default threads {kernels.get('defaultThreads', '?')}")
    print(f"peers: torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, openvino {openvino.__version__}, "
          f"ONEDNN_MAX_CPU_ISA={peer_env.get('ONEDNN_MAX_CPU_ISA', '-')}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '-')}")
    for t in threads_list:
        own, blas = bench("sgemm", "4096", str(t)), bench("sgemm", "4096", str(t), backend="openblas")
        print(f"sgemm 4096^3, {t} thread{'s' if t > 1 else ''}: danet {own.get('gemm', '?')} "
              f"{own.get('gflops', float('nan')):.0f} GFLOP/s, OpenBLAS {blas.get('gflops', float('nan')):.0f} GFLOP/s")
    print()
    print("| case | threads | GFLOP | PyTorch s | ONNX Runtime s | OpenVINO s | danet s (forward) | danet/PyTorch "
          "| danet/ORT | danet/OpenVINO | peak RSS MB: PyTorch / ORT / OpenVINO / danet |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    speedups = {}
    for depth in [int(d) for d in args.models.split(",")]:
        model, weights, input_path, onnx = prepare(depth, 512, 512)
        gflop = flops(model, 512, 512) / 1e9
        for threads in threads_list:
            runs = {"torch": [], "ort": [], "ov": [], "danet": []}
            peaks = {key: 0 for key in runs}
            for _ in range(args.repeats):
                for key, run in (
                    ("torch", lambda: python_run(TORCH_RUN, peer_env, threads=threads, depth=depth, weights=weights,
                                                 input=input_path, calls=2)),
                    ("ort", lambda: python_run(ORT_RUN, peer_env, threads=threads, onnx=onnx, input=input_path, calls=2)),
                    ("ov", lambda: python_run(OPENVINO_RUN, peer_env, threads=threads, onnx=onnx, input=input_path, calls=2)),
                    ("danet", lambda: danet_run(weights, input_path, threads, danet_env)),
                ):
                    result, rss = run()
                    runs[key].append(result)
                    peaks[key] = max(peaks[key], rss or 0)
            t, o, v = (median_of(runs[k], "forward") for k in ("torch", "ort", "ov"))
            d, d_forward = median_of(runs["danet"], "process"), median_of(runs["danet"], "forward")
            speedups[(depth, threads)] = {"torch": t, "ort": o, "ov": v, "danet": d}
            print(f"| R{depth} 512x512 | {threads} | {gflop:.0f} | {t:.2f} | {o:.2f} | {v:.2f} | {d:.2f} ({d_forward:.2f}) | "
                  f"{d / t:.2f} | {d / o:.2f} | {d / v:.2f} | "
                  f"{peaks['torch']:.0f} / {peaks['ort']:.0f} / {peaks['ov']:.0f} / {peaks['danet']:.0f} |", flush=True)
    if 1 in threads_list and 2 in threads_list:
        print()
        print("1 -> 2 thread speed-up (time with 1 thread / time with 2):")
        print()
        print("| model | PyTorch | ONNX Runtime | OpenVINO | danet (whole process) |")
        print("|---|---:|---:|---:|---:|")
        for depth in [int(d) for d in args.models.split(",")]:
            one, two = speedups[(depth, 1)], speedups[(depth, 2)]
            print(f"| R{depth} | " + " | ".join(f"{one[k] / two[k]:.2f}" for k in ("torch", "ort", "ov", "danet")) + " |")
    if args.skip_frame:
        return
    print()
    print("R101, 2 threads, by image size (peak RSS of the whole process; PyTorch holds the N x N attention matrix):")
    print()
    print("| input | pixels at stride 8 (N) | N x N matrix MB | PyTorch s | PyTorch peak RSS MB | danet s (forward) | danet peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for height, width in ((256, 256), (512, 512), (768, 768), (1024, 1024), (1024, 2048)):
        _, weights, _, _ = prepare(101, 512, 512)
        input_path = os.path.join(OUT, f"input-{height}x{width}.safetensors")
        if not os.path.exists(input_path):
            save_file({"input": torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0))}, input_path)
        n = ((height + 7) // 8) * ((width + 7) // 8)
        t, t_rss = python_run(TORCH_RUN, peer_env, threads=2, depth=101, weights=weights, input=input_path, calls=1)
        d, d_rss = danet_run(weights, input_path, 2, danet_env)
        torch_time = f"{t['forward']:.2f}" if t else "failed"
        print(f"| {height}x{width} | {n} | {n * n * 4 / 1e6:.0f} | {torch_time} | {t_rss or 0:.0f} | "
              f"{d['process']:.2f} ({d['forward']:.2f}) | {d_rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
