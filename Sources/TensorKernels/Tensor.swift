/// A dense float32 tensor in C order (NCHW for images).
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == data.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Elements per image of an NCHW tensor.
    public var imageSize: Int { shape.dropFirst().reduce(1, *) }

    /// The largest absolute value (0 for an empty tensor).
    public var maxMagnitude: Float { data.reduce(0) { max($0, abs($1)) } }
}
