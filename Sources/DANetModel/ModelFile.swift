import CVectorKernels
import DANetSupport
import Foundation
import TensorKernels
import TorchArchive

/// The native model file (`.danet`): a DANet as danet runs it, so that loading is mapping a file.
///
/// A safetensors file, so any safetensors tool can list it. Batch norms are folded into the
/// convolutions, the weights are in the GEMM's panel layout (rows in panels of 6, depth in blocks of
/// 512: the same on every instruction set), and 3x3 stride-1 convolutions hold their Winograd
/// transforms. Per convolution `NAME` (the checkpoint's key, e.g. `pretrained.layer1.0.conv2`):
/// - `NAME.panels`, F32 `[P]`: the packed (out x in·k·k) matrix, P floats (rows padded to panels);
///   or BF16 `[P']` in a bf16 file: the same matrix in bf16 pair panels (depth padded to even);
/// - or `NAME.winograd`, F32 `[16 or 36, P]` (or BF16 `[16 or 36, P']`): one packed (out x in)
///   matrix per tile position, the first dimension giving the tile, F(2x2, 3x3) or F(4x4, 3x3);
/// - `NAME.bias`, F32 `[out]`: the folded bias.
/// Plus `head.sa.gamma` and `head.sc.gamma` `[1]`. The data starts on a 64-byte boundary.
/// `__metadata__` holds `format` = `danet`, `danet.format_version` (1: f32 weights only; 2: bf16
/// weights), `danet.packing`, `danet.precision`, and the configuration
/// (`danet.layout`, `danet.depth`, `danet.stem`, `danet.base_width`, `danet.classes`,
/// `danet.layer4_dilations`, `danet.align_corners`).
enum ModelFile {
    /// The `format` value of the metadata.
    static let formatName = "danet"
    /// Raised when the layout of the tensors or their meaning changes; a reader takes only the
    /// versions it knows. Version 2 added bf16 weights; f32 files are still written as version 1,
    /// which every earlier reader takes.
    static func formatVersion(_ precision: Precision) -> Int { precision == .bf16 ? 2 : 1 }
    /// The panel layout the weights are packed in.
    static let packing = "panels-mr\(DANET_GEMM_MR)-kc\(DANET_GEMM_KC)"

    /// True when `checkpoint` is a model file (of any version).
    static func isModelFile(_ checkpoint: Checkpoint) -> Bool {
        checkpoint.format == .safetensors && checkpoint.metadata["format"] == formatName
    }

    /// The configuration a model file records, with the caller's overrides.
    /// - Throws: `ModelError.unrecognized` for another format version, packing or a broken record.
    static func configuration(_ checkpoint: Checkpoint, layer4Dilations: [Int]?, alignCorners: Bool?) throws -> DANetConfiguration {
        let meta = checkpoint.metadata, file = checkpoint.path
        func fail(_ message: String) -> ModelError { ModelError(.unrecognized, file: file, message) }
        let version = meta["danet.format_version"] ?? "none"
        guard Precision.allCases.contains(where: { String(formatVersion($0)) == version }) else {
            throw fail("expected a danet model file of format version 1 or 2, found version \(version): "
                + "it was written by another danet; convert the checkpoint again with this one")
        }
        let precision = meta["danet.precision"] ?? Precision.f32.rawValue
        guard let stored = Precision(rawValue: precision), String(formatVersion(stored)) == version else {
            throw fail("expected precision f32 (format version 1) or bf16 (version 2), found '\(precision)' in version \(version)")
        }
        guard meta["danet.packing"] == packing else {
            throw fail("expected weights packed as \(packing), found \(meta["danet.packing"] ?? "no packing recorded")")
        }
        func value<T>(_ key: String, _ parse: (String) -> T?) throws -> T {
            guard let text = meta[key], let parsed = parse(text) else {
                throw fail("expected '\(key)' in the model file's metadata, found \(meta[key].map { "'\($0)'" } ?? "none")")
            }
            return parsed
        }
        let layout = try value("danet.layout", DANetConfiguration.Layout.init(rawValue:))
        let depth = try value("danet.depth") { Int($0).flatMap { DANetConfiguration.blockCounts[$0] != nil ? $0 : nil } }
        let stem = try value("danet.stem", DANetConfiguration.Stem.init(rawValue:))
        let width = try value("danet.base_width") { Int($0).flatMap { (1...4096).contains($0) && $0 % 2 == 0 ? $0 : nil } }
        let classes = try value("danet.classes") { Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil } }
        let recorded = try value("danet.layer4_dilations") { text in
            DANetConfiguration.dilations(recorded: text).flatMap { $0.allSatisfy { (1...1024).contains($0) } ? $0 : nil }
        }
        let align = try value("danet.align_corners") { Bool($0) }
        let dilations = layer4Dilations ?? recorded
        guard dilations.count == 3, dilations.allSatisfy({ $0 >= 1 }) else {
            throw ModelError(.invalidOption, "expected three positive layer4 dilations, found \(dilations)")
        }
        return DANetConfiguration(layout: layout, depth: depth, stem: stem, baseWidth: width, classes: classes,
                                  layer4Dilations: dilations, alignCorners: alignCorners ?? align)
    }

    /// The precision a model file's weights were written in (`danet.precision`; f32 when absent).
    static func precision(_ checkpoint: Checkpoint) -> Precision {
        checkpoint.metadata["danet.precision"].flatMap(Precision.init(rawValue:)) ?? .f32
    }

    /// The metadata a model file of `configuration` carries.
    static func metadata(_ configuration: DANetConfiguration, source: String?, precision: Precision) -> [String: String] {
        var metadata = configuration.metadata
        metadata["format"] = formatName
        metadata["danet.format_version"] = String(formatVersion(precision))
        metadata["danet.precision"] = precision.rawValue
        metadata["danet.packing"] = packing
        metadata["danet.base_width"] = String(configuration.baseWidth)
        if let source { metadata["danet.source"] = source }
        return metadata
    }

    /// A prepared tensor's floats in place where the file allows, else copied.
    static func floats(_ tensor: StoredTensor, name: String, file: String) throws -> MappedFloats {
        do {
            if let mapped = try tensor.mappedFloats() { return mapped }
            let values = try tensor.floats()
            let copy = OwnedBytes(values.withUnsafeBytes { Array($0) })
            let floats = copy.pointer.bindMemory(to: Float.self, capacity: values.count)
            return MappedFloats(pointer: UnsafePointer(floats), count: values.count, owner: copy)
        } catch let error as ArchiveError {
            throw WeightError(.unreadable, file: file, "tensor '\(name)': \(error.description)")
        }
    }
}

extension Conv2d {
    /// Reads a convolution prepared by `modelFileItems()`, its weights as `precision` runs them
    /// (used in place when stored so, else converted).
    init(prepared store: WeightStore, name: String, geometry g: ConvGeometry, hasBias: Bool, winogradTile: Winograd.Tile,
         precision: Precision) throws {
        self.name = name
        geometry = g
        bias = hasBias ? try ModelFile.floats(try store.tensor(name + ".bias", shape: [g.outChannels]), name: name + ".bias",
                                              file: store.file).array : nil
        let (rows, columns) = Winograd.applies(to: g) ? (g.outChannels, g.inChannels) : (g.outChannels, g.patchSize)
        let strides = [PackedMatrix.Element.float32, .bfloat16].map { PackedMatrix.panelCount(rows: rows, columns: columns, element: $0) }
        if Winograd.applies(to: g) {
            let tiles = [winogradTile] + Winograd.Tile.allCases.filter { $0 != winogradTile }
            let tensor = try store.tensor(name + ".winograd", shape: [winogradTile.positions, strides[0]],
                                          alternatives: tiles.flatMap { tile in strides.map { [tile.positions, $0] } })
            let tile = tiles.first { $0.positions == tensor.shape[0] }!, element = BF16Layers.element(precision, tile: tile)
            let (stored, bytes) = try ModelFile.panels(tensor, name: name + ".winograd", file: store.file, rows: rows,
                                                         columns: columns)
            let stride = tensor.shape[1] * (stored == .float32 ? 4 : 2)
            winograd = Winograd.Weights(tile: tile, matrices: (0..<tile.positions).map {
                PackedMatrix(rows: rows, columns: columns, panels: bytes.pointer + $0 * stride, stored: stored, owner: bytes.owner,
                             element: element)
            })
            weight = nil
        } else {
            let tensor = try store.tensor(name + ".panels", shape: [strides[0]], alternatives: strides.map { [$0] })
            let (stored, bytes) = try ModelFile.panels(tensor, name: name + ".panels", file: store.file, rows: rows, columns: columns)
            weight = PackedMatrix(rows: rows, columns: columns, panels: bytes.pointer, stored: stored, owner: bytes.owner,
                                  element: BF16Layers.element(precision, tile: nil))
            winograd = nil
        }
    }

    /// The tensors a model file holds for this convolution, its weights as `precision` puts them.
    func modelFileItems(_ precision: Precision) -> [SafetensorsWriter.Item] {
        var items: [SafetensorsWriter.Item] = []
        let element = BF16Layers.element(precision, tile: winograd?.tile)
        let dtype: DType = element == .float32 ? .float32 : .bfloat16
        if let winograd, let first = winograd.matrices.first {
            let stride = PackedMatrix.panelCount(rows: first.rows, columns: first.columns, element: element)
            items.append(SafetensorsWriter.Item(name: name + ".winograd", dtype: dtype, shape: [winograd.tile.positions, stride]) {
                winograd.matrices.flatMap { $0.panelBytes(as: element) }
            })
        } else if let weight {
            let stride = PackedMatrix.panelCount(rows: weight.rows, columns: weight.columns, element: element)
            items.append(SafetensorsWriter.Item(name: name + ".panels", dtype: dtype, shape: [stride]) {
                weight.panelBytes(as: element)
            })
        }
        if let bias {
            items.append(SafetensorsWriter.Item(name: name + ".bias", dtype: .float32, shape: [bias.count]) {
                bias.withUnsafeBytes { Array($0) }
            })
        }
        return items
    }
}

extension ModelFile {
    /// A prepared tensor of the panels of `rows` x `columns` matrices (its last dimension), F32 or
    /// BF16 with as many values per matrix as that type's layout needs: its bytes in place where the
    /// file allows, else copied.
    static func panels(_ tensor: StoredTensor, name: String, file: String, rows: Int, columns: Int) throws
        -> (PackedMatrix.Element, MappedBytes) {
        let element: PackedMatrix.Element
        switch tensor.dtype {
        case .float32: element = .float32
        case .bfloat16: element = .bfloat16
        default:
            throw WeightError(.unreadable, file: file, "tensor '\(name)': expected F32 or BF16 panels, found \(tensor.dtype.rawValue)")
        }
        let expected = PackedMatrix.panelCount(rows: rows, columns: columns, element: element)
        guard tensor.shape.last == expected else {
            throw WeightError(.wrongShape, file: file,
                              "tensor '\(name)': expected \(expected) \(tensor.dtype.rawValue) values per matrix, found \(tensor.shape)")
        }
        do {
            if let mapped = try tensor.mappedBytes() { return (element, mapped) }
            let copy = OwnedBytes(try tensor.contiguousBytes())
            return (element, MappedBytes(pointer: UnsafeRawPointer(copy.pointer), byteCount: copy.count, owner: copy))
        } catch let error as ArchiveError {
            throw WeightError(.unreadable, file: file, "tensor '\(name)': \(error.description)")
        }
    }

    /// An array's bytes at a stable, 64-byte aligned address, for a model file read without a map.
    final class OwnedBytes: @unchecked Sendable {
        // Written once here, read-only afterwards.
        let pointer: UnsafeMutableRawPointer
        let count: Int

        init(_ bytes: [UInt8]) {
            count = bytes.count
            pointer = .allocate(byteCount: max(1, bytes.count), alignment: 64)
            bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }

        deinit { pointer.deallocate() }
    }
}

extension MappedFloats {
    /// A copy of the elements.
    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

extension DANet {
    /// Writes this model as a native model file (`.danet`): the weights as they run, mapped into
    /// memory when loaded instead of rebuilt from the checkpoint.
    ///
    /// The file appears only when complete; an existing file at `url` is replaced only then.
    /// - Parameters:
    ///   - url: the file to write (by convention ending in `.danet`).
    ///   - source: the checkpoint's name, recorded in the metadata.
    ///   - precision: the weights' precision in the file (nil: the model's). bf16 rounds the weights
    ///     to bf16, except those of F(4x4, 3x3) convolutions, which bf16 runs in f32. The Winograd
    ///     tiles are the model's: a model loaded in bf16 has F(2x2, 3x3) everywhere, the layout bf16
    ///     runs fastest and most exactly with (see `Precision`).
    ///   - progress: called after each tensor with (tensors written, total).
    /// - Throws: `ArchiveError` if the file cannot be written.
    public func writeModelFile(to url: URL, source: String? = nil, precision: Precision? = nil,
                               progress: ((Int, Int) -> Void)? = nil) throws {
        let precision = precision ?? self.precision
        let gammas = [("head.sa.gamma", head.positionAttention.gamma), ("head.sc.gamma", head.channelAttention.gamma)]
        let items = (backbone.convolutions + head.convolutions).flatMap { $0.modelFileItems(precision) }
            + gammas.map { name, value in
                SafetensorsWriter.Item(name: name, dtype: .float32, shape: [1]) { [value].withUnsafeBytes { Array($0) } }
            }
        try SafetensorsWriter.write(items, metadata: ModelFile.metadata(configuration, source: source, precision: precision), to: url,
                                    dataAlignment: 64, progress: progress)
    }
}
