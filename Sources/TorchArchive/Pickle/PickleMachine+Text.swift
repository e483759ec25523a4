/// The newline-terminated opcodes of protocols 0 and 1, as written by Python 2-era PyTorch.
extension PickleMachine {
    /// Python refuses to convert decimal strings longer than this (sys.int_info.default_max_str_digits);
    /// the limit also keeps the quadratic conversion below fast.
    static let maxDecimalDigits = 4300

    mutating func textStep(_ opcode: PickleOpcode, _ reader: inout ByteReader) throws {
        switch opcode {
        case .int:
            let text = try ascii(try reader.line("an INT"))
            if text == "00" || text == "01" {
                try push(.bool(text == "01"))  // protocol 0 spells booleans as INT 00 / 01
            } else {
                try push(try PickleMachine.integer(decimal: text))
            }
        case .long:
            var text = try ascii(try reader.line("a LONG"))
            if text.hasSuffix("L") { text.removeLast() }
            try push(try PickleMachine.integer(decimal: text))
        case .float:
            let text = try ascii(try reader.line("a FLOAT"))
            guard let value = Double(text.trimmingSpaces) else { throw malformed("a decimal float", "'\(text)'") }
            try push(.float(value))
        case .string:
            try push(.string(PickleMachine.legacyString(try PickleMachine.unquote(try reader.line("a STRING")))))
        case .unicode:
            try push(.string(try PickleMachine.rawUnicodeEscape(try reader.line("a UNICODE"))))
        case .get: try push(try recall(try index(try reader.line("a GET index"))))
        case .put: try memoize(try index(try reader.line("a PUT index")))
        case .persID: try push(try resolver.persistentLoad(.string(try ascii(try reader.line("a PERSID")))))
        case .global:
            let global = try readGlobal(&reader)
            try push(try resolver.resolveGlobal(global, at: opcodeStart))
        case .inst:
            let global = try readGlobal(&reader)
            let cls = try resolver.resolveGlobal(global, at: opcodeStart)
            try push(try resolver.call(cls, try popToMark(), arena: arena))
        default:
            preconditionFailure("not a text opcode: \(opcode)")
        }
    }

    private func readGlobal(_ reader: inout ByteReader) throws -> PickleGlobal {
        let module = try ascii(try reader.line("a module name"))
        let name = try ascii(try reader.line("a global name"))
        return PickleGlobal(module: module, name: name)
    }

    private func ascii(_ bytes: UnsafeRawBufferPointer) throws -> String {
        guard bytes.allSatisfy({ $0 < 0x80 }), let text = String(validating: bytes, as: UTF8.self) else {
            throw malformed("ASCII text", "'\(bytes.preview())'")
        }
        return text
    }

    private func index(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        let text = try ascii(bytes)
        guard let value = Int(text), value >= 0 else { throw malformed("a memo index", "'\(text)'") }
        return value
    }

    // MARK: Integers

    /// Decodes LONG1/LONG4 little-endian two's-complement digits.
    static func integer(fromLittleEndian bytes: UnsafeRawBufferPointer) -> PickleValue {
        guard !bytes.isEmpty else { return .int(0) }
        if bytes.count <= 8 {
            var value: UInt64 = 0
            for (i, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
            let shift = UInt64(64 - 8 * bytes.count)
            return .int(Int(Int64(bitPattern: value << shift) >> Int64(shift)))  // sign-extend
        }
        return .bigInt(Array(bytes))
    }

    /// Decodes a decimal literal (INT, LONG) into `.int`, or `.bigInt` when it does not fit.
    static func integer(decimal text: String) throws -> PickleValue {
        let trimmed = text.trimmingSpaces
        if let value = Int(trimmed) { return .int(value) }
        var digits = Substring(trimmed)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ArchiveError(.malformed, expected: "a decimal integer", found: "'\(text.prefix(40))'")
        }
        guard digits.count <= maxDecimalDigits else {
            throw ArchiveError(.limitExceeded, expected: "at most \(maxDecimalDigits) digits", found: "\(digits.count) digits")
        }
        var magnitude: [UInt8] = [0]  // little-endian base 256
        for digit in digits.utf8 {
            var carry = Int(digit - 0x30)
            for i in magnitude.indices {
                let product = Int(magnitude[i]) * 10 + carry
                magnitude[i] = UInt8(product & 0xFF)
                carry = product >> 8
            }
            while carry > 0 { magnitude.append(UInt8(carry & 0xFF)); carry >>= 8 }
        }
        magnitude.append(0)  // room for the sign bit
        if negative {
            var carry = 1
            for i in magnitude.indices {
                let sum = Int(~magnitude[i]) + carry
                magnitude[i] = UInt8(sum & 0xFF)
                carry = sum >> 8
            }
        }
        return .bigInt(magnitude)
    }

    // MARK: Strings

    /// Python 2 `str` values: UTF-8 when they are valid UTF-8, otherwise Latin-1 (as `encoding='latin1'`).
    static func legacyString(_ bytes: some Collection<UInt8>) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    /// Decodes the quoted, backslash-escaped literal of a protocol-0 STRING.
    static func unquote(_ line: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bytes = Array(line)
        guard bytes.count >= 2, let quote = bytes.first, quote == 0x27 || quote == 0x22, bytes.last == quote else {
            throw ArchiveError(.malformed, expected: "a quoted STRING literal", found: "'\(line.preview())'")
        }
        var output: [UInt8] = []
        var i = 1
        let end = bytes.count - 1
        while i < end {
            let byte = bytes[i]
            i += 1
            guard byte == 0x5C, i < end else { output.append(byte); continue }
            let escape = bytes[i]
            i += 1
            switch escape {
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "a"): output.append(0x07)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "v"): output.append(0x0B)
            case UInt8(ascii: "x"):
                guard i + 2 <= end, let value = UInt8(String(decoding: bytes[i..<(i + 2)], as: UTF8.self), radix: 16) else {
                    throw ArchiveError(.malformed, expected: "two hex digits after \\x", found: "'\(line.preview())'")
                }
                output.append(value)
                i += 2
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(escape - 0x30)
                var taken = 1
                while taken < 3, i < end, (0x30...0x37).contains(bytes[i]) {
                    value = value * 8 + Int(bytes[i] - 0x30)
                    i += 1
                    taken += 1
                }
                output.append(UInt8(value & 0xFF))
            default:
                output.append(escape)  // \\, \', \" and unknown escapes keep the character
            }
        }
        return output
    }

    /// Decodes the `raw-unicode-escape` text of a protocol-0 UNICODE opcode.
    static func rawUnicodeEscape(_ line: UnsafeRawBufferPointer) throws -> String {
        var scalars = String.UnicodeScalarView()
        let bytes = Array(line)
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x5C, i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") || bytes[i + 1] == UInt8(ascii: "U") {
                let width = bytes[i + 1] == UInt8(ascii: "u") ? 4 : 8
                guard i + 2 + width <= bytes.count,
                      let code = UInt32(String(decoding: bytes[(i + 2)..<(i + 2 + width)], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code) else {
                    throw ArchiveError(.malformed, expected: "a \\u escape with \(width) hex digits", found: "'\(line.preview())'")
                }
                scalars.append(scalar)
                i += 2 + width
            } else {
                scalars.append(Unicode.Scalar(bytes[i]))
                i += 1
            }
        }
        return String(scalars)
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\r" }).reversed().drop(while: { $0 == " " || $0 == "\r" }).reversed())
    }
}
