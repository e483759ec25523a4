#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name in its destination folder and renamed into place by
/// `commit()` (`mkstemp(3)` + `write(2)` + `fsync(2)` + `rename(2)`). Dropped without a commit, the
/// temporary file is removed and the destination is untouched.
public final class AtomicFile {
    public let destination: String
    private let temporary: String
    private var descriptor: Int32
    private var committed = false

    /// - Throws: `ArchiveError.io` when the destination folder does not accept a new file.
    public init(destination: String) throws {
        self.destination = destination
        let slash = destination.lastIndex(of: "/")
        let folder = slash.map { String(destination[...$0]) } ?? ""
        let name = slash.map { String(destination[destination.index(after: $0)...]) } ?? destination
        var template = Array("\(folder).\(name).partial-XXXXXX".utf8CString)
        descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw ArchiveError(.io, file: destination, expected: "a writable folder", found: MappedFile.systemError())
        }
        temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Appends `bytes`, retrying short writes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw ArchiveError(.io, file: destination, expected: "\(bytes.count - done) more bytes written", found: MappedFile.systemError())
            }
            done += n
        }
    }

    /// Flushes the data to disk and moves the file to its destination.
    public func commit() throws {
        guard fsync(descriptor) == 0 else {
            throw ArchiveError(.io, file: destination, expected: "the data flushed to disk", found: MappedFile.systemError())
        }
        // mkstemp creates the file 0600; give it the mode a plain `open` would, under the umask.
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        close(descriptor)
        descriptor = -1
        guard rename(temporary, destination) == 0 else {
            throw ArchiveError(.io, file: destination, expected: "the finished file moved into place", found: MappedFile.systemError())
        }
        committed = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !committed { unlink(temporary) }
    }
}
