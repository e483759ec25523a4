import DANetSupport

/// A dense float32 tensor in C order (NCHW for images): the network's input and outputs.
public struct Tensor: Sendable, Equatable {
    /// Sizes of the dimensions, outermost first.
    public package(set) var shape: [Int]
    /// The elements in C order, as many as the product of `shape`.
    public package(set) var data: [Float]

    /// A tensor of `shape` holding `data`.
    /// - Throws: `ModelError.invalidInput` when a size is negative or `data` does not have exactly
    ///   as many elements as `shape` needs.
    public init(shape: [Int], data: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let count = elementCount(of: shape), count == data.count else {
            throw ModelError(.invalidInput, "expected \(elementCount(of: shape).map(String.init) ?? "a countable number of") "
                             + "values for a tensor of shape \(shapeText(shape)), found \(data.count)")
        }
        self.shape = shape
        self.data = data
    }

    /// For shapes the package computed itself.
    package init(checkedShape shape: [Int], data: [Float]) {
        self.shape = shape
        self.data = data
    }

    /// A tensor of `shape` filled with zeros.
    /// - Throws: `ModelError.invalidInput` for a negative size or one whose element count overflows.
    public init(zeros shape: [Int]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let count = elementCount(of: shape) else {
            throw ModelError(.invalidInput, "expected a shape of non-negative sizes whose product fits in memory, found \(shapeText(shape))")
        }
        self.init(checkedShape: shape, data: [Float](repeating: 0, count: count))
    }

    package init(zerosChecked shape: [Int]) {
        self.init(checkedShape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// Elements in all.
    public var count: Int { data.count }
    /// Dimensions.
    public var rank: Int { shape.count }

    /// Elements per image of an NCHW tensor.
    public var imageSize: Int { shape.dropFirst().reduce(1, *) }

    /// The largest absolute value (0 for an empty tensor).
    public var maxMagnitude: Float { data.reduce(0) { max($0, abs($1)) } }
}
