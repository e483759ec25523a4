import CVectorKernels

/// A matrix that multiplies many inputs (a convolution's weights), stored once in the layout the
/// GEMM backend reads: the blocked GEMM's panels (the same for every instruction set) in f32 or in
/// bf16 pairs, or plain row-major f32 for OpenBLAS.
package struct PackedMatrix: Sendable {
    /// How the values are stored, which decides the products that read them.
    package enum Element: String, Sendable {
        /// f32 values: f32 products.
        case float32
        /// bf16 values in the blocked GEMM's pair panels (`danet_gemm_bf16_packed_offset`): bf16
        /// products summed in f32, the other operand rounded to bf16 as it is packed.
        case bfloat16

        var byteSize: Int { self == .float32 ? 4 : 2 }
    }

    package let rows: Int
    package let columns: Int
    package let backend: Gemm.Backend
    package let element: Element
    let storage: Storage

    /// The bytes of one matrix: its own, or a read-only file's (a model file mapped into memory,
    /// kept alive by `owner`). Written only while an owned matrix is built, read-only afterwards,
    /// so it is shared across threads freely.
    final class Storage: @unchecked Sendable {
        let bytes: UnsafeMutableRawPointer
        let byteCount: Int
        /// What keeps borrowed bytes valid; nil when this storage owns them.
        let owner: AnyObject?

        init(zeroBytes byteCount: Int) {
            self.byteCount = byteCount
            guard let floats = Platform.zeroedFloats((byteCount + 3) / 4) else {
                fatalError("out of memory for a \(byteCount)-byte weight matrix")
            }
            bytes = UnsafeMutableRawPointer(floats)
            owner = nil
        }

        /// Bytes that live elsewhere: a mapped file's (never written), or a part of a larger
        /// storage (written only while the batch it belongs to is built).
        init(borrowing bytes: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
            self.bytes = UnsafeMutableRawPointer(mutating: bytes)
            self.byteCount = byteCount
            self.owner = owner
        }

        var floats: UnsafeMutablePointer<Float> { bytes.assumingMemoryBound(to: Float.self) }
        var halves: UnsafeMutablePointer<UInt16> { bytes.assumingMemoryBound(to: UInt16.self) }

        deinit { if owner == nil { Platform.release(floats) } }
    }

    /// True when the storage is the blocked GEMM's f32 panels (`danet_gemm_packed_offset`).
    var isPanelLayout: Bool { backend == .blocked && element == .float32 }

    private init(rows: Int, columns: Int, backend: Gemm.Backend, element: Element, storage: Storage) {
        precondition(element == .float32 || backend == .blocked, "bf16 weights need the blocked GEMM")
        self.rows = rows
        self.columns = columns
        self.backend = backend
        self.element = element
        self.storage = storage
    }

    /// Values stored for a `rows` x `columns` matrix of `element` in `backend`'s layout.
    static func count(rows: Int, columns: Int, backend: Gemm.Backend, element: Element) -> Int {
        switch (backend, element) {
        case (.openBLAS, _): rows * columns
        case (.blocked, .float32): danet_gemm_packed_size(rows, columns)
        case (.blocked, .bfloat16): danet_gemm_bf16_packed_size(rows, columns)
        }
    }

    /// A zero matrix in the backend's layout, for a builder that writes its storage directly.
    init(zeros rows: Int, columns: Int, backend: Gemm.Backend, element: Element = .float32) {
        let count = PackedMatrix.count(rows: rows, columns: columns, backend: backend, element: element)
        self.init(rows: rows, columns: columns, backend: backend, element: element,
                  storage: Storage(zeroBytes: count * element.byteSize))
    }

    /// Packs `rows` x `columns` values, row-major with `rowStride` between rows, as `element`
    /// (bf16 needs the blocked backend).
    package init(rows: Int, columns: Int, values: UnsafePointer<Float>, rowStride: Int? = nil, backend: Gemm.Backend = Gemm.backend,
                 element: Element = .float32) {
        self.init(zeros: rows, columns: columns, backend: backend, element: element)
        let stride = rowStride ?? columns
        switch backend {
        case .blocked:
            // Row panels are independent: packed in parallel, a few panels per chunk.
            let mr = Int(DANET_GEMM_MR), panels = (rows + mr - 1) / mr
            nonisolated(unsafe) let values = values
            let storage = storage
            Threads.parallelFor(panels, minimumChunk: max(1, 65_536 / max(columns * mr, 1))) { part in
                let first = part.lowerBound * mr, count = min(rows, part.upperBound * mr) - first
                if element == .float32 {
                    danet_gemm_pack_rows(rows, columns, first, count, values, stride, 1, storage.floats)
                } else {
                    danet_gemm_bf16_pack_rows(rows, columns, first, count, values, stride, 1, storage.halves)
                }
            }
        case .openBLAS:
            let out = storage.floats
            for r in 0..<rows { (out + r * columns).update(from: values + r * stride, count: columns) }
        }
    }

    /// `count` zero matrices of one shape in the backend's layout, one after another in a single
    /// allocation: large enough for transparent huge pages, where many small ones would each fault
    /// in 4 KB pages. For a builder that writes their storage directly.
    static func batch(_ count: Int, rows: Int, columns: Int, backend: Gemm.Backend, element: Element = .float32) -> [PackedMatrix] {
        let size = PackedMatrix.count(rows: rows, columns: columns, backend: backend, element: element) * element.byteSize
        let block = Storage(zeroBytes: size * count)
        return (0..<count).map {
            PackedMatrix(rows: rows, columns: columns, backend: backend, element: element,
                         storage: Storage(borrowing: block.bytes + $0 * size, byteCount: size, owner: block))
        }
    }

    /// Values of the blocked GEMM's panel layout of a `rows` x `columns` matrix of `element`: what
    /// `panelBytes` holds, and what a model file stores.
    package static func panelCount(rows: Int, columns: Int, element: Element = .float32) -> Int {
        count(rows: rows, columns: columns, backend: .blocked, element: element)
    }

    /// A matrix over values already in the panel layout of `stored` (from `panelBytes`), used in
    /// place while `owner` keeps them alive when they are what `element` and `backend` need, else
    /// converted: bf16 to f32 exactly, f32 to bf16 rounded, either to row-major f32 for OpenBLAS.
    package init(rows: Int, columns: Int, panels: UnsafeRawPointer, stored: Element, owner: AnyObject,
                 element: Element = .float32, backend: Gemm.Backend = Gemm.backend) {
        let element = backend == .openBLAS ? .float32 : element
        if backend == .blocked && stored == element {
            let count = PackedMatrix.panelCount(rows: rows, columns: columns, element: element)
            self.init(rows: rows, columns: columns, backend: backend, element: element,
                      storage: Storage(borrowing: panels, byteCount: count * element.byteSize, owner: owner))
            return
        }
        self.init(zeros: rows, columns: columns, backend: backend, element: element)
        let floats = panels.assumingMemoryBound(to: Float.self), halves = panels.assumingMemoryBound(to: UInt16.self)
        switch (backend, stored) {
        case (.blocked, .float32):
            danet_gemm_bf16_from_panels(rows, columns, floats, storage.halves)
        case (.blocked, .bfloat16):
            danet_gemm_bf16_to_panels(rows, columns, halves, storage.floats)
        case (.openBLAS, _):
            let out = storage.floats
            for r in 0..<rows {
                for c in 0..<columns {
                    out[r * columns + c] = stored == .float32
                        ? floats[danet_gemm_packed_offset(rows, columns, r, c)]
                        : danet_float_from_bf16(halves[danet_gemm_bf16_packed_offset(rows, columns, r, c)])
                }
            }
        }
    }

    /// Writes this f32 matrix, rounded, into `target`: a bf16 matrix of the same shape that is
    /// being built.
    func round(into target: PackedMatrix) {
        precondition(element == .float32 && target.element == .bfloat16 && target.rows == rows && target.columns == columns)
        withExtendedLifetime((storage, target.storage)) {
            if backend == .blocked {
                danet_gemm_bf16_from_panels(rows, columns, storage.floats, target.storage.halves)
            } else {
                danet_gemm_bf16_pack_rows(rows, columns, 0, rows, storage.floats, columns, 1, target.storage.halves)
            }
        }
    }

    /// The matrix in the panel layout of `target` (f32 panels, or bf16 pair panels, rounded from
    /// f32 or widened exactly from bf16), whatever the backend: `panelCount` values, padding zero,
    /// as bytes.
    package func panelBytes(as target: Element) -> [UInt8] {
        withExtendedLifetime(storage) {
            if backend == .blocked && element == target {
                return Array(UnsafeRawBufferPointer(start: storage.bytes, count: storage.byteCount))
            }
            let count = PackedMatrix.panelCount(rows: rows, columns: columns, element: target)
            var result = [UInt8](repeating: 0, count: count * target.byteSize)
            result.withUnsafeMutableBytes { out in
                let floats = out.baseAddress!.assumingMemoryBound(to: Float.self)
                let halves = out.baseAddress!.assumingMemoryBound(to: UInt16.self)
                switch (backend, element, target) {
                case (.openBLAS, _, .float32): danet_gemm_pack(rows, columns, storage.floats, columns, 1, floats)
                case (.openBLAS, _, .bfloat16): danet_gemm_bf16_pack_rows(rows, columns, 0, rows, storage.floats, columns, 1, halves)
                case (.blocked, .float32, _): danet_gemm_bf16_from_panels(rows, columns, storage.floats, halves)
                case (.blocked, .bfloat16, _): danet_gemm_bf16_to_panels(rows, columns, storage.halves, floats)
                }
            }
            return result
        }
    }

    /// Packs a row-major array of `rows` x `columns` values.
    package init(rows: Int, columns: Int, values: [Float], backend: Gemm.Backend = Gemm.backend, element: Element = .float32) {
        precondition(values.count == rows * columns, "\(values.count) values for a \(rows) x \(columns) matrix")
        self = values.withUnsafeBufferPointer {
            PackedMatrix(rows: rows, columns: columns, values: $0.baseAddress!, backend: backend, element: element)
        }
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
                multiply(transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a.storage.floats, lda: k,
                         b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, backend: .openBLAS, kernels: kernels)
                if let epilogue { Elementwise.apply(epilogue, to: c, rows: m, columns: n, stride: ldc) }
                return
            }
            let (bRow, bColumn) = transposeB ? (1, ldb) : (ldb, 1)
            nonisolated(unsafe) let b = b, c = c, epilogue = epilogue
            let storage = a.storage, element = a.element
            precondition(element == .float32 || kernels.hasBF16Products, "the \(kernels) kernels have no bf16 products")
            split(m: m, n: n, tileColumns: kernels.tileColumns) { rows, columns in
                let run = { (tail: UnsafePointer<DanetEpilogue>?) in
                    let (b, c) = (b + columns.lowerBound * bColumn, c + rows.lowerBound * ldc + columns.lowerBound)
                    if element == .float32 {
                        danet_gemm_packed(kernels.table, rows.count, columns.count, k, alpha, storage.floats, m, rows.lowerBound,
                                          b, bRow, bColumn, beta, c, ldc, tail)
                    } else {
                        danet_gemm_bf16_packed(kernels.table, rows.count, columns.count, k, alpha, storage.halves, m,
                                               rows.lowerBound, b, bRow, bColumn, beta, c, ldc, tail)
                    }
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
        precondition(batch.allSatisfy { $0.rows == first.rows && $0.columns == first.columns && $0.backend == first.backend
            && $0.element == first.element }, "a batch of products needs matrices of one shape, backend and element")
        guard first.backend == .blocked, Threads.current > 1, batch.count >= Threads.current else {
            for (i, a) in batch.enumerated() {
                multiply(a, n: n, b: b + i * bStride, ldb: ldb, c: c + i * cStride, ldc: ldc, kernels: kernels)
            }
            return
        }
        nonisolated(unsafe) let b = b, c = c
        Threads.parallelFor(batch.count) { items in
            for i in items {
                let storage = batch[i].storage
                withExtendedLifetime(storage) {
                    if first.element == .float32 {
                        danet_gemm_packed(kernels.table, first.rows, n, first.columns, 1, storage.floats, first.rows, 0,
                                          b + i * bStride, ldb, 1, 0, c + i * cStride, ldc, nil)
                    } else {
                        danet_gemm_bf16_packed(kernels.table, first.rows, n, first.columns, 1, storage.halves, first.rows, 0,
                                               b + i * bStride, ldb, 1, 0, c + i * cStride, ldc, nil)
                    }
                }
            }
        }
    }
}
