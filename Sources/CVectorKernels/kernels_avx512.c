// AVX-512 kernels: a 6 x 64 GEMM register tile in 24 zmm accumulators (4 loads of B and 6
// broadcasts of A per step), edges handled with masked loads and stores; the row transforms and
// the softmax vectorised 16 lanes wide.
#if defined(__x86_64__)
#include "CVectorKernels.h"

#include <immintrin.h>

#define MR DANET_GEMM_MR
#define NR 64
#define NV (NR / 16)

#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)

// The mask for the columns [16 v, 16 v + 16) of a tile that has `cols` valid columns.
static inline __mmask16 column_mask(long cols, int v) {
    long left = cols - 16 * v;
    return (__mmask16)(left >= 16 ? 0xFFFF : left <= 0 ? 0 : (1u << left) - 1);
}

static void micro_kernel(long kc, const float *ap, const float *bp, float alpha, float beta,
                         float *c, long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
    __m512 acc[MR][NV];
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    // The tile of C is read at the end (beta or a residual): fetch it while the sums run.
    if (beta != 0 || epilogue) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) _mm_prefetch((const char *)(c + i * ldc + 16 * v), _MM_HINT_T0);
    }
    if (epilogue && epilogue->residual) {
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++)
                _mm_prefetch((const char *)(epilogue->residual + i * epilogue->residual_ld + 16 * v), _MM_HINT_T0);
    }
    for (long p = 0; p < kc; p++) {
        __m512 bv[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) bv[v] = _mm512_load_ps(bp + 16 * v);
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(ap[i]);
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
        }
        ap += MR;
        bp += NR;
    }
    __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        float *row = c + i * ldc;
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            __mmask16 mask = column_mask(nr, v);
            __m512 r = _mm512_mul_ps(acc[i][v], va);
            if (beta != 0) r = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, row + 16 * v), vb, r);
            if (epilogue) {
                if (epilogue->bias) r = _mm512_add_ps(r, _mm512_set1_ps(epilogue->bias[i]));
                if (epilogue->residual)
                    r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask, epilogue->residual + i * epilogue->residual_ld + 16 * v));
                if (epilogue->relu) r = _mm512_max_ps(r, _mm512_setzero_ps());
            }
            _mm512_mask_storeu_ps(row + 16 * v, mask, r);
        }
    }
}

#define KERNEL(name) name##_avx512
#include "internal/row_kernels.h"

#pragma clang attribute pop

// A deep kc: the C tile is loaded and stored once per kc, and the 128 KB panel of B it takes is
// swept from L2 at full speed on the cores that have AVX-512. mc and nc are whole numbers of panels.
const DanetKernels danet_kernels_avx512 = KERNEL_TABLE(DANET_ISA_AVX512, "avx512", NR, 512, (256 / MR) * MR, (2048 / NR) * NR);
#endif
