import DANetSupport

/// A tensor as a checkpoint describes it: a view (dtype, shape, strides, offset) of a storage.
///
/// Creating one checks that every element it can address lies inside its storage, so reading it
/// later can never run past the data, whatever the file declared.
public struct StoredTensor: Sendable {
    /// The element type.
    public let dtype: DType
    /// Sizes of the dimensions, outermost first.
    public let shape: [Int]
    /// Strides in elements, as PyTorch counts them.
    public let strides: [Int]
    /// Offset of element [0, 0, ...] in elements of `dtype` from the storage start.
    public let storageOffset: Int
    /// The storage the tensor views.
    public let storage: TorchStorage
    /// Whether it was saved as a parameter that requires gradients.
    public internal(set) var requiresGrad: Bool
    /// Elements in the tensor (the product of `shape`).
    public let elementCount: Int

    /// Bytes of the elements in `dtype`.
    public var byteCount: Int { elementCount * dtype.byteSize }
    /// Dimensions.
    public var rank: Int { shape.count }

    /// True when the elements lie in C order with no gaps, so they can be copied in one piece.
    public var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// - Throws: `ArchiveError` when a size or stride is negative, the element count overflows, the
    ///   dtype does not fit the storage, or the view reaches outside the storage.
    init(storage: TorchStorage, dtype: DType, storageOffset: Int, shape: [Int], strides: [Int], requiresGrad: Bool = false) throws {
        func fail(_ kind: ArchiveError.Kind, _ expected: String, _ found: String) -> ArchiveError {
            ArchiveError(kind, expected: expected, found: found)
        }
        let described = "a tensor of shape \(shape) with strides \(strides) at offset \(storageOffset)"
        guard shape.count == strides.count else {
            throw fail(.malformed, "as many strides as dimensions", "\(described)")
        }
        guard shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }), storageOffset >= 0 else {
            throw fail(.malformed, "non-negative sizes, strides and offset", described)
        }
        guard let count = DANetSupport.elementCount(of: shape) else {
            throw fail(.limitExceeded, "an element count that fits in 64 bits", "shape \(shape)")
        }
        // A stride-0 view of one element can claim any count; its size in bytes must still be a number.
        guard !count.multipliedReportingOverflow(by: dtype.byteSize).overflow else {
            throw fail(.limitExceeded, "a size in bytes that fits in 64 bits", "\(count) \(dtype.torchName) elements")
        }
        if storage.dtype != dtype && storage.dtype != .uint8 {
            throw fail(.malformed, "a \(dtype.torchName) storage for a \(dtype.torchName) tensor", "storage '\(storage.key)' of \(storage.dtype.torchName)")
        }
        if count > 0 {
            // The last element the view can address, in elements, must lie inside the storage.
            var last = storageOffset
            for (size, stride) in zip(shape, strides) {
                let (step, overflowA) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflowB) = last.addingReportingOverflow(step)
                guard !overflowA, !overflowB else { throw fail(.limitExceeded, "an extent that fits in 64 bits", described) }
                last = sum
            }
            let capacity = storage.byteCount / dtype.byteSize
            guard last < capacity else {
                throw fail(.malformed, "\(described) inside storage '\(storage.key)' of \(capacity) \(dtype.torchName) elements",
                           "it reaches element \(last)")
            }
        }
        self.storage = storage
        self.dtype = dtype
        self.storageOffset = storageOffset
        self.shape = shape
        self.strides = strides
        self.requiresGrad = requiresGrad
        self.elementCount = count
    }

    /// Contiguous C-order strides for `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= max(shape[axis], 1)
        }
        return strides
    }
}

/// A tensor with the dotted name it has in the checkpoint.
public struct NamedTensor: Sendable {
    /// The dotted name, e.g. `pretrained.conv1.weight`.
    public var name: String
    /// The tensor.
    public var tensor: StoredTensor

    /// `tensor` under `name`.
    public init(name: String, tensor: StoredTensor) {
        self.name = name
        self.tensor = tensor
    }
}
