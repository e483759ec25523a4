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

extension Gemm {
    /// `c_i = a_i * b_i` for bf16 matrices a_i of one shape, with b_i prepacked at `b + i * bStride`
    /// (`danet_gemm_bf16_prepacked_size` halves each) and c_i at `c + i * cStride`: the batch split
    /// across threads as `multiply(batch:...)` splits it.
    package static func multiply(batch: [PackedMatrix], n: Int, prepackedB b: UnsafePointer<UInt16>, bStride: Int,
                                c: UnsafeMutablePointer<Float>, cStride: Int, ldc: Int, kernels: CPUKernels = .selected) {
        guard let first = batch.first, n > 0 else { return }
        precondition(batch.allSatisfy { $0.rows == first.rows && $0.columns == first.columns && $0.element == .bfloat16
            && $0.backend == .blocked } && kernels.hasBF16Products, "prepacked products need bf16 matrices of one shape")
        let (m, k, nr) = (first.rows, first.columns, kernels.tileColumns), depth = (k + 1) / 2 * 2
        nonisolated(unsafe) let b = b, c = c
        if Threads.current > 1 && batch.count >= Threads.current {
            Threads.parallelFor(batch.count) { items in
                for i in items {
                    withExtendedLifetime(batch[i].storage) {
                        danet_gemm_bf16_prepacked(kernels.table, m, n, k, 1, batch[i].storage.halves, m, 0, b + i * bStride,
                                                  0, c + i * cStride, ldc, nil)
                    }
                }
            }
            return
        }
        for (i, a) in batch.enumerated() {
            nonisolated(unsafe) let storage = a.storage
            // Parts start on whole panels of B (split puts column parts on multiples of nr).
            split(m: m, n: n, tileColumns: nr) { rows, columns in
                withExtendedLifetime(storage) {
                    danet_gemm_bf16_prepacked(kernels.table, rows.count, columns.count, k, 1, storage.halves, m, rows.lowerBound,
                                              b + i * bStride + columns.lowerBound / nr * depth * nr, 0,
                                              c + i * cStride + rows.lowerBound * ldc + columns.lowerBound, ldc, nil)
                }
            }
        }
    }
}
