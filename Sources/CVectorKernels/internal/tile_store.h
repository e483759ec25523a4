// The end of a micro-kernel for the tiles its vector store does not cover (the right and bottom
// edges of C): the register tile is spilled to `acc` and stored element by element, with the same
// steps in the same order as the vector store. And the epilogue of one tile, for both GEMM drivers.
#include "CVectorKernels.h"

// One element (i, j) of C from its sum: C = alpha * sum + beta * C (C not read when beta is 0), then
// the epilogue, in the vector stores' order.
static inline void store_scalar(float sum, float alpha, float beta, float *c, const DanetEpilogue *epilogue, long i,
                                long j) {
    float value = alpha * sum;
    if (beta != 0) value += beta * *c;
    if (epilogue) {
        if (epilogue->bias) value += epilogue->bias[i];
        if (epilogue->residual) value += epilogue->residual[i * epilogue->residual_ld + j];
        if (epilogue->relu && !(value > 0)) value = 0;
    }
    *c = value;
}

static inline void store_tile_scalar(const float *acc, long acc_ld, float alpha, float beta, float *c, long ldc,
                                     long mr, long nr, const DanetEpilogue *epilogue) {
    for (long i = 0; i < mr; i++)
        for (long j = 0; j < nr; j++) store_scalar(acc[i * acc_ld + j], alpha, beta, c + i * ldc + j, epilogue, i, j);
}

// The epilogue of the tile at (row, column) of a block, relative to that tile, or null: it runs
// once, on the final sums (`last` depth block), so earlier blocks get none.
static inline const DanetEpilogue *tile_epilogue(const DanetEpilogue *epilogue, int last, long row, long column,
                                                 DanetEpilogue *tile) {
    if (!epilogue || !last) return 0;
    *tile = *epilogue;
    if (tile->bias) tile->bias += row;
    if (tile->residual) tile->residual += row * tile->residual_ld + column;
    return tile;
}
