// Portable kernels in plain C, for any CPU: the reference every vector kernel is tested against.
// The GEMM tile is 6 x 16 like the vector ones; the compiler vectorises what the baseline allows.
#include "CVectorKernels.h"

#include "internal/tile_store.h"

#define MR DANET_GEMM_MR
#define NR 16

static void micro_kernel(long kc, const float *ap, const float *bp, float alpha, float beta,
                         float *c, long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
    float acc[MR * NR] = {0};
    for (long p = 0; p < kc; p++) {
        for (int i = 0; i < MR; i++) {
            const float a = ap[i];
            for (int j = 0; j < NR; j++) acc[i * NR + j] += a * bp[j];
        }
        ap += MR;
        bp += NR;
    }
    store_tile_scalar(acc, NR, alpha, beta, c, ldc, mr, nr, epilogue);
}

// The bf16 reference: every operand's bf16 value widened to f32 (exactly), each pair's two
// products added to the sum in order.
static void micro_kernel_bf16(long depth, const uint16_t *ap, const uint16_t *bp, float alpha, float beta, float *c,
                              long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
    float acc[MR * NR] = {0};
    for (long p = 0; p < depth; p += 2) {
        for (int i = 0; i < MR; i++) {
            const float a0 = danet_float_from_bf16(ap[2 * i]), a1 = danet_float_from_bf16(ap[2 * i + 1]);
            for (int j = 0; j < NR; j++) {
                acc[i * NR + j] += a0 * danet_float_from_bf16(bp[2 * j]);
                acc[i * NR + j] += a1 * danet_float_from_bf16(bp[2 * j + 1]);
            }
        }
        ap += 2 * MR;
        bp += 2 * NR;
    }
    store_tile_scalar(acc, NR, alpha, beta, c, ldc, mr, nr, epilogue);
}

#define KERNEL(name) name##_generic
#include "internal/row_kernels.h"

const DanetKernels danet_kernels_generic = KERNEL_TABLE(DANET_ISA_GENERIC, "generic", NR, 256, 96, 2048, micro_kernel_bf16,
                                                                    KERNEL(pack_b_bf16), KERNEL(pack_pairs_bf16));
