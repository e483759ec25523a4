// Every vector kernel this CPU runs against the portable C one, and the portable GEMM against a
// double-precision product: odd shapes, edges of every tile, depths past one packed block, both
// transposes, alpha and beta, epilogues, dilated Winograd rows, softmax rows of every length mod 16.
// Built and run by tools/test_c_kernels.sh, natively and for ARM64 under qemu-user.
//
// Tolerances: GEMM max|diff| <= 1e-5 * k * max|a| * max|b| (entries in [-1, 1]); Winograd rows
// 1e-5 * max(1, max|reference|); softmax 1e-6. Prints the first mismatches and max|diff| on failure.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CVectorKernels.h"
#include "test_random.h"

static int passed, failed;

// Compares n values; prints max|diff| and the first mismatches when any exceeds the tolerance.
static void check(const char *label, const float *actual, const float *expected, long n, double tolerance) {
    double worst = 0;
    int shown = 0, bad = 0;
    char first[256] = "";
    for (long i = 0; i < n; i++) {
        // NaN marks an element no kernel may write: it must stay NaN in both.
        const int nan_actual = isnan(actual[i]) != 0, nan_expected = isnan(expected[i]) != 0;
        const double diff = nan_actual || nan_expected ? 0 : fabs((double)actual[i] - (double)expected[i]);
        const int mismatch = nan_actual != nan_expected || !(diff <= tolerance);
        if (nan_actual != nan_expected) worst = INFINITY;
        if (diff > worst) worst = diff;
        if (mismatch) {
            bad = 1;
            if (shown < 3) {
                const size_t used = strlen(first);
                snprintf(first + used, sizeof first - used, " [%ld] %g vs %g", i, actual[i], expected[i]);
                shown++;
            }
        }
    }
    if (bad) {
        failed++;
        printf("FAIL %s: max|diff| %g > %g; first mismatches:%s\n", label, worst, tolerance, first);
    } else {
        passed++;
    }
}

typedef struct {
    long m, n, k;
    int trans_a, trans_b;
    float alpha, beta;
} Shape;

static const Shape shapes[] = {
    {1, 1, 1, 0, 0, 1, 0},      {7, 65, 3, 0, 0, 1, 0},      {6, 64, 512, 0, 0, 1, 0},    {6, 16, 256, 0, 0, 1, 0},
    {253, 300, 1100, 0, 0, 1, 0}, {19, 2100, 37, 0, 0, 0.5f, 1}, {130, 17, 520, 1, 0, 1, 0}, {64, 129, 96, 0, 1, 1, -2},
    {33, 70, 600, 1, 1, 2, 0.5f}, {300, 5, 8, 0, 0, 1, 0},      {5, 4100, 9, 0, 0, 1, 0},    {13, 31, 257, 0, 0, 1, 0},
};

// C = alpha op(A) op(B) + beta C in double, for the entries of an m x n block with leading dimension ldc.
static void reference_gemm(const Shape *s, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    for (long i = 0; i < s->m; i++)
        for (long j = 0; j < s->n; j++) {
            double sum = 0;
            for (long p = 0; p < s->k; p++) {
                const double x = s->trans_a ? a[p * lda + i] : a[i * lda + p];
                const double y = s->trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += x * y;
            }
            c[i * ldc + j] = (float)(s->alpha * sum + (s->beta == 0 ? 0 : s->beta * (double)c[i * ldc + j]));
        }
}

static void test_gemm(const DanetKernels *kernels, const DanetKernels *generic) {
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const Shape *s = &shapes[t];
        const long a_rows = s->trans_a ? s->k : s->m, a_cols = s->trans_a ? s->m : s->k;
        const long b_rows = s->trans_b ? s->n : s->k, b_cols = s->trans_b ? s->k : s->n;
        const long lda = a_cols + 3, ldb = b_cols + 5, ldc = s->n + 2;
        float *a = random_floats(a_rows * lda), *b = random_floats(b_rows * ldb), *c0 = random_floats(s->m * ldc);
        float *expected = malloc(sizeof(float) * (size_t)(s->m * ldc)), *actual = malloc(sizeof(float) * (size_t)(s->m * ldc));
        memcpy(expected, c0, sizeof(float) * (size_t)(s->m * ldc));
        const long a_row = s->trans_a ? 1 : lda, a_col = s->trans_a ? lda : 1;
        const long b_row = s->trans_b ? 1 : ldb, b_col = s->trans_b ? ldb : 1;
        char label[160];
        if (kernels == generic) {
            reference_gemm(s, a, lda, b, ldb, expected, ldc);
        } else {
            danet_gemm(generic, s->m, s->n, s->k, s->alpha, a, a_row, a_col, b, b_row, b_col, s->beta, expected, ldc);
        }
        const double tolerance = 1e-5 * (double)(s->k > 0 ? s->k : 1) * (fabs(s->alpha) + fabs(s->beta));
        memcpy(actual, c0, sizeof(float) * (size_t)(s->m * ldc));
        danet_gemm(kernels, s->m, s->n, s->k, s->alpha, a, a_row, a_col, b, b_row, b_col, s->beta, actual, ldc);
        snprintf(label, sizeof label, "%s gemm %ldx%ldx%ld tA %d tB %d", kernels->name, s->m, s->n, s->k, s->trans_a, s->trans_b);
        check(label, actual, expected, s->m * ldc, tolerance);  // the slack columns too: they must be untouched

        // The packed entry, on every MR-aligned part of the rows, against the unpacked one.
        if (!s->trans_a) {
            float *packed = malloc(sizeof(float) * (size_t)danet_gemm_packed_size(s->m, s->k));
            danet_gemm_pack(s->m, s->k, a, lda, 1, packed);
            memcpy(actual, c0, sizeof(float) * (size_t)(s->m * ldc));
            const long part = (s->m / 2 + DANET_GEMM_MR - 1) / DANET_GEMM_MR * DANET_GEMM_MR;
            for (long first = 0; first < s->m; first += part > 0 ? part : s->m) {
                const long rows = s->m - first < part || part == 0 ? s->m - first : part;
                danet_gemm_packed(kernels, rows, s->n, s->k, s->alpha, packed, s->m, first, b, b_row, b_col, s->beta,
                                  actual + first * ldc, ldc, NULL);
            }
            snprintf(label, sizeof label, "%s packed gemm %ldx%ldx%ld tB %d", kernels->name, s->m, s->n, s->k, s->trans_b);
            check(label, actual, expected, s->m * ldc, tolerance);
            free(packed);
        }
        free(a), free(b), free(c0), free(expected), free(actual);
    }
}

// Bias, a residual and ReLU, applied as the packed product stores, against the same steps done after.
static void test_epilogue(const DanetKernels *kernels) {
    const long m = 23, n = 77, k = 600, ld = n + 3;
    float *a = random_floats(m * k), *b = random_floats(k * n), *bias = random_floats(m), *residual = random_floats(m * ld);
    float *packed = malloc(sizeof(float) * (size_t)danet_gemm_packed_size(m, k));
    float *expected = calloc((size_t)(m * ld), sizeof(float)), *actual = calloc((size_t)(m * ld), sizeof(float));
    danet_gemm_pack(m, k, a, k, 1, packed);
    danet_gemm(kernels, m, n, k, 1, a, k, 1, b, n, 1, 0, expected, ld);
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            const float value = expected[i * ld + j] + bias[i] + residual[i * ld + j];
            expected[i * ld + j] = value > 0 ? value : 0;
        }
    const DanetEpilogue epilogue = {bias, residual, ld, 1};
    danet_gemm_packed(kernels, m, n, k, 1, packed, m, 0, b, n, 1, 0, actual, ld, &epilogue);
    char label[64];
    snprintf(label, sizeof label, "%s packed gemm with epilogue", kernels->name);
    check(label, actual, expected, m * ld, 1e-5 * k);
    free(a), free(b), free(bias), free(residual), free(packed), free(expected), free(actual);
}

// Every row transform of both tile sizes, on planes with odd sizes, dilations 1 to 3, every
// sub-grid start, rows that start part-way, and rows of more than 16 tiles (the vector paths).
static void test_winograd(const DanetKernels *kernels, const DanetKernels *generic) {
    const long sizes[][2] = {{7, 9}, {13, 5}, {16, 16}, {3, 2}, {5, 71}, {3, 140}};
    for (int tile = 2; tile <= 4; tile += 2) {
        const int positions = (tile + 2) * (tile + 2);
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            const long height = sizes[z][0], width = sizes[z][1];
            float *plane = random_floats(height * width);
            for (long d = 1; d <= 3; d++)
                for (long a = 0; a < d && a < height; a++)
                    for (long b0 = 0; b0 < d && b0 < width; b0++) {
                        const long rows = ((height - a + d - 1) / d + tile - 1) / tile;
                        const long columns = ((width - b0 + d - 1) / d + tile - 1) / tile;
                        for (long row = 0; row < rows; row++)
                            for (long first = 0; first < columns; first += 2) {
                                const long tiles = columns - first, b = b0 + tile * first * d, stride = tiles + 1;
                                float *scratch = malloc(sizeof(float) * (size_t)danet_winograd_scratch(tiles));
                                float *expected = calloc((size_t)(positions * stride), sizeof(float));
                                float *actual = calloc((size_t)(positions * stride), sizeof(float));
                                (tile == 2 ? generic->winograd_input_row : generic->winograd4_input_row)(
                                    plane, height, width, d, a, b, row, tiles, expected, stride, scratch);
                                (tile == 2 ? kernels->winograd_input_row : kernels->winograd4_input_row)(
                                    plane, height, width, d, a, b, row, tiles, actual, stride, scratch);
                                char label[160];
                                snprintf(label, sizeof label, "%s winograd%d input %ldx%ld d %ld a %ld b %ld row %ld", kernels->name,
                                         tile, height, width, d, a, b, row);
                                check(label, actual, expected, positions * stride, 1e-5 * 16);

                                // The output transform of those values, with bias and ReLU, into NaN planes.
                                float *out_expected = malloc(sizeof(float) * (size_t)(height * width));
                                float *out_actual = malloc(sizeof(float) * (size_t)(height * width));
                                for (long i = 0; i < height * width; i++) out_expected[i] = out_actual[i] = NAN;
                                (tile == 2 ? generic->winograd_output_row : generic->winograd4_output_row)(
                                    expected, stride, tiles, 0.25f, 1, out_expected, height, width, d, a, b, row, scratch);
                                (tile == 2 ? kernels->winograd_output_row : kernels->winograd4_output_row)(
                                    expected, stride, tiles, 0.25f, 1, out_actual, height, width, d, a, b, row, scratch);
                                snprintf(label, sizeof label, "%s winograd%d output %ldx%ld d %ld a %ld b %ld row %ld", kernels->name,
                                         tile, height, width, d, a, b, row);
                                check(label, out_actual, out_expected, height * width, 1e-5 * 64);
                                free(scratch), free(expected), free(actual), free(out_expected), free(out_actual);
                            }
                    }
            free(plane);
        }
    }
}

static void test_softmax(const DanetKernels *kernels, const DanetKernels *generic) {
    for (long n = 1; n <= 70; n += 3) {
        float *expected = random_floats(n), *actual = malloc(sizeof(float) * (size_t)n);
        for (long i = 0; i < n; i++) expected[i] *= 40;  // exponents far below the maximum too
        memcpy(actual, expected, sizeof(float) * (size_t)n);
        if (kernels == generic) {
            // Against expf in double sums.
            double peak = -INFINITY, sum = 0;
            for (long i = 0; i < n; i++) peak = expected[i] > peak ? expected[i] : peak;
            for (long i = 0; i < n; i++) sum += exp((double)expected[i] - peak);
            for (long i = 0; i < n; i++) expected[i] = (float)(exp((double)expected[i] - peak) / sum);
        } else {
            generic->softmax_row(expected, n);
        }
        kernels->softmax_row(actual, n);
        char label[64];
        snprintf(label, sizeof label, "%s softmax of %ld", kernels->name, n);
        check(label, actual, expected, n, 1e-6);
        free(expected), free(actual);
    }
}

int main(void) {
    const DanetKernels *generic = danet_kernels(DANET_ISA_GENERIC);
    for (int isa = 0; isa < DANET_ISA_COUNT; isa++) {
        const DanetKernels *kernels = danet_kernels((DanetISA)isa);
        if (!kernels) {
            printf("%s: not run by this CPU\n", danet_isa_name((DanetISA)isa));
            continue;
        }
        const int before = passed + failed;
        test_gemm(kernels, generic);
        test_epilogue(kernels);
        test_winograd(kernels, generic);
        test_softmax(kernels, generic);
        printf("%s: %d checks\n", kernels->name, passed + failed - before);
    }
    const DanetKernels *selected = danet_kernels_selected(NULL);
    printf("selected: %s\n", selected->name);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
