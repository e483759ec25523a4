#!/usr/bin/env python3
"""`danet serve` under load: throughput at saturation against workers / forward time, and the time a
request spends outside the model, for the bundled model and a full-size R50 at 512 x 512.

    swift build -c release --product danet
    apt-get install wrk; python3 -m venv .venv-serve; .venv-serve/bin/pip install -r tools/serving/requirements.txt
    .venv-serve/bin/python tools/bench_serve.py [--r50 FILE.pth] [--seconds 20]

For each model and each split of this machine's CPUs (1 worker x all threads, then one worker per
CPU x 1 thread): the forward time alone is the median `model` time the server reports
(`Server-Timing`) over sequential requests, one at a time, of a binary FP32 [1,3,512,512] tensor;
saturation is wrk (Debian) with workers + queue connections for --seconds, so every request is
admitted; the expected rate is workers / forward time. The overhead is a sequential request's
latency, measured by the client, minus its `model` time: for the same tensor, and for a 512 x 512
PNG through /v1/segment (decode, queue, pipeline bookkeeping, PNG encode, HTTP). Loopback only.
The R50 is --r50 (default: the trained one tools/precision_report.py caches), or random weights
made with torch when it is absent. Results go to bench-out/serve/.
"""
import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "serving"))
from serve_harness import Server, metric_sum  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "bench-out", "serve")


def model_ms(headers):
    found = re.search(r"model;dur=([\d.]+)", headers.get("server-timing", ""))
    return float(found.group(1)) if found else float("nan")


def sequential(server, path, body, headers, count):
    """Median (latency ms, model ms, overhead ms) over `count` requests one at a time."""
    latencies, models = [], []
    for _ in range(count):
        start = time.perf_counter()
        status, answer, _ = server.request("POST", path, body, headers)
        latencies.append((time.perf_counter() - start) * 1000)
        assert status == 200, status
        models.append(model_ms(answer))
    overheads = [a - b for a, b in zip(latencies, models)]
    return statistics.median(latencies), statistics.median(models), statistics.median(overheads)


def wrk(port, connections, seconds, body_path, header_length, out):
    script = os.path.join(out, "post.lua")
    with open(script, "w") as lua:
        lua.write('wrk.method = "POST"\n'
                  f'wrk.headers["Inference-Header-Content-Length"] = "{header_length}"\n'
                  'wrk.headers["Content-Type"] = "application/octet-stream"\n'
                  f'local f = io.open("{body_path}", "rb")\nwrk.body = f:read("*all")\nf:close()\n')
    run = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script,
                          f"http://127.0.0.1:{port}/v2/models/m/infer"], capture_output=True, text=True, check=True)
    text = run.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    refused = int(re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text).group(1)) if "Non-2xx" in text else 0
    p50 = re.search(r"50%\s+([\d.]+\w+)", text).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", text).group(1)
    return rate, refused, p50, p99, text


def r50_weights(path):
    if os.path.exists(path):
        return path
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from danet_reference import DANet, randomize
    model = DANet(depth=50, classes=6)
    randomize(model, seed=0)
    made = os.path.join(OUT, "r50-random.pth")
    torch.save(model.state_dict(), made)
    return made


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--danet", default=os.path.join(ROOT, ".build/release/danet"))
    parser.add_argument("--r50", default=os.path.expanduser("~/.cache/swift-danet/street-r50-full-200.pth"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--queue", type=int, default=2)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    cpus = len(os.sched_getaffinity(0))
    x = np.random.RandomState(0).randn(1, 3, 512, 512).astype(np.float32)
    header = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": list(x.shape),
                                     "parameters": {"binary_data_size": x.nbytes}}],
                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    body = header + x.tobytes()
    body_path = os.path.join(OUT, "infer-512.bin")
    with open(body_path, "wb") as file:
        file.write(body)
    tensor_headers = {"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"}
    photo = Image.open(os.path.join(ROOT, "Fixtures/demo/street.png")).convert("RGB").resize((512, 512))
    png_path = os.path.join(OUT, "street-512.png")
    photo.save(png_path)
    png = open(png_path, "rb").read()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.processor())
    print(f"# danet serve, {cpu}, {cpus} CPUs, {platform.machine()}; wrk {args.seconds} s per case, queue {args.queue}", flush=True)
    models = [("bundled street (width 8)", os.path.join(ROOT, "Sources/CDemoModel/model/default-street-danet.pth")),
              ("R50 full width", r50_weights(args.r50))]
    rows = []
    for label, weights in models:
        for workers, threads in [(1, cpus), (cpus, 1)]:
            with Server(args.danet, "--model", f"m={weights}", "--dataset", "street", "--workers", str(workers),
                        "--threads", str(threads), "--queue", str(args.queue)) as server:
                for _ in range(3):
                    server.request("POST", "/v2/models/m/infer", body, tensor_headers)
                latency, forward, overhead = sequential(server, "/v2/models/m/infer", body, tensor_headers, 15)
                png_latency, png_model, png_overhead = sequential(server, "/v1/segment?model=m&output=labels", png, {}, 15)
                before = server.metrics()
                rate, refused, p50, p99, text = wrk(server.port, workers + args.queue, args.seconds, body_path, len(header), OUT)
                after = server.metrics()
                rss = server.rss_kb() // 1024
            # The model's own time while saturated, from the server's histogram: what the workers
            # could do at best with the cores they share with each other, the server and wrk.
            delta = {k: metric_sum(after, f"danet_inference_duration_seconds_{k}") - metric_sum(before, f"danet_inference_duration_seconds_{k}")
                     for k in ("sum", "count")}
            loaded = 1000 * delta["sum"] / max(1, delta["count"])
            expected = workers / (forward / 1000)
            row = (f"| {label} | {workers} x {threads} | {forward:.1f} | {loaded:.1f} | {rate:.2f} | {expected:.2f} | {rate / expected:.2f} | "
                   f"{p50} / {p99} | {refused} | {overhead:.2f} | {png_overhead:.2f} | {rss} |")
            rows.append(row)
            print(row, flush=True)
    table = ["| model | workers x threads | forward alone, ms | forward saturated, ms | saturated req/s | workers / forward alone | ratio "
             "| latency p50 / p99 (saturated) | non-200 | overhead, tensor, ms | overhead, 512x512 PNG, ms | RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"] + rows
    with open(os.path.join(OUT, "serve.md"), "w") as file:
        file.write("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
