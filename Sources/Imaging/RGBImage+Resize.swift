extension RGBImage {
    /// The image resized to `width` x `height` with OpenCV's `INTER_LINEAR` arithmetic on 8-bit
    /// pixels, value for value, as mmcv's `imrescale` (and so mmsegmentation's test pipeline)
    /// produces it with `cv2.resize`.
    ///
    /// That arithmetic is fixed-point: each output column and row takes two source pixels with
    /// weights `round((1 - f) * 2048)` and `round(f * 2048)`, where `f` is the fractional part of
    /// the half-pixel source position computed in float32; columns are clamped to the image, rows
    /// are clamped only in index (a border row is weighted with itself). The horizontal pass keeps
    /// the integer sums; the vertical pass combines two of them as OpenCV's vector code does,
    /// `((s0 >> 4) * b0 >> 16) + ((s1 >> 4) * b1 >> 16)`, rounded off by `(v + 2) >> 2`. A float
    /// bilinear resize differs from it by a grey level on about one value in eight.
    /// - Throws: `ImageError` unless both sizes are positive and their product fits in memory.
    public func resizedLikeOpenCV(width outWidth: Int, height outHeight: Int) throws -> RGBImage {
        guard outWidth > 0, outHeight > 0, !outWidth.multipliedReportingOverflow(by: outHeight * 3).overflow else {
            throw ImageError(file: "", "expected a positive output size, found \(outWidth) x \(outHeight)")
        }
        if outWidth == width && outHeight == height { return self }
        let columns = RGBImage.taps(source: width, destination: outWidth, clampsFraction: true)
        let rows = RGBImage.taps(source: height, destination: outHeight, clampsFraction: false)
        // The horizontal pass, for every source row a later row needs.
        var horizontal = [Int32](repeating: 0, count: height * outWidth * 3)
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                let row = y * width * 3, out = y * outWidth * 3
                for (x, tap) in columns.enumerated() {
                    for c in 0..<3 {
                        horizontal[out + x * 3 + c] = Int32(source[row + tap.first * 3 + c]) * tap.firstWeight
                            + Int32(source[row + tap.second * 3 + c]) * tap.secondWeight
                    }
                }
            }
        }
        var output = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        let rowLength = outWidth * 3
        for (y, tap) in rows.enumerated() {
            let first = tap.first * rowLength, second = tap.second * rowLength, out = y * rowLength
            for i in 0..<rowLength {
                let a = (Int32(Int16(truncatingIfNeeded: horizontal[first + i] >> 4)) * tap.firstWeight) >> 16
                let b = (Int32(Int16(truncatingIfNeeded: horizontal[second + i] >> 4)) * tap.secondWeight) >> 16
                output[out + i] = UInt8(clamping: (a + b + 2) >> 2)
            }
        }
        return RGBImage(checkedWidth: outWidth, height: outHeight, pixels: output)
    }

    /// Source indices and 11-bit weights of each output position along one axis; a column past
    /// either edge takes the edge pixel alone (`clampsFraction`), a row past it keeps its weights.
    private static func taps(source: Int, destination: Int,
                             clampsFraction: Bool) -> [(first: Int, second: Int, firstWeight: Int32, secondWeight: Int32)] {
        let scale = Double(source) / Double(destination)
        return (0..<destination).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            var s = Int(f.rounded(.down))
            f -= Float(s)
            if clampsFraction && s < 0 { (f, s) = (0, 0) }
            if clampsFraction && s >= source - 1 { (f, s) = (0, source - 1) }
            let w0 = Int32((((1 as Float) - f) * 2048).rounded(.toNearestOrEven))
            let w1 = Int32((f * 2048).rounded(.toNearestOrEven))
            return (min(max(s, 0), source - 1), min(max(s + 1, 0), source - 1), w0, w1)
        }
    }
}
