import ArgumentParser
import DANetModel
import Foundation
import TorchArchive

/// `danet inspect FILE [--json]`: what a checkpoint holds, without reading its tensor data.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a checkpoint's format, structure and tensors.",
        discussion: """
            Reads .pth, .pth.tar, .pt (zip, legacy or TorchScript), .safetensors and .danet model files; \
            for a .danet file, also the model it holds. Nothing in the file is executed.
            """
    )

    @Argument(help: "The checkpoint file.")
    var file: String

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    @Flag(help: "Refuse every global outside the allow list (tensor machinery, containers, known data classes).")
    var strict = false

    func run() throws {
        try reportingErrors {
            let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: file), strict: strict)
            Safety.warnAboutUnknownCallables(checkpoint)
            print(json ? try InspectReport(checkpoint).jsonText() : InspectReport(checkpoint).text())
        }
    }
}

/// The facts `inspect` prints, in a form that serialises to JSON as it is.
struct InspectReport: Encodable {
    struct Tensor: Encodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let bytes: Int
        let contiguous: Bool
        let storage: String
    }

    struct Entry: Encodable {
        let key: String
        let summary: String
        let tensors: Int
    }

    struct Opaque: Encodable {
        let path: String
        let className: String
    }

    let file: String
    let fileBytes: Int
    let format: String
    let pickleProtocol: Int?
    let byteOrder: String
    let stateDict: String
    let structure: [Entry]
    let tensors: [Tensor]
    let constants: [Tensor]
    let totalTensors: Int
    let totalElements: Int
    let totalBytes: Int
    let storages: Int
    let opaqueObjects: [Opaque]
    let metadata: [String: String]
    let globals: [GlobalReference]
    let verdict: String
    let clean: Bool
    /// The DANet a native model file holds, or nil for any other file.
    let model: ModelSummary?

    struct ModelSummary: Encodable {
        let formatVersion: String
        let packing: String
        let precision: String
        let layout: String
        let depth: Int
        let stem: String
        let baseWidth: Int
        let classes: Int
        let layer4Dilations: [Int]
        let alignCorners: Bool
        let source: String?
        /// Why the model cannot be read, when it cannot (another format version, a broken record).
        let error: String?

        var line: String {
            if let error { return "unreadable: \(error)" }
            return "DANet-R\(depth) (\(layout), \(stem) stem, base width \(baseWidth), \(classes) classes), layer4 dilations "
                + "\(layer4Dilations.map(String.init).joined(separator: "/")), align_corners \(alignCorners); "
                + "format version \(formatVersion), \(precision) weights, \(packing)" + (source.map { ", from \($0)" } ?? "")
        }
    }

    init(_ checkpoint: Checkpoint) {
        func row(_ named: NamedTensor) -> Tensor {
            Tensor(name: named.name, dtype: named.tensor.dtype.torchName, shape: named.tensor.shape, bytes: named.tensor.byteCount,
                   contiguous: named.tensor.isContiguous, storage: named.tensor.storage.key)
        }
        file = checkpoint.path
        fileBytes = checkpoint.fileSize
        format = checkpoint.format.rawValue
        pickleProtocol = checkpoint.pickleProtocol
        byteOrder = checkpoint.isBigEndian ? "big" : "little"
        stateDict = checkpoint.stateDictPath
        structure = checkpoint.structure.map { Entry(key: $0.key, summary: $0.summary, tensors: $0.tensorCount) }
        tensors = checkpoint.tensors.map(row)
        constants = checkpoint.constants.map(row)
        totalTensors = tensors.count
        totalElements = checkpoint.tensors.reduce(0) { $0 + $1.tensor.elementCount }
        totalBytes = checkpoint.tensors.reduce(0) { $0 + $1.tensor.byteCount }
        storages = Set(checkpoint.tensors.map { ObjectIdentifier($0.tensor.storage) }).count
        opaqueObjects = checkpoint.opaqueObjects.map { Opaque(path: $0.path, className: $0.className) }
        metadata = checkpoint.metadata
        globals = checkpoint.globals
        verdict = checkpoint.verdict.line
        clean = checkpoint.verdict.isClean
        model = DANet.isModelFile(checkpoint) ? InspectReport.summary(checkpoint) : nil
    }

    static func summary(_ checkpoint: Checkpoint) -> ModelSummary {
        let meta = checkpoint.metadata
        do {
            let c = try DANetConfiguration.detect(checkpoint)
            return ModelSummary(formatVersion: meta["danet.format_version"] ?? "?", packing: meta["danet.packing"] ?? "?",
                                precision: meta["danet.precision"] ?? "f32", layout: c.layout.rawValue, depth: c.depth, stem: c.stem.rawValue, baseWidth: c.baseWidth,
                                classes: c.classes, layer4Dilations: c.layer4Dilations, alignCorners: c.alignCorners,
                                source: meta["danet.source"], error: nil)
        } catch {
            return ModelSummary(formatVersion: meta["danet.format_version"] ?? "?", packing: meta["danet.packing"] ?? "?",
                                precision: meta["danet.precision"] ?? "f32", layout: "", depth: 0, stem: "", baseWidth: 0, classes: 0, layer4Dilations: [], alignCorners: false,
                                source: meta["danet.source"], error: "\(error)")
        }
    }

    func jsonText() throws -> String {
        try Format.prettyJSON(self)
    }

    func text() -> String {
        var lines: [String] = []
        let protocolText = pickleProtocol.map { ", pickle protocol \($0)" } ?? ""
        lines += Format.table([
            ["file", "\(file) (\(Format.bytes(fileBytes)))"],
            ["format", "\(format)\(protocolText), \(byteOrder)-endian"],
            ["state dict", stateDict.isEmpty ? "(top level)" : stateDict],
        ] + (model.map { [["model", $0.line]] } ?? []))
        if !structure.isEmpty {
            lines += ["", "top level"]
            lines += Format.table(structure.map { entry in
                let isTensor = entry.summary.hasPrefix("tensor")
                let count = entry.tensors == 1 ? "1 tensor" : "\(Format.grouped(entry.tensors)) tensors"
                return ["  " + entry.key, entry.summary, isTensor || entry.tensors == 0 ? "" : count]
            })
        }
        if !metadata.isEmpty {
            lines += ["", "metadata"]
            lines += Format.table(metadata.sorted { $0.key < $1.key }.map { ["  " + $0.key, $0.value] })
        }
        for (title, rows) in [("tensors", tensors), ("constants", constants)] where !rows.isEmpty {
            lines += [""]
            lines += Format.table([[title, "dtype", "shape", "bytes"]] + rows.map {
                ["  " + $0.name, $0.dtype, "[" + $0.shape.map(String.init).joined(separator: ", ") + "]", Format.grouped($0.bytes)]
            }, rightAligned: [3])
        }
        var dtypes: [String: Int] = [:]
        for tensor in tensors { dtypes[tensor.dtype, default: 0] += tensor.bytes }
        let split = dtypes.sorted { $0.value > $1.value }.map { "\($0.key) \(Format.bytes($0.value))" }.joined(separator: ", ")
        lines += ["", "total  \(Format.grouped(totalTensors)) tensors in \(Format.grouped(storages)) storages, "
            + "\(Format.grouped(totalElements)) elements, \(Format.bytes(totalBytes))" + (split.isEmpty ? "" : " (\(split))")]
        if !opaqueObjects.isEmpty {
            lines += ["", "opaque objects (kept as records, never run)"]
            lines += Format.table(opaqueObjects.map { ["  " + $0.path, $0.className] })
        }
        if !globals.isEmpty {
            lines += ["", "globals"]
            lines += Format.table([["  name", "kind", "first used", "uses"]] + globals.map {
                ["  " + $0.name, $0.kind.rawValue, "\($0.record) at byte \($0.offset)", String($0.uses)]
            }, rightAligned: [3])
        }
        lines += ["", "verdict  " + verdict]
        return lines.joined(separator: "\n")
    }
}
