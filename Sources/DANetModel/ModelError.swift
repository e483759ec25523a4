import DANetSupport

/// Why a checkpoint cannot become a DANet, or an input cannot go through it: one line naming the
/// file and what was expected and found. Weights of the wrong shape, missing or left over throw
/// TorchArchive's `WeightError` instead.
public struct ModelError: DANetError, Equatable {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// The weights are not a DANet this package knows (no ResNet stem, odd block counts, ...).
        case unrecognized
        /// An option contradicts itself or the weights (three layer-4 dilations, a class count).
        case invalidOption
        /// An input tensor or image the network cannot take.
        case invalidInput
    }

    /// What went wrong.
    public let kind: Kind
    /// The file concerned, or "".
    public let file: String
    /// The rest of the line, after the file.
    public let message: String

    /// An error of `kind`, about `file` when there is one.
    public init(_ kind: Kind, file: String = "", _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    /// One line, with control characters from key names escaped.
    public var description: String {
        errorLine(file: file, message)
    }
}
