/// Reads a torch.save zip archive (PyTorch 1.6 and later) or a TorchScript archive (`torch.jit.save`).
///
/// The records sit under one top folder named after the file the archive was saved to, so the
/// folder is taken from the archive, never assumed to be `archive/`.
enum ZipCheckpointReader {
    static func read(_ file: MappedFile, limits: ArchiveLimits, strict: Bool = false) throws -> Checkpoint {
        let path = file.path
        let archive = try ZipArchive(file: file, limits: limits)
        guard let first = archive.entries.first else {
            throw ArchiveError(.missing, file: path, location: "zip directory", expected: "a data.pkl record", found: "an empty archive")
        }
        guard let slash = first.name.firstIndex(of: "/") else {
            throw ArchiveError(.malformed, file: path, location: first.name, expected: "records under one top folder", found: "a record at the top")
        }
        let prefix = String(first.name[...slash])
        guard let dataRecord = archive[prefix + "data.pkl"] else {
            let names = archive.entries.prefix(4).map(\.name).joined(separator: ", ")
            throw ArchiveError(.missing, file: path, location: prefix + "data.pkl",
                               expected: "a PyTorch zip archive with a data.pkl record", found: "a zip holding \(names)")
        }
        let isTorchScript = TorchScriptArchive.isTorchScript(archive, folder: prefix)
        let isBigEndian = try byteOrderIsBig(archive, record: prefix + "byteorder")

        let arena = PickleArena()
        func storages(in folder: String) -> TorchGlobalResolver {
            TorchGlobalResolver(record: prefix + (folder == "data" ? "data.pkl" : "constants.pkl"), strict: strict) { key, dtype, count, location in
                let record = prefix + folder + "/" + key
                let storage = try TorchStorage(key: key, dtype: dtype, count: count, location: location)
                guard let entry = archive[record] else {
                    throw ArchiveError(.missing, location: record, expected: "the record of storage '\(key)'", found: "no such record")
                }
                guard entry.size >= storage.byteCount else {
                    throw ArchiveError(.truncated, location: record,
                                       expected: "\(storage.byteCount) bytes for \(count) \(dtype.torchName) elements",
                                       found: "\(entry.size) bytes")
                }
                if let offset = entry.dataOffset {
                    storage.attach(.region(ByteRegion(file, offset..<(offset + storage.byteCount))), bigEndian: isBigEndian)
                } else {
                    try archive.checkInflateRatio(entry)  // refuse a bomb now, not when a tensor is read
                    storage.attach(.inflated(LazyBytes { try archive.inflate(entry) }), bigEndian: isBigEndian)
                }
                return storage
            }
        }

        let resolver = storages(in: "data")
        let (root, pickleProtocol) = try Checkpoint.unpickle(try archive.region(dataRecord), record: dataRecord.name,
                                                  file: path, limits: limits, resolver: resolver, arena: arena)
        var tree = ObjectTree(limits: limits, fileSize: file.count)
        try tagging(file: path) { try tree.collect(root, prefix: "") }

        let constantsResolver = storages(in: "constants")
        let constants = isTorchScript
            ? try TorchScriptArchive.constants(archive, folder: prefix, file: path, limits: limits, after: tree,
                                               resolver: constantsResolver, arena: arena)
            : []
        return Checkpoint(path: path, format: isTorchScript ? .torchScript : .zip, pickleProtocol: pickleProtocol,
                          fileSize: file.count, isBigEndian: isBigEndian, root: root, tensors: tree.tensors,
                          constants: constants, opaqueObjects: tree.opaqueObjects,
                          globals: resolver.references + constantsResolver.references)
    }

    /// The `byteorder` record says "little" or "big"; archives older than it are little-endian.
    private static func byteOrderIsBig(_ archive: ZipArchive, record: String) throws -> Bool {
        guard let entry = archive[record] else { return false }
        guard entry.size <= 16 else {
            throw ArchiveError(.malformed, file: archive.file.path, location: record, expected: "'little' or 'big'", found: "\(entry.size) bytes")
        }
        let text = try archive.region(entry).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        switch text.filter({ !$0.isWhitespace }) {
        case "little": return false
        case "big": return true
        default:
            throw ArchiveError(.malformed, file: archive.file.path, location: record, expected: "'little' or 'big'", found: "'\(text)'")
        }
    }
}
