#!/usr/bin/env bash
# Every test on a fresh machine: install, build, run the Swift test suites, the parity tests again
# under each lower instruction set, the install command, a Slurm array job on a one-node cluster,
# the server from the outside, the README's library example as a separate package, the
# documentation without warnings, the C kernel tests natively and for ARM64 under qemu, the thread
# count under CPU limits; then the archive and image tests again under AddressSanitizer, and each
# fuzz target for about a minute (SECURITY.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh
swift build --build-tests
swift test --skip-build

# The model and pipeline parity tests (and the .danet model files' bit-for-bit logits) again with
# each lower instruction set this CPU runs forced (DANET_ISA); the kernel tests above already ran
# every instruction set on its own.
lower=$(.build/debug/danet-bench kernels | python3 -c 'import json, sys; k = json.load(sys.stdin); print(" ".join(i for i in k["available"] if i != k["isa"]))')
for isa in $lower; do
    echo "== parity with DANET_ISA=$isa"
    DANET_ISA=$isa swift test --skip-build --filter "DANetModelTests|SegmentationTests"
done
# With OpenBLAS computing the products, a .danet file's panels are unpacked into rows at load: the
# logits must still equal the checkpoint's.
echo "== .danet model files with DANET_GEMM=openblas"
DANET_GEMM=openblas swift test --skip-build --filter "ModelFileTests"

# The README's install command, and the installed binary run from another folder.
bash tools/test_install.sh

# A one-node Slurm cluster: an array job of evaluate shards, merged, equal to the unsplit run.
bash tools/test_slurm.sh .build/debug/danet

# `danet serve` through tritonclient, every fault, the token, SIGTERM, a load test and the page in
# headless Chromium.
bash tools/test_serve.sh .build/debug/danet

# The README's library example, built as a separate package in Swift 6 mode and run.
bash tools/test_library_example.sh

# The DocC documentation of every library, without warnings, and a doc comment on every public declaration.
bash tools/check_docs.sh

# The C kernels against the portable ones, and the CPU feature decision against recorded CPUID/XCR0
# and HWCAP values, natively and for ARM64 under qemu-aarch64.
bash tools/test_c_kernels.sh

# The default thread count under taskset and under a cgroup CPU quota.
bash tools/test_cpu_limits.sh .build/debug/danet-bench

# AddressSanitizer over the readers' tests, in its own build folder. LeakSanitizer runs too; the
# suppressions name only leaks inside the test runner (XCTest), not this package.
swift build --build-tests --sanitize=address --scratch-path .build-asan
LSAN_OPTIONS="suppressions=$PWD/tools/lsan-suppressions.txt" \
    swift test --skip-build --sanitize=address --scratch-path .build-asan \
    --filter "TorchArchiveTests|ImageDecodingTests|ImageBoundsTests"

# Coverage-guided fuzzing, 60 s per target, seeded from Fixtures/; any finding fails the run.
tools/fuzz all 60
