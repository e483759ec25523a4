// AVX2 + FMA kernels: a 6 x 16 GEMM register tile in 12 ymm accumulators (2 loads of B and 6
// broadcasts of A per step, 15 of the 16 registers), the shape BLIS uses on Haswell and Zen; the
// row transforms and the softmax vectorised 8 lanes wide.
#if defined(__x86_64__)
#include "CVectorKernels.h"

#include <immintrin.h>

#include "internal/tile_store.h"

#define MR DANET_GEMM_MR
#define NR 16

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static void micro_kernel(long kc, const float *ap, const float *bp, float alpha, float beta,
                         float *c, long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
    __m256 acc[MR][2];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    const int full = mr == MR && nr == NR;
    if (full && (beta != 0 || epilogue)) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        if (epilogue && epilogue->residual) {
#pragma clang loop unroll(full)
            for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(epilogue->residual + i * epilogue->residual_ld), _MM_HINT_T0);
        }
    }
#pragma clang loop unroll_count(4)
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            const __m256 a = _mm256_broadcast_ss(ap + i);
            acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
        }
        ap += MR;
        bp += NR;
    }
    if (!full) {
        float tile[MR * NR];
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(tile + i * NR, acc[i][0]);
            _mm256_storeu_ps(tile + i * NR + 8, acc[i][1]);
        }
        store_tile_scalar(tile, NR, alpha, beta, c, ldc, mr, nr, epilogue);
        return;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), zero = _mm256_setzero_ps();
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
        float *row = c + i * ldc;
#pragma clang loop unroll(full)
        for (int v = 0; v < 2; v++) {
            __m256 r = _mm256_mul_ps(acc[i][v], va);
            if (beta != 0) r = _mm256_fmadd_ps(_mm256_loadu_ps(row + 8 * v), vb, r);
            if (epilogue) {
                if (epilogue->bias) r = _mm256_add_ps(r, _mm256_set1_ps(epilogue->bias[i]));
                if (epilogue->residual)
                    r = _mm256_add_ps(r, _mm256_loadu_ps(epilogue->residual + i * epilogue->residual_ld + 8 * v));
                if (epilogue->relu) r = _mm256_max_ps(r, zero);
            }
            _mm256_storeu_ps(row + 8 * v, r);
        }
    }
}

#define KERNEL(name) name##_avx2
#include "internal/row_kernels.h"

#pragma clang attribute pop

// kc = 256 keeps a 16 KB panel of B in a 32 KB L1 while the 6-row panels of A stream from L2
// (mc x kc = 168 KB); nc bounds the packed B to 4 MB, within the L3 of the CPUs that have AVX2.
const DanetKernels danet_kernels_avx2 = KERNEL_TABLE(DANET_ISA_AVX2, "avx2", NR, 256, 168, 4080, NULL, KERNEL(pack_b_bf16),
                                                              KERNEL(pack_pairs_bf16));
#endif
