import TorchArchive

/// Hands out checkpoint tensors by their official DANet name and expected shape, and at the end
/// refuses any tensor nobody asked for. Keys of other layouts are renamed by `KeyMap` first; errors
/// name the key as the file spells it.
final class WeightStore {
    let file: String
    private var tensors: [String: NamedTensor] = [:]
    /// Canonical names in file order, for stable error messages.
    private var order: [String] = []
    private var taken: Set<String> = []

    /// Keys the model never uses and that may be left over.
    static func isIgnorable(_ canonical: String) -> Bool {
        canonical.hasSuffix("num_batches_tracked") || canonical.hasPrefix("pretrained.fc.")
            || canonical.hasPrefix("auxlayer.") || canonical.hasPrefix("auxiliary_head.")
    }

    init(file: String, tensors named: [NamedTensor], keyMap: KeyMap) throws {
        self.file = file
        for entry in named {
            let canonical = keyMap.canonical(entry.name)
            if let existing = tensors[canonical] {
                throw ModelError(.unrecognized, file: file, "tensors '\(existing.name)' and '\(entry.name)' both map to '\(canonical)'")
            }
            tensors[canonical] = entry
            order.append(canonical)
        }
    }

    /// The state dict of `checkpoint` (a `module.` prefix removed) under official names, and the
    /// layout its keys show.
    static func open(_ checkpoint: Checkpoint) throws -> (WeightStore, DANetConfiguration.Layout) {
        let tensors: [NamedTensor]
        do {
            tensors = try checkpoint.stateDict(stripPrefix: "module.")
        } catch let error as ArchiveError {
            throw ModelError(.unrecognized, file: checkpoint.path, error.description)
        }
        let isMMSeg = tensors.contains { $0.name.hasPrefix("decode_head.") || $0.name.hasPrefix("backbone.") }
        let store = try WeightStore(file: checkpoint.path, tensors: tensors, keyMap: isMMSeg ? .mmseg : .official)
        return (store, isMMSeg ? .mmseg : .official)
    }

    func contains(_ name: String) -> Bool { tensors[name] != nil }

    func shape(_ name: String) -> [Int]? { tensors[name]?.tensor.shape }

    /// Canonical names that start with `prefix`.
    func names(withPrefix prefix: String) -> [String] { order.filter { $0.hasPrefix(prefix) } }

    /// The tensor `name` as float32, which must have `shape` (or one of `alternatives`).
    /// - Throws: `ModelError` naming the key and both shapes, or the missing key.
    func take(_ name: String, _ shape: [Int], alternatives: [[Int]] = []) throws -> [Float] {
        guard let entry = tensors[name] else {
            throw ModelError(.missingTensor, file: file, "missing tensor '\(name)': expected shape \(shapeText(shape)), found no such key")
        }
        guard entry.tensor.shape == shape || alternatives.contains(entry.tensor.shape) else {
            throw ModelError(.wrongShape, file: file,
                             "tensor '\(entry.name)': expected shape \(shapeText(shape)), found \(shapeText(entry.tensor.shape))")
        }
        taken.insert(name)
        do {
            let values = try entry.tensor.floats()
            // The copy is what the model keeps: the file's pages need not stay resident beside it.
            entry.tensor.storage.releasePages()
            return values
        } catch let error as ArchiveError {
            throw ModelError(.unrecognized, file: file, "tensor '\(entry.name)': \(error.description)")
        }
    }

    /// Throws if any tensor was neither used nor ignorable.
    func finish() throws {
        let leftover = order.filter { !taken.contains($0) && !WeightStore.isIgnorable($0) }
        guard let first = leftover.first, let entry = tensors[first] else { return }
        let more = leftover.count > 1 ? " (and \(leftover.count - 1) more)" : ""
        throw ModelError(.unexpectedTensor, file: file,
                         "unexpected tensor '\(entry.name)' \(shapeText(entry.tensor.shape)): expected only DANet weights, found a key the model does not use\(more)")
    }
}
