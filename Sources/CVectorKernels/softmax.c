// Row softmax with a vectorisable exp. glibc's expf is a scalar call per element, and position
// attention takes N x N exponentials (16.7 million at 512 x 512): the polynomial below runs 16 at
// a time. Lanes are explicit so the reductions vectorise without reassociating anything.
#include "CVectorKernels.h"

#include <stdint.h>
#include <string.h>

#define CLONES __attribute__((target_clones("avx512f", "default")))
#define LANES 16

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

CLONES
void danet_softmax_row(float *row, long n) {
    float lane[LANES];
    for (int l = 0; l < LANES; l++) lane[l] = -__builtin_inff();
    long i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) lane[l] = row[i + l] > lane[l] ? row[i + l] : lane[l];
    float peak = -__builtin_inff();
    for (int l = 0; l < LANES; l++) peak = lane[l] > peak ? lane[l] : peak;
    for (; i < n; i++) peak = row[i] > peak ? row[i] : peak;

    for (int l = 0; l < LANES; l++) lane[l] = 0;
    for (i = 0; i + LANES <= n; i += LANES)
        for (int l = 0; l < LANES; l++) {
            const float e = exp_nonpositive(row[i + l] - peak);
            row[i + l] = e;
            lane[l] += e;
        }
    float sum = 0;
    for (int l = 0; l < LANES; l++) sum += lane[l];
    for (; i < n; i++) {
        row[i] = exp_nonpositive(row[i] - peak);
        sum += row[i];
    }
    const float scale = 1 / sum;
    for (i = 0; i < n; i++) row[i] *= scale;
}
