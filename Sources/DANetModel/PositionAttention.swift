import TensorKernels
import TorchArchive

/// Position attention (`head.sa`, PAM_Module of the official DANet; mmseg's PAM).
///
/// Q = query(A) and K = key(A) are C/8 x N, V = value(A) is C x N; S = softmax(QᵀK) over each row
/// with no 1/sqrt(d) scaling; out = V Sᵀ; result = gamma * out + A. The reference holds S whole
/// (4.3 GB for a 1024 x 2048 frame); this holds a block of its rows.
struct PositionAttention {
    let query: Conv2d
    let key: Conv2d
    let value: Conv2d
    let gamma: Float
    /// True when out = V Sᵀ runs in bf16 products (V and S rounded, sums in f32): it changed 1 pixel
    /// in 3 million of a trained model's prediction. The energies QᵀK and the softmax stay f32: with no
    /// 1/sqrt(d) scaling the energies are large, and their rounding would move the softmax.
    let bf16Product: Bool

    init(_ source: LayerSource, channels: Int) throws {
        bf16Product = source.precision == .bf16
        let reduced = channels / 8
        query = try Conv2d(source, conv: "head.sa.query_conv", batchNorm: nil,
                           geometry: ConvGeometry(inChannels: channels, outChannels: reduced, kernel: 1), convBias: true)
        key = try Conv2d(source, conv: "head.sa.key_conv", batchNorm: nil,
                         geometry: ConvGeometry(inChannels: channels, outChannels: reduced, kernel: 1), convBias: true)
        value = try Conv2d(source, conv: "head.sa.value_conv", batchNorm: nil,
                           geometry: ConvGeometry(inChannels: channels, outChannels: channels, kernel: 1), convBias: true)
        gamma = try source.store.floats("head.sa.gamma", shape: [1], alternatives: [[]])[0]
    }

    /// Rows of the attention matrix held at once: 16 MB of them, at least 64.
    static let blockFloats = 1 << 22

    /// Runs over blocks of query rows: each block's energies against all keys are softmaxed and
    /// applied at once, so the result is exactly the reference's while only a block x N slice of
    /// the N x N matrix exists (memory linear in the number of pixels).
    /// - Parameter blockRows: query rows per block (default: as many as fit in `blockFloats`).
    func callAsFunction(_ a: FeatureMap, scratch: Scratch, blockRows: Int? = nil) -> FeatureMap {
        let q = query(a, relu: false, scratch: scratch), k = key(a, relu: false, scratch: scratch)
        let v = value(a, relu: false, scratch: scratch)
        let n = a.plane, reduced = q.channels, channels = a.channels
        let block = min(n, max(1, blockRows ?? max(64, PositionAttention.blockFloats / max(n, 1))))
        var rows = [Float](repeating: 0, count: block * n)
        var out = FeatureMap(zeros: channels, a.height, a.width)
        // bf16: V as the products' weights, once; each block's Sᵀ rounded into panels as it is read.
        let values = bf16Product ? v.data.withUnsafeBufferPointer {
            PackedMatrix(rows: channels, columns: n, values: $0.baseAddress!, backend: .blocked, element: .bfloat16)
        } : nil
        var panels = [UInt16](repeating: 0, count: bf16Product ? Gemm.prepackedBF16Count(k: n, n: block) : 0)
        q.data.withUnsafeBufferPointer { qp in
            k.data.withUnsafeBufferPointer { kp in
                v.data.withUnsafeBufferPointer { vp in
                    rows.withUnsafeMutableBufferPointer { s in
                        out.data.withUnsafeMutableBufferPointer { o in
                            for start in stride(from: 0, to: n, by: block) {
                                let count = min(block, n - start)
                                // energy (count x n) = Q[:, start..<start+count]ᵀ K, no 1/sqrt(d) scaling
                                Gemm.multiply(transposeA: true, m: count, n: n, k: reduced, a: qp.baseAddress! + start, lda: n,
                                              b: kp.baseAddress!, ldb: n, c: s.baseAddress!, ldc: n)
                                Softmax.rows(s.baseAddress!, rows: count, columns: n)
                                // out[:, start..<start+count] = V Sᵀ for these query rows
                                if let values {
                                    panels.withUnsafeMutableBufferPointer { b in
                                        Gemm.prepackTransposedBF16(s.baseAddress!, k: n, n: count, lds: n, into: b.baseAddress!)
                                        Gemm.multiply(batch: [values], n: count, prepackedB: b.baseAddress!, bStride: 0,
                                                      c: o.baseAddress! + start, cStride: 0, ldc: n)
                                    }
                                } else {
                                    Gemm.multiply(transposeB: true, m: channels, n: count, k: n, a: vp.baseAddress!, lda: n,
                                                  b: s.baseAddress!, ldb: n, c: o.baseAddress! + start, ldc: n)
                                }
                            }
                            a.data.withUnsafeBufferPointer { r in
                                Elementwise.scaleAdd(o.baseAddress!, gamma: gamma, r.baseAddress!, count: o.count)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Channel attention (`head.sc`, CAM_Module of the official DANet; mmseg's CAM).
///
/// X = A as C x N; energy = X Xᵀ; attention = softmax(rowmax(energy) - energy) (the subtraction is
/// intentional in the reference); out = attention X; result = gamma * out + A.
struct ChannelAttention {
    let gamma: Float

    init(_ source: LayerSource) throws {
        gamma = try source.store.floats("head.sc.gamma", shape: [1], alternatives: [[]])[0]
    }

    func callAsFunction(_ a: FeatureMap) -> FeatureMap {
        let c = a.channels, n = a.plane
        var energy = [Float](repeating: 0, count: c * c)
        var out = FeatureMap(zeros: c, a.height, a.width)
        a.data.withUnsafeBufferPointer { x in
            energy.withUnsafeMutableBufferPointer { e in
                Gemm.multiply(transposeB: true, m: c, n: c, k: n, a: x.baseAddress!, lda: n, b: x.baseAddress!, ldb: n,
                              c: e.baseAddress!, ldc: c)
                for row in 0..<c {
                    let r = e.baseAddress! + row * c
                    var peak = -Float.infinity
                    for i in 0..<c { peak = max(peak, r[i]) }
                    for i in 0..<c { r[i] = peak - r[i] }
                }
                Softmax.rows(e.baseAddress!, rows: c, columns: c)
                out.data.withUnsafeMutableBufferPointer { o in
                    Gemm.multiply(m: c, n: n, k: c, a: e.baseAddress!, lda: c, b: x.baseAddress!, ldb: n, c: o.baseAddress!, ldc: n)
                    Elementwise.scaleAdd(o.baseAddress!, gamma: gamma, x.baseAddress!, count: o.count)
                }
            }
        }
        return out
    }
}
