import DANetModel
import DANetSupport
import Foundation
import Imaging
import TensorKernels

/// The official test-time pipeline (MultiEvalModule of the official DANet): normalise, resize
/// (long side = ceil(baseSize * scale), align_corners true), pad with black, slide a crop-sized
/// window with stride crop * 2/3, add the horizontally flipped pass, exponentiate, resize back,
/// sum over scales, argmax.
///
/// A pipeline is `Sendable`: build one per model and dataset, and segment from any task.
///
/// ```swift
/// let pipeline = SegmentationPipeline(model: try DANet.bundled(), preset: .street)
/// let labels = try await pipeline.segment(image)
/// ```
public struct SegmentationPipeline: Sendable {
    /// How each scale's resized image goes through the network.
    public enum Mode: String, Sendable, CaseIterable {
        /// The official padded sliding window.
        case slide
        /// The network once on the whole resized image, no padding (mmseg's whole mode).
        case whole
    }

    /// Test-time settings.
    public struct Options: Sendable, Equatable {
        /// Resize ratios of `baseSize`; the scores of all are summed.
        public var scales: [Double]
        /// Whether to add the horizontally flipped pass.
        public var flip: Bool
        /// The long side at scale 1.
        public var baseSize: Int
        /// The window of `.slide`, and the size small images are padded to.
        public var cropSize: Int
        /// Sliding window or whole image.
        public var mode: Mode
        /// Per-channel mean of the normalisation, of RGB in 0...1.
        public var mean: [Float] = [0.485, 0.456, 0.406]
        /// Per-channel standard deviation of the normalisation.
        public var std: [Float] = [0.229, 0.224, 0.225]

        /// Settings with ImageNet's mean and standard deviation.
        public init(scales: [Double], flip: Bool, baseSize: Int, cropSize: Int, mode: Mode) {
            self.scales = scales
            self.flip = flip
            self.baseSize = baseSize
            self.cropSize = cropSize
            self.mode = mode
        }

        /// Window stride of the sliding window: int(crop * 2/3), as the reference (at least 1).
        public var stride: Int { max(1, Int(Double(cropSize) * 2.0 / 3.0)) }

        /// The longest side an image is resized to (a 16384-pixel side is 8 times a Cityscapes frame's).
        public static let maxSide = 16384

        /// Throws unless the settings describe a pipeline that can run.
        func validate() throws {
            guard !scales.isEmpty, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw SegmentationError("expected positive scales, found \(scales)")
            }
            guard baseSize >= 8, cropSize >= 8, cropSize <= Options.maxSide,
                  scales.allSatisfy({ Double(baseSize) * $0 <= Double(Options.maxSide) }) else {
                throw SegmentationError("expected a base size and a crop size of at least 8, and sides of at most "
                                        + "\(Options.maxSide) at every scale, found base \(baseSize), crop \(cropSize), scales \(scales)")
            }
            guard mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 }) else {
                throw SegmentationError("expected three means and three positive standard deviations, found \(mean) and \(std)")
            }
        }
    }

    /// Which reference pipeline runs.
    public enum Kind: String, Sendable, CaseIterable {
        /// The official DANet's (`Options`).
        case official
        /// mmsegmentation 1.x's (`MMSegOptions`).
        case mmseg
    }

    /// The network.
    public let model: DANet
    /// The official pipeline's settings (unused when `mmseg` is set).
    public let options: Options
    /// mmsegmentation's pipeline settings, when that pipeline runs.
    public let mmseg: MMSegOptions?
    /// The pipeline that runs.
    public var kind: Kind { mmseg == nil ? .official : .mmseg }
    /// Class names, for the label maps this pipeline returns.
    public let classes: [String]
    /// Class colours, for the label maps this pipeline returns.
    public let palette: [RGBColor]

    /// A pipeline with `preset`'s settings, class names and palette, running `kind` (default: the
    /// pipeline of the checkpoint's layout, mmsegmentation's for mmseg checkpoints). mmseg's
    /// pipeline resizes logits with the model's `alignCorners`; load the model with the preset's
    /// `mmsegAlignCorners` to follow the preset's config.
    public init(model: DANet, preset: DatasetPreset, kind: Kind? = nil) {
        let kind = kind ?? (model.configuration.layout == .mmseg ? .mmseg : .official)
        self.init(model: model, options: preset.options, mmseg: kind == .mmseg ? preset.mmseg : nil,
                  classes: preset.classes, palette: preset.palette)
    }

    /// A pipeline with explicit settings: mmsegmentation's when `mmseg` is given, else the
    /// official one's; class names and colours default to generic ones.
    public init(model: DANet, options: Options, mmseg: MMSegOptions? = nil, classes: [String]? = nil, palette: [RGBColor]? = nil) {
        let generic = DatasetPreset.generic(classes: model.configuration.classes)
        self.model = model
        self.options = options
        self.mmseg = mmseg
        self.classes = classes ?? generic.classes
        self.palette = palette ?? generic.palette
    }

    /// Segments `image`: a class index per pixel, with this pipeline's class names and palette.
    ///
    /// Cancelling the task stops the work before the next network pass and throws
    /// `CancellationError`. The model's `threads` apply.
    /// - Parameters:
    ///   - image: the photo, any size.
    ///   - progress: called after every network pass.
    /// - Throws: `CancellationError`, or `SegmentationError` for settings that cannot run.
    public func segment(_ image: RGBImage, progress: (@Sendable (SegmentationProgress) -> Void)? = nil) async throws -> LabelMap {
        try labelMap(image, progress: progress, checkCancellation: { try Task.checkCancellation() })
    }

    /// The same as `segment(_:progress:)`, on the calling thread, for code that is not async.
    public func predict(_ image: RGBImage, progress: ((SegmentationProgress) -> Void)? = nil) throws -> LabelMap {
        try labelMap(image, progress: progress, checkCancellation: {})
    }

    /// Summed class scores, (classes, height, width) of the original image, before the argmax.
    ///
    /// Scores are exponentials of summed logits, which pass float32's range (e^88) for confident
    /// models, so they are kept in double: the reference's float32 would turn them into ties of
    /// infinity and decide the argmax by class order.
    /// - Parameters:
    ///   - image: the photo, any size.
    ///   - progress: called after every network pass.
    public func scores(_ image: RGBImage, progress: ((SegmentationProgress) -> Void)? = nil) throws -> Scores {
        try scores(image, progress: progress, checkCancellation: {})
    }

    /// Network passes an image of this size needs (windows, times two with flip), for progress;
    /// 0 for settings that cannot run.
    public func passCount(height: Int, width: Int) -> Int {
        if let mmseg { return mmsegPassCount(mmseg, height: height, width: width) }
        guard (try? options.validate()) != nil, height > 0, width > 0 else { return 0 }
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

    private func labelMap(_ image: RGBImage, progress: ((SegmentationProgress) -> Void)?,
                          checkCancellation: @escaping () throws -> Void) throws -> LabelMap {
        let labels = try scores(image, progress: progress, checkCancellation: checkCancellation).argmax()
        return LabelMap(checkedWidth: image.width, height: image.height, labels: labels, classes: classes, palette: palette)
    }

    private func scores(_ image: RGBImage, progress: ((SegmentationProgress) -> Void)?,
                        checkCancellation: @escaping () throws -> Void) throws -> Scores {
        guard classes.count == model.configuration.classes else {
            throw SegmentationError("expected class names for the model's \(model.configuration.classes) classes, found \(classes.count)")
        }
        var run = Run(total: passCount(height: image.height, width: image.width), progress: progress, checkCancellation: checkCancellation)
        if let mmseg { return try mmsegScores(image, mmseg, &run) }
        try options.validate()
        let (height, width) = (image.height, image.width)
        let classes = model.configuration.classes
        let normalized = normalize(image)
        var total = Scores(zeros: classes, height: height, width: width)
        for scale in options.scales {
            let size = resized(height: height, width: width, scale: scale)
            let current = TensorOps.resize(normalized, height: size.height, width: size.width, alignCorners: true)
            var output: Scores
            if options.mode == .whole {
                output = try infer(current, &run)
            } else if size.long <= options.cropSize {
                let padded = TensorOps.pad(current, to: options.cropSize, values: padValues)
                output = try infer(padded, &run).cropped(height: size.height, width: size.width)
            } else {
                let crop = options.cropSize
                let padded = size.short < crop ? TensorOps.pad(current, to: crop, values: padValues) : current
                let (ph, pw) = (padded.shape[1], padded.shape[2])
                var sum = Scores(zeros: classes, height: ph, width: pw)
                var count = [Double](repeating: 0, count: ph * pw)
                for top in origins(ph) {
                    for left in origins(pw) {
                        let bottom = min(top + crop, ph), right = min(left + crop, pw)
                        let window = TensorOps.crop(padded, top: top, left: left, height: bottom - top, width: right - left)
                        let result = try infer(TensorOps.pad(window, to: crop, values: padValues), &run)
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

    /// Counts network passes, reports them and stops between them when cancelled.
    struct Run {
        let total: Int
        let progress: ((SegmentationProgress) -> Void)?
        let checkCancellation: () throws -> Void
        var done = 0

        mutating func pass(_ body: () throws -> Tensor) throws -> Tensor {
            try checkCancellation()
            let result = try body()
            done += 1
            progress?(SegmentationProgress(completedPasses: done, totalPasses: total))
            return result
        }
    }

    /// Height and width of the image resized for `scale`.
    func resized(height: Int, width: Int, scale: Double) -> (height: Int, width: Int, long: Int, short: Int) {
        let long = Int((Double(options.baseSize) * scale).rounded(.up))
        if height > width {
            let w = max(1, Int(Double(width) * Double(long) / Double(height) + 0.5))
            return (long, w, long, w)
        }
        let h = max(1, Int(Double(height) * Double(long) / Double(width) + 0.5))
        return (h, long, long, h)
    }

    /// Window origins along one axis of a padded size.
    func origins(_ padded: Int) -> [Int] {
        let crop = options.cropSize, stride = options.stride
        let grids = Int((Double(padded - crop) / Double(stride)).rounded(.up)) + 1
        return (0..<grids).map { $0 * stride }
    }

    /// exp(logits(x) + flip(logits(flip(x)))), the reference's module_inference; (classes, h, w).
    private func infer(_ x: Tensor, _ run: inout Run) throws -> Scores {
        var logits = try run.pass { try fused(x) }
        if options.flip {
            let mirrored = TensorOps.flipHorizontally(try run.pass { try fused(TensorOps.flipHorizontally(x)) })
            for i in 0..<logits.count { logits.data[i] += mirrored.data[i] }
        }
        return Scores(checkedChannels: logits.shape[0], height: logits.shape[1], width: logits.shape[2],
                      values: logits.data.map { Foundation.exp(Double($0)) })
    }

    func fused(_ x: Tensor) throws -> Tensor {
        let output = try model(Tensor(checkedShape: [1] + x.shape, data: x.data), heads: .fused)
        return Tensor(checkedShape: Array(output.fused.shape.dropFirst()), data: output.fused.data)
    }

    /// A black pixel after normalisation: -mean/std per channel.
    var padValues: [Float] { zip(options.mean, options.std).map { -$0 / $1 } }

    /// (3, height, width): RGB scaled to 0...1, minus mean, over std.
    func normalize(_ image: RGBImage) -> Tensor {
        TensorOps.normalize(image, pixelScale: 255, mean: options.mean, std: options.std)
    }
}

/// How far a segmentation has come, in network passes.
public struct SegmentationProgress: Sendable, Equatable {
    /// Passes finished.
    public let completedPasses: Int
    /// Passes the image needs.
    public let totalPasses: Int

    /// `completedPasses` of `totalPasses` done.
    public init(completedPasses: Int, totalPasses: Int) {
        self.completedPasses = completedPasses
        self.totalPasses = totalPasses
    }

    /// Finished share, 0...1.
    public var fractionCompleted: Double { totalPasses == 0 ? 1 : Double(completedPasses) / Double(totalPasses) }
}

/// Why a segmentation or an evaluation cannot run: one line saying what was expected and found.
public struct SegmentationError: DANetError, Equatable {
    /// The file concerned, or "".
    public let file: String
    /// The rest of the line, after the file.
    public let message: String

    /// An error about `file`, when there is one.
    public init(file: String = "", _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { errorLine(file: file, message) }
}
