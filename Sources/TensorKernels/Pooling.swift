package enum Pooling {
    /// Max pooling with a 3x3 window, stride 2 and padding 1 (the ResNet stem), ceil_mode false.
    /// - Parameters:
    ///   - input: (channels, height, width)
    ///   - output: (channels, (height - 1) / 2 + 1, (width - 1) / 2 + 1)
    package static func maxPool3x3Stride2(_ input: UnsafePointer<Float>, channels: Int, height: Int, width: Int,
                                         output: UnsafeMutablePointer<Float>) {
        let outHeight = (height - 1) / 2 + 1, outWidth = (width - 1) / 2 + 1
        for channel in 0..<channels {
            let plane = input + channel * height * width
            let out = output + channel * outHeight * outWidth
            for oy in 0..<outHeight {
                let y0 = max(oy * 2 - 1, 0), y1 = min(oy * 2 + 1, height - 1)
                for ox in 0..<outWidth {
                    let x0 = max(ox * 2 - 1, 0), x1 = min(ox * 2 + 1, width - 1)
                    var peak = -Float.infinity
                    for y in y0...y1 {
                        for x in x0...x1 { peak = max(peak, plane[y * width + x]) }
                    }
                    out[oy * outWidth + ox] = peak
                }
            }
        }
    }
}
