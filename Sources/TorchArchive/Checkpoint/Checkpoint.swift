import DANetSupport
import Foundation

/// A loaded checkpoint: its format, its top-level structure and every tensor it holds, by name.
///
/// Opening reads only the directory and the pickle; tensor bytes stay in the memory-mapped file
/// until a tensor is read. Nothing in the file is ever executed.
public struct Checkpoint: Sendable {
    /// How the file stores its tensors.
    public enum Format: String, Sendable, Codable {
        /// torch.save's zip archive (PyTorch 1.6 and later).
        case zip
        /// The stream of pickles and raw storages of PyTorch before 1.6.
        case legacy
        /// A TorchScript archive (`torch.jit.save`); its code is never run.
        case torchScript = "torchscript"
        /// A safetensors file.
        case safetensors
    }

    /// The file as the caller named it.
    public let path: String
    /// The format the file's bytes show.
    public let format: Format
    /// The protocol of the main pickle (nil for safetensors).
    public let pickleProtocol: Int?
    /// Bytes in the file.
    public let fileSize: Int
    /// True for a zip archive saved on a big-endian machine (its `byteorder` record says "big");
    /// tensors are converted to the host's order when read.
    public let isBigEndian: Bool
    /// Every tensor, named by its dotted path from the top of the file (`state_dict.conv1.weight`).
    public let tensors: [NamedTensor]
    /// TorchScript constants (`constants.pkl`), named `constants.N`.
    public let constants: [NamedTensor]
    /// The top level: one entry per key of a top-level dict, or one entry for anything else.
    public let structure: [StructureEntry]
    /// Values of classes the reader keeps opaque (argparse.Namespace, numpy scalars, ...).
    public let opaqueObjects: [OpaqueObjectInfo]
    /// safetensors `__metadata__`.
    public let metadata: [String: String]
    /// Dotted path of the state dict inside its wrapper (`state_dict`, `model`, `module`), or "".
    public let stateDictPath: String
    /// Every global the file's pickles name, with what it is and where it is first used.
    public let globals: [GlobalReference]

    /// What loading this file with Python would involve: `torch.load(weights_only=True)`, known
    /// data classes, or unknown callables. (A file naming a global that can run code never loads.)
    public var verdict: SafetyVerdict { SafetyVerdict(globals) }

    /// Opens the checkpoint at `url`, in whatever format its bytes show (not its name): a torch.save
    /// zip, a legacy stream, a TorchScript archive or a safetensors file.
    ///
    /// Only the directory and the pickle are read; tensor bytes are read when a tensor is.
    /// - Parameters:
    ///   - url: the file.
    ///   - limits: the bounds on what the file may make the reader allocate.
    ///   - strict: refuse every global outside the allow list (tensor machinery, containers and
    ///     known data classes), not only those that can run code.
    /// - Throws: `ArchiveError` naming the file, the record and what was expected and found.
    public init(contentsOf url: URL, limits: ArchiveLimits = .standard, strict: Bool = false) throws {
        self = try Checkpoint.read(try MappedFile(path: url.path, name: url.displayPath), limits: limits, strict: strict)
    }

    /// Opens `path`; see `init(contentsOf:limits:strict:)`.
    package static func open(_ path: String, limits: ArchiveLimits = .standard, strict: Bool = false) throws -> Checkpoint {
        try read(try MappedFile(path: path), limits: limits, strict: strict)
    }

    /// Reads a checkpoint held in memory for the life of the process (a model built into the
    /// executable); `name` stands for the file in errors.
    package static func open(permanentBytes bytes: UnsafeRawBufferPointer, name: String,
                             limits: ArchiveLimits = .standard) throws -> Checkpoint {
        try read(MappedFile(permanentBytes: bytes, name: name), limits: limits)
    }

    private static func read(_ file: MappedFile, limits: ArchiveLimits, strict: Bool = false) throws -> Checkpoint {
        let kind = file.withBytes { FileSniffer.sniff($0) }
        switch kind {
        case .zip: return try ZipCheckpointReader.read(file, limits: limits, strict: strict)
        case .pickle: return try LegacyCheckpointReader.read(file, limits: limits, strict: strict)
        case .safetensors: return try SafetensorsReader.read(file, limits: limits)
        case .unknown(let description):
            throw ArchiveError(.unsupported, file: file.path,
                               expected: "a PyTorch checkpoint (zip, legacy or TorchScript) or a safetensors file",
                               found: description)
        }
    }

    /// The weights: the tensors under the state dict's wrapper (`stateDictPath`), named without it
    /// and without `stripPrefix` (by default DataParallel's `module.`; pass nil to keep it).
    /// - Throws: `ArchiveError` if stripping makes two names equal.
    public func stateDict(stripPrefix: String? = "module.") throws -> StateDict {
        let wrapper = stateDictPath.isEmpty ? "" : stateDictPath + "."
        var result: [NamedTensor] = []
        var seen: [String: String] = [:]
        for var entry in tensors where entry.name.hasPrefix(wrapper) {
            let original = entry.name
            entry.name.removeFirst(wrapper.count)
            if let stripPrefix, !stripPrefix.isEmpty, entry.name.hasPrefix(stripPrefix) {
                entry.name.removeFirst(stripPrefix.count)
            }
            if let other = seen[entry.name] {
                throw ArchiveError(.malformed, file: path, location: "tensor '\(entry.name)'",
                                   expected: "one tensor per name", found: "both '\(other)' and '\(original)'")
            }
            seen[entry.name] = original
            result.append(entry)
        }
        return StateDict(result)
    }

    init(path: String, format: Format, pickleProtocol: Int?, fileSize: Int, isBigEndian: Bool,
         root: PickleValue?, tensors: [NamedTensor], constants: [NamedTensor] = [],
         opaqueObjects: [OpaqueObjectInfo] = [], metadata: [String: String] = [:], globals: [GlobalReference] = []) {
        self.path = path
        self.format = format
        self.pickleProtocol = pickleProtocol
        self.fileSize = fileSize
        self.isBigEndian = isBigEndian
        self.tensors = tensors
        self.constants = constants
        self.opaqueObjects = opaqueObjects
        self.metadata = metadata
        self.globals = globals
        self.structure = root.map { StructureEntry.entries(of: $0, tensors: tensors) } ?? []
        self.stateDictPath = root.map { Checkpoint.findStateDict(in: $0, tensors: tensors) } ?? ""
    }

    /// Follows the usual wrappers (`{'state_dict': ...}`, `{'model': ...}`, `{'module': ...}`) down to
    /// the dict that holds the weights.
    static func findStateDict(in root: PickleValue, tensors: [NamedTensor]) -> String {
        let wrappers = ["state_dict", "model_state_dict", "model_state", "state_dict_ema", "ema_state_dict", "params_ema",
                        "model", "module", "net"]
        var path = ""
        var current = root
        while case .dict(let dict) = current {
            guard let key = wrappers.first(where: { key in
                dict[key] != nil && tensors.contains { $0.name.hasPrefix(ObjectTree.join(path, key) + ".") }
            }), let next = dict[key] else { break }
            path = ObjectTree.join(path, key)
            current = next
        }
        return path
    }

    /// Runs the main pickle of a checkpoint and turns its tree into names, keeping no pickle values.
    static func unpickle(_ region: ByteRegion, record: String, file: String, limits: ArchiveLimits,
                         resolver: TorchGlobalResolver, arena: PickleArena) throws -> (PickleValue, Int) {
        try tagging(file: file, location: record) {
            try region.withUnsafeBytes { bytes in
                var reader = ByteReader(bytes)
                var machine = PickleMachine(limits: limits, resolver: resolver, arena: arena)
                let value = try machine.run(&reader)
                return (value, machine.protocolVersion)
            }
        }
    }
}

