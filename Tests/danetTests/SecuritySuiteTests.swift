import Foundation
import Testing
import TorchArchive

/// The hostile-file suite through the command line, as a user meets it: every hostile and broken
/// fixture, every prefix of a real checkpoint at many offsets and random bit flips, each run by
/// `danet convert` under a virtual-memory ceiling (`ulimit -v`). Each must give one line on stderr
/// and exit status 1 (or convert, for the few that are valid), neither crash nor hang, create no
/// marker file (so no payload ran) and leave no output or temporary file behind.
@Suite("Security suite: hostile files through danet convert under ulimit -v")
struct SecuritySuiteTests {
    /// 2 GB of address space: far above what a valid small checkpoint needs, far below what an
    /// unchecked length or count would ask for.
    static let memoryCeilingKB = 2_000_000
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path

    struct Case: Sendable, CustomTestStringConvertible {
        let file: String
        /// nil when the file is valid and converts.
        let fragment: String?
        /// Names a callable no list knows: refused only with --strict, which the run then passes.
        var strict = false
        var testDescription: String { URL(fileURLWithPath: file).lastPathComponent }
    }

    struct Expectation: Decodable {
        struct Failure: Decodable { let kind: String; let contains: [String] }
        let file: String
        let error: Failure?
        let unknown: Bool?
    }

    /// Failing cases of Fixtures/archive and every case of Fixtures/hostile.
    static let cases: [Case] = ["archive", "hostile"].flatMap { folder -> [Case] in
        let url = URL(fileURLWithPath: root + "/\(folder)/expected.json")
        guard let data = try? Data(contentsOf: url),
              let table = try? JSONDecoder().decode([String: Expectation].self, from: data) else { return [] }
        return table.values.filter { folder == "hostile" || $0.error != nil }
            .map { Case(file: root + "/\(folder)/" + $0.file, fragment: $0.error?.contains.first ?? ($0.error == nil ? nil : ""),
                        strict: $0.unknown == true) }
            .sorted { $0.file < $1.file }
    }

    static func markers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("danet-marker") }
    }

    /// Runs `danet convert input output` under the memory ceiling with a time limit.
    static func convert(_ input: String, into folder: String, strict: Bool = false) throws -> CLI.Result {
        try CLI.run(["convert", input, folder + "/out.safetensors"] + (strict ? ["--strict"] : []),
                    shell: "ulimit -v \(memoryCeilingKB); exec timeout 60 \"$0\" \"$@\"")
    }

    /// The checks every run must pass; `valid` when the input is a loadable checkpoint.
    static func check(_ result: CLI.Result, input: String, folder: String, valid: Bool, fragment: String?) {
        let name = URL(fileURLWithPath: input).lastPathComponent
        if valid {
            #expect(result.status == 0, "\(name): \(result.stderr)")
        } else {
            #expect(result.status == 1, "\(name): exit status \(result.status) (124: timeout; above 128: a signal) \(result.stderr)")
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            #expect(lines.count == 1, "\(name): \(result.stderr)")
            #expect(result.stderr.hasPrefix("danet: error: \(input)"), "\(name): \(result.stderr)")
            if let fragment, !fragment.isEmpty { #expect(result.stderr.contains(fragment), "\(name): \(result.stderr)") }
            let left = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            #expect(left.isEmpty, "\(name) left \(left) behind")
        }
    }

    @Test("each hostile or broken fixture", arguments: cases)
    func fixture(_ entry: Case) throws {
        let before = Set(Self.markers())
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Self.convert(entry.file, into: folder, strict: entry.strict)
        Self.check(result, input: entry.file, folder: folder, valid: entry.fragment == nil, fragment: entry.fragment)
        #expect(Set(Self.markers()).subtracting(before).isEmpty, "a payload ran: \(Self.markers())")
    }

    @Test("the suite covers every payload form and the memory attacks")
    func coverage() {
        let names = Self.cases.map(\.testDescription)
        for form in ["zip", "legacy", "proto0_inst", "proto0_obj", "proto4_stack_global", "torchscript"] {
            for callable in ["os_system", "posix_system", "builtins_eval", "subprocess_popen"] {
                #expect(names.contains { $0.hasPrefix("\(form)_\(callable).") }, "\(form) \(callable) missing")
            }
        }
        for attack in ["zip_bomb", "zip_bomb_many_entries", "shared_tuple_bomb", "shared_tuple_key", "shared_tuple_oom", "mark_bomb",
                       "deep_nesting", "memo_sparse_index", "absurd_binbytes8", "absurd_binunicode8", "numel_overflow", "offset_outside",
                       "stride_outside", "short_storage", "setitem_nondict", "html", "expanded_view_bomb", "expanded_view_overflow",
                       "shared_tensor_bomb", "shared_opaque_objects"] {
            #expect(names.contains { $0.hasPrefix(attack + ".") }, "\(attack) missing")
        }
    }

    /// Real checkpoints, a torch.save zip and a small DANet saved the legacy way with its training
    /// wrapper, cut at many offsets and with bytes flipped: every variant converts or fails cleanly.
    @Test("prefixes and bit flips of real checkpoints", arguments: ["archive/module_state_dict.pth", "danet/official_resnet7_r50.pth.tar"])
    func mutations(_ relative: String) throws {
        let source = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.root + "/" + relative)))
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = folder + "/mutated.pth"
        var generator = SplitMix(seed: 0x5EED)
        var variants: [[UInt8]] = stride(from: 0, to: source.count, by: max(1, source.count / 30)).map { Array(source.prefix($0)) }
        for _ in 0..<30 {
            var flipped = source
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let at = Int(generator.next() % UInt64(flipped.count))
                flipped[at] ^= UInt8(1 << (generator.next() % 8))
            }
            variants.append(flipped)
        }
        let before = Set(Self.markers())
        for variant in variants {
            try Data(variant).write(to: URL(fileURLWithPath: input))
            let output = folder + "/out"
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let result = try Self.convert(input, into: output)
            Self.check(result, input: input, folder: output, valid: result.status == 0, fragment: nil)
            try FileManager.default.removeItem(atPath: output)
        }
        #expect(Set(Self.markers()).subtracting(before).isEmpty)
    }
}

/// A small deterministic generator, so a failing mutation can be reproduced.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
