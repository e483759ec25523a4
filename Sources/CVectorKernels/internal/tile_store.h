// The end of a micro-kernel for the tiles its vector store does not cover (the right and bottom
// edges of C): the register tile is spilled to `acc` and stored element by element, with the same
// steps in the same order as the vector store.
#include "CVectorKernels.h"

static inline void store_tile_scalar(const float *acc, long acc_ld, float alpha, float beta, float *c, long ldc,
                                     long mr, long nr, const DanetEpilogue *epilogue) {
    for (long i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        for (long j = 0; j < nr; j++) {
            float value = alpha * acc[i * acc_ld + j];
            if (beta != 0) value += beta * row[j];
            if (epilogue) {
                if (epilogue->bias) value += epilogue->bias[i];
                if (epilogue->residual) value += epilogue->residual[i * epilogue->residual_ld + j];
                if (epilogue->relu && !(value > 0)) value = 0;
            }
            row[j] = value;
        }
    }
}
