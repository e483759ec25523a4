#ifndef CGEMMKERNEL_H
#define CGEMMKERNEL_H

#include <stddef.h>

/// 1 when this CPU runs the AVX-512 kernel (checked once, at run time).
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

/// Rows and columns of one register tile: callers split work on multiples of these.
enum { DANET_GEMM_MR = 6, DANET_GEMM_NR = 64 };

#endif
