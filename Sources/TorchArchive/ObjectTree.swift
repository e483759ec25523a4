/// Turns an unpickled object tree into dotted tensor names, a summary of the top level and the list
/// of opaque objects, visiting every value at most `maxVisitedValues` times in all.
struct ObjectTree {
    private(set) var tensors: [NamedTensor] = []
    private(set) var opaqueObjects: [OpaqueObjectInfo] = []
    private let limits: ArchiveLimits
    private var visited = 0
    private var onPath: Set<ObjectIdentifier> = []

    init(limits: ArchiveLimits) {
        self.limits = limits
    }

    /// Collects every tensor below `value`, naming it by its path from `prefix`.
    mutating func collect(_ value: PickleValue, prefix: String) throws {
        try visit(value, path: prefix, depth: 0)
    }

    private mutating func visit(_ value: PickleValue, path: String, depth: Int) throws {
        visited += 1
        // Paths of attack pickles run to hundreds of characters: errors show their start.
        func shown() -> String { path.isEmpty ? "top level" : path.count > 60 ? String(path.prefix(60)) + "..." : path }
        guard visited <= limits.maxVisitedValues else {
            throw ArchiveError(.limitExceeded, location: shown(),
                               expected: "at most \(limits.maxVisitedValues) values reachable from the top",
                               found: "more (the pickle references shared containers over and over)")
        }
        guard depth <= limits.maxNesting else {
            throw ArchiveError(.limitExceeded, location: shown(), expected: "containers nested at most \(limits.maxNesting) deep",
                               found: "deeper nesting")
        }
        switch value {
        case .tensor(let tensor):
            tensors.append(NamedTensor(name: path, tensor: tensor))
        case .dict(let dict):
            try guarded(dict, depth: depth) { tree in
                for (key, child) in dict.entries {
                    try tree.visit(child, path: ObjectTree.join(path, ObjectTree.name(of: key)), depth: depth + 1)
                }
            }
        case .list(let list), .tuple(let list):
            try guarded(list, depth: depth) { tree in
                for (index, child) in list.items.enumerated() {
                    try tree.visit(child, path: ObjectTree.join(path, String(index)), depth: depth + 1)
                }
            }
        case .object(let object):
            if !ObjectTree.isModuleClass(object.className) {
                opaqueObjects.append(OpaqueObjectInfo(path: path.isEmpty ? "(top level)" : path, className: object.className))
            }
            try guarded(object, depth: depth) { tree in
                for argument in object.arguments {
                    if case .dict = argument { try tree.visit(argument, path: path, depth: depth + 1) }
                }
                if let state = object.state { try tree.visitState(state, path: path, depth: depth + 1) }
            }
        default:
            break
        }
    }

    /// Object state: a dict of attributes, or `(dict, slots)`. `nn.Module` attributes keep their
    /// parameters, buffers and children in `_parameters`, `_buffers` and `_modules`, which a
    /// state_dict names without those segments.
    private mutating func visitState(_ state: PickleValue, path: String, depth: Int) throws {
        if case .tuple(let pair) = state {
            for part in pair.items { try visitState(part, path: path, depth: depth + 1) }
            return
        }
        guard case .dict(let attributes) = state else { return }
        let moduleKeys: Set<String> = ["_parameters", "_buffers", "_modules"]
        let isModule = attributes.entries.contains { moduleKeys.contains($0.key.stringValue ?? "") }
        guard isModule else {
            try visit(state, path: path, depth: depth)
            return
        }
        for key in ["_parameters", "_buffers", "_modules"] {
            if let members = attributes[key] { try visit(members, path: path, depth: depth) }
        }
    }

    private mutating func guarded(_ container: AnyObject, depth: Int, _ body: (inout ObjectTree) throws -> Void) throws {
        let id = ObjectIdentifier(container)
        guard !onPath.contains(id) else { return }  // a back-reference to an enclosing container
        onPath.insert(id)
        defer { onPath.remove(id) }
        try body(&self)
    }

    static func join(_ path: String, _ component: String) -> String {
        path.isEmpty ? component : path + "." + component
    }

    static func name(of key: PickleValue) -> String {
        switch key {
        case .string(let text): return text
        case .int(let value): return String(value)
        case .bool(let value): return value ? "True" : "False"
        case .float(let value): return String(value)
        case .none: return "None"
        case .tuple(let tuple): return "(" + tuple.items.map { name(of: $0) }.joined(separator: ",") + ")"
        default: return "<\(key.typeName)>"
        }
    }

    /// Module classes hold the weights themselves (TorchScript `__torch__.*`, pickled `nn.Module`s),
    /// so they are walked for tensors rather than reported as opaque.
    static func isModuleClass(_ name: String) -> Bool {
        name.hasPrefix("__torch__.") || name.hasPrefix("torch.nn.modules.")
    }

    /// A one-line description of a top-level value for `inspect`.
    static func summary(_ value: PickleValue) -> String {
        switch value {
        case .none: return "None"
        case .bool(let flag): return flag ? "True" : "False"
        case .int(let number): return "int \(number)"
        case .bigInt(let bytes): return "int (\(bytes.count * 8)-bit)"
        case .float(let number): return "float \(number)"
        case .string(let text): return "str '\(text.count > 60 ? String(text.prefix(57)) + "..." : text)'".replacingNewlines
        case .bytes(let bytes): return "bytes (\(bytes.count))"
        case .tuple(let list): return "tuple (\(list.items.count) items)"
        case .list(let list): return "list (\(list.items.count) items)"
        case .set(let list): return "set (\(list.items.count) items)"
        case .dict(let dict): return "dict (\(dict.count) entries)"
        case .global(let global): return "global \(global.qualifiedName)"
        case .object(let object): return "object \(object.className)"
        case .storage(let storage): return "storage '\(storage.key)' (\(storage.count) \(storage.dtype.torchName))"
        case .tensor(let tensor): return "tensor \(tensor.dtype.torchName) \(tensor.shape)"
        }
    }
}

/// A value the reader kept as an opaque record, with where it sits in the checkpoint.
public struct OpaqueObjectInfo: Sendable, Equatable {
    public let path: String
    public let className: String
}

extension String {
    var replacingNewlines: String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
    }
}
