import ArgumentParser
import DANetSupport
import TensorKernels

@main
struct Danet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "danet",
        abstract: "Load PyTorch checkpoints without Python and run DANet on the CPU.",
        version: "danet 0.16.0",
        subcommands: [Inspect.self, Convert.self, Infer.self, Segment.self, Evaluate.self, Scan.self, Info.self, Serve.self]
    )

    static func main() {
        CommandPlatform.keepFreedMemory()
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Kernels below what the CPU is sold with are a surprise worth one line, whatever the command.
        if let warning = CPUReport.current.warning { Terminal.standardError("danet: warning: " + warning) }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            // `scan` is a check other tools call: 0 clean, 1 not clean, 2 for a usage error.
            if arguments.first == "scan" && exitCode(for: error) == .validationFailure {
                Terminal.standardError(fullMessage(for: error))
                CommandPlatform.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Runs `body`; an error of the package becomes one line on stderr and exit status 1, with no
/// stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as any DANetError {
        Terminal.standardError("danet: error: \(error)")
        throw ExitCode(1)
    }
}

enum Terminal {
    static func standardError(_ line: String) {
        Platform.writeStandardError(line + "\n")
    }

    static func writeStandardError(_ text: String) {
        Platform.writeStandardError(text)
    }

    /// True when stderr is a terminal, so progress can redraw in place; pipes get plain output.
    static var standardErrorIsTerminal: Bool { Platform.standardErrorIsTerminal }
}
