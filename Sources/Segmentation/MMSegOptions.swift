/// mmsegmentation 1.x's test pipeline, as its DANet configs set it: resize the 8-bit image with its
/// aspect ratio kept to a (long, short) bound with OpenCV's arithmetic, normalise with mean and
/// standard deviation in 0...255, run the whole image or a sliding window whose last window is moved
/// back inside the image, average the logits of overlapping windows, resize them to the original
/// image, and take the argmax. With flip or ratios (mmseg's test-time augmentation) the softmax
/// probabilities of every pass are averaged instead.
public struct MMSegOptions: Sendable, Equatable {
    /// The long side of the resize bound (2048 in the 512x1024 Cityscapes configs).
    public var resizeLong: Int
    /// The short side of the resize bound (1024 there).
    public var resizeShort: Int
    /// The whole image at once, or a sliding window.
    public var mode: SegmentationPipeline.Mode
    /// The window of `.slide`, rows then columns.
    public var cropHeight: Int
    /// The window's columns.
    public var cropWidth: Int
    /// The step between windows, rows.
    public var strideHeight: Int
    /// The step between windows, columns.
    public var strideWidth: Int
    /// Adds the horizontally flipped pass (test-time augmentation).
    public var flip: Bool
    /// Resize ratios of the original image instead of the bound (test-time augmentation), or nil.
    public var ratios: [Double]?
    /// Per-channel mean, RGB, of pixels in 0...255.
    public var mean: [Float] = [123.675, 116.28, 103.53]
    /// Per-channel standard deviation, RGB, of pixels in 0...255.
    public var std: [Float] = [58.395, 57.12, 57.375]

    /// Settings with ImageNet's mean and standard deviation in 0...255.
    public init(resizeLong: Int, resizeShort: Int, mode: SegmentationPipeline.Mode, cropHeight: Int = 512, cropWidth: Int = 512,
                strideHeight: Int = 341, strideWidth: Int = 341, flip: Bool = false, ratios: [Double]? = nil) {
        self.resizeLong = resizeLong
        self.resizeShort = resizeShort
        self.mode = mode
        self.cropHeight = cropHeight
        self.cropWidth = cropWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.flip = flip
        self.ratios = ratios
    }

    /// mmcv's `rescale_size`: the size of a `width` x `height` image resized with its aspect ratio
    /// kept to fit (long, short): scale = min(long / long side, short / short side), each side
    /// int(side * scale + 0.5).
    public static func rescaledSize(width: Int, height: Int, long: Int, short: Int) -> (width: Int, height: Int) {
        let scale = min(Double(max(long, short)) / Double(max(width, height)), Double(min(long, short)) / Double(min(width, height)))
        return (max(1, Int(Double(width) * scale + 0.5)), max(1, Int(Double(height) * scale + 0.5)))
    }

    /// The size mmcv's `Resize(scale_factor: ratio, keep_ratio: true)` gives: the ratio's rounded
    /// size, used as the bound of `rescaledSize`.
    public static func ratioSize(width: Int, height: Int, ratio: Double) -> (width: Int, height: Int) {
        let bound = (Int(Double(width) * ratio + 0.5), Int(Double(height) * ratio + 0.5))
        return rescaledSize(width: width, height: height, long: max(bound.0, bound.1), short: min(bound.0, bound.1))
    }

    /// The sizes an image is run at: the bound's, or one per ratio.
    func sizes(width: Int, height: Int) -> [(width: Int, height: Int)] {
        ratios.map { $0.map { MMSegOptions.ratioSize(width: width, height: height, ratio: $0) } }
            ?? [MMSegOptions.rescaledSize(width: width, height: height, long: resizeLong, short: resizeShort)]
    }

    /// Window origins along one axis: `max(size - crop + stride - 1, 0) / stride + 1` windows, the
    /// last moved back to end at the edge (never before 0).
    static func windows(size: Int, crop: Int, stride: Int) -> [Range<Int>] {
        let grids = max(size - crop + stride - 1, 0) / stride + 1
        return (0..<grids).map { index in
            let end = min(index * stride + crop, size)
            return max(end - crop, 0)..<end
        }
    }

    func validate() throws {
        let sides = [resizeLong, resizeShort, cropHeight, cropWidth, strideHeight, strideWidth]
        guard sides.allSatisfy({ (1...SegmentationPipeline.Options.maxSide).contains($0) }) else {
            throw SegmentationError("expected resize bound, crop and stride sides of 1 to \(SegmentationPipeline.Options.maxSide), found \(sides)")
        }
        if let ratios {
            guard !ratios.isEmpty, ratios.allSatisfy({ $0 > 0 && $0 <= 16 }) else {
                throw SegmentationError("expected ratios in (0, 16], found \(ratios)")
            }
        }
        guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
            throw SegmentationError("expected three means and three positive standard deviations, found \(mean) and \(std)")
        }
    }
}
