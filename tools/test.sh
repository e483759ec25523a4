#!/usr/bin/env bash
# Every test on a fresh machine: install, build, run the Swift test suites; then the archive and
# image tests again under AddressSanitizer, and each fuzz target for about a minute (SECURITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh
swift build --build-tests
swift test --skip-build

# AddressSanitizer over the readers' tests, in its own build folder. LeakSanitizer runs too; the
# suppressions name only leaks inside the test runner (XCTest), not this package.
swift build --build-tests --sanitize=address --scratch-path .build-asan
LSAN_OPTIONS="suppressions=$PWD/tools/lsan-suppressions.txt" \
    swift test --skip-build --sanitize=address --scratch-path .build-asan \
    --filter "TorchArchiveTests|ImageDecodingTests|ImageBoundsTests"

# Coverage-guided fuzzing, 60 s per target, seeded from Fixtures/; any finding fails the run.
tools/fuzz all 60
