public enum Resize {
    /// Source coordinate and weights along one axis, as PyTorch's `upsample_bilinear2d` computes them
    /// in float32 (`area_pixel_compute_scale` and `area_pixel_compute_source_index`).
    @inline(__always)
    static func source(_ destination: Int, inSize: Int, outSize: Int, alignCorners: Bool) -> (Int, Int, Float, Float) {
        let scale: Float = alignCorners
            ? (outSize > 1 ? Float(inSize - 1) / Float(outSize - 1) : 0)
            : Float(inSize) / Float(outSize)
        let real: Float = alignCorners ? scale * Float(destination) : max(scale * (Float(destination) + 0.5) - 0.5, 0)
        let low = min(Int(real), inSize - 1)
        let high = low + (low < inSize - 1 ? 1 : 0)
        let lambda1 = min(max(real - Float(low), 0), 1)
        return (low, high, 1 - lambda1, lambda1)
    }

    /// Bilinear resize of each (height, width) plane to (outHeight, outWidth), matching
    /// `F.interpolate(mode='bilinear', align_corners=...)` without a scale factor.
    /// - Parameters:
    ///   - input: (planes, height, width)
    ///   - output: (planes, outHeight, outWidth)
    public static func bilinear(_ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                                output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int, alignCorners: Bool) {
        nonisolated(unsafe) let input = input, output = output
        Threads.parallelFor(outHeight, minimumChunk: max(1, 16_384 / max(outWidth * planes, 1))) { rows in
            bilinearRows(input, planes: planes, height: height, width: width, output: output, outHeight: outHeight,
                         outWidth: outWidth, alignCorners: alignCorners, rows: rows)
        }
    }

    static func bilinearRows(_ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                             outHeight: Int, outWidth: Int, alignCorners: Bool, rows: Range<Int>) {
        for oy in rows {
            let (y0, y1, h0, h1) = source(oy, inSize: height, outSize: outHeight, alignCorners: alignCorners)
            for ox in 0..<outWidth {
                let (x0, x1, w0, w1) = source(ox, inSize: width, outSize: outWidth, alignCorners: alignCorners)
                for plane in 0..<planes {
                    let p = input + plane * height * width
                    let top = w0 * p[y0 * width + x0] + w1 * p[y0 * width + x1]
                    let bottom = w0 * p[y1 * width + x0] + w1 * p[y1 * width + x1]
                    output[plane * outHeight * outWidth + oy * outWidth + ox] = h0 * top + h1 * bottom
                }
            }
        }
    }
}
