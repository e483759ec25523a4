import CVectorKernels

/// Per-element passes over activations, fused where a layer needs several at once.
package enum Elementwise {
    /// Elements below which a pass runs on one thread (threads cost more than they save).
    static let parallelThreshold = 1 << 16

    /// `x = gamma * x + residual`, the end of both DANet attention modules.
    package static func scaleAdd(_ x: UnsafeMutablePointer<Float>, gamma: Float, _ residual: UnsafePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x, residual = residual
        Threads.parallelFor(count, minimumChunk: parallelThreshold) { range in
            for i in range { x[i] = gamma * x[i] + residual[i] }
        }
    }

    /// `x += y`.
    package static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x, y = y
        Threads.parallelFor(count, minimumChunk: parallelThreshold) { range in
            for i in range { x[i] += y[i] }
        }
    }

    /// A GEMM epilogue as a separate pass, for backends that cannot run it in the product.
    static func apply(_ e: Gemm.Epilogue, to c: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
        nonisolated(unsafe) let c = c, bias = e.bias, residual = e.residual
        let (residualStride, relu) = (e.residualStride, e.relu)
        Threads.parallelFor(rows, minimumChunk: max(1, parallelThreshold / max(columns, 1))) { range in
            for i in range {
                let row = c + i * stride, shift = bias?[i] ?? 0
                let shortcut = residual.map { $0 + i * residualStride }
                for j in 0..<columns {
                    let value = row[j] + shift + (shortcut?[j] ?? 0)
                    row[j] = relu ? max(value, 0) : value
                }
            }
        }
    }
}

package enum Softmax {
    /// Softmax along each row of a (rows, columns) matrix, in place, with the row maximum
    /// subtracted first as PyTorch does.
    package static func rows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, kernels: CPUKernels = .selected) {
        nonisolated(unsafe) let x = x
        let softmax = kernels.table.pointee.softmax_row!
        Threads.parallelFor(rows, minimumChunk: max(1, 16_384 / max(columns, 1))) { range in
            for r in range { softmax(x + r * columns, columns) }
        }
    }
}
