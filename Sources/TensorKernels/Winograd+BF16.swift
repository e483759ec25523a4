import CVectorKernels

extension Winograd {
    /// Workspace floats per tile when V is written as bf16 panels: half a float per input channel
    /// (rounded up to pairs) and the f32 products.
    static func prepackedFloatsPerTile(_ g: ConvGeometry, tile: Tile) -> Int {
        tile.positions * ((g.inChannels + 1) / 2 + g.outChannels)
    }

    /// V = Bᵀ d B for one block of tiles, written straight into bf16 panels for the products
    /// (`danet_gemm_bf16_prepacked`), then M[ξ] = U[ξ] V[ξ]. Input channels go in pairs, as the
    /// panels hold them: each pair is transformed into f32 rows that stay in cache, then rounded and
    /// interleaved. Returns M: (positions, cout, count) floats after V in the workspace.
    static func transformPrepacked(input: UnsafePointer<Float>, height: Int, width: Int, dilation d: Int, channels cin: Int,
                                   pieces: [Segment], offsets: [Int], count: Int, inputRow: InputRow, scratchFloats: Int,
                                   positions: Int, workspace: UnsafeMutableBufferPointer<Float>, matrices: [PackedMatrix],
                                   outChannels cout: Int, kernels: CPUKernels) -> UnsafeMutablePointer<Float> {
        let nr = kernels.tileColumns, depth = (cin + 1) / 2 * 2
        let size = danet_gemm_bf16_prepacked_size(kernels.table, cin, count), packPairs = kernels.table.pointee.pack_pairs_bf16!
        precondition(positions * (size + 1) / 2 + positions * cout * count <= workspace.count,
                     "workspace too small for a block of \(count) prepacked Winograd tiles")
        // Only C reads and writes these halves.
        nonisolated(unsafe) let v = UnsafeMutableRawPointer(workspace.baseAddress!).assumingMemoryBound(to: UInt16.self)
        nonisolated(unsafe) let input = input
        Threads.parallelFor((cin + 1) / 2, minimumChunk: 2) { pairs in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: scratchFloats)
            let rows = UnsafeMutablePointer<Float>.allocate(capacity: 2 * positions * count)
            defer {
                scratch.deallocate()
                rows.deallocate()
            }
            for pair in pairs {
                let channels = 2 * pair..<min(cin, 2 * pair + 2)
                for (index, c) in channels.enumerated() {
                    for (piece, offset) in zip(pieces, offsets) {
                        inputRow(input + c * height * width, height, width, d, piece.a, piece.b, piece.row, piece.tiles,
                                 rows + index * positions * count + offset, count, scratch)
                    }
                }
                let second = channels.count == 2 ? rows + positions * count : nil
                for xi in 0..<positions {
                    packPairs(rows + xi * count, second.map { UnsafePointer($0 + xi * count) }, count, nr,
                                                  depth, v + xi * size + 2 * pair * nr)
                }
            }
        }
        let m = workspace.baseAddress! + (positions * size + 1) / 2
        Gemm.multiply(batch: matrices, n: count, prepackedB: v, bStride: size, c: m, cStride: cout * count, ldc: count,
                      kernels: kernels)
        return m
    }
}
