#!/usr/bin/env bash
# `danet serve` from the outside (tools/serving/test_serve.py): tritonclient, faults, token, SIGTERM,
# a bounded load test and the page in headless Chromium. Installs Chromium and its driver (Debian)
# and the Python clients in .venv-serve (PyPI). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
danet=${1:-.build/debug/danet}
out=${2:-$(mktemp -d)}

missing=()
for package in chromium chromium-driver; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi
[ -x .venv-serve/bin/python ] || python3 -m venv .venv-serve
.venv-serve/bin/pip install -q -r tools/serving/requirements.txt
.venv-serve/bin/python tools/serving/test_serve.py "$danet" --out "$out"
echo "outputs and the page's screenshot: $out"
