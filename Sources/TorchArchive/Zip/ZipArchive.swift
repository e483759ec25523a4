import CLibZip
import Synchronization

/// One record of a zip archive.
struct ZipEntry: Sendable {
    let index: Int
    let name: String
    /// Uncompressed size, from the central directory (torch leaves the local header's sizes at 0).
    let size: Int
    let compressedSize: Int
    let isStored: Bool
    /// Where the bytes of a stored entry start in the file; nil for compressed entries.
    let dataOffset: Int?
}

/// A zip archive read through libzip, with stored entries served straight from the memory map.
///
/// libzip lists the entries, their sizes and methods, and inflates deflated entries. libzip does
/// not publish where an entry's data starts, so `ZipDirectory` walks the central directory for the
/// local header offsets; stored entries (all of torch.save's) are then never copied.
final class ZipArchive: @unchecked Sendable {
    // The libzip handle is only used under `lock`; entries are immutable after init.
    private let handle: OpaquePointer
    private let lock = Mutex(())
    /// Deflated entries already counted against the archive's inflate budget, and their total size.
    private let inflateBudget = Mutex<(counted: Set<Int>, total: Int)>(([], 0))
    let file: MappedFile
    let entries: [ZipEntry]
    private let byName: [String: Int]
    let limits: ArchiveLimits

    /// Opens the mapped bytes of `file` with libzip (no second open of the path, so the directory
    /// libzip reads is the one the map holds) and indexes its entries.
    /// - Throws: `ArchiveError` naming the file and what libzip or the directory check found.
    init(file: MappedFile, limits: ArchiveLimits) throws {
        self.file = file
        self.limits = limits
        var error = zip_error_t()
        zip_error_init(&error)
        defer { zip_error_fini(&error) }
        let opened: OpaquePointer? = file.withBytes { bytes in
            // The map outlives the archive (`self.file`), and libzip is told not to free it.
            guard let source = zip_source_buffer_create(bytes.baseAddress, zip_uint64_t(bytes.count), 0, &error) else { return nil }
            guard let handle = zip_open_from_source(source, ZIP_RDONLY, &error) else {
                zip_source_free(source)
                return nil
            }
            return handle
        }
        guard let handle = opened else {
            throw ArchiveError(.malformed, file: file.path, location: "zip directory",
                               expected: "a readable zip archive", found: String(cString: zip_error_strerror(&error)))
        }
        self.handle = handle
        do {
            let offsets = try file.withBytes { try ZipDirectory.localHeaderOffsets($0) }
            let count = Int(zip_get_num_entries(handle, 0))
            guard offsets.count == count else {
                throw ArchiveError(.malformed, location: "zip directory", expected: "\(count) central directory records as libzip counts",
                                   found: "\(offsets.count)")
            }
            var entries: [ZipEntry] = []
            entries.reserveCapacity(count)
            for index in 0..<count {
                entries.append(try ZipArchive.entry(handle, index: index, localHeader: offsets[index], file: file))
            }
            self.entries = entries
            var byName: [String: Int] = [:]
            for entry in entries { byName[entry.name] = entry.index }
            self.byName = byName
        } catch let error as ArchiveError {
            zip_discard(handle)
            throw error.at(file: file.path)
        }
    }

    deinit { zip_discard(handle) }

    subscript(name: String) -> ZipEntry? { byName[name].map { entries[$0] } }

    /// The bytes of `entry`: a slice of the map when stored, inflated into memory when deflated.
    func region(_ entry: ZipEntry) throws -> ByteRegion {
        if let offset = entry.dataOffset { return ByteRegion(file, offset..<(offset + entry.size)) }
        return ByteRegion(try inflate(entry))
    }

    /// Inflates a compressed entry through libzip, refusing zip bombs before allocating.
    func inflate(_ entry: ZipEntry) throws -> [UInt8] {
        try checkInflateRatio(entry)
        return try lock.withLock { _ in
            try inflateLocked(entry)
        }
    }

    /// Refuses an entry whose declared size is far beyond what its compressed bytes can honestly
    /// hold, before anything is allocated for it.
    ///
    /// Entries below `expansionExemptBytes` skip the per-entry ratio, so the archive as a whole
    /// has a budget too: all deflated entries together may inflate to at most
    /// `budget(forFileOf:)` bytes, or many small bombs would add up to a big one.
    func checkInflateRatio(_ entry: ZipEntry) throws {
        if entry.size > limits.expansionExemptBytes {
            let ratio = entry.size / max(entry.compressedSize, 1)
            guard ratio <= limits.maxExpansionRatio else {
                throw ArchiveError(.limitExceeded, file: file.path, location: entry.name,
                                   expected: "a compressed entry that inflates at most \(limits.maxExpansionRatio):1",
                                   found: "\(entry.size) bytes from \(entry.compressedSize) (\(ratio):1, a zip bomb)")
            }
        }
        let ceiling = limits.budget(forFileOf: file.count)
        try inflateBudget.withLock { state in
            guard !state.counted.contains(entry.index) else { return }
            let total = state.total.addingReportingOverflow(entry.size)
            guard !total.overflow, total.partialValue <= ceiling else {
                throw ArchiveError(.limitExceeded, file: file.path, location: entry.name,
                                   expected: "deflated entries that inflate to at most \(ceiling) bytes in all (\(limits.budgetRule))",
                                   found: "more from a \(file.count)-byte file (a zip bomb spread over many entries)")
            }
            state.counted.insert(entry.index)
            state.total = total.partialValue
        }
    }

    private func inflateLocked(_ entry: ZipEntry) throws -> [UInt8] {
        guard let zipFile = zip_fopen_index(handle, zip_uint64_t(entry.index), 0) else {
            throw ArchiveError(.malformed, file: file.path, location: entry.name, expected: "an entry libzip can open",
                               found: String(cString: zip_strerror(handle)))
        }
        defer { zip_fclose(zipFile) }
        var bytes = [UInt8](repeating: 0, count: entry.size)
        var filled = 0
        var extra: UInt8 = 0
        let read = bytes.withUnsafeMutableBytes { buffer -> Int in
            while filled < entry.size {
                let n = zip_fread(zipFile, buffer.baseAddress! + filled, zip_uint64_t(entry.size - filled))
                if n <= 0 { return Int(n) }
                filled += Int(n)
            }
            return Int(zip_fread(zipFile, &extra, 1))  // must be 0: no data beyond the declared size
        }
        guard read >= 0 else {
            throw ArchiveError(.malformed, file: file.path, location: entry.name, expected: "a valid compressed stream",
                               found: String(cString: zip_file_strerror(zipFile)))
        }
        guard filled == entry.size, read == 0 else {
            throw ArchiveError(.malformed, file: file.path, location: entry.name, expected: "\(entry.size) inflated bytes",
                               found: filled < entry.size ? "\(filled)" : "more than declared")
        }
        return bytes
    }

    private static func entry(_ handle: OpaquePointer, index: Int, localHeader: Int, file: MappedFile) throws -> ZipEntry {
        var stat = zip_stat_t()
        zip_stat_init(&stat)
        guard zip_stat_index(handle, zip_uint64_t(index), 0, &stat) == 0, let cName = stat.name else {
            throw ArchiveError(.malformed, location: "zip entry \(index)", expected: "an entry libzip can stat", found: String(cString: zip_strerror(handle)))
        }
        let name = String(cString: cName)
        guard stat.encryption_method == ZIP_EM_NONE else {
            throw ArchiveError(.unsupported, location: name, expected: "an unencrypted entry", found: "encryption method \(stat.encryption_method)")
        }
        guard stat.size <= UInt64(Int.max), stat.comp_size <= UInt64(file.count) else {
            throw ArchiveError(.malformed, location: name, expected: "a compressed size within the \(file.count)-byte file", found: "\(stat.comp_size)")
        }
        let isStored = stat.comp_method == ZIP_CM_STORE
        guard isStored || stat.comp_method == ZIP_CM_DEFLATE else {
            throw ArchiveError(.unsupported, location: name, expected: "a stored or deflated entry", found: "compression method \(stat.comp_method)")
        }
        var dataOffset: Int?
        if isStored {
            guard stat.size == stat.comp_size else {
                throw ArchiveError(.malformed, location: name, expected: "equal sizes for a stored entry", found: "\(stat.size) and \(stat.comp_size)")
            }
            let start = try file.withBytes { try ZipDirectory.dataOffset($0, localHeader: localHeader, name: name) }
            guard start <= file.count, Int(stat.size) <= file.count - start else {
                throw ArchiveError(.truncated, location: name, expected: "\(stat.size) bytes at offset \(start)", found: "a \(file.count)-byte file")
            }
            dataOffset = start
        }
        return ZipEntry(index: index, name: name, size: Int(stat.size), compressedSize: Int(stat.comp_size),
                        isStored: isStored, dataOffset: dataOffset)
    }
}
