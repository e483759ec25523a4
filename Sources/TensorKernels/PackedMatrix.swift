import CVectorKernels

/// A matrix that multiplies many inputs (a convolution's weights), stored once in the layout the
/// GEMM backend reads: the AVX-512 kernel's panels, or plain row-major for OpenBLAS.
public struct PackedMatrix: Sendable {
    public let rows: Int
    public let columns: Int
    public let backend: Gemm.Backend
    let storage: [Float]

    /// Packs `rows` x `columns` values, row-major with `rowStride` between rows.
    public init(rows: Int, columns: Int, values: UnsafePointer<Float>, rowStride: Int? = nil, backend: Gemm.Backend = Gemm.backend) {
        self.rows = rows
        self.columns = columns
        self.backend = backend
        let stride = rowStride ?? columns
        switch backend {
        case .avx512:
            storage = [Float](unsafeUninitializedCapacity: danet_gemm_packed_size(rows, columns)) { buffer, count in
                danet_gemm_pack(rows, columns, values, stride, 1, buffer.baseAddress!)
                count = buffer.count
            }
        case .openBLAS:
            storage = [Float](unsafeUninitializedCapacity: rows * columns) { buffer, count in
                for r in 0..<rows { (buffer.baseAddress! + r * columns).update(from: values + r * stride, count: columns) }
                count = rows * columns
            }
        }
    }

    /// Packs a row-major array of `rows` x `columns` values.
    public init(rows: Int, columns: Int, values: [Float], backend: Gemm.Backend = Gemm.backend) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows) x \(columns) matrix")
        self = values.withUnsafeBufferPointer { PackedMatrix(rows: rows, columns: columns, values: $0.baseAddress!, backend: backend) }
    }
}

extension Gemm {
    /// `c = alpha * a * op(b) + beta * c` with a packed: a is m x k, op(b) k x n, c m x n (row-major).
    public static func multiply(_ a: PackedMatrix, transposeB: Bool = false, n: Int, alpha: Float = 1,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let (m, k) = (a.rows, a.columns)
        guard m > 0, n > 0 else { return }
        a.storage.withUnsafeBufferPointer { packed in
            guard a.backend == .avx512 else {
                multiply(transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: packed.baseAddress!, lda: k,
                         b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, backend: .openBLAS)
                return
            }
            let (bRow, bColumn) = transposeB ? (1, ldb) : (ldb, 1)
            nonisolated(unsafe) let packed = packed.baseAddress!, b = b, c = c
            split(m: m, n: n) { rows, columns in
                danet_gemm_avx512_packed(rows.count, columns.count, k, alpha, packed, m, rows.lowerBound,
                                         b + columns.lowerBound * bColumn, bRow, bColumn,
                                         beta, c + rows.lowerBound * ldc + columns.lowerBound, ldc)
            }
        }
    }

    /// `c_i = a_i * b_i` for every matrix a_i of `batch` (all the same shape), with b_i at
    /// `b + i * bStride` and c_i at `c + i * cStride`. The batch, not each product, is split across
    /// threads: one parallel region, and every product runs whole, packing its panels once.
    public static func multiply(batch: [PackedMatrix], n: Int, b: UnsafePointer<Float>, bStride: Int, ldb: Int,
                                c: UnsafeMutablePointer<Float>, cStride: Int, ldc: Int) {
        guard let first = batch.first, n > 0 else { return }
        precondition(batch.allSatisfy { $0.rows == first.rows && $0.columns == first.columns && $0.backend == first.backend },
                     "a batch of products needs matrices of one shape and backend")
        guard first.backend == .avx512, Threads.current > 1, batch.count >= Threads.current else {
            for (i, a) in batch.enumerated() {
                multiply(a, n: n, b: b + i * bStride, ldb: ldb, c: c + i * cStride, ldc: ldc)
            }
            return
        }
        nonisolated(unsafe) let b = b, c = c
        Threads.parallelFor(batch.count) { items in
            for i in items {
                batch[i].storage.withUnsafeBufferPointer { packed in
                    danet_gemm_avx512_packed(first.rows, n, first.columns, 1, packed.baseAddress!, first.rows, 0,
                                             b + i * bStride, ldb, 1, 0, c + i * cStride, ldc)
                }
            }
        }
    }
}
