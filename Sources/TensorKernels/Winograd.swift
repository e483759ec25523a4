import CVectorKernels

/// Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3 convolutions with stride 1 and padding equal to
/// the dilation.
///
/// A dilated 3x3 convolution is an ordinary one on each of the d x d interleaved sub-grids of the
/// image. An m x m output tile of a sub-grid costs (m + 2)² products per channel pair instead of
/// 9 m²: 2.25 times fewer multiplications for m = 2, 4 times fewer for m = 4, in (m + 2)² matrix
/// products per block of tiles. The larger tile rounds more (its transforms have entries up to 8).
package enum Winograd {
    /// The output tile: F(2x2, 3x3) or F(4x4, 3x3).
    package enum Tile: Int, Sendable, CaseIterable {
        case f2x2 = 2
        case f4x4 = 4

        /// Values per transformed tile, (m + 2)².
        package var positions: Int { (rawValue + 2) * (rawValue + 2) }
    }

    /// Transformed weights: one packed (outChannels x inChannels) matrix per tile position.
    package struct Weights: Sendable {
        package let tile: Tile
        /// One (outChannels x inChannels) matrix per tile position.
        package let matrices: [PackedMatrix]

        /// Weights from matrices transformed before (a model file's).
        package init(tile: Tile, matrices: [PackedMatrix]) {
            precondition(matrices.count == tile.positions, "\(matrices.count) matrices for \(tile.positions) tile positions")
            self.tile = tile
            self.matrices = matrices
        }
    }

    /// True when `forward` computes this convolution.
    package static func applies(to g: ConvGeometry) -> Bool {
        g.kernel == 3 && g.stride == 1 && g.padding == g.dilation
    }

    /// Workspace floats per tile: the transformed input and the products.
    package static func floatsPerTile(_ g: ConvGeometry, tile: Tile) -> Int {
        tile.positions * (g.inChannels + g.outChannels)
    }

    /// U = G g Gᵀ for every (output, input) channel pair, stored as `element` (bf16: the f32
    /// transform rounded once).
    /// - Parameter weight: (outChannels, inChannels, 3, 3).
    package static func transformWeights(_ weight: [Float], outChannels: Int, inChannels: Int, tile: Tile,
                                        backend: Gemm.Backend = Gemm.backend, element: PackedMatrix.Element = .float32) -> Weights {
        // Written straight into the packed matrices, all positions of a row of filters at a time:
        // no full-size copy exists beside the result, and each filter is read once.
        let matrices = PackedMatrix.batch(tile.positions, rows: outChannels, columns: inChannels, backend: backend)
        nonisolated(unsafe) let outputs: [UnsafeMutablePointer<Float>?] = matrices.map { $0.storage.floats }
        weight.withUnsafeBufferPointer { w in
            nonisolated(unsafe) let w = w.baseAddress!
            outputs.withUnsafeBufferPointer { targets in
                nonisolated(unsafe) let targets = targets.baseAddress!
                Threads.parallelFor(outChannels) { rows in
                    danet_winograd_filters(Int32(tile.rawValue), w, inChannels, outChannels, rows.lowerBound, rows.count,
                                           targets, matrices[0].isPanelLayout ? 1 : 0)
                }
            }
        }
        guard element == .bfloat16 else { return Weights(tile: tile, matrices: matrices) }
        let rounded = PackedMatrix.batch(matrices.count, rows: outChannels, columns: inChannels, backend: .blocked, element: .bfloat16)
        Threads.parallelFor(matrices.count) { positions in
            for p in positions { matrices[p].round(into: rounded[p]) }
        }
        return Weights(tile: tile, matrices: rounded)
    }

    /// Tiles per block so that the transformed input stays within `workspaceFloats`.
    /// Whole register-tile widths of the GEMM where the workspace allows, so no product runs a
    /// mostly empty last column panel.
    static func tilesPerBlock(perTile: Int, workspaceFloats: Int, tileColumns panel: Int) -> Int {
        let fits = max(1, workspaceFloats / perTile)
        return fits >= panel ? fits / panel * panel : fits
    }

    /// A run of tiles along one tile row of one sub-grid: rows from `a`, columns from `b`, both
    /// stepping by the dilation; the first tile's left output column is `b`.
    struct Segment {
        let a: Int, b: Int, row: Int, tiles: Int
    }

    /// Every tile of the image as segments of at most `limit` tiles.
    static func segments(height: Int, width: Int, dilation d: Int, tile m: Int, limit: Int) -> [Segment] {
        var result: [Segment] = []
        for a in 0..<min(d, height) {
            let rows = ((height - a + d - 1) / d + m - 1) / m
            for b in 0..<min(d, width) {
                let columns = ((width - b + d - 1) / d + m - 1) / m
                for row in 0..<rows {
                    for first in stride(from: 0, to: columns, by: limit) {
                        result.append(Segment(a: a, b: b + m * first * d, row: row, tiles: min(limit, columns - first)))
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
    ///   - workspace: at least `floatsPerTile(g, tile: transformed.tile)` floats
    ///   - kernels: the transforms and the products' micro-kernel
    package static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, height: Int, width: Int,
                               transformed: Weights, bias: UnsafePointer<Float>?, relu: Bool,
                               output: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>,
                               kernels: CPUKernels = .selected) {
        let tile = transformed.tile, positions = tile.positions
        precondition(applies(to: g) && transformed.matrices.count == positions
            && transformed.matrices[0].rows == g.outChannels && transformed.matrices[0].columns == g.inChannels,
            "Winograd weights do not fit \(g)")
        let (cin, cout, d) = (g.inChannels, g.outChannels, g.dilation)
        let perTile = floatsPerTile(g, tile: tile)
        precondition(perTile <= workspace.count, "workspace too small for one Winograd tile")
        // bf16 weights: the input transform writes V rounded and packed for the products (half the
        // bytes, no packing pass), where the workspace holds whole panels of tiles.
        let prepacked = transformed.matrices[0].element == .bfloat16
            && tilesPerBlock(perTile: prepackedFloatsPerTile(g, tile: tile), workspaceFloats: workspace.count,
                             tileColumns: kernels.tileColumns) >= kernels.tileColumns
        let block = tilesPerBlock(perTile: prepacked ? prepackedFloatsPerTile(g, tile: tile) : perTile,
                                  workspaceFloats: workspace.count, tileColumns: kernels.tileColumns)
        let pieces = segments(height: height, width: width, dilation: d, tile: tile.rawValue, limit: block)
        let scratchFloats = danet_winograd_scratch(pieces.map(\.tiles).max() ?? 0)
        let table = kernels.table.pointee
        let (inputRow, outputRow) = tile == .f2x2
            ? (table.winograd_input_row!, table.winograd_output_row!)
            : (table.winograd4_input_row!, table.winograd4_output_row!)
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
            if prepacked {
                let m = transformPrepacked(input: input, height: height, width: width, dilation: d, channels: cin,
                                           pieces: chunk, offsets: offsets, count: count, inputRow: inputRow,
                                           scratchFloats: scratchFloats, positions: positions, workspace: workspace,
                                           matrices: transformed.matrices, outChannels: cout, kernels: kernels)
                transformOutput(m, pieces: chunk, offsets: offsets, count: count, outChannels: cout, outputRow: outputRow,
                                scratchFloats: scratchFloats, bias: bias, relu: relu, output: output, height: height,
                                width: width, dilation: d)
                first = end
                continue
            }
            nonisolated(unsafe) let v = workspace.baseAddress!, m = workspace.baseAddress! + positions * cin * count
            // V = Bᵀ d B: (positions, cin, count).
            Threads.parallelFor(cin, minimumChunk: 4) { channels in
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
                defer { scratch.deallocate() }
                for c in channels {
                    for (piece, offset) in zip(chunk, offsets) {
                        inputRow(input + c * height * width, height, width, d, piece.a, piece.b, piece.row,
                                 piece.tiles, v + c * count + offset, cin * count, scratch)
                    }
                }
            }
            // M[ξ] = U[ξ] V[ξ]: (cout x cin) times (cin x count), for every position ξ.
            Gemm.multiply(batch: transformed.matrices, n: count, b: v, bStride: cin * count, ldb: count,
                          c: m, cStride: cout * count, ldc: count, kernels: kernels)
            transformOutput(m, pieces: chunk, offsets: offsets, count: count, outChannels: cout, outputRow: outputRow,
                            scratchFloats: scratchFloats, bias: bias, relu: relu, output: output, height: height,
                            width: width, dilation: d)
            first = end
        }
    }

    /// Y = Aᵀ M A of every output channel, written into the sub-grid positions.
    static func transformOutput(_ m: UnsafeMutablePointer<Float>, pieces: [Segment], offsets: [Int], count: Int, outChannels cout: Int,
                                outputRow: OutputRow, scratchFloats: Int, bias: UnsafePointer<Float>?, relu: Bool,
                                output: UnsafeMutablePointer<Float>, height: Int, width: Int, dilation d: Int) {
        nonisolated(unsafe) let m = m, output = output, bias = bias
        Threads.parallelFor(cout, minimumChunk: 4) { channels in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
            defer { scratch.deallocate() }
            for k in channels {
                for (piece, offset) in zip(pieces, offsets) {
                    outputRow(m + k * count + offset, cout * count, piece.tiles, bias?[k] ?? 0, relu ? 1 : 0,
                              output + k * height * width, height, width, d, piece.a, piece.b, piece.row, scratch)
                }
            }
        }
    }

    /// A row transform of the kernel table.
    typealias InputRow = @convention(c) (UnsafePointer<Float>?, Int, Int, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>?,
                                         Int, UnsafeMutablePointer<Float>?) -> Void
    typealias OutputRow = @convention(c) (UnsafePointer<Float>?, Int, Int, Float, Int32, UnsafeMutablePointer<Float>?, Int, Int,
                                          Int, Int, Int, Int, UnsafeMutablePointer<Float>?) -> Void
}
