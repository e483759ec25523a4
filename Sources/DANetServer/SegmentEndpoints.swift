import Foundation
import HTTPTypes
import Hummingbird
import ImageCodecs
import Imaging

/// The plain endpoints for curl and the page: an image in, the PNG `danet segment` writes (or the
/// class shares as JSON) out; the list of models with their classes and colours.
struct SegmentEndpoints: Sendable {
    let state: ServerState

    enum Output: String, CaseIterable {
        case labels, color, overlay, json
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/models") { _, _ in
            Answer.json(["models": state.modelNames.map { name -> [String: Any] in
                let model = state.models[name]!
                return ["name": name, "dataset": model.preset.name, "source": model.source, "precision": model.network.precision.rawValue,
                        "classes": model.preset.classes.enumerated().map { index, label in
                            ["index": index, "name": label, "color": Self.hex(model.preset.palette, index)] as [String: Any]
                        }]
            }])
        }
        router.post("/v1/segment") { request, _ in try await segment(request) }
    }

    private func segment(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let model = try state.model(query["model"].map(String.init))
        let outputName = query["output"].map(String.init) ?? "overlay"
        guard let output = Output(rawValue: outputName) else {
            throw ServerError.badRequest("expected output=\(Output.allCases.map(\.rawValue).joined(separator: "|")), found '\(outputName.prefix(32))'")
        }
        var alpha = 0.5
        if let text = query["alpha"] {
            guard let value = Double(String(text)), (0...1).contains(value) else { throw ServerError.badRequest("expected alpha in 0...1, found '\(text.prefix(32))'") }
            alpha = value
        }
        let mask = query["mask"].map(String.init)
        guard mask == nil || mask == "color" else { throw ServerError.badRequest("expected mask=color or no mask, found '\(mask!.prefix(32))'") }
        var phases = Phases()
        let body = try await state.body(of: request)
        phases.end("read")
        let image = try InferenceEndpoints.decode(Data(body), name: "request body", maxPixels: state.configuration.maxPixels)
        phases.end("decode")
        let (labels, queued, ran) = try await state.onWorker(model) { try model.pipeline.predict(image) }
        phases.add(queued: queued, ran: ran)
        let png: Data
        switch output {
        case .labels: png = try labels.pngData()
        case .color: png = try labels.colorized().pngData()
        case .overlay: png = try labels.overlay(on: image, alpha: alpha).pngData()
        case .json:
            var answer: [String: Any] = [
                "model": model.name, "width": image.width, "height": image.height, "seconds": ran,
                "classes": labels.classShares().map { ["index": Int($0.label), "name": $0.name, "fraction": $0.fraction,
                                                       "color": Self.hex(model.preset.palette, Int($0.label))] as [String: Any] },
            ]
            if mask == "color" { answer["color_png"] = try labels.colorized().pngData().base64EncodedString() }
            let json = JSONText.data(answer)
            phases.end("encode")
            return Answer.json(json, headers: Answer.timing(phases))
        }
        phases.end("encode")
        return Answer.bytes([UInt8](png), type: "image/png", headers: Answer.timing(phases))
    }

    /// Colour `index` of `palette` as `#rrggbb` (black past its end, as the colour masks draw it).
    static func hex(_ palette: [RGBColor], _ index: Int) -> String {
        let color = index < palette.count ? palette[index] : RGBColor(0, 0, 0)
        return "#" + [color.red, color.green, color.blue].map { String(format: "%02x", $0) }.joined()
    }
}
