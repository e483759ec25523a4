/// The geometry of a 2-D convolution (PyTorch `nn.Conv2d` with groups = 1).
public struct ConvGeometry: Sendable, Equatable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public let dilation: Int

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// Rows of the unfolded input: one per (input channel, kernel row, kernel column).
    public var patchSize: Int { inChannels * kernel * kernel }

    /// Output height or width for an input of `size`, as PyTorch computes it.
    public func outputSize(_ size: Int) -> Int {
        (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    /// True when the convolution is a plain matrix product over pixels (1x1, stride 1, no padding).
    public var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

public enum Convolution {
    /// Convolves one image; bias is added and ReLU applied in the same pass over the output.
    ///
    /// The input is unfolded (im2col) a block of output pixels at a time into `workspace`, so the
    /// workspace bounds the memory whatever the image size; a pointwise convolution needs none.
    /// - Parameters:
    ///   - input: (inChannels, height, width)
    ///   - weight: (outChannels, patchSize), rows in (channel, ky, kx) order as PyTorch stores them
    ///   - bias: (outChannels) or nil
    ///   - output: (outChannels, outputSize(height), outputSize(width))
    ///   - workspace: at least `patchSize` floats unless the convolution is pointwise
    public static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, height: Int, width: Int,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool,
                               output: UnsafeMutablePointer<Float>, workspace: UnsafeMutableBufferPointer<Float>) {
        let outHeight = g.outputSize(height), outWidth = g.outputSize(width)
        let pixels = outHeight * outWidth
        if g.isPointwise {
            Gemm.multiply(m: g.outChannels, n: pixels, k: g.inChannels, a: weight, lda: g.inChannels,
                          b: input, ldb: pixels, c: output, ldc: pixels)
        } else {
            precondition(workspace.count >= g.patchSize, "workspace of \(workspace.count) < one patch column \(g.patchSize)")
            let block = min(pixels, workspace.count / g.patchSize)
            var start = 0
            while start < pixels {
                let count = min(block, pixels - start)
                unfold(g, input: input, height: height, width: width, outWidth: outWidth,
                       firstPixel: start, pixelCount: count, columns: workspace.baseAddress!)
                Gemm.multiply(m: g.outChannels, n: count, k: g.patchSize, a: weight, lda: g.patchSize,
                              b: workspace.baseAddress!, ldb: count, c: output + start, ldc: pixels)
                start += count
            }
        }
        Elementwise.addBias(output, channels: g.outChannels, plane: pixels, bias: bias, relu: relu)
    }

    /// Writes the (patchSize x pixelCount) column block for output pixels [firstPixel, firstPixel + pixelCount).
    static func unfold(_ g: ConvGeometry, input: UnsafePointer<Float>, height: Int, width: Int, outWidth: Int,
                       firstPixel: Int, pixelCount: Int, columns: UnsafeMutablePointer<Float>) {
        var row = 0
        for channel in 0..<g.inChannels {
            let plane = input + channel * height * width
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    let destination = columns + row * pixelCount
                    var oy = firstPixel / outWidth, ox = firstPixel % outWidth
                    for p in 0..<pixelCount {
                        let iy = oy * g.stride - g.padding + ky * g.dilation
                        let ix = ox * g.stride - g.padding + kx * g.dilation
                        destination[p] = (iy >= 0 && iy < height && ix >= 0 && ix < width) ? plane[iy * width + ix] : 0
                        ox += 1
                        if ox == outWidth { ox = 0; oy += 1 }
                    }
                    row += 1
                }
            }
        }
    }
}
