import Foundation
import Testing
@testable import TorchArchive

/// Every hostile or broken case fails with its own error: the right kind, a message naming the
/// file and the cause, and no side effect.
@Suite("Hostile and broken files")
struct HostileFileTests {
    /// Files a payload would have created: every hostile fixture's command touches /tmp/danet-marker-*.
    static func markers() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter { $0.hasPrefix("danet-marker") })
    }

    @Test("fails with a one-line error naming the cause", arguments: Fixtures.failingCases)
    func failsClearly(_ name: String) throws {
        try expectFailure(try #require(Fixtures.archive[name]), folder: "archive")
    }

    /// Fixtures/hostile: every payload callable in every form, and the memo attacks.
    @Test("every payload in every form is refused", arguments: Fixtures.hostile.keys.sorted())
    func hostileMatrix(_ name: String) throws {
        let expectation = try #require(Fixtures.hostile[name])
        guard let failure = expectation.error else {
            // Valid but built to make a careless reader allocate: it must open, holding nothing.
            #expect(try Checkpoint.open(Fixtures.path("hostile/" + expectation.file)).tensors.isEmpty)
            return
        }
        if expectation.unknown == true {
            // Loads by default, never run, named by the verdict; refused in strict mode.
            let before = Self.markers()
            let path = Fixtures.path("hostile/" + expectation.file)
            #expect(try Checkpoint.open(path).verdict == .unknownCallables(failure.contains))
            #expect(throws: ArchiveError.self) { try Checkpoint.open(path, strict: true) }
            do {
                _ = try Checkpoint.open(path, strict: true)
            } catch let error as ArchiveError {
                #expect(error.kind == .unknownGlobal(failure.contains[0]), "\(error)")
                #expect(error.description.contains("--strict"), "\(error)")
            }
            #expect(Self.markers().subtracting(before).isEmpty)
            return
        }
        try expectFailure(expectation, folder: "hostile")
    }

    /// Fixtures/benign: what real checkpoints hold besides tensors passes the allow list.
    @Test("benign checkpoints load in strict mode with the expected verdict", arguments: Fixtures.benign.keys.sorted())
    func benign(_ name: String) throws {
        let expected = try #require(Fixtures.benign[name])
        let checkpoint = try Checkpoint.open(Fixtures.path("benign/" + name), strict: true)
        #expect(checkpoint.verdict.name == expected.verdict, "\(checkpoint.verdict.line)")
        #expect(checkpoint.stateDictPath == expected.stateDict)
        #expect(checkpoint.globals.allSatisfy { $0.kind != .unknown && $0.offset > 0 && $0.uses >= 1 })
    }

    @Test("the allow list matches exact classes, not their modules' functions or attributes")
    func allowList() {
        func kind(_ module: String, _ name: String) -> GlobalKind { GlobalPolicy.classify(PickleGlobal(module: module, name: name)).kind }
        #expect(kind("pathlib", "PosixPath") == .knownData)
        #expect(kind("pathlib", "Path.write_text") == .refused)
        #expect(kind("torch.nn.modules.conv", "Conv2d") == .knownData)
        #expect(kind("torch.nn.modules.module", "register_module_forward_hook") == .unknown)
        #expect(kind("torch.nn.modules.conv", "Conv2d.__reduce__") == .unknown)
        #expect(kind("collections", "OrderedDict") == .container)
        #expect(kind("torch", "FloatStorage") == .torch)
        #expect(kind("torch", "bfloat16") == .torch)
        #expect(kind("numpy.dtypes", "Float32DType") == .knownData)
        #expect(kind("__torch__.model", "Net") == .knownData)
        #expect(kind("builtins", "getattr") == .refused)
        #expect(kind("acme", "run") == .unknown)
    }

    func expectFailure(_ expectation: ArchiveExpectation, folder: String) throws {
        let failure = try #require(expectation.error)
        let before = Self.markers()
        let path = Fixtures.path(folder + "/" + expectation.file)
        do {
            let checkpoint = try Checkpoint.open(path)
            for named in checkpoint.tensors { _ = try named.tensor.contiguousBytes() }
            Issue.record("\(expectation.file) loaded without an error")
        } catch let error as ArchiveError {
            let message = error.description
            #expect(kindName(error.kind) == failure.kind, "\(message)")
            #expect(message.hasPrefix(path), "\(message)")
            #expect(!message.contains("\n"))
            for fragment in failure.contains {
                #expect(message.contains(fragment), "'\(fragment)' missing from: \(message)")
            }
            if case .refusedGlobal(let global) = error.kind {
                #expect(failure.contains.contains(global))
            }
        }
        #expect(Self.markers().subtracting(before).isEmpty, "a payload ran: \(Self.markers())")
    }

    /// shapes.pth holds a stride-0 view and two names on one storage: the bound counts every
    /// name's tensor bytes and the name itself, so it admits the file at exactly their sum and
    /// refuses it one byte below.
    @Test("named tensors share the file's expansion budget")
    func tensorBytesBudget() throws {
        let path = Fixtures.path("archive/shapes.pth")
        let named = try Checkpoint.open(path).tensors
        let total = named.reduce(0) { $0 + $1.tensor.byteCount + $1.name.utf8.count }
        var storageBytes: [ObjectIdentifier: Int] = [:]
        for entry in named { storageBytes[ObjectIdentifier(entry.tensor.storage)] = entry.tensor.storage.byteCount }
        #expect(total > storageBytes.values.reduce(0, +))  // the views claim more than their storages hold
        var limits = ArchiveLimits()
        limits.maxExpansionRatio = 0
        limits.expansionExemptBytes = total
        #expect(try Checkpoint.open(path, limits: limits).tensors.count == named.count)
        limits.expansionExemptBytes = total - 1
        #expect {
            try Checkpoint.open(path, limits: limits)
        } throws: { error in
            "\(error)".contains("expected tensors and names of at most \(total - 1) bytes in all")
        }
        #expect(ArchiveLimits().budget(forFileOf: 1000) == 100 * 1000 + (1 << 20))
        #expect(ArchiveLimits().budget(forFileOf: .max) == .max)
    }

    @Test("every prefix of a checkpoint fails cleanly or loads")
    func truncationAtManyOffsets() throws {
        let source = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("archive/legacy.pth")))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("danet-truncation-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var failures = 0
        for length in stride(from: 0, to: source.count, by: 7) {
            let path = folder.appendingPathComponent("cut.pth").path
            try source.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                let checkpoint = try Checkpoint.open(path)
                for named in checkpoint.tensors { _ = try named.tensor.floats() }
                Issue.record("a \(length)-byte prefix of \(source.count) loaded")
            } catch let error as ArchiveError {
                failures += 1
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(failures > 100)
    }
}

@Suite("Error messages")
struct ErrorMessageTests {
    @Test("names from the file cannot break the one-line message")
    func controlCharactersEscaped() {
        let error = ArchiveError(.missing, file: "x.pth", location: "archiv\n/data/0\t", expected: "a record", found: "bell \u{7}")
        #expect(error.description == "x.pth: archiv\\n/data/0\\t: expected a record, found bell \\u{7}")
    }
}
