import CVectorKernels

/// Winograd F(2x2, 3x3) for 3x3 convolutions with stride 1 and padding equal to the dilation.
///
/// A dilated 3x3 convolution is an ordinary one on each of the d x d interleaved sub-grids of the
/// image, so every output 2x2 tile of a sub-grid costs 16 products per channel pair instead of 36:
/// 2.25 times fewer multiplications, in 16 matrix products per block of tiles.
public enum Winograd {
    /// True when `forward` computes this convolution.
    public static func applies(to g: ConvGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.padding == g.dilation
    }

    /// U = G g Gᵀ for every (output, input) channel pair: 16 packed (outChannels x inChannels) matrices.
    /// - Parameter weight: (outChannels, inChannels, 3, 3).
    public static func transformWeights(_ weight: [Float], outChannels: Int, inChannels: Int) -> [PackedMatrix] {
        var u = [Float](repeating: 0, count: 16 * outChannels * inChannels)
        let plane = outChannels * inChannels
        weight.withUnsafeBufferPointer { w in
            u.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let w = w.baseAddress!, out = out.baseAddress!
                Threads.parallelFor(outChannels) { outputs in
                    for k in outputs {
                        for c in 0..<inChannels {
                            let g = w + (k * inChannels + c) * 9
                            // (G g) Gᵀ in double, so the transform adds no rounding of its own.
                            for i in 0..<4 {
                                var row = (0.0, 0.0, 0.0)
                                for j in 0..<3 {
                                    let (g0, g1, g2) = (Double(g[j]), Double(g[3 + j]), Double(g[6 + j]))
                                    let value = i == 0 ? g0 : i == 1 ? (g0 + g1 + g2) / 2 : i == 2 ? (g0 - g1 + g2) / 2 : g2
                                    if j == 0 { row.0 = value } else if j == 1 { row.1 = value } else { row.2 = value }
                                }
                                let at = i * 4 * plane + k * inChannels + c
                                out[at] = Float(row.0)
                                out[at + plane] = Float((row.0 + row.1 + row.2) / 2)
                                out[at + 2 * plane] = Float((row.0 - row.1 + row.2) / 2)
                                out[at + 3 * plane] = Float(row.2)
                            }
                        }
                    }
                }
            }
        }
        return u.withUnsafeBufferPointer { u in
            (0..<16).map { PackedMatrix(rows: outChannels, columns: inChannels, values: u.baseAddress! + $0 * plane) }
        }
    }

    /// Tiles per block so that the transformed input stays within `workspaceFloats`.
    /// Whole register-tile widths of the GEMM where the workspace allows, so no product runs a
    /// mostly empty last column panel.
    static func tilesPerBlock(inChannels: Int, outChannels: Int, workspaceFloats: Int) -> Int {
        let fits = max(1, workspaceFloats / (16 * (inChannels + outChannels)))
        let panel = Int(DANET_GEMM_NR)
        return fits >= panel ? fits / panel * panel : fits
    }

    /// A run of tiles along one tile row of one sub-grid: rows from `a`, columns from `b`, both
    /// stepping by the dilation; the first tile's left output column is `b`.
    struct Segment {
        let a: Int, b: Int, row: Int, tiles: Int
    }

    /// Every tile of the image as segments of at most `limit` tiles.
    static func segments(height: Int, width: Int, dilation d: Int, limit: Int) -> [Segment] {
        var result: [Segment] = []
        for a in 0..<min(d, height) {
            let rows = ((height - a + d - 1) / d + 1) / 2
            for b in 0..<min(d, width) {
                let columns = ((width - b + d - 1) / d + 1) / 2
                for row in 0..<rows {
                    for first in stride(from: 0, to: columns, by: limit) {
                        result.append(Segment(a: a, b: b + 2 * first * d, row: row, tiles: min(limit, columns - first)))
                    }
                }
            }
        }
        return result
    }

    /// Convolves one image. Bias and ReLU are applied as the tiles are written.
    /// - Parameters:
    ///   - input: (inChannels, height, width); output: (outChannels, height, width)
    ///   - transformed: from `transformWeights`
    ///   - workspace: at least 16 * (inChannels + outChannels) floats
    public static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, height: Int, width: Int,
                               transformed: [PackedMatrix], bias: UnsafePointer<Float>?, relu: Bool,
                               output: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>) {
        precondition(applies(to: g) && transformed.count == 16, "Winograd F(2x2, 3x3) does not compute \(g)")
        let (cin, cout, d) = (g.inChannels, g.outChannels, g.dilation)
        let block = tilesPerBlock(inChannels: cin, outChannels: cout, workspaceFloats: workspace.count)
        precondition(16 * (cin + cout) <= workspace.count, "workspace too small for one Winograd tile")
        let pieces = segments(height: height, width: width, dilation: d, limit: block)
        let scratchFloats = danet_winograd_scratch(pieces.map(\.tiles).max() ?? 0)
        nonisolated(unsafe) let input = input, output = output, bias = bias
        var first = 0
        while first < pieces.count {
            // As many whole segments as the block holds; offsets are where each one's tiles start.
            var starts: [Int] = [], total = 0, end = first
            while end < pieces.count && total + pieces[end].tiles <= block {
                starts.append(total)
                total += pieces[end].tiles
                end += 1
            }
            let offsets = starts, count = total
            let chunk = Array(pieces[first..<end])
            nonisolated(unsafe) let v = workspace.baseAddress!, m = workspace.baseAddress! + 16 * cin * count
            // V = Bᵀ d B: (16, cin, count).
            Threads.parallelFor(cin, minimumChunk: 4) { channels in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
                defer { scratch.deallocate() }
                for c in channels {
                    for (piece, offset) in zip(chunk, offsets) {
                        danet_winograd_input_row(input + c * height * width, height, width, d, piece.a, piece.b, piece.row,
                                                 piece.tiles, v + c * count + offset, cin * count, scratch)
                    }
                }
            }
            // M[ξ] = U[ξ] V[ξ]: (cout x cin) times (cin x count), for the 16 positions ξ.
            for xi in 0..<16 {
                Gemm.multiply(transformed[xi], n: count, b: v + xi * cin * count, ldb: count, c: m + xi * cout * count, ldc: count)
            }
            // Y = Aᵀ M A, written into the sub-grid positions.
            Threads.parallelFor(cout, minimumChunk: 4) { channels in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
                defer { scratch.deallocate() }
                for k in channels {
                    for (piece, offset) in zip(chunk, offsets) {
                        danet_winograd_output_row(m + k * count + offset, cout * count, piece.tiles, bias?[k] ?? 0, relu ? 1 : 0,
                                                  output + k * height * width, height, width, d, piece.a, piece.b, piece.row,
                                                  scratch)
                    }
                }
            }
            first = end
        }
    }
}
