import TorchArchive

/// Everything that fixes a DANet's shape and forward pass.
///
/// Layout, depth, stem, width and class count are read from the weights; layer-4 dilations and
/// align_corners are not visible in weights, so they default by layout as the reference
/// implementations set them (official: 4/8/16 and true; mmseg: 2/4/4 and false) unless given.
public struct DANetConfiguration: Sendable, Equatable {
    /// Whose key names the checkpoint uses.
    public enum Layout: String, Sendable {
        /// The official DANet (`pretrained.*`, `head.*`).
        case official
        /// mmsegmentation (`backbone.*`, `decode_head.*`).
        case mmseg
    }

    /// The ResNet stem.
    public enum Stem: String, Sendable {
        /// One 7x7 convolution (torchvision's ResNet).
        case resnet7
        /// Three 3x3 convolutions, the last to twice the base width (the official "deep base").
        case deep
        /// Three 3x3 convolutions to the base width (mmseg's ResNetV1c).
        case v1c
    }

    /// Whose key names the checkpoint uses.
    public var layout: Layout
    /// 50, 101 or 152.
    public var depth: Int
    /// The stem the weights show.
    public var stem: Stem
    /// Planes of layer1 (64 in the released models); every other width follows from it.
    public var baseWidth: Int
    /// Classes the classifier predicts.
    public var classes: Int
    /// Dilations of layer 4's blocks, block i using `layer4Dilations[i % 3]`.
    public var layer4Dilations: [Int]
    /// Whether logits are upsampled with `align_corners=True`.
    public var alignCorners: Bool

    static let blockCounts: [Int: [Int]] = [50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]]

    /// Bottleneck blocks per stage.
    public var blocks: [Int] { DANetConfiguration.blockCounts[depth] ?? [] }
    /// Channels out of layer4 and into the head (2048 in the released models).
    public var headInput: Int { baseWidth * 8 * 4 }
    /// Channels inside the head's two branches.
    public var headInter: Int { headInput / 4 }

    /// Recorded in safetensors `__metadata__` by `danet convert`, read back by `detect`.
    public var metadata: [String: String] {
        ["danet.layout": layout.rawValue, "danet.depth": String(depth), "danet.stem": stem.rawValue,
         "danet.classes": String(classes), "danet.layer4_dilations": layer4Dilations.map(String.init).joined(separator: ","),
         "danet.align_corners": String(alignCorners)]
    }

    /// The three layer-4 dilations `metadata` records as "a,b,c", or nil for any other text.
    static func dilations(recorded text: String) -> [Int]? {
        let values = text.split(separator: ",").compactMap { Int($0) }
        return values.count == 3 ? values : nil
    }

    /// Reads the configuration from a checkpoint's state dict, or the one a native model file records.
    /// - Parameters:
    ///   - checkpoint: an opened checkpoint holding a DANet, or a model file.
    ///   - layer4Dilations: overrides the layout's default (and any recorded metadata).
    ///   - alignCorners: overrides the layout's default (and any recorded metadata).
    /// - Throws: `ModelError.unrecognized` when the weights are not a DANet.
    public static func detect(_ checkpoint: Checkpoint, layer4Dilations: [Int]? = nil, alignCorners: Bool? = nil) throws -> DANetConfiguration {
        if ModelFile.isModelFile(checkpoint) {
            return try ModelFile.configuration(checkpoint, layer4Dilations: layer4Dilations, alignCorners: alignCorners)
        }
        let (store, layout) = try DANetWeights.open(checkpoint)
        return try detect(store, layout: layout, metadata: checkpoint.metadata, layer4Dilations: layer4Dilations, alignCorners: alignCorners)
    }

    static func detect(_ store: WeightStore, layout: Layout, metadata: [String: String],
                       layer4Dilations: [Int]?, alignCorners: Bool?) throws -> DANetConfiguration {
        func fail(_ message: String) -> ModelError { ModelError(.unrecognized, file: store.file, message) }
        let stem: Stem
        if let shape = store.shape(of: "pretrained.conv1.weight"), shape.count == 4, shape[2] == 7 {
            stem = .resnet7
        } else if store.contains("pretrained.conv1.0.weight") {
            stem = .deep
        } else if store.contains("pretrained.stem.0.weight") {
            stem = .v1c
        } else {
            throw fail("expected a DANet checkpoint with a ResNet stem (pretrained.conv1.weight, pretrained.conv1.0.weight or backbone.stem.0.weight), found none")
        }
        guard let layer1 = store.shape(of: "pretrained.layer1.0.conv1.weight"), layer1.count == 4 else {
            throw fail("expected tensor 'pretrained.layer1.0.conv1.weight' (ResNet layer1), found no such key")
        }
        let counts = (1...4).map { stage -> Int in
            let prefix = "pretrained.layer\(stage)."
            let indices = store.names(withPrefix: prefix).compactMap { Int($0.dropFirst(prefix.count).prefix { $0 != "." }) }
            return (indices.max() ?? -1) + 1
        }
        guard let depth = blockCounts.first(where: { $0.value == counts })?.key else {
            throw fail("expected ResNet-50/101/152 block counts [3, 4, 6, 3], [3, 4, 23, 3] or [3, 8, 36, 3], found \(counts)")
        }
        guard let classifier = store.shape(of: "head.conv8.1.weight"), classifier.count == 4 else {
            throw fail("expected the classifier 'head.conv8.1.weight' (mmseg 'decode_head.conv_seg.weight'), found no such key")
        }
        let dilations = layer4Dilations
            ?? metadata["danet.layer4_dilations"].flatMap(DANetConfiguration.dilations(recorded:))
            ?? (layout == .official ? [4, 8, 16] : [2, 4, 4])
        guard dilations.count == 3, dilations.allSatisfy({ $0 >= 1 }) else {
            throw ModelError(.invalidOption, "expected three positive layer4 dilations, found \(dilations)")
        }
        let align = alignCorners ?? metadata["danet.align_corners"].flatMap { Bool($0) } ?? (layout == .official)
        return DANetConfiguration(layout: layout, depth: depth, stem: stem, baseWidth: layer1[0], classes: classifier[0],
                                  layer4Dilations: dilations, alignCorners: align)
    }
}
