"""Starting `danet serve` on a free loopback port and talking to it, for the server's tests and benchmark."""
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time


class Server:
    """A `danet serve` process; `port` is read from its listening line."""

    def __init__(self, danet, *arguments, timeout=120):
        self.process = subprocess.Popen([danet, "serve", "--port", "0", *arguments], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        deadline = time.monotonic() + timeout
        self.port = None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"danet serve exited ({self.process.wait()}): {''.join(self.stderr_lines)}")
            found = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                self.banner = line.strip()
                break
        if self.port is None:
            raise RuntimeError("danet serve did not report its port in time")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _drain_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def request(self, method, path, body=None, headers=None, timeout=120):
        """(status, headers dict with lower-case names, body bytes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def json(self, method, path, body=None, headers=None):
        status, _, data = self.request(method, path, body, headers)
        return status, json.loads(data) if data else None

    def metrics(self, headers=None):
        """{(name, frozenset(labels.items())): value} from /metrics."""
        status, _, data = self.request("GET", "/metrics", headers=headers)
        assert status == 200, status
        values = {}
        for line in data.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            found = re.match(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(2) or ""))
            values[(found.group(1), frozenset(labels.items()))] = float(found.group(3))
        return values

    def rss_kb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))

    def terminate(self, timeout=60):
        """SIGTERM; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def metric_sum(values, name, **match):
    return sum(v for (n, labels), v in values.items() if n == name and all((k, m) in labels for k, m in match.items()))


def write_safetensors(path, tensors):
    """A safetensors file of float32 numpy arrays (no torch needed)."""
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        blob = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    text = json.dumps(header).encode()
    with open(path, "wb") as out:
        out.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as file:
        data = file.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    base = 8 + length
    return {name: np.frombuffer(data[base + e["data_offsets"][0]:base + e["data_offsets"][1]], dtype="<f4").reshape(e["shape"])
            for name, e in header.items() if name != "__metadata__"}


def png_claiming(width, height):
    """A small PNG file claiming width x height pixels: a header, one row's data, an end."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * (3 * width + 1))) + chunk(b"IEND", b"")


def raw_exchange(port, data, hold=0.0, read_timeout=30):
    """Sends `data` over a raw socket, waits `hold` seconds, reads the answer's status line."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(data)
        if hold:
            time.sleep(hold)
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return answer

