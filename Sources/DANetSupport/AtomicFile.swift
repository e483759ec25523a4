/// A file written under a temporary name in its destination folder and renamed into place by
/// `commit()` (`mkstemp` + `write` + `fsync` + `rename`). Dropped without a commit, the temporary
/// file is removed and the destination is untouched, so a reader never sees half a file and a
/// failure never destroys an earlier one.
package final class AtomicFile {
    package let destination: String
    private let temporary: String
    private var descriptor: Int32
    private var committed = false

    /// - Throws: `FileError` when the destination folder does not accept a new file.
    package init(destination: String) throws {
        self.destination = destination
        let slash = destination.lastIndex(of: "/")
        let folder = slash.map { String(destination[...$0]) } ?? ""
        let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        guard let file = Platform.makeTemporaryFile("\(folder).\(name).partial-XXXXXX") else {
            throw FileError(file: destination, expected: "a writable folder", found: Platform.lastError())
        }
        descriptor = file.descriptor
        temporary = file.path
    }

    /// Appends `bytes`.
    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard Platform.writeAll(descriptor, bytes) else {
            throw FileError(file: destination, expected: "\(bytes.count) more bytes written", found: Platform.lastError())
        }
    }

    /// Flushes the data to disk and moves the file to its destination.
    package func commit() throws {
        let flushed = Platform.finishFile(descriptor)
        descriptor = -1
        guard flushed else {
            throw FileError(file: destination, expected: "the data flushed to disk", found: Platform.lastError())
        }
        guard Platform.moveFile(temporary, to: destination) else {
            throw FileError(file: destination, expected: "the finished file moved into place", found: Platform.lastError())
        }
        committed = true
    }

    /// Writes `bytes` to `destination` in one step, atomically.
    package static func write(_ bytes: [UInt8], to destination: String) throws {
        let file = try AtomicFile(destination: destination)
        try bytes.withUnsafeBytes { try file.write($0) }
        try file.commit()
    }

    deinit {
        if descriptor >= 0 { Platform.closeFile(descriptor) }
        if !committed { Platform.removeFile(temporary) }
    }
}

/// Why a file could not be written: the file, what was expected and what the system reported.
public struct FileError: DANetError, Equatable {
    /// The file as the caller named it.
    public let file: String
    /// What the operation needed, e.g. "a writable folder".
    public let expected: String
    /// What happened instead, usually the system's message.
    public let found: String

    /// An error about `file`.
    public init(file: String, expected: String, found: String) {
        self.file = file
        self.expected = expected
        self.found = found
    }

    public var description: String { "\(file): expected \(expected), found \(found)".escapingControlCharacters }
}
