import Foundation
import NIOCore
import Testing
@testable import DANetServer

/// The protocol's request and answer forms, without a network: JSON and binary tensors, BYTES
/// elements, and the errors a malformed request gets.
@Suite("Inference protocol")
struct InferenceProtocolTests {
    static func binaryBody(_ header: String, _ payload: [UInt8]) -> (body: [UInt8], headerLength: Int) {
        (Array(header.utf8) + payload, header.utf8.count)
    }

    static func littleEndian(_ floats: [Float]) -> [UInt8] {
        floats.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    @Test("FP32 in JSON, nested lists flattened in row-major order")
    func jsonFloats() throws {
        let json = #"{"id":"r1","inputs":[{"name":"input","datatype":"FP32","shape":[1,3,1,2],"data":[[[[1,2]],[[3,4]],[[5.5,-6]]]]}]}"#
        let request = try InferenceRequest(body: Array(json.utf8), headerLength: nil)
        #expect(request.id == "r1")
        #expect(request.outputs == nil)
        guard case .floats(let values) = request.inputs[0].content else { Issue.record("expected floats"); return }
        #expect(values == [1, 2, 3, 4, 5.5, -6])
        #expect(request.inputs[0].shape == [1, 3, 1, 2])
    }

    @Test("FP32 and BYTES in binary after the JSON header")
    func binaryInputs() throws {
        let floats: [Float] = [0.25, -1, 3e-8, 7]
        let images: [[UInt8]] = [[1, 2, 3], [], [9]]
        let bytes = images.flatMap { image in withUnsafeBytes(of: UInt32(image.count).littleEndian) { Array($0) } + image }
        let header = #"{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,2,2],"parameters":{"binary_data_size":16}},"#
            + #"{"name":"image","datatype":"BYTES","shape":[3],"parameters":{"binary_data_size":\#(bytes.count)}}],"#
            + #""outputs":[{"name":"logits","parameters":{"binary_data":true}}]}"#
        let (body, length) = Self.binaryBody(header, Self.littleEndian(floats) + bytes)
        let request = try InferenceRequest(body: body, headerLength: length)
        guard case .floats(let values) = request.inputs[0].content, case .elements(let elements) = request.inputs[1].content else {
            Issue.record("expected floats, then elements")
            return
        }
        #expect(values == floats)
        #expect(elements.map { [UInt8]($0) } == images)
        #expect(request.outputs?.first?.binary == true)
    }

    @Test("BYTES in JSON as base64, plain or as {\"b64\": ...}")
    func jsonBytes() throws {
        let json = #"{"inputs":[{"name":"image","datatype":"BYTES","shape":[2],"data":["AQID",{"b64":"/w=="}]}]}"#
        let request = try InferenceRequest(body: Array(json.utf8), headerLength: nil)
        guard case .elements(let elements) = request.inputs[0].content else { Issue.record("expected elements"); return }
        #expect(elements.map { [UInt8]($0) } == [[1, 2, 3], [255]])
    }

    @Test("Malformed requests: one line naming what was expected and found",
          arguments: [
              (#"{"inputs":[]}"#, nil, "expected 'inputs'"),
              (#"[1]"#, nil, "expected a JSON object, found a list"),
              (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[2],"data":[1,"x"]}]}"#, nil, "expected numbers in 'data', found a string"),
              (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[-1],"data":[1]}]}"#, nil, "expected 'shape', a list of sizes"),
              (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[4294967296,2]}]}"#, nil, "at most 2^32 elements"),
              (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[2]}]}"#, nil, "found neither"),
              (#"{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["***"]}]}"#, nil, "expected base64 strings"),
              (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":[1]}]}xx"#, 1000, "at most the body's"),
              (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"data":[1]}]}"#, 10, "text that is not JSON"),
          ] as [(String, Int?, String)])
    func malformed(_ json: String, _ headerLength: Int?, _ phrase: String) {
        do {
            _ = try InferenceRequest(body: Array(json.utf8), headerLength: headerLength)
            Issue.record("expected an error containing '\(phrase)'")
        } catch let error as ServerError {
            #expect(error.status == 400)
            #expect(error.description.contains(phrase), "\(error.description)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("expected a ServerError, found \(error)")
        }
    }

    @Test("Binary data that does not add up: too short, left over, a BYTES length past the end")
    func binaryMismatch() {
        let cases: [(String, [UInt8], String)] = [
            (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}"#, [0, 0, 0, 0], "4 bytes left"),
            (#"{"inputs":[{"name":"input","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}}]}"#, [0, 0, 0, 0, 1], "found 5"),
            (#"{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6}}]}"#, [9, 0, 0, 0, 1, 2], "claims 9 bytes"),
            (#"{"inputs":[{"name":"image","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":5}}]}"#, [1, 0, 0, 0, 7], "found 1"),
        ]
        for (header, payload, phrase) in cases {
            let (body, length) = Self.binaryBody(header, payload)
            #expect(throws: ServerError.self) { try InferenceRequest(body: body, headerLength: length) }
            do {
                _ = try InferenceRequest(body: body, headerLength: length)
            } catch {
                #expect("\(error)".contains(phrase), "\(error)")
            }
        }
    }

    @Test("Answers: JSON data, or a header with binary_data_size and the raw bytes after it")
    func answers() throws {
        let floats: [Float] = [1.5, -0.125, .nan]
        let json = InferenceResponse(model: "m", id: "7", outputs: [.init(name: "logits", shape: [1, 3], values: .floats(floats), binary: false)]).encoded()
        #expect(json.headerLength == nil)
        #expect(String(buffer: json.body)
            == #"{"model_name":"m","id":"7","outputs":[{"name":"logits","datatype":"FP32","shape":[1,3],"data":[1.5,-0.125,null]}]}"#)
        let labels: [UInt8] = [0, 5, 255, 1]
        let binary = InferenceResponse(model: "m", id: nil, outputs: [.init(name: "labels", shape: [1, 2, 2], values: .bytes(labels), binary: true)]).encoded()
        let length = try #require(binary.headerLength)
        let body = [UInt8](buffer: binary.body)
        let header = try JSONSerialization.jsonObject(with: Data(body[..<length])) as? [String: Any]
        let output = (header?["outputs"] as? [[String: Any]])?.first
        #expect((output?["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 4)
        #expect(Array(body[length...]) == labels)
    }
}
