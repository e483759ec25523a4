// The bf16 path: rounding to bf16 at its edges (ties, overflow, NaN, denormals), the packed layout of
// weights, every instruction set's packing of activations against the portable one (bit for bit),
// B prepacked pair by pair and the product from it,
// and every bf16 micro-kernel this CPU runs against a double-precision product of the same bf16
// operands: odd shapes, every tile edge, depths past one packed block, odd depths, a transposed B,
// alpha, beta, row parts and epilogues. Built and run by tools/test_c_kernels.sh, natively and for
// ARM64 under qemu-aarch64 (-cpu max has BF16; -cpu cortex-a72 has none, and must not choose it).
//
// Tolerance of a product: max|diff| <= 2e-6 * k * (|alpha| + |beta|) (operands in [-1, 1]): the f32
// sums' rounding. Products of unrounded f32 operands miss it by an order of magnitude past k = 64.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CVectorKernels.h"
#include "test_random.h"

static int passed, failed;

static float bits_float(uint32_t bits) {
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static void report(int ok, const char *label, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL %s%s\n", label, detail);
    }
}

static void test_rounding(void) {
    static const struct {
        uint32_t in;
        uint16_t out;
        const char *what;
    } cases[] = {
        {0x3F800000u, 0x3F80, "1.0 exactly"},
        {0x3F808000u, 0x3F80, "a tie rounds to the even 1.0"},
        {0x3F818000u, 0x3F82, "a tie rounds up to even"},
        {0x3F808001u, 0x3F81, "just above a tie rounds up"},
        {0x3F807FFFu, 0x3F80, "just below a tie rounds down"},
        {0xBF808001u, 0xBF81, "negative values round by magnitude"},
        {0x7F7FFFFFu, 0x7F80, "FLT_MAX rounds to infinity"},
        {0x7F800000u, 0x7F80, "infinity stays"},
        {0xFF800000u, 0xFF80, "-infinity stays"},
        {0x7F800001u, 0x7FC0, "a signalling NaN becomes a quiet NaN"},
        {0xFFC12345u, 0xFFC1, "a quiet NaN keeps its sign and top payload"},
        {0x7FFFFFFFu, 0x7FFF, "the largest NaN does not wrap into the sign"},
        {0x00000000u, 0x0000, "zero"},
        {0x80000000u, 0x8000, "-zero"},
        {0x007FFFFFu, 0x0000, "the largest denormal becomes zero"},
        {0x80000001u, 0x8000, "a negative denormal becomes -zero"},
        {0x00800000u, 0x0080, "the smallest normal stays"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const uint16_t got = danet_bf16_from_float(bits_float(cases[i].in));
        char detail[96];
        snprintf(detail, sizeof detail, ": %#010x gave %#06x, expected %#06x", cases[i].in, got, cases[i].out);
        report(got == cases[i].out, cases[i].what, detail);
    }
    // Every bf16 value is its own rounding, and widening is exact.
    int exact = 1;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        const float x = danet_float_from_bf16((uint16_t)h);
        if ((h & 0x7F80u) == 0 || isnan(x)) continue;  // denormals flush, NaNs are quietened
        if (danet_bf16_from_float(x) != h) exact = 0;
    }
    report(exact, "every normal bf16 value rounds to itself", "");
}

// The weights' layout: pack_rows from a strided matrix, from the f32 panels, and back.
static void test_pack_layout(void) {
    const long shapes[][2] = {{1, 1}, {7, 3}, {6, 512}, {13, 1025}, {23, 600}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const long m = shapes[t][0], k = shapes[t][1], lda = k + 2;
        float *a = random_floats(m * lda), *panels = malloc(sizeof(float) * (size_t)danet_gemm_packed_size(m, k));
        const long size = danet_gemm_bf16_packed_size(m, k);
        uint16_t *packed = malloc(sizeof(uint16_t) * (size_t)size), *converted = malloc(sizeof(uint16_t) * (size_t)size);
        float *back = calloc((size_t)danet_gemm_packed_size(m, k), sizeof(float));
        memset(packed, 0xFF, sizeof(uint16_t) * (size_t)size);
        danet_gemm_bf16_pack_rows(m, k, 0, m, a, lda, 1, packed);
        danet_gemm_pack(m, k, a, lda, 1, panels);
        danet_gemm_bf16_from_panels(m, k, panels, converted);
        danet_gemm_bf16_to_panels(m, k, packed, back);
        int placed = 1, padding = 1, roundtrip = 1;
        for (long i = 0; i < (m + DANET_GEMM_MR - 1) / DANET_GEMM_MR * DANET_GEMM_MR; i++)
            for (long p = 0; p < (k + 1) / 2 * 2; p++) {
                const uint16_t value = packed[danet_gemm_bf16_packed_offset(m, k, i, p)];
                if (i < m && p < k) {
                    if (value != danet_bf16_from_float(a[i * lda + p])) placed = 0;
                    if (back[danet_gemm_packed_offset(m, k, i, p)] != danet_float_from_bf16(value)) roundtrip = 0;
                } else if (value != 0) {
                    padding = 0;
                }
            }
        char label[96];
        snprintf(label, sizeof label, "bf16 pack %ldx%ld", m, k);
        report(placed, label, ": an element is not where danet_gemm_bf16_packed_offset says");
        report(padding, label, ": padding is not zero");
        report(memcmp(packed, converted, sizeof(uint16_t) * (size_t)size) == 0, label, ": from the f32 panels differs");
        report(roundtrip, label, ": back to f32 panels differs");
        free(a), free(panels), free(packed), free(converted), free(back);
    }
}

// A kernel set's activation packing against the portable one, bit for bit, with edge values mixed in.
static void test_pack_b(const DanetKernels *kernels, const DanetKernels *generic) {
    const long cases[][3] = {{1, 1, 0}, {7, 70, 0}, {512, 64, 0}, {33, 129, 0}, {9, 20, 1}};
    static const uint32_t edges[] = {0x3F808000u, 0x7F7FFFFFu, 0x7F800001u, 0x007FFFFFu, 0x80000001u, 0xFF800000u};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        const long kc = cases[t][0], nc = cases[t][1], transposed = cases[t][2], nr = kernels->nr;
        const long ld = (transposed ? kc : nc) + 3;
        float *b = random_floats((transposed ? nc : kc) * ld);
        for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) b[(e * 7919) % (size_t)((transposed ? nc : kc) * ld)] = bits_float(edges[e]);
        const long size = (kc + 1) / 2 * 2 * ((nc + nr - 1) / nr * nr);
        uint16_t *expected = malloc(sizeof(uint16_t) * (size_t)size), *actual = malloc(sizeof(uint16_t) * (size_t)size);
        memset(expected, 0xAB, sizeof(uint16_t) * (size_t)size);
        memset(actual, 0xCD, sizeof(uint16_t) * (size_t)size);
        const long b_row = transposed ? 1 : ld, b_col = transposed ? ld : 1;
        generic->pack_b_bf16(kc, nc, nr, b, b_row, b_col, expected);
        kernels->pack_b_bf16(kc, nc, nr, b, b_row, b_col, actual);
        long first = -1;
        for (long i = 0; i < size && first < 0; i++)
            if (expected[i] != actual[i]) first = i;
        char label[96], detail[96] = "";
        snprintf(label, sizeof label, "%s bf16 pack of B %ldx%ld%s", kernels->name, kc, nc, transposed ? " transposed" : "");
        if (first >= 0) snprintf(detail, sizeof detail, ": [%ld] %#06x vs %#06x", first, actual[first], expected[first]);
        report(first < 0, label, detail);
        free(b), free(expected), free(actual);
    }
}

typedef struct {
    long m, n, k;
    int trans_b, epilogue;
    float alpha, beta;
} Shape;

static const Shape shapes[] = {
    {1, 1, 1, 0, 0, 1, 0},        {7, 65, 3, 0, 0, 1, 0},       {6, 64, 512, 0, 0, 1, 0},   {6, 16, 256, 0, 1, 1, 0},
    {253, 300, 1100, 0, 0, 1, 0}, {19, 2100, 37, 0, 0, 0.5f, 1}, {64, 129, 96, 1, 0, 1, -2}, {33, 70, 601, 0, 1, 2, 0.5f},
    {300, 5, 8, 0, 1, 1, 0},      {5, 4100, 9, 0, 0, 1, 0},     {13, 31, 257, 0, 1, 1, 0},  {24, 200, 1025, 0, 1, 1, 0},
};

static void test_gemm(const DanetKernels *kernels) {
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const Shape *s = &shapes[t];
        const long lda = s->k + 3, b_rows = s->trans_b ? s->n : s->k, ldb = (s->trans_b ? s->k : s->n) + 5, ldc = s->n + 2;
        const long b_row = s->trans_b ? 1 : ldb, b_col = s->trans_b ? ldb : 1;
        float *a = random_floats(s->m * lda), *b = random_floats(b_rows * ldb), *c0 = random_floats(s->m * ldc);
        float *bias = random_floats(s->m), *residual = random_floats(s->m * ldc);
        float *expected = malloc(sizeof(float) * (size_t)(s->m * ldc)), *actual = malloc(sizeof(float) * (size_t)(s->m * ldc));
        // The reference: the bf16 operands' products summed in double, then the f32 steps of the epilogue.
        for (long i = 0; i < s->m; i++)
            for (long j = 0; j < s->n; j++) {
                double sum = 0;
                for (long p = 0; p < s->k; p++)
                    sum += (double)danet_float_from_bf16(danet_bf16_from_float(a[i * lda + p]))
                           * danet_float_from_bf16(danet_bf16_from_float(b[p * b_row + j * b_col]));
                double value = s->alpha * sum + (s->beta == 0 ? 0 : s->beta * (double)c0[i * ldc + j]);
                if (s->epilogue) {
                    value += bias[i] + residual[i * ldc + j];
                    value = value > 0 ? value : 0;
                }
                expected[i * ldc + j] = (float)value;
            }
        for (long i = 0; i < s->m; i++)
            for (long j = s->n; j < ldc; j++) expected[i * ldc + j] = c0[i * ldc + j];
        uint16_t *packed = malloc(sizeof(uint16_t) * (size_t)danet_gemm_bf16_packed_size(s->m, s->k));
        danet_gemm_bf16_pack_rows(s->m, s->k, 0, s->m, a, lda, 1, packed);
        memcpy(actual, c0, sizeof(float) * (size_t)(s->m * ldc));
        // In two MR-aligned row parts, as threads split a product.
        const long part = (s->m / 2 + DANET_GEMM_MR - 1) / DANET_GEMM_MR * DANET_GEMM_MR;
        for (long first = 0; first < s->m; first += part > 0 ? part : s->m) {
            const long rows = s->m - first < part || part == 0 ? s->m - first : part;
            const DanetEpilogue epilogue = {bias + first, residual + first * ldc, ldc, 1};
            danet_gemm_bf16_packed(kernels, rows, s->n, s->k, s->alpha, packed, s->m, first, b, b_row, b_col, s->beta,
                                   actual + first * ldc, ldc, s->epilogue ? &epilogue : NULL);
        }
        const double tolerance = 2e-6 * (double)s->k * (fabs(s->alpha) + fabs(s->beta)) + 1e-7;
        double worst = 0;
        long first_bad = -1;
        for (long i = 0; i < s->m * ldc; i++) {
            const double diff = fabs((double)actual[i] - (double)expected[i]);
            if (!(diff <= worst)) worst = diff;
            if (!(diff <= tolerance) && first_bad < 0) first_bad = i;
        }
        char label[128], detail[160] = "";
        snprintf(label, sizeof label, "%s bf16 gemm %ldx%ldx%ld tB %d epilogue %d", kernels->name, s->m, s->n, s->k,
                 s->trans_b, s->epilogue);
        if (first_bad >= 0)
            snprintf(detail, sizeof detail, ": max|diff| %g > %g; first at [%ld] %g vs %g", worst, tolerance, first_bad,
                     actual[first_bad], expected[first_bad]);
        report(first_bad < 0, label, detail);
        free(a), free(b), free(c0), free(bias), free(residual), free(expected), free(actual), free(packed);
    }
}

// B prepacked row pair by row pair (as the Winograd input transform writes it): the layout
// `danet_gemm_bf16_prepacked_size` states, zero padding, each set's packing bit for bit the
// portable one's, and the product from it identical to the product that packs B itself.
static void test_prepacked(const DanetKernels *kernels, const DanetKernels *generic) {
    static const long shapes[][3] = {{6, 64, 2}, {13, 65, 7}, {30, 200, 513}, {7, 1, 1}, {64, 130, 1100}};
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const long m = shapes[t][0], n = shapes[t][1], k = shapes[t][2], nr = kernels->nr, depth = (k + 1) / 2 * 2;
        float *a = random_floats(m * k), *b = random_floats(k * n);
        const long size = danet_gemm_bf16_prepacked_size(kernels, k, n);
        uint16_t *expected = malloc(sizeof(uint16_t) * (size_t)size), *actual = malloc(sizeof(uint16_t) * (size_t)size);
        memset(expected, 0xAB, sizeof(uint16_t) * (size_t)size);
        memset(actual, 0xCD, sizeof(uint16_t) * (size_t)size);
        for (long q = 0; q < depth; q += 2) {
            const float *row1 = q + 1 < k ? b + (q + 1) * n : NULL;
            generic->pack_pairs_bf16(b + q * n, row1, n, nr, depth, expected + q * nr);
            kernels->pack_pairs_bf16(b + q * n, row1, n, nr, depth, actual + q * nr);
        }
        int placed = 1;
        for (long p = 0; p < depth; p++)
            for (long j = 0; j < (n + nr - 1) / nr * nr; j++) {
                const uint16_t want = p < k && j < n ? danet_bf16_from_float(b[p * n + j]) : 0;
                if (expected[(j / nr) * depth * nr + (p / 2) * 2 * nr + 2 * (j % nr) + p % 2] != want) placed = 0;
            }
        char label[96];
        snprintf(label, sizeof label, "%s bf16 prepacked B %ldx%ld", kernels->name, k, n);
        report(placed, label, ": the portable packing is not where the layout says");
        report(memcmp(expected, actual, sizeof(uint16_t) * (size_t)size) == 0, label, ": differs from the portable packing");
        if (kernels->micro_kernel_bf16) {
            uint16_t *weights = malloc(sizeof(uint16_t) * (size_t)danet_gemm_bf16_packed_size(m, k));
            danet_gemm_bf16_pack_rows(m, k, 0, m, a, k, 1, weights);
            float *c0 = calloc((size_t)(m * n), sizeof(float)), *c1 = calloc((size_t)(m * n), sizeof(float));
            danet_gemm_bf16_packed(kernels, m, n, k, 1, weights, m, 0, b, n, 1, 0, c0, n, NULL);
            danet_gemm_bf16_prepacked(kernels, m, n, k, 1, weights, m, 0, actual, 0, c1, n, NULL);
            snprintf(label, sizeof label, "%s bf16 gemm from prepacked B %ldx%ldx%ld", kernels->name, m, n, k);
            report(memcmp(c0, c1, sizeof(float) * (size_t)(m * n)) == 0, label, ": not identical to packing B itself");
            free(weights), free(c0), free(c1);
        }
        free(a), free(b), free(expected), free(actual);
    }
}

int main(void) {
    test_rounding();
    test_pack_layout();
    const DanetKernels *generic = danet_kernels(DANET_ISA_GENERIC);
    for (int isa = 0; isa < DANET_ISA_COUNT; isa++) {
        const DanetKernels *kernels = danet_kernels((DanetISA)isa);
        if (!kernels) {
            printf("%s: not run by this CPU\n", danet_isa_name((DanetISA)isa));
            continue;
        }
        const int before = passed + failed;
        test_pack_b(kernels, generic);
        test_prepacked(kernels, generic);
        if (kernels->micro_kernel_bf16) test_gemm(kernels);
        printf("%s: %d bf16 checks%s\n", kernels->name, passed + failed - before,
               kernels->micro_kernel_bf16 ? (danet_bf16_native(kernels) ? " (native bf16 products)" : " (portable bf16 products)")
                                          : " (packing only: no bf16 products)");
    }
    printf("selected: %s\n", danet_kernels_selected(NULL)->name);
    printf("bf16: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
