// The bf16 GEMM: weights packed once in bf16 pairs along k, activations rounded to bf16 as they are
// packed, every product summed in f32 by the instruction set's bf16 micro-kernel. The blocking is
// gemm.c's with the depth block fixed at DANET_GEMM_KC: a bf16 panel of B is half the bytes of an
// f32 one, so a whole block fits where the f32 kernels need a shallower kc.
#include "CVectorKernels.h"

#include <stdlib.h>

#include "internal/tile_store.h"

#define MR DANET_GEMM_MR
#define KC DANET_GEMM_KC

static long padded_rows(long m) { return (m + MR - 1) / MR * MR; }
static long even(long k) { return (k + 1) / 2 * 2; }

long danet_gemm_bf16_packed_size(long m, long k) { return padded_rows(m) * even(k); }

int danet_bf16_native(const DanetKernels *kernels) {
    return kernels && (kernels->isa == DANET_ISA_AVX512_BF16 || kernels->isa == DANET_ISA_NEON_BF16);
}

void danet_gemm_bf16_pack_rows(long m, long k, long first_row, long rows, const float *a, long a_row, long a_col,
                               uint16_t *packed) {
    for (long pc = 0; pc < k; pc += KC) {
        const long kc = k - pc < KC ? k - pc : KC, depth = even(kc);
        uint16_t *block = packed + pc * padded_rows(m);
        for (long i = first_row; i < first_row + rows; i += MR) {
            uint16_t *panel = block + (i / MR) * depth * MR;
            for (long r = 0; r < MR; r++) {
                const float *row = a + (i + r) * a_row + pc * a_col;
                const int inside = i + r < first_row + rows && i + r < m;
                for (long p = 0; p < depth; p++)
                    panel[((p / 2) * MR + r) * 2 + p % 2] = inside && p < kc ? danet_bf16_from_float(row[p * a_col]) : 0;
            }
        }
    }
}

void danet_gemm_bf16_from_panels(long m, long k, const float *panels, uint16_t *packed) {
    for (long i = 0; i < padded_rows(m); i++)
        for (long p = 0; p < even(k); p++) {
            const float x = i < m && p < k ? panels[danet_gemm_packed_offset(m, k, i, p)] : 0;
            packed[danet_gemm_bf16_packed_offset(m, k, i, p)] = danet_bf16_from_float(x);
        }
}

void danet_gemm_bf16_to_panels(long m, long k, const uint16_t *packed, float *panels) {
    for (long i = 0; i < padded_rows(m); i++)
        for (long p = 0; p < k; p++)
            panels[danet_gemm_packed_offset(m, k, i, p)] = danet_float_from_bf16(packed[danet_gemm_bf16_packed_offset(m, k, i, p)]);
}

typedef struct {
    uint16_t *b;
    long count;
} Buffer;

static _Thread_local Buffer buffer;

static int ensure_buffer(long count) {
    if (buffer.count >= count) return 1;
    free(buffer.b);
    // Rounded up to whole cache lines, as aligned_alloc requires a multiple of the alignment.
    buffer.b = aligned_alloc(64, (size_t)((count + 31) / 32 * 32) * sizeof(uint16_t));
    buffer.count = buffer.b ? count : 0;
    return buffer.b != NULL;
}

// Without a packing buffer (no memory for it): every product in scalar code, rounded the same way.
static void gemm_direct(long m, long n, long k, float alpha, const uint16_t *packed, long m_total, long first_row,
                        const float *b, long b_row, long b_col, float beta, float *c, long ldc,
                        const DanetEpilogue *epilogue) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            float sum = 0;
            for (long p = 0; p < k; p++)
                sum += danet_float_from_bf16(packed[danet_gemm_bf16_packed_offset(m_total, k, first_row + i, p)])
                       * danet_float_from_bf16(danet_bf16_from_float(b[p * b_row + j * b_col]));
            store_scalar(sum, alpha, beta, c + i * ldc + j, epilogue, i, j);
        }
}

// The blocked loops for both entries: B is rounded and packed per block into this thread's buffer,
// or comes prepacked (`prepacked` non-null), its panels read in place.
static void gemm(const DanetKernels *kernels, long m, long n, long k, float alpha, const uint16_t *packed, long m_total,
                 long first_row, const float *b, long b_row, long b_col, const uint16_t *prepacked, float beta, float *c,
                 long ldc, const DanetEpilogue *epilogue) {
    if (m <= 0 || n <= 0) return;
    const long nr = kernels->nr, mc_max = kernels->mc, nc_max = kernels->nc;
    if (!prepacked && (k <= 0 || !ensure_buffer(KC * ((nc_max + nr - 1) / nr * nr)))) {
        gemm_direct(m, n, k, alpha, packed, m_total, first_row, b, b_row, b_col, beta, c, ldc, epilogue);
        return;
    }
    if (k <= 0) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) store_scalar(0, alpha, beta, c + i * ldc + j, epilogue, i, j);
        return;
    }
    uint16_t *pb = buffer.b;
    for (long jc = 0; jc < n; jc += nc_max) {
        const long nc = n - jc < nc_max ? n - jc : nc_max;
        for (long pc = 0; pc < k; pc += KC) {
            const long kc = k - pc < KC ? k - pc : KC, depth = even(kc);
            if (!prepacked) kernels->pack_b_bf16(kc, nc, nr, b + pc * b_row + jc * b_col, b_row, b_col, pb);
            const float step_beta = pc == 0 ? beta : 1;
            const int last = pc + kc >= k;
            for (long ic = 0; ic < m; ic += mc_max) {
                const long mc = m - ic < mc_max ? m - ic : mc_max;
                const uint16_t *panels = packed + pc * padded_rows(m_total) + (first_row + ic) * depth;
                for (long jr = 0; jr < nc; jr += nr) {
                    const long cols = nc - jr < nr ? nc - jr : nr;
                    const uint16_t *panel = prepacked ? prepacked + (jc + jr) / nr * even(k) * nr + pc * nr : pb + jr * depth;
                    for (long ir = 0; ir < mc; ir += MR) {
                        const long rows = mc - ir < MR ? mc - ir : MR;
                        DanetEpilogue tile;
                        kernels->micro_kernel_bf16(depth, panels + (ir / MR) * depth * MR, panel, alpha, step_beta,
                                                   c + (ic + ir) * ldc + jc + jr, ldc, rows, cols,
                                                   tile_epilogue(epilogue, last, ic + ir, jc + jr, &tile));
                    }
                }
            }
        }
    }
}

void danet_gemm_bf16_packed(const DanetKernels *kernels, long m, long n, long k, float alpha,
                            const uint16_t *packed, long m_total, long first_row,
                            const float *b, long b_row, long b_col,
                            float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    gemm(kernels, m, n, k, alpha, packed, m_total, first_row, b, b_row, b_col, NULL, beta, c, ldc, epilogue);
}

long danet_gemm_bf16_prepacked_size(const DanetKernels *kernels, long k, long n) {
    return even(k) * ((n + kernels->nr - 1) / kernels->nr * kernels->nr);
}

void danet_gemm_bf16_prepacked(const DanetKernels *kernels, long m, long n, long k, float alpha,
                               const uint16_t *packed, long m_total, long first_row, const uint16_t *b,
                               float beta, float *c, long ldc, const DanetEpilogue *epilogue) {
    gemm(kernels, m, n, k, alpha, packed, m_total, first_row, NULL, 0, 0, b, beta, c, ldc, epilogue);
}

void danet_gemm_bf16_prepack_rows(long nr, long k, const float *s, long lds, long n, long first, long count, uint16_t *b) {
    const long depth = even(k);
    for (long j = first; j < first + count; j++) {
        const float *row = s + j * lds;
        uint16_t *column = b + j / nr * depth * nr + 2 * (j % nr);
        for (long p = 0; p + 1 < k; p += 2) {
            column[p * nr] = danet_bf16_from_float(row[p]);
            column[p * nr + 1] = danet_bf16_from_float(row[p + 1]);
        }
        if (k % 2) {
            column[(k - 1) * nr] = danet_bf16_from_float(row[k - 1]);
            column[(k - 1) * nr + 1] = 0;
        }
    }
    if (first + count == n)
        for (long j = n; j % nr != 0; j++) {
            uint16_t *column = b + j / nr * depth * nr + 2 * (j % nr);
            for (long p = 0; p < depth; p += 2) column[p * nr] = column[p * nr + 1] = 0;
        }
}
