import Synchronization

/// One storage of a checkpoint: a flat run of elements that tensors view with offsets and strides.
///
/// Several tensors may share a storage (views, slices, tied weights); the loader hands out one
/// `TorchStorage` per key so that sharing stays visible. The bytes are attached by the archive
/// reader before the load returns and are only read when a tensor is read.
public final class TorchStorage: @unchecked Sendable {
    /// The storage's key in the checkpoint (its record name in a zip archive).
    public let key: String
    /// Element type of the storage (`U8` for `torch.UntypedStorage`, whose count is in bytes).
    public let dtype: DType
    /// Elements of `dtype`.
    public let count: Int
    /// The device it was saved from, e.g. `cpu` or `cuda:0`; tensors are read to the CPU.
    public let location: String
    /// Bytes needed for `count` elements; checked for overflow when the storage is created.
    public let byteCount: Int

    // Written once by the archive reader while the load runs single-threaded; read-only afterwards.
    private(set) var source: StorageSource?
    private(set) var bigEndian = false

    init(key: String, dtype: DType, count: Int, location: String) throws {
        guard count >= 0 else {
            throw ArchiveError(.malformed, location: "storage '\(key)'", expected: "a non-negative element count", found: "\(count)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw ArchiveError(.limitExceeded, location: "storage '\(key)'", expected: "an element count whose size fits in memory", found: "\(count) \(dtype.torchName) elements")
        }
        self.key = key
        self.dtype = dtype
        self.count = count
        self.location = location
        self.byteCount = bytes
    }

    func attach(_ source: StorageSource, bigEndian: Bool) {
        self.source = source
        self.bigEndian = bigEndian
    }

    /// Drops the storage's pages of a memory-mapped file from the resident set once they have been
    /// copied; reading them again still works (from the file). Storages held in memory stay.
    public func releasePages() {
        switch source {
        case .region(let region)?: region.releasePages()
        case .view(let base, _)?: base.releasePages()
        case .inflated?, nil: return
        }
    }

    /// The storage's bytes, in the file's byte order.
    /// - Throws: `ArchiveError` if the bytes cannot be produced (a deflated entry that fails to inflate).
    package func bytes() throws -> ByteRegion {
        guard let source else {
            throw ArchiveError(.missing, location: "storage '\(key)'", expected: "storage data", found: "none attached")
        }
        let region = try source.region()
        return region.count == byteCount ? region : region.slice(0..<byteCount)
    }
}

/// Where a storage's bytes come from.
enum StorageSource: Sendable {
    /// Bytes in the mapped file (stored zip entries, legacy files, safetensors) or in memory.
    case region(ByteRegion)
    /// A deflated zip entry, inflated on first use.
    case inflated(LazyBytes)
    /// A legacy `view_metadata` view: a byte range of another storage.
    case view(TorchStorage, byteOffset: Int)

    func region() throws -> ByteRegion {
        switch self {
        case .region(let region): return region
        case .inflated(let lazy): return try lazy.region()
        case .view(let base, let byteOffset):
            let whole = try base.bytes()
            return whole.slice(byteOffset..<whole.count)
        }
    }
}

/// Bytes produced once, on first request, and kept.
final class LazyBytes: Sendable {
    private let produce: @Sendable () throws -> [UInt8]
    private let cache = Mutex<ByteRegion?>(nil)

    init(_ produce: @escaping @Sendable () throws -> [UInt8]) {
        self.produce = produce
    }

    func region() throws -> ByteRegion {
        try cache.withLock { cached in
            if let cached { return cached }
            let region = ByteRegion(try produce())
            cached = region
            return region
        }
    }
}
