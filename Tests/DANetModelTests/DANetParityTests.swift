import Foundation
import Testing
@testable import DANetModel
import TensorKernels
import TorchArchive

/// Golden outputs of the PyTorch reference (tools/danet_reference.py) for small DANets in both
/// layouts and all three stems. Tolerance: max|diff| <= 1e-4 * max|reference| for every output and stage.
@Suite("DANet parity with the PyTorch reference")
struct DANetParityTests {
    @Test("detects the configuration from the weights", arguments: DANetFixtures.names)
    func configuration(_ name: String) throws {
        let expected = try #require(DANetFixtures.cases[name])
        let config = try DANetConfiguration.detect(try Checkpoint.open(DANetFixtures.path(expected.file)))
        #expect(config.layout.rawValue == expected.layout)
        #expect(config.depth == expected.depth)
        #expect(config.stem.rawValue == expected.stem)
        #expect(config.baseWidth == expected.width)
        #expect(config.classes == expected.classes)
        #expect(config.layer4Dilations == expected.layer4Dilations)
        #expect(config.alignCorners == expected.alignCorners)
    }

    @Test("outputs and every stage match the reference", arguments: DANetFixtures.names)
    func parity(_ name: String) throws {
        let expected = try #require(DANetFixtures.cases[name])
        let golden = try DANetFixtures.golden(expected.golden)
        let model = try DANet(contentsOf: URL(fileURLWithPath: DANetFixtures.path(expected.file)))
        let output = try model(try #require(golden["input"]), captureStages: true)
        var report: [String] = []
        for stage in ["c1", "c2", "c3", "c4", "pam", "cam"] {
            let actual = try #require(output.stages[stage], "stage \(stage) not captured")
            let reference = try #require(golden["stage.\(stage)"])
            report.append("\(stage) \(expectClose(actual, reference, "\(name) \(stage)") / reference.maxMagnitude)")
        }
        for (label, actual, key) in [("logits", output.fused, "logits"), ("pam_logits", output.position, "pam_logits"),
                                     ("cam_logits", output.channel, "cam_logits")] {
            let reference = try #require(golden[key])
            report.append("\(label) \(expectClose(actual, reference, "\(name) \(label)") / reference.maxMagnitude)")
        }
        print("\(name) (\(CPUKernels.selected) kernels) max|diff|/max|ref|: " + report.joined(separator: ", "))
    }
}

@Suite("Position attention in blocks")
struct BlockedAttentionTests {
    @Test("any block of query rows gives the whole-matrix result, in f32 and in bf16", arguments: Precision.allCases)
    func blocks(_ precision: Precision) throws {
        let model = try DANet(contentsOf: URL(fileURLWithPath: DANetFixtures.path("official_resnet7_r50.pth.tar")),
                              precision: precision)
        let channels = model.configuration.headInter
        var generator = SystemRandomNumberGenerator()
        let input = FeatureMap(channels: channels, height: 9, width: 13,
                               data: (0..<(channels * 117)).map { _ in Float.random(in: -2...2, using: &generator) })
        let whole = model.head.positionAttention(input, scratch: Scratch(), blockRows: 117)
        for rows in [1, 7, 64, 116] {
            let blocked = model.head.positionAttention(input, scratch: Scratch(), blockRows: rows)
            let maxDiff = zip(blocked.data, whole.data).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(maxDiff <= 1e-6 * whole.data.reduce(0) { max($0, abs($1)) },
                    "\(model.precision) products, \(rows) rows per block: max|diff| \(maxDiff)")
        }
    }
}
