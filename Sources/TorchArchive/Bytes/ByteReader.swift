import DANetSupport

/// A bounds-checked little-endian cursor over bytes. Lives only inside a `withUnsafeBytes` closure.
///
/// Every read checks the remaining length first, so a declared length can never make the reader
/// allocate or touch more than the bytes that are really there.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset >= bytes.count }

    /// Throws `.truncated` unless `count` more bytes exist.
    func require(_ count: Int, _ what: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw ArchiveError(
                .truncated, location: "at byte \(offset)",
                expected: "\(what()) (\(count) bytes)", found: "\(max(remaining, 0)) bytes left")
        }
    }

    mutating func u8(_ what: @autoclosure () -> String = "a byte") throws -> UInt8 {
        try require(1, what())
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ what: @autoclosure () -> String = "a 2-byte integer") throws -> UInt16 {
        try require(2, what())
        defer { offset += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String = "a 4-byte integer") throws -> UInt32 {
        try require(4, what())
        defer { offset += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String = "an 8-byte integer") throws -> UInt64 {
        try require(8, what())
        defer { offset += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Reads an 8-byte big-endian IEEE double (pickle's BINFLOAT).
    mutating func f64BigEndian(_ what: @autoclosure () -> String = "an 8-byte float") throws -> Double {
        try require(8, what())
        defer { offset += 8 }
        return Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
    }

    /// Returns the next `count` bytes as a sub-buffer without copying.
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, what())
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    /// Reads up to and excluding the next `\n` (protocol-0 text opcodes), consuming the newline.
    mutating func line(_ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        var end = offset
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        guard end < bytes.count else {
            throw ArchiveError(.truncated, location: "at byte \(offset)", expected: "\(what()) ending in a newline", found: "end of data")
        }
        defer { offset = end + 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
    }
}

extension UnsafeRawBufferPointer {
    /// The bytes as text for an error message: printable ASCII kept, the rest escaped, cut at `limit`.
    func preview(limit: Int = 40) -> String {
        var text = ""
        for byte in prefix(limit) {
            if byte >= 0x20 && byte < 0x7F && byte != 0x27 {
                text.append(Character(Unicode.Scalar(byte)))
            } else {
                text += "\\x" + String(byte, radix: 16).leftPadded(to: 2)
            }
        }
        return count > limit ? text + "..." : text
    }
}
