import DANetSupport
import Foundation

/// Writes safetensors files that Python's `safetensors`, candle and MLX read.
///
/// The file appears at its path only when complete: it is written to a temporary file in the same
/// folder and renamed into place, so a failure leaves any earlier file untouched.
public enum SafetensorsWriter {
    /// One tensor to write; `bytes` yields its elements in C order, little-endian, `dtype`-typed.
    public struct Item: Sendable {
        /// The tensor's name in the file.
        public let name: String
        /// The element type written.
        public let dtype: DType
        /// Sizes of the dimensions.
        public let shape: [Int]
        /// Produces the elements when the writer gets to this tensor, so that only one tensor's
        /// bytes are in memory at a time.
        public let bytes: @Sendable () throws -> [UInt8]

        /// A tensor to write.
        public init(name: String, dtype: DType, shape: [Int], bytes: @escaping @Sendable () throws -> [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        /// Bytes of the tensor, or nil for a negative size or a count that overflows.
        public var byteCount: Int? {
            guard shape.allSatisfy({ $0 >= 0 }), let count = elementCount(of: shape) else { return nil }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            return overflow ? nil : bytes
        }
    }

    /// Writes `items` and `metadata` to `path`.
    /// - Parameters:
    ///   - items: the tensors, with unique names.
    ///   - metadata: the header's `__metadata__` strings.
    ///   - url: the file to write; replaced only once the new file is complete.
    ///   - progress: called after each tensor with (tensors written, total).
    /// - Throws: `ArchiveError` for duplicate names, dtypes safetensors lacks, a tensor whose bytes
    ///   do not match its shape, or a failed write; `path` is then left as it was.
    public static func write(_ items: [Item], metadata: [String: String] = [:], to url: URL,
                             progress: ((Int, Int) -> Void)? = nil) throws {
        try write(items, metadata: metadata, to: url.displayPath, progress: progress)
    }

    /// Writes to `url` with the data buffer starting at a multiple of `dataAlignment` bytes in the
    /// file (the JSON header padded with spaces, as the format allows), so that a reader mapping the
    /// file finds tensors of sizes that are multiples of it aligned too.
    package static func write(_ items: [Item], metadata: [String: String], to url: URL, dataAlignment: Int,
                              progress: ((Int, Int) -> Void)? = nil) throws {
        try write(items, metadata: metadata, to: url.displayPath, dataAlignment: dataAlignment, progress: progress)
    }

    /// Writes to `path`; see `write(_:metadata:to:progress:)`.
    package static func write(_ items: [Item], metadata: [String: String] = [:], to path: String,
                              dataAlignment: Int = 8, progress: ((Int, Int) -> Void)? = nil) throws {
        var names: Set<String> = []
        for item in items {
            guard names.insert(item.name).inserted else {
                throw ArchiveError(.malformed, file: path, location: "tensor '\(item.name)'", expected: "unique tensor names", found: "a duplicate")
            }
            guard item.byteCount != nil else {
                throw ArchiveError(.malformed, file: path, location: "tensor '\(item.name)'", expected: "a shape of non-negative sizes that fits in memory",
                                   found: "\(item.shape)")
            }
            guard DType(safetensorsName: item.dtype.rawValue) != nil else {
                throw ArchiveError(.unsupported, file: path, location: "tensor '\(item.name)'", expected: "a dtype safetensors has", found: item.dtype.torchName)
            }
        }
        // The reference writer's order: larger elements first (keeps every tensor aligned), then by name.
        let ordered = items.sorted { ($1.dtype.byteSize, $0.name) < ($0.dtype.byteSize, $1.name) }
        var header = "{"
        if !metadata.isEmpty {
            header += "\"__metadata__\":{" + metadata.sorted { $0.key < $1.key }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }.joined(separator: ",") + "},"
        }
        var offset = 0
        header += ordered.map { item in
            let begin = offset
            offset += item.byteCount!  // checked above
            let shape = item.shape.map(String.init).joined(separator: ",")
            return "\(jsonString(item.name)):{\"dtype\":\"\(item.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(offset)]}"
        }.joined(separator: ",")
        if header.hasSuffix(",") { header.removeLast() }
        header += "}"
        var headerBytes = Array(header.utf8)
        // The data starts after the 8-byte length and the header.
        while (8 + headerBytes.count) % max(8, dataAlignment) != 0 { headerBytes.append(0x20) }

        let output = try AtomicFile(destination: path)
        var length = UInt64(headerBytes.count).littleEndian
        try withUnsafeBytes(of: &length) { try output.write($0) }
        try headerBytes.withUnsafeBytes { try output.write($0) }
        for (index, item) in ordered.enumerated() {
            let bytes = try item.bytes()
            guard bytes.count == item.byteCount else {
                throw ArchiveError(.malformed, file: path, location: "tensor '\(item.name)'",
                                   expected: "\(item.byteCount!) bytes for \(item.dtype.rawValue) \(item.shape)", found: "\(bytes.count)")
            }
            try bytes.withUnsafeBytes { try output.write($0) }
            progress?(index + 1, ordered.count)
        }
        try output.commit()
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

extension StoredTensor {
    /// The elements in C order as `target` (little-endian). Floating-point tensors convert between
    /// F32, F16 and BF16 with round-to-nearest-even, as PyTorch's `.to()` does; any other change
    /// of dtype is refused.
    public func bytes(as target: DType) throws -> [UInt8] {
        if target == dtype { return try contiguousBytes() }
        guard dtype.isFloatingPoint, [.float32, .float16, .bfloat16].contains(target) else {
            throw ArchiveError(.unsupported, location: "storage '\(storage.key)'",
                               expected: "a floating-point tensor to convert to \(target.torchName)", found: dtype.torchName)
        }
        let values = try floats()
        switch target {
        case .float32:
            return values.withUnsafeBytes { Array($0) }
        case .float16:
            return values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
        default:
            return values.map { StoredTensor.bfloat16Bits($0).littleEndian }.withUnsafeBytes { Array($0) }
        }
    }

    /// Float32 to BFloat16 bits, rounding to nearest even; NaN stays a quiet NaN.
    static func bfloat16Bits(_ value: Float) -> UInt16 {
        guard !value.isNaN else { return 0x7FC0 }
        let bits = value.bitPattern
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}
