// The C tests' inputs: a fixed linear congruential sequence of values k / 1000 in [-1, 1], so every
// run and every machine tests the same numbers.
#include <stdlib.h>

static unsigned long long seed = 0x9E3779B97F4A7C15ull;

static float next_value(void) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((long)(seed >> 40) % 2001 - 1000) / 1000.0f;
}

static float *random_floats(long n) {
    float *x = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) x[i] = next_value();
    return x;
}
