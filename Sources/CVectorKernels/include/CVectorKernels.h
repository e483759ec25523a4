#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H

#include <stddef.h>

/// 1 when this CPU can run the AVX-512 kernel (asked of the CPU at run time).
int danet_gemm_avx512_available(void);

/// C = alpha * A B + beta * C on one thread, with AVX-512.
///
/// A is m x k with element (i, p) at a[i * a_row + p * a_col]; B is k x n with element (p, j) at
/// b[p * b_row + j * b_col]; C is m x n, row-major with leading dimension ldc. Strides express the
/// transposes, so the packing absorbs them. Packing buffers are per thread and kept for reuse.
void danet_gemm_avx512(long m, long n, long k, float alpha,
                       const float *a, long a_row, long a_col,
                       const float *b, long b_row, long b_col,
                       float beta, float *c, long ldc);

/// Floats `danet_gemm_pack` writes for an m x k matrix.
long danet_gemm_packed_size(long m, long k);

/// Packs A (m x k, strides as in `danet_gemm_avx512`) once, in the panel order the kernel reads:
/// for weights that multiply many inputs, so no product packs them again.
void danet_gemm_pack(long m, long k, const float *a, long a_row, long a_col, float *packed);

/// What the packed product does to its final sums before storing them, in this order: add
/// bias[i] to row i, add residual[i * residual_ld + j], clamp at 0. Null pointers skip a step.
typedef struct {
    const float *bias;
    const float *residual;
    long residual_ld;
    int relu;
} DanetEpilogue;

/// `danet_gemm_avx512` with A from `danet_gemm_pack` (of an m_total x k matrix): rows
/// [first_row, first_row + m) of it, where first_row is a multiple of DANET_GEMM_MR. `epilogue`
/// (or null) is relative to this part: its bias and residual start at the part's first row and column.
void danet_gemm_avx512_packed(long m, long n, long k, float alpha,
                              const float *packed, long m_total, long first_row,
                              const float *b, long b_row, long b_col,
                              float beta, float *c, long ldc, const DanetEpilogue *epilogue);

/// Rows and columns of one register tile (callers split work on multiples of these), and the
/// depth of one packed block.
enum { DANET_GEMM_MR = 6, DANET_GEMM_NR = 64, DANET_GEMM_KC = 512 };

/// Where `danet_gemm_pack` puts element (row, col) of an m x k matrix.
static inline long danet_gemm_packed_offset(long m, long k, long row, long col) {
    const long pc = col / DANET_GEMM_KC * DANET_GEMM_KC, kc = k - pc < DANET_GEMM_KC ? k - pc : DANET_GEMM_KC;
    const long padded = (m + DANET_GEMM_MR - 1) / DANET_GEMM_MR * DANET_GEMM_MR;
    return pc * padded + (row / DANET_GEMM_MR) * kc * DANET_GEMM_MR + (col - pc) * DANET_GEMM_MR + row % DANET_GEMM_MR;
}

/// Floats of scratch the Winograd row transforms (either tile size) need for a row of `tiles` tiles.
long danet_winograd_scratch(long tiles);

/// Winograd F(2x2, 3x3) input transform, V = Bᵀ d B, of one row of tiles of one channel.
///
/// The tiles lie on the sub-grid of rows a, a + dilation, ... and columns b, b + dilation, ...
/// (a dilated 3x3 convolution is an ordinary one there), tile row `tile_row`, padding 1 on the
/// sub-grid; a row may start part-way, at b = b0 + 2 * first * dilation. Value ξ (0..<16) of
/// tile t goes to v[ξ * stride + t]. Vectorised for the CPU it runs on.
void danet_winograd_input_row(const float *plane, long height, long width, long dilation,
                              long a, long b, long tile_row, long tiles,
                              float *v, long stride, float *scratch);

/// Winograd F(2x2, 3x3) output transform, Y = Aᵀ M A, of one row of tiles of one output channel:
/// reads m[ξ * stride + t], adds `bias`, applies ReLU when `relu` is non-zero, and writes the 2x2
/// outputs of each tile into `out` (height x width) at the sub-grid positions of `danet_winograd_input_row`.
void danet_winograd_output_row(const float *m, long stride, long tiles, float bias, int relu,
                               float *out, long height, long width, long dilation,
                               long a, long b, long tile_row, float *scratch);

/// F(4x4, 3x3): as `danet_winograd_input_row` with 6 x 6 input tiles every 4 sub-grid rows and
/// columns, 36 values per tile (ξ = 6 i + j).
void danet_winograd4_input_row(const float *plane, long height, long width, long dilation,
                               long a, long b, long tile_row, long tiles,
                               float *v, long stride, float *scratch);

/// F(4x4, 3x3): as `danet_winograd_output_row`, writing 4 x 4 outputs per tile.
void danet_winograd4_output_row(const float *m, long stride, long tiles, float bias, int relu,
                                float *out, long height, long width, long dilation,
                                long a, long b, long tile_row, float *scratch);

/// U = G w Gᵀ for output channels [out_first, out_first + out_count) and every input channel of
/// 3x3 filters `weight` (out_channels, in_channels, 3, 3): value ξ of every (output, input) pair
/// goes to the (out_channels x in_channels) matrix u[ξ], row-major, or laid out as
/// `danet_gemm_pack` would when `packed` is non-zero (padding rows untouched). `tile` is 2 or 4.
void danet_winograd_filters(int tile, const float *weight, long in_channels, long out_channels,
                            long out_first, long out_count, float *const *u, int packed);

/// Softmax of one row in place, the row maximum subtracted first as PyTorch does.
void danet_softmax_row(float *row, long n);

#endif
