// The Winograd filter transform, U = G w Gᵀ, run once per 3x3 convolution when the weights load.
// The row transforms of the input and output are per instruction set (internal/row_kernels.h).
#include "CVectorKernels.h"

// The transform is in double; vector clones keep loading quick on x86-64, where the baseline is SSE2.
#if defined(__x86_64__) && defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define CLONES
#endif

// The larger of what the two tile sizes need: F(4x4, 3x3) input rows, 7 * (4 * tiles + 2).
long danet_winograd_scratch(long tiles) { return 7 * (4 * tiles + 2); }

// G for m = 2 and m = 4, (m + 2) x 3, row-major.
static const double filter_transform2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double filter_transform4[6][3] = {
    {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};

CLONES
void danet_winograd_filters(int tile, const float *weight, long in_channels, long out_channels,
                            long out_first, long out_count, float *const *u, int packed) {
    const int size = tile + 2, positions = size * size;
    const double (*g)[3] = tile == 4 ? filter_transform4 : filter_transform2;
    // U[i][j] = sum over taps (p, q) of G[i][p] G[j][q] w[p][q], summed in double: the transform
    // adds no rounding of its own beyond the final float32.
    double coefficient[36][9];
    for (int i = 0; i < size; i++)
        for (int j = 0; j < size; j++)
            for (int p = 0; p < 3; p++)
                for (int q = 0; q < 3; q++) coefficient[i * size + j][p * 3 + q] = g[i][p] * g[j][q];
    for (long k = out_first; k < out_first + out_count; k++) {
        // One output channel's filters (at most a few tens of KB) stay in cache for every position.
        const float *restrict w = weight + k * in_channels * 9;
        for (int xi = 0; xi < positions; xi++) {
            const double *restrict cf = coefficient[xi];
            // Along a row, the packed layout steps by MR within each depth block.
            for (long block = 0; block < in_channels; block += DANET_GEMM_KC) {
                const long end = block + DANET_GEMM_KC < in_channels ? block + DANET_GEMM_KC : in_channels;
                const long step = packed ? DANET_GEMM_MR : 1;
                float *restrict target = u[xi] + (packed ? danet_gemm_packed_offset(out_channels, in_channels, k, block)
                                                          : k * in_channels + block);
                for (long c = block; c < end; c++) {
                    double sum = 0;
                    for (int t = 0; t < 9; t++) sum += cf[t] * w[c * 9 + t];
                    target[(c - block) * step] = (float)sum;
                }
            }
        }
    }
}
