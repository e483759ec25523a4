import ArgumentParser
import DANetSupport
import Foundation
import TorchArchive

/// `danet scan FILE|DIR...`: a safety verdict per checkpoint, for deciding what may be torch.load-ed.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tell whether checkpoints name only tensor machinery, containers and known data classes.",
        discussion: """
            Prints one line per file: its verdict and the globals that decided it. Folders are searched \
            for .pth, .pt, .pth.tar, .tar, .bin, .ckpt, .pkl and .safetensors files. Nothing in a file \
            is run. Exit status: 0 when every file names only tensor machinery, containers and known \
            data classes; 1 when any names an unknown callable or a global that can run code, or \
            cannot be read; 2 for a usage error.
            """
    )

    @Argument(help: "Checkpoints or folders of them.", completion: .file())
    var paths: [String] = []

    @Flag(help: "Print one JSON object per file (JSON Lines).")
    var json = false

    static let extensions: Set<String> = ["pth", "pt", "tar", "bin", "ckpt", "pkl", "safetensors"]

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one checkpoint or folder") }
    }

    /// What `scan --json` prints per file.
    struct Result: Encodable {
        let file: String
        /// `weights-only`, `known-data`, `unknown-callables`, `refused` or `unreadable`.
        let verdict: String
        let line: String
        /// The globals that decided the verdict.
        let globals: [String]
        let clean: Bool
    }

    func run() throws {
        var files: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                Terminal.standardError("danet: error: \(path): expected a checkpoint or a folder, found no such file")
                throw ExitCode(2)
            }
            guard isFolder.boolValue else {
                files.append(path)
                continue
            }
            let root = URL(fileURLWithPath: path)
            let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
            var found: [String] = []
            while let url = enumerator?.nextObject() as? URL {
                if Scan.extensions.contains(url.pathExtension.lowercased()) { found.append(url.path) }
            }
            files += found.sorted()
        }
        var clean = true
        for file in files {
            let result = Scan.scan(file)
            clean = clean && result.clean
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print("\(file): \(result.line)")
            }
        }
        if !clean { throw ExitCode(1) }
    }

    static func scan(_ file: String) -> Result {
        func result(_ verdict: SafetyVerdict) -> Result {
            Result(file: file, verdict: verdict.name, line: verdict.line, globals: verdict.globals, clean: verdict.isClean)
        }
        do {
            return result(try Checkpoint(contentsOf: URL(fileURLWithPath: file)).verdict)
        } catch let error as ArchiveError {
            if case .refusedGlobal(let name) = error.kind { return result(.refused([name])) }
            let reason = error.description.hasPrefix(error.file + ": ") ? String(error.description.dropFirst(error.file.count + 2)) : error.description
            return Result(file: file, verdict: "unreadable", line: "unreadable: \(reason)", globals: [], clean: false)
        } catch {
            return Result(file: file, verdict: "unreadable", line: "unreadable: \(error)", globals: [], clean: false)
        }
    }
}
