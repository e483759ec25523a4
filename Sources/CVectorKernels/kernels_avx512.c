// AVX-512 kernels: a 6 x 64 GEMM register tile in 24 zmm accumulators (4 loads of B and 6
// broadcasts of A per step), edges handled with masked loads and stores; the row transforms and
// the softmax vectorised 16 lanes wide. Two tables: without and with the AVX512_BF16 products.
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

// F(2x2)'s column stage for 16 tiles at a time: tile q reads padded columns 2q ..< 2q + 4, so the
// even and odd lanes of two loads (and of two loads two columns on) are its four inputs.
static inline long winograd2_columns(const float *t, long tiles, float *v0, float *v1, float *v2, float *v3) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    long q = 0;
    // The row holds 2 * tiles + 2 columns: the last block reads up to column 2q + 33 <= 2 * tiles + 1.
    for (; q + 16 <= tiles; q += 16) {
        const float *p = t + 2 * q;
        const __m512 a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16);
        const __m512 c = _mm512_loadu_ps(p + 2), d = _mm512_loadu_ps(p + 18);
        const __m512 c0 = _mm512_permutex2var_ps(a, even, b), c1 = _mm512_permutex2var_ps(a, odd, b);
        const __m512 c2 = _mm512_permutex2var_ps(c, even, d), c3 = _mm512_permutex2var_ps(c, odd, d);
        _mm512_storeu_ps(v0 + q, _mm512_sub_ps(c0, c2));
        _mm512_storeu_ps(v1 + q, _mm512_add_ps(c1, c2));
        _mm512_storeu_ps(v2 + q, _mm512_sub_ps(c2, c1));
        _mm512_storeu_ps(v3 + q, _mm512_sub_ps(c1, c3));
    }
    return q;
}

// F(2x2)'s output row for 16 tiles at a time: each tile's two outputs, bias added and ReLU applied
// in the scalar loop's order, interleaved into y.
static inline long winograd2_outputs(const float *q0, const float *q1, const float *q2, const float *q3, long tiles,
                                     float bias, int relu, float *y) {
    const __m512i low = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i high = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    const __m512 b = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
    long t = 0;
    for (; t + 16 <= tiles; t += 16) {
        const __m512 a0 = _mm512_loadu_ps(q0 + t), a1 = _mm512_loadu_ps(q1 + t);
        const __m512 a2 = _mm512_loadu_ps(q2 + t), a3 = _mm512_loadu_ps(q3 + t);
        __m512 left = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), a2), b);
        __m512 right = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(a1, a2), a3), b);
        if (relu) {
            left = _mm512_max_ps(left, zero);
            right = _mm512_max_ps(right, zero);
        }
        _mm512_storeu_ps(y + 2 * t, _mm512_permutex2var_ps(left, low, right));
        _mm512_storeu_ps(y + 2 * t + 16, _mm512_permutex2var_ps(left, high, right));
    }
    return t;
}

#define WINOGRAD2_COLUMNS winograd2_columns
#define WINOGRAD2_OUTPUTS winograd2_outputs
#define KERNEL(name) name##_avx512
#include "internal/row_kernels.h"

// Stores a finished register tile: C = alpha * acc + beta * C, then the epilogue, masked at the
// right edge and cut at the bottom.
static inline __attribute__((always_inline)) void store_tile(__m512 acc[MR][NV], float alpha, float beta, float *c,
                                                              long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
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

static inline __attribute__((always_inline)) void zero_tile(__m512 acc[MR][NV]) {
#pragma clang loop unroll(full)
    for (int i = 0; i < MR; i++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
}

// The tile of C is read at the end (beta or a residual): fetch it while the sums run.
static inline __attribute__((always_inline)) void prefetch_tile(float beta, const float *c, long ldc,
                                                                 const DanetEpilogue *epilogue) {
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
}

static void micro_kernel(long kc, const float *ap, const float *bp, float alpha, float beta,
                         float *c, long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
    __m512 acc[MR][NV];
    zero_tile(acc);
    prefetch_tile(beta, c, ldc, epilogue);
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
    store_tile(acc, alpha, beta, c, ldc, mr, nr, epilogue);
}

#pragma clang attribute pop

// The activations' packing for the bf16 products with the conversion instruction: vcvtne2ps2bf16
// rounds two rows of 16 as danet_bf16_from_float does (nearest even, NaN quietened, denormals to
// signed zero; the bf16 tests hold it to that bit for bit), and one word permutation interleaves
// them into pairs: a third of the time of rounding with integer operations. Masked loads read
// nothing past a row's end, and the columns past it become zero pairs.
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16")))

// 16 columns of two rows (row1 null: zeros) as 16 pairs at `out`, masked to the first `cols`
// columns; word 2i is row0's column i (the low half of the conversion), word 2i + 1 row1's.
static inline BF16_TARGET __attribute__((always_inline)) void convert_pairs16(const float *row0, const float *row1,
                                                                            long cols, uint16_t *out) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __mmask16 mask = column_mask(cols, 0);
    const __m512 low = _mm512_maskz_loadu_ps(mask, row0);
    const __m512 high = row1 ? _mm512_maskz_loadu_ps(mask, row1) : _mm512_setzero_ps();
    _mm512_storeu_si512((void *)out, _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(high, low)));
}

static BF16_TARGET void pack_b_bf16_convert(long kc, long nc, long nr, const float *b, long b_row, long b_col, uint16_t *out) {
    if (b_col != 1) {
        KERNEL(pack_b_bf16)(kc, nc, nr, b, b_row, b_col, out);
        return;
    }
    const long depth = (kc + 1) / 2 * 2;
    for (long j = 0; j < nc; j += nr) {
        const long cols = nc - j < nr ? nc - j : nr;
        for (long q = 0; q < depth; q += 2) {
            const float *r0 = b + q * b_row + j;
            for (long s = 0; s < nr; s += 16) convert_pairs16(r0 + s, q + 1 < kc ? r0 + b_row + s : NULL, cols - s, out + q * nr + 2 * s);
        }
        out += depth * nr;
    }
}

static BF16_TARGET void pack_pairs_bf16_convert(const float *row0, const float *row1, long count, long nr, long depth,
                                                uint16_t *b) {
    for (long j = 0; j < count; j += nr) {
        uint16_t *panel = b + (j / nr) * depth * nr;
        for (long s = 0; s < nr; s += 16)
            convert_pairs16(row0 + j + s, row1 ? row1 + j + s : NULL, count - j - s, panel + 2 * s);
    }
}

// The bf16 products: per pair of depths, 4 loads of B (64 columns, a pair each) and 6 broadcasts
// of A's pairs into 24 vdpbf16ps, twice the multiply-adds of an f32 step.
__attribute__((target("avx512f,avx512bf16"))) static void micro_kernel_bf16(
    long depth, const uint16_t *ap, const uint16_t *bp, float alpha, float beta, float *c, long ldc, long mr, long nr,
    const DanetEpilogue *epilogue) {
    __m512 acc[MR][NV];
    zero_tile(acc);
    prefetch_tile(beta, c, ldc, epilogue);
    for (long p = 0; p < depth; p += 2) {
        __m512bh bv[NV];
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_loadu_si512((const void *)(bp + 32 * v));
#pragma clang loop unroll(full)
        for (int i = 0; i < MR; i++) {
            int pair;
            memcpy(&pair, ap + 2 * i, sizeof pair);
            const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], a, bv[v]);
        }
        ap += 2 * MR;
        bp += 2 * NR;
    }
    store_tile(acc, alpha, beta, c, ldc, mr, nr, epilogue);
}


// A deep kc: the C tile is loaded and stored once per kc, and the 128 KB panel of B it takes is
// swept from L2 at full speed on the cores that have AVX-512. mc and nc are whole numbers of panels.
const DanetKernels danet_kernels_avx512 =
    KERNEL_TABLE(DANET_ISA_AVX512, "avx512", NR, 512, (256 / MR) * MR, (2048 / NR) * NR, NULL, KERNEL(pack_b_bf16),
                 KERNEL(pack_pairs_bf16));
// The same with the bf16 products, for the CPUs with AVX512_BF16 (AMD Zen 4 and later, Intel Cooper
// Lake and Sapphire Rapids and later).
const DanetKernels danet_kernels_avx512bf16 =
    KERNEL_TABLE(DANET_ISA_AVX512_BF16, "avx512bf16", NR, 512, (256 / MR) * MR, (2048 / NR) * NR, micro_kernel_bf16, pack_b_bf16_convert,
                 pack_pairs_bf16_convert);
#endif
