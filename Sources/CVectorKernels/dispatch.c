// Which kernels this CPU runs: decided by cpu_features.c from CPUID, XGETBV or HWCAP, capped by
// DANET_ISA so that one machine can test the paths of the CPUs below it.
#include "CVectorKernels.h"

#include <stdlib.h>
#include <string.h>

extern const DanetKernels danet_kernels_generic;
#if defined(__x86_64__)
extern const DanetKernels danet_kernels_avx2;
extern const DanetKernels danet_kernels_avx512;
extern const DanetKernels danet_kernels_avx512bf16;
#endif
#if defined(__aarch64__)
extern const DanetKernels danet_kernels_neon;
extern const DanetKernels danet_kernels_neonbf16;
#endif

int danet_isa_supported(DanetISA isa) {
    switch (isa) {
    case DANET_ISA_GENERIC:
        return 1;
#if defined(__x86_64__)
    case DANET_ISA_AVX2:
        return danet_best_isa(NULL, 0) != DANET_ISA_GENERIC;
    case DANET_ISA_AVX512:
        return danet_best_isa(NULL, 0) >= DANET_ISA_AVX512;
    case DANET_ISA_AVX512_BF16:
        return danet_best_isa(NULL, 0) == DANET_ISA_AVX512_BF16;
#endif
#if defined(__aarch64__)
    case DANET_ISA_NEON:
        return 1;
    case DANET_ISA_NEON_BF16:
        return danet_best_isa(NULL, 0) == DANET_ISA_NEON_BF16;
#endif
    default:
        return 0;
    }
}

const DanetKernels *danet_kernels(DanetISA isa) {
    if (!danet_isa_supported(isa)) return NULL;
    switch (isa) {
#if defined(__x86_64__)
    case DANET_ISA_AVX2:
        return &danet_kernels_avx2;
    case DANET_ISA_AVX512:
        return &danet_kernels_avx512;
    case DANET_ISA_AVX512_BF16:
        return &danet_kernels_avx512bf16;
#endif
#if defined(__aarch64__)
    case DANET_ISA_NEON:
        return &danet_kernels_neon;
    case DANET_ISA_NEON_BF16:
        return &danet_kernels_neonbf16;
#endif
    default:
        return &danet_kernels_generic;
    }
}

// From the best to the generic one, on this architecture.
static const DanetISA preference[] = {
#if defined(__x86_64__)
    DANET_ISA_AVX512_BF16, DANET_ISA_AVX512, DANET_ISA_AVX2,
#endif
#if defined(__aarch64__)
    DANET_ISA_NEON_BF16, DANET_ISA_NEON,
#endif
    DANET_ISA_GENERIC,
};


const DanetKernels *danet_kernels_selected(const char **requested) {
    const char *cap = getenv("DANET_ISA");
    if (requested) *requested = cap && *cap ? cap : NULL;
    const size_t count = sizeof preference / sizeof preference[0];
    size_t first = 0;
    if (cap && *cap) {
        // The cap's place in this architecture's order; an unknown name, or another architecture's
        // instruction set, leaves the portable kernels only.
        first = count - 1;
        for (size_t i = 0; i < count; i++)
            if (strcmp(cap, danet_isa_name(preference[i])) == 0) first = i;
    }
    for (size_t i = first; i < count; i++)
        if (danet_isa_supported(preference[i])) return danet_kernels(preference[i]);
    return &danet_kernels_generic;
}
