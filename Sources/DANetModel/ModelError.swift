import TorchArchive

/// Why a checkpoint cannot become a DANet: one line naming the file, the key and both shapes.
public struct ModelError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case missingTensor
        case unexpectedTensor
        case wrongShape
        case unrecognized
        case invalidOption
        case invalidInput
    }

    public let kind: Kind
    public let file: String
    public let message: String

    public init(_ kind: Kind, file: String = "", _ message: String) {
        self.kind = kind
        self.file = file
        self.message = message
    }

    /// One line, with control characters from key names escaped.
    public var description: String {
        (file.isEmpty ? message : "\(file): \(message)").escapingControlCharacters
    }
}

func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
