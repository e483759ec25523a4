import CDemoModel
import DANetSupport
import Foundation
import TensorKernels
import TorchArchive

/// DANet (Fu et al., CVPR 2019) for inference: a dilated ResNet and the dual attention head.
///
/// Built from an official (`pretrained.*`, `head.*`) or mmsegmentation (`backbone.*`,
/// `decode_head.*`) checkpoint, in any format TorchArchive reads. Every tensor the model needs must
/// be present with its shape, and any tensor left over is an error, except `num_batches_tracked`,
/// `pretrained.fc.*`, `auxlayer.*` and `auxiliary_head.*`.
///
/// A loaded model is immutable and `Sendable`: share one between tasks, actors or threads, and run
/// it from several at once.
///
/// ```swift
/// let model = try DANet(contentsOf: URL(fileURLWithPath: "danet101.pth.tar"))
/// let logits = try model(input).fused   // input: (N, 3, H, W), normalised
/// ```
public struct DANet: Sendable {
    /// Depth, stem, classes and the options the weights cannot show.
    public let configuration: DANetConfiguration
    /// Threads the kernels use for this model's work (nil: every CPU the process may use).
    public var threads: Int?
    /// True when the model was read from a native model file (`writeModelFile(to:)`), false when
    /// it was built from a checkpoint.
    public let isModelFile: Bool
    /// The arithmetic of the products that run (see `Precision`).
    public let precision: Precision
    /// Why `precision` is not what was asked for (one line), or nil when it is.
    public let precisionNote: String?
    let backbone: DilatedResNet
    let head: DANetHead

    /// The three outputs of the official forward, each (N, classes, H, W).
    public struct Output: Sendable {
        /// The fused classifier (`conv8`, mmseg's `conv_seg`): the prediction.
        public var fused: Tensor
        /// The position-attention branch's classifier (`conv6`); empty with `heads: .fused`.
        public var position: Tensor
        /// The channel-attention branch's classifier (`conv7`); empty with `heads: .fused`.
        public var channel: Tensor
        /// c1...c4, pam and cam, (N, C, h, w), when asked for.
        public var stages: [String: Tensor]
    }

    /// The CPUs this process may use (affinity and cgroup quota): the thread count when none is given.
    public static var availableThreads: Int { Threads.available }

    /// Loads the checkpoint at `url` (.pth, .pth.tar, .pt or safetensors), or a native model file
    /// (`.danet`, from `writeModelFile(to:)`), which maps its prepared weights instead of building them.
    /// - Parameters:
    ///   - url: the checkpoint file.
    ///   - layer4Dilations: layer 4's dilations, which weights cannot show (default: the layout's,
    ///     or what `danet convert` recorded).
    ///   - alignCorners: how logits are upsampled (default likewise).
    ///   - precision: the products' arithmetic (nil: f32, or bf16 for a model file written in bf16).
    ///     bf16 runs where the CPU has bf16 products; elsewhere f32 runs and `precisionNote` says why.
    ///   - threads: threads for loading and for every run of this model (nil: all available).
    /// - Throws: `ArchiveError` for an unreadable file, `WeightError` for weights of the wrong
    ///   shape, missing or left over, `ModelError` for weights that are not a DANet or a model file
    ///   of another format version.
    public init(contentsOf url: URL, layer4Dilations: [Int]? = nil, alignCorners: Bool? = nil, precision: Precision? = nil,
                threads: Int? = nil) throws {
        try self.init(checkpoint: try Checkpoint(contentsOf: url), layer4Dilations: layer4Dilations,
                      alignCorners: alignCorners, precision: precision, threads: threads)
    }

    /// Builds the model from an opened checkpoint; see
    /// `init(contentsOf:layer4Dilations:alignCorners:precision:threads:)`.
    public init(checkpoint: Checkpoint, layer4Dilations: [Int]? = nil, alignCorners: Bool? = nil, precision: Precision? = nil,
                threads: Int? = nil) throws {
        let (running, note) = Precision.resolve(DANet.precision(asked: precision, checkpoint))
        try self.init(checkpoint: checkpoint, layer4Dilations: layer4Dilations, alignCorners: alignCorners, building: running,
                      note: note, threads: threads)
    }

    /// A model built in `precision` (nil: as `init(checkpoint:...)` defaults it) whatever this CPU
    /// runs, to be written as a model file (`danet convert`), not run: bf16 layers on a CPU without
    /// bf16 products would stop the process.
    package static func forModelFile(checkpoint: Checkpoint, layer4Dilations: [Int]?, alignCorners: Bool?, precision: Precision?,
                                     threads: Int?) throws -> DANet {
        try DANet(checkpoint: checkpoint, layer4Dilations: layer4Dilations, alignCorners: alignCorners,
                  building: DANet.precision(asked: precision, checkpoint), note: nil, threads: threads)
    }

    /// The precision asked for, or by default f32, or bf16 for a model file written in bf16.
    private static func precision(asked: Precision?, _ checkpoint: Checkpoint) -> Precision {
        asked ?? (ModelFile.isModelFile(checkpoint) ? ModelFile.precision(checkpoint) : .f32)
    }

    private init(checkpoint: Checkpoint, layer4Dilations: [Int]?, alignCorners: Bool?, building running: Precision, note: String?,
                 threads: Int?) throws {
        let source: LayerSource, config: DANetConfiguration
        let isModelFile = ModelFile.isModelFile(checkpoint)
        if isModelFile {
            config = try ModelFile.configuration(checkpoint, layer4Dilations: layer4Dilations, alignCorners: alignCorners)
            source = LayerSource(store: try WeightStore(try checkpoint.stateDict(stripPrefix: nil), file: checkpoint.path),
                                 isPrepared: true, precision: running)
        } else {
            let (store, layout) = try DANetWeights.open(checkpoint)
            config = try DANetConfiguration.detect(store, layout: layout, metadata: checkpoint.metadata,
                                                   layer4Dilations: layer4Dilations, alignCorners: alignCorners)
            source = LayerSource(store: store, isPrepared: false, precision: running)
        }
        (backbone, head) = try Threads.with(threads) {
            (try DilatedResNet(source, config), try DANetHead(source, config))
        }
        try source.store.finish(model: source.isPrepared ? "DANet model file" : "DANet",
                                ignoring: source.isPrepared ? { _ in false } : DANetWeights.isIgnorable)
        configuration = config
        self.isModelFile = isModelFile
        self.precision = running
        precisionNote = note
        self.threads = threads
    }

    /// True when `checkpoint` is a native model file (written by `writeModelFile(to:)`, of any
    /// format version), false for any other checkpoint.
    public static func isModelFile(_ checkpoint: Checkpoint) -> Bool { ModelFile.isModelFile(checkpoint) }

    /// The name the bundled model goes by in messages.
    public static let bundledModelName = "default-street-danet.pth"

    /// The small street-scene model built into the library (a DANet-R50 of base width 8, six
    /// classes: road, building, vegetation, sky, car, person; `DatasetPreset.street`), trained on
    /// synthetic 128 x 256 scenes. It needs no file, so examples and tests run anywhere.
    /// - Parameters: as `init(contentsOf:layer4Dilations:alignCorners:precision:threads:)`.
    /// - Throws: as `init(checkpoint:)`, which it never should for the bytes it was built with.
    public static func bundled(layer4Dilations: [Int]? = nil, alignCorners: Bool? = nil, precision: Precision? = nil,
                               threads: Int? = nil) throws -> DANet {
        try DANet(checkpoint: try bundledCheckpoint(), layer4Dilations: layer4Dilations, alignCorners: alignCorners,
                  precision: precision, threads: threads)
    }

    /// The bundled model's checkpoint, read from the library's own bytes.
    package static func bundledCheckpoint() throws -> Checkpoint {
        var count = 0
        let bytes = UnsafeRawBufferPointer(start: danet_demo_model(&count), count: count)
        return try Checkpoint.open(permanentBytes: bytes, name: bundledModelName)
    }

    /// Which classifier outputs to compute: prediction needs only the fused one.
    public enum Heads: Sendable {
        /// All three classifiers.
        case all
        /// The fused classifier alone.
        case fused
    }

    /// Runs the network on `input` (N, 3, H, W), already normalised, any H and W.
    /// - Parameters:
    ///   - input: the images, (N, 3, H, W).
    ///   - heads: `.fused` leaves `position` and `channel` empty.
    ///   - captureStages: also return c1...c4 and the attention outputs.
    /// - Throws: `ModelError.invalidInput` for a tensor that is not (N, 3, H, W).
    public func callAsFunction(_ input: Tensor, heads: Heads = .all, captureStages: Bool = false) throws -> Output {
        guard input.rank == 4, input.shape[1] == 3, input.shape[0] >= 1, input.shape[2] >= 1, input.shape[3] >= 1 else {
            throw ModelError(.invalidInput, "expected an input of shape [N, 3, H, W], found \(shapeText(input.shape))")
        }
        return Threads.with(threads) { forward(input, heads: heads, captureStages: captureStages) }
    }

    private func forward(_ input: Tensor, heads: Heads, captureStages: Bool) -> Output {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let classes = configuration.classes
        var outputs = (0..<3).map { index in
            Tensor(zerosChecked: index == 0 || heads == .all ? [batch, classes, height, width] : [0])
        }
        var stages: [String: (shape: [Int], data: [Float])] = [:]
        let scratch = Scratch()
        for n in 0..<batch {
            let image = FeatureMap(channels: 3, height: height, width: width,
                                   data: Array(input.data[(n * 3 * height * width)..<((n + 1) * 3 * height * width)]))
            let record: ((String, FeatureMap) -> Void)? = captureStages ? { name, map in
                if stages[name] == nil { stages[name] = ([batch, map.channels, map.height, map.width], []) }
                stages[name]!.data += map.data
            } : nil
            let c4 = backbone(image, scratch: scratch, record: record)
            let logits = head(c4, scratch: scratch, allHeads: heads == .all, record: record)
            for (index, low) in [logits.fused, logits.position, logits.channel].enumerated() where index == 0 || heads == .all {
                outputs[index].data.withUnsafeMutableBufferPointer { out in
                    low.data.withUnsafeBufferPointer { source in
                        Resize.bilinear(source.baseAddress!, planes: classes, height: low.height, width: low.width,
                                        output: out.baseAddress! + n * classes * height * width, outHeight: height, outWidth: width,
                                        alignCorners: configuration.alignCorners)
                    }
                }
            }
        }
        return Output(fused: outputs[0], position: outputs[1], channel: outputs[2],
                      stages: stages.mapValues { Tensor(checkedShape: $0.shape, data: $0.data) })
    }
}
