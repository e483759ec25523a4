import Foundation
import Testing
@testable import DANetModel
import TorchArchive

/// Strict mapping: every expected tensor present with its shape, nothing left over but the
/// documented exceptions; each failure names the key and both shapes.
@Suite("Weight mapping")
struct WeightMappingTests {
    static let source = DANetFixtures.path("official_resnet7_r50.pth.tar")

    /// Writes the fixture's state dict with `edit` applied and tries to build a DANet from it.
    func load(editing edit: (inout [SafetensorsWriter.Item]) -> Void) throws -> Result<DANet, Error> {
        let checkpoint = try Checkpoint.open(Self.source)
        var items = try checkpoint.stateDict().map { named in
            SafetensorsWriter.Item(name: named.name, dtype: named.tensor.dtype, shape: named.tensor.shape) { try named.tensor.contiguousBytes() }
        }
        edit(&items)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("danet-map-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafetensorsWriter.write(items, to: path)
        return Result { try DANet(contentsOf: URL(fileURLWithPath: path)) }
    }

    func expectFailure(_ result: Result<DANet, Error>, _ kind: WeightError.Kind, _ fragments: [String]) {
        expectFailure(result, fragments) { ($0 as? WeightError)?.kind == kind }
    }

    func expectFailure(_ result: Result<DANet, Error>, _ kind: ModelError.Kind, _ fragments: [String]) {
        expectFailure(result, fragments) { ($0 as? ModelError)?.kind == kind }
    }

    func expectFailure(_ result: Result<DANet, Error>, _ fragments: [String], kind: (any Error) -> Bool) {
        switch result {
        case .success: Issue.record("the edited checkpoint loaded")
        case .failure(let error):
            #expect(kind(error), "unexpected \(error)")
            for fragment in fragments { #expect("\(error)".contains(fragment), "'\(fragment)' missing from: \(error)") }
        }
    }

    @Test("a missing tensor is named with the shape the model expects")
    func missing() throws {
        expectFailure(try load { $0.removeAll { $0.name == "head.sa.gamma" } }, WeightError.Kind.missing,
                      ["missing tensor 'head.sa.gamma'", "expected shape [1]"])
        expectFailure(try load { $0.removeAll { $0.name == "pretrained.layer2.1.bn2.running_var" } }, WeightError.Kind.missing,
                      ["pretrained.layer2.1.bn2.running_var", "[16]"])
    }

    @Test("a tensor nobody uses is an error, unless it is a documented exception")
    func extra() throws {
        expectFailure(try load { $0.append(.init(name: "head.extra.weight", dtype: .float32, shape: [2]) { [UInt8](repeating: 0, count: 8) }) },
                      WeightError.Kind.unexpected, ["unexpected tensor 'head.extra.weight' [2]"])
        let tolerated = try load {
            $0.append(.init(name: "auxlayer.conv6.1.bias", dtype: .float32, shape: [1]) { [0, 0, 0, 0] })
            $0.append(.init(name: "auxiliary_head.conv_seg.bias", dtype: .float32, shape: [3]) { [UInt8](repeating: 0, count: 12) })
            $0.removeAll { $0.name.hasSuffix("num_batches_tracked") }
        }
        #expect(throws: Never.self) { try tolerated.get() }
    }

    @Test("a wrongly shaped tensor names the key and both shapes")
    func wrongShape() throws {
        expectFailure(try load { items in
            let index = items.firstIndex { $0.name == "head.conv5a.0.weight" }!
            let old = items[index]
            items[index] = .init(name: old.name, dtype: .float32, shape: [64, 256, 1, 9]) { try old.bytes() }
        }, WeightError.Kind.wrongShape, ["'head.conv5a.0.weight'", "expected shape [64, 256, 3, 3]", "found [64, 256, 1, 9]"])
    }

    @Test("weights that are not a DANet are recognised as such")
    func notDANet() throws {
        let result = Result { try DANet(contentsOf: URL(fileURLWithPath: Fixtures.archivePath("official_like.pth.tar"))) }
        expectFailure(result, .unrecognized, ["official_like.pth.tar", "expected a DANet checkpoint with a ResNet stem"])
    }

    @Test("explicit options override the layout defaults")
    func options() throws {
        let checkpoint = try Checkpoint.open(Self.source)
        let config = try DANetConfiguration.detect(checkpoint, layer4Dilations: [2, 4, 4], alignCorners: false)
        #expect(config.layer4Dilations == [2, 4, 4])
        #expect(!config.alignCorners)
        #expect(throws: ModelError.self) { try DANetConfiguration.detect(checkpoint, layer4Dilations: [2, 4]) }
    }
}

enum Fixtures {
    static func archivePath(_ name: String) -> String {
        URL(fileURLWithPath: DANetFixtures.folder).deletingLastPathComponent().appendingPathComponent("archive/" + name).path
    }
}
