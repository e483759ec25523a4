import DANetSupport

/// The one error type of TorchArchive: every failure names the file, the record or key inside it,
/// what was expected there and what was found.
///
/// `description` is a single line meant to be shown to a person as it is, e.g.
/// `model.pth: data.pkl at byte 57: refused global 'posix.system' (it can run code); expected only torch tensor, storage and container globals`.
public struct ArchiveError: DANetError, Equatable {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// A pickle names a global that could run code. The payload is `module.name`.
        case refusedGlobal(String)
        /// In strict mode, a pickle names a global outside the allow list. The payload is `module.name`.
        case unknownGlobal(String)
        /// The data ends before a record, opcode or tensor is complete.
        case truncated
        /// A structure is not what the format requires.
        case malformed
        /// A size, count or depth exceeds what the file can back or a documented bound.
        case limitExceeded
        /// Valid input this reader does not handle.
        case unsupported
        /// A record, storage or key that must exist is absent.
        case missing
        /// The operating system refused a read or write.
        case io
    }

    /// What went wrong.
    public var kind: Kind
    /// The file path as the caller gave it.
    public var file: String
    /// Where in the file: a record (`data.pkl`, `data/3`), a byte offset or a tensor name.
    public var location: String
    /// What the reader needed there, e.g. "a readable zip archive".
    public var expected: String
    /// What it found instead.
    public var found: String

    /// An error of `kind`; the readers fill in `file` and `location` as it travels up.
    public init(_ kind: Kind, file: String = "", location: String = "", expected: String, found: String) {
        self.kind = kind
        self.file = file
        self.location = location
        self.expected = expected
        self.found = found
    }

    /// One line: names taken from a file (records, keys, globals) may hold control characters,
    /// which are shown escaped.
    public var description: String {
        var parts: [String] = []
        if !file.isEmpty { parts.append(file) }
        if !location.isEmpty { parts.append(location) }
        let prefix = parts.isEmpty ? "" : parts.joined(separator: ": ") + ": "
        let line: String
        if case .refusedGlobal(let name) = kind {
            line = "\(prefix)refused global '\(name)' (it can run code); expected \(expected)"
        } else if case .unknownGlobal(let name) = kind {
            line = "\(prefix)refused global '\(name)' (not on the allow list; --strict); expected \(expected)"
        } else {
            line = "\(prefix)expected \(expected), found \(found)"
        }
        return line.escapingControlCharacters
    }

    /// Fills in the file and, if not yet known, the location; inner readers know neither.
    func at(file: String, location: String? = nil) -> ArchiveError {
        var copy = self
        if copy.file.isEmpty { copy.file = file }
        // A byte offset means nothing without its record; a record or key name stands on its own.
        if let location, copy.location.isEmpty {
            copy.location = location
        } else if let location, copy.location.hasPrefix("at byte") {
            copy.location = "\(location) \(copy.location)"
        }
        return copy
    }
}

/// Runs `body` and tags any `ArchiveError` it throws with the file and record it concerns.
@inline(__always)
func tagging<T>(file: String, location: String? = nil, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ArchiveError {
        throw error.at(file: file, location: location)
    }
}
