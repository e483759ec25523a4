import Foundation
import Testing
import TorchArchive

@Suite("danet convert to a .danet model file, and danet info")
struct ModelFileCLITests {
    static let danet = InferCommandTests.danetFixtures

    @Test("convert writes a .danet file that infer, segment and inspect take; its logits equal the checkpoint's")
    func convertAndRun() throws {
        let folder = try CLI.temporaryFolder()
        let weights = Self.danet + "/mmseg_v1c_r50.pth", golden = Self.danet + "/mmseg_v1c_r50.golden.safetensors"
        let model = folder + "/model.danet"
        let converted = try CLI.run(["convert", weights, model])
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(converted.stdout.contains("wrote \(model): DANet-R50 (mmseg, 5 classes, layer4 dilations 2/4/4, align_corners false)"),
                "\(converted.stdout)")

        for (label, file) in [("pth", weights), ("danet", model)] {
            let result = try CLI.run(["infer", "--weights", file, "--input", golden, "--output", folder + "/\(label).safetensors"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let a = try Checkpoint.open(folder + "/pth.safetensors").tensors, b = try Checkpoint.open(folder + "/danet.safetensors").tensors
        #expect(a.map(\.name) == b.map(\.name))
        for (x, y) in zip(a, b) {
            let identical = try x.tensor.floats() == y.tensor.floats()
            #expect(identical, "\(x.name): the .danet file gave other values than the checkpoint")
        }

        let inspect = try CLI.run(["inspect", model])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("model       DANet-R50 (mmseg, v1c stem, base width 8, 5 classes), layer4 dilations 2/4/4, "
            + "align_corners false; format version 1, panels-mr6-kc512, from mmseg_v1c_r50.pth"), "\(inspect.stdout)")
        let json = try CLI.run(["inspect", "--json", model])
        let parsed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let summary = try #require(parsed?["model"] as? [String: Any])
        #expect(summary["depth"] as? Int == 50 && summary["classes"] as? Int == 5 && summary["formatVersion"] as? String == "1")
    }

    @Test("convert refuses options a .danet file cannot honour, and a file that is no model")
    func refusals() throws {
        let folder = try CLI.temporaryFolder()
        let weights = Self.danet + "/mmseg_v1c_r50.pth"
        let dtype = try CLI.run(["convert", weights, folder + "/x.danet", "--dtype", "f16"])
        #expect(dtype.status != 0 && dtype.stderr.contains("--dtype applies to OUT.safetensors"), "\(dtype.stderr)")
        let notModel = try CLI.run(["convert", CLI.fixture("legacy.pth"), folder + "/y.danet"])
        #expect(notModel.status == 1 && notModel.stderr.contains("expected a DANet checkpoint"), "\(notModel.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/x.danet") && !FileManager.default.fileExists(atPath: folder + "/y.danet"))
    }

    @Test("info names the CPU, the features, the kernels and why, threads and GEMM; DANET_ISA shows as forced")
    func info() throws {
        let text = try CLI.run(["info"])
        #expect(text.status == 0, "\(text.stderr)")
        for field in ["version    danet ", "cpu        ", "features   ", "kernels    ", "threads    ", "gemm       ", "denormals  "] {
            #expect(text.stdout.contains(field), "no '\(field)' in:\n\(text.stdout)")
        }
        let json = try CLI.run(["info", "--json"])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let available = try #require(parsed["available"] as? [String])
        #expect(available.first == "generic")
        if parsed["requested"] == nil { #expect(parsed["kernels"] as? String == parsed["best"] as? String) }
        #expect((parsed["threads"] as? Int ?? 0) >= 1)

        let forced = try CLI.run(["info", "--json"], shell: "DANET_ISA=generic exec \"$0\" \"$@\"")
        let lowered = try #require(try JSONSerialization.jsonObject(with: Data(forced.stdout.utf8)) as? [String: Any])
        #expect(lowered["kernels"] as? String == "generic")
        #expect(lowered["warning"] == nil, "a lower set asked for by DANET_ISA is no surprise")
        if available.count > 1 {
            #expect((lowered["kernelsReason"] as? String ?? "").contains("DANET_ISA=generic forces it"), "\(lowered)")
        }
        #expect(!forced.stderr.contains("warning"), "\(forced.stderr)")
    }
}
