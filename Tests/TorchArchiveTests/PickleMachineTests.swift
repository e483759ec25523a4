import Testing
@testable import TorchArchive

/// A resolver that only records: the machine is tested on plain values here.
private final class RecordingResolver: PickleResolver {
    func resolveGlobal(_ global: PickleGlobal) throws -> PickleValue {
        if GlobalPolicy.isRefused(global) {
            throw ArchiveError(.refusedGlobal(global.qualifiedName), expected: "safe globals", found: global.qualifiedName)
        }
        return .global(global)
    }
    func call(_ callable: PickleValue, _ arguments: [PickleValue], arena: PickleArena) throws -> PickleValue {
        .object(arena.object(callable.typeName, arguments))
    }
    func instantiate(_ cls: PickleValue, _ arguments: [PickleValue], arena: PickleArena) throws -> PickleValue {
        .object(arena.object(cls.typeName, arguments))
    }
    func build(_ target: PickleValue, state: PickleValue) throws {}
    func persistentLoad(_ id: PickleValue) throws -> PickleValue { .string("pid") }
}

private func unpickle(_ bytes: [UInt8], limits: ArchiveLimits = .standard, _ check: (PickleValue) throws -> Void) throws {
    let arena = PickleArena()
    try bytes.withUnsafeBytes { buffer in
        var reader = ByteReader(buffer)
        var machine = PickleMachine(limits: limits, resolver: RecordingResolver(), arena: arena)
        try check(try machine.run(&reader))
    }
}

private func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite("Pickle machine")
struct PickleMachineTests {
    @Test("protocol-0 text opcodes: INT, LONG, FLOAT, STRING escapes, UNICODE, booleans")
    func textOpcodes() throws {
        try unpickle(ascii("(I-17\nL123456789012345678901234567890L\nF-2.5\nS'a\\'b\\x41\\n'\nVcaf\\u00e9\nI01\nI00\ntp0\n.")) { value in
            let items = try #require(value.sequenceItems)
            guard case .int(-17) = items[0] else { Issue.record("INT: \(items[0])"); return }
            guard case .bigInt(let digits) = items[1] else { Issue.record("LONG: \(items[1])"); return }
            // 123456789012345678901234567890 = 0x18EE90FF6C373E0EE4E3F0AD2
            #expect(hex(digits.reversed()).hasSuffix("18ee90ff6c373e0ee4e3f0ad2"))
            guard case .float(-2.5) = items[2] else { Issue.record("FLOAT: \(items[2])"); return }
            #expect(items[3].stringValue == "a'bA\n")
            #expect(items[4].stringValue == "café")
            #expect(items[5].boolValue == true)
            #expect(items[6].boolValue == false)
        }
    }

    @Test("negative LONG1 values and BININT sign extension")
    func integers() throws {
        // LONG1 0xff (-1), LONG1 2 bytes 0x00 0x80 (-32768), BININT -2, BININT2 65535
        try unpickle([0x80, 0x02, 0x28, 0x8A, 0x01, 0xFF, 0x8A, 0x02, 0x00, 0x80, 0x4A, 0xFE, 0xFF, 0xFF, 0xFF, 0x4D, 0xFF, 0xFF, 0x74, 0x2E]) { value in
            let numbers = try #require(value.intList)
            #expect(numbers == [-1, -32768, -2, 65535])
        }
    }

    @Test("memo: PUT/GET, BINPUT/BINGET, LONG_BINPUT, MEMOIZE share one object")
    func memo() throws {
        // ] q\x01 h\x01 \x86  -> a tuple of the same list twice; then append to it through the memo
        try unpickle([0x80, 0x04, 0x5D, 0x94, 0x68, 0x00, 0x86, 0x68, 0x00, 0x4B, 0x07, 0x61, 0x30, 0x2E]) { value in
            let items = try #require(value.sequenceItems)
            guard case .list(let first) = items[0], case .list(let second) = items[1] else { Issue.record("\(value)"); return }
            #expect(first === second)
            #expect(first.items.count == 1)
        }
    }

    @Test("dicts keep insertion order and replace repeated keys")
    func dictOrder() throws {
        try unpickle(ascii("(dS'b'\nI1\nsS'a'\nI2\nsS'b'\nI3\ns.")) { value in
            guard case .dict(let dict) = value else { Issue.record("\(value)"); return }
            #expect(dict.entries.map { $0.key.stringValue ?? "" } == ["b", "a"])
            guard case .int(3)? = dict["b"] else { Issue.record("b = \(String(describing: dict["b"]))"); return }
        }
    }

    @Test("refused globals are named, in GLOBAL, STACK_GLOBAL and INST forms")
    func refusedGlobals() {
        let forms: [(String, [UInt8])] = [
            ("os.system", ascii("cos\nsystem\n.")),
            ("builtins.getattr", [0x80, 0x04, 0x8C, 0x08] + ascii("builtins") + [0x8C, 0x07] + ascii("getattr") + [0x93, 0x2E]),
            ("subprocess.check_output", ascii("(S'ls'\nisubprocess\ncheck_output\n.")),
            ("nt.system", ascii("cnt\nsystem\n.")),
            ("__builtin__.__import__", ascii("c__builtin__\n__import__\n.")),
        ]
        for (name, bytes) in forms {
            do {
                try unpickle(bytes) { _ in }
                Issue.record("\(name) was not refused")
            } catch let error as ArchiveError {
                #expect(error.kind == .refusedGlobal(name))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    @Test("harmless unknown classes become opaque objects")
    func opaqueClasses() throws {
        try unpickle(ascii("cargparse\nNamespace\n)") + [0x81, 0x2E]) { value in
            guard case .object(let object) = value else { Issue.record("\(value)"); return }
            #expect(object.className == "global argparse.Namespace")
        }
    }

    @Test("stack underflow, unknown opcodes and MARK misuse are errors, not crashes")
    func malformed() {
        for bytes: [UInt8] in [[0x2E], [0x80, 0x02, 0x61, 0x2E], [0xFF], [0x74, 0x2E], [0x80, 0x02, 0x28, 0x30, 0x30, 0x2E], [0x80, 0x09, 0x2E]] {
            #expect(throws: ArchiveError.self) { try unpickle(bytes) { _ in } }
        }
    }

    @Test("a memo index far beyond the data does not allocate")
    func sparseMemo() throws {
        // LONG_BINPUT 0xFFFFFFFF then LONG_BINGET of it
        try unpickle([0x80, 0x02, 0x4E, 0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x30, 0x6A, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E]) { value in
            guard case .none = value else { Issue.record("\(value)"); return }
        }
    }

    @Test("the memo bound is enforced")
    func memoBound() {
        var limits = ArchiveLimits()
        limits.maxMemoEntries = 10
        var bytes: [UInt8] = [0x80, 0x04, 0x4E]
        bytes += [UInt8](repeating: 0x94, count: 11)
        bytes.append(0x2E)
        #expect(throws: ArchiveError.self) { try unpickle(bytes, limits: limits) { _ in } }
    }

    @Test("LONG text with more digits than Python accepts is refused")
    func decimalBound() {
        #expect(throws: ArchiveError.self) {
            try unpickle(ascii("L" + String(repeating: "9", count: 5000) + "L\n.")) { _ in }
        }
    }
}
