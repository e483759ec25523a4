/// A read-only memory map of a whole file, unmapped when the last reference goes away; or bytes
/// that live for the whole process (a model built into the executable), never unmapped.
///
/// Tensor bytes of stored zip entries and legacy files are read straight from the map, so opening a
/// checkpoint touches only the pickle and the directory, whatever the size of the weights.
package final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is shared read-only, so concurrent reads are safe.
    private let base: UnsafeRawPointer?
    private let isMapped: Bool
    package let count: Int
    /// The path, or the name the caller gave bytes that have no file.
    package let path: String

    /// Maps `path` read-only.
    /// - Throws: `ArchiveError.io` naming the path and the system error.
    package init(path: String, name: String? = nil) throws {
        self.path = name ?? path
        (base, count) = try Platform.mapFile(path, name: self.path)
        isMapped = true
    }

    /// Bytes that stay valid and unchanged for the life of the process, named `name` in errors.
    package init(permanentBytes bytes: UnsafeRawBufferPointer, name: String) {
        path = name
        base = bytes.count > 0 ? bytes.baseAddress.map(UnsafeRawPointer.init) : nil
        count = base == nil ? 0 : bytes.count
        isMapped = false
    }

    deinit {
        if isMapped, let base { Platform.unmap(base, count: count) }
    }

    /// Calls `body` with the bytes in `range`, clamped to the file.
    package func withBytes<T>(in range: Range<Int>? = nil, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let range = (range ?? 0..<count).clamped(to: 0..<count)
        guard let base else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// See `Platform.prefault`: for ranges of a megabyte or more of a mapped file.
    func prefault(_ range: Range<Int>) {
        guard isMapped, let base, range.count >= 1 << 20 else { return }
        Platform.prefault(base, range)
    }

    /// Tells the system these pages will be read soon, so it reads them ahead, asynchronously.
    func adviseWillNeed(_ range: Range<Int>) {
        guard isMapped, let base, !range.isEmpty else { return }
        Platform.adviseWillNeed(base, range, mappedCount: count)
    }

    /// Gives the pages under `range` back to the system once they have been copied.
    func release(_ range: Range<Int>) {
        guard isMapped, let base, !range.isEmpty else { return }
        Platform.release(base, range, mappedCount: count)
    }
}

/// Bytes that live either in a memory-mapped file or in memory owned by this value.
package struct ByteRegion: Sendable {
    enum Backing: Sendable {
        case mapped(MappedFile, Range<Int>)
        case owned([UInt8])
    }

    let backing: Backing

    package init(_ file: MappedFile, _ range: Range<Int>) { backing = .mapped(file, range) }
    package init(_ bytes: [UInt8]) { backing = .owned(bytes) }

    package var count: Int {
        switch backing {
        case .mapped(_, let range): return range.count
        case .owned(let bytes): return bytes.count
        }
    }

    package func withUnsafeBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
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
