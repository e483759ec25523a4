import DANetModel
import DANetSupport
import Foundation
import ImageCodecs
import Imaging
import Segmentation
import TorchArchive

/// A model the server holds, loaded once: the network, its dataset preset and test pipeline.
struct ServedModel: Sendable {
    let name: String
    /// The weights' path, or "bundled".
    let source: String
    let pipeline: SegmentationPipeline
    let preset: DatasetPreset
    let loadSeconds: Double

    var network: DANet { pipeline.model }
    var classes: Int { network.configuration.classes }

    /// Loads `spec` to run on `threads` threads in `precision`; the pipeline is the one `danet
    /// segment` builds for the same weights and dataset.
    /// - Throws: the loader's error naming the file, or `ServerError` when the dataset's classes
    ///   do not match the model's.
    static func load(_ spec: ServerConfiguration.Model, precision: Precision?, threads: Int) throws -> ServedModel {
        let start = Platform.monotonicSeconds()
        let checkpoint = try spec.weights.map { try Checkpoint(contentsOf: $0) } ?? DANet.bundledCheckpoint()
        let detected = try DANetConfiguration.detect(checkpoint)
        let preset = spec.dataset ?? .matching(classes: detected.classes, bundled: spec.weights == nil)
        let source = spec.weights?.displayPath ?? "bundled"
        guard preset.classes.count == detected.classes else {
            throw ServerError(status: 500, file: source,
                              "the model predicts \(detected.classes) classes, the \(preset.name) preset has \(preset.classes.count)")
        }
        let kind: SegmentationPipeline.Kind = detected.layout == .mmseg ? .mmseg : .official
        let network = try DANet(checkpoint: checkpoint, alignCorners: kind == .mmseg ? preset.mmsegAlignCorners : nil,
                                precision: precision, threads: threads)
        let pipeline = SegmentationPipeline(model: network, preset: preset, kind: kind)
        return ServedModel(name: spec.name, source: source, pipeline: pipeline, preset: preset,
                           loadSeconds: Platform.monotonicSeconds() - start)
    }

    /// The labels of each image through the test pipeline, as `danet segment` writes them.
    func labels(_ images: [RGBImage]) throws -> [LabelMap] {
        try images.map { try pipeline.predict($0) }
    }

    /// The protocol's model metadata: both inputs and the output each gives.
    var metadata: [String: Any] {
        let c = network.configuration
        return [
            "name": name, "versions": ["1"], "platform": "danet",
            "inputs": [
                ["name": "input", "datatype": "FP32", "shape": [-1, 3, -1, -1]],
                ["name": "image", "datatype": "BYTES", "shape": [-1]],
            ],
            "outputs": [
                ["name": "logits", "datatype": "FP32", "shape": [-1, classes, -1, -1]],
                ["name": "labels", "datatype": "UINT8", "shape": [-1, -1, -1]],
            ],
            "parameters": [
                "dataset": preset.name, "classes": preset.classes, "layout": c.layout.rawValue, "depth": c.depth,
                "precision": network.precision.rawValue, "pipeline": pipeline.kind.rawValue, "source": source,
            ] as [String: Any],
        ]
    }
}
