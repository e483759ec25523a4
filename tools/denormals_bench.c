// Whether denormal operands slow the GEMM down, and whether flush-to-zero / denormals-are-zero
// (MXCSR FTZ and DAZ) would win anything back: the measurement behind danet keeping IEEE denormals.
//   clang -O2 -ISources/CVectorKernels/include tools/denormals_bench.c Sources/CVectorKernels/*.c \
//       -lm -lpthread -ldl -o /tmp/denormals_bench && DANET_ISA=avx2 /tmp/denormals_bench
// x86-64 only (MXCSR). One thread, 1024^3 products, best of 5.
#include <pmmintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <xmmintrin.h>

#include "CVectorKernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    const DanetKernels *kernels = danet_kernels_selected(NULL);
    const long n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int denormal = 0; denormal < 2; denormal++) {
        for (long i = 0; i < n * n; i++) {
            a[i] = denormal ? 1e-39f * (1 + i % 7) : (float)(i % 13 - 6) / 7;
            b[i] = denormal ? 1e-39f * (1 + i % 5) : (float)(i % 11 - 5) / 5;
        }
        for (int flush = 0; flush < 2; flush++) {
            _MM_SET_FLUSH_ZERO_MODE(flush ? _MM_FLUSH_ZERO_ON : _MM_FLUSH_ZERO_OFF);
            _MM_SET_DENORMALS_ZERO_MODE(flush ? _MM_DENORMALS_ZERO_ON : _MM_DENORMALS_ZERO_OFF);
            double best = 1e9;
            for (int round = 0; round < 5; round++) {
                const double start = now();
                danet_gemm(kernels, n, n, n, 1, a, n, 1, b, n, 1, 0, c, n);
                if (now() - start < best) best = now() - start;
            }
            printf("%s, %s operands, FTZ/DAZ %s: %.1f ms (%.0f GFLOP/s)\n", kernels->name,
                   denormal ? "denormal (1e-39)" : "normal", flush ? "on " : "off", best * 1e3, 2.0 * n * n * n / best / 1e9);
        }
    }
    free(a);
    free(b);
    free(c);
    return 0;
}
