package enum Resize {
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
    package static func bilinear(_ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                                output: UnsafeMutablePointer<Float>, outHeight: Int, outWidth: Int, alignCorners: Bool) {
        nonisolated(unsafe) let input = input, output = output
        Threads.parallelFor(outHeight, minimumChunk: max(1, 16_384 / max(outWidth * planes, 1))) { rows in
            bilinearRows(input, planes: planes, height: height, width: width, output: output, outHeight: outHeight,
                         outWidth: outWidth, alignCorners: alignCorners, rows: rows)
        }
    }

    /// Rows `rows` of every plane. Each needed input row is first resized along x (and kept while
    /// consecutive output rows use it), then two such rows are blended along y: the same products
    /// in the same order as PyTorch, with contiguous loops instead of a coordinate per element.
    static func bilinearRows(_ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
                             outHeight: Int, outWidth: Int, alignCorners: Bool, rows: Range<Int>) {
        let columns = (0..<outWidth).map { source($0, inSize: width, outSize: outWidth, alignCorners: alignCorners) }
        var top = [Float](repeating: 0, count: outWidth), bottom = [Float](repeating: 0, count: outWidth)
        var rowsHeld = (-1, -1)
        func resizeRow(_ row: UnsafePointer<Float>, into out: inout [Float]) {
            for (ox, (x0, x1, w0, w1)) in columns.enumerated() { out[ox] = w0 * row[x0] + w1 * row[x1] }
        }
        for plane in 0..<planes {
            let p = input + plane * height * width
            rowsHeld = (-1, -1)
            for oy in rows {
                let (y0, y1, h0, h1) = source(oy, inSize: height, outSize: outHeight, alignCorners: alignCorners)
                if rowsHeld != (y0, y1) {
                    if rowsHeld.1 == y0 { swap(&top, &bottom) } else { resizeRow(p + y0 * width, into: &top) }
                    resizeRow(p + y1 * width, into: &bottom)
                    rowsHeld = (y0, y1)
                }
                let out = output + plane * outHeight * outWidth + oy * outWidth
                for ox in 0..<outWidth { out[ox] = h0 * top[ox] + h1 * bottom[ox] }
            }
        }
    }
}
