#!/usr/bin/env bash
# The C kernels against the portable C ones (Tests/CKernelTests/kernel_test.c): built natively and
# run for every instruction set this CPU has, then cross-compiled for ARM64 and run under
# qemu-aarch64, so the NEON kernels are tested on an x86-64 machine too. The bf16 path
# (Tests/CKernelTests/bf16_test.c) runs natively and under qemu twice: -cpu max, which has BF16, and
# -cpu cortex-a72, which has none and must not choose the BF16 kernels. The CPU feature decision
# runs against recorded CPUID/XCR0 and HWCAP values on both. The thread pool's stress
# test (pool_test.c) runs under ThreadSanitizer natively, and under qemu for ARM64's memory order. Installs the cross
# compiler and qemu-user (Debian: gcc-aarch64-linux-gnu, qemu-user) if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/c-kernel-tests
mkdir -p "$out"
sources=(Sources/CVectorKernels/*.c Tests/CKernelTests/kernel_test.c)
bf16=(Sources/CVectorKernels/*.c Tests/CKernelTests/bf16_test.c)
pool=(Sources/CVectorKernels/thread_pool.c Tests/CKernelTests/pool_test.c)
features=(Sources/CVectorKernels/cpu_features.c Sources/CVectorKernels/platform.c Tests/CKernelTests/cpu_features_test.c)
flags=(-std=gnu11 -O2 -Wall -Wextra -Werror -ISources/CVectorKernels/include -ISources/CVectorKernels)

echo "== C kernels, native ($(uname -m))"
cc=clang
command -v clang >/dev/null || cc=cc
"$cc" "${flags[@]}" "${sources[@]}" -lm -o "$out/kernel_test"
"$cc" "${flags[@]}" "${bf16[@]}" -lm -o "$out/bf16_test"

echo "== CPU feature detection: recorded CPUID/XCR0 and HWCAP values, then this CPU"
"$cc" "${flags[@]}" "${features[@]}" -ldl -o "$out/cpu_features_test"
"$out/cpu_features_test"
"$out/kernel_test"
echo "== bf16: rounding, packing and products"
"$out/bf16_test"

echo "== thread pool, under ThreadSanitizer (gcc's runtime; address randomisation off, as it requires)"
gcc "${flags[@]}" -g -fsanitize=thread "${pool[@]}" -lpthread -o "$out/pool_test-tsan"
TSAN_OPTIONS=halt_on_error=1 setarch "$(uname -m)" -R "$out/pool_test-tsan"

if [ "$(uname -m)" != aarch64 ]; then
    missing=()
    command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
    command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
    fi
    echo "== C kernels, ARM64 under qemu-aarch64"
    aarch64-linux-gnu-gcc "${flags[@]}" -static "${sources[@]}" -lm -o "$out/kernel_test-aarch64"
    qemu-aarch64 "$out/kernel_test-aarch64"
    echo "== bf16 under qemu-aarch64 -cpu max (BF16), then -cpu cortex-a72 (no BF16)"
    aarch64-linux-gnu-gcc "${flags[@]}" -static "${bf16[@]}" -lm -o "$out/bf16_test-aarch64"
    qemu-aarch64 -cpu max "$out/bf16_test-aarch64"
    qemu-aarch64 -cpu cortex-a72 "$out/bf16_test-aarch64"
    # -cpu max reports HWCAP2_BF16; the same decoders run there.
    aarch64-linux-gnu-gcc "${flags[@]}" -static "${features[@]}" -o "$out/cpu_features_test-aarch64"
    qemu-aarch64 -cpu max "$out/cpu_features_test-aarch64"
    aarch64-linux-gnu-gcc "${flags[@]}" -static "${pool[@]}" -lpthread -o "$out/pool_test-aarch64"
    qemu-aarch64 "$out/pool_test-aarch64"
fi
