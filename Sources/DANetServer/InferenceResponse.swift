import Foundation
import NIOCore

/// An inference answer in the protocol's form: JSON alone, or (when any output is asked for in
/// binary) a JSON header followed by the raw tensors, its length in `Inference-Header-Content-Length`.
struct InferenceResponse {
    /// One output tensor, little-endian raw data in row-major order.
    struct Output {
        enum Values {
            case floats([Float])
            case bytes([UInt8])
        }

        let name: String
        let shape: [Int]
        let values: Values
        let binary: Bool

        var datatype: String {
            switch values {
            case .floats: "FP32"
            case .bytes: "UINT8"
            }
        }

        /// How many bytes the values take in binary.
        var byteCount: Int {
            switch values {
            case .floats(let floats): floats.count * 4
            case .bytes(let bytes): bytes.count
            }
        }

        /// Appends the values' bytes, little-endian as the protocol's binary data is.
        func writeRaw(to buffer: inout ByteBuffer) {
            switch values {
            case .floats(let floats):
                #if _endian(little)
                floats.withUnsafeBytes { _ = buffer.writeBytes($0) }
                #else
                for value in floats { buffer.writeInteger(value.bitPattern, endianness: .little) }
                #endif
            case .bytes(let bytes): buffer.writeBytes(bytes)
            }
        }

        /// The values as a JSON list; JSON has no NaN or infinity, so those are written as null.
        func appendJSON(to out: inout [UInt8]) {
            out.append(UInt8(ascii: "["))
            switch values {
            case .floats(let floats):
                for (i, value) in floats.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out += Array((value.isFinite ? value.description : "null").utf8)
                }
            case .bytes(let bytes):
                for (i, value) in bytes.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    out += Array(String(value).utf8)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    let model: String
    let id: String?
    let outputs: [Output]

    /// The body, and the JSON header's length when binary data follows it. The tensors are
    /// written into the answer's buffer directly: a logits tensor is megabytes.
    func encoded() -> (body: ByteBuffer, headerLength: Int?) {
        var out = Array("{\"model_name\":".utf8) + JSONText.string(model)
        if let id { out += Array(",\"id\":".utf8) + JSONText.string(id) }
        out += Array(",\"outputs\":[".utf8)
        for (i, output) in outputs.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"name\":".utf8) + JSONText.string(output.name)
            out += Array(",\"datatype\":\"\(output.datatype)\",\"shape\":[\(output.shape.map(String.init).joined(separator: ","))]".utf8)
            if output.binary {
                out += Array(",\"parameters\":{\"binary_data_size\":\(output.byteCount)}}".utf8)
            } else {
                out += Array(",\"data\":".utf8)
                output.appendJSON(to: &out)
                out.append(UInt8(ascii: "}"))
            }
        }
        out += Array("]}".utf8)
        let binary = outputs.filter(\.binary)
        var buffer = ByteBufferAllocator().buffer(capacity: out.count + binary.reduce(0) { $0 + $1.byteCount })
        buffer.writeBytes(out)
        guard !binary.isEmpty else { return (buffer, nil) }
        for output in binary { output.writeRaw(to: &buffer) }
        return (buffer, out.count)
    }
}

/// JSON text for the answers the server writes by hand (large tensors) or from plain values.
enum JSONText {
    /// `text` as a JSON string literal.
    static func string(_ text: String) -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])).map { Array($0.dropFirst().dropLast()) } ?? Array("\"\"".utf8)
    }

    /// `object` (dictionaries, lists, strings, numbers) as JSON with sorted keys.
    static func data(_ object: Any) -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])).map { Array($0) } ?? Array("{}".utf8)
    }
}
