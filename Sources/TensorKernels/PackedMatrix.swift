import CVectorKernels

/// A matrix that multiplies many inputs (a convolution's weights), stored once in the layout the
/// GEMM backend reads: the blocked GEMM's panels (the same for every instruction set), or plain
/// row-major for OpenBLAS.
package struct PackedMatrix: Sendable {
    package let rows: Int
    package let columns: Int
    package let backend: Gemm.Backend
    let storage: Storage

    /// The floats of one matrix: its own, or a read-only file's (a model file mapped into memory,
    /// kept alive by `owner`). Written only while an owned matrix is built, read-only afterwards,
    /// so it is shared across threads freely.
    final class Storage: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        /// What keeps borrowed floats valid; nil when this storage owns them.
        let owner: AnyObject?

        init(zeros count: Int) {
            self.count = count
            guard let floats = Platform.zeroedFloats(count) else {
                fatalError("out of memory for a \(count)-float weight matrix")
            }
            pointer = floats
            owner = nil
        }

        /// Floats that live elsewhere: a mapped file's (never written), or a part of a larger
        /// storage (written only while the batch it belongs to is built).
        init(borrowing floats: UnsafePointer<Float>, count: Int, owner: AnyObject) {
            pointer = UnsafeMutablePointer(mutating: floats)
            self.count = count
            self.owner = owner
        }

        deinit { if owner == nil { Platform.release(pointer) } }
    }

    /// True when the storage is the blocked GEMM's panels (`danet_gemm_packed_offset`), false
    /// when it is row-major.
    var isPanelLayout: Bool { backend == .blocked }

    private init(rows: Int, columns: Int, backend: Gemm.Backend, storage: Storage) {
        self.rows = rows
        self.columns = columns
        self.backend = backend
        self.storage = storage
    }

    /// A zero matrix in the backend's layout, for a builder that writes its storage directly.
    init(zeros rows: Int, columns: Int, backend: Gemm.Backend) {
        self.init(rows: rows, columns: columns, backend: backend,
                  storage: Storage(zeros: backend == .blocked ? danet_gemm_packed_size(rows, columns) : rows * columns))
    }

    /// Packs `rows` x `columns` values, row-major with `rowStride` between rows.
    package init(rows: Int, columns: Int, values: UnsafePointer<Float>, rowStride: Int? = nil, backend: Gemm.Backend = Gemm.backend) {
        self.init(zeros: rows, columns: columns, backend: backend)
        let stride = rowStride ?? columns, out = storage.pointer
        switch backend {
        case .blocked:
            // Row panels are independent: packed in parallel, a few panels per chunk.
            let mr = Int(DANET_GEMM_MR), panels = (rows + mr - 1) / mr
            nonisolated(unsafe) let values = values, out = out
            Threads.parallelFor(panels, minimumChunk: max(1, 65_536 / max(columns * mr, 1))) { part in
                let first = part.lowerBound * mr, count = min(rows, part.upperBound * mr) - first
                danet_gemm_pack_rows(rows, columns, first, count, values, stride, 1, out)
            }
        case .openBLAS:
            for r in 0..<rows { (out + r * columns).update(from: values + r * stride, count: columns) }
        }
    }

    /// `count` zero matrices of one shape in the backend's layout, one after another in a single
    /// allocation: large enough for transparent huge pages, where many small ones would each fault
    /// in 4 KB pages. For a builder that writes their storage directly.
    static func batch(_ count: Int, rows: Int, columns: Int, backend: Gemm.Backend) -> [PackedMatrix] {
        let size = backend == .blocked ? danet_gemm_packed_size(rows, columns) : rows * columns
        let block = Storage(zeros: size * count)
        return (0..<count).map {
            PackedMatrix(rows: rows, columns: columns, backend: backend,
                         storage: Storage(borrowing: block.pointer + $0 * size, count: size, owner: block))
        }
    }

    /// Floats of the blocked GEMM's panel layout of a `rows` x `columns` matrix: what `panels`
    /// holds, and what a model file stores.
    package static func panelCount(rows: Int, columns: Int) -> Int { danet_gemm_packed_size(rows, columns) }

    /// A matrix over floats already in the panel layout (from `panels`), used in place while
    /// `owner` keeps them alive; copied into row-major order when the backend is OpenBLAS.
    package init(rows: Int, columns: Int, panels: UnsafePointer<Float>, owner: AnyObject, backend: Gemm.Backend = Gemm.backend) {
        switch backend {
        case .blocked:
            self.init(rows: rows, columns: columns, backend: backend,
                      storage: Storage(borrowing: panels, count: PackedMatrix.panelCount(rows: rows, columns: columns), owner: owner))
        case .openBLAS:
            self.init(zeros: rows, columns: columns, backend: backend)
            let out = storage.pointer
            for r in 0..<rows {
                for c in 0..<columns { out[r * columns + c] = panels[danet_gemm_packed_offset(rows, columns, r, c)] }
            }
        }
    }

    /// The matrix in the panel layout, whatever the backend: `panelCount` floats, padding rows zero.
    package func panels() -> [Float] {
        withExtendedLifetime(storage) {
            if backend == .blocked { return Array(UnsafeBufferPointer(start: storage.pointer, count: storage.count)) }
            var result = [Float](repeating: 0, count: PackedMatrix.panelCount(rows: rows, columns: columns))
            result.withUnsafeMutableBufferPointer { danet_gemm_pack(rows, columns, storage.pointer, columns, 1, $0.baseAddress!) }
            return result
        }
    }

    /// Packs a row-major array of `rows` x `columns` values.
    package init(rows: Int, columns: Int, values: [Float], backend: Gemm.Backend = Gemm.backend) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows) x \(columns) matrix")
        self = values.withUnsafeBufferPointer { PackedMatrix(rows: rows, columns: columns, values: $0.baseAddress!, backend: backend) }
    }
}

extension Gemm {
    /// What a product does to its final sums before storing them, in this order: add bias[i] to
    /// row i, add residual[i * residualStride + j], apply ReLU. A convolution's bias, its
    /// bottleneck's shortcut and its activation, without another pass over the output.
    package struct Epilogue {
        package var bias: UnsafePointer<Float>?
        package var residual: UnsafePointer<Float>?
        package var residualStride: Int
        package var relu: Bool

        package init(bias: UnsafePointer<Float>? = nil, residual: UnsafePointer<Float>? = nil, residualStride: Int = 0,
                    relu: Bool = false) {
            self.bias = bias
            self.residual = residual
            self.residualStride = residualStride
            self.relu = relu
        }

        var isEmpty: Bool { bias == nil && residual == nil && !relu }

        /// The same epilogue for the block of C from `row`, `column`.
        func offset(row: Int, column: Int) -> Epilogue {
            Epilogue(bias: bias.map { $0 + row }, residual: residual.map { $0 + row * residualStride + column },
                     residualStride: residualStride, relu: relu)
        }
    }

    /// `c = alpha * a * op(b) + beta * c`, then `epilogue`, with a packed: a is m x k, op(b) k x n,
    /// c m x n (row-major).
    package static func multiply(_ a: PackedMatrix, transposeB: Bool = false, n: Int, alpha: Float = 1,
                                b: UnsafePointer<Float>, ldb: Int, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                                epilogue: Epilogue? = nil, kernels: CPUKernels = .selected) {
        let (m, k) = (a.rows, a.columns)
        guard m > 0, n > 0 else { return }
        let epilogue = epilogue?.isEmpty == false ? epilogue : nil
        withExtendedLifetime(a.storage) {
            guard a.backend == .blocked else {
                multiply(transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a.storage.pointer, lda: k,
                         b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, backend: .openBLAS, kernels: kernels)
                if let epilogue { Elementwise.apply(epilogue, to: c, rows: m, columns: n, stride: ldc) }
                return
            }
            let (bRow, bColumn) = transposeB ? (1, ldb) : (ldb, 1)
            nonisolated(unsafe) let packed = a.storage.pointer, b = b, c = c, epilogue = epilogue
            split(m: m, n: n, tileColumns: kernels.tileColumns) { rows, columns in
                let run = { (tail: UnsafePointer<DanetEpilogue>?) in
                    danet_gemm_packed(kernels.table, rows.count, columns.count, k, alpha, packed, m, rows.lowerBound,
                                      b + columns.lowerBound * bColumn, bRow, bColumn,
                                      beta, c + rows.lowerBound * ldc + columns.lowerBound, ldc, tail)
                }
                guard let e = epilogue?.offset(row: rows.lowerBound, column: columns.lowerBound) else { return run(nil) }
                let part = DanetEpilogue(bias: e.bias, residual: e.residual, residual_ld: e.residualStride, relu: e.relu ? 1 : 0)
                withUnsafePointer(to: part) { run($0) }
            }
        }
    }

    /// `c_i = a_i * b_i` for every matrix a_i of `batch` (all the same shape), with b_i at
    /// `b + i * bStride` and c_i at `c + i * cStride`. The batch, not each product, is split across
    /// threads: one parallel region, and every product runs whole, packing its panels once.
    package static func multiply(batch: [PackedMatrix], n: Int, b: UnsafePointer<Float>, bStride: Int, ldb: Int,
                                c: UnsafeMutablePointer<Float>, cStride: Int, ldc: Int, kernels: CPUKernels = .selected) {
        guard let first = batch.first, n > 0 else { return }
        precondition(batch.allSatisfy { $0.rows == first.rows && $0.columns == first.columns && $0.backend == first.backend },
                     "a batch of products needs matrices of one shape and backend")
        guard first.backend == .blocked, Threads.current > 1, batch.count >= Threads.current else {
            for (i, a) in batch.enumerated() {
                multiply(a, n: n, b: b + i * bStride, ldb: ldb, c: c + i * cStride, ldc: ldc, kernels: kernels)
            }
            return
        }
        nonisolated(unsafe) let b = b, c = c
        Threads.parallelFor(batch.count) { items in
            for i in items {
                withExtendedLifetime(batch[i].storage) {
                    danet_gemm_packed(kernels.table, first.rows, n, first.columns, 1, batch[i].storage.pointer, first.rows, 0,
                                      b + i * bStride, ldb, 1, 0, c + i * cStride, ldc, nil)
                }
            }
        }
    }
}
