// ARM64 NEON kernels: a 6 x 16 GEMM register tile in 24 q accumulators, fed by 4 loads of B and
// the 6 values of A in two registers (one of four lanes, one of two) used lane by lane with
// `vfmaq_lane(q)_f32`: 30 of the 32 vector registers. The row transforms and the softmax are
// vectorised by the compiler (NEON is part of every ARM64 CPU, so no target is needed).
#if defined(__aarch64__)
#include "CVectorKernels.h"

#include <arm_neon.h>

#include "internal/tile_store.h"

#define MR DANET_GEMM_MR
#define NR 16

// Row i of the tile gains a * (b0 b1 b2 b3), with a in lane `lane` of `av`.
#define FMA_ROW_Q(i, av, lane)                        \
    c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane); \
    c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane); \
    c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane); \
    c##i##3 = vfmaq_laneq_f32(c##i##3, b3, av, lane)
#define FMA_ROW_D(i, av, lane)                       \
    c##i##0 = vfmaq_lane_f32(c##i##0, b0, av, lane); \
    c##i##1 = vfmaq_lane_f32(c##i##1, b1, av, lane); \
    c##i##2 = vfmaq_lane_f32(c##i##2, b2, av, lane); \
    c##i##3 = vfmaq_lane_f32(c##i##3, b3, av, lane)
#define ZERO_ROW(i) float32x4_t c##i##0 = vdupq_n_f32(0), c##i##1 = c##i##0, c##i##2 = c##i##0, c##i##3 = c##i##0
#define SPILL_ROW(i)                           \
    vst1q_f32(tile + i * NR, c##i##0);         \
    vst1q_f32(tile + i * NR + 4, c##i##1);     \
    vst1q_f32(tile + i * NR + 8, c##i##2);     \
    vst1q_f32(tile + i * NR + 12, c##i##3)

// Stores one 4-lane piece of row i at column 4v of a full tile, with beta and the epilogue.
static inline void store_quad(float32x4_t sums, float alpha, float beta, float *c, long ldc, long i, int v,
                              const DanetEpilogue *epilogue) {
    float *at = c + i * ldc + 4 * v;
    float32x4_t r = vmulq_n_f32(sums, alpha);
    if (beta != 0) r = vfmaq_n_f32(r, vld1q_f32(at), beta);
    if (epilogue) {
        if (epilogue->bias) r = vaddq_f32(r, vdupq_n_f32(epilogue->bias[i]));
        if (epilogue->residual) r = vaddq_f32(r, vld1q_f32(epilogue->residual + i * epilogue->residual_ld + 4 * v));
        if (epilogue->relu) r = vmaxq_f32(r, vdupq_n_f32(0));
    }
    vst1q_f32(at, r);
}

#define STORE_ROW(i)                                                \
    store_quad(c##i##0, alpha, beta, c, ldc, i, 0, epilogue);       \
    store_quad(c##i##1, alpha, beta, c, ldc, i, 1, epilogue);       \
    store_quad(c##i##2, alpha, beta, c, ldc, i, 2, epilogue);       \
    store_quad(c##i##3, alpha, beta, c, ldc, i, 3, epilogue)

// Stores the finished tile of accumulators c00..c53: vector stores for a whole tile, else spilled and
// stored element by element.
#define FINISH_TILE()                                                       \
    do {                                                                    \
        if (mr == MR && nr == NR) {                                         \
            STORE_ROW(0);                                                   \
            STORE_ROW(1);                                                   \
            STORE_ROW(2);                                                   \
            STORE_ROW(3);                                                   \
            STORE_ROW(4);                                                   \
            STORE_ROW(5);                                                   \
        } else {                                                            \
            float tile[MR * NR];                                            \
            SPILL_ROW(0);                                                   \
            SPILL_ROW(1);                                                   \
            SPILL_ROW(2);                                                   \
            SPILL_ROW(3);                                                   \
            SPILL_ROW(4);                                                   \
            SPILL_ROW(5);                                                   \
            store_tile_scalar(tile, NR, alpha, beta, c, ldc, mr, nr, epilogue); \
        }                                                                   \
    } while (0)

static void micro_kernel(long kc, const float *ap, const float *bp, float alpha, float beta,
                         float *c, long ldc, long mr, long nr, const DanetEpilogue *epilogue) {
    ZERO_ROW(0);
    ZERO_ROW(1);
    ZERO_ROW(2);
    ZERO_ROW(3);
    ZERO_ROW(4);
    ZERO_ROW(5);
    for (long p = 0; p < kc; p++) {
        const float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8), b3 = vld1q_f32(bp + 12);
        const float32x4_t a0123 = vld1q_f32(ap);
        const float32x2_t a45 = vld1_f32(ap + 4);
        FMA_ROW_Q(0, a0123, 0);
        FMA_ROW_Q(1, a0123, 1);
        FMA_ROW_Q(2, a0123, 2);
        FMA_ROW_Q(3, a0123, 3);
        FMA_ROW_D(4, a45, 0);
        FMA_ROW_D(5, a45, 1);
        ap += MR;
        bp += NR;
    }
    FINISH_TILE();
}

#define KERNEL(name) name##_neon
#include "internal/row_kernels.h"

// The bf16 products (Armv8.6 BF16: Graviton 3 and 4, Neoverse V1 and V2, Apple M2 and later): the
// same 6 x 16 tile, each step a pair of depths, each B register 4 columns of pairs, and BFDOT by
// lane adding a row's pair of products to 4 columns at once. Only this function may use BF16
// instructions; the table is chosen at run time from HWCAP2.
#define BFDOT_ROW_Q(i, av, lane)                           \
    c##i##0 = vbfdotq_laneq_f32(c##i##0, b0, av, lane);    \
    c##i##1 = vbfdotq_laneq_f32(c##i##1, b1, av, lane);    \
    c##i##2 = vbfdotq_laneq_f32(c##i##2, b2, av, lane);    \
    c##i##3 = vbfdotq_laneq_f32(c##i##3, b3, av, lane)
#define BFDOT_ROW_D(i, av, lane)                           \
    c##i##0 = vbfdotq_lane_f32(c##i##0, b0, av, lane);     \
    c##i##1 = vbfdotq_lane_f32(c##i##1, b1, av, lane);     \
    c##i##2 = vbfdotq_lane_f32(c##i##2, b2, av, lane);     \
    c##i##3 = vbfdotq_lane_f32(c##i##3, b3, av, lane)

__attribute__((target("arch=armv8.2-a+bf16"))) static void micro_kernel_bf16(long depth, const uint16_t *ap, const uint16_t *bp,
                                                               float alpha, float beta, float *c, long ldc, long mr,
                                                               long nr, const DanetEpilogue *epilogue) {
    ZERO_ROW(0);
    ZERO_ROW(1);
    ZERO_ROW(2);
    ZERO_ROW(3);
    ZERO_ROW(4);
    ZERO_ROW(5);
    for (long p = 0; p < depth; p += 2) {
        const bfloat16x8_t b0 = vreinterpretq_bf16_u16(vld1q_u16(bp)), b1 = vreinterpretq_bf16_u16(vld1q_u16(bp + 8));
        const bfloat16x8_t b2 = vreinterpretq_bf16_u16(vld1q_u16(bp + 16)), b3 = vreinterpretq_bf16_u16(vld1q_u16(bp + 24));
        const bfloat16x8_t a0123 = vreinterpretq_bf16_u16(vld1q_u16(ap));
        const bfloat16x4_t a45 = vreinterpret_bf16_u16(vld1_u16(ap + 8));
        BFDOT_ROW_Q(0, a0123, 0);
        BFDOT_ROW_Q(1, a0123, 1);
        BFDOT_ROW_Q(2, a0123, 2);
        BFDOT_ROW_Q(3, a0123, 3);
        BFDOT_ROW_D(4, a45, 0);
        BFDOT_ROW_D(5, a45, 1);
        ap += 2 * MR;
        bp += 2 * NR;
    }
    FINISH_TILE();
}

// kc = 256 keeps a 16 KB panel of B in a 64 KB L1 (Neoverse, Apple) with room for the A panel.
const DanetKernels danet_kernels_neon = KERNEL_TABLE(DANET_ISA_NEON, "neon", NR, 256, 120, 4080, NULL, KERNEL(pack_b_bf16),
                                                              KERNEL(pack_pairs_bf16));
const DanetKernels danet_kernels_neonbf16 =
    KERNEL_TABLE(DANET_ISA_NEON_BF16, "neonbf16", NR, 256, 120, 4080, micro_kernel_bf16, KERNEL(pack_b_bf16),
                 KERNEL(pack_pairs_bf16));
#endif
