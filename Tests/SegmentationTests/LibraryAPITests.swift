import DANetModel
import DANetSupport
import Foundation
import ImageCodecs
import Imaging
import Segmentation
import Synchronization
import Testing

/// What an app relies on beyond the numbers: cancellation, progress, bad input that throws, the
/// built-in model.
@Suite("Library API")
struct LibraryAPITests {
    static let street = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/demo/street.png")

    /// The bundled model over many small windows, so that a run has passes to cancel between.
    static func windowedPipeline() throws -> SegmentationPipeline {
        let preset = DatasetPreset.street
        return SegmentationPipeline(model: try DANet.bundled(threads: 1),
                                    options: .init(scales: [1], flip: true, baseSize: 256, cropSize: 64, mode: .slide),
                                    classes: preset.classes, palette: preset.palette)
    }

    @Test("progress counts every network pass, and the result is a labelled map of the image's size")
    func progress() async throws {
        let pipeline = try Self.windowedPipeline()
        let image = try RGBImage(contentsOf: Self.street)
        let seen = Mutex<[SegmentationProgress]>([])
        let labels = try await Task.detached { try await pipeline.segment(image) { p in seen.withLock { $0.append(p) } } }.value
        let total = pipeline.passCount(height: image.height, width: image.width)
        #expect(total > 10)
        #expect(seen.withLock { $0 } == (1...total).map { SegmentationProgress(completedPasses: $0, totalPasses: total) })
        #expect(labels.width == image.width && labels.height == image.height)
        #expect(labels.classes == DatasetPreset.street.classes)
        #expect(labels[x: -1, y: 0] == LabelMap.ignoreIndex)
        #expect(labels == (try pipeline.predict(image)), "the async and the synchronous entry points agree")
    }

    @Test("a cancelled task stops before the next network pass with CancellationError")
    func cancellation() async throws {
        let pipeline = try Self.windowedPipeline()
        let image = try RGBImage(contentsOf: Self.street)
        let passes = Mutex(0)
        let task = Task.detached {
            try await pipeline.segment(image) { progress in
                passes.withLock { $0 = progress.completedPasses }
                if progress.completedPasses == 2 { withUnsafeCurrentTask { $0?.cancel() } }
            }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(passes.withLock { $0 } == 2, "no pass ran after the cancellation")
    }

    @Test("bad caller input throws instead of trapping")
    func badInput() throws {
        #expect(throws: ModelError.self) { try Tensor(shape: [1, 3, 2, 2], data: [0, 1]) }
        #expect(throws: ModelError.self) { try Tensor(shape: [-1, 3], data: []) }
        #expect(throws: ImageError.self) { try RGBImage(width: 2, height: 2, pixels: [0, 0, 0]) }
        #expect(throws: ImageError.self) { try RGBImage(width: 0, height: 0, pixels: []) }
        let labels = try LabelMap(width: 2, height: 1, labels: [0, 1])
        #expect(throws: ImageError.self) { try labels.overlay(on: try RGBImage(width: 1, height: 1, pixels: [0, 0, 0]), alpha: 0.5) }
        var matrix = ConfusionMatrix(classes: 2)
        #expect(throws: SegmentationError.self) { try matrix.add(prediction: [0, 1], label: [0]) }
        #expect(throws: SegmentationError.self) { try Scores(channels: 2, height: 1, width: 1, values: [0]) }
        let model = try DANet.bundled(threads: 1)
        #expect(throws: ModelError.self) { try model(try Tensor(shape: [1, 4, 8, 8], data: [Float](repeating: 0, count: 256))) }
        // A preset whose class count is not the model's: the run throws instead of mislabelling.
        let mismatched = SegmentationPipeline(model: model, preset: .cityscapes)
        #expect(throws: SegmentationError.self) { try mismatched.predict(try RGBImage(width: 8, height: 8, pixels: [UInt8](repeating: 0, count: 192))) }
    }

    @Test("every error prints as one line through the shared protocol")
    func oneLine() throws {
        do {
            _ = try DANet(contentsOf: URL(fileURLWithPath: "/nonexistent/model\nname.pth"))
            Issue.record("a missing file loaded")
        } catch let error as any DANetError {
            #expect(!error.description.contains("\n"), "\(error)")
            #expect(error.description.hasPrefix("/nonexistent/model\\nname.pth: "), "\(error)")
        }
    }

    @Test("the colour mask and overlay use the labels' palette")
    func pictures() throws {
        let palette = [RGBColor(10, 20, 30), RGBColor(200, 100, 0)]
        let labels = try LabelMap(width: 2, height: 1, labels: [1, 255], classes: ["a", "b"], palette: palette)
        #expect(labels.colorized().pixels == [200, 100, 0, 0, 0, 0])
        let photo = try RGBImage(width: 2, height: 1, pixels: [100, 100, 100, 100, 100, 100])
        #expect(try labels.overlay(on: photo, alpha: 0.5).pixels == [150, 100, 50, 50, 50, 50])
        let png = try labels.pngData()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("labels-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: path) }
        try png.write(to: path)
        #expect(try LabelMap(contentsOf: path).labels == [1, 255])
    }
}

/// The bundled (trained) model in bf16 against f32, on the demo image: where bf16 runs, at least
/// 99.9% of the labels agree (measured over held-out scenes: 99.98% against PyTorch fp32).
@Suite("bf16 on a trained model")
struct BF16TrainedTests {
    @Test("the demo image's labels in bf16 agree with f32's")
    func labels() throws {
        let bf16 = try DANet.bundled(precision: .bf16)
        guard bf16.precision == .bf16 else {
            #expect(bf16.precisionNote != nil)
            return
        }
        let image = try RGBImage(contentsOf: LibraryAPITests.street)
        let reference = try SegmentationPipeline(model: try DANet.bundled(), preset: .street).predict(image)
        let labels = try SegmentationPipeline(model: bf16, preset: .street).predict(image)
        var same = 0
        for y in 0..<image.height {
            for x in 0..<image.width where labels[x: x, y: y] == reference[x: x, y: y] { same += 1 }
        }
        let agreement = Double(same) / Double(image.width * image.height)
        print("bundled model, demo image: bf16 labels agree with f32 on \(agreement * 100)% of pixels")
        #expect(agreement >= 0.999, "bf16 labels agree with f32 on \(agreement * 100)% of pixels")
    }
}
