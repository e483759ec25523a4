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
        let (mr, nr) = (DANET_GEMM_MR, DANET_GEMM_NR)
        let threads = Threads.current
        // Split the columns when each thread gets several register tiles of them, else the rows;
        // every part packs its own panels, so the parts share nothing but A and B.
        if threads > 1 && n >= threads * 4 * nr {
            let panels = (n + nr - 1) / nr
            Threads.parallelFor(panels) { part in
                let first = part.lowerBound * nr, last = min(n, part.upperBound * nr)
                danet_gemm_avx512(m, last - first, k, alpha, a, aRow, aColumn, b + first * bColumn, bRow, bColumn,
                                  beta, c + first, ldc)
            }
        } else if threads > 1 && m >= threads * 2 * mr {
            let panels = (m + mr - 1) / mr
            Threads.parallelFor(panels) { part in
                let first = part.lowerBound * mr, last = min(m, part.upperBound * mr)
                danet_gemm_avx512(last - first, n, k, alpha, a + first * aRow, aRow, aColumn, b, bRow, bColumn,
                                  beta, c + first * ldc, ldc)
            }
        } else {
            danet_gemm_avx512(m, n, k, alpha, a, aRow, aColumn, b, bRow, bColumn, beta, c, ldc)
        }
    }

    /// Sets the number of threads OpenBLAS uses; `Threads.set` is the one caller.
    static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
