import DANetSupport

/// Gives meaning to the parts of a pickle that would run code in Python: globals, calls, object
/// construction, BUILD and persistent ids. The machine itself only moves values.
protocol PickleResolver: AnyObject {
    /// Looks up `module.name`; throws `.refusedGlobal` for anything that could run code.
    func resolveGlobal(_ global: PickleGlobal) throws -> PickleValue
    /// The same, told the byte offset of the opcode that names it (GLOBAL, STACK_GLOBAL or INST).
    func resolveGlobal(_ global: PickleGlobal, at offset: Int) throws -> PickleValue
    /// REDUCE: `callable(*arguments)`.
    func call(_ callable: PickleValue, _ arguments: [PickleValue], arena: PickleArena) throws -> PickleValue
    /// NEWOBJ, NEWOBJ_EX, OBJ and INST: `cls.__new__(cls, *arguments)`.
    func instantiate(_ cls: PickleValue, _ arguments: [PickleValue], arena: PickleArena) throws -> PickleValue
    /// BUILD: `target.__setstate__(state)`.
    func build(_ target: PickleValue, state: PickleValue) throws
    /// BINPERSID / PERSID.
    func persistentLoad(_ id: PickleValue) throws -> PickleValue
}

extension PickleResolver {
    func resolveGlobal(_ global: PickleGlobal, at offset: Int) throws -> PickleValue { try resolveGlobal(global) }
}

/// A pickle virtual machine for protocols 0 to 5 that never executes anything.
///
/// Every length is checked against the bytes that remain before it is read, the memo, the stack and
/// the MARK stack are bounded by `ArchiveLimits`, and every call goes through the resolver.
struct PickleMachine {
    let limits: ArchiveLimits
    let resolver: PickleResolver
    let arena: PickleArena

    /// The protocol of the last pickle run: its PROTO opcode, else 1 when it used binary opcodes
    /// (protocol 1 has no PROTO), else 0, as `pickletools` counts it.
    private(set) var protocolVersion = 0

    /// Opcodes that protocol 1 introduced.
    private static let protocol1: Set<PickleOpcode> = [
        .binInt, .binInt1, .binInt2, .binString, .shortBinString, .binUnicode, .emptyTuple, .emptyList,
        .emptyDict, .appends, .setItems, .binGet, .longBinGet, .binPut, .longBinPut, .binFloat, .binPersID,
        .popMark, .obj,
    ]

    /// Where the opcode being run starts, for the resolver's record of globals.
    private(set) var opcodeStart = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(limits: ArchiveLimits, resolver: PickleResolver, arena: PickleArena) {
        self.limits = limits
        self.resolver = resolver
        self.arena = arena
    }

    /// Runs one pickle from `reader.offset` up to and including its STOP opcode.
    /// - Returns: the value on top of the stack at STOP.
    /// - Throws: `ArchiveError` with the byte offset of the failing opcode as its location.
    mutating func run(_ reader: inout ByteReader) throws -> PickleValue {
        stack.removeAll(keepingCapacity: true)
        marks.removeAll(keepingCapacity: true)
        memo.removeAll(keepingCapacity: true)
        protocolVersion = 0
        while true {
            let start = reader.offset
            opcodeStart = start
            guard !reader.isAtEnd else {
                throw ArchiveError(.truncated, location: "at byte \(start)", expected: "a STOP opcode", found: "end of data")
            }
            let byte = try reader.u8()
            guard let opcode = PickleOpcode(rawValue: byte) else {
                throw ArchiveError(.malformed, location: "at byte \(start)", expected: "a pickle opcode",
                                   found: "byte 0x\(String(byte, radix: 16).leftPadded(to: 2))")
            }
            do {
                if opcode == .stop { return try pop() }
                if protocolVersion == 0 && PickleMachine.protocol1.contains(opcode) { protocolVersion = 1 }
                try step(opcode, &reader)
            } catch var error as ArchiveError {
                if error.location.isEmpty { error.location = "at byte \(start) (\(opcode))" }
                throw error
            }
        }
    }

    private mutating func step(_ opcode: PickleOpcode, _ reader: inout ByteReader) throws {
        switch opcode {
        case .stop: break
        case .proto:
            let version = Int(try reader.u8("a protocol number"))
            guard version <= 5 else { throw ArchiveError(.unsupported, expected: "pickle protocol 0 to 5", found: "protocol \(version)") }
            if protocolVersion <= 1 { protocolVersion = version }
        case .frame:
            // Frames only group opcodes for buffered reading; the declared length must still fit.
            let length = try reader.u64("a frame length")
            guard length <= UInt64(reader.remaining) else {
                throw ArchiveError(.truncated, expected: "a frame of \(length) bytes", found: "\(reader.remaining) bytes left")
            }
        case .mark:
            guard marks.count < limits.maxOpenMarks else {
                throw ArchiveError(.limitExceeded, expected: "at most \(limits.maxOpenMarks) open MARKs", found: "more (a MARK bomb)")
            }
            marks.append(stack.count)
        case .pop:
            if let mark = marks.last, mark == stack.count {
                marks.removeLast()  // POP right after MARK discards the mark, as CPython does
            } else {
                _ = try pop()
            }
        case .popMark: _ = try popToMark()
        case .dup: try push(try top())
        case .none: try push(.none)
        case .newTrue: try push(.bool(true))
        case .newFalse: try push(.bool(false))
        case .binInt: try push(.int(Int(Int32(bitPattern: try reader.u32()))))
        case .binInt1: try push(.int(Int(try reader.u8())))
        case .binInt2: try push(.int(Int(try reader.u16())))
        case .long1:
            let count = Int(try reader.u8("a LONG1 length"))
            try push(PickleMachine.integer(fromLittleEndian: try reader.take(count, "LONG1 digits")))
        case .long4:
            let count = Int(Int32(bitPattern: try reader.u32("a LONG4 length")))
            guard count >= 0 else { throw malformed("a non-negative LONG4 length", "\(count)") }
            try push(PickleMachine.integer(fromLittleEndian: try reader.take(count, "LONG4 digits")))
        case .binFloat: try push(.float(try reader.f64BigEndian()))
        case .int, .long, .float, .string, .unicode, .get, .put, .persID, .global, .inst:
            try textStep(opcode, &reader)
        case .binString:
            let count = Int(Int32(bitPattern: try reader.u32("a BINSTRING length")))
            guard count >= 0 else { throw malformed("a non-negative BINSTRING length", "\(count)") }
            try push(.string(PickleMachine.legacyString(try reader.take(count, "BINSTRING bytes"))))
        case .shortBinString:
            let count = Int(try reader.u8())
            try push(.string(PickleMachine.legacyString(try reader.take(count, "SHORT_BINSTRING bytes"))))
        case .binUnicode: try push(.string(try utf8(&reader, count: Int(try reader.u32("a BINUNICODE length")))))
        case .shortBinUnicode: try push(.string(try utf8(&reader, count: Int(try reader.u8()))))
        case .binUnicode8: try push(.string(try utf8(&reader, count: try length64(&reader, "BINUNICODE8"))))
        case .binBytes: try push(.bytes(Array(try reader.take(Int(try reader.u32("a BINBYTES length")), "BINBYTES data"))))
        case .shortBinBytes: try push(.bytes(Array(try reader.take(Int(try reader.u8()), "SHORT_BINBYTES data"))))
        case .binBytes8: try push(.bytes(Array(try reader.take(try length64(&reader, "BINBYTES8"), "BINBYTES8 data"))))
        case .byteArray8: try push(.bytes(Array(try reader.take(try length64(&reader, "BYTEARRAY8"), "BYTEARRAY8 data"))))
        case .nextBuffer, .readonlyBuffer:
            throw ArchiveError(.unsupported, expected: "in-band data", found: "an out-of-band pickle buffer")
        case .emptyTuple: try push(.tuple(arena.list()))
        case .tuple: try push(.tuple(arena.list(try popToMark())))
        case .tuple1: let a = try pop(); try push(.tuple(arena.list([a])))
        case .tuple2: let b = try pop(), a = try pop(); try push(.tuple(arena.list([a, b])))
        case .tuple3: let c = try pop(), b = try pop(), a = try pop(); try push(.tuple(arena.list([a, b, c])))
        case .emptyList: try push(.list(arena.list()))
        case .list: try push(.list(arena.list(try popToMark())))
        case .emptyDict: try push(.dict(arena.dict()))
        case .dict:
            let dict = arena.dict()
            try setItems(dict, try popToMark())
            try push(.dict(dict))
        case .emptySet: try push(.set(arena.list()))
        case .frozenSet: try push(.set(arena.list(try popToMark())))
        case .append: let value = try pop(); try append([value], to: try top())
        case .appends: let values = try popToMark(); try append(values, to: try top())
        case .addItems:
            let values = try popToMark()
            guard case .set(let set) = try top() else { throw malformed("a set under ADDITEMS", try top().typeName) }
            set.items.append(contentsOf: values)
        case .setItem:
            let value = try pop(), key = try pop()
            try setItems(into: try top(), [key, value])
        case .setItems:
            let pairs = try popToMark()
            try setItems(into: try top(), pairs)
        case .binPut: try memoize(Int(try reader.u8()))
        case .longBinPut: try memoize(Int(try reader.u32()))
        case .memoize: try memoize(memo.count)
        case .binGet: try push(try recall(Int(try reader.u8())))
        case .longBinGet: try push(try recall(Int(try reader.u32())))
        case .stackGlobal:
            let name = try pop(), module = try pop()
            guard case .string(let moduleName) = module, case .string(let globalName) = name else {
                throw malformed("two strings for STACK_GLOBAL", "\(module.typeName) and \(name.typeName)")
            }
            try push(try resolver.resolveGlobal(PickleGlobal(module: moduleName, name: globalName), at: opcodeStart))
        case .reduce:
            let arguments = try pop(), callable = try pop()
            guard case .tuple(let tuple) = arguments else { throw malformed("an argument tuple for REDUCE", arguments.typeName) }
            try push(try resolver.call(callable, tuple.items, arena: arena))
        case .newObj:
            let arguments = try pop(), cls = try pop()
            guard case .tuple(let tuple) = arguments else { throw malformed("an argument tuple for NEWOBJ", arguments.typeName) }
            try push(try resolver.instantiate(cls, tuple.items, arena: arena))
        case .newObjEx:
            let keywords = try pop(), arguments = try pop(), cls = try pop()
            guard case .tuple(let tuple) = arguments, case .dict = keywords else {
                throw malformed("a tuple and a dict for NEWOBJ_EX", "\(arguments.typeName) and \(keywords.typeName)")
            }
            try push(try resolver.instantiate(cls, tuple.items + [keywords], arena: arena))
        case .obj:
            // OBJ and INST call the class, as `pickle._instantiate` does; only NEWOBJ bypasses __init__.
            var values = try popToMark()
            guard !values.isEmpty else { throw malformed("a class after MARK for OBJ", "nothing") }
            let cls = values.removeFirst()
            try push(try resolver.call(cls, values, arena: arena))
        case .build:
            let state = try pop()
            try resolver.build(try top(), state: state)
        case .binPersID: try push(try resolver.persistentLoad(try pop()))
        case .ext1, .ext2, .ext4:
            throw ArchiveError(.unsupported, expected: "globals named in the pickle", found: "a copyreg extension code (\(opcode))")
        }
    }

    // MARK: Stack, memo and container helpers

    mutating func push(_ value: PickleValue) throws {
        guard stack.count < limits.maxStackDepth else {
            throw ArchiveError(.limitExceeded, expected: "at most \(limits.maxStackDepth) values on the pickle stack", found: "more")
        }
        stack.append(value)
    }

    mutating func pop() throws -> PickleValue {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else {
            throw malformed("a value on the stack", "an empty stack")
        }
        stack.removeLast()
        return last
    }

    func top() throws -> PickleValue {
        guard let last = stack.last, stack.count > (marks.last ?? 0) else {
            throw malformed("a value on the stack", "an empty stack")
        }
        return last
    }

    mutating func popToMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("a MARK on the stack", "no MARK") }
        let values = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return values
    }

    mutating func memoize(_ index: Int) throws {
        guard memo.count < limits.maxMemoEntries || memo[index] != nil else {
            throw ArchiveError(.limitExceeded, expected: "at most \(limits.maxMemoEntries) memo entries", found: "more (a memo bomb)")
        }
        memo[index] = try top()
    }

    func recall(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw ArchiveError(.missing, expected: "memo entry \(index)", found: "no such entry") }
        return value
    }

    private func append(_ values: [PickleValue], to target: PickleValue) throws {
        switch target {
        case .list(let list): list.items.append(contentsOf: values)
        case .object(let object): object.arguments.append(contentsOf: values)  // list subclasses
        default: throw malformed("a list under APPEND", target.typeName)
        }
    }

    private func setItems(into target: PickleValue, _ pairs: [PickleValue]) throws {
        switch target {
        case .dict(let dict): try setItems(dict, pairs)
        case .object(let object):
            // dict subclasses (EasyDict, defaultdict) keep their items as opaque contents
            let dict = arena.dict()
            try setItems(dict, pairs)
            object.arguments.append(.dict(dict))
        default: throw malformed("a dict under SETITEM", target.typeName)
        }
    }

    private func setItems(_ dict: PickleDict, _ pairs: [PickleValue]) throws {
        guard pairs.count % 2 == 0 else { throw malformed("key-value pairs", "\(pairs.count) values") }
        for i in stride(from: 0, to: pairs.count, by: 2) where !dict.set(pairs[i], pairs[i + 1]) {
            throw malformed("a hashable dict key of at most \(PickleDict.maxKeyValues) values nested at most 64 deep",
                            pairs[i].typeName)
        }
    }

    private func utf8(_ reader: inout ByteReader, count: Int) throws -> String {
        let bytes = try reader.take(count, "UTF-8 text")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw malformed("UTF-8 text", "invalid UTF-8 '\(bytes.preview())'")
        }
        return text
    }

    private func length64(_ reader: inout ByteReader, _ opcode: String) throws -> Int {
        let length = try reader.u64("a \(opcode) length")
        guard length <= UInt64(reader.remaining) else {
            throw ArchiveError(.limitExceeded, expected: "a \(opcode) length within the \(reader.remaining) bytes left", found: "\(length)")
        }
        return Int(length)
    }

    func malformed(_ expected: String, _ found: String) -> ArchiveError {
        ArchiveError(.malformed, expected: expected, found: found)
    }
}
