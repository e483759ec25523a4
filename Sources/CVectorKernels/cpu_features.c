// What the CPU offers and what the operating system lets a process use, decided the way MLAS,
// oneDNN and OpenVINO decide it: CPUID leaves 1 and 7 for the instructions, XGETBV(0) for the
// register state the OS saves on a context switch (an AVX-512 CPU whose OS does not save ZMM state
// must not run AVX-512 code), and on ARM64 the kernel's HWCAP bits (read in platform.c). The
// decoders take recorded register values, so the tests can feed them CPUs and sandboxes this
// machine is not.
#include "CVectorKernels.h"

#include <stdio.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

unsigned danet_x86_features(const DanetX86Registers *r) {
    unsigned f = 0;
    const unsigned ecx1 = r->leaf1_ecx;
    if (ecx1 & (1u << 28)) f |= DANET_CPU_AVX;
    if (ecx1 & (1u << 12)) f |= DANET_CPU_FMA;
    if (r->max_leaf >= 7) {
        const unsigned ebx7 = r->leaf7_ebx, edx7 = r->leaf7_edx;
        if (ebx7 & (1u << 5)) f |= DANET_CPU_AVX2;
        if (ebx7 & (1u << 16)) f |= DANET_CPU_AVX512F;
        if (ebx7 & (1u << 17)) f |= DANET_CPU_AVX512DQ;
        if (ebx7 & (1u << 30)) f |= DANET_CPU_AVX512BW;
        if (ebx7 & (1u << 31)) f |= DANET_CPU_AVX512VL;
        if (r->leaf7_1_eax & (1u << 5)) f |= DANET_CPU_AVX512_BF16;
        if (r->leaf7_1_eax & (1u << 4)) f |= DANET_CPU_AVX_VNNI;
        if (edx7 & (1u << 22)) f |= DANET_CPU_AMX_BF16;
        if (edx7 & (1u << 24)) f |= DANET_CPU_AMX_TILE;
        if (edx7 & (1u << 25)) f |= DANET_CPU_AMX_INT8;
    }
    // XCR0 means something only when the OS has turned XSAVE on (OSXSAVE, CPUID.1:ECX bit 27).
    if (ecx1 & (1u << 27)) {
        const unsigned long long x = r->xcr0;
        if ((x & 0x6) == 0x6) f |= DANET_CPU_OS_YMM;
        if ((x & 0xE6) == 0xE6) f |= DANET_CPU_OS_ZMM;
        if ((x & 0x60000) == 0x60000) f |= DANET_CPU_OS_AMX;
    }
    return f;
}

unsigned danet_arm_features(unsigned long hwcap, unsigned long hwcap2) {
    unsigned f = 0;
    if (hwcap & (1ul << 1)) f |= DANET_CPU_NEON;       // HWCAP_ASIMD
    if (hwcap & (1ul << 20)) f |= DANET_CPU_ASIMDDP;   // HWCAP_ASIMDDP
    if (hwcap2 & (1ul << 14)) f |= DANET_CPU_ARM_BF16; // HWCAP2_BF16
    if (hwcap2 & (1ul << 13)) f |= DANET_CPU_I8MM;     // HWCAP2_I8MM
    return f;
}

static void say(char *why, size_t size, const char *text) {
    if (why && size) snprintf(why, size, "%s", text);
}

DanetISA danet_x86_best_isa(unsigned f, char *why, size_t size) {
    const unsigned avx2 = DANET_CPU_AVX | DANET_CPU_AVX2 | DANET_CPU_FMA | DANET_CPU_OS_YMM;
    const int has_avx2 = (f & avx2) == avx2, has_avx512 = has_avx2 && (f & DANET_CPU_AVX512F) && (f & DANET_CPU_OS_ZMM);
    if (has_avx512 && (f & DANET_CPU_AVX512_BF16) && (f & DANET_CPU_AVX512BW)) {
        say(why, size, "AVX-512F, BW and AVX512_BF16, with ZMM and opmask state saved by the OS");
        return DANET_ISA_AVX512_BF16;
    }
    if (has_avx512) {
        say(why, size, "AVX-512F, with ZMM and opmask state saved by the OS; no AVX512_BF16 (CPUID.(7,1):EAX bit 5) with AVX512BW");
        return DANET_ISA_AVX512;
    }
    // What is missing: for AVX2 when the CPU cannot run it, else for AVX-512.
    const char *missing;
    if (!(f & DANET_CPU_AVX))
        missing = "no AVX (CPUID.1:ECX bit 28)";
    else if (!(f & DANET_CPU_OS_YMM))
        missing = "AVX found, but the OS does not save YMM state (XCR0 bits 1-2, or OSXSAVE clear)";
    else if (!(f & DANET_CPU_AVX2))
        missing = "no AVX2 (CPUID.7:EBX bit 5; leaf 7 may be hidden)";
    else if (!(f & DANET_CPU_FMA))
        missing = "AVX2 without FMA (CPUID.1:ECX bit 12)";
    else if (f & DANET_CPU_AVX512F)
        missing = "AVX-512F found, but the OS does not save ZMM and opmask state (XCR0 bits 5-7)";
    else
        missing = "no AVX-512F (CPUID.7:EBX bit 16)";
    say(why, size, missing);
    return has_avx2 ? DANET_ISA_AVX2 : DANET_ISA_GENERIC;
}

DanetISA danet_arm_best_isa(unsigned f, char *why, size_t size) {
    if (f & DANET_CPU_ARM_BF16) {
        say(why, size, "Advanced SIMD and BF16 (HWCAP2_BF16)");
        return DANET_ISA_NEON_BF16;
    }
    // Advanced SIMD is part of ARMv8-A; HWCAP_ASIMD only confirms it.
    say(why, size, f & DANET_CPU_NEON ? "Advanced SIMD (HWCAP_ASIMD); no BF16 (HWCAP2_BF16)"
                                      : "Advanced SIMD (part of every ARM64 CPU); no BF16 (HWCAP2_BF16)");
    return DANET_ISA_NEON;
}

#if defined(__x86_64__)
static unsigned long long read_xcr0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}
#endif

int danet_x86_read(DanetX86Registers *r) {
    memset(r, 0, sizeof *r);
#if defined(__x86_64__)
    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    r->max_leaf = a;
    if (a >= 1) {
        __cpuid(1, a, b, c, d);
        r->leaf1_ecx = c;
    }
    if (r->max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        const unsigned subleaves = a;
        r->leaf7_ebx = b;
        r->leaf7_ecx = c;
        r->leaf7_edx = d;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            r->leaf7_1_eax = a;
        }
    }
    // XGETBV faults when the OS has not enabled XSAVE: only when OSXSAVE says it has.
    if (r->leaf1_ecx & (1u << 27)) r->xcr0 = read_xcr0();
    return 1;
#else
    return 0;
#endif
}

unsigned danet_cpu_features(void) {
#if defined(__x86_64__)
    DanetX86Registers r;
    danet_x86_read(&r);
    return danet_x86_features(&r);
#elif defined(__aarch64__)
    unsigned long hwcap, hwcap2;
    danet_arm_read(&hwcap, &hwcap2);
    return danet_arm_features(hwcap, hwcap2) | DANET_CPU_NEON;
#else
    return 0;
#endif
}

DanetISA danet_best_isa(char *why, size_t size) {
#if defined(__x86_64__)
    return danet_x86_best_isa(danet_cpu_features(), why, size);
#elif defined(__aarch64__)
    return danet_arm_best_isa(danet_cpu_features(), why, size);
#else
    say(why, size, "no vector kernels for this architecture");
    return DANET_ISA_GENERIC;
#endif
}

void danet_cpu_model(char *buffer, size_t size) {
    if (!size) return;
    buffer[0] = 0;
#if defined(__x86_64__)
    unsigned max, b, c, d;
    __cpuid(0x80000000u, max, b, c, d);
    if (max >= 0x80000004u && size > 48) {
        unsigned words[12];
        for (unsigned leaf = 0; leaf < 3; leaf++)
            __cpuid(0x80000002u + leaf, words[4 * leaf], words[4 * leaf + 1], words[4 * leaf + 2], words[4 * leaf + 3]);
        char brand[49];
        memcpy(brand, words, 48);
        brand[48] = 0;
        const char *start = brand;
        while (*start == ' ') start++;
        snprintf(buffer, size, "%s", start);
        for (size_t end = strlen(buffer); end > 0 && buffer[end - 1] == ' '; end--) buffer[end - 1] = 0;
    }
#endif
}
