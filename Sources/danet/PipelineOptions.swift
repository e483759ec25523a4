import ArgumentParser
import DANetModel
import Segmentation

/// The test-time flags `segment` and `evaluate` share; unset ones come from the dataset preset.
struct PipelineOptions: ParsableArguments {
    @Option(name: .customLong("weights"), help: "The checkpoint (default: the bundled street-scene model).",
            completion: .file(extensions: ["pth", "pt", "tar", "safetensors"]))
    var weights: String?

    @Option(help: "Dataset preset: class names, palette and test sizes (default: by the model's class count).")
    var dataset: DatasetName?

    @Option(help: "Which reference test pipeline runs (default: mmseg for an mmseg checkpoint, else official).")
    var pipeline: PipelineName?

    @Option(help: "Scales (official) or ratios of the original image (mmseg test-time augmentation), e.g. 0.75,1,1.25 (default: the preset's).",
            transform: { text in
                let values = text.split(separator: ",").map { Double($0) }
                guard !values.isEmpty, let parsed = values as? [Double], parsed.allSatisfy({ $0 > 0 }) else {
                    throw ValidationError("--scales takes positive numbers like 0.75,1,1.25; found '\(text)'")
                }
                return parsed
            })
    var scales: [Double]?

    @Flag(inversion: .prefixedNo, help: "Add the horizontally flipped pass (default: the preset's: on for official, off for mmseg).")
    var flip: Bool?

    @Option(help: "official: the long side of the image at scale 1 (default: the preset's).")
    var baseSize: Int?

    @Option(help: "mmseg: resize to fit LONGxSHORT, keeping the aspect ratio, e.g. 2048x1024 (default: the preset's).")
    var resize: Size?

    @Option(help: "The sliding window: N (official, square) or HxW (mmseg), e.g. 769x769 (default: the preset's).")
    var cropSize: Size?

    @Option(help: "mmseg: the sliding window's step, HxW, e.g. 513x513 (default: the preset's).")
    var stride: Size?

    @Option(help: "slide (sliding window) or whole (the whole resized image at once); default: the preset's.")
    var mode: ModeName?

    @OptionGroup var model: ModelOptions

    func validate() throws {
        if let baseSize, baseSize < 8 { throw ValidationError("--base-size must be at least 8, found \(baseSize)") }
        for (name, value) in [("--resize", resize), ("--crop-size", cropSize), ("--stride", stride)] {
            if let value, value.first < 1 || value.second < 1 {
                throw ValidationError("\(name) takes positive sizes, found \(value.first)x\(value.second)")
            }
        }
    }

    /// The network, its class names and palette, and the pipeline the flags describe.
    func makePipeline() throws -> (SegmentationPipeline, DatasetPreset) {
        let checkpoint = try model.checkpoint(weights)
        let detected = try DANetConfiguration.detect(checkpoint, layer4Dilations: model.layer4Dilations)
        let classes = detected.classes
        let preset = dataset?.preset ?? .matching(classes: classes, bundled: weights == nil)
        guard preset.classes.count == classes else {
            throw ModelError(.invalidOption, file: checkpoint.path,
                             "the model predicts \(classes) classes, the \(preset.name) preset has \(preset.classes.count)")
        }
        let kind = pipeline?.kind ?? (detected.layout == .mmseg ? .mmseg : .official)
        // A checkpoint cannot show align_corners; mmseg's configs set it per dataset.
        let network = try model.load(checkpoint, alignCorners: kind == .mmseg ? preset.mmsegAlignCorners : nil)
        if kind == .mmseg {
            if let baseSize { throw ModelError(.invalidOption, "--base-size \(baseSize) applies to --pipeline official; mmseg takes --resize") }
            var options = preset.mmseg
            if let resize { (options.resizeLong, options.resizeShort) = (resize.first, resize.second) }
            if let cropSize { (options.cropHeight, options.cropWidth) = (cropSize.first, cropSize.second) }
            if let stride { (options.strideHeight, options.strideWidth) = (stride.first, stride.second) }
            options.mode = mode?.mode ?? options.mode
            options.flip = flip ?? options.flip
            options.ratios = scales ?? options.ratios
            return (SegmentationPipeline(model: network, options: preset.options, mmseg: options, classes: preset.classes,
                                         palette: preset.palette), preset)
        }
        for (name, value) in [("--resize", resize), ("--stride", stride)] where value != nil {
            throw ModelError(.invalidOption, "\(name) applies to --pipeline mmseg; the official pipeline takes --base-size and a stride of 2/3 of the crop")
        }
        if let cropSize, cropSize.first != cropSize.second {
            throw ModelError(.invalidOption, "the official pipeline's window is square; found --crop-size \(cropSize.first)x\(cropSize.second)")
        }
        var options = preset.options
        options.scales = scales ?? options.scales
        options.flip = flip ?? options.flip
        options.baseSize = baseSize ?? options.baseSize
        options.cropSize = cropSize?.first ?? options.cropSize
        options.mode = mode?.mode ?? options.mode
        return (SegmentationPipeline(model: network, options: options, classes: preset.classes, palette: preset.palette), preset)
    }
}

/// `--resize`, `--crop-size`, `--stride`: `AxB`, or one number for both.
struct Size: ExpressibleByArgument, Equatable {
    let first: Int
    let second: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        switch parts.count {
        case 1: guard let n = parts[0] else { return nil }; (first, second) = (n, n)
        case 2: guard let a = parts[0], let b = parts[1] else { return nil }; (first, second) = (a, b)
        default: return nil
        }
    }
}

/// `--pipeline`: official or mmseg.
enum PipelineName: String, ExpressibleByArgument, CaseIterable {
    case official, mmseg

    var kind: SegmentationPipeline.Kind { self == .official ? .official : .mmseg }
}

/// `--dataset`: one of the presets, listed in help and offered by shell completion.
struct DatasetName: ExpressibleByArgument {
    let preset: DatasetPreset

    init?(argument: String) {
        guard let preset = DatasetPreset.named(argument) else { return nil }
        self.preset = preset
    }

    static var allValueStrings: [String] { DatasetPreset.all.map(\.name) }
    static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

/// `--mode`: slide or whole.
enum ModeName: String, ExpressibleByArgument, CaseIterable {
    case slide, whole

    var mode: SegmentationPipeline.Mode { self == .slide ? .slide : .whole }
}
