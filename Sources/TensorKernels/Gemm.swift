import CVectorKernels

/// Row-major matrix products: the package's own blocked GEMM with a micro-kernel per instruction
/// set, or OpenBLAS. Either way the products are split across `Threads.current` threads by this
/// type, on the package's one thread pool; OpenBLAS, loaded only when it is used, always runs on
/// one thread.
package enum Gemm {
    /// Which implementation computes the products.
    package enum Backend: String, Sendable, CaseIterable {
        /// Cache-blocked, with packed panels, fused epilogues and the micro-kernel of `CPUKernels`.
        case blocked
        /// `cblas_sgemm` from the system OpenBLAS, for comparison and as a fallback.
        case openBLAS = "openblas"
    }

    /// The default backend: the blocked GEMM, unless `DANET_GEMM=openblas` is set and OpenBLAS loads.
    package static let backend: Backend = {
        if let name = Platform.environment("DANET_GEMM"), name.lowercased() == Backend.openBLAS.rawValue,
           openBLASAvailable {
            return .openBLAS
        }
        return .blocked
    }()

    /// True when the system OpenBLAS (`libopenblas.so.0`) can be loaded.
    package static var openBLASAvailable: Bool { danet_openblas_available() != 0 }

    /// What computes the products by default, for reports: "blocked/avx2" or "openblas".
    package static var backendDescription: String {
        backend == .blocked ? "blocked/\(CPUKernels.selected.isa.rawValue)" : backend.rawValue
    }

    /// `c = alpha * op(a) * op(b) + beta * c`, with op(a) m x k, op(b) k x n and c m x n (row-major).
    /// Equivalent of `cblas_sgemm(CblasRowMajor, ...)`; with beta = 0, c is not read. The OpenBLAS
    /// backend, where OpenBLAS cannot be loaded, computes with the blocked GEMM instead.
    package static func multiply(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                                alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, backend: Backend = Gemm.backend,
                                kernels: CPUKernels = .selected) {
        guard m > 0, n > 0 else { return }
        let (aRow, aColumn) = transposeA ? (1, lda) : (lda, 1)
        let (bRow, bColumn) = transposeB ? (1, ldb) : (ldb, 1)
        nonisolated(unsafe) let a = a, b = b, c = c
        let backend = backend == .openBLAS && !openBLASAvailable ? .blocked : backend
        // Each part packs its own panels of A: one part per thread, so A is packed as few times as possible.
        split(m: m, n: n, tileColumns: kernels.tileColumns, chunksPerThread: 1) { rows, columns in
            let (a, b, c) = (a + rows.lowerBound * aRow, b + columns.lowerBound * bColumn, c + rows.lowerBound * ldc + columns.lowerBound)
            switch backend {
            case .blocked:
                danet_gemm(kernels.table, rows.count, columns.count, k, alpha, a, aRow, aColumn, b, bRow, bColumn, beta, c, ldc)
            case .openBLAS:
                danet_openblas_sgemm(transposeA ? 1 : 0, transposeB ? 1 : 0, rows.count, columns.count, k, alpha, a, lda,
                                     b, ldb, beta, c, ldc)
            }
        }
    }

    /// Splits an m x n product across `Threads.current` threads: by columns when each thread gets
    /// several register tiles of them, else by rows (on multiples of the tile's rows, as a packed
    /// matrix requires). Parts share nothing but the inputs.
    static func split(m: Int, n: Int, tileColumns nr: Int, chunksPerThread: Int = Threads.chunksPerThread,
                      _ body: @Sendable (Range<Int>, Range<Int>) -> Void) {
        let mr = Int(DANET_GEMM_MR)
        let threads = Threads.current
        if threads > 1 && n >= threads * 4 * nr {
            Threads.parallelFor((n + nr - 1) / nr, chunksPerThread: chunksPerThread) { part in
                body(0..<m, (part.lowerBound * nr)..<min(n, part.upperBound * nr))
            }
        } else if threads > 1 && m >= threads * 2 * mr {
            Threads.parallelFor((m + mr - 1) / mr, chunksPerThread: chunksPerThread) { part in
                body((part.lowerBound * mr)..<min(m, part.upperBound * mr), 0..<n)
            }
        } else {
            body(0..<m, 0..<n)
        }
    }
}
