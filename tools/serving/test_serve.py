#!/usr/bin/env python3
"""`danet serve` from the outside: the Open Inference Protocol through tritonclient (JSON and binary),
logits and labels equal to `danet infer` and `danet segment`, every fault the server must survive, a
bounded load test with the metrics' counts and RSS, SIGTERM with requests in flight, and the page in
headless Chromium. Loopback only.

usage: test_serve.py DANET [--out DIR] [--skip-browser]
"""
import argparse
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import tritonclient.http as triton
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from serve_harness import Server, metric_sum, png_claiming, raw_exchange, read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WEIGHTS = os.path.join(ROOT, "Sources/CDemoModel/model/default-street-danet.pth")
PHOTO = os.path.join(ROOT, "Fixtures/demo/street.png")
MODEL = ["--model", f"street={WEIGHTS}", "--dataset", "street"]
failures = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if detail else ""), flush=True)
    if not ok:
        failures.append(what)


def protocol(danet, out):
    """tritonclient against the server; logits against `danet infer`, labels against `danet segment`."""
    x = np.random.RandomState(7).randn(2, 3, 72, 104).astype(np.float32)
    inputs = os.path.join(out, "input.safetensors")
    write_safetensors(inputs, {"input": x})
    subprocess.run([danet, "infer", "--weights", WEIGHTS, "--input", inputs, "--output", os.path.join(out, "infer.safetensors"),
                    "--heads", "fused"], check=True, capture_output=True)
    expected = read_safetensors(os.path.join(out, "infer.safetensors"))["logits"]
    subprocess.run([danet, "segment", "--weights", WEIGHTS, "--dataset", "street", "--json", PHOTO, "-o", out], check=True,
                   capture_output=True)
    with Server(danet, *MODEL) as server:
        client = triton.InferenceServerClient(f"127.0.0.1:{server.port}")
        check(client.is_server_live() and client.is_server_ready(), "tritonclient: server live and ready")
        meta = client.get_server_metadata()
        check(meta["name"] == "danet" and "binary_tensor_data" in meta["extensions"], "tritonclient: server metadata", json.dumps(meta))
        model = client.get_model_metadata("street")
        shapes = {t["name"]: (t["datatype"], t["shape"]) for t in model["inputs"] + model["outputs"]}
        check(shapes == {"input": ("FP32", [-1, 3, -1, -1]), "image": ("BYTES", [-1]), "logits": ("FP32", [-1, 6, -1, -1]),
                         "labels": ("UINT8", [-1, -1, -1])}, "tritonclient: model metadata", json.dumps(shapes))
        check(client.is_model_ready("street"), "tritonclient: model ready")
        for binary in (True, False):
            tensor = triton.InferInput("input", list(x.shape), "FP32")
            tensor.set_data_from_numpy(x, binary_data=binary)
            result = client.infer("street", [tensor], outputs=[triton.InferRequestedOutput("logits", binary_data=binary)])
            logits = result.as_numpy("logits")
            diff = float(np.abs(logits - expected).max()) if logits.shape == expected.shape else float("inf")
            # Exact: the same kernels on the same thread count; JSON prints floats in their shortest exact form.
            check(diff == 0.0, f"logits ({'binary' if binary else 'JSON'}) equal danet infer's, tolerance 0",
                  f"shape {logits.shape}, max|diff| {diff}")
        one = triton.InferInput("input", [1] + list(x.shape[1:]), "FP32")
        one.set_data_from_numpy(x[1:2], binary_data=True)
        logits = client.infer("street", [one]).as_numpy("logits")
        check(logits.shape == (1,) + expected.shape[1:] and float(np.abs(logits[0] - expected[1]).max()) == 0.0,
              "logits of a batch of one equal danet infer's, tolerance 0", f"shape {logits.shape}")
        segment_labels = np.array(Image.open(os.path.join(out, "street_labels.png")))
        png = open(PHOTO, "rb").read()
        for binary in (True, False):
            if binary:
                tensor = triton.InferInput("image", [2], "BYTES")
                tensor.set_data_from_numpy(np.array([png, png], dtype=np.object_), binary_data=True)
                labels = client.infer("street", [tensor]).as_numpy("labels")
            else:
                body = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], "data": [base64.b64encode(png).decode()] * 2}]}
                status, answer = server.json("POST", "/v2/models/street/infer", json.dumps(body))
                output = answer["outputs"][0]
                labels = np.array(output["data"], dtype=np.uint8).reshape(output["shape"])
            same = labels.shape == (2,) + segment_labels.shape and all((labels[i] == segment_labels).all() for i in range(2))
            check(same, f"labels ({'binary' if binary else 'JSON, base64 images'}) equal danet segment's", f"shape {labels.shape}")
        for output in ("labels", "color", "overlay"):
            status, headers, body = server.request("POST", f"/v1/segment?model=street&output={output}", png)
            written = open(os.path.join(out, f"street_{output}.png"), "rb").read()
            check(status == 200 and body == written, f"/v1/segment output={output}: the bytes danet segment writes", f"{len(body)} bytes")
        status, answer = server.json("POST", "/v1/segment?output=json", png)
        check(status == 200 and [c["name"] for c in answer["classes"]] == segment_classes(out),
              "/v1/segment output=json: the classes danet segment reports")


def segment_classes(out):
    return [c["name"] for c in json.loads(open(os.path.join(out, "segment.json")).read().splitlines()[-1])["classes"]]


def faults(danet, out):
    """Every refusal: one line, a 4xx (or 503), and the server still answers afterwards."""
    png = open(PHOTO, "rb").read()
    large = os.path.join(out, "large.png")
    Image.new("RGB", (300, 200), (90, 120, 60)).save(large)
    large = open(large, "rb").read()
    with Server(danet, *MODEL, "--max-body", "1", "--max-pixels", "40000", "--read-timeout", "2", "--queue", "1") as server:
        infer = "/v2/models/street/infer"
        cases = [
            ("unknown model", "POST", "/v2/models/nope/infer", b"{}", 404, "found 'nope'"),
            ("unknown model, /v1", "POST", "/v1/segment?model=nope", png, 404, "found 'nope'"),
            ("a path that reaches for a file", "GET", "/v2/models/..%2F..%2Fetc%2Fpasswd", None, 404, "expected a model named"),
            ("unknown path", "GET", "/etc/passwd", None, 404, "found GET /etc/passwd"),
            ("not JSON", "POST", infer, b"{not json", 400, "not JSON"),
            ("JSON nested 200,000 deep", "POST", infer, b"[" * 200000 + b"]" * 200000, 400, "not JSON"),
            ("wrong datatype", "POST", infer, json.dumps({"inputs": [{"name": "input", "datatype": "INT64", "shape": [1], "data": [1]}]}), 400, "found INT64"),
            ("a tensor's name with an image's datatype", "POST", infer, json.dumps({"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(png).decode()]}]}), 400, "expected datatype FP32, found BYTES"),
            ("wrong shape", "POST", infer, json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 4, 2, 2], "data": [0] * 16}]}), 400, "[1, 4, 2, 2]"),
            ("data count off", "POST", infer, json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 2, 2], "data": [0] * 5}]}), 400, "found 5"),
            ("unknown input", "POST", infer, json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [0]}]}), 400, "found 'x'"),
            ("unknown output", "POST", infer, json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 2, 2], "data": [0] * 12}], "outputs": [{"name": "labels"}]}), 400, "gives 'logits' only"),
            ("broken image", "POST", "/v1/segment", png[:200], 400, "request body"),
            ("not an image", "POST", "/v1/segment", b"hello", 400, "expected a PNG or JPEG"),
            ("image over the pixel limit", "POST", "/v1/segment", png_claiming(30000, 20000), 400, "at most 40000 pixels"),
            ("image over the pixel limit, protocol", "POST", infer, json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(large).decode()]}]}), 400, "at most 40000 pixels"),
            ("binary size beyond the body", "POST", infer, json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 3, 2, 2], "parameters": {"binary_data_size": 48}}]}), 400, "binary_data_size"),
            ("bad output kind", "POST", "/v1/segment?output=gif", png, 400, "output=labels|color|overlay|json"),
        ]
        for name, method, path, body, status, phrase in cases:
            got, headers, data = server.request(method, path, body)
            try:
                line = json.loads(data)["error"]
            except (ValueError, KeyError, TypeError):
                line = None
            check(got == status and line is not None and phrase in line and "\n" not in line, f"fault: {name} -> {status}", f"{got} {line}")
        # A body over --max-body, declared: 413 at once, without the server reading it.
        start = time.monotonic()
        answer = raw_exchange(server.port, b"POST /v1/segment HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n" + b"x" * 1000)
        check(answer.startswith(b"HTTP/1.1 413"), "fault: declared body over --max-body -> 413 unread",
              f"{answer[:40]!r} in {time.monotonic() - start:.2f} s")
        # Undeclared (chunked) and over the limit: 413 once the limit is passed.
        chunk = b"x" * 600000
        data = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
        answer = raw_exchange(server.port, b"POST /v1/segment HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + data)
        check(answer.startswith(b"HTTP/1.1 413"), "fault: chunked body over --max-body -> 413", repr(answer[:40]))
        # A client that sends slowly: 408 after --read-timeout, and meanwhile the worker serves others.
        slow = {}
        thread = threading.Thread(target=lambda: slow.setdefault("answer", raw_exchange(
            server.port, b"POST /v1/segment HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + png[:10], hold=0.1)))
        start = time.monotonic()
        thread.start()
        time.sleep(0.3)
        status, _, _ = server.request("POST", "/v1/segment?output=labels", png)
        served = time.monotonic() - start
        thread.join(30)
        elapsed = time.monotonic() - start
        check(slow.get("answer", b"").startswith(b"HTTP/1.1 408") and status == 200 and served < elapsed,
              "fault: slow client -> 408 after --read-timeout, others served meanwhile",
              f"{slow.get('answer', b'')[:40]!r} after {elapsed:.1f} s; another request answered {status} at {served:.1f} s")
        # A client that vanishes mid-body: nothing held afterwards.
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", server.port)) as s:
                s.sendall(b"POST /v1/segment HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + png[:500])
        time.sleep(0.5)
        status, _, _ = server.request("POST", "/v1/segment?output=labels", png)
        values = server.metrics()
        check(status == 200 and metric_sum(values, "danet_workers_busy") == 0 and metric_sum(values, "danet_queue_depth") == 0,
              "fault: vanished clients hold no worker", f"then {status}; busy {metric_sum(values, 'danet_workers_busy')}")
        check(server.process.poll() is None, "fault: the server is still running after every fault")


def token(danet, out):
    path = os.path.join(out, "token")
    with open(path, "w") as file:
        file.write("s3cret-token-for-tests\n")
    with Server(danet, *MODEL, "--token-file", path) as server:
        for p in ("/v2/health/live", "/v2/health/ready"):
            check(server.request("GET", p)[0] == 200, f"token: {p} open without a token")
        for p in ("/v2", "/v2/models/street", "/metrics", "/v1/models"):
            status, headers, body = server.request("GET", p)
            check(status == 401 and headers.get("www-authenticate") == "Bearer" and b"Bearer" in body, f"token: {p} without -> 401")
            check(server.request("GET", p, headers={"Authorization": "Bearer wrong"})[0] == 401, f"token: {p} with a wrong token -> 401")
            check(server.request("GET", p, headers={"Authorization": "Bearer s3cret-token-for-tests"})[0] == 200, f"token: {p} with the token -> 200")
        client = triton.InferenceServerClient(f"127.0.0.1:{server.port}")
        meta = client.get_model_metadata("street", headers={"Authorization": "Bearer s3cret-token-for-tests"})
        check(meta["name"] == "street", "token: tritonclient with the header")


def load(danet):
    """Overfill for a fixed time: only 200 and 503 (with Retry-After), counts that add up, RSS flat."""
    x = np.random.RandomState(1).randn(1, 3, 64, 64).astype(np.float32)
    body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": list(x.shape), "parameters": {"binary_data_size": x.nbytes}}],
                       "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    headers = {"Inference-Header-Content-Length": str(len(body)), "Content-Type": "application/octet-stream"}
    payload = body + x.tobytes()
    with Server(danet, *MODEL, "--workers", "1", "--queue", "2", "--threads", "1") as server:
        sent = 0
        rss = {}
        for i in range(1, 1001):
            status, _, _ = server.request("POST", "/v2/models/street/infer", payload, headers)
            sent += 1
            assert status == 200, status
            if i in (100, 1000):
                rss[i] = server.rss_kb()
        growth = rss[1000] / rss[100] - 1
        check(abs(growth) <= 0.10, "load: RSS after 1000 requests within 10% of after 100", f"{rss[100]} kB -> {rss[1000]} kB ({100 * growth:+.1f}%)")
        statuses, lock, stop = {}, threading.Lock(), time.monotonic() + 10
        slow_refusals = []

        def client():
            while time.monotonic() < stop:
                start = time.monotonic()
                try:
                    status, answer_headers, _ = server.request("POST", "/v2/models/street/infer", payload, headers)
                except OSError as error:
                    status, answer_headers = f"error {error}", {}
                took = time.monotonic() - start
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 503 and (took > 0.5 or answer_headers.get("retry-after") != "1"):
                        slow_refusals.append(took)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        total = sum(statuses.values())
        sent += total
        check(set(statuses) <= {200, 503} and statuses.get(503, 0) > 0 and statuses.get(200, 0) > 0,
              "load: 8 clients for 10 s against 1 worker + 2 queued: only 200 and 503", json.dumps({str(k): v for k, v in statuses.items()}))
        check(not slow_refusals, "load: every 503 at once, with Retry-After", f"{len(slow_refusals)} slow or without")
        values = server.metrics()
        counted = metric_sum(values, "danet_requests_total")
        infer_200 = metric_sum(values, "danet_requests_total", endpoint="/v2/models/{name}/infer", model="street", status="200")
        infer_503 = metric_sum(values, "danet_requests_total", endpoint="/v2/models/{name}/infer", model="street", status="503")
        check(counted == sent and infer_200 == 1000 + statuses.get(200, 0) and infer_503 == statuses.get(503, 0),
              "load: the metrics count every request sent", f"sent {sent}, counted {counted:.0f} (200: {infer_200:.0f}, 503: {infer_503:.0f})")
        count = metric_sum(values, "danet_inference_duration_seconds_count", model="street")
        check(count == infer_200, "load: one inference timed per 200", f"{count:.0f}")
        print(f"     load: {statuses.get(200, 0) / 10:.1f} answered/s, {statuses.get(503, 0) / 10:.1f} refused/s (debug build, 64x64)")


def sigterm(danet):
    png = open(PHOTO, "rb").read()
    with Server(danet, *MODEL, "--workers", "1", "--queue", "4", "--drain", "2") as server:
        results = []
        threads = [threading.Thread(target=lambda: results.append(server.request("POST", "/v1/segment?output=labels", png)[0])) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        server.process.send_signal(__import__("signal").SIGTERM)
        time.sleep(0.5)
        ready = server.request("GET", "/v2/health/ready")[0]
        live = server.request("GET", "/v2/health/live")[0]
        for t in threads:
            t.join(60)
        code = server.process.wait(timeout=60)
        check(ready == 503 and live == 200, "SIGTERM: readiness fails during the drain, liveness holds", f"ready {ready}, live {live}")
        check(results == [200, 200, 200], "SIGTERM: the requests in flight finish", str(results))
        check(code == 0, "SIGTERM: exit status 0", str(code))


def browser(danet, out):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    expected = segment_classes(out)
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=900,900"):
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    with Server(danet, *MODEL) as server:
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            driver.get(f"http://127.0.0.1:{server.port}/")
            WebDriverWait(driver, 30).until(lambda d: "Ready" in d.find_element(By.ID, "status").text)
            driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(PHOTO)
            WebDriverWait(driver, 60).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-done") == "1"
                                            or "error" in d.find_element(By.ID, "status").get_attribute("class"))
            names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#legend .name")]
            status = driver.find_element(By.ID, "status").text
            shot = os.path.join(out, "serve-page.png")
            driver.save_screenshot(shot)
            check(names == expected, "browser: the legend names the classes danet segment reports", f"{names}; '{status}'; screenshot {shot}")
            # A phone's screen: nothing wider than the viewport.
            driver.set_window_size(390, 844)
            time.sleep(0.5)
            wide = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            phone = os.path.join(out, "serve-page-phone.png")
            driver.save_screenshot(phone)
            check(wide[0] <= wide[1], "browser: fits a 390-pixel-wide phone screen", f"content {wide[0]} px in {wide[1]} px; screenshot {phone}")
        finally:
            driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("danet")
    parser.add_argument("--out", help="folder for the outputs and the page's screenshot (default: a temporary one)")
    parser.add_argument("--skip-browser", action="store_true")
    args = parser.parse_args()
    danet = os.path.abspath(args.danet)
    out = args.out or tempfile.mkdtemp(prefix="danet-serve-")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "segment.json"), "w") as record:
        subprocess.run([danet, "segment", "--weights", WEIGHTS, "--dataset", "street", "--json", PHOTO, "-o", out], check=True, stdout=record)
    protocol(danet, out)
    faults(danet, out)
    token(danet, out)
    sigterm(danet)
    load(danet)
    if not args.skip_browser:
        browser(danet, out)
    print(f"{len(failures)} failed" + (": " + "; ".join(failures) if failures else ""))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
