// The Winograd row transforms and the row softmax, written as loops over contiguous rows so that
// the compiler vectorises them for whichever instruction set includes this file: each
// kernels_<isa>.c defines KERNEL(name) and the target, then includes it once. Where the compiler
// leaves a loop scalar (F(2x2)'s columns, read two apart, and its outputs, written two apart), a set
// may define WINOGRAD2_COLUMNS and WINOGRAD2_OUTPUTS: functions that do the leading tiles with
// vector permutations and return how many they did. A tile row is handled
// at once: its input rows of the sub-grid are gathered into padded scratch rows, combined row-wise
// (Bᵀ), then column-wise (B).
//
// The softmax's exp is a polynomial, not glibc's expf (a scalar call per element): position
// attention takes N x N exponentials (16.7 million at 512 x 512), and this runs them a vector at a
// time. Lanes are explicit so the reductions vectorise without reassociating anything.

#include <stdint.h>
#include <string.h>

#define SOFTMAX_LANES 16

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

static void KERNEL(winograd_input_row)(const float *plane, long height, long width, long dilation,
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
        long q = 0;
#ifdef WINOGRAD2_COLUMNS
        q = WINOGRAD2_COLUMNS(t, tiles, v0, v1, v2, v3);
#endif
        for (; q < tiles; q++) {
            const float c0 = t[2 * q], c1 = t[2 * q + 1], c2 = t[2 * q + 2], c3 = t[2 * q + 3];
            v0[q] = c0 - c2;
            v1[q] = c1 + c2;
            v2[q] = c2 - c1;
            v3[q] = c1 - c3;
        }
    }
}

static void KERNEL(winograd_output_row)(const float *m, long stride, long tiles, float bias, int relu,
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
        long t = 0;
#ifdef WINOGRAD2_OUTPUTS
        t = WINOGRAD2_OUTPUTS(q0, q1, q2, q3, tiles, bias, relu, y);
#endif
        for (; t < tiles; t++) {
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

static void KERNEL(winograd4_input_row)(const float *plane, long height, long width, long dilation,
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

static void KERNEL(winograd4_output_row)(const float *m, long stride, long tiles, float bias, int relu,
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

// exp(x) for x <= 0 (the row maximum is subtracted first): 2^n e^r with |r| <= ln 2 / 2, e^r from
// Cephes' expf polynomial (relative error about 1e-7), 2^n built in the exponent bits.
static inline float exp_nonpositive(float x) {
    x = x < -87.0f ? -87.0f : x;
    const float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static void KERNEL(softmax_row)(float *row, long n) {
    float lane[SOFTMAX_LANES];
    for (int l = 0; l < SOFTMAX_LANES; l++) lane[l] = -__builtin_inff();
    long i = 0;
    for (; i + SOFTMAX_LANES <= n; i += SOFTMAX_LANES)
        for (int l = 0; l < SOFTMAX_LANES; l++) lane[l] = row[i + l] > lane[l] ? row[i + l] : lane[l];
    float peak = -__builtin_inff();
    for (int l = 0; l < SOFTMAX_LANES; l++) peak = lane[l] > peak ? lane[l] : peak;
    for (; i < n; i++) peak = row[i] > peak ? row[i] : peak;

    for (int l = 0; l < SOFTMAX_LANES; l++) lane[l] = 0;
    for (i = 0; i + SOFTMAX_LANES <= n; i += SOFTMAX_LANES)
        for (int l = 0; l < SOFTMAX_LANES; l++) {
            const float e = exp_nonpositive(row[i + l] - peak);
            row[i + l] = e;
            lane[l] += e;
        }
    float sum = 0;
    for (int l = 0; l < SOFTMAX_LANES; l++) sum += lane[l];
    for (; i < n; i++) {
        row[i] = exp_nonpositive(row[i] - peak);
        sum += row[i];
    }
    const float scale = 1 / sum;
    for (i = 0; i < n; i++) row[i] *= scale;
}

// B's depths [0, kc) and columns [0, nc) as bf16 pair panels (see `pack_b_bf16` in the kernel
// table), rounded as danet_bf16_from_float rounds.
static void KERNEL(pack_b_bf16)(long kc, long nc, long nr, const float *b, long b_row, long b_col, uint16_t *out) {
    const long depth = (kc + 1) / 2 * 2;
    for (long j = 0; j < nc; j += nr) {
        const long cols = nc - j < nr ? nc - j : nr;
        for (long q = 0; q < depth; q += 2) {
            const float *restrict r0 = b + q * b_row + j * b_col;
            const float *restrict r1 = q + 1 < kc ? r0 + b_row : NULL;
            uint16_t *restrict o = out + q * nr;
            if (b_col == 1 && r1) {
                for (long s = 0; s < cols; s++) {
                    o[2 * s] = danet_bf16_from_float(r0[s]);
                    o[2 * s + 1] = danet_bf16_from_float(r1[s]);
                }
            } else {
                for (long s = 0; s < cols; s++) {
                    o[2 * s] = danet_bf16_from_float(r0[s * b_col]);
                    o[2 * s + 1] = r1 ? danet_bf16_from_float(r1[s * b_col]) : 0;
                }
            }
            for (long s = 2 * cols; s < 2 * nr; s++) o[s] = 0;
        }
        out += depth * nr;
    }
}

// Two rows of B (depths 2q and 2q + 1; row1 null: zeros), columns [0, count), into B prepacked for
// danet_gemm_bf16_prepacked at `b` (pair-row q of the first column panel); the last panel's columns
// past `count` become zero pairs.
static void KERNEL(pack_pairs_bf16)(const float *row0, const float *row1, long count, long nr, long depth, uint16_t *b) {
    for (long j = 0; j < count; j += nr) {
        const long cols = count - j < nr ? count - j : nr;
        const float *restrict r0 = row0 + j;
        uint16_t *restrict o = b + (j / nr) * depth * nr;
        if (row1) {
            const float *restrict r1 = row1 + j;
            for (long s = 0; s < cols; s++) {
                o[2 * s] = danet_bf16_from_float(r0[s]);
                o[2 * s + 1] = danet_bf16_from_float(r1[s]);
            }
        } else {
            for (long s = 0; s < cols; s++) {
                o[2 * s] = danet_bf16_from_float(r0[s]);
                o[2 * s + 1] = 0;
            }
        }
        for (long s = 2 * cols; s < 2 * nr; s++) o[s] = 0;
    }
}

// The kernel table of the instruction set that includes this file: its micro-kernel (a static
// `micro_kernel` defined before the include), the functions above, its cache blocking, and its
// bf16 product and packing (BF16_KERNEL may be NULL). One macro for every set, so no table can wire
// in another set's function.
#define KERNEL_TABLE(ISA, NAME, TILE_COLUMNS, KC, MC, NC, BF16_KERNEL, PACK_B_BF16, PACK_PAIRS_BF16) \
    {                                                                                          \
        .isa = (ISA), .name = (NAME), .nr = (TILE_COLUMNS), .kc = (KC), .mc = (MC), .nc = (NC), \
        .micro_kernel = micro_kernel,                                                          \
        .winograd_input_row = KERNEL(winograd_input_row),                                      \
        .winograd_output_row = KERNEL(winograd_output_row),                                    \
        .winograd4_input_row = KERNEL(winograd4_input_row),                                    \
        .winograd4_output_row = KERNEL(winograd4_output_row),                                  \
        .softmax_row = KERNEL(softmax_row),                                                    \
        .micro_kernel_bf16 = (BF16_KERNEL),                                                    \
        .pack_b_bf16 = (PACK_B_BF16),                                                          \
        .pack_pairs_bf16 = (PACK_PAIRS_BF16),                                                  \
    }
