#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file; unmapped when the last reference goes away.
///
/// Tensor bytes of stored zip entries and legacy files are read straight from the map, so opening a
/// checkpoint touches only the pickle and the directory, whatever the size of the weights.
public final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is shared read-only, so concurrent reads are safe.
    private let base: UnsafeRawPointer?
    public let count: Int
    public let path: String

    /// Maps `path` read-only (equivalent of `open(2)` + `fstat(2)` + `mmap(2)`).
    /// - Throws: `ArchiveError.io` naming the path and the system error.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError(.io, file: path, expected: "a readable file", found: MappedFile.systemError())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ArchiveError(.io, file: path, expected: "a readable file", found: MappedFile.systemError())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ArchiveError(.io, file: path, expected: "a regular file", found: "a directory or special file")
        }
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            return
        }
        guard let pointer = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw ArchiveError(.io, file: path, expected: "a file that can be memory-mapped", found: MappedFile.systemError())
        }
        base = UnsafeRawPointer(pointer)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// Calls `body` with the bytes in `range`, which must lie inside the file.
    public func withBytes<T>(in range: Range<Int>? = nil, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let range = range ?? 0..<count
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range outside the mapped file")
        guard let base else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Maps the pages of `range` in one call (`MADV_POPULATE_READ`, Linux 5.14+) before they are
    /// copied, instead of taking one page fault per 4 KB; older kernels ignore it and fault as usual.
    func prefault(_ range: Range<Int>) {
        guard let base, range.count >= 1 << 20 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, 22 /* MADV_POPULATE_READ */)
    }

    /// Gives the pages under `range` back to the system (`MADV_DONTNEED`): a loader that has copied
    /// them no longer carries them in its resident set. The map stays valid; a later read faults
    /// them in again from the file.
    func release(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page, end = min(count, (range.upperBound + page - 1) / page * page)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    static func systemError() -> String {
        String(cString: strerror(errno))
    }
}

/// Bytes that live either in a memory-mapped file or in memory owned by this value.
public struct ByteRegion: Sendable {
    enum Backing: Sendable {
        case mapped(MappedFile, Range<Int>)
        case owned([UInt8])
    }

    let backing: Backing

    public init(_ file: MappedFile, _ range: Range<Int>) { backing = .mapped(file, range) }
    public init(_ bytes: [UInt8]) { backing = .owned(bytes) }

    public var count: Int {
        switch backing {
        case .mapped(_, let range): return range.count
        case .owned(let bytes): return bytes.count
        }
    }

    public func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        switch backing {
        case .mapped(let file, let range): return try file.withBytes(in: range, body)
        case .owned(let bytes): return try bytes.withUnsafeBytes(body)
        }
    }

    /// A sub-range, relative to this region's start.
    func slice(_ range: Range<Int>) -> ByteRegion {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        switch backing {
        case .mapped(let file, let outer):
            return ByteRegion(file, (outer.lowerBound + range.lowerBound)..<(outer.lowerBound + range.upperBound))
        case .owned(let bytes):
            return ByteRegion(Array(bytes[range]))
        }
    }

    func prefault() {
        if case .mapped(let file, let range) = backing { file.prefault(range) }
    }

    /// See `MappedFile.release`; bytes held in memory stay.
    func releasePages() {
        if case .mapped(let file, let range) = backing { file.release(range) }
    }
}
