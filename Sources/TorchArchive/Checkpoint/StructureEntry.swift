/// One top-level entry of a checkpoint as `inspect` shows it.
public struct StructureEntry: Sendable, Equatable {
    /// The key in the top-level dict, or `(top level)`.
    public let key: String
    /// What the value is, e.g. `dict (6 entries)` or `int 240`.
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
