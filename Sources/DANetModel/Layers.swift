import TensorKernels
import TorchArchive

/// One image's activations: (channels, height, width), C order.
struct FeatureMap {
    var channels: Int
    var height: Int
    var width: Int
    var data: [Float]

    init(channels: Int, height: Int, width: Int, data: [Float]) {
        precondition(data.count == channels * height * width)
        self.channels = channels
        self.height = height
        self.width = width
        self.data = data
    }

    init(zeros channels: Int, _ height: Int, _ width: Int) {
        self.init(channels: channels, height: height, width: width, data: [Float](repeating: 0, count: channels * height * width))
    }

    /// For outputs that a kernel writes in full: no pass to zero them first.
    init(uninitialized channels: Int, _ height: Int, _ width: Int) {
        let count = channels * height * width
        self.init(channels: channels, height: height, width: width,
                  data: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
    }

    var plane: Int { height * width }
}

/// The im2col buffer all convolutions of a forward pass share, grown on demand up to a bound.
final class Scratch {
    /// Columns for at most this many floats (32 MB); larger convolutions run in pixel blocks.
    static let blockFloats = 1 << 23
    var buffer: [Float] = []

    func reserve(_ count: Int) {
        if buffer.count < count { buffer = [Float](repeating: 0, count: count) }
    }
}

/// Where a model's layers come from: a checkpoint's PyTorch weights, folded and transformed as they
/// load, or a model file (`ModelFile`) that holds them as danet runs them.
struct LayerSource {
    let store: WeightStore
    /// True for a model file: layers take their prepared tensors in place.
    let isPrepared: Bool
    /// The products' arithmetic (what runs, not what was asked for).
    let precision: Precision
}

/// A convolution with its batch norm folded in (`nn.Conv2d` followed by `nn.BatchNorm2d` in eval mode).
struct Conv2d {
    /// The convolution's key without `.weight` (`pretrained.layer1.0.conv1`): its name in a model file.
    let name: String
    let geometry: ConvGeometry
    /// (outChannels, inChannels * k * k), packed for the GEMM; nil when the Winograd form replaces it.
    let weight: PackedMatrix?
    let bias: [Float]?
    /// Winograd weights for 3x3 convolutions with stride 1, dilated ones included.
    let winograd: Winograd.Weights?

    static let batchNormEpsilon = 1e-5

    /// Loads `<conv>.weight` (and `<conv>.bias` if `convBias`) and folds `<batchNorm>.*` into them.
    /// Matches `Conv2d` + `BatchNorm2d(eps=1e-5)` of the official DANet and mmseg's ConvModule.
    /// `winogradTile` is used when Winograd applies to the geometry.
    init(_ source: LayerSource, conv: String, batchNorm: String?, geometry g: ConvGeometry, convBias: Bool = false,
         winogradTile: Winograd.Tile = .f2x2) throws {
        let tile = Winograd.applies(to: g) ? BF16Layers.tile(source.precision, default: winogradTile) : nil
        if source.isPrepared {
            self = try Conv2d(prepared: source.store, name: conv, geometry: g, hasBias: convBias || batchNorm != nil,
                              winogradTile: winogradTile, precision: source.precision)
            return
        }
        let element = BF16Layers.element(source.precision, tile: tile)
        let store = source.store
        name = conv
        var weight = try store.floats(conv + ".weight", shape: [g.outChannels, g.inChannels, g.kernel, g.kernel])
        var bias: [Float]? = convBias ? try store.floats(conv + ".bias", shape: [g.outChannels]) : nil
        if let bn = batchNorm {
            let shape = [g.outChannels]
            let gamma = try store.floats(bn + ".weight", shape: shape), beta = try store.floats(bn + ".bias", shape: shape)
            let mean = try store.floats(bn + ".running_mean", shape: shape), variance = try store.floats(bn + ".running_var", shape: shape)
            var folded = [Float](repeating: 0, count: g.outChannels)
            let patch = g.patchSize
            // In double, so the fold adds no rounding of its own beyond the final float32; output
            // channels in parallel, each thread scaling its own rows of the weights.
            let scales = (0..<g.outChannels).map { Double(gamma[$0]) / (Double(variance[$0]) + Conv2d.batchNormEpsilon).squareRoot() }
            weight.withUnsafeMutableBufferPointer { w in
                nonisolated(unsafe) let w = w.baseAddress!
                Threads.parallelFor(g.outChannels, minimumChunk: max(1, 65_536 / max(patch, 1))) { outputs in
                    for o in outputs {
                        let scale = scales[o]
                        for i in 0..<patch { w[o * patch + i] = Float(Double(w[o * patch + i]) * scale) }
                    }
                }
            }
            for o in 0..<g.outChannels {
                let convBias = Double(bias?[o] ?? 0)
                folded[o] = Float(Double(beta[o]) + (convBias - Double(mean[o])) * scales[o])
            }
            bias = folded
        }
        self.geometry = g
        self.bias = bias
        if let tile {
            winograd = Winograd.transformWeights(weight, outChannels: g.outChannels, inChannels: g.inChannels, tile: tile,
                                                 element: element)
            self.weight = nil
        } else {
            winograd = nil
            self.weight = PackedMatrix(rows: g.outChannels, columns: g.patchSize, values: weight, element: element)
        }
    }

    /// `residual`, when given, is added before ReLU (a bottleneck's shortcut); Winograd convolutions take none.
    func callAsFunction(_ x: FeatureMap, relu: Bool, residual: FeatureMap? = nil, scratch: Scratch) -> FeatureMap {
        precondition(x.channels == geometry.inChannels, "conv expects \(geometry.inChannels) channels, got \(x.channels)")
        precondition(residual == nil || (winograd == nil && residual!.data.count == geometry.outChannels
            * geometry.outputSize(x.height) * geometry.outputSize(x.width)), "residual does not fit the output")
        // Both convolution paths write every output element (the kernel tests start from NaN).
        var y = FeatureMap(uninitialized: geometry.outChannels, geometry.outputSize(x.height), geometry.outputSize(x.width))
        // Workspace: Winograd tiles, or im2col columns, in blocks of at most Scratch.blockFloats.
        if let winograd {
            let perTile = Winograd.floatsPerTile(geometry, tile: winograd.tile)
            // Tiles of m x m outputs on d x d sub-grids: at most (H / m + 2d)(W / m + 2d) of them.
            let (m, d) = (winograd.tile.rawValue, geometry.dilation)
            let tiles = (x.height / m + 2 * d) * (x.width / m + 2 * d)
            scratch.reserve(max(perTile, min(perTile * tiles, Scratch.blockFloats)))
        } else if !geometry.isPointwise {
            scratch.reserve(max(geometry.patchSize, min(geometry.patchSize * y.plane, Scratch.blockFloats)))
        }
        x.data.withUnsafeBufferPointer { input in
            y.data.withUnsafeMutableBufferPointer { output in
                scratch.buffer.withUnsafeMutableBufferPointer { workspace in
                    withOptionalPointer(bias) { biasPointer in
                        if let winograd {
                            Winograd.forward(geometry, input: input.baseAddress!, height: x.height, width: x.width,
                                             transformed: winograd, bias: biasPointer, relu: relu,
                                             output: output.baseAddress!, workspace: workspace)
                        } else if let weight {
                            withOptionalPointer(residual?.data) { residualPointer in
                                Convolution.forward(geometry, input: input.baseAddress!, height: x.height, width: x.width,
                                                    weight: weight, bias: biasPointer, residual: residualPointer, relu: relu,
                                                    output: output.baseAddress!, workspace: workspace)
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}

/// Calls `body` with a pointer to `array`'s elements, or nil when there is no array.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
