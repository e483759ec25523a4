import ArgumentParser
import DANetModel
import TorchArchive

#if canImport(Glibc)
import CMalloc
import Glibc
#endif

@main
struct Danet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "danet",
        abstract: "Load PyTorch checkpoints without Python and run DANet on the CPU.",
        subcommands: [Inspect.self, Convert.self, Infer.self, Segment.self, Evaluate.self]
    )

    static func main() {
        keepFreedMemory()
        main(nil)
    }

    /// A forward pass frees and allocates activations of the same few sizes, layer after layer. By
    /// default glibc maps each large one afresh and unmaps it when freed, so every layer pays page
    /// faults and zeroing again (measured: 3 to 5% of a forward pass). Served from the heap and
    /// not trimmed, freed activations are reused instead, for 20 to 60 MB more peak RSS.
    static func keepFreedMemory() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, Int32.max)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        #endif
    }
}

/// Runs `body`; a library error becomes one line on stderr and exit status 1, with no stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch where error is ArchiveError || error is ModelError {
        Terminal.standardError("danet: error: \(error)")
        throw ExitCode(1)
    }
}

enum Terminal {
    static func standardError(_ line: String) {
        writeStandardError(line + "\n")
    }

    /// Writes to file descriptor 2 directly: the C `stderr` global is not concurrency-safe in Swift 6.
    static func writeStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { return }
            done += n
        }
    }

    /// True when stderr is a terminal, so progress can redraw in place; pipes get plain output.
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
