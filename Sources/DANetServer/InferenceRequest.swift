import Foundation

/// An Open Inference Protocol (KServe v2) inference request, read from JSON alone or from a JSON
/// header followed by raw tensors (the binary-data extension, `Inference-Header-Content-Length`).
struct InferenceRequest {
    /// An input tensor: FP32 values, or BYTES elements (encoded images).
    struct Input {
        enum Content {
            case floats([Float])
            case elements([Data])
        }

        let name: String
        let datatype: String
        let shape: [Int]
        let content: Content
    }

    /// An output asked for, and whether it should come back as raw bytes.
    struct RequestedOutput {
        let name: String
        let binary: Bool
    }

    let id: String?
    let inputs: [Input]
    /// The outputs asked for; nil: every output the inputs give.
    let outputs: [RequestedOutput]?
    /// `parameters.binary_data_output`: every output as raw bytes unless it says otherwise.
    let binaryOutputs: Bool

    /// Reads `body`; `headerLength` is the `Inference-Header-Content-Length` value, when present.
    /// - Throws: `ServerError` 400 naming the field or input and what was expected and found.
    init(body: [UInt8], headerLength: Int?) throws {
        let jsonEnd = headerLength ?? body.count
        guard jsonEnd >= 0, jsonEnd <= body.count else {
            throw ServerError.badRequest("expected Inference-Header-Content-Length of at most the body's \(body.count) bytes, found \(jsonEnd)")
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body[0..<jsonEnd]))
        } catch {
            throw ServerError.badRequest("expected an inference request in JSON, found \(jsonEnd == 0 ? "an empty body" : "text that is not JSON")")
        }
        guard let object = parsed as? [String: Any] else { throw ServerError.badRequest("expected a JSON object, found \(Self.kind(of: parsed))") }
        id = object["id"] as? String
        let binaryOutputs = ((object["parameters"] as? [String: Any])?["binary_data_output"] as? Bool) ?? false
        self.binaryOutputs = binaryOutputs
        guard let inputs = object["inputs"] as? [[String: Any]], !inputs.isEmpty else {
            throw ServerError.badRequest("expected 'inputs', a list of tensors, found \(object["inputs"].map(Self.kind) ?? "none")")
        }
        var offset = jsonEnd
        self.inputs = try inputs.map { try Self.input($0, body: body, offset: &offset) }
        guard offset == body.count else {
            throw ServerError.badRequest("expected \(offset - jsonEnd) bytes of binary tensor data after the JSON, found \(body.count - jsonEnd)")
        }
        if let outputs = object["outputs"] {
            guard let list = outputs as? [[String: Any]] else { throw ServerError.badRequest("expected 'outputs' to be a list of objects") }
            self.outputs = try list.map { entry in
                guard let name = entry["name"] as? String else { throw ServerError.badRequest("expected a 'name' in each of 'outputs'") }
                let binary = ((entry["parameters"] as? [String: Any])?["binary_data"] as? Bool)
                return RequestedOutput(name: name, binary: binary ?? binaryOutputs)
            }
        } else {
            outputs = nil
        }
    }

    private static func input(_ entry: [String: Any], body: [UInt8], offset: inout Int) throws -> Input {
        guard let name = entry["name"] as? String else { throw ServerError.badRequest("expected a 'name' in each of 'inputs'") }
        guard let datatype = entry["datatype"] as? String else { throw ServerError.badRequest("input '\(name)': expected a 'datatype'") }
        guard let shape = (entry["shape"] as? [Any])?.map({ ($0 as? NSNumber)?.intValue ?? -1 }), shape.allSatisfy({ $0 >= 0 }) else {
            throw ServerError.badRequest("input '\(name)': expected 'shape', a list of sizes, found \(entry["shape"].map(kind) ?? "none")")
        }
        guard let count = shape.reduce(Int?(1), { total, size in total.flatMap { $0.multipliedReportingOverflow(by: size) }.flatMap { $0.overflow ? nil : $0.partialValue } }),
              count <= 1 << 32 else {
            throw ServerError.badRequest("input '\(name)': expected a shape of at most 2^32 elements, found \(shape)")
        }
        let binarySize = (entry["parameters"] as? [String: Any])?["binary_data_size"].flatMap { ($0 as? NSNumber)?.intValue }
        switch (datatype, binarySize) {
        case ("FP32", let size?):
            guard size == count * 4, size <= body.count - offset else {
                throw ServerError.badRequest("input '\(name)': expected \(count * 4) bytes of FP32 data for shape \(shape), found binary_data_size \(size) with \(body.count - offset) bytes left")
            }
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { out in body.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + size)])) } }
            offset += size
            #if !_endian(little)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            return Input(name: name, datatype: datatype, shape: shape, content: .floats(values))
        case ("BYTES", let size?):
            guard size >= 0, size <= body.count - offset else {
                throw ServerError.badRequest("input '\(name)': expected binary_data_size within the \(body.count - offset) bytes left, found \(size)")
            }
            var elements: [Data] = []
            var at = offset
            while at < offset + size {
                guard offset + size - at >= 4 else { throw ServerError.badRequest("input '\(name)': expected a 4-byte length before each BYTES element") }
                let length = Int(body[at]) | Int(body[at + 1]) << 8 | Int(body[at + 2]) << 16 | Int(body[at + 3]) << 24
                guard length <= offset + size - at - 4 else {
                    throw ServerError.badRequest("input '\(name)': BYTES element \(elements.count) claims \(length) bytes, \(offset + size - at - 4) are left")
                }
                elements.append(Data(body[(at + 4)..<(at + 4 + length)]))
                at += 4 + length
            }
            offset += size
            return try checkedElements(name, datatype, shape, count, elements)
        case ("FP32", nil):
            var values: [Float] = []
            values.reserveCapacity(count)
            try flatten(entry["data"], name: name) { item in
                guard let number = item as? NSNumber else { throw ServerError.badRequest("input '\(name)': expected numbers in 'data', found \(kind(of: item))") }
                values.append(number.floatValue)
            }
            guard values.count == count else { throw ServerError.badRequest("input '\(name)': expected \(count) values for shape \(shape), found \(values.count)") }
            return Input(name: name, datatype: datatype, shape: shape, content: .floats(values))
        case ("BYTES", nil):
            var elements: [Data] = []
            try flatten(entry["data"], name: name) { item in
                // JSON cannot carry raw bytes: an encoded image comes as base64, a string or {"b64": ...}.
                let text = (item as? String) ?? ((item as? [String: Any])?["b64"] as? String)
                guard let text, let bytes = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
                    throw ServerError.badRequest("input '\(name)': expected base64 strings (or {\"b64\": ...}) in 'data', found \(kind(of: item))")
                }
                elements.append(bytes)
            }
            return try checkedElements(name, datatype, shape, count, elements)
        default:
            throw ServerError.badRequest("input '\(name)': expected datatype FP32 (a tensor) or BYTES (encoded images), found \(datatype)")
        }
    }

    private static func checkedElements(_ name: String, _ datatype: String, _ shape: [Int], _ count: Int, _ elements: [Data]) throws -> Input {
        guard elements.count == count else {
            throw ServerError.badRequest("input '\(name)': expected \(count) BYTES elements for shape \(shape), found \(elements.count)")
        }
        return Input(name: name, datatype: datatype, shape: shape, content: .elements(elements))
    }

    /// Calls `each` for every leaf of `data`, nested lists flattened in row-major order.
    private static func flatten(_ data: Any?, name: String, _ each: (Any) throws -> Void) throws {
        guard let data else { throw ServerError.badRequest("input '\(name)': expected 'data' or parameters.binary_data_size, found neither") }
        if let list = data as? [Any] {
            for item in list { try flatten(item, name: name, each) }
        } else {
            try each(data)
        }
    }

    static func kind(of value: Any) -> String {
        switch value {
        case is String: "a string"
        case is [Any]: "a list"
        case is [String: Any]: "an object"
        case is NSNull: "null"
        case is NSNumber: "a number"
        default: "another value"
        }
    }
}
