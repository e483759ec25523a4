import DANetModel
import Foundation
import HTTPTypes
import Hummingbird
import ImageCodecs
import Imaging

/// The Open Inference Protocol's REST endpoints (`/v2/...`).
struct InferenceEndpoints: Sendable {
    let state: ServerState

    /// Images in one request, and tensors' batch size, at most.
    static let maxBatch = 64

    static let headerLengthField = HTTPField.Name("Inference-Header-Content-Length")!

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v2/health/live") { _, _ in Answer.json([:] as [String: Any]) }
        router.get("/v2/health/ready") { _, _ in
            guard state.isReady else { throw ServerError(status: 503, "expected a server taking requests, found it shutting down") }
            return Answer.json([:] as [String: Any])
        }
        router.get("/v2") { _, _ in
            Answer.json(["name": "danet", "version": DANetServer.version, "extensions": ["binary_tensor_data"]])
        }
        for prefix in ["/v2/models/:name", "/v2/models/:name/versions/:version"] {
            router.get(RouterPath(prefix)) { _, context in
                Answer.json(try model(context).metadata)
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in
                _ = try model(context)
                guard state.isReady else { throw ServerError(status: 503, "expected a server taking requests, found it shutting down") }
                return Answer.json([:] as [String: Any])
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in
                try await infer(request, model: try model(context))
            }
        }
    }

    /// The model the path names; a version other than 1 is not there.
    private func model(_ context: BasicRequestContext) throws -> ServedModel {
        let model = try state.model(context.parameters.get("name") ?? "")
        if let version = context.parameters.get("version"), version != "1" {
            throw ServerError(status: 404, "expected version 1 of model '\(model.name)', found version '\(String(version.prefix(32)))'")
        }
        return model
    }

    private func infer(_ request: Request, model: ServedModel) async throws -> Response {
        var phases = Phases()
        let body = try await state.body(of: request)
        phases.end("read")
        var headerLength: Int?
        if let field = request.headers[Self.headerLengthField] {
            guard let value = Int(field) else { throw ServerError.badRequest("expected Inference-Header-Content-Length to be a byte count, found '\(field.prefix(32))'") }
            headerLength = value
        }
        let parsed = try InferenceRequest(body: body, headerLength: headerLength)
        guard parsed.inputs.count == 1, let input = parsed.inputs.first else {
            throw ServerError.badRequest("expected one input, 'input' (FP32 [N,3,H,W]) or 'image' (BYTES [N]), found \(parsed.inputs.count): "
                                         + parsed.inputs.map { "'\($0.name)'" }.joined(separator: ", "))
        }
        let produced: String
        switch (input.name, input.datatype) {
        case ("input", "FP32"): produced = "logits"
        case ("image", "BYTES"): produced = "labels"
        case ("input", _), ("image", _):
            throw ServerError.badRequest("input '\(input.name)': expected datatype \(input.name == "input" ? "FP32" : "BYTES"), found \(input.datatype)")
        default: throw ServerError.badRequest("expected input 'input' (FP32 [N,3,H,W]) or 'image' (BYTES [N]), found '\(input.name.prefix(64))'")
        }
        var binary = parsed.binaryOutputs
        if let outputs = parsed.outputs {
            for output in outputs where output.name != produced {
                throw ServerError.badRequest("output '\(output.name.prefix(64))': input '\(input.name)' gives '\(produced)' only")
            }
            binary = outputs.last?.binary ?? binary
        }
        let output: InferenceResponse.Output
        switch input.content {
        case .floats(let values):
            let tensor = try checkedTensor(input, values)
            phases.end("decode")
            // The fused logits `danet infer --heads fused` writes; the network runs a batch image by image.
            let (logits, queued, ran) = try await state.onWorker(model) { try model.network(tensor, heads: .fused).fused }
            phases.add(queued: queued, ran: ran)
            output = .init(name: produced, shape: logits.shape, values: .floats(logits.data), binary: binary)
        case .elements(let elements):
            let images = try decodedImages(input, elements)
            phases.end("decode")
            let (maps, queued, ran) = try await state.onWorker(model) { try model.labels(images) }
            phases.add(queued: queued, ran: ran)
            output = .init(name: produced, shape: [maps.count, maps[0].height, maps[0].width], values: .bytes(maps.flatMap(\.labels)), binary: binary)
        }
        let (bytes, length) = InferenceResponse(model: model.name, id: parsed.id, outputs: [output]).encoded()
        phases.end("encode")
        var headers = Answer.timing(phases)
        guard let length else { return Answer.buffer(bytes, type: "application/json", headers: headers) }
        headers[Self.headerLengthField] = String(length)
        return Answer.buffer(bytes, type: "application/octet-stream", headers: headers)
    }

    private func checkedTensor(_ input: InferenceRequest.Input, _ values: [Float]) throws -> Tensor {
        let shape = input.shape
        guard input.datatype == "FP32", shape.count == 4, shape[1] == 3, shape.allSatisfy({ $0 >= 1 }) else {
            throw ServerError.badRequest("input 'input': expected FP32 [N,3,H,W], found \(input.datatype) \(shape)")
        }
        guard shape[0] <= Self.maxBatch, shape[2] * shape[3] <= state.configuration.maxPixels else {
            throw ServerError.badRequest("input 'input': expected at most \(Self.maxBatch) images of at most \(state.configuration.maxPixels) pixels, "
                                         + "found \(shape[0]) of \(shape[3]) x \(shape[2])")
        }
        return try Tensor(shape: shape, data: values)
    }

    private func decodedImages(_ input: InferenceRequest.Input, _ elements: [Data]) throws -> [RGBImage] {
        guard input.datatype == "BYTES", input.shape.count == 1, (1...Self.maxBatch).contains(input.shape[0]) else {
            throw ServerError.badRequest("input 'image': expected BYTES [N] with N in 1...\(Self.maxBatch) (encoded PNG or JPEG files), found \(input.datatype) \(input.shape)")
        }
        let images = try elements.enumerated().map { index, data in
            try Self.decode(data, name: "input 'image' element \(index)", maxPixels: state.configuration.maxPixels)
        }
        for (index, image) in images.enumerated() where (image.width, image.height) != (images[0].width, images[0].height) {
            throw ServerError.badRequest("input 'image': expected images of one size, found \(images[0].width) x \(images[0].height) "
                                         + "and \(image.width) x \(image.height) (element \(index))")
        }
        return images
    }

    /// Decodes a PNG or JPEG from a request, turning the decoder's error into a 400.
    static func decode(_ data: Data, name: String, maxPixels: Int) throws -> RGBImage {
        do {
            return try RGBImage(encoded: data, name: name, maxPixels: maxPixels)
        } catch let error as ImageError {
            throw ServerError.badRequest(error.description)
        }
    }
}
