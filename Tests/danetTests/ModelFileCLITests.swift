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
            + "align_corners false; format version 1, f32 weights, panels-mr6-kc512, from mmseg_v1c_r50.pth"), "\(inspect.stdout)")
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

    @Test("--precision bf16: convert writes bf16 weights on any CPU; infer runs bf16 products or says in one line that f32 runs")
    func bf16() throws {
        let folder = try CLI.temporaryFolder()
        let weights = Self.danet + "/mmseg_v1c_r50.pth", golden = Self.danet + "/mmseg_v1c_r50.golden.safetensors"
        let model = folder + "/model-bf16.danet"
        let converted = try CLI.run(["convert", weights, model, "--precision", "bf16"])
        #expect(converted.status == 0 && converted.stdout.contains("bf16 weights"), "\(converted.stdout)\(converted.stderr)")
        let inspect = try CLI.run(["inspect", model])
        #expect(inspect.stdout.contains("format version 2, bf16 weights, panels-mr6-kc512"), "\(inspect.stdout)")
        let info = try CLI.run(["info", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        let native = report["bf16"] as? String
        for file in [weights, model] {
            let result = try CLI.run(["infer", "--weights", file, "--input", golden, "--output", folder + "/out.safetensors",
                                      "--precision", "bf16"])
            #expect(result.status == 0, "\(result.stderr)")
            if native?.hasPrefix("not run") == true {
                #expect(result.stderr.contains("danet: bf16 was asked for, f32 runs: ") && result.stdout.contains("(f32 products"),
                        "\(result.stdout)\(result.stderr)")
            } else {
                #expect(result.stdout.contains("(bf16 products") && !result.stderr.contains("f32 runs"), "\(result.stdout)\(result.stderr)")
            }
        }
        let forced = try CLI.run(["infer", "--weights", model, "--input", golden, "--output", folder + "/out.safetensors"],
                                 shell: "DANET_GEMM=openblas exec \"$0\" \"$@\"")
        if report["openBLAS"] as? Bool == true {
            #expect(forced.status == 0 && forced.stdout.contains("(f32 products"), "\(forced.stdout)\(forced.stderr)")
        }
        let bad = try CLI.run(["infer", "--weights", model, "--input", golden, "--output", folder + "/x.safetensors", "--precision", "fp8"])
        #expect(bad.status != 0 && bad.stderr.contains("--precision"), "\(bad.stderr)")
        let safetensors = try CLI.run(["convert", weights, folder + "/y.safetensors", "--precision", "bf16"])
        #expect(safetensors.status != 0 && safetensors.stderr.contains("--precision apply to OUT.danet"), "\(safetensors.stderr)")
    }

    @Test("info names the CPU, the features, the kernels and why, threads and GEMM; DANET_ISA shows as forced")
    func info() throws {
        let text = try CLI.run(["info"])
        #expect(text.status == 0, "\(text.stderr)")
        for field in ["version    danet ", "cpu        ", "features   ", "kernels    ", "threads    ", "gemm       ", "bf16       ", "denormals  "] {
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
