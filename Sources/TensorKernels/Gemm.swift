import COpenBLAS

/// Row-major matrix products through OpenBLAS.
public enum Gemm {
    /// `c = alpha * op(a) * op(b) + beta * c`, with op(a) m x k, op(b) k x n and c m x n (row-major).
    /// Equivalent of `cblas_sgemm(CblasRowMajor, ...)`.
    @inline(__always)
    public static func multiply(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                                alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// Sets the number of threads OpenBLAS uses; `Threads.set` is the one caller.
    static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
