import TensorKernels
import TorchArchive

/// DANet (Fu et al., CVPR 2019) for inference: a dilated ResNet and the dual attention head.
///
/// Built from an official (`pretrained.*`, `head.*`) or mmsegmentation (`backbone.*`,
/// `decode_head.*`) checkpoint, in any format TorchArchive reads. Every tensor the model needs must
/// be present with its shape, and any tensor left over is an error, except `num_batches_tracked`,
/// `pretrained.fc.*`, `auxlayer.*` and `auxiliary_head.*`.
public struct DANet {
    public let configuration: DANetConfiguration
    let backbone: DilatedResNet
    let head: DANetHead

    /// The three outputs of the official forward, each (N, classes, H, W).
    public struct Output {
        public var fused: Tensor
        public var position: Tensor
        public var channel: Tensor
        /// c1...c4, pam and cam, (N, C, h, w), when asked for.
        public var stages: [String: Tensor]
    }

    /// Loads `path` (.pth, .pth.tar, .pt or safetensors).
    /// - Parameters:
    ///   - layer4Dilations, alignCorners: override what the layout implies (see `DANetConfiguration`).
    /// - Throws: `ArchiveError` for an unreadable file, `ModelError` for weights that are not this model.
    public init(contentsOf path: String, layer4Dilations: [Int]? = nil, alignCorners: Bool? = nil) throws {
        try self.init(checkpoint: try Checkpoint.open(path), layer4Dilations: layer4Dilations, alignCorners: alignCorners)
    }

    public init(checkpoint: Checkpoint, layer4Dilations: [Int]? = nil, alignCorners: Bool? = nil) throws {
        let (store, layout) = try WeightStore.open(checkpoint)
        let config = try DANetConfiguration.detect(store, layout: layout, metadata: checkpoint.metadata,
                                                   layer4Dilations: layer4Dilations, alignCorners: alignCorners)
        backbone = try DilatedResNet(store, config)
        head = try DANetHead(store, config)
        try store.finish()
        configuration = config
    }

    /// Which classifier outputs to compute: prediction needs only the fused one.
    public enum Heads: Sendable {
        case all
        case fused
    }

    /// Runs the network on `input` (N, 3, H, W), already normalised, any H and W.
    /// - Parameters:
    ///   - heads: `.fused` leaves `position` and `channel` empty.
    ///   - captureStages: also return c1...c4 and the attention outputs.
    /// - Throws: `ModelError.invalidInput` for a tensor that is not (N, 3, H, W).
    public func callAsFunction(_ input: Tensor, heads: Heads = .all, captureStages: Bool = false) throws -> Output {
        guard input.rank == 4, input.shape[1] == 3, input.shape[0] >= 1, input.shape[2] >= 1, input.shape[3] >= 1 else {
            throw ModelError(.invalidInput, "expected an input of shape [N, 3, H, W], found \(shapeText(input.shape))")
        }
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let classes = configuration.classes
        var outputs = (0..<3).map { index in Tensor(zeros: index == 0 || heads == .all ? [batch, classes, height, width] : [0]) }
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
                      stages: stages.mapValues { Tensor(shape: $0.shape, data: $0.data) })
    }
}
