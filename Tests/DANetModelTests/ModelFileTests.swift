import Foundation
import Testing
@testable import DANetModel
import DANetSupport
import TensorKernels
import TorchArchive

/// The native model file: every fixture converted, loaded back, and run. Its logits must equal the
/// checkpoint's bit for bit (tolerance 0) under whatever kernels run (CI repeats this suite under
/// each lower DANET_ISA). Broken files must fail with one line naming the file.
@Suite("Native model file (.danet)")
struct ModelFileTests {
    static func temporaryURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("danet-model-\(UUID().uuidString)-\(name)")
    }

    /// Asserts two tensors are identical, printing max|diff| and the first mismatches if not.
    static func expectIdentical(_ actual: Tensor, _ expected: Tensor, _ label: String) {
        #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs \(expected.shape)")
        var maxDiff: Float = 0, mismatches: [String] = []
        for i in 0..<min(actual.count, expected.count) where actual.data[i].bitPattern != expected.data[i].bitPattern {
            maxDiff = max(maxDiff, abs(actual.data[i] - expected.data[i]))
            if mismatches.count < 5 { mismatches.append("[\(i)] \(actual.data[i]) vs \(expected.data[i])") }
        }
        #expect(mismatches.isEmpty, "\(label): not identical, max|diff| \(maxDiff); first mismatches: \(mismatches.joined(separator: ", "))")
    }

    @Test("a converted fixture gives the checkpoint's logits bit for bit", arguments: DANetFixtures.names)
    func identical(_ name: String) throws {
        let fixture = try #require(DANetFixtures.cases[name])
        let input = try #require(try DANetFixtures.golden(fixture.golden)["input"])
        let original = try DANet(contentsOf: URL(fileURLWithPath: DANetFixtures.path(fixture.file)))
        let url = ModelFileTests.temporaryURL(name + ".danet")
        defer { try? FileManager.default.removeItem(at: url) }
        try original.writeModelFile(to: url, source: fixture.file)
        let loaded = try DANet(contentsOf: url)
        #expect(loaded.isModelFile && !original.isModelFile)
        #expect(loaded.configuration == original.configuration)
        #expect(try DANetConfiguration.detect(try Checkpoint(contentsOf: url)) == original.configuration)
        let (a, b) = (try original(input), try loaded(input))
        ModelFileTests.expectIdentical(b.fused, a.fused, "\(name) logits")
        ModelFileTests.expectIdentical(b.position, a.position, "\(name) pam_logits")
        ModelFileTests.expectIdentical(b.channel, a.channel, "\(name) cam_logits")
        print("\(name): .danet logits identical to the checkpoint's (\(CPUKernels.selected) kernels, \(Gemm.backendDescription) GEMM)")
    }

    @Test("options the weights cannot show still apply to a model file")
    func overrides() throws {
        let fixture = try #require(DANetFixtures.cases["official_resnet7_r50"])
        let input = try #require(try DANetFixtures.golden(fixture.golden)["input"])
        let url = ModelFileTests.temporaryURL("override.danet")
        defer { try? FileManager.default.removeItem(at: url) }
        let checkpoint = URL(fileURLWithPath: DANetFixtures.path(fixture.file))
        try DANet(contentsOf: checkpoint).writeModelFile(to: url)
        let original = try DANet(contentsOf: checkpoint, layer4Dilations: [2, 4, 4], alignCorners: false)
        let loaded = try DANet(contentsOf: url, layer4Dilations: [2, 4, 4], alignCorners: false)
        #expect(loaded.configuration == original.configuration)
        ModelFileTests.expectIdentical(try loaded(input, heads: .fused).fused, try original(input, heads: .fused).fused, "overridden")
    }

    /// A model file's tensors and metadata, rewritten with `edit` applied, as another file.
    static func rewritten(_ source: URL, name: String,
                          edit: (inout [NamedTensor], inout [String: String]) -> Void) throws -> URL {
        let checkpoint = try Checkpoint(contentsOf: source)
        var tensors = checkpoint.tensors, metadata = checkpoint.metadata
        edit(&tensors, &metadata)
        let url = temporaryURL(name)
        try SafetensorsWriter.write(tensors.map { named in
            SafetensorsWriter.Item(name: named.name, dtype: named.tensor.dtype, shape: named.tensor.shape) {
                try named.tensor.contiguousBytes()
            }
        }, metadata: metadata, to: url)
        return url
    }

    @Test("a broken, truncated, foreign or future model file fails with one line naming it")
    func broken() throws {
        let fixture = try #require(DANetFixtures.cases["official_resnet7_r50"])
        let good = ModelFileTests.temporaryURL("good.danet")
        try DANet(contentsOf: URL(fileURLWithPath: DANetFixtures.path(fixture.file))).writeModelFile(to: good)
        var made = [good]
        defer { for url in made { try? FileManager.default.removeItem(at: url) } }

        func expectFailure(_ url: URL, mentioning words: [String]) {
            do {
                _ = try DANet(contentsOf: url)
                Issue.record("\(url.lastPathComponent) loaded; expected an error mentioning \(words)")
            } catch let error as any DANetError {
                let line = error.description
                #expect(!line.contains("\n") && line.contains(url.lastPathComponent), "not one line naming the file: \(line)")
                for word in words { #expect(line.contains(word), "'\(line)' does not mention '\(word)'") }
            } catch {
                Issue.record("\(url.lastPathComponent): an error outside the package's: \(error)")
            }
        }

        let bytes = try Data(contentsOf: good)
        let truncated = ModelFileTests.temporaryURL("truncated.danet")
        try bytes.prefix(bytes.count - 1000).write(to: truncated)
        made.append(truncated)
        expectFailure(truncated, mentioning: ["expected"])

        let future = try ModelFileTests.rewritten(good, name: "future.danet") { _, meta in meta["danet.format_version"] = "3" }
        made.append(future)
        expectFailure(future, mentioning: ["format version 1 or 2", "found version 3"])

        let mislabelled = try ModelFileTests.rewritten(good, name: "mislabelled.danet") { _, meta in meta["danet.format_version"] = "2" }
        made.append(mislabelled)
        expectFailure(mislabelled, mentioning: ["precision f32 (format version 1)", "'f32' in version 2"])

        let repacked = try ModelFileTests.rewritten(good, name: "repacked.danet") { _, meta in meta["danet.packing"] = "panels-mr8-kc256" }
        made.append(repacked)
        expectFailure(repacked, mentioning: ["panels-mr6-kc512", "panels-mr8-kc256"])

        let missing = try ModelFileTests.rewritten(good, name: "missing.danet") { tensors, _ in
            tensors.removeAll { $0.name == "head.conv8.1.panels" }
        }
        made.append(missing)
        expectFailure(missing, mentioning: ["missing tensor 'head.conv8.1.panels'"])

        let extra = try ModelFileTests.rewritten(good, name: "extra.danet") { tensors, _ in
            tensors.append(NamedTensor(name: "zz.extra", tensor: tensors[0].tensor))
        }
        made.append(extra)
        expectFailure(extra, mentioning: ["unexpected tensor 'zz.extra'"])

        let noConfiguration = try ModelFileTests.rewritten(good, name: "noconfig.danet") { _, meta in meta["danet.depth"] = nil }
        made.append(noConfiguration)
        expectFailure(noConfiguration, mentioning: ["danet.depth"])
    }
}
