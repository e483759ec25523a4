import CVectorKernels
import COpenBLAS

#if canImport(Glibc)
import Glibc
#endif

/// Row-major matrix products: the package's AVX-512 kernel where the CPU has it, OpenBLAS elsewhere.
public enum Gemm {
    /// Which implementation computes the products.
    public enum Backend: String, Sendable, CaseIterable {
        /// CVectorKernels, split across `Threads.current` threads by this type.
        case avx512
        /// `cblas_sgemm`, threaded by OpenBLAS.
        case openBLAS = "openblas"
    }

    /// The default backend: AVX-512 when the CPU has it, unless `DANET_GEMM=openblas` is set.
    public static let backend: Backend = {
        if let name = getenv("DANET_GEMM"), String(cString: name).lowercased() == Backend.openBLAS.rawValue {
            return .openBLAS
        }
        return danet_gemm_avx512_available() != 0 ? .avx512 : .openBLAS
    }()

    /// True when this CPU can run the AVX-512 backend.
    public static var avx512Available: Bool { danet_gemm_avx512_available() != 0 }

    /// `c = alpha * op(a) * op(b) + beta * c`, with op(a) m x k, op(b) k x n and c m x n (row-major).
    /// Equivalent of `cblas_sgemm(CblasRowMajor, ...)`; with beta = 0, c is not read.
    public static func multiply(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                                alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, backend: Backend = Gemm.backend) {
        guard m > 0, n > 0 else { return }
        precondition(backend != .avx512 || avx512Available, "this CPU has no AVX-512F")
        guard backend == .avx512 else {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
            return
        }
        let (aRow, aColumn) = transposeA ? (1, lda) : (lda, 1)
        let (bRow, bColumn) = transposeB ? (1, ldb) : (ldb, 1)
        nonisolated(unsafe) let a = a, b = b, c = c
        split(m: m, n: n) { rows, columns in
            danet_gemm_avx512(rows.count, columns.count, k, alpha, a + rows.lowerBound * aRow, aRow, aColumn,
                              b + columns.lowerBound * bColumn, bRow, bColumn, beta,
                              c + rows.lowerBound * ldc + columns.lowerBound, ldc)
        }
    }

    /// Splits an m x n product across `Threads.current` threads: by columns when each thread gets
    /// several register tiles of them, else by rows. Parts share nothing but the inputs.
    static func split(m: Int, n: Int, _ body: @Sendable (Range<Int>, Range<Int>) -> Void) {
        let (mr, nr) = (DANET_GEMM_MR, DANET_GEMM_NR)
        let threads = Threads.current
        if threads > 1 && n >= threads * 4 * nr {
            Threads.parallelFor((n + nr - 1) / nr) { part in
                body(0..<m, (part.lowerBound * nr)..<min(n, part.upperBound * nr))
            }
        } else if threads > 1 && m >= threads * 2 * mr {
            Threads.parallelFor((m + mr - 1) / mr) { part in
                body((part.lowerBound * mr)..<min(m, part.upperBound * mr), 0..<n)
            }
        } else {
            body(0..<m, 0..<n)
        }
    }

    /// Sets the number of threads OpenBLAS uses; `Threads.set` is the one caller.
    static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
