// A Goto-style single-precision GEMM for AVX-512: B is packed into NR-column panels, A into
// MR-row panels (or packed once, for weights), and a 6 x 64 register tile accumulates in 24 zmm
// registers. The system OpenBLAS may be pinned to an AVX2 core type, which halves the rate on CPUs
// with 512-bit FMA units; this kernel is used only where the CPU reports AVX-512F.
#include "CVectorKernels.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define MR DANET_GEMM_MR
#define NR DANET_GEMM_NR
#define NV (NR / 16)
// A deep KC (a 128 KB panel of B, swept from L2) measured faster here than panels sized for the
// 48 KB L1: the C tile is loaded and stored once per KC. MC and NC are whole numbers of panels, so
// the packing buffers hold every padded panel.
#define KC DANET_GEMM_KC
#define MC ((256 / MR) * MR)
#define NC ((2048 / NR) * NR)

int danet_gemm_avx512_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

typedef struct {
    float *a;
    float *b;
} Buffers;

static _Thread_local Buffers buffers;

static int ensure_buffers(void) {
    if (buffers.a) return 1;
    buffers.a = aligned_alloc(64, sizeof(float) * MC * KC);
    buffers.b = aligned_alloc(64, sizeof(float) * KC * NC);
    if (!buffers.a || !buffers.b) {
        free(buffers.a);
        free(buffers.b);
        buffers.a = buffers.b = NULL;
        return 0;
    }
    return 1;
}

// Rows [i0, i0 + mc) and depth [p0, p0 + kc) of A as MR-row panels, each kc x MR, zero-padded.
static void pack_a(long mc, long kc, const float *a, long a_row, long a_col, float *out) {
    for (long i = 0; i < mc; i += MR) {
        long rows = mc - i < MR ? mc - i : MR;
        const float *src = a + i * a_row;
        if (a_col == 1) {
            for (long r = 0; r < rows; r++) {
                const float *row = src + r * a_row;
                for (long p = 0; p < kc; p++) out[p * MR + r] = row[p];
            }
        } else {
            for (long p = 0; p < kc; p++)
                for (long r = 0; r < rows; r++) out[p * MR + r] = src[r * a_row + p * a_col];
        }
        for (long r = rows; r < MR; r++)
            for (long p = 0; p < kc; p++) out[p * MR + r] = 0;
        out += kc * MR;
    }
}

// The mask for the columns [16 v, 16 v + 16) of a tile that has `cols` valid columns.
static inline __mmask16 column_mask(long cols, int v) {
    long left = cols - 16 * v;
    return (__mmask16)(left >= 16 ? 0xFFFF : left <= 0 ? 0 : (1u << left) - 1);
}

// Depth [p0, p0 + kc) and columns [j0, j0 + nc) of B as NR-column panels, each kc x NR, zero-padded.
__attribute__((target("avx512f")))
static void pack_b(long kc, long nc, const float *b, long b_row, long b_col, float *out) {
    for (long j = 0; j < nc; j += NR) {
        long cols = nc - j < NR ? nc - j : NR;
        const float *src = b + j * b_col;
        if (b_col == 1) {
            for (long p = 0; p < kc; p++) {
                const float *row = src + p * b_row;
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    _mm512_store_ps(out + p * NR + 16 * v, _mm512_maskz_loadu_ps(column_mask(cols, v), row + 16 * v));
            }
        } else {
            // Transposed B: read down each column, which is contiguous in memory when b_row == 1.
            for (long p = 0; p < kc; p++)
                for (long q = cols; q < NR; q++) out[p * NR + q] = 0;
            for (long q = 0; q < cols; q++) {
                const float *column = src + q * b_col;
                for (long p = 0; p < kc; p++) out[p * NR + q] = column[p * b_row];
            }
        }
        out += kc * NR;
    }
}

// acc = A_panel B_panel over kc; then C = alpha * acc + beta * C for the rows < mr, columns < nr.
__attribute__((target("avx512f")))
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

static long padded_rows(long m) { return (m + MR - 1) / MR * MR; }

long danet_gemm_packed_size(long m, long k) { return padded_rows(m) * k; }

// Depth block pc holds the panels of every row: panel P of block pc starts at
// pc * padded_rows(m) + P * kc * MR, so any MR-aligned row range is a contiguous run of panels.
void danet_gemm_pack(long m, long k, const float *a, long a_row, long a_col, float *packed) {
    for (long pc = 0; pc < k; pc += KC) {
        long kc = k - pc < KC ? k - pc : KC;
        pack_a(m, kc, a + pc * a_col, a_row, a_col, packed + pc * padded_rows(m));
    }
}

// The blocked loops for both entries: A comes packed (`packed` non-null) or is packed per block.
__attribute__((target("avx512f")))
static void gemm(long m, long n, long k, float alpha, const float *packed, long m_total, long first_row,
                 const float *a, long a_row, long a_col, const float *b, long b_row, long b_col,
                 float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || !ensure_buffers()) {
        // Nothing to multiply (or no memory for packing): computed directly.
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) {
                float sum = 0;
                for (long p = 0; p < k; p++) {
                    float x = packed ? 0 : a[i * a_row + p * a_col];
                    if (packed) {
                        long row = first_row + i, pc = p / KC * KC, kc = k - pc < KC ? k - pc : KC;
                        x = packed[pc * padded_rows(m_total) + (row / MR) * kc * MR + (p - pc) * MR + row % MR];
                    }
                    sum += x * b[p * b_row + j * b_col];
                }
                float value = alpha * sum + (beta == 0 ? 0 : beta * c[i * ldc + j]);
                if (epilogue) {
                    if (epilogue->bias) value += epilogue->bias[i];
                    if (epilogue->residual) value += epilogue->residual[i * epilogue->residual_ld + j];
                    if (epilogue->relu && !(value > 0)) value = 0;
                }
                c[i * ldc + j] = value;
            }
        return;
    }
    float *pa = buffers.a, *pb = buffers.b;
    for (long jc = 0; jc < n; jc += NC) {
        long nc = n - jc < NC ? n - jc : NC;
        for (long pc = 0; pc < k; pc += KC) {
            long kc = k - pc < KC ? k - pc : KC;
            pack_b(kc, nc, b + pc * b_row + jc * b_col, b_row, b_col, pb);
            float step_beta = pc == 0 ? beta : 1;
            const int last = pc + kc >= k;
            for (long ic = 0; ic < m; ic += MC) {
                long mc = m - ic < MC ? m - ic : MC;
                const float *panels = pa;
                if (packed) {
                    panels = packed + pc * padded_rows(m_total) + (first_row + ic) * kc;
                } else {
                    pack_a(mc, kc, a + ic * a_row + pc * a_col, a_row, a_col, pa);
                }
                for (long jr = 0; jr < nc; jr += NR) {
                    long nr = nc - jr < NR ? nc - jr : NR;
                    for (long ir = 0; ir < mc; ir += MR) {
                        long mr = mc - ir < MR ? mc - ir : MR;
                        // The epilogue runs once, on the final sums, relative to this tile.
                        DanetEpilogue tile;
                        if (epilogue && last) {
                            tile = *epilogue;
                            if (tile.bias) tile.bias += ic + ir;
                            if (tile.residual) tile.residual += (ic + ir) * tile.residual_ld + jc + jr;
                        }
                        micro_kernel(kc, panels + ir * kc, pb + jr * kc, alpha, step_beta,
                                     c + (ic + ir) * ldc + jc + jr, ldc, mr, nr, epilogue && last ? &tile : NULL);
                    }
                }
            }
        }
    }
}

void danet_gemm_avx512(long m, long n, long k, float alpha,
                       const float *a, long a_row, long a_col,
                       const float *b, long b_row, long b_col,
                       float beta, float *c, long ldc) {
    gemm(m, n, k, alpha, NULL, m, 0, a, a_row, a_col, b, b_row, b_col, beta, c, ldc, NULL);
}

void danet_gemm_avx512_packed(long m, long n, long k, float alpha,
                              const float *packed, long m_total, long first_row,
                              const float *b, long b_row, long b_col,
                              float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    gemm(m, n, k, alpha, packed, m_total, first_row, NULL, 0, 0, b, b_row, b_col, beta, c, ldc, epilogue);
}
