/// Class scores of one image, (channels, height, width), in double precision.
public struct Scores: Sendable {
    /// Classes.
    public let channels: Int
    /// Rows.
    public let height: Int
    /// Columns.
    public let width: Int
    /// `channels * height * width` scores, class planes one after another.
    public package(set) var values: [Double]

    /// Scores of `channels` classes over `height` x `width` pixels.
    /// - Throws: `SegmentationError` unless every size is positive and `values` holds exactly
    ///   `channels * height * width` numbers.
    public init(channels: Int, height: Int, width: Int, values: [Double]) throws {
        guard channels > 0, height > 0, width > 0, values.count == channels * height * width else {
            throw SegmentationError("expected \(channels) x \(height) x \(width) scores with positive sizes, found \(values.count)")
        }
        self.init(checkedChannels: channels, height: height, width: width, values: values)
    }

    init(checkedChannels channels: Int, height: Int, width: Int, values: [Double]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
    }

    init(zeros channels: Int, height: Int, width: Int) {
        self.init(checkedChannels: channels, height: height, width: width,
                  values: [Double](repeating: 0, count: channels * height * width))
    }

    /// `[channels, height, width]`.
    public var shape: [Int] { [channels, height, width] }

    mutating func add(_ other: Scores) {
        for i in values.indices { values[i] += other.values[i] }
    }

    /// The top-left (height, width) corner.
    func cropped(height h: Int, width w: Int) -> Scores {
        if h == height && w == width { return self }
        var out = Scores(zeros: channels, height: h, width: w)
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w { out.values[(c * h + y) * w + x] = values[(c * height + y) * width + x] }
            }
        }
        return out
    }

    /// Adds the top-left (h, w) of `window` at (top, left) and counts the covered pixels.
    mutating func accumulate(_ window: Scores, count: inout [Double], top: Int, left: Int, height h: Int, width w: Int) {
        for c in 0..<channels {
            for y in 0..<h {
                for x in 0..<w {
                    values[(c * height + top + y) * width + left + x] += window.values[(c * window.height + y) * window.width + x]
                }
            }
        }
        for y in 0..<h {
            for x in 0..<w { count[(top + y) * width + left + x] += 1 }
        }
    }

    /// Bilinear resize with align_corners true, as `F.interpolate` computes it in float64.
    func resized(height outHeight: Int, width outWidth: Int) -> Scores {
        if outHeight == height && outWidth == width { return self }
        func source(_ d: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Double) {
            let scale = outSize > 1 ? Double(inSize - 1) / Double(outSize - 1) : 0
            let real = scale * Double(d)
            let low = min(Int(real), inSize - 1)
            return (low, low + (low < inSize - 1 ? 1 : 0), min(max(real - Double(low), 0), 1))
        }
        var out = Scores(zeros: channels, height: outHeight, width: outWidth)
        let columns = (0..<outWidth).map { source($0, width, outWidth) }
        for oy in 0..<outHeight {
            let (y0, y1, ly) = source(oy, height, outHeight)
            for c in 0..<channels {
                let plane = c * height * width
                for ox in 0..<outWidth {
                    let (x0, x1, lx) = columns[ox]
                    let top = (1 - lx) * values[plane + y0 * width + x0] + lx * values[plane + y0 * width + x1]
                    let bottom = (1 - lx) * values[plane + y1 * width + x0] + lx * values[plane + y1 * width + x1]
                    out.values[(c * outHeight + oy) * outWidth + ox] = (1 - ly) * top + ly * bottom
                }
            }
        }
        return out
    }

    /// Index of the largest score per pixel; the first wins ties, as torch.argmax.
    public func argmax() -> [UInt8] {
        let plane = height * width
        var labels = [UInt8](repeating: 0, count: plane)
        for i in 0..<plane {
            var best = values[i], index = 0
            for c in 1..<max(channels, 1) where values[c * plane + i] > best {
                best = values[c * plane + i]
                index = c
            }
            labels[i] = UInt8(min(index, 254))
        }
        return labels
    }
}
