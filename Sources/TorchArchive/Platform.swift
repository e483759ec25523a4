#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("TorchArchive needs a POSIX C library")
#endif

/// The operating-system calls of the checkpoint readers, in one place so that a port touches one file.
enum Platform {
    /// Maps the regular file at `path` read-only; nil `base` for an empty file.
    /// - Throws: `ArchiveError.io` naming the path and the system error.
    static func mapFile(_ path: String, name: String) throws -> (base: UnsafeRawPointer?, count: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError(.io, file: name, expected: "a readable file", found: lastError())
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ArchiveError(.io, file: name, expected: "a readable file", found: lastError())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ArchiveError(.io, file: name, expected: "a regular file", found: "a directory or special file")
        }
        let count = Int(info.st_size)
        guard count > 0 else { return (nil, 0) }
        guard let pointer = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw ArchiveError(.io, file: name, expected: "a file that can be memory-mapped", found: lastError())
        }
        return (UnsafeRawPointer(pointer), count)
    }

    static func unmap(_ base: UnsafeRawPointer, count: Int) {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }

    /// Maps the pages of a mapped range in one call before they are copied (`MADV_POPULATE_READ`,
    /// Linux 5.14 and later), instead of one page fault per page; elsewhere nothing happens.
    static func prefault(_ base: UnsafeRawPointer, _ range: Range<Int>) {
        #if os(Linux)
        let page = pageSize
        let start = range.lowerBound / page * page
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, 22 /* MADV_POPULATE_READ */)
        #endif
    }

    /// Gives the pages under a mapped range back to the system (`MADV_DONTNEED`); the map stays
    /// valid and a later read faults them in again from the file.
    static func release(_ base: UnsafeRawPointer, _ range: Range<Int>, mappedCount: Int) {
        guard let (start, length) = pages(base, range, mappedCount: mappedCount) else { return }
        _ = madvise(start, length, MADV_DONTNEED)
    }

    /// Starts reading a mapped range ahead (`MADV_WILLNEED`), without waiting for it.
    static func adviseWillNeed(_ base: UnsafeRawPointer, _ range: Range<Int>, mappedCount: Int) {
        guard let (start, length) = pages(base, range, mappedCount: mappedCount) else { return }
        _ = madvise(start, length, MADV_WILLNEED)
    }

    /// The whole pages under a range of a mapping of `mappedCount` bytes, or nil when there are none.
    private static func pages(_ base: UnsafeRawPointer, _ range: Range<Int>,
                              mappedCount: Int) -> (UnsafeMutableRawPointer, Int)? {
        let page = pageSize
        let start = range.lowerBound / page * page, end = min(mappedCount, (range.upperBound + page - 1) / page * page)
        return end > start ? (UnsafeMutableRawPointer(mutating: base + start), end - start) : nil
    }

    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
