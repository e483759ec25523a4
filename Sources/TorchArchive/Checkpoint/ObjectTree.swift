/// Turns an unpickled object tree into dotted tensor names, a summary of the top level and the list
/// of opaque objects, visiting every value at most `maxVisitedValues` times in all and handing out
/// at most `budget(forFileOf:)` bytes of tensors and names.
///
/// The path to the current value is kept as a stack of steps and spelled out only for a tensor, an
/// opaque object or an error: a shared-tuple pickle reaches its million values hundreds of levels
/// deep, and a string per value would cost memory in proportion to values times depth. Names
/// count against the budget along with tensor bytes, since an empty tensor or an opaque object
/// named a million times through shared containers costs its names and nothing else.
struct ObjectTree {
    private(set) var tensors: [NamedTensor] = []
    private(set) var opaqueObjects: [OpaqueObjectInfo] = []
    private let limits: ArchiveLimits
    private var visited = 0
    private var onPath: Set<ObjectIdentifier> = []
    private var prefix = ""
    private var steps: [Step] = []
    private let fileSize: Int
    /// Bytes handed out so far: each tensor's bytes (a storage counts once per name that reaches
    /// it) and every name.
    private(set) var spent: Int

    /// One segment of a path: a dict key, named only when the path is spelled out, or a list index.
    private enum Step {
        case key(PickleValue)
        case index(Int)
    }

    /// `spent`: what another tree of the same file has handed out already.
    init(limits: ArchiveLimits, fileSize: Int, spent: Int = 0) {
        self.limits = limits
        self.fileSize = fileSize
        self.spent = spent
    }

    /// Collects every tensor below `value`, naming it by its path from `prefix`.
    mutating func collect(_ value: PickleValue, prefix: String) throws {
        self.prefix = prefix
        steps.removeAll(keepingCapacity: true)
        try visit(value, depth: 0)
    }

    /// The dotted path of the current value.
    private var path: String {
        var path = prefix
        for step in steps {
            if !path.isEmpty { path += "." }
            switch step {
            case .key(let key): path += ObjectTree.name(of: key)
            case .index(let index): path += String(index)
            }
        }
        return path
    }

    private mutating func visit(_ value: PickleValue, depth: Int) throws {
        visited += 1
        guard visited <= limits.maxVisitedValues else {
            throw ArchiveError(.limitExceeded, location: ObjectTree.shown(path),
                               expected: "at most \(limits.maxVisitedValues) values reachable from the top",
                               found: "more (the pickle references shared containers over and over)")
        }
        guard depth <= limits.maxNesting else {
            throw ArchiveError(.limitExceeded, location: ObjectTree.shown(path), expected: "containers nested at most \(limits.maxNesting) deep",
                               found: "deeper nesting")
        }
        switch value {
        case .tensor(let tensor):
            let path = self.path
            try spend(tensor.byteCount, path: path)
            tensors.append(NamedTensor(name: path, tensor: tensor))
        case .dict(let dict):
            try guarded(dict, depth: depth) { tree in
                for (key, child) in dict.entries {
                    try tree.visit(child, step: .key(key), depth: depth + 1)
                }
            }
        case .list(let list), .tuple(let list):
            try guarded(list, depth: depth) { tree in
                for (index, child) in list.items.enumerated() {
                    try tree.visit(child, step: .index(index), depth: depth + 1)
                }
            }
        case .object(let object):
            if !ObjectTree.isModuleClass(object.className) {
                let path = self.path
                try spend(object.className.utf8.count, path: path)
                opaqueObjects.append(OpaqueObjectInfo(path: path.isEmpty ? "(top level)" : path, className: object.className))
            }
            try guarded(object, depth: depth) { tree in
                for argument in object.arguments {
                    if case .dict = argument { try tree.visit(argument, depth: depth + 1) }
                }
                if let state = object.state { try tree.visitState(state, depth: depth + 1) }
            }
        default:
            break
        }
    }

    /// Paths of attack pickles run to hundreds of characters: errors show their start.
    private static func shown(_ path: String) -> String {
        path.isEmpty ? "top level" : path.count > 60 ? String(path.prefix(60)) + "..." : path
    }

    /// Charges `bytes` and the name `path` to the budget.
    private mutating func spend(_ bytes: Int, path: String) throws {
        let ceiling = limits.budget(forFileOf: fileSize)
        let charge = bytes.addingReportingOverflow(path.utf8.count)
        let total = spent.addingReportingOverflow(charge.partialValue)
        guard !charge.overflow, !total.overflow, total.partialValue <= ceiling else {
            throw ArchiveError(.limitExceeded, location: ObjectTree.shown(path),
                               expected: "tensors and names of at most \(ceiling) bytes in all (\(limits.budgetRule))",
                               found: "more from a \(fileSize)-byte file (stride-0 views, or values named over and over through shared containers)")
        }
        spent = total.partialValue
    }

    private mutating func visit(_ value: PickleValue, step: Step, depth: Int) throws {
        steps.append(step)
        defer { steps.removeLast() }
        try visit(value, depth: depth)
    }

    /// Where `nn.Module` keeps its members, in the order a state_dict lists them.
    private static let moduleKeys = ["_parameters", "_buffers", "_modules"]

    /// Object state: a dict of attributes, or `(dict, slots)`. `nn.Module` attributes keep their
    /// parameters, buffers and children in `_parameters`, `_buffers` and `_modules`, which a
    /// state_dict names without those segments.
    private mutating func visitState(_ state: PickleValue, depth: Int) throws {
        if case .tuple(let pair) = state {
            for part in pair.items { try visitState(part, depth: depth + 1) }
            return
        }
        guard case .dict(let attributes) = state else { return }
        let isModule = attributes.entries.contains { ObjectTree.moduleKeys.contains($0.key.stringValue ?? "") }
        guard isModule else {
            try visit(state, depth: depth)
            return
        }
        for key in ObjectTree.moduleKeys {
            if let members = attributes[key] { try visit(members, depth: depth) }
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
    /// The dotted path of the value from the top of the file.
    public let path: String
    /// The class as the pickle names it, e.g. `argparse.Namespace`.
    public let className: String
}

extension String {
    var replacingNewlines: String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\n")
    }
}
