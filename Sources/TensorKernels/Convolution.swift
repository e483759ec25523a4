/// The geometry of a 2-D convolution (PyTorch `nn.Conv2d` with groups = 1).
package struct ConvGeometry: Sendable, Equatable {
    package let inChannels: Int
    package let outChannels: Int
    package let kernel: Int
    package let stride: Int
    package let padding: Int
    package let dilation: Int

    package init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// Rows of the unfolded input: one per (input channel, kernel row, kernel column).
    package var patchSize: Int { inChannels * kernel * kernel }

    /// Output height or width for an input of `size`, as PyTorch computes it.
    package func outputSize(_ size: Int) -> Int {
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    /// True when the convolution is a plain matrix product over pixels (1x1, stride 1, no padding).
    package var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

package enum Convolution {
    /// Convolves one image; bias, a residual and ReLU are applied as the products store the output.
    ///
    /// The input is unfolded (im2col) a block of output pixels at a time into `workspace`, so the
    /// workspace bounds the memory whatever the image size; a pointwise convolution needs none.
    /// - Parameters:
    ///   - input: (inChannels, height, width)
    ///   - weight: (outChannels, patchSize), rows in (channel, ky, kx) order as PyTorch stores them, packed
    ///   - bias: (outChannels) or nil
    ///   - residual: (outChannels, output plane) added before ReLU, or nil
    ///   - output: (outChannels, outputSize(height), outputSize(width))
    ///   - workspace: at least `patchSize` floats unless the convolution is pointwise
    ///   - kernels: the products' micro-kernel
    package static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, height: Int, width: Int,
                               weight: PackedMatrix, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>? = nil,
                               relu: Bool, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>,
                               kernels: CPUKernels = .selected) {
        let outHeight = g.outputSize(height), outWidth = g.outputSize(width)
        let pixels = outHeight * outWidth
        precondition(weight.rows == g.outChannels && weight.columns == g.patchSize, "weights do not fit \(g)")
        let epilogue = Gemm.Epilogue(bias: bias, residual: residual, residualStride: pixels, relu: relu)
        if g.isPointwise {
            Gemm.multiply(weight, n: pixels, b: input, ldb: pixels, c: output, ldc: pixels, epilogue: epilogue, kernels: kernels)
        } else {
            precondition(workspace.count >= g.patchSize, "workspace of \(workspace.count) < one patch column \(g.patchSize)")
            let block = min(pixels, workspace.count / g.patchSize)
            var start = 0
            while start < pixels {
                let count = min(block, pixels - start)
                unfold(g, input: input, height: height, width: width, outWidth: outWidth,
                       firstPixel: start, pixelCount: count, columns: workspace.baseAddress!)
                Gemm.multiply(weight, n: count, b: workspace.baseAddress!, ldb: count, c: output + start, ldc: pixels,
                              epilogue: epilogue.offset(row: 0, column: start), kernels: kernels)
                start += count
            }
        }
    }

    /// Writes the (patchSize x pixelCount) column block for output pixels [firstPixel, firstPixel + pixelCount).
    ///
    /// Rows (one per input channel and kernel offset) are filled in parallel; within a row, each
    /// output row's valid columns are found once, so the copy runs without per-pixel bounds checks.
    static func unfold(_ g: ConvGeometry, input: UnsafePointer<Float>, height: Int, width: Int, outWidth: Int,
                       firstPixel: Int, pixelCount: Int, columns: UnsafeMutablePointer<Float>) {
        let rows = g.patchSize, taps = g.kernel * g.kernel
        // Each row writes its own part of `columns` and only reads `input`.
        nonisolated(unsafe) let input = input, columns = columns
        Threads.parallelFor(rows, minimumChunk: 16) { range in
            for row in range {
                let channel = row / taps, ky = (row % taps) / g.kernel, kx = row % g.kernel
                let plane = input + channel * height * width
                let destination = columns + row * pixelCount
                // Output columns whose input column ox * stride - padding + kx * dilation is inside.
                let shift = kx * g.dilation - g.padding
                let firstValid = shift >= 0 ? 0 : (-shift + g.stride - 1) / g.stride
                let lastValid = min(outWidth - 1, (width - 1 - shift) >= 0 ? (width - 1 - shift) / g.stride : -1)
                var p = 0
                var oy = firstPixel / outWidth, ox = firstPixel % outWidth
                while p < pixelCount {
                    let run = min(outWidth - ox, pixelCount - p)
                    let iy = oy * g.stride - g.padding + ky * g.dilation
                    let out = destination + p
                    if iy < 0 || iy >= height || firstValid > lastValid {
                        out.update(repeating: 0, count: run)
                    } else {
                        let source = plane + iy * width
                        let from = max(ox, firstValid), to = min(ox + run - 1, lastValid)
                        if from > ox { (out).update(repeating: 0, count: min(from - ox, run)) }
                        if from <= to {
                            if g.stride == 1 {
                                (out + (from - ox)).update(from: source + from + shift, count: to - from + 1)
                            } else {
                                for o in from...to { out[o - ox] = source[o * g.stride + shift] }
                            }
                        }
                        let tail = max(to + 1, ox)
                        if tail < ox + run { (out + (tail - ox)).update(repeating: 0, count: ox + run - tail) }
                    }
                    p += run
                    ox = 0
                    oy += 1
                }
            }
        }
    }
}
