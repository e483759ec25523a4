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

    @Option(help: "Scales, e.g. 0.75,1,1.25 (default: the preset's).",
            transform: { text in
                let values = text.split(separator: ",").map { Double($0) }
                guard !values.isEmpty, let parsed = values as? [Double], parsed.allSatisfy({ $0 > 0 }) else {
                    throw ValidationError("--scales takes positive numbers like 0.75,1,1.25; found '\(text)'")
                }
                return parsed
            })
    var scales: [Double]?

    @Flag(inversion: .prefixedNo, help: "Add the horizontally flipped pass (default: the preset's, on for all).")
    var flip: Bool?

    @Option(help: "Long side of the image at scale 1 (default: the preset's).")
    var baseSize: Int?

    @Option(help: "Window size of the sliding window (default: the preset's).")
    var cropSize: Int?

    @Option(help: "slide (official padded sliding window) or whole (the whole resized image at once); default: the preset's.")
    var mode: ModeName?

    @OptionGroup var model: ModelOptions

    func validate() throws {
        for (name, value) in [("--base-size", baseSize), ("--crop-size", cropSize)] {
            if let value, value < 8 { throw ValidationError("\(name) must be at least 8, found \(value)") }
        }
    }

    /// The network, its class names and palette, and the pipeline the flags describe.
    func makePipeline() throws -> (SegmentationPipeline, DatasetPreset) {
        let network = try model.load(weights)
        let classes = network.configuration.classes
        let preset: DatasetPreset
        if let dataset {
            preset = dataset.preset
        } else if weights == nil {
            preset = .street
        } else {
            preset = DatasetPreset.all.first { $0.classes.count == classes && $0.name != "street" } ?? .generic(classes: classes)
        }
        guard preset.classes.count == classes else {
            throw ModelError(.invalidOption, file: weights ?? DANet.bundledModelName,
                             "the model predicts \(classes) classes, the \(preset.name) preset has \(preset.classes.count)")
        }
        var options = preset.options
        options.scales = scales ?? options.scales
        options.flip = flip ?? options.flip
        options.baseSize = baseSize ?? options.baseSize
        options.cropSize = cropSize ?? options.cropSize
        options.mode = mode?.mode ?? options.mode
        return (SegmentationPipeline(model: network, options: options, classes: preset.classes, palette: preset.palette), preset)
    }
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
