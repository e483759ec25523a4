/// Entry points for the coverage-guided fuzz targets in tools/fuzzing (`@_spi(Fuzzing) import
/// TorchArchive`): each runs one reader over bytes the fuzzer chose and reads everything the
/// reader hands out, so that every path a user's load takes is exercised. Errors are the expected
/// outcome; a crash, a hang or an allocation the bounds should have stopped is a finding.
@_spi(Fuzzing)
public enum FuzzEntry {
    /// The readers a target can aim at directly, past the format sniffing.
    public enum Reader: Sendable {
        case zip, legacy, safetensors, sniffed
    }

    /// Runs the pickle machine with the torch resolver over `bytes` (one pickle, storages declared
    /// by persistent ids but given no data), then names every value as a load would.
    public static func unpickle(_ bytes: UnsafeRawBufferPointer, limits: ArchiveLimits = .standard) throws {
        var reader = ByteReader(bytes)
        let resolver = TorchGlobalResolver { key, dtype, count, location in
            try TorchStorage(key: key, dtype: dtype, count: count, location: location)
        }
        var machine = PickleMachine(limits: limits, resolver: resolver, arena: PickleArena())
        let root = try machine.run(&reader)
        var tree = ObjectTree(limits: limits, fileSize: bytes.count)
        try tree.collect(root, prefix: "")
        _ = ObjectTree.summary(root)
    }

    /// Opens `path` with one reader and reads every tensor and constant as float32.
    public static func load(_ path: String, reader: Reader, limits: ArchiveLimits = .standard) throws {
        let checkpoint: Checkpoint
        switch reader {
        case .sniffed: checkpoint = try Checkpoint.open(path, limits: limits)
        case .zip: checkpoint = try ZipCheckpointReader.read(try MappedFile(path: path), limits: limits)
        case .legacy: checkpoint = try LegacyCheckpointReader.read(try MappedFile(path: path), limits: limits)
        case .safetensors: checkpoint = try SafetensorsReader.read(try MappedFile(path: path), limits: limits)
        }
        _ = try checkpoint.stateDict(stripPrefix: "module.")
        for entry in checkpoint.tensors + checkpoint.constants where !entry.tensor.dtype.isComplex {
            _ = try entry.tensor.floats()
        }
    }
}
