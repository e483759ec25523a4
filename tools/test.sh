#!/usr/bin/env bash
# Every test on a fresh machine: install, build, run the Swift test suites.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh
swift build --build-tests
swift test --skip-build
