import Foundation
import DANetModel
import ImageIO
import TensorKernels

/// The official test-time pipeline (MultiEvalModule of the official DANet): normalise, resize
/// (long side = ceil(baseSize * scale), align_corners true), pad with black, slide a crop-sized
/// window with stride crop * 2/3, add the horizontally flipped pass, exponentiate, resize back,
/// sum over scales, argmax.
public struct SegmentationPipeline {
    public enum Mode: String, Sendable, CaseIterable {
        /// The official padded sliding window.
        case slide
        /// The network once on the whole resized image, no padding (mmseg's whole mode).
        case whole
    }

    public struct Options: Sendable, Equatable {
        public var scales: [Double]
        public var flip: Bool
        public var baseSize: Int
        public var cropSize: Int
        public var mode: Mode
        public var mean: [Float] = [0.485, 0.456, 0.406]
        public var std: [Float] = [0.229, 0.224, 0.225]

        public init(scales: [Double], flip: Bool, baseSize: Int, cropSize: Int, mode: Mode) {
            self.scales = scales
            self.flip = flip
            self.baseSize = baseSize
            self.cropSize = cropSize
            self.mode = mode
        }

        /// Window stride of the sliding window: int(crop * 2/3), as the reference.
        public var stride: Int { Int(Double(cropSize) * 2.0 / 3.0) }
    }

    public let model: DANet
    public let options: Options

    public init(model: DANet, options: Options) {
        self.model = model
        self.options = options
    }

    /// Height and width of the image resized for `scale`.
    func resized(height: Int, width: Int, scale: Double) -> (height: Int, width: Int, long: Int, short: Int) {
        let long = Int((Double(options.baseSize) * scale).rounded(.up))
        if height > width {
            let w = Int(Double(width) * Double(long) / Double(height) + 0.5)
            return (long, w, long, w)
        }
        let h = Int(Double(height) * Double(long) / Double(width) + 0.5)
        return (h, long, long, h)
    }

    /// Window origins along one axis of a padded size.
    func origins(_ padded: Int) -> [Int] {
        let crop = options.cropSize, stride = options.stride
        let grids = Int((Double(padded - crop) / Double(stride)).rounded(.up)) + 1
        return (0..<grids).map { $0 * stride }
    }

    /// Network passes an image of this size needs (windows, times two with flip), for progress.
    public func passCount(height: Int, width: Int) -> Int {
        var windows = 0
        for scale in options.scales {
            let size = resized(height: height, width: width, scale: scale)
            if options.mode == .whole || size.long <= options.cropSize {
                windows += 1
            } else {
                let crop = options.cropSize
                let (ph, pw) = size.short < crop ? (max(size.height, crop), max(size.width, crop)) : (size.height, size.width)
                windows += origins(ph).count * origins(pw).count
            }
        }
        return windows * (options.flip ? 2 : 1)
    }

    /// Summed class scores, (classes, height, width) of the original image.
    ///
    /// Scores are exponentials of summed logits, which pass float32's range (e^88) for confident
    /// models, so they are kept in double: the reference's float32 would turn them into ties of
    /// infinity and decide the argmax by class order.
    /// - Parameter progress: called after every network pass.
    public func scores(_ image: RGBImage, progress: () -> Void = {}) throws -> Scores {
        let (height, width) = (image.height, image.width)
        let classes = model.configuration.classes
        let normalized = normalize(image)
        var total = Scores(channels: classes, height: height, width: width)
        for scale in options.scales {
            let size = resized(height: height, width: width, scale: scale)
            let current = TensorOps.resize(normalized, height: size.height, width: size.width, alignCorners: true)
            var output: Scores
            if options.mode == .whole {
                output = try infer(current, progress: progress)
            } else if size.long <= options.cropSize {
                let padded = TensorOps.pad(current, to: options.cropSize, values: padValues)
                output = try infer(padded, progress: progress).cropped(height: size.height, width: size.width)
            } else {
                let crop = options.cropSize
                let padded = size.short < crop ? TensorOps.pad(current, to: crop, values: padValues) : current
                let (ph, pw) = (padded.shape[1], padded.shape[2])
                var sum = Scores(channels: classes, height: ph, width: pw)
                var count = [Double](repeating: 0, count: ph * pw)
                for top in origins(ph) {
                    for left in origins(pw) {
                        let bottom = min(top + crop, ph), right = min(left + crop, pw)
                        let window = TensorOps.crop(padded, top: top, left: left, height: bottom - top, width: right - left)
                        let result = try infer(TensorOps.pad(window, to: crop, values: padValues), progress: progress)
                        sum.accumulate(result, count: &count, top: top, left: left, height: bottom - top, width: right - left)
                    }
                }
                for c in 0..<classes {
                    for i in 0..<(ph * pw) { sum.values[c * ph * pw + i] /= count[i] }
                }
                output = sum.cropped(height: size.height, width: size.width)
            }
            total.add(output.resized(height: height, width: width))
        }
        return total
    }

    /// The class with the highest score at each pixel (row-major, height x width).
    public func predict(_ image: RGBImage, progress: () -> Void = {}) throws -> [UInt8] {
        try scores(image, progress: progress).argmax()
    }

    /// exp(logits(x) + flip(logits(flip(x)))), the reference's module_inference; (classes, h, w).
    func infer(_ x: Tensor, progress: () -> Void) throws -> Scores {
        var logits = try fused(x)
        progress()
        if options.flip {
            let mirrored = TensorOps.flipHorizontally(try fused(TensorOps.flipHorizontally(x)))
            progress()
            for i in 0..<logits.count { logits.data[i] += mirrored.data[i] }
        }
        return Scores(channels: logits.shape[0], height: logits.shape[1], width: logits.shape[2],
                      values: logits.data.map { Foundation.exp(Double($0)) })
    }

    private func fused(_ x: Tensor) throws -> Tensor {
        let output = try model(Tensor(shape: [1] + x.shape, data: x.data), heads: .fused)
        return Tensor(shape: Array(output.fused.shape.dropFirst()), data: output.fused.data)
    }

    /// A black pixel after normalisation: -mean/std per channel.
    var padValues: [Float] { zip(options.mean, options.std).map { -$0 / $1 } }

    /// (3, height, width): RGB scaled to 0...1, minus mean, over std.
    func normalize(_ image: RGBImage) -> Tensor {
        let plane = image.width * image.height
        var data = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 {
                data[c * plane + i] = (Float(image.pixels[i * 3 + c]) / 255 - options.mean[c]) / options.std[c]
            }
        }
        return Tensor(shape: [3, image.height, image.width], data: data)
    }
}

