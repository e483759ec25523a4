import DANetSupport
import Synchronization

/// Hands out a model's weights by name and expected shape, and at the end names every tensor
/// nobody asked for: the strict loading a model built on TorchArchive needs, so that a checkpoint
/// of the wrong model, depth or width fails at once with the key and both shapes instead of
/// producing wrong numbers.
///
/// Keys can be renamed on the way in (`KeyMap`), so that one model reads several layouts; errors
/// always name the key as the file spells it.
///
/// ```swift
/// let store = try WeightStore(try checkpoint.stateDict(), file: checkpoint.path)
/// let conv = store.scope("backbone.conv1")
/// let weight = try conv.floats("weight", shape: [64, 3, 7, 7])
/// let bias = try conv.floats("bias", shape: [64])
/// try store.finish(model: "MyNet") { $0.hasSuffix("num_batches_tracked") }
/// ```
public final class WeightStore: Sendable {
    /// The file the weights came from, for error messages.
    public let file: String
    private let tensors: [String: NamedTensor]
    /// Names after renaming, in file order, for stable error messages.
    private let order: [String]
    private let taken = Mutex<Set<String>>([])

    /// A store over `stateDict`, its keys renamed by `keyMap`.
    /// - Throws: `WeightError` (`.duplicate`) when two keys map to one name.
    public init(_ stateDict: StateDict, file: String, keyMap: KeyMap = .identity) throws {
        self.file = file
        var tensors: [String: NamedTensor] = [:]
        var order: [String] = []
        for entry in stateDict {
            let name = keyMap.rename(entry.name)
            if let existing = tensors[name] {
                throw WeightError(.duplicate, file: file, "tensors '\(existing.name)' and '\(entry.name)' both map to '\(name)'")
            }
            tensors[name] = entry
            order.append(name)
        }
        self.tensors = tensors
        self.order = order
    }

    /// True when the store holds `name` (after renaming).
    public func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// The shape of `name`, without marking it used; nil when absent.
    public func shape(of name: String) -> [Int]? { tensors[name]?.tensor.shape }

    /// Names (after renaming) that start with `prefix`, in file order.
    public func names(withPrefix prefix: String) -> [String] { order.filter { $0.hasPrefix(prefix) } }

    /// The tensor `name`, which must have `shape` or one of `alternatives` (for example `[1]` or
    /// `[]` for a scalar), marked as used.
    /// - Throws: `WeightError` naming the key and both shapes, or the missing key.
    public func tensor(_ name: String, shape: [Int], alternatives: [[Int]] = []) throws -> StoredTensor {
        guard let entry = tensors[name] else {
            throw WeightError(.missing, file: file, "missing tensor '\(name)': expected shape \(shapeText(shape)), found no such key")
        }
        guard entry.tensor.shape == shape || alternatives.contains(entry.tensor.shape) else {
            throw WeightError(.wrongShape, file: file,
                              "tensor '\(entry.name)': expected shape \(shapeText(shape)), found \(shapeText(entry.tensor.shape))")
        }
        _ = taken.withLock { $0.insert(name) }
        return entry.tensor
    }

    /// The tensor `name` as float32 in C order (see `tensor(_:shape:alternatives:)`). The file's
    /// pages under it are released once copied, so a loaded model does not also keep the file
    /// resident.
    /// - Throws: `WeightError` for a missing, misshapen or unreadable tensor.
    public func floats(_ name: String, shape: [Int], alternatives: [[Int]] = []) throws -> [Float] {
        let tensor = try tensor(name, shape: shape, alternatives: alternatives)
        do {
            let values = try tensor.floats()
            tensor.storage.releasePages()
            return values
        } catch let error as ArchiveError {
            throw WeightError(.unreadable, file: file, "tensor '\(tensors[name]?.name ?? name)': \(error.description)")
        }
    }

    /// A view that prefixes every name with `prefix` and a dot, like a module's parameters.
    public func scope(_ prefix: String) -> Scope { Scope(store: self, prefix: prefix) }

    /// Names (after renaming) never handed out, in file order.
    public var unused: [String] {
        let used = taken.withLock { $0 }
        return order.filter { !used.contains($0) }
    }

    /// Throws if any tensor was neither used nor `ignorable`.
    /// - Parameters:
    ///   - model: what the weights were meant for, as the error says it.
    ///   - ignorable: true for names (after renaming) that may be left over.
    /// - Throws: `WeightError` (`.unexpected`) naming the first such tensor and how many more.
    public func finish(model: String, ignoring ignorable: (String) -> Bool = { _ in false }) throws {
        let leftover = unused.filter { !ignorable($0) }
        guard let first = leftover.first, let entry = tensors[first] else { return }
        let more = leftover.count > 1 ? " (and \(leftover.count - 1) more)" : ""
        throw WeightError(.unexpected, file: file,
                          "unexpected tensor '\(entry.name)' \(shapeText(entry.tensor.shape)): expected only \(model) weights, found a key the model does not use\(more)")
    }

    /// The weights under one prefix (`store.scope("layer1.0").floats("conv1.weight", ...)`).
    public struct Scope: Sendable {
        /// The store the names resolve in.
        public let store: WeightStore
        /// The prefix, without its trailing dot.
        public let prefix: String

        /// The full name of `name` inside this scope.
        public func name(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

        /// A scope nested inside this one.
        public func scope(_ child: String) -> Scope { Scope(store: store, prefix: name(child)) }

        /// See `WeightStore.tensor(_:shape:alternatives:)`.
        public func tensor(_ name: String, shape: [Int], alternatives: [[Int]] = []) throws -> StoredTensor {
            try store.tensor(self.name(name), shape: shape, alternatives: alternatives)
        }

        /// See `WeightStore.floats(_:shape:alternatives:)`.
        public func floats(_ name: String, shape: [Int], alternatives: [[Int]] = []) throws -> [Float] {
            try store.floats(self.name(name), shape: shape, alternatives: alternatives)
        }

        /// See `WeightStore.contains(_:)`.
        public func contains(_ name: String) -> Bool { store.contains(self.name(name)) }
    }
}

/// Why weights do not fit a model: one line naming the file, the key and both shapes.
public struct WeightError: DANetError, Equatable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// A tensor the model needs is absent.
        case missing
        /// A tensor has another shape than the model needs.
        case wrongShape
        /// A tensor is left over that the model does not use.
        case unexpected
        /// Two keys of the file map to one name.
        case duplicate
        /// A tensor's bytes could not be read or converted.
        case unreadable
    }

    /// What went wrong.
    public let kind: Kind
    /// The file the weights came from.
    public let file: String
    /// The rest of the line, after the file.
    public let message: String

    /// An error of `kind` about `file`.
    public init(_ kind: Kind, file: String, _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    public var description: String { errorLine(file: file, message) }
}
