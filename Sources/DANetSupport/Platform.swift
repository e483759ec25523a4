#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("DANetSupport needs a POSIX C library")
#endif

/// The operating-system calls of the shared utilities, in one place so that a port touches one file.
package enum Platform {
    /// Seconds of a monotonic clock, for durations.
    package static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    /// Writes `text` to standard error directly (the C `stderr` global is not concurrency-safe in
    /// Swift 6), retrying short writes.
    package static func writeStandardError(_ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { writeAll(STDERR_FILENO, $0) }
    }

    /// True when standard error is a terminal, so progress can redraw in place.
    package static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Asks for transparent huge pages (`MADV_HUGEPAGE`, Linux) over the whole 2 MB pages inside a
    /// buffer of at least 4 MB, before it is first written: one page fault per 2 MB instead of per
    /// 4 KB, which is most of the cost of filling fresh memory (weights read from a file, or built).
    package static func adviseHugePages(_ buffer: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let huge = 2 << 20
        guard bytes >= 2 * huge else { return }
        let start = (Int(bitPattern: buffer) + huge - 1) / huge * huge, end = (Int(bitPattern: buffer) + bytes) / huge * huge
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }

    /// The text of the last system error (`strerror(errno)`).
    package static func lastError() -> String {
        String(cString: strerror(errno))
    }

    /// Creates a new file from `template` (ending in `XXXXXX`), opened for writing; returns its
    /// descriptor and path, or nil with `lastError()` set.
    static func makeTemporaryFile(_ template: String) -> (descriptor: Int32, path: String)? {
        var bytes = Array(template.utf8CString)
        let descriptor = bytes.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return nil }
        return (descriptor, String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Writes all of `bytes` to `descriptor`; false on failure.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Flushes `descriptor` to disk, gives it the mode a plain `open` would (0666 under the umask:
    /// `mkstemp` creates files 0600) and closes it.
    static func finishFile(_ descriptor: Int32) -> Bool {
        guard fsync(descriptor) == 0 else { return false }
        let mask = umask(0)
        umask(mask)
        fchmod(descriptor, 0o666 & ~mask)
        return close(descriptor) == 0
    }

    static func closeFile(_ descriptor: Int32) { close(descriptor) }

    static func moveFile(_ from: String, to destination: String) -> Bool {
        rename(from, destination) == 0
    }

    static func removeFile(_ path: String) { unlink(path) }
}
