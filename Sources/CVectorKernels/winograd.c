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
    enum { LANES = 8 };
    const int size = tile + 2;
    const double (*g)[3] = tile == 4 ? filter_transform4 : filter_transform2;
    const long step = packed ? DANET_GEMM_MR : 1;
    // U = (G w) Gᵀ in two small products, in double (the transform adds no rounding of its own
    // beyond the final float32), for LANES input channels at a time so that the compiler keeps
    // each lane in a vector.
    for (long k = out_first; k < out_first + out_count; k++) {
        const float *restrict w = weight + k * in_channels * 9;
        for (long block = 0; block < in_channels; block += DANET_GEMM_KC) {
            const long end = block + DANET_GEMM_KC < in_channels ? block + DANET_GEMM_KC : in_channels;
            // Along a row, the packed layout steps by MR within each depth block.
            const long start = packed ? danet_gemm_packed_offset(out_channels, in_channels, k, block) : k * in_channels + block;
            for (long c0 = block; c0 < end; c0 += LANES) {
                const long lanes = end - c0 < LANES ? end - c0 : LANES;
                double taps[9][LANES], rows[6][3][LANES];
                for (int t = 0; t < 9; t++)
                    for (long l = 0; l < LANES; l++) taps[t][l] = l < lanes ? w[(c0 + l) * 9 + t] : 0;
                for (int i = 0; i < size; i++)
                    for (int q = 0; q < 3; q++)
                        for (long l = 0; l < LANES; l++)
                            rows[i][q][l] = g[i][0] * taps[q][l] + g[i][1] * taps[3 + q][l] + g[i][2] * taps[6 + q][l];
                for (int i = 0; i < size; i++)
                    for (int j = 0; j < size; j++) {
                        double value[LANES];
                        for (long l = 0; l < LANES; l++)
                            value[l] = rows[i][0][l] * g[j][0] + rows[i][1][l] * g[j][1] + rows[i][2][l] * g[j][2];
                        float *restrict target = u[i * size + j] + start + (c0 - block) * step;
                        for (long l = 0; l < lanes; l++) target[l * step] = (float)value[l];
                    }
            }
        }
    }
}
