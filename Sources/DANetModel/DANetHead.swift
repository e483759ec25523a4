import TensorKernels
import TorchArchive

/// The DANet head (`head.*`; mmseg's DAHead): two branches from c4, one through position attention
/// and one through channel attention, each with its own classifier, and a fused classifier on their sum.
struct DANetHead {
    let conv5a: Conv2d
    let conv5c: Conv2d
    let positionAttention: PositionAttention
    let channelAttention: ChannelAttention
    let conv51: Conv2d
    let conv52: Conv2d
    /// conv6 (position), conv7 (channel), conv8 (fused): Dropout2d (identity at inference) + 1x1 conv.
    let conv6: Conv2d
    let conv7: Conv2d
    let conv8: Conv2d

    /// The head's 3x3 convolutions (a third of the model's multiplications) use the larger Winograd
    /// tile in f32; the backbone keeps F(2x2, 3x3), since the larger tile's rounding in every layer
    /// fails the full-size parity criterion and in the head alone does not (README, "Parity with
    /// PyTorch"). In bf16 the head uses F(2x2, 3x3) too (`BF16Layers.tile`).
    static let winogradTile = Winograd.Tile.f4x4

    init(_ source: LayerSource, _ config: DANetConfiguration) throws {
        let input = config.headInput, inter = config.headInter
        func conv3x3(_ name: String, _ cin: Int) throws -> Conv2d {
            try Conv2d(source, conv: "head.\(name).0", batchNorm: "head.\(name).1",
                       geometry: ConvGeometry(inChannels: cin, outChannels: inter, kernel: 3, padding: 1),
                       winogradTile: DANetHead.winogradTile)
        }
        func classifier(_ name: String) throws -> Conv2d {
            try Conv2d(source, conv: "head.\(name).1", batchNorm: nil,
                       geometry: ConvGeometry(inChannels: inter, outChannels: config.classes, kernel: 1), convBias: true)
        }
        conv5a = try conv3x3("conv5a", input)
        conv5c = try conv3x3("conv5c", input)
        positionAttention = try PositionAttention(source, channels: inter)
        channelAttention = try ChannelAttention(source)
        conv51 = try conv3x3("conv51", inter)
        conv52 = try conv3x3("conv52", inter)
        conv6 = try classifier("conv6")
        conv7 = try classifier("conv7")
        conv8 = try classifier("conv8")
    }

    /// Every convolution, the attention's projections included.
    var convolutions: [Conv2d] {
        [conv5a, conv5c, positionAttention.query, positionAttention.key, positionAttention.value, conv51, conv52, conv6, conv7, conv8]
    }

    /// Returns the low-resolution (fused, position, channel) logits, the last two empty unless
    /// `allHeads`; `record` sees the attention outputs.
    func callAsFunction(_ c4: FeatureMap, scratch: Scratch, allHeads: Bool = true, record: ((String, FeatureMap) -> Void)? = nil)
        -> (fused: FeatureMap, position: FeatureMap, channel: FeatureMap) {
        let empty = FeatureMap(zeros: 0, 0, 0)
        let pam = positionAttention(conv5a(c4, relu: true, scratch: scratch), scratch: scratch)
        record?("pam", pam)
        let positionFeatures = conv51(pam, relu: true, scratch: scratch)
        let position = allHeads ? conv6(positionFeatures, relu: false, scratch: scratch) : empty

        let cam = channelAttention(conv5c(c4, relu: true, scratch: scratch))
        record?("cam", cam)
        var summed = conv52(cam, relu: true, scratch: scratch)
        let channel = allHeads ? conv7(summed, relu: false, scratch: scratch) : empty

        summed.data.withUnsafeMutableBufferPointer { s in
            positionFeatures.data.withUnsafeBufferPointer { p in Elementwise.add(s.baseAddress!, p.baseAddress!, count: s.count) }
        }
        return (conv8(summed, relu: false, scratch: scratch), position, channel)
    }
}
