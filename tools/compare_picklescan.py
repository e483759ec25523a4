#!/usr/bin/env python3
"""danet scan beside picklescan on the project's hostile and benign fixtures: who flags what.

    .venv/bin/pip install picklescan && .venv/bin/python tools/compare_picklescan.py [path/to/danet]

For each checkpoint-shaped file of Fixtures/hostile (every code-execution payload and bypass, in
each form, plus unknown callables and memory attacks) and Fixtures/benign (numpy, argparse,
omegaconf, mmengine, pathlib, datetime, a pickled torch.nn model, wrappers), prints picklescan's
result (dangerous globals it found, or 'clean', or 'error') and danet's verdict, then a summary.
"""

import json
import os
import subprocess
import sys
from collections import Counter

from importlib.metadata import version

from picklescan.scanner import SafetyLevel, scan_file_path

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DANET = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "danet")


def picklescan_result(path):
    result = scan_file_path(path)
    if result.scan_err:
        return "error"
    dangerous = sorted({f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous})
    if dangerous:
        return "dangerous: " + ", ".join(dangerous)
    return "clean"


def danet_result(path):
    out = subprocess.run([DANET, "scan", "--json", path], capture_output=True, text=True)
    record = json.loads(out.stdout.splitlines()[0])
    return record["verdict"] + (": " + ", ".join(record["globals"]) if record["globals"] else "")


def main():
    rows = []
    for folder in ("hostile", "benign"):
        directory = os.path.join(ROOT, "Fixtures", folder)
        for name in sorted(os.listdir(directory)):
            if not name.endswith((".pth", ".pt", ".tar")):
                continue
            path = os.path.join(directory, name)
            rows.append((folder, name, picklescan_result(path), danet_result(path)))
    print(f"picklescan {version('picklescan')} against danet scan")
    print()
    print("| fixture | picklescan | danet scan |")
    print("|---|---|---|")
    for folder, name, theirs, ours in rows:
        print(f"| {folder}/{name} | {theirs} | {ours} |")
    print()
    summary = Counter((folder, theirs.split(":")[0], ours.split(":")[0]) for folder, _, theirs, ours in rows)
    print("| fixtures | picklescan | danet scan | files |")
    print("|---|---|---|---:|")
    for (folder, theirs, ours), count in sorted(summary.items()):
        print(f"| {folder} | {theirs} | {ours} | {count} |")

if __name__ == "__main__":
    main()
