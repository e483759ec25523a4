import Foundation
import Testing
import DANetModel
import ImageCodecs
import Imaging
@testable import Segmentation
import TensorKernels
import TorchArchive

enum PipelineFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/pipeline").path

    struct Settings: Decodable {
        let image: String
        let weights: String
        let scales: [Double]
        let flip: Bool
        let baseSize: Int
        let cropSize: Int
    }

    static func settings() throws -> Settings {
        try JSONDecoder().decode(Settings.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/pipeline.json")))
    }
}

/// The test-time pipeline against tools/pipeline_reference.py (float64 golden scores).
/// Tolerance: max|log diff| <= 1e-4 * max|log reference| and an identical argmax at every pixel.
@Suite("Test-time pipeline parity")
struct PipelineParityTests {
    @Test("slide and whole modes match the reference", arguments: [SegmentationPipeline.Mode.slide, .whole])
    func parity(_ mode: SegmentationPipeline.Mode) throws {
        let settings = try PipelineFixtures.settings()
        let model = try DANet(contentsOf: URL(fileURLWithPath: PipelineFixtures.folder + "/" + settings.weights))
        var options = SegmentationPipeline.Options(scales: settings.scales, flip: settings.flip, baseSize: settings.baseSize,
                                                   cropSize: settings.cropSize, mode: mode)
        options.mode = mode
        let pipeline = SegmentationPipeline(model: model, options: options)
        let image = try ImageFile.readRGB(PipelineFixtures.folder + "/" + settings.image)
        var passes = 0
        let scores = try pipeline.scores(image) { _ in passes += 1 }
        #expect(passes == pipeline.passCount(height: image.height, width: image.width))
        let golden = try #require(try Checkpoint.open(PipelineFixtures.folder + "/pipeline.golden.safetensors")
            .tensors.first { $0.name == "scores.\(mode.rawValue)" })
        #expect(golden.tensor.dtype == .float64)
        let reference = try golden.tensor.contiguousBytes().withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(scores.shape == golden.tensor.shape)
        // Scores are exponentials of summed logits, so they are compared where the network's
        // outputs live: in the log domain, at the logits' tolerance.
        let scale = reference.reduce(0) { max($0, abs(Foundation.log($1))) }
        var maxDiff = 0.0
        for (a, r) in zip(scores.values, reference) { maxDiff = max(maxDiff, abs(Foundation.log(a) - Foundation.log(r))) }
        print("pipeline \(mode.rawValue): \(passes) passes, max|log diff| \(maxDiff), max|log ref| \(scale)")
        #expect(maxDiff <= 1e-4 * scale, "max|log diff| \(maxDiff) > 1e-4 x \(scale)")
        let expected = try Scores(channels: golden.tensor.shape[0], height: golden.tensor.shape[1], width: golden.tensor.shape[2],
                              values: reference).argmax()
        let agree = zip(scores.argmax(), expected).filter { $0 == $1 }.count
        #expect(agree == expected.count, "argmax differs at \(expected.count - agree) of \(expected.count) pixels")
    }

    @Test("window geometry: padded single window, unpadded grid, larger grid")
    func geometry() throws {
        let settings = try PipelineFixtures.settings()
        let model = try DANet(contentsOf: URL(fileURLWithPath: PipelineFixtures.folder + "/" + settings.weights))
        let pipeline = SegmentationPipeline(model: model, options: .init(scales: [0.5], flip: false, baseSize: 96, cropSize: 64, mode: .slide))
        #expect(pipeline.options.stride == 42)
        #expect(pipeline.resized(height: 61, width: 83, scale: 1.0) == (71, 96, 96, 71))
        #expect(pipeline.origins(71) == [0, 42])
        #expect(pipeline.passCount(height: 61, width: 83) == 1)
    }
}

@Suite("Image decoding")
struct ImageDecodingTests {
    struct Expected: Decodable {
        let width: Int
        let height: Int
        let rgb: [UInt8]?
        let values: [UInt8]?
    }

    static let expected: [String: Expected] = {
        let path = PipelineFixtures.folder + "/images/images.json"
        return (try? JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: URL(fileURLWithPath: path)))) ?? [:]
    }()

    @Test("PNG of every colour type and JPEG with EXIF orientation decode as PIL does",
          arguments: ["rgb8.png", "grey8.png", "rgba8.png", "palette.png", "grey16.png",
                      "orientation1.jpg", "orientation3.jpg", "orientation6.jpg", "orientation8.jpg"])
    func decodes(_ name: String) throws {
        let expected = try #require(Self.expected[name])
        let image = try ImageFile.readRGB(PipelineFixtures.folder + "/images/" + name)
        #expect(image.width == expected.width && image.height == expected.height, "\(name): \(image.width)x\(image.height)")
        let same = image.pixels == expected.rgb
        #expect(same, "\(name): pixels differ from PIL")
    }

    @Test("label maps keep their raw values")
    func labels() throws {
        let expected = try #require(Self.expected["labels.png"])
        let labels = try ImageFile.readLabels(PipelineFixtures.folder + "/images/labels.png")
        let same = labels.values == expected.values
        #expect(same)
        #expect(throws: ImageError.self) { try ImageFile.readLabels(PipelineFixtures.folder + "/images/rgb8.png") }
    }

    @Test("corrupt and foreign files fail with one line naming them", arguments: ["truncated.png", "not-an-image.jpg", "missing.png"])
    func failures(_ name: String) {
        let path = PipelineFixtures.folder + "/images/" + name
        do {
            _ = try ImageFile.readRGB(path)
            Issue.record("\(name) decoded")
        } catch let error as ImageError {
            #expect(error.description.hasPrefix(path))
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite("Dataset presets and metrics")
struct PresetAndMetricTests {
    @Test("presets have the class counts of their datasets")
    func presets() {
        let counts = Dictionary(uniqueKeysWithValues: DatasetPreset.all.map { ($0.name, $0.classes.count) })
        #expect(counts == ["street": 6, "cityscapes": 19, "cityscapes-769": 19, "ade20k": 150, "pascal-context-59": 59, "pascal-context-60": 60, "coco-stuff": 171])
        #expect(DatasetPreset.cityscapes.palette[10] == RGBColor(70, 130, 180))
        #expect(DatasetPreset.cityscapesTrainIds[26] == 13)
        #expect(DatasetPreset.cityscapesTrainIds[0] == 255)
    }

    @Test("mIoU, pixel accuracy and the ignore index")
    func confusion() throws {
        var matrix = ConfusionMatrix(classes: 3)
        // labels:      0 0 1 1 2 255
        // predictions: 0 1 1 1 0 2
        try matrix.add(prediction: [0, 1, 1, 1, 0, 2], label: [0, 0, 1, 1, 2, 255])
        let iou = matrix.iou
        #expect(iou[0] == 1.0 / 3.0)   // tp 1, fn 1, fp 1
        #expect(iou[1] == 2.0 / 3.0)   // tp 2, fp 1
        #expect(iou[2] == 0)           // tp 0, fn 1
        #expect(abs(matrix.meanIoU - 1.0 / 3.0) < 1e-12)
        #expect(matrix.pixelAccuracy == 3.0 / 5.0)
    }
}
