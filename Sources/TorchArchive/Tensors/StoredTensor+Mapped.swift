/// Float32 elements read in place from a memory-mapped file, which stays mapped for as long as
/// this value (or a copy of `owner`) lives: a loaded model can run on a file's bytes without
/// copying them.
package struct MappedFloats: @unchecked Sendable {
    // The map is read-only and immutable; `owner` keeps it alive.
    package let pointer: UnsafePointer<Float>
    package let count: Int
    /// What keeps `pointer` valid: hold it as long as the floats are used.
    package let owner: AnyObject

    /// Floats at `pointer`, valid while `owner` lives.
    package init(pointer: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.pointer = pointer
        self.count = count
        self.owner = owner
    }
}

extension StoredTensor {
    /// The elements in place, when the file holds them as the host reads float32 (little-endian,
    /// contiguous, 4-byte aligned) in a memory-mapped region; nil otherwise (read them with
    /// `floats()`). The pages are asked for ahead (`MADV_WILLNEED`), not read.
    package func mappedFloats() throws -> MappedFloats? {
        guard dtype == .float32, let bytes = try mappedBytes() else { return nil }
        return MappedFloats(pointer: bytes.pointer.assumingMemoryBound(to: Float.self), count: elementCount, owner: bytes.owner)
    }
}

/// A tensor's bytes read in place from a memory-mapped file, in its own dtype (little-endian),
/// valid while `owner` lives.
package struct MappedBytes: @unchecked Sendable {
    // The map is read-only and immutable; `owner` keeps it alive.
    package let pointer: UnsafeRawPointer
    package let byteCount: Int
    /// What keeps `pointer` valid.
    package let owner: AnyObject

    package init(pointer: UnsafeRawPointer, byteCount: Int, owner: AnyObject) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.owner = owner
    }
}

extension StoredTensor {
    /// The elements in place, in the tensor's dtype, when the file holds them contiguous,
    /// little-endian and aligned to the element size in a memory-mapped region; nil otherwise
    /// (read them with `contiguousBytes()`). The pages are asked for ahead, not read.
    package func mappedBytes() throws -> MappedBytes? {
        guard isContiguous, !storage.bigEndian || dtype.byteSize == 1, 1.littleEndian == 1 else { return nil }
        let region = try storage.bytes()
        guard case .mapped(let file, let range) = region.backing else { return nil }
        let start = range.lowerBound + storageOffset * dtype.byteSize
        return file.withBytes(in: start..<(start + byteCount)) { bytes -> MappedBytes? in
            guard let base = bytes.baseAddress, bytes.count == byteCount, Int(bitPattern: base) % dtype.byteSize == 0 else {
                return nil
            }
            file.adviseWillNeed(start..<(start + byteCount))
            return MappedBytes(pointer: base, byteCount: byteCount, owner: file)
        }
    }
}
