/// Reads the legacy stream format (PyTorch before 1.6, or `_use_new_zipfile_serialization=False`).
enum LegacyCheckpointReader {
    /// `0x1950a86a20f9469cfc6c` as LONG1 digits (little-endian), the first pickle of a legacy file.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// Magic number, protocol version, sys_info, the main pickle, the sorted storage keys, then for
    /// each key an int64 element count and the raw elements.
    static func read(_ file: MappedFile, limits: ArchiveLimits, strict: Bool = false) throws -> Checkpoint {
        let path = file.path
        return try file.withBytes { bytes in
            var reader = ByteReader(bytes)
            let arena = PickleArena()
            let header = TorchGlobalResolver(record: "header pickles", strict: strict) { key, _, _, _ in
                throw ArchiveError(.malformed, location: "storage '\(key)'", expected: "no storages in the header pickles", found: "a storage")
            }
            var plain = PickleMachine(limits: limits, resolver: header, arena: arena)

            let magic = try tagging(file: path, location: "magic number") { try plain.run(&reader) }
            guard case .bigInt(let digits) = magic, digits == LegacyCheckpointReader.magic else {
                throw ArchiveError(.unsupported, file: path, location: "first pickle",
                                   expected: "the PyTorch legacy magic number 0x1950a86a20f9469cfc6c",
                                   found: "a plain pickle holding \(ObjectTree.summary(magic))")
            }
            let version = try tagging(file: path, location: "protocol version") { try plain.run(&reader) }
            guard case .int(1001) = version else {
                throw ArchiveError(.unsupported, file: path, location: "protocol version", expected: "1001", found: ObjectTree.summary(version))
            }
            // sys_info records the writer's byte order, but PyTorch writes legacy storages
            // little-endian on every machine (THPStorage_writeFileRaw), so it changes nothing here.
            _ = try tagging(file: path, location: "sys_info") { try plain.run(&reader) }

            let resolver = TorchGlobalResolver(record: "main pickle", strict: strict) { key, dtype, count, location in
                try TorchStorage(key: key, dtype: dtype, count: count, location: location)
            }
            var main = PickleMachine(limits: limits, resolver: resolver, arena: arena)
            let root = try tagging(file: path, location: "main pickle") { try main.run(&reader) }
            let keyList = try tagging(file: path, location: "storage key list") { try plain.run(&reader) }
            guard let keys = keyList.sequenceItems?.compactMap(\.keyString), keys.count == keyList.sequenceItems?.count else {
                throw ArchiveError(.malformed, file: path, location: "storage key list", expected: "a list of storage keys", found: keyList.typeName)
            }

            var attached: Set<String> = []
            for key in keys {
                let location = "storage '\(key)' at byte \(reader.offset)"
                guard let storage = resolver.storages[key] else {
                    throw ArchiveError(.malformed, file: path, location: location, expected: "a storage the main pickle uses", found: "an unused key")
                }
                let count = try tagging(file: path, location: location) { try reader.u64("an element count") }
                guard count == UInt64(storage.count) else {
                    throw ArchiveError(.malformed, file: path, location: location,
                                       expected: "\(storage.count) elements as the pickle declared", found: "\(count)")
                }
                try tagging(file: path, location: location) {
                    try reader.require(storage.byteCount, "\(storage.count) \(storage.dtype.torchName) elements")
                }
                storage.attach(.region(ByteRegion(file, reader.offset..<(reader.offset + storage.byteCount))), bigEndian: false)
                reader.offset += storage.byteCount
                attached.insert(key)
            }
            for key in resolver.storageOrder where !attached.contains(key) {
                throw ArchiveError(.missing, file: path, location: "storage '\(key)'", expected: "its data after the key list", found: "no data")
            }

            var tree = ObjectTree(limits: limits, fileSize: file.count)
            try tagging(file: path) { try tree.collect(root, prefix: "") }
            return Checkpoint(path: path, format: .legacy, pickleProtocol: main.protocolVersion, fileSize: file.count,
                              isBigEndian: false, root: root, tensors: tree.tensors, opaqueObjects: tree.opaqueObjects,
                              globals: header.references + resolver.references)
        }
    }
}
