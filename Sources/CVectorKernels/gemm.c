// A Goto-style single-precision GEMM: B is packed into nr-column panels, A into MR-row panels (or
// packed once, for weights), and each instruction set's micro-kernel multiplies one panel of each
// into a register tile. This file holds the blocking and the packing, which are the same for every
// kernel; the micro-kernels are in kernels_<isa>.c.
#include "CVectorKernels.h"

#include <stdlib.h>
#include <string.h>

#include "internal/tile_store.h"

#define MR DANET_GEMM_MR

typedef struct {
    float *a, *b;
    long a_floats, b_floats;
} Buffers;

static _Thread_local Buffers buffers;

// Grows this thread's packing buffers to at least the given sizes; 0 when memory runs out.
static int ensure_buffers(long a_floats, long b_floats) {
    if (buffers.a_floats >= a_floats && buffers.b_floats >= b_floats) return 1;
    free(buffers.a);
    free(buffers.b);
    // Rounded up to whole cache lines, as aligned_alloc requires a multiple of the alignment.
    buffers.a = aligned_alloc(64, (size_t)((a_floats + 15) / 16 * 16) * sizeof(float));
    buffers.b = aligned_alloc(64, (size_t)((b_floats + 15) / 16 * 16) * sizeof(float));
    if (!buffers.a || !buffers.b) {
        free(buffers.a);
        free(buffers.b);
        memset(&buffers, 0, sizeof buffers);
        return 0;
    }
    buffers.a_floats = a_floats;
    buffers.b_floats = b_floats;
    return 1;
}

// Rows [0, mc) and depth [0, kc) of A as MR-row panels, each kc x MR, zero-padded.
static void pack_a(long mc, long kc, const float *a, long a_row, long a_col, float *out) {
    for (long i = 0; i < mc; i += MR) {
        const long rows = mc - i < MR ? mc - i : MR;
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

static inline __attribute__((always_inline)) void copy_floats(float *restrict out, const float *restrict in, int count) {
    for (int i = 0; i < count; i++) out[i] = in[i];
}

// Depth [0, kc) and columns [0, nc) of B as nr-column panels, each kc x nr, zero-padded.
static void pack_b(long kc, long nc, long nr, const float *b, long b_row, long b_col, float *out) {
    for (long j = 0; j < nc; j += nr) {
        const long cols = nc - j < nr ? nc - j : nr;
        const float *src = b + j * b_col;
        if (b_col == 1 && cols == nr && (nr == 16 || nr == 64)) {
            // Whole panels of the two tile widths: fixed-size copies the compiler keeps inline
            // (a memcpy call per 64 bytes costs more than the copy).
            if (nr == 16) {
                for (long p = 0; p < kc; p++) copy_floats(out + p * 16, src + p * b_row, 16);
            } else {
                for (long p = 0; p < kc; p++) copy_floats(out + p * 64, src + p * b_row, 64);
            }
        } else if (b_col == 1) {
            for (long p = 0; p < kc; p++) {
                memcpy(out + p * nr, src + p * b_row, (size_t)cols * sizeof(float));
                if (cols < nr) memset(out + p * nr + cols, 0, (size_t)(nr - cols) * sizeof(float));
            }
        } else {
            // Transposed B: read down each column, which is contiguous in memory when b_row == 1.
            for (long p = 0; p < kc; p++)
                for (long q = cols; q < nr; q++) out[p * nr + q] = 0;
            for (long q = 0; q < cols; q++) {
                const float *column = src + q * b_col;
                for (long p = 0; p < kc; p++) out[p * nr + q] = column[p * b_row];
            }
        }
        out += kc * nr;
    }
}

static long padded_rows(long m) { return (m + MR - 1) / MR * MR; }

long danet_gemm_packed_size(long m, long k) { return padded_rows(m) * k; }

// Depth block pc holds the panels of every row: panel P of block pc starts at
// pc * padded_rows(m) + P * kc * MR, so any MR-aligned row range is a contiguous run of panels.
void danet_gemm_pack_rows(long m, long k, long first_row, long rows, const float *a, long a_row, long a_col,
                          float *packed) {
    for (long pc = 0; pc < k; pc += DANET_GEMM_KC) {
        const long kc = k - pc < DANET_GEMM_KC ? k - pc : DANET_GEMM_KC;
        pack_a(rows, kc, a + first_row * a_row + pc * a_col, a_row, a_col, packed + pc * padded_rows(m) + first_row * kc);
    }
}

void danet_gemm_pack(long m, long k, const float *a, long a_row, long a_col, float *packed) {
    danet_gemm_pack_rows(m, k, 0, m, a, a_row, a_col, packed);
}

// Without packing buffers (no memory for them), or with nothing to sum: computed directly.
static void gemm_direct(long m, long n, long k, float alpha, const float *packed, long m_total, long first_row,
                        const float *a, long a_row, long a_col, const float *b, long b_row, long b_col,
                        float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            float sum = 0;
            for (long p = 0; p < k; p++) {
                const float x = packed ? packed[danet_gemm_packed_offset(m_total, k, first_row + i, p)] : a[i * a_row + p * a_col];
                sum += x * b[p * b_row + j * b_col];
            }
            store_scalar(sum, alpha, beta, c + i * ldc + j, epilogue, i, j);
        }
}

// The blocked loops for both entries: A comes packed (`packed` non-null) or is packed per block.
// A packed matrix keeps depth blocks of DANET_GEMM_KC; a kernel with a shallower kc walks each
// block in steps of its kc, reading the panels in place (a panel's rows are kc-contiguous runs).
static void gemm(const DanetKernels *kernels, long m, long n, long k, float alpha, const float *packed, long m_total,
                 long first_row, const float *a, long a_row, long a_col, const float *b, long b_row, long b_col,
                 float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    if (m <= 0 || n <= 0) return;
    const long nr = kernels->nr, kc_max = kernels->kc, mc_max = kernels->mc, nc_max = kernels->nc;
    if (k <= 0 || !ensure_buffers(mc_max * kc_max, kc_max * ((nc_max + nr - 1) / nr * nr))) {
        gemm_direct(m, n, k, alpha, packed, m_total, first_row, a, a_row, a_col, b, b_row, b_col, beta, c, ldc, epilogue);
        return;
    }
    float *pa = buffers.a, *pb = buffers.b;
    const long block = packed ? DANET_GEMM_KC : kc_max;
    for (long jc = 0; jc < n; jc += nc_max) {
        const long nc = n - jc < nc_max ? n - jc : nc_max;
        for (long pc = 0; pc < k; pc += block) {
            const long depth = k - pc < block ? k - pc : block;
            for (long q = 0; q < depth; q += kc_max) {
                const long kc = depth - q < kc_max ? depth - q : kc_max, p0 = pc + q;
                pack_b(kc, nc, nr, b + p0 * b_row + jc * b_col, b_row, b_col, pb);
                const float step_beta = p0 == 0 ? beta : 1;
                const int last = p0 + kc >= k;
                for (long ic = 0; ic < m; ic += mc_max) {
                    const long mc = m - ic < mc_max ? m - ic : mc_max;
                    const float *panels = pa;
                    long panel_stride = kc * MR;
                    if (packed) {
                        panels = packed + pc * padded_rows(m_total) + (first_row + ic) * depth + q * MR;
                        panel_stride = depth * MR;
                    } else {
                        pack_a(mc, kc, a + ic * a_row + p0 * a_col, a_row, a_col, pa);
                    }
                    for (long jr = 0; jr < nc; jr += nr) {
                        const long cols = nc - jr < nr ? nc - jr : nr;
                        for (long ir = 0; ir < mc; ir += MR) {
                            const long rows = mc - ir < MR ? mc - ir : MR;
                            DanetEpilogue tile;
                            kernels->micro_kernel(kc, panels + (ir / MR) * panel_stride, pb + jr * kc, alpha, step_beta,
                                                  c + (ic + ir) * ldc + jc + jr, ldc, rows, cols,
                                                  tile_epilogue(epilogue, last, ic + ir, jc + jr, &tile));
                        }
                    }
                }
            }
        }
    }
}

void danet_gemm(const DanetKernels *kernels, long m, long n, long k, float alpha,
                const float *a, long a_row, long a_col,
                const float *b, long b_row, long b_col,
                float beta, float *c, long ldc) {
    gemm(kernels, m, n, k, alpha, NULL, m, 0, a, a_row, a_col, b, b_row, b_col, beta, c, ldc, NULL);
}

void danet_gemm_packed(const DanetKernels *kernels, long m, long n, long k, float alpha,
                       const float *packed, long m_total, long first_row,
                       const float *b, long b_row, long b_col,
                       float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    gemm(kernels, m, n, k, alpha, packed, m_total, first_row, NULL, 0, 0, b, b_row, b_col, beta, c, ldc, epilogue);
}
