import DANetModel
import Foundation
import ImageCodecs
import Imaging
@testable import Segmentation
import Testing
import TorchArchive

/// mmsegmentation's test pipeline against tools/mmseg_reference.py (float64, OpenCV's resize).
/// Tolerances: the 8-bit resize exactly equal to cv2.resize; scores max|diff| <= 1e-4 x max|reference|
/// and an identical argmax at every pixel.
@Suite("mmsegmentation pipeline parity")
struct MMSegParityTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/mmseg").path

    struct Case: Decodable {
        let resizeLong: Int
        let resizeShort: Int
        let mode: String
        let cropHeight: Int?
        let cropWidth: Int?
        let strideHeight: Int?
        let strideWidth: Int?
        let flip: Bool
        let ratios: [Double]?
        let alignCorners: Bool
    }

    struct Settings: Decodable {
        let image: String
        let weights: String
        let cases: [String: Case]
    }

    static func settings() throws -> Settings {
        try JSONDecoder().decode(Settings.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/mmseg.json")))
    }

    static func bytes(_ tensor: StoredTensor) throws -> [UInt8] { try tensor.contiguousBytes() }

    @Test("the 8-bit resize equals cv2.resize value for value")
    func resize() throws {
        let golden = try Checkpoint.open(Self.folder + "/resize.golden.safetensors").stateDict()
        var index = 0
        while let source = golden["source.\(index)"], let resized = golden["resized.\(index)"] {
            let image = try RGBImage(width: source.shape[1], height: source.shape[0], pixels: try Self.bytes(source))
            let ours = try image.resizedLikeOpenCV(width: resized.shape[1], height: resized.shape[0])
            let expected = try Self.bytes(resized)
            let differing = zip(ours.pixels, expected).filter { $0 != $1 }.count
            #expect(differing == 0, "case \(index) \(source.shape) -> \(resized.shape): \(differing) values differ from OpenCV")
            index += 1
        }
        #expect(index == 5)
    }

    @Test("slide with a real resize, flip with ratios, flip alone match the reference",
          arguments: ["slide", "whole-tta", "whole-flip"])
    func parity(_ name: String) throws {
        let settings = try Self.settings()
        let setting = try #require(settings.cases[name])
        let model = try DANet(contentsOf: URL(fileURLWithPath: Self.folder + "/" + settings.weights), alignCorners: setting.alignCorners)
        var options = MMSegOptions(resizeLong: setting.resizeLong, resizeShort: setting.resizeShort,
                                   mode: setting.mode == "slide" ? .slide : .whole, flip: setting.flip, ratios: setting.ratios)
        if let h = setting.cropHeight, let w = setting.cropWidth, let sh = setting.strideHeight, let sw = setting.strideWidth {
            (options.cropHeight, options.cropWidth, options.strideHeight, options.strideWidth) = (h, w, sh, sw)
        }
        let pipeline = SegmentationPipeline(model: model, options: DatasetPreset.generic(classes: 5).options, mmseg: options)
        let image = try RGBImage(contentsOf: URL(fileURLWithPath: Self.folder + "/" + settings.image))
        var passes = 0
        let scores = try pipeline.scores(image) { _ in passes += 1 }
        #expect(passes == pipeline.passCount(height: image.height, width: image.width))
        let golden = try #require(try Checkpoint.open(Self.folder + "/mmseg.golden.safetensors").stateDict()["scores.\(name)"])
        let reference = try golden.contiguousBytes().withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(scores.shape == golden.shape)
        let scale = reference.reduce(0) { max($0, abs($1)) }
        var maxDiff = 0.0
        var mismatches: [String] = []
        for (i, (a, r)) in zip(scores.values, reference).enumerated() {
            let diff = abs(a - r)
            maxDiff = max(maxDiff, diff)
            if diff > 1e-4 * scale && mismatches.count < 5 { mismatches.append("[\(i)] \(a) vs \(r)") }
        }
        print("mmseg \(name): \(passes) passes, max|diff| \(maxDiff), max|ref| \(scale)")
        #expect(maxDiff <= 1e-4 * scale, "max|diff| \(maxDiff) > 1e-4 x \(scale); first: \(mismatches)")
        let expected = try Scores(channels: golden.shape[0], height: golden.shape[1], width: golden.shape[2], values: reference).argmax()
        let agree = zip(scores.argmax(), expected).filter { $0 == $1 }.count
        #expect(agree == expected.count, "argmax differs at \(expected.count - agree) of \(expected.count) pixels")
    }

    @Test("window geometry: mmseg's grid count and the last window moved back")
    func windows() {
        #expect(MMSegOptions.windows(size: 88, crop: 64, stride: 40) == [0..<64, 24..<88])
        #expect(MMSegOptions.windows(size: 120, crop: 48, stride: 30) == [0..<48, 30..<78, 60..<108, 72..<120])
        #expect(MMSegOptions.windows(size: 30, crop: 48, stride: 30) == [0..<30])
        #expect(MMSegOptions.rescaledSize(width: 83, height: 61, long: 120, short: 90) == (120, 88))
        #expect(MMSegOptions.rescaledSize(width: 2048, height: 1024, long: 2048, short: 1024) == (2048, 1024))
        #expect(MMSegOptions.ratioSize(width: 83, height: 61, ratio: 0.75) == (62, 46))
    }
}
