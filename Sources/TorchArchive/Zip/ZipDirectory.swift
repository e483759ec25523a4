/// The two facts libzip does not publish: where each entry's local header sits (central directory,
/// ZIP64 aware) and where a stored entry's data starts after that header.
enum ZipDirectory {
    static let endOfDirectory: UInt32 = 0x0605_4B50
    static let zip64Locator: UInt32 = 0x0706_4B50
    static let zip64End: UInt32 = 0x0606_4B50
    static let centralHeader: UInt32 = 0x0201_4B50
    static let localHeader: UInt32 = 0x0403_4B50

    /// Local header offsets of all entries, in central directory order (libzip's index order).
    static func localHeaderOffsets(_ bytes: UnsafeRawBufferPointer) throws -> [Int] {
        let end = try findEndOfDirectory(bytes)
        var reader = ByteReader(bytes, offset: end + 10)
        var count = Int(try reader.u16())
        _ = try reader.u32()  // directory size
        var start = Int(try reader.u32())
        if count == 0xFFFF || start == 0xFFFF_FFFF, end >= 20 {
            var locator = ByteReader(bytes, offset: end - 20)
            if try locator.u32() == zip64Locator {
                _ = try locator.u32()
                let recordOffset = try locator.u64()
                guard recordOffset < UInt64(bytes.count) else {
                    throw ArchiveError(.malformed, location: "ZIP64 locator", expected: "a record offset inside the file", found: "\(recordOffset)")
                }
                var record = ByteReader(bytes, offset: Int(recordOffset))
                guard try record.u32() == zip64End else {
                    throw ArchiveError(.malformed, location: "ZIP64 end record", expected: "signature PK\\x06\\x06", found: "other bytes")
                }
                record.offset += 28  // record size, versions, disk numbers, entries on this disk
                let total = try record.u64()
                _ = try record.u64()  // directory size
                let directory = try record.u64()
                guard total <= UInt64(bytes.count), directory <= UInt64(bytes.count) else {
                    throw ArchiveError(.malformed, location: "ZIP64 end record", expected: "an entry count and offset within the file",
                                       found: "\(total) entries at \(directory)")
                }
                count = Int(total)
                start = Int(directory)
            }
        }
        var offsets: [Int] = []
        offsets.reserveCapacity(min(count, bytes.count / 46))
        var cursor = ByteReader(bytes, offset: start)
        for index in 0..<count {
            let at = cursor.offset
            guard try cursor.u32("a central directory record") == centralHeader else {
                throw ArchiveError(.malformed, location: "central directory record \(index) at byte \(at)",
                                   expected: "signature PK\\x01\\x02", found: "other bytes")
            }
            cursor.offset += 16
            let compressed = try cursor.u32()
            let size = try cursor.u32()
            let nameLength = Int(try cursor.u16())
            let extraLength = Int(try cursor.u16())
            let commentLength = Int(try cursor.u16())
            cursor.offset += 8
            var offset = UInt64(try cursor.u32())
            cursor.offset += nameLength
            let extra = try cursor.take(extraLength, "the extra field")
            try cursor.require(commentLength, "the file comment")
            cursor.offset += commentLength
            if offset == 0xFFFF_FFFF {
                offset = try zip64Offset(extra, skipSize: size == 0xFFFF_FFFF, skipCompressed: compressed == 0xFFFF_FFFF)
            }
            guard offset < UInt64(bytes.count) else {
                throw ArchiveError(.malformed, location: "central directory record \(index)", expected: "a local header inside the file", found: "offset \(offset)")
            }
            offsets.append(Int(offset))
        }
        return offsets
    }

    /// Where the data of a stored entry starts: after its local header, name and extra field.
    static func dataOffset(_ bytes: UnsafeRawBufferPointer, localHeader offset: Int, name: String) throws -> Int {
        var reader = ByteReader(bytes, offset: offset)
        guard try reader.u32("a local header") == localHeader else {
            throw ArchiveError(.malformed, location: "\(name) local header at byte \(offset)", expected: "signature PK\\x03\\x04", found: "other bytes")
        }
        reader.offset += 22
        let nameLength = Int(try reader.u16())
        let extraLength = Int(try reader.u16())
        return offset + 30 + nameLength + extraLength
    }

    private static func findEndOfDirectory(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        // The end record is 22 bytes plus a comment of at most 65,535 bytes.
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var position = bytes.count - 22
        while position >= lowest {
            if bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self).littleEndian == endOfDirectory { return position }
            position -= 1
        }
        throw ArchiveError(.malformed, location: "zip directory", expected: "an end-of-central-directory record", found: "none")
    }

    private static func zip64Offset(_ extra: UnsafeRawBufferPointer, skipSize: Bool, skipCompressed: Bool) throws -> UInt64 {
        var reader = ByteReader(extra)
        while reader.remaining >= 4 {
            let id = try reader.u16()
            let length = Int(try reader.u16())
            var field = ByteReader(try reader.take(length, "a ZIP64 extra field"))
            guard id == 0x0001 else { continue }
            if skipSize { _ = try field.u64() }
            if skipCompressed { _ = try field.u64() }
            return try field.u64("a ZIP64 local header offset")
        }
        throw ArchiveError(.malformed, location: "zip directory", expected: "a ZIP64 extra field with the local header offset", found: "none")
    }
}
