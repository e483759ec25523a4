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

#define KERNEL(name) name##_generic
#include "internal/row_kernels.h"

const DanetKernels danet_kernels_generic = {
    .isa = DANET_ISA_GENERIC, .name = "generic", .nr = NR, .kc = 256, .mc = 96, .nc = 2048,
    .micro_kernel = micro_kernel,
    .winograd_input_row = winograd_input_row_generic, .winograd_output_row = winograd_output_row_generic,
    .winograd4_input_row = winograd4_input_row_generic, .winograd4_output_row = winograd4_output_row_generic,
    .softmax_row = softmax_row_generic,
};
