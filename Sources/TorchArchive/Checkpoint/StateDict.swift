/// The weights of a checkpoint: tensors by name, in the order the file lists them.
///
/// ```swift
/// let weights = try checkpoint.stateDict()
/// if let conv1 = weights["pretrained.conv1.weight"] {
///     print(conv1.shape, conv1.dtype)
/// }
/// for entry in weights { print(entry.name) }
/// ```
public struct StateDict: RandomAccessCollection, Sendable {
    /// The tensors in file order.
    public let tensors: [NamedTensor]
    private let positions: [String: Int]

    /// A state dict of `tensors`, which must have distinct names (a later duplicate is ignored by
    /// the name lookup).
    public init(_ tensors: [NamedTensor]) {
        self.tensors = tensors
        positions = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The tensor named `name`, or nil.
    public subscript(_ name: String) -> StoredTensor? {
        positions[name].map { tensors[$0].tensor }
    }

    /// Every name, in file order.
    public var names: [String] { tensors.map(\.name) }

    public var startIndex: Int { tensors.startIndex }
    public var endIndex: Int { tensors.endIndex }
    public subscript(position: Int) -> NamedTensor { tensors[position] }
}
