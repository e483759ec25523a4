import CVectorKernels

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
            let storage = a.storage
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

    /// bf16 values of a k x n B prepacked for the bf16 products of `kernels`.
    package static func prepackedBF16Count(k: Int, n: Int, kernels: CPUKernels = .selected) -> Int {
        danet_gemm_bf16_prepacked_size(kernels.table, k, n)
    }

    /// B = sᵀ prepacked for the bf16 products: the `n` rows of `s` (k values each, `lds` apart)
    /// rounded into B's columns, the rows split across threads.
    package static func prepackTransposedBF16(_ s: UnsafePointer<Float>, k: Int, n: Int, lds: Int, into b: UnsafeMutablePointer<UInt16>,
                                              kernels: CPUKernels = .selected) {
        nonisolated(unsafe) let s = s, b = b
        let nr = kernels.tileColumns
        Threads.parallelFor(n, minimumChunk: max(1, 16_384 / max(k, 1))) { rows in
            danet_gemm_bf16_prepack_rows(nr, k, s, lds, n, rows.lowerBound, rows.count, b)
        }
    }
}
