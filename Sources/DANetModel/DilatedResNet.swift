import TensorKernels
import TorchArchive

/// A ResNet bottleneck: 1x1 -> 3x3 (stride, dilation) -> 1x1 (x4), plus identity or downsample.
struct Bottleneck {
    let conv1: Conv2d
    let conv2: Conv2d
    let conv3: Conv2d
    let downsample: Conv2d?

    /// Loads `<prefix>.conv1/bn1 ... conv3/bn3` and, for the first block of a stage, `<prefix>.downsample.0/1`.
    init(_ source: LayerSource, prefix: String, inChannels: Int, planes: Int, stride: Int, dilation: Int, hasDownsample: Bool) throws {
        conv1 = try Conv2d(source, conv: prefix + ".conv1", batchNorm: prefix + ".bn1",
                           geometry: ConvGeometry(inChannels: inChannels, outChannels: planes, kernel: 1))
        conv2 = try Conv2d(source, conv: prefix + ".conv2", batchNorm: prefix + ".bn2",
                           geometry: ConvGeometry(inChannels: planes, outChannels: planes, kernel: 3, stride: stride,
                                                  padding: dilation, dilation: dilation))
        conv3 = try Conv2d(source, conv: prefix + ".conv3", batchNorm: prefix + ".bn3",
                           geometry: ConvGeometry(inChannels: planes, outChannels: planes * 4, kernel: 1))
        downsample = hasDownsample
            ? try Conv2d(source, conv: prefix + ".downsample.0", batchNorm: prefix + ".downsample.1",
                         geometry: ConvGeometry(inChannels: inChannels, outChannels: planes * 4, kernel: 1, stride: stride))
            : nil
    }

    /// Every convolution, in the order they run.
    var convolutions: [Conv2d] { [conv1, conv2, conv3] + (downsample.map { [$0] } ?? []) }

    func callAsFunction(_ x: FeatureMap, scratch: Scratch) -> FeatureMap {
        let identity = downsample.map { $0(x, relu: false, scratch: scratch) } ?? x
        // conv3's products add the shortcut and apply the block's ReLU as they store.
        return conv3(conv2(conv1(x, relu: true, scratch: scratch), relu: true, scratch: scratch), relu: true,
                     residual: identity, scratch: scratch)
    }
}

/// The dilated ResNet backbone at output stride 8 (`pretrained.*` in the official layout).
///
/// Matches the official DANet's `resnet.py` with dilated=True (and mmseg's ResNetV1c with
/// contract_dilation): layer3 has stride 1 with dilation 1 in block 0 and 2 after; layer4 has
/// stride 1 with the configured per-block dilations (block i uses dilations[i % 3]).
struct DilatedResNet {
    let stem: [Conv2d]
    let layers: [[Bottleneck]]

    init(_ source: LayerSource, _ config: DANetConfiguration) throws {
        let base = config.baseWidth
        var stem: [Conv2d] = []
        let stemOut: Int
        switch config.stem {
        case .resnet7:
            stem.append(try Conv2d(source, conv: "pretrained.conv1", batchNorm: "pretrained.bn1",
                                   geometry: ConvGeometry(inChannels: 3, outChannels: base, kernel: 7, stride: 2, padding: 3)))
            stemOut = base
        case .deep:
            let widths = [(3, base, 2, "pretrained.conv1.0", "pretrained.conv1.1"), (base, base, 1, "pretrained.conv1.3", "pretrained.conv1.4"),
                          (base, base * 2, 1, "pretrained.conv1.6", "pretrained.bn1")]
            for (cin, cout, stride, conv, bn) in widths {
                stem.append(try Conv2d(source, conv: conv, batchNorm: bn,
                                       geometry: ConvGeometry(inChannels: cin, outChannels: cout, kernel: 3, stride: stride, padding: 1)))
            }
            stemOut = base * 2
        case .v1c:
            let half = base / 2
            let widths = [(3, half, 2, "pretrained.stem.0", "pretrained.stem.1"), (half, half, 1, "pretrained.stem.3", "pretrained.stem.4"),
                          (half, base, 1, "pretrained.stem.6", "pretrained.stem.7")]
            for (cin, cout, stride, conv, bn) in widths {
                stem.append(try Conv2d(source, conv: conv, batchNorm: bn,
                                       geometry: ConvGeometry(inChannels: cin, outChannels: cout, kernel: 3, stride: stride, padding: 1)))
            }
            stemOut = base
        }
        self.stem = stem

        var inChannels = stemOut
        var layers: [[Bottleneck]] = []
        for (stage, blocks) in config.blocks.enumerated() {
            let planes = base << stage
            var stageBlocks: [Bottleneck] = []
            for block in 0..<blocks {
                let dilation: Int
                switch stage {
                case 2: dilation = block == 0 ? 1 : 2
                case 3: dilation = config.layer4Dilations[block % 3]
                default: dilation = 1
                }
                stageBlocks.append(try Bottleneck(source, prefix: "pretrained.layer\(stage + 1).\(block)", inChannels: inChannels,
                                                  planes: planes, stride: stage == 1 && block == 0 ? 2 : 1,
                                                  dilation: dilation, hasDownsample: block == 0))
                inChannels = planes * 4
            }
            layers.append(stageBlocks)
        }
        self.layers = layers
    }

    /// Every convolution, stem first.
    var convolutions: [Conv2d] { stem + layers.flatMap { $0.flatMap(\.convolutions) } }

    /// Returns c4 (the output of layer4); `record` sees c1 to c4 as they are made.
    func callAsFunction(_ image: FeatureMap, scratch: Scratch, record: ((String, FeatureMap) -> Void)? = nil) -> FeatureMap {
        var x = image
        for conv in stem { x = conv(x, relu: true, scratch: scratch) }
        var pooled = FeatureMap(zeros: x.channels, (x.height - 1) / 2 + 1, (x.width - 1) / 2 + 1)
        x.data.withUnsafeBufferPointer { input in
            pooled.data.withUnsafeMutableBufferPointer { output in
                Pooling.maxPool3x3Stride2(input.baseAddress!, channels: x.channels, height: x.height, width: x.width,
                                          output: output.baseAddress!)
            }
        }
        x = pooled
        for (stage, layer) in layers.enumerated() {
            for block in layer { x = block(x, scratch: scratch) }
            record?("c\(stage + 1)", x)
        }
        return x
    }
}
