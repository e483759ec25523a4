#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

// MARK: Instruction sets and the kernel table

/// The instruction sets the kernels are written for. Every CPU runs `DANET_ISA_GENERIC`.
typedef enum {
    DANET_ISA_GENERIC = 0,
    DANET_ISA_AVX2 = 1,    // x86-64 with AVX2 and FMA
    DANET_ISA_AVX512 = 2,  // x86-64 with AVX-512F
    DANET_ISA_NEON = 3,    // ARM64 (Advanced SIMD is part of the architecture)
    DANET_ISA_AVX512_BF16 = 4,  // AVX-512F, BW and AVX512_BF16: the AVX-512 kernels and bf16 products
    DANET_ISA_NEON_BF16 = 5,    // ARM64 with BF16 (Armv8.6): the NEON kernels and bf16 products
} DanetISA;

enum { DANET_ISA_COUNT = 6 };

/// The name of an instruction set, as DANET_ISA spells it ("?" for a value outside the enum).
static inline const char *danet_isa_name(DanetISA isa) {
    static const char *const names[DANET_ISA_COUNT] = {"generic", "avx2", "avx512", "neon", "avx512bf16", "neonbf16"};
    return (unsigned)isa < DANET_ISA_COUNT ? names[isa] : "?";
}

/// What the product does to its final sums before storing them, in this order: add bias[i] to
/// row i, add residual[i * residual_ld + j], clamp at 0. Null pointers skip a step.
typedef struct {
    const float *bias;
    const float *residual;
    long residual_ld;
    int relu;
} DanetEpilogue;

/// One instruction set's kernels and the GEMM blocking that suits them.
typedef struct {
    DanetISA isa;
    const char *name;
    /// Columns of the register tile (rows are DANET_GEMM_MR for every kernel).
    long nr;
    /// Depth, rows and columns of one cache block; kc divides DANET_GEMM_KC.
    long kc, mc, nc;

    /// acc = A_panel B_panel over kc (A: kc x MR, B: kc x nr, both packed); then, for rows < mr and
    /// columns < nr of C: C = alpha * acc + beta * C (C not read when beta is 0), then `epilogue`.
    void (*micro_kernel)(long kc, const float *a, const float *b, float alpha, float beta, float *c, long ldc,
                         long mr, long nr, const DanetEpilogue *epilogue);
    void (*winograd_input_row)(const float *plane, long height, long width, long dilation, long a, long b,
                               long tile_row, long tiles, float *v, long stride, float *scratch);
    void (*winograd_output_row)(const float *m, long stride, long tiles, float bias, int relu, float *out,
                                long height, long width, long dilation, long a, long b, long tile_row, float *scratch);
    void (*winograd4_input_row)(const float *plane, long height, long width, long dilation, long a, long b,
                                long tile_row, long tiles, float *v, long stride, float *scratch);
    void (*winograd4_output_row)(const float *m, long stride, long tiles, float bias, int relu, float *out,
                                 long height, long width, long dilation, long a, long b, long tile_row, float *scratch);
    void (*softmax_row)(float *row, long n);

    /// The bf16 product: acc = A_panel B_panel over `depth` values of k (even), A and B packed in
    /// bf16 pairs along k (`danet_gemm_bf16_pack_rows`, `pack_b_bf16`), summed in f32; stored as
    /// `micro_kernel` stores. Null where the set has no bf16 instructions, except in the generic
    /// set, where it is the portable reference (slow: every product a scalar one).
    void (*micro_kernel_bf16)(long depth, const uint16_t *a, const uint16_t *b, float alpha, float beta, float *c,
                              long ldc, long mr, long nr, const DanetEpilogue *epilogue);
    /// Depth [0, kc) and columns [0, nc) of B (strides as in `danet_gemm`) as nr-column bf16 panels:
    /// per pair of depths (2q, 2q + 1) and column j, the two values rounded to bf16 side by side;
    /// each panel (kc rounded up to even) x nr, zero-padded.
    void (*pack_b_bf16)(long kc, long nc, long nr, const float *b, long b_row, long b_col, uint16_t *out);
    /// Two rows of B (depths 2q and 2q + 1, contiguous; `row1` null past an odd depth: zeros),
    /// columns [0, count), rounded into B prepacked for `danet_gemm_bf16_prepacked` (panels of nr
    /// columns, each `depth` deep) at `b`, the place of pair-row q in the first panel; the last
    /// panel's columns past `count` become zero pairs. For a producer that writes B row by row.
    void (*pack_pairs_bf16)(const float *row0, const float *row1, long count, long nr, long depth, uint16_t *b);
} DanetKernels;

// MARK: CPU features

/// What a CPU offers (instructions) and what its OS saves on a context switch (register state), as
/// bits of one mask. x86-64 and ARM64 bits share the mask; each architecture sets its own.
enum {
    DANET_CPU_AVX = 1u << 0,
    DANET_CPU_FMA = 1u << 1,
    DANET_CPU_AVX2 = 1u << 2,
    DANET_CPU_AVX512F = 1u << 3,
    DANET_CPU_AVX512DQ = 1u << 4,
    DANET_CPU_AVX512BW = 1u << 5,
    DANET_CPU_AVX512VL = 1u << 6,
    DANET_CPU_AVX512_BF16 = 1u << 7,
    DANET_CPU_AVX_VNNI = 1u << 8,
    DANET_CPU_AMX_TILE = 1u << 9,
    DANET_CPU_AMX_BF16 = 1u << 10,
    DANET_CPU_AMX_INT8 = 1u << 11,
    DANET_CPU_OS_YMM = 1u << 12,  // XCR0 bits 1-2: SSE and AVX state
    DANET_CPU_OS_ZMM = 1u << 13,  // XCR0 bits 1-2 and 5-7: opmask and ZMM state
    DANET_CPU_OS_AMX = 1u << 14,  // XCR0 bits 17-18: tile configuration and data
    DANET_CPU_NEON = 1u << 16,
    DANET_CPU_ASIMDDP = 1u << 17,
    DANET_CPU_ARM_BF16 = 1u << 18,
    DANET_CPU_I8MM = 1u << 19,
};

/// The x86-64 registers the feature decision reads.
typedef struct {
    unsigned max_leaf;                         // CPUID.0:EAX, the highest standard leaf
    unsigned leaf1_ecx;                        // CPUID.1:ECX
    unsigned leaf7_ebx, leaf7_ecx, leaf7_edx;  // CPUID.(7,0), zero when max_leaf < 7
    unsigned leaf7_1_eax;                      // CPUID.(7,1):EAX, zero without that subleaf
    unsigned long long xcr0;                   // XGETBV(0), zero when OSXSAVE is clear
} DanetX86Registers;

/// The feature mask of recorded x86-64 registers (CPUID bits gated by max_leaf; OS state from XCR0
/// only when CPUID.1:ECX.OSXSAVE is set).
unsigned danet_x86_features(const DanetX86Registers *registers);

/// The feature mask of recorded ARM64 `getauxval(AT_HWCAP)` and `getauxval(AT_HWCAP2)` values.
unsigned danet_arm_features(unsigned long hwcap, unsigned long hwcap2);

/// The best x86-64 instruction set a feature mask allows: AVX-512 needs AVX-512F, AVX2, FMA and the
/// OS's YMM and ZMM state; AVX2 needs AVX, AVX2, FMA and the YMM state. `why` (if not null) gets a
/// line saying why, or what is missing for the set above.
DanetISA danet_x86_best_isa(unsigned features, char *why, size_t why_size);

/// The same for ARM64: NEON with bf16 where HWCAP2 reports BF16, else NEON, which every ARM64 CPU has.
DanetISA danet_arm_best_isa(unsigned features, char *why, size_t why_size);

/// Reads this CPU's registers; 0 (and all zero) on another architecture.
int danet_x86_read(DanetX86Registers *registers);

/// Reads this process's HWCAP and HWCAP2; 0 (and both zero) off ARM64 Linux.
int danet_arm_read(unsigned long *hwcap, unsigned long *hwcap2);

/// This CPU's feature mask.
unsigned danet_cpu_features(void);

/// The best instruction set this CPU and OS run, and why (see `danet_x86_best_isa`).
DanetISA danet_best_isa(char *why, size_t why_size);

/// The CPU's brand string (x86-64 CPUID leaves 0x80000002-4), or "" where there is none.
void danet_cpu_model(char *buffer, size_t size);

/// The value of the first /proc/cpuinfo line named `key` ("flags" on x86-64, "Features" on ARM64,
/// "model name"), without the leading space; "" and 0 where there is none.
int danet_cpuinfo_value(const char *key, char *buffer, size_t size);

/// 1 when this build and this CPU can run `isa`.
int danet_isa_supported(DanetISA isa);

/// The kernels for `isa`, or null when this CPU cannot run them.
const DanetKernels *danet_kernels(DanetISA isa);

/// The best instruction set this CPU runs, capped by the environment variable DANET_ISA
/// (avx512bf16, avx512, avx2, neonbf16, neon or generic) when it is set: a named set the CPU lacks gives the best one
/// below it. Reads the environment on each call (callers keep the result); `*requested` (if not
/// null) gets DANET_ISA's value, or null when it is not set.
const DanetKernels *danet_kernels_selected(const char **requested);

// MARK: bf16

/// The bf16 value nearest to x (round to nearest, ties to even), as every bf16 product in the
/// package rounds its operands: NaN stays a (quiet) NaN, and zero and denormal x give a zero of
/// x's sign, as the x86-64 bf16 instructions treat denormal operands.
static inline uint16_t danet_bf16_from_float(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
    rounded = (bits & 0x7FFFFFFFu) > 0x7F800000u ? bits | 0x00400000u : rounded;
    rounded = (bits & 0x7F800000u) == 0 ? bits & 0x80000000u : rounded;
    return (uint16_t)(rounded >> 16);
}

/// The f32 value of a bf16 value (exact).
static inline float danet_float_from_bf16(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/// 1 when `kernels` has bf16 product instructions (AVX512_BF16, ARM64 BF16), 0 when its bf16
/// product is the portable one or absent.
int danet_bf16_native(const DanetKernels *kernels);

// MARK: GEMM

/// Rows of every register tile (callers split work on multiples of it), and the depth of one block
/// of a packed matrix.
enum { DANET_GEMM_MR = 6, DANET_GEMM_KC = 512 };

/// C = alpha * A B + beta * C on one thread (C not read when beta is 0).
///
/// A is m x k with element (i, p) at a[i * a_row + p * a_col]; B is k x n with element (p, j) at
/// b[p * b_row + j * b_col]; C is m x n, row-major with leading dimension ldc. Strides express the
/// transposes, so the packing absorbs them. Packing buffers are per thread and kept for reuse.
void danet_gemm(const DanetKernels *kernels, long m, long n, long k, float alpha,
                const float *a, long a_row, long a_col,
                const float *b, long b_row, long b_col,
                float beta, float *c, long ldc);

/// Floats `danet_gemm_pack` writes for an m x k matrix.
long danet_gemm_packed_size(long m, long k);

/// Packs A (m x k, strides as in `danet_gemm`) once, in the panel order every kernel reads: for
/// weights that multiply many inputs, so no product packs them again.
void danet_gemm_pack(long m, long k, const float *a, long a_row, long a_col, float *packed);

/// `danet_gemm_pack` of rows [first_row, first_row + rows) only (first_row a multiple of
/// DANET_GEMM_MR), into the same places: parts of one matrix can be packed by different threads.
void danet_gemm_pack_rows(long m, long k, long first_row, long rows, const float *a, long a_row, long a_col,
                          float *packed);

/// `danet_gemm` with A from `danet_gemm_pack` (of an m_total x k matrix): rows
/// [first_row, first_row + m) of it, where first_row is a multiple of DANET_GEMM_MR. `epilogue`
/// (or null) is relative to this part: its bias and residual start at the part's first row and column.
void danet_gemm_packed(const DanetKernels *kernels, long m, long n, long k, float alpha,
                       const float *packed, long m_total, long first_row,
                       const float *b, long b_row, long b_col,
                       float beta, float *c, long ldc, const DanetEpilogue *epilogue);

/// Where `danet_gemm_pack` puts element (row, col) of an m x k matrix: depth blocks of
/// DANET_GEMM_KC, each holding every row's MR-row panel, each panel column-major within the block.
static inline long danet_gemm_packed_offset(long m, long k, long row, long col) {
    const long pc = col / DANET_GEMM_KC * DANET_GEMM_KC, kc = k - pc < DANET_GEMM_KC ? k - pc : DANET_GEMM_KC;
    const long padded = (m + DANET_GEMM_MR - 1) / DANET_GEMM_MR * DANET_GEMM_MR;
    return pc * padded + (row / DANET_GEMM_MR) * kc * DANET_GEMM_MR + (col - pc) * DANET_GEMM_MR + row % DANET_GEMM_MR;
}

/// bf16 values `danet_gemm_bf16_pack_rows` writes for an m x k matrix: rows padded to panels of
/// DANET_GEMM_MR, k to even.
long danet_gemm_bf16_packed_size(long m, long k);

/// Where `danet_gemm_bf16_pack_rows` puts element (row, col) of an m x k matrix: depth blocks of
/// DANET_GEMM_KC as in `danet_gemm_packed_offset`, each holding every row's MR-row panel; within a
/// panel, pairs of depths (2q, 2q + 1): the pair of row r at (q * MR + r) * 2.
static inline long danet_gemm_bf16_packed_offset(long m, long k, long row, long col) {
    const long pc = col / DANET_GEMM_KC * DANET_GEMM_KC, kc = k - pc < DANET_GEMM_KC ? k - pc : DANET_GEMM_KC;
    const long padded = (m + DANET_GEMM_MR - 1) / DANET_GEMM_MR * DANET_GEMM_MR, depth = (kc + 1) / 2 * 2;
    const long p = col - pc;
    return pc * padded + (row / DANET_GEMM_MR) * depth * DANET_GEMM_MR + ((p / 2) * DANET_GEMM_MR + row % DANET_GEMM_MR) * 2 + p % 2;
}

/// Rounds rows [first_row, first_row + rows) of A (m x k, strides as in `danet_gemm`; first_row a
/// multiple of DANET_GEMM_MR) to bf16 and packs them for `danet_gemm_bf16_packed`; padding is zero.
void danet_gemm_bf16_pack_rows(long m, long k, long first_row, long rows, const float *a, long a_row, long a_col,
                               uint16_t *packed);

/// The same from a matrix in the f32 panel layout (`danet_gemm_pack`).
void danet_gemm_bf16_from_panels(long m, long k, const float *panels, uint16_t *packed);

/// The inverse: bf16 panels to the f32 panel layout (exact; padding rows zero).
void danet_gemm_bf16_to_panels(long m, long k, const uint16_t *packed, float *panels);

/// C = alpha * A B + beta * C, then `epilogue`, in bf16 products summed in f32: A packed by
/// `danet_gemm_bf16_pack_rows` (rows [first_row, first_row + m) of an m_total x k matrix), B in f32
/// (strides as in `danet_gemm`), rounded to bf16 as it is packed. `kernels->micro_kernel_bf16`
/// must not be null.
void danet_gemm_bf16_packed(const DanetKernels *kernels, long m, long n, long k, float alpha,
                            const uint16_t *packed, long m_total, long first_row,
                            const float *b, long b_row, long b_col,
                            float beta, float *c, long ldc, const DanetEpilogue *epilogue);

/// bf16 values of B prepacked for `danet_gemm_bf16_prepacked` with `kernels`: a k x n matrix as
/// panels of `kernels->nr` columns (n rounded up), each holding every pair of depths (k rounded up
/// to even): element (p, j) at (j / nr) * even(k) * nr + (p / 2) * 2 * nr + 2 * (j % nr) + p % 2.
long danet_gemm_bf16_prepacked_size(const DanetKernels *kernels, long k, long n);

/// `danet_gemm_bf16_packed` with B already rounded and packed (by `pack_pairs_bf16`), as B is when
/// its producer writes it so: no packing pass. Columns [0, n) of `b`, whose first column starts a
/// panel.
void danet_gemm_bf16_prepacked(const DanetKernels *kernels, long m, long n, long k, float alpha,
                               const uint16_t *packed, long m_total, long first_row, const uint16_t *b,
                               float beta, float *c, long ldc, const DanetEpilogue *epilogue);

/// Rows [first, first + count) of `s` (rows of k values, `lds` apart) rounded into B prepacked for
/// `danet_gemm_bf16_prepacked` as its columns: B = sᵀ (k x n), panels of `nr` columns. The call
/// that ends at row n also zeroes the last panel's padding columns. Parts of the rows can be packed
/// by different threads.
void danet_gemm_bf16_prepack_rows(long nr, long k, const float *s, long lds, long n, long first, long count, uint16_t *b);

// MARK: Winograd

/// Floats of scratch the Winograd row transforms (either tile size) need for a row of `tiles` tiles.
long danet_winograd_scratch(long tiles);

// The row transforms are in the kernel table:
//
// winograd_input_row: F(2x2, 3x3) input transform, V = Bᵀ d B, of one row of tiles of one channel.
// The tiles lie on the sub-grid of rows a, a + dilation, ... and columns b, b + dilation, ... (a
// dilated 3x3 convolution is an ordinary one there), tile row `tile_row`, padding 1 on the
// sub-grid; a row may start part-way, at b = b0 + 2 * first * dilation. Value ξ (0..<16) of tile t
// goes to v[ξ * stride + t].
//
// winograd_output_row: F(2x2, 3x3) output transform, Y = Aᵀ M A, of one row of tiles of one output
// channel: reads m[ξ * stride + t], adds `bias`, applies ReLU when `relu` is non-zero, and writes
// the 2x2 outputs of each tile into `out` (height x width) at the sub-grid positions of the input
// transform.
//
// winograd4_input_row, winograd4_output_row: the same for F(4x4, 3x3): 6 x 6 input tiles every 4
// sub-grid rows and columns, 36 values per tile (ξ = 6 i + j), 4 x 4 outputs per tile.
//
// softmax_row: softmax of one row in place, the row maximum subtracted first as PyTorch does.

/// U = G w Gᵀ for output channels [out_first, out_first + out_count) and every input channel of
/// 3x3 filters `weight` (out_channels, in_channels, 3, 3): value ξ of every (output, input) pair
/// goes to the (out_channels x in_channels) matrix u[ξ], row-major, or laid out as
/// `danet_gemm_pack` would when `packed` is non-zero (padding rows untouched). `tile` is 2 or 4.
void danet_winograd_filters(int tile, const float *weight, long in_channels, long out_channels,
                            long out_first, long out_count, float *const *u, int packed);

// MARK: Threads

/// The CPUs this process may run on: the CPUs in its affinity mask, lowered to its cgroup's CPU
/// quota rounded up (cgroup v2 `cpu.max` of its cgroup and every parent, or v1
/// `cpu.cfs_quota_us`).
long danet_available_cpus(void);

/// What `danet_available_cpus` is made of: the online CPUs, the CPUs in the affinity mask (0 when
/// unknown) and the cgroup quota rounded up (0 for none).
void danet_cpu_limits(long *online, long *affinity, long *quota);

/// Runs task(context, i) for every i in [0, count) on up to `threads` threads of the calling thread's pool,
/// the calling thread among them, and returns when all are done. A call made while another region
/// runs on the same pool (from another thread, or from inside a task) runs every task on the calling thread.
void danet_parallel_run(long count, int threads, void (*task)(void *context, long index), void *context);

/// How many thread pools (lanes) there are; lane 0 is every thread's until it picks another.
#define DANET_MAX_LANES 64

/// Makes the calling thread start its parallel regions on pool `lane` (0 ..< DANET_MAX_LANES), each
/// pool with its own workers. Returns 0, or -1 for a lane out of range (nothing changes).
int danet_parallel_set_lane(int lane);

// MARK: OpenBLAS

/// 1 when the system OpenBLAS could be loaded (on first call; its own threads are set to one).
int danet_openblas_available(void);

/// `cblas_sgemm(CblasRowMajor, ...)` from the system OpenBLAS, on the calling thread; nothing
/// happens when `danet_openblas_available()` is 0.
void danet_openblas_sgemm(int trans_a, int trans_b, long m, long n, long k, float alpha, const float *a, long lda,
                          const float *b, long ldb, float beta, float *c, long ldc);

#endif
