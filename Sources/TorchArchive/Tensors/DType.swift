/// Element types of stored tensors, named as safetensors names them.
public enum DType: String, CaseIterable, Sendable, Codable {
    /// Booleans, one byte each.
    case bool = "BOOL"
    /// Unsigned 8-bit integers (also the element of untyped storages).
    case uint8 = "U8"
    /// Signed 8-bit integers.
    case int8 = "I8"
    /// Signed 16-bit integers.
    case int16 = "I16"
    /// Unsigned 16-bit integers.
    case uint16 = "U16"
    /// IEEE half precision.
    case float16 = "F16"
    /// bfloat16: float32 with a 7-bit mantissa.
    case bfloat16 = "BF16"
    /// Signed 32-bit integers.
    case int32 = "I32"
    /// Unsigned 32-bit integers.
    case uint32 = "U32"
    /// IEEE single precision.
    case float32 = "F32"
    /// IEEE double precision.
    case float64 = "F64"
    /// Signed 64-bit integers.
    case int64 = "I64"
    /// Unsigned 64-bit integers.
    case uint64 = "U64"
    /// Complex numbers of two float32.
    case complex64 = "C64"
    /// Complex numbers of two float64.
    case complex128 = "C128"
    /// OCP FP8 E4M3 (`torch.float8_e4m3fn`).
    case float8E4M3 = "F8_E4M3"
    /// FP8 E4M3 without negative zero or infinities (`float8_e4m3fnuz`).
    case float8E4M3FNUZ = "F8_E4M3FNUZ"
    /// OCP FP8 E5M2 (`torch.float8_e5m2`).
    case float8E5M2 = "F8_E5M2"
    /// FP8 E5M2 without negative zero or infinities (`float8_e5m2fnuz`).
    case float8E5M2FNUZ = "F8_E5M2FNUZ"
    /// An 8-bit power of two (`torch.float8_e8m0fnu`), the scale of MX formats.
    case float8E8M0 = "F8_E8M0"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E4M3, .float8E4M3FNUZ, .float8E5M2, .float8E5M2FNUZ, .float8E8M0: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .float64, .int64, .uint64, .complex64: 8
        case .complex128: 16
        }
    }

    /// Size of the unit that a byte swap reverses: complex numbers swap each half on its own.
    var swapUnit: Int {
        switch self {
        case .complex64: 4
        case .complex128: 8
        default: byteSize
        }
    }

    /// True for the real floating-point types.
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64, .float8E4M3, .float8E4M3FNUZ, .float8E5M2,
             .float8E5M2FNUZ, .float8E8M0: true
        default: false
        }
    }

    /// True for complex64 and complex128.
    public var isComplex: Bool { self == .complex64 || self == .complex128 }

    /// The PyTorch name, e.g. `float32`, as `inspect` shows it.
    public var torchName: String {
        switch self {
        case .bool: "bool"
        case .uint8: "uint8"
        case .int8: "int8"
        case .int16: "int16"
        case .uint16: "uint16"
        case .float16: "float16"
        case .bfloat16: "bfloat16"
        case .int32: "int32"
        case .uint32: "uint32"
        case .float32: "float32"
        case .float64: "float64"
        case .int64: "int64"
        case .uint64: "uint64"
        case .complex64: "complex64"
        case .complex128: "complex128"
        case .float8E4M3: "float8_e4m3fn"
        case .float8E4M3FNUZ: "float8_e4m3fnuz"
        case .float8E5M2: "float8_e5m2"
        case .float8E5M2FNUZ: "float8_e5m2fnuz"
        case .float8E8M0: "float8_e8m0fnu"
        }
    }

    /// The dtype of a typed storage class (`torch.FloatStorage` -> F32), as pickled by torch.save.
    public init?(storageClass name: String) {
        switch name {
        case "DoubleStorage": self = .float64
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        case "ComplexFloatStorage": self = .complex64
        case "ComplexDoubleStorage": self = .complex128
        default: return nil
        }
    }

    /// The dtype named by a `torch.<dtype>` global, as `_rebuild_tensor_v3` receives it.
    public init?(torchName name: String) {
        let aliases: [String: DType] = [
            "float": .float32, "double": .float64, "half": .float16, "long": .int64, "int": .int32,
            "short": .int16, "cfloat": .complex64, "cdouble": .complex128,
        ]
        if let alias = aliases[name] {
            self = alias
        } else if let match = DType.allCases.first(where: { $0.torchName == name }) {
            self = match
        } else {
            return nil
        }
    }

    /// The dtype of a safetensors header entry; complex128 has no safetensors name.
    public init?(safetensorsName name: String) {
        guard let value = DType(rawValue: name), value != .complex128 else { return nil }
        self = value
    }
}
