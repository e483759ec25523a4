#if canImport(Glibc)
import Glibc
#endif

/// What the file-based fuzz targets share: the readers take paths (they memory-map the file), so
/// each input is written to a per-process file in memory-backed /dev/shm first.
public enum FuzzInput {
    public static let path: String = {
        let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        return "\(directory)/danet-fuzz-\(getpid()).bin"
    }()

    /// Writes `size` bytes at `data` to `path`, replacing what the previous input left.
    public static func write(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot write the fuzz input to \(path)")
        var done = 0
        while done < size, let data {
            let n = Glibc.write(fd, data + done, size - done)
            precondition(n > 0, "cannot write the fuzz input to \(path)")
            done += n
        }
        close(fd)
        return path
    }
}

/// libFuzzer's driver, for a main of our own: SwiftPM links an executable's entry point under
/// its own name, so the targets call the driver instead of relying on libFuzzer's `main`.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<Int32>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

public enum FuzzDriver {
    /// Runs libFuzzer with this process's arguments and `body` as the target; returns its status.
    public static func run(_ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32 {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        return runDriver(&argc, &argv, body)
    }
}
