// Winograd F(2x2, 3x3) transforms, written as loops over contiguous rows so the compiler vectorises
// them; target_clones builds an AVX-512 and a baseline copy and picks one when the library loads.
// A tile row is handled at once: the four input rows of the sub-grid are gathered into padded
// scratch rows, combined row-wise (Bᵀ), then column-wise (B) with stride-2 reads.
#include "CVectorKernels.h"

#define CLONES __attribute__((target_clones("avx512f", "default")))

long danet_winograd_scratch(long tiles) { return 6 * (2 * tiles + 2); }

CLONES
void danet_winograd_input_row(const float *plane, long height, long width, long dilation,
                              long a, long b, long tile_row, long tiles,
                              float *v, long stride, float *scratch) {
    // Padded sub-grid columns -1 ..< 2 * tiles + 1, stored from index 0.
    const long span = 2 * tiles + 2;
    const long sub_width = (width - b + dilation - 1) / dilation;
    float *restrict rows[4] = {scratch, scratch + span, scratch + 2 * span, scratch + 3 * span};
    for (int i = 0; i < 4; i++) {
        float *restrict row = rows[i];
        const long y = a + (2 * tile_row - 1 + i) * dilation;
        if (y < 0 || y >= height) {
            for (long s = 0; s < span; s++) row[s] = 0;
            continue;
        }
        const float *restrict source = plane + y * width + b;
        const long valid = sub_width < span - 1 ? sub_width : span - 1;
        // The column left of the first tile is padding unless the row is a later part of a tile row.
        row[0] = b >= dilation ? source[-dilation] : 0;
        if (dilation == 1) {
            for (long s = 0; s < valid; s++) row[s + 1] = source[s];
        } else {
            for (long s = 0; s < valid; s++) row[s + 1] = source[s * dilation];
        }
        for (long s = valid + 1; s < span; s++) row[s] = 0;
    }
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
    const long sub_width = (width - b + dilation - 1) / dilation;
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
        float *restrict target = out + row * width + b;
        const long count = sub_width < 2 * tiles ? sub_width : 2 * tiles;
        if (dilation == 1) {
            for (long s = 0; s < count; s++) target[s] = y[s];
        } else {
            for (long s = 0; s < count; s++) target[s * dilation] = y[s];
        }
    }
}
