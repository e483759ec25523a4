import CVectorKernels

/// The vector kernels of one instruction set: the GEMM micro-kernel, the Winograd row transforms and
/// the row softmax, from one table that CVectorKernels fills at compile time.
///
/// `selected` is what every product and transform uses unless told otherwise: the best set this CPU
/// runs, capped by the environment variable `DANET_ISA` (`avx512bf16`, `avx512`, `avx2`, `neonbf16`,
/// `neon`, `generic`) so that a machine can test the kernels of the CPUs below it.
package struct CPUKernels: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// An instruction set with kernels of its own.
    package enum ISA: String, Sendable, CaseIterable {
        /// Plain C for any CPU: the reference the others are tested against.
        case generic
        /// x86-64 with AVX2 and FMA.
        case avx2
        /// x86-64 with AVX-512F.
        case avx512
        /// ARM64 Advanced SIMD.
        case neon
        /// AVX-512F with AVX512_BF16: the AVX-512 kernels and bf16 products.
        case avx512bf16
        /// ARM64 with BF16 (Armv8.6): the NEON kernels and bf16 products.
        case neonbf16

        var c: DanetISA {
            switch self {
            case .generic: DANET_ISA_GENERIC
            case .avx2: DANET_ISA_AVX2
            case .avx512: DANET_ISA_AVX512
            case .neon: DANET_ISA_NEON
            case .avx512bf16: DANET_ISA_AVX512_BF16
            case .neonbf16: DANET_ISA_NEON_BF16
            }
        }
    }

    package let isa: ISA
    /// A static table in the C library: immutable, so shared across threads freely.
    let table: UnsafePointer<DanetKernels>

    /// The kernels for `isa`, or nil when this CPU cannot run them.
    package init?(_ isa: ISA) {
        guard let table = danet_kernels(isa.c) else { return nil }
        self.isa = isa
        self.table = table
    }

    /// The kernels every call uses by default, chosen once per process.
    package static let selected: CPUKernels = {
        let table = danet_kernels_selected(nil)!
        return CPUKernels(ISA.allCases.first { $0.c == table.pointee.isa } ?? .generic)!
    }()

    /// `DANET_ISA` as set in the environment, or nil.
    package static var requestedISA: String? {
        var requested: UnsafePointer<CChar>?
        _ = danet_kernels_selected(&requested)
        return requested.map { String(cString: $0) }
    }

    /// Every instruction set this CPU runs, the generic one first.
    package static var available: [CPUKernels] { ISA.allCases.compactMap(CPUKernels.init) }

    /// True when the set has bf16 product instructions (`avx512bf16`, `neonbf16`).
    package var hasNativeBF16: Bool { danet_bf16_native(table) != 0 }

    /// True when the set can run bf16 products: natively, or the generic set's portable reference.
    package var hasBF16Products: Bool { table.pointee.micro_kernel_bf16 != nil }

    /// Columns of the GEMM register tile: products split across threads on multiples of it.
    package var tileColumns: Int { table.pointee.nr }

    package var description: String { isa.rawValue }

    package static func == (a: CPUKernels, b: CPUKernels) -> Bool { a.isa == b.isa }

    package func hash(into hasher: inout Hasher) { hasher.combine(isa) }
}
