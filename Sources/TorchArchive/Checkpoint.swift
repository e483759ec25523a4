/// A loaded checkpoint: its format, its top-level structure and every tensor it holds, by name.
///
/// Opening reads only the directory and the pickle; tensor bytes stay in the memory-mapped file
/// until a tensor is read. Nothing in the file is ever executed.
public struct Checkpoint: Sendable {
    public enum Format: String, Sendable, Codable {
        case zip
        case legacy
        case torchScript = "torchscript"
        case safetensors
    }

    public let path: String
    public let format: Format
    /// The protocol of the main pickle (nil for safetensors).
    public let pickleProtocol: Int?
    public let fileSize: Int
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

    /// Opens `path` as whatever checkpoint format its bytes show.
    /// - Throws: `ArchiveError` naming the file, the record and what was expected and found.
    public static func open(_ path: String, limits: ArchiveLimits = .standard) throws -> Checkpoint {
        let file = try MappedFile(path: path)
        let kind = file.withBytes { FileSniffer.sniff($0) }
        switch kind {
        case .zip: return try openZip(file, limits: limits)
        case .pickle: return try openLegacy(file, limits: limits)
        case .safetensors: return try openSafetensors(file, limits: limits)
        case .unknown(let description):
            throw ArchiveError(.unsupported, file: path,
                               expected: "a PyTorch checkpoint (zip, legacy or TorchScript) or a safetensors file",
                               found: description)
        }
    }

    /// The tensors of the state dict, without the wrapper path and, if given, without `stripPrefix`.
    /// - Throws: `ArchiveError` if stripping makes two names equal.
    public func stateDict(stripPrefix: String? = nil) throws -> [NamedTensor] {
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
        return result
    }

    init(path: String, format: Format, pickleProtocol: Int?, fileSize: Int, isBigEndian: Bool,
         root: PickleValue?, tensors: [NamedTensor], constants: [NamedTensor] = [],
         opaqueObjects: [OpaqueObjectInfo] = [], metadata: [String: String] = [:]) {
        self.path = path
        self.format = format
        self.pickleProtocol = pickleProtocol
        self.fileSize = fileSize
        self.isBigEndian = isBigEndian
        self.tensors = tensors
        self.constants = constants
        self.opaqueObjects = opaqueObjects
        self.metadata = metadata
        self.structure = root.map { StructureEntry.entries(of: $0, tensors: tensors) } ?? []
        self.stateDictPath = root.map { Checkpoint.findStateDict(in: $0, tensors: tensors) } ?? ""
    }

    /// Follows the usual wrappers (`{'state_dict': ...}`, `{'model': ...}`, `{'module': ...}`) down to
    /// the dict that holds the weights.
    static func findStateDict(in root: PickleValue, tensors: [NamedTensor]) -> String {
        let wrappers = ["state_dict", "model_state_dict", "model", "module", "net"]
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
                         resolver: TorchUnpickler, arena: PickleArena) throws -> (PickleValue, Int) {
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

/// One top-level entry of a checkpoint as `inspect` shows it.
public struct StructureEntry: Sendable, Equatable {
    public let key: String
    public let summary: String
    /// Tensors at or below this entry.
    public let tensorCount: Int

    static func entries(of root: PickleValue, tensors: [NamedTensor]) -> [StructureEntry] {
        guard case .dict(let dict) = root else {
            return [StructureEntry(key: "(top level)", summary: ObjectTree.summary(root), tensorCount: tensors.count)]
        }
        let keys = dict.entries.map { ObjectTree.name(of: $0.key) }
        // Keys may contain dots themselves ("conv1.weight"), so every dotted prefix of a name is a candidate.
        var counts = Dictionary(keys.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
        for tensor in tensors {
            let name = tensor.name
            var end = name.startIndex
            while true {
                end = name[end...].firstIndex(of: ".") ?? name.endIndex
                let prefix = String(name[..<end])
                if counts[prefix] != nil {
                    counts[prefix]! += 1
                    break
                }
                if end == name.endIndex { break }
                end = name.index(after: end)
            }
        }
        return zip(keys, dict.entries).map { name, entry in
            StructureEntry(key: name, summary: ObjectTree.summary(entry.value), tensorCount: counts[name] ?? 0)
        }
    }
}
