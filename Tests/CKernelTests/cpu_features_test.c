// The feature decision against recorded CPUID/XCR0 and HWCAP values: CPUs and sandboxes this
// machine is not (AVX-512 without the OS's ZMM state, AVX2 without FMA, a hypervisor that hides
// leaf 7, XCR0 read without OSXSAVE), then what this machine itself answers.
// Built and run by tools/test_c_kernels.sh, natively and for ARM64 under qemu-aarch64.
#include <stdio.h>
#include <string.h>

#include "CVectorKernels.h"

static int passed, failed;


// Checks the chosen set, that `present` bits are all set and `absent` ones all clear, and that the
// reason mentions `reason` (when not null).
static void expect(const char *label, unsigned features, DanetISA got, const char *why, DanetISA isa,
                   unsigned present, unsigned absent, const char *reason) {
    const int ok = got == isa && (features & present) == present && (features & absent) == 0 &&
                   (!reason || strstr(why, reason));
    printf("%s %-44s %-10s features %#07x  %s\n", ok ? "ok  " : "FAIL", label, danet_isa_name(got), features, why);
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("     expected %s, bits %#x set and %#x clear, a reason mentioning '%s'\n", danet_isa_name(isa), present, absent,
               reason ? reason : "-");
    }
}

static void x86_case(const char *label, DanetX86Registers r, DanetISA isa, unsigned present, unsigned absent,
                     const char *reason) {
    char why[200];
    const unsigned f = danet_x86_features(&r);
    expect(label, f, danet_x86_best_isa(f, why, sizeof why), why, isa, present, absent, reason);
}

int main(void) {
    // Leaf 1 ECX with SSE3..SSE4.2, AVX (28), FMA (12), OSXSAVE (27): the value this project's AMD EPYC
    // (Zen 5) reports, and the other cases edit it.
    const unsigned leaf1 = 0xfffa3203u, no_fma = leaf1 & ~(1u << 12), no_osxsave = leaf1 & ~(1u << 27);
    const unsigned avx2_only = 0x219c97a9u;       // Zen 3: AVX2 (5), no AVX-512
    const unsigned zen5_ebx7 = 0xf1bf07abu;       // AVX2, AVX-512 F/DQ/BW/VL...
    const unsigned spr_edx7 = (1u << 22) | (1u << 24) | (1u << 25);  // AMX-BF16, AMX-TILE, AMX-INT8
    const unsigned avx512_sets = DANET_CPU_AVX512F | DANET_CPU_AVX512DQ | DANET_CPU_AVX512BW | DANET_CPU_AVX512VL;
    const unsigned amx = DANET_CPU_AMX_TILE | DANET_CPU_AMX_BF16 | DANET_CPU_AMX_INT8;

    x86_case("AMD EPYC Zen 5 (recorded here)", (DanetX86Registers){0x1c, leaf1, zen5_ebx7, 0x405fc6, 0x110, 0x30, 0xe7},
             DANET_ISA_AVX512_BF16, avx512_sets | DANET_CPU_AVX512_BF16 | DANET_CPU_AVX_VNNI | DANET_CPU_OS_ZMM, amx,
             "AVX512_BF16");
    x86_case("Intel Ice Lake server: AVX-512, no BF16", (DanetX86Registers){0x1b, leaf1, zen5_ebx7, 0, 0, 0, 0xe7},
             DANET_ISA_AVX512, avx512_sets | DANET_CPU_OS_ZMM, DANET_CPU_AVX512_BF16 | amx, "no AVX512_BF16");
    x86_case("AMD Zen 3: AVX2 and FMA, no AVX-512", (DanetX86Registers){0x10, leaf1, avx2_only, 0, 0, 0, 0x7},
             DANET_ISA_AVX2, DANET_CPU_AVX2 | DANET_CPU_FMA | DANET_CPU_OS_YMM, DANET_CPU_AVX512F, "no AVX-512F");
    x86_case("Intel Sapphire Rapids, AMX state enabled",
             (DanetX86Registers){0x20, leaf1, zen5_ebx7, 0, spr_edx7, 0x30, 0x602e7}, DANET_ISA_AVX512_BF16,
             avx512_sets | amx | DANET_CPU_OS_AMX | DANET_CPU_OS_ZMM, 0, NULL);
    x86_case("AMX without the OS's tile state", (DanetX86Registers){0x20, leaf1, zen5_ebx7, 0, spr_edx7, 0x30, 0x2e7},
             DANET_ISA_AVX512_BF16, amx, DANET_CPU_OS_AMX, NULL);
    x86_case("AVX-512 CPU, OS saves no ZMM state (XCR0 7)", (DanetX86Registers){0x1c, leaf1, zen5_ebx7, 0, 0, 0, 0x7},
             DANET_ISA_AVX2, DANET_CPU_AVX512F | DANET_CPU_OS_YMM, DANET_CPU_OS_ZMM, "does not save ZMM");
    x86_case("AVX-512 CPU, XCR0 without opmask (0x27)", (DanetX86Registers){0x1c, leaf1, zen5_ebx7, 0, 0, 0, 0x27},
             DANET_ISA_AVX2, DANET_CPU_AVX512F, DANET_CPU_OS_ZMM, "does not save ZMM");
    x86_case("AVX2 without FMA", (DanetX86Registers){0x10, no_fma, avx2_only, 0, 0, 0, 0x7}, DANET_ISA_GENERIC,
             DANET_CPU_AVX2, DANET_CPU_FMA, "without FMA");
    x86_case("hypervisor hides leaf 7 (max leaf 6)", (DanetX86Registers){0x6, leaf1, zen5_ebx7, 0, spr_edx7, 0x30, 0xe7},
             DANET_ISA_GENERIC, DANET_CPU_AVX | DANET_CPU_FMA, DANET_CPU_AVX2 | avx512_sets | amx, "leaf 7");
    x86_case("hypervisor zeroes leaf 7", (DanetX86Registers){0x1c, leaf1, 0, 0, 0, 0, 0xe7}, DANET_ISA_GENERIC, 0,
             DANET_CPU_AVX2, "no AVX2");
    x86_case("XCR0 set but OSXSAVE clear", (DanetX86Registers){0x1c, no_osxsave, zen5_ebx7, 0, 0, 0, 0xe7},
             DANET_ISA_GENERIC, DANET_CPU_AVX512F, DANET_CPU_OS_YMM | DANET_CPU_OS_ZMM, "YMM");
    x86_case("no AVX at all (SSE4.2 only)", (DanetX86Registers){0xb, 0x0098e3fdu, 0, 0, 0, 0, 0}, DANET_ISA_GENERIC, 0,
             DANET_CPU_AVX | DANET_CPU_OS_YMM, "no AVX");

    char why[200];
    // HWCAP_ASIMD (1), HWCAP_ASIMDDP (20); HWCAP2_I8MM (13), HWCAP2_BF16 (14).
    unsigned f = danet_arm_features((1ul << 1) | (1ul << 20), (1ul << 13) | (1ul << 14));
    expect("ARM64 Neoverse V1 (BF16, I8MM, dot product)", f, danet_arm_best_isa(f, why, sizeof why), why, DANET_ISA_NEON_BF16,
           DANET_CPU_NEON | DANET_CPU_ARM_BF16 | DANET_CPU_I8MM | DANET_CPU_ASIMDDP, 0, "BF16");
    f = danet_arm_features(1ul << 1, 0);
    expect("ARM64 Cortex-A72 (no BF16)", f, danet_arm_best_isa(f, why, sizeof why), why, DANET_ISA_NEON, DANET_CPU_NEON,
           DANET_CPU_ARM_BF16 | DANET_CPU_I8MM, "no BF16");

    // This machine, as the kernels see it: printed for the log, and checked against /proc/cpuinfo's
    // AVX-512 and BF16 flags where both exist (a sandbox may disagree: then this fails loudly).
    char model[128], flags[4096];
    danet_cpu_model(model, sizeof model);
    const DanetISA live = danet_best_isa(why, sizeof why);
    const unsigned features = danet_cpu_features();
    printf("this CPU: '%s', %s (%s), features %#07x\n", model, danet_isa_name(live), why, features);
    if (danet_cpuinfo_value("flags", flags, sizeof flags) || danet_cpuinfo_value("Features", flags, sizeof flags)) {
        // Whole words only: " avx512f " must not match "avx512fp16".
        char padded[4100];
        snprintf(padded, sizeof padded, " %s ", flags);
        // Under qemu-user the file may be the host's: each architecture checks only its own words.
#if defined(__x86_64__)
        const int avx512 = strstr(padded, " avx512f ") != NULL, bf16 = avx512 && strstr(padded, " avx512_bf16 ");
        if ((bf16 && live != DANET_ISA_AVX512_BF16) || (avx512 && !bf16 && live != DANET_ISA_AVX512)) {
            failed++;
            printf("FAIL /proc/cpuinfo lists avx512f%s, but the kernels chose %s\n", bf16 ? " and avx512_bf16" : "",
                   danet_isa_name(live));
        }
#elif defined(__aarch64__)
        if (strstr(padded, " bf16 ") && (!(features & DANET_CPU_ARM_BF16) || live != DANET_ISA_NEON_BF16)) {
            failed++;
            printf("FAIL /proc/cpuinfo lists bf16, but HWCAP2_BF16 is clear or the kernels chose %s\n", danet_isa_name(live));
        }
#endif
    }
    printf("cpu features: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
