#if canImport(Glibc)
import Glibc
#endif

/// Per-element passes over activations, fused where a layer needs several at once.
public enum Elementwise {
    /// Elements below which a pass runs on one thread (threads cost more than they save).
    static let parallelThreshold = 1 << 16

    /// `x[c, i] += bias[c]`, then ReLU if asked. x: (channels, plane).
    public static func addBias(_ x: UnsafeMutablePointer<Float>, channels: Int, plane: Int, bias: UnsafePointer<Float>?, relu: Bool) {
        guard bias != nil || relu else { return }
        nonisolated(unsafe) let x = x, bias = bias
        Threads.parallelFor(channels, minimumChunk: max(1, parallelThreshold / max(plane, 1))) { range in
            for channel in range {
                let row = x + channel * plane
                let b = bias?[channel] ?? 0
                if relu {
                    for i in 0..<plane { row[i] = max(row[i] + b, 0) }
                } else {
                    for i in 0..<plane { row[i] += b }
                }
            }
        }
    }

    /// `x = relu(x + residual)`, the end of a ResNet bottleneck.
    public static func addReLU(_ x: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x, residual = residual
        Threads.parallelFor(count, minimumChunk: parallelThreshold) { range in
            for i in range { x[i] = max(x[i] + residual[i], 0) }
        }
    }

    /// `x = gamma * x + residual`, the end of both DANet attention modules.
    public static func scaleAdd(_ x: UnsafeMutablePointer<Float>, gamma: Float, _ residual: UnsafePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x, residual = residual
        Threads.parallelFor(count, minimumChunk: parallelThreshold) { range in
            for i in range { x[i] = gamma * x[i] + residual[i] }
        }
    }

    /// `x += y`.
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x, y = y
        Threads.parallelFor(count, minimumChunk: parallelThreshold) { range in
            for i in range { x[i] += y[i] }
        }
    }
}

public enum Softmax {
    /// Softmax along each row of a (rows, columns) matrix, in place, with the row maximum
    /// subtracted first as PyTorch does.
    public static func rows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        nonisolated(unsafe) let x = x
        Threads.parallelFor(rows, minimumChunk: max(1, 16_384 / max(columns, 1))) { range in
            for r in range { row(x + r * columns, columns: columns) }
        }
    }

    @inline(__always)
    static func row(_ row: UnsafeMutablePointer<Float>, columns: Int) {
        var peak = -Float.infinity
        for i in 0..<columns { peak = max(peak, row[i]) }
        var sum: Float = 0
        for i in 0..<columns {
            let e = (row[i] - peak).exponential
            row[i] = e
            sum += e
        }
        let scale = 1 / sum
        for i in 0..<columns { row[i] *= scale }
    }
}

extension Float {
    @inline(__always)
    var exponential: Float { expf(self) }
}
