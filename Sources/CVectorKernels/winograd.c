// Winograd F(2x2, 3x3) transforms, written as loops over contiguous rows so the compiler vectorises
// them; target_clones builds an AVX-512 and a baseline copy and picks one when the library loads.
// A tile row is handled at once: the four input rows of the sub-grid are gathered into padded
// scratch rows, combined row-wise (Bᵀ), then column-wise (B) with stride-2 reads.
#include "CVectorKernels.h"

#define CLONES __attribute__((target_clones("avx512f", "default")))

// The larger of what the two tile sizes need: F(4x4, 3x3) input rows, 7 * (4 * tiles + 2).
long danet_winograd_scratch(long tiles) { return 7 * (4 * tiles + 2); }

// Row y of the sub-grid from column b, as a padded row: the column left of b (padding unless b is
// part-way along a tile row), then span - 1 columns, zero past the image.
static inline void gather_row(const float *plane, long height, long width, long dilation, long y, long b,
                              long span, float *restrict row) {
    if (y < 0 || y >= height) {
        for (long s = 0; s < span; s++) row[s] = 0;
        return;
    }
    const long sub_width = (width - b + dilation - 1) / dilation;
    const float *restrict source = plane + y * width + b;
    const long valid = sub_width < span - 1 ? sub_width : span - 1;
    row[0] = b >= dilation ? source[-dilation] : 0;
    if (dilation == 1) {
        for (long s = 0; s < valid; s++) row[s + 1] = source[s];
    } else {
        for (long s = 0; s < valid; s++) row[s + 1] = source[s * dilation];
    }
    for (long s = valid + 1; s < span; s++) row[s] = 0;
}

// The inverse for outputs: `count` sub-grid values from column b of image row `row`, clipped to the image.
static inline void scatter_row(const float *restrict values, long count, float *out, long width, long dilation,
                               long row, long b) {
    const long sub_width = (width - b + dilation - 1) / dilation;
    float *restrict target = out + row * width + b;
    const long n = sub_width < count ? sub_width : count;
    if (dilation == 1) {
        for (long s = 0; s < n; s++) target[s] = values[s];
    } else {
        for (long s = 0; s < n; s++) target[s * dilation] = values[s];
    }
}

CLONES
void danet_winograd_input_row(const float *plane, long height, long width, long dilation,
                              long a, long b, long tile_row, long tiles,
                              float *v, long stride, float *scratch) {
    // Padded sub-grid columns -1 ..< 2 * tiles + 1, stored from index 0.
    const long span = 2 * tiles + 2;
    float *restrict rows[4] = {scratch, scratch + span, scratch + 2 * span, scratch + 3 * span};
    for (int i = 0; i < 4; i++)
        gather_row(plane, height, width, dilation, a + (2 * tile_row - 1 + i) * dilation, b, span, rows[i]);
    // Bᵀ along the rows, four combinations of the four rows...
    float *restrict r = scratch + 4 * span;
    float *restrict r2 = scratch + 5 * span;
    for (int k = 0; k < 4; k++) {
        const float *restrict x0 = rows[0], *restrict x1 = rows[1], *restrict x2 = rows[2], *restrict x3 = rows[3];
        float *restrict t = k % 2 == 0 ? r : r2;
        switch (k) {
        case 0: for (long s = 0; s < span; s++) t[s] = x0[s] - x2[s]; break;
        case 1: for (long s = 0; s < span; s++) t[s] = x1[s] + x2[s]; break;
        case 2: for (long s = 0; s < span; s++) t[s] = x2[s] - x1[s]; break;
        default: for (long s = 0; s < span; s++) t[s] = x1[s] - x3[s]; break;
        }
        // ...then B along the columns: tile t reads padded columns 2t ..< 2t + 4.
        float *restrict v0 = v + (4 * k) * stride, *restrict v1 = v0 + stride;
        float *restrict v2 = v1 + stride, *restrict v3 = v2 + stride;
        for (long q = 0; q < tiles; q++) {
            const float c0 = t[2 * q], c1 = t[2 * q + 1], c2 = t[2 * q + 2], c3 = t[2 * q + 3];
            v0[q] = c0 - c2;
            v1[q] = c1 + c2;
            v2[q] = c2 - c1;
            v3[q] = c1 - c3;
        }
    }
}

CLONES
void danet_winograd_output_row(const float *m, long stride, long tiles, float bias, int relu,
                               float *out, long height, long width, long dilation,
                               long a, long b, long tile_row, float *scratch) {
    float *restrict q = scratch;                 // Aᵀ M for one output row: 4 values per tile
    float *restrict y = scratch + 4 * tiles;     // the output row on the sub-grid: 2 per tile
    for (int i = 0; i < 2; i++) {
        const long row = a + (2 * tile_row + i) * dilation;
        if (row >= height) break;
        // Aᵀ: output row 0 sums M rows 0, 1, 2; row 1 is M rows 1 - 2 - 3.
        for (int j = 0; j < 4; j++) {
            const float *restrict s0 = m + j * stride, *restrict s1 = m + (4 + j) * stride;
            const float *restrict s2 = m + (8 + j) * stride, *restrict s3 = m + (12 + j) * stride;
            float *restrict qj = q + j * tiles;
            if (i == 0) {
                for (long t = 0; t < tiles; t++) qj[t] = s0[t] + s1[t] + s2[t];
            } else {
                for (long t = 0; t < tiles; t++) qj[t] = s1[t] - s2[t] - s3[t];
            }
        }
        // A on the right, bias and ReLU.
        const float *restrict q0 = q, *restrict q1 = q + tiles, *restrict q2 = q + 2 * tiles, *restrict q3 = q + 3 * tiles;
        for (long t = 0; t < tiles; t++) {
            float left = q0[t] + q1[t] + q2[t] + bias, right = q1[t] - q2[t] - q3[t] + bias;
            if (relu) {
                left = left > 0 ? left : 0;
                right = right > 0 ? right : 0;
            }
            y[2 * t] = left;
            y[2 * t + 1] = right;
        }
        scatter_row(y, 2 * tiles, out, width, dilation, row, b);
    }
}

// F(4x4, 3x3) on the points 0, 1, -1, 2, -2 and infinity (Lavin and Gray). Bᵀ applied to six
// values x0..x5 (rows of a tile, or columns of a row-transformed tile) gives six.
#define WINOGRAD4_BT(x0, x1, x2, x3, x4, x5, out0, out1, out2, out3, out4, out5) \
    do {                                                                       \
        out0 = 4 * (x0) - 5 * (x2) + (x4);                                     \
        out1 = -4 * ((x1) + (x2)) + (x3) + (x4);                               \
        out2 = 4 * ((x1) - (x2)) - (x3) + (x4);                                \
        out3 = 2 * ((x3) - (x1)) - (x2) + (x4);                                \
        out4 = 2 * ((x1) - (x3)) - (x2) + (x4);                                \
        out5 = 4 * (x1) - 5 * (x3) + (x5);                                     \
    } while (0)

CLONES
void danet_winograd4_input_row(const float *plane, long height, long width, long dilation,
                               long a, long b, long tile_row, long tiles,
                               float *v, long stride, float *scratch) {
    // Padded sub-grid columns -1 ..< 4 * tiles + 1, stored from index 0.
    const long span = 4 * tiles + 2;
    float *rows[6];
    for (int i = 0; i < 6; i++) {
        rows[i] = scratch + i * span;
        gather_row(plane, height, width, dilation, a + (4 * tile_row - 1 + i) * dilation, b, span, rows[i]);
    }
    float *restrict t = scratch + 6 * span;
    const float *restrict x0 = rows[0], *restrict x1 = rows[1], *restrict x2 = rows[2];
    const float *restrict x3 = rows[3], *restrict x4 = rows[4], *restrict x5 = rows[5];
    for (int k = 0; k < 6; k++) {
        // Row k of Bᵀ d, one padded column at a time...
        switch (k) {
        case 0: for (long s = 0; s < span; s++) t[s] = 4 * x0[s] - 5 * x2[s] + x4[s]; break;
        case 1: for (long s = 0; s < span; s++) t[s] = -4 * (x1[s] + x2[s]) + x3[s] + x4[s]; break;
        case 2: for (long s = 0; s < span; s++) t[s] = 4 * (x1[s] - x2[s]) - x3[s] + x4[s]; break;
        case 3: for (long s = 0; s < span; s++) t[s] = 2 * (x3[s] - x1[s]) - x2[s] + x4[s]; break;
        case 4: for (long s = 0; s < span; s++) t[s] = 2 * (x1[s] - x3[s]) - x2[s] + x4[s]; break;
        default: for (long s = 0; s < span; s++) t[s] = 4 * x1[s] - 5 * x3[s] + x5[s]; break;
        }
        // ...then B on the right: tile q reads padded columns 4q ..< 4q + 6.
        float *restrict v0 = v + (6 * k) * stride, *restrict v1 = v0 + stride, *restrict v2 = v1 + stride;
        float *restrict v3 = v2 + stride, *restrict v4 = v3 + stride, *restrict v5 = v4 + stride;
        for (long q = 0; q < tiles; q++) {
            const float *c = t + 4 * q;
            WINOGRAD4_BT(c[0], c[1], c[2], c[3], c[4], c[5], v0[q], v1[q], v2[q], v3[q], v4[q], v5[q]);
        }
    }
}

CLONES
void danet_winograd4_output_row(const float *m, long stride, long tiles, float bias, int relu,
                                float *out, long height, long width, long dilation,
                                long a, long b, long tile_row, float *scratch) {
    float *restrict q = scratch;                 // Aᵀ M for one output row: 6 values per tile
    float *restrict y = scratch + 6 * tiles;     // the output row on the sub-grid: 4 per tile
    for (int i = 0; i < 4; i++) {
        const long row = a + (4 * tile_row + i) * dilation;
        if (row >= height) break;
        // Row i of Aᵀ: (1 1 1 1 1 0), (0 1 -1 2 -2 0), (0 1 1 4 4 0), (0 1 -1 8 -8 1).
        for (int j = 0; j < 6; j++) {
            const float *restrict s0 = m + j * stride, *restrict s1 = m + (6 + j) * stride;
            const float *restrict s2 = m + (12 + j) * stride, *restrict s3 = m + (18 + j) * stride;
            const float *restrict s4 = m + (24 + j) * stride, *restrict s5 = m + (30 + j) * stride;
            float *restrict qj = q + j * tiles;
            switch (i) {
            case 0: for (long t = 0; t < tiles; t++) qj[t] = s0[t] + (s1[t] + s2[t]) + (s3[t] + s4[t]); break;
            case 1: for (long t = 0; t < tiles; t++) qj[t] = (s1[t] - s2[t]) + 2 * (s3[t] - s4[t]); break;
            case 2: for (long t = 0; t < tiles; t++) qj[t] = (s1[t] + s2[t]) + 4 * (s3[t] + s4[t]); break;
            default: for (long t = 0; t < tiles; t++) qj[t] = (s1[t] - s2[t]) + 8 * (s3[t] - s4[t]) + s5[t]; break;
            }
        }
        // A on the right, bias and ReLU.
        const float *restrict q0 = q, *restrict q1 = q + tiles, *restrict q2 = q + 2 * tiles;
        const float *restrict q3 = q + 3 * tiles, *restrict q4 = q + 4 * tiles, *restrict q5 = q + 5 * tiles;
        for (long t = 0; t < tiles; t++) {
            const float sum = q1[t] + q2[t], difference = q1[t] - q2[t];
            const float sum34 = q3[t] + q4[t], difference34 = q3[t] - q4[t];
            float o0 = q0[t] + sum + sum34 + bias;
            float o1 = difference + 2 * difference34 + bias;
            float o2 = sum + 4 * sum34 + bias;
            float o3 = difference + 8 * difference34 + q5[t] + bias;
            if (relu) {
                o0 = o0 > 0 ? o0 : 0;
                o1 = o1 > 0 ? o1 : 0;
                o2 = o2 > 0 ? o2 : 0;
                o3 = o3 > 0 ? o3 : 0;
            }
            y[4 * t] = o0;
            y[4 * t + 1] = o1;
            y[4 * t + 2] = o2;
            y[4 * t + 3] = o3;
        }
        scatter_row(y, 4 * tiles, out, width, dilation, row, b);
    }
}

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
