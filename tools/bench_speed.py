#!/usr/bin/env python3
"""Speed and memory: PyTorch, ONNX Runtime, OpenVINO and `danet infer` on the same DANet, weights and
input, in one run.

    swift build -c release
    .venv/bin/pip install -r tools/requirements.txt
    .venv/bin/python tools/bench_speed.py [--threads 1,2] [--repeats 5] [--isa avx2] [--skip-frame]

Cases: R50 and R101 (official layout, 19 classes, random weights) at 512 x 512 with 1 and 2
threads; R101 on a whole 1024 x 2048 frame (2 threads); peak RSS of R101 against image size. Every
engine computes what a prediction needs, the fused logits alone: the ONNX graph is exported with
that output only, ONNX Runtime and OpenVINO read it, PyTorch runs the same fused-only module, and
danet runs `--heads fused`. Every engine runs in its own process, and the engines alternate: each
round runs each engine once, in the same order. A cell is the median over the rounds, with the
minimum beside it. A peer's time is its inference call after one warm-up call in the same process
(OpenVINO once in f32 with INFERENCE_PRECISION_HINT=f32, once with its default precision on this
CPU, which is bf16 where the CPU has AVX512_BF16 or AMX; both with INFERENCE_NUM_THREADS set).
danet's time is its whole process, `danet infer` from start to exit, loading the model and writing
the logits included, once from the .pth checkpoint, once from the .danet model file that
`danet convert` wrote, and once in bf16 from the bf16 model file (`danet convert --precision bf16`;
on a CPU without bf16 products it runs f32 and says so); its forward pass alone is shown beside it. Peak RSS is the whole process's
(GNU time). Each engine's argmax over the classes is compared with PyTorch's, pixel by pixel.

The machine is shared: the steal time (/proc/stat) during each case is printed with it.

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

import numpy as np  # noqa: E402

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
fused = lambda x: model(x)[0]
load = time.perf_counter() - start
x = load_file({input!r})["input"]
times = []
with torch.no_grad():
    for _ in range({calls}):
        start = time.perf_counter()
        y = fused(x)
        times.append(time.perf_counter() - start)
import numpy as np
np.save({result!r}, y.argmax(1).numpy().astype(np.uint8))
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
    y = session.run(None, {{"input": x}})[0]
    times.append(time.perf_counter() - start)
np.save({result!r}, y.argmax(1).astype(np.uint8))
print(json.dumps({{"forward": min(times[1:] or times), "load": load}}))
"""

OPENVINO_RUN = """
import json, time, numpy as np, openvino as ov
from safetensors.numpy import load_file
core = ov.Core()
start = time.perf_counter()
config = {{"INFERENCE_NUM_THREADS": {threads}}}
if {f32!r}:
    config["INFERENCE_PRECISION_HINT"] = "f32"
compiled = core.compile_model({onnx!r}, "CPU", config)
hint = compiled.get_property("INFERENCE_PRECISION_HINT")
precision = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint)
request = compiled.create_infer_request()
load = time.perf_counter() - start
x = load_file({input!r})["input"]
times = []
for _ in range({calls}):
    start = time.perf_counter()
    y = request.infer({{0: x}})[0]
    times.append(time.perf_counter() - start)
np.save({result!r}, np.asarray(y).argmax(1).astype(np.uint8))
print(json.dumps({{"forward": min(times[1:] or times), "load": load, "precision": precision}}))
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


def danet_run(weights, input_path, threads, env, result=None):
    output = os.path.join(OUT, "danet-out.safetensors")
    out, rss, wall = measured([DANET, "infer", "--weights", weights, "--input", input_path, "--output", output,
                               "--threads", str(threads), "--heads", "fused"], env=env)
    if out is None:
        return None, None
    forward, load = re.search(r"in ([0-9.]+) s on .* loaded in ([0-9.]+) s", out).groups()
    if result:
        from safetensors.numpy import load_file

        np.save(result, load_file(output)["logits"].argmax(1).astype(np.uint8))
    return {"process": wall, "forward": float(forward), "load": float(load)}, rss


def steal_fraction(before, after):
    """The share of CPU time stolen by the hypervisor between two readings of /proc/stat's cpu line."""
    deltas = [b - a for a, b in zip(before, after)]
    total = sum(deltas)
    return deltas[7] / total if total > 0 and len(deltas) > 7 else float("nan")


def cpu_times():
    with open("/proc/stat") as stat:
        return [int(v) for v in stat.readline().split()[1:]]


def agreement(result, reference):
    """Percentage of pixels whose argmax equals the reference's, or nan when either is missing."""
    if not (os.path.exists(result) and os.path.exists(reference)):
        return float("nan")
    a, b = np.load(result), np.load(reference)
    return 100.0 * float((a == b).mean()) if a.shape == b.shape else float("nan")


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
    onnx = export_fused_onnx(model, os.path.join(OUT, f"r{depth}-{height}x{width}.onnx"), height, width)
    return model, weights, input_path, onnx


def export_fused_onnx(model, path, height, width):
    """The model's fused logits alone as an ONNX graph for one input size, exported once."""
    if os.path.exists(path):
        return path

    class Fused(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)[0]

    with torch.no_grad():
        torch.onnx.export(Fused(model), torch.zeros(1, 3, height, width), path, input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False)
    return path


def flops(model, height, width):
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, height, width))
    return counter.get_total_flops()


def median_of(runs, key):
    values = [run[key] for run in runs if run]
    return statistics.median(values) if values else float("nan")


def min_of(runs, key):
    values = [run[key] for run in runs if run]
    return min(values) if values else float("nan")


def danet_model_file(weights, env, precision="f32"):
    """The .danet model file of a checkpoint, converted once (it holds no ISA-specific layout)."""
    model_file = weights.rsplit(".", 1)[0] + ("" if precision == "f32" else f"-{precision}") + ".danet"
    if not os.path.exists(model_file) or os.path.getmtime(model_file) < os.path.getmtime(DANET):
        subprocess.run([DANET, "convert", weights, model_file, "--precision", precision], check=True, env=env,
                       capture_output=True)
    return model_file


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of alternating runs per cell")
    parser.add_argument("--models", default="50,101")
    parser.add_argument("--isa", help="force danet's kernels (avx512bf16, avx512, avx2, neon, generic) and cap oneDNN to match")
    parser.add_argument("--skip-frame", action="store_true", help="skip the 1024 x 2048 frame and the size sweep")
    args = parser.parse_args()
    threads_list = [int(t) for t in args.threads.split(",")]
    for binary in (DANET, BENCH):
        if not os.path.exists(binary):
            sys.exit(f"{binary} missing: run `swift build -c release` first")

    danet_env, peer_env = dict(os.environ), dict(os.environ)
    if args.isa:
        danet_env["DANET_ISA"] = args.isa
        peer_env["ONEDNN_MAX_CPU_ISA"] = {"avx512bf16": "AVX512_CORE_BF16", "avx512": "AVX512_CORE",
                                          "avx2": "AVX2"}.get(args.isa, "SSE41")

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
        half = bench("bf16gemm", "4096", str(t))
        if half:
            print(f"A packed as weights, 4096^3, {t} thread{'s' if t > 1 else ''}: bf16 products "
                  f"{half['bf16_gflops']:.0f} GFLOP/s, f32 {half['f32_packed_gflops']:.0f} GFLOP/s")
    print()
    print("Times in seconds, median (min) over the rounds; danet: whole process, forward in brackets; "
          "ratios of medians; agreement: argmax equal to PyTorch's, % of pixels.")
    print()
    print("| case | threads | PyTorch | ORT | OpenVINO f32 | OpenVINO default | danet .pth | danet .danet | danet bf16 .danet "
          "| .danet/ORT | .danet/OV f32 | .pth/OV f32 | bf16/OV default | bf16 forward/OV default | steal |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    engines = ("torch", "ort", "ov", "ovdefault", "danet", "native", "bf16")
    speedups, extras = {}, []
    for depth in [int(d) for d in args.models.split(",")]:
        model, weights, input_path, onnx = prepare(depth, 512, 512)
        native = danet_model_file(weights, danet_env)
        native_bf16 = danet_model_file(weights, danet_env, "bf16")
        gflop = flops(model, 512, 512) / 1e9
        for threads in threads_list:
            runs = {key: [] for key in engines}
            peaks = {key: 0 for key in runs}
            result = {key: os.path.join(OUT, f"argmax-{key}.npy") for key in engines}
            for path in result.values():
                if os.path.exists(path):
                    os.remove(path)
            precision = "?"
            before = cpu_times()
            for _ in range(args.repeats):
                for key, run in (
                    ("torch", lambda: python_run(TORCH_RUN, peer_env, threads=threads, depth=depth, weights=weights,
                                                 input=input_path, calls=2, result=result["torch"])),
                    ("ort", lambda: python_run(ORT_RUN, peer_env, threads=threads, onnx=onnx, input=input_path, calls=2,
                                               result=result["ort"])),
                    ("ov", lambda: python_run(OPENVINO_RUN, peer_env, threads=threads, onnx=onnx, input=input_path, calls=2,
                                              f32=True, result=result["ov"])),
                    ("ovdefault", lambda: python_run(OPENVINO_RUN, peer_env, threads=threads, onnx=onnx, input=input_path,
                                                     calls=2, f32=False, result=result["ovdefault"])),
                    ("danet", lambda: danet_run(weights, input_path, threads, danet_env, result["danet"])),
                    ("native", lambda: danet_run(native, input_path, threads, danet_env, result["native"])),
                    ("bf16", lambda: danet_run(native_bf16, input_path, threads, danet_env, result["bf16"])),
                ):
                    outcome, rss = run()
                    runs[key].append(outcome)
                    peaks[key] = max(peaks[key], rss or 0)
                    if key == "ovdefault" and outcome:
                        precision = outcome.get("precision", "?")
            steal = steal_fraction(before, cpu_times())
            own = ("danet", "native", "bf16")
            med = {k: median_of(runs[k], "process" if k in own else "forward") for k in engines}
            low = {k: min_of(runs[k], "process" if k in own else "forward") for k in engines}
            fwd = {k: median_of(runs[k], "forward") for k in own}
            speedups[(depth, threads)] = med
            cell = {k: f"{med[k]:.2f} ({low[k]:.2f})" for k in engines}
            print(f"| R{depth} 512x512 | {threads} | {cell['torch']} | {cell['ort']} | {cell['ov']} | {cell['ovdefault']} | "
                  f"{cell['danet']} [{fwd['danet']:.2f}] | {cell['native']} [{fwd['native']:.2f}] | "
                  f"{cell['bf16']} [{fwd['bf16']:.2f}] | "
                  f"{med['native'] / med['ort']:.2f} | {med['native'] / med['ov']:.2f} | {med['danet'] / med['ov']:.2f} | "
                  f"{med['bf16'] / med['ovdefault']:.2f} | {fwd['bf16'] / med['ovdefault']:.2f} | {100 * steal:.1f}% |",
                  flush=True)
            extras.append((f"R{depth} {threads}T", gflop, precision, peaks,
                           {k: agreement(result[k], result["torch"]) for k in engines if k != "torch"}))
    print()
    print("| case | GFLOP | OpenVINO default precision | argmax agreement with PyTorch, %: ORT / OV f32 / OV default / danet .pth "
          "/ .danet / bf16 .danet | peak RSS MB: PyTorch / ORT / OV f32 / OV default / danet .pth / danet .danet / bf16 .danet |")
    print("|---|---:|---|---|---|")
    for label, gflop, precision, peaks, agree in extras:
        print(f"| {label} | {gflop:.0f} | {precision} | "
              + " / ".join(f"{agree[k]:.3f}" for k in ("ort", "ov", "ovdefault", "danet", "native", "bf16")) + " | "
              + " / ".join(f"{peaks[k]:.0f}" for k in engines) + " |")
    if 1 in threads_list and 2 in threads_list:
        print()
        print("1 -> 2 thread speed-up (time with 1 thread / time with 2):")
        print()
        print("| model | PyTorch | ONNX Runtime | OpenVINO f32 | OpenVINO default | danet .pth | danet .danet | danet bf16 |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for depth in [int(d) for d in args.models.split(",")]:
            one, two = speedups[(depth, 1)], speedups[(depth, 2)]
            print(f"| R{depth} | " + " | ".join(f"{one[k] / two[k]:.2f}" for k in engines) + " |")
    if args.skip_frame:
        return
    print()
    print("R101, 2 threads, by image size (peak RSS of the whole process; PyTorch holds the N x N attention matrix):")
    print()
    print("| input | pixels at stride 8 (N) | N x N matrix MB | PyTorch s | PyTorch peak RSS MB | danet .danet s (forward) | danet peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for height, width in ((256, 256), (512, 512), (768, 768), (1024, 1024), (1024, 2048)):
        _, weights, _, _ = prepare(101, 512, 512)
        input_path = os.path.join(OUT, f"input-{height}x{width}.safetensors")
        if not os.path.exists(input_path):
            save_file({"input": torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0))}, input_path)
        n = ((height + 7) // 8) * ((width + 7) // 8)
        t, t_rss = python_run(TORCH_RUN, peer_env, threads=2, depth=101, weights=weights, input=input_path, calls=1,
                              result=os.path.join(OUT, "argmax-frame.npy"))
        d, d_rss = danet_run(danet_model_file(weights, danet_env), input_path, 2, danet_env)
        torch_time = f"{t['forward']:.2f}" if t else "failed"
        print(f"| {height}x{width} | {n} | {n * n * 4 / 1e6:.0f} | {torch_time} | {t_rss or 0:.0f} | "
              f"{d['process']:.2f} ({d['forward']:.2f}) | {d_rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
