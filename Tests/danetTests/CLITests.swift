import Foundation
import Testing
import TorchArchive

/// Runs the built `danet` binary as a user would and checks what it prints and writes.
struct CLI {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/archive").path

    static let binary: String = {
        // The test bundle sits next to the products it was built with.
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for folder in [beside, beside.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("danet").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        fatalError("danet binary not found beside \(beside.path)")
    }()

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs the binary with `arguments`; with `shell`, through `/bin/sh -c shell binary arguments...`
    /// (for `ulimit` and `timeout` around it).
    static func run(_ arguments: [String], shell: String? = nil) throws -> Result {
        let process = Process()
        if let shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", shell, binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("danet-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

@Suite("danet inspect")
struct InspectCommandTests {
    @Test("shows format, structure, tensors and totals")
    func text() throws {
        let result = try CLI.run(["inspect", CLI.fixture("official_like.pth.tar")])
        #expect(result.status == 0, "\(result.stderr)")
        for line in ["format      legacy, pickle protocol 2, little-endian", "state dict  state_dict",
                     "  epoch       int 240", "  state_dict.conv1.weight             float32  [4, 3, 3, 3]    432",
                     "total  6 tensors in 6 storages, 125 elements, 504 B (float32 496 B, int64 8 B)"] {
            #expect(result.stdout.contains(line), "missing '\(line)' in:\n\(result.stdout)")
        }
    }

    @Test("lists opaque objects")
    func opaque() throws {
        let result = try CLI.run(["inspect", CLI.fixture("opaque_objects.pth")])
        #expect(result.stdout.contains("opaque objects (kept as records, never run)"))
        #expect(result.stdout.contains("  args       argparse.Namespace"))
    }

    @Test("--json is machine-readable")
    func json() throws {
        let result = try CLI.run(["inspect", "--json", CLI.fixture("mmseg_like.pth")])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["format"] as? String == "zip")
        #expect(object["stateDict"] as? String == "state_dict")
        #expect((object["tensors"] as? [Any])?.count == 6)
        #expect(object["totalBytes"] as? Int == 504)
    }

    @Test("a hostile file gives one line on stderr and exit status 1", arguments: [
        ("hostile_zip_posix_system.pth", "refused global 'posix.system'"),
        ("html.pth", "an HTML page"),
        ("zip_bomb.pth", "zip bomb"),
        ("missing-file.pth", "No such file"),
    ])
    func failure(_ file: String, _ fragment: String) throws {
        let result = try CLI.run(["inspect", CLI.fixture(file)])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("danet: error: \(CLI.fixture(file)): "))
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
    }
}

@Suite("danet convert")
struct ConvertCommandTests {
    @Test("writes the state dict of a legacy official-style checkpoint with identical values")
    func convertsLegacy() throws {
        let folder = try CLI.temporaryFolder()
        let output = folder + "/official.safetensors"
        let result = try CLI.run(["convert", CLI.fixture("official_like.pth.tar"), output])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("wrote \(output): 6 tensors"))
        let source = try Checkpoint.open(CLI.fixture("official_like.pth.tar")).stateDict()
        let written = try Checkpoint.open(output)
        #expect(written.metadata["source_format"] == "legacy")
        #expect(written.metadata["source_state_dict"] == "state_dict")
        let byName = Dictionary(uniqueKeysWithValues: written.tensors.map { ($0.name, $0.tensor) })
        #expect(byName.count == source.count)
        for named in source {
            let copy = try #require(byName[named.name], "\(named.name) missing")
            #expect(copy.dtype == named.tensor.dtype)
            #expect(copy.shape == named.tensor.shape)
            #expect(try copy.contiguousBytes() == named.tensor.contiguousBytes())
        }
    }

    @Test("strided and shared tensors are written contiguous, once per name")
    func stridedTensors() throws {
        let output = try CLI.temporaryFolder() + "/shapes.safetensors"
        #expect(try CLI.run(["convert", CLI.fixture("shapes.pth"), output]).status == 0)
        let source = try Checkpoint.open(CLI.fixture("shapes.pth"))
        let written = Dictionary(uniqueKeysWithValues: try Checkpoint.open(output).tensors.map { ($0.name, $0.tensor) })
        for named in source.tensors {
            #expect(try written[named.name]?.floats() == named.tensor.floats(), "\(named.name)")
        }
    }

    @Test("--dtype f16 converts floating tensors only; --strip-prefix removes module.")
    func options() throws {
        let output = try CLI.temporaryFolder() + "/half.safetensors"
        let result = try CLI.run(["convert", CLI.fixture("module_prefix.pth"), output, "--dtype", "f16", "--strip-prefix", "module."])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try Checkpoint.open(output)
        let dtypes = Dictionary(uniqueKeysWithValues: written.tensors.map { ($0.name, $0.tensor.dtype) })
        #expect(dtypes["conv1.weight"] == .float16)
        #expect(dtypes["bn1.num_batches_tracked"] == .int64)
    }

    @Test("a failed conversion leaves the existing output untouched and no partial file")
    func failureKeepsOutput() throws {
        let folder = try CLI.temporaryFolder()
        let output = folder + "/out.safetensors"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: output))
        for bad in ["hostile_proto4_eval.pth", "short_storage.pth", "truncated_legacy.pth"] {
            let result = try CLI.run(["convert", CLI.fixture(bad), output])
            #expect(result.status == 1)
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "keep me")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["out.safetensors"])
    }

    @Test("an unwritable destination is one clear line")
    func unwritable() throws {
        let result = try CLI.run(["convert", CLI.fixture("legacy.pth"), "/nonexistent-folder/x.safetensors"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent-folder/x.safetensors"))
        #expect(result.stderr.contains("a writable folder"))
    }
}

@Suite("danet infer")
struct InferCommandTests {
    static let danetFixtures = URL(fileURLWithPath: CLI.fixtures).deletingLastPathComponent().appendingPathComponent("danet").path

    func logits(_ path: String) throws -> [String: [Float]] {
        var result: [String: [Float]] = [:]
        for named in try Checkpoint.open(path).tensors { result[named.name] = try named.tensor.floats() }
        return result
    }

    @Test("matches the golden logits, and a converted checkpoint runs the same")
    func goldenAndConverted() throws {
        let folder = try CLI.temporaryFolder()
        let weights = Self.danetFixtures + "/official_resnet7_r50.pth.tar"
        let golden = Self.danetFixtures + "/official_resnet7_r50.golden.safetensors"
        let direct = try CLI.run(["infer", "--weights", weights, "--input", golden, "--output", folder + "/direct.safetensors", "--threads", "1"])
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(direct.stdout.contains("DANet-R50 (official, resnet7 stem, 5 classes, layer4 dilations 4/8/16, align_corners true)"))

        let converted = folder + "/converted.safetensors"
        #expect(try CLI.run(["convert", weights, converted]).status == 0)
        let metadata = try Checkpoint.open(converted).metadata
        #expect(metadata["danet.layer4_dilations"] == "4,8,16")
        #expect(metadata["danet.stem"] == "resnet7")
        let viaConverted = try CLI.run(["infer", "--weights", converted, "--input", golden, "--output", folder + "/converted-out.safetensors",
                                        "--threads", "1"])
        #expect(viaConverted.status == 0, "\(viaConverted.stderr)")

        let reference = try logits(golden), a = try logits(folder + "/direct.safetensors"), b = try logits(folder + "/converted-out.safetensors")
        for name in ["logits", "pam_logits", "cam_logits"] {
            let ref = try #require(reference[name]), x = try #require(a[name]), y = try #require(b[name])
            let scale = ref.reduce(0) { max($0, abs($1)) }
            let maxDiff = zip(x, ref).reduce(0) { max($0, abs($1.0 - $1.1)) }
            #expect(maxDiff <= 1e-4 * scale, "\(name): max|diff| \(maxDiff) > 1e-4 x \(scale)")
            let identical = x == y  // compared outside #expect, whose diff of 126,100 floats would take minutes
            #expect(identical, "\(name): the converted checkpoint gave different values")
        }
    }

    @Test("--heads fused writes the fused logits alone, the same values as with every head")
    func fusedOnly() throws {
        let folder = try CLI.temporaryFolder()
        let weights = Self.danetFixtures + "/official_resnet7_r50.pth.tar"
        let golden = Self.danetFixtures + "/official_resnet7_r50.golden.safetensors"
        for heads in ["all", "fused"] {
            let result = try CLI.run(["infer", "--weights", weights, "--input", golden, "--output", folder + "/\(heads).safetensors",
                                      "--threads", "2", "--heads", heads])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("kernels)"), "the kernels that ran are reported: \(result.stdout)")
        }
        let all = try logits(folder + "/all.safetensors"), fused = try logits(folder + "/fused.safetensors")
        #expect(fused.keys.sorted() == ["logits"])
        let identical = fused["logits"] == all["logits"]
        #expect(identical, "--heads fused changed the fused logits")
    }

    @Test("without --threads, the thread count follows the CPU affinity (taskset)")
    func threadsFollowAffinity() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") else { return }
        let weights = Self.danetFixtures + "/official_resnet7_r50.pth.tar"
        let golden = Self.danetFixtures + "/official_resnet7_r50.golden.safetensors"
        let result = try CLI.run(["infer", "--weights", weights, "--input", golden, "--output",
                                  try CLI.temporaryFolder() + "/out.safetensors", "--heads", "fused"],
                                 shell: "exec /usr/bin/taskset -c 0 \"$0\" \"$@\"")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(" on 1 threads "), "\(result.stdout)")
    }

    @Test("bad inputs and options give one line and exit status 1", arguments: [
        (["--input", "archive/legacy.pth"], "expected a tensor named 'input'"),
        (["--weights", "archive/legacy.pth"], "expected a DANet checkpoint"),
        (["--layer4-dilations", "2,4"], "three positive integers"),
        (["--threads", "0"], "--threads must be at least 1"),
    ])
    func failures(_ overrides: [String], _ fragment: String) throws {
        var options = ["--weights": Self.danetFixtures + "/official_resnet7_r101.pt",
                       "--input": Self.danetFixtures + "/official_resnet7_r101.golden.safetensors",
                       "--output": try CLI.temporaryFolder() + "/out.safetensors"]
        var extra: [String] = []
        for i in stride(from: 0, to: overrides.count, by: 2) {
            let value = overrides[i + 1].hasPrefix("archive/") ? CLI.fixture(String(overrides[i + 1].dropFirst(8))) : overrides[i + 1]
            if options[overrides[i]] != nil { options[overrides[i]] = value } else { extra += [overrides[i], value] }
        }
        let result = try CLI.run(["infer"] + options.flatMap { [$0.key, $0.value] } + extra)
        #expect(result.status != 0)
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: options["--output"]!))
    }
}

@Suite("danet segment and evaluate")
struct SegmentCommandTests {
    static let pipelineFixtures = URL(fileURLWithPath: CLI.fixtures).deletingLastPathComponent().appendingPathComponent("pipeline").path
    static let demo = URL(fileURLWithPath: CLI.fixtures).deletingLastPathComponent().appendingPathComponent("demo").path

    @Test("a folder with a bad image: the others are written, one line for the bad one, exit 1")
    func batchWithBadImage() throws {
        let input = try CLI.temporaryFolder(), output = try CLI.temporaryFolder()
        try FileManager.default.copyItem(atPath: Self.pipelineFixtures + "/photo.png", toPath: input + "/a.png")
        try FileManager.default.createDirectory(atPath: input + "/sub", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.pipelineFixtures + "/images/orientation6.jpg", toPath: input + "/sub/b.jpg")
        try FileManager.default.copyItem(atPath: Self.pipelineFixtures + "/images/truncated.png", toPath: input + "/c.png")
        let result = try CLI.run(["segment", input, "-o", output, "--weights", InferCommandTests.danetFixtures + "/official_resnet7_r50.pth.tar",
                                  "--base-size", "64", "--crop-size", "64", "--no-flip"])
        #expect(result.status == 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("danet: error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(errors.first?.contains("c.png") == true)
        for name in ["a", "sub/b"] {
            for suffix in ["_labels.png", "_color.png", "_overlay.png"] {
                #expect(FileManager.default.fileExists(atPath: output + "/" + name + suffix), "\(name)\(suffix) missing")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: output + "/c_labels.png"))
        #expect(result.stdout.contains("%"), "per-class shares missing: \(result.stdout)")
        // The orientation-6 JPEG is stored 32 wide and 24 high; upright it is 24 wide and 32 high.
        let labels = try ImageIOProbe.size(output + "/sub/b_labels.png")
        #expect(labels == [32, 24])
    }

    @Test("empty folders, bad shards and unknown datasets are one clear line", arguments: [
        (["EMPTY"], "expected PNG or JPEG images, found none"),
        (["PHOTO", "--shard", "3/3"], "--shard takes i/n with 0 <= i < n"),
        (["PHOTO", "--shard", "x"], "--shard takes i/n"),
        (["PHOTO", "--dataset", "mars"], "The value 'mars' is invalid for '--dataset <dataset>'"),
        (["PHOTO", "--dataset", "cityscapes", "--weights", "R50"], "the model predicts 5 classes, the cityscapes preset has 19"),
    ])
    func failures(_ arguments: [String], _ fragment: String) throws {
        let empty = try CLI.temporaryFolder()
        let mapped = arguments.map { argument -> String in
            switch argument {
            case "EMPTY": return empty
            case "PHOTO": return Self.pipelineFixtures + "/photo.png"
            case "R50": return InferCommandTests.danetFixtures + "/official_resnet7_r50.pth.tar"
            default: return argument
            }
        }
        let result = try CLI.run(["segment"] + mapped + ["-o", try CLI.temporaryFolder()])
        #expect(result.status != 0)
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
    }

    @Test("--shard i/n takes every n-th image")
    func shard() throws {
        let input = try CLI.temporaryFolder(), output = try CLI.temporaryFolder()
        for name in ["a", "b", "c"] {
            try FileManager.default.copyItem(atPath: Self.pipelineFixtures + "/photo.png", toPath: input + "/\(name).png")
        }
        let result = try CLI.run(["segment", input, "-o", output, "--shard", "1/2", "--weights",
                                  InferCommandTests.danetFixtures + "/official_resnet7_r50.pth.tar", "--base-size", "64", "--crop-size", "64"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted() == ["b_color.png", "b_labels.png", "b_overlay.png"])
    }

    @Test("--list-classes prints names and colours")
    func listClasses() throws {
        let result = try CLI.run(["segment", "--list-classes", "--dataset", "ade20k"])
        #expect(result.status == 0)
        #expect(result.stdout.split(separator: "\n").count == 150)
        #expect(result.stdout.contains("149  flag"))
    }

    @Test("evaluate matches mmseg's formulas over the reference pipeline's predictions")
    func evaluateMatchesReference() throws {
        let folder = Self.pipelineFixtures + "/eval"
        let result = try CLI.run(["evaluate", "--images", folder + "/images", "--labels", folder + "/labels", "--json",
                                  "--weights", InferCommandTests.danetFixtures + "/official_resnet7_r50.pth.tar",
                                  "--base-size", "96", "--crop-size", "64", "--scales", "0.5,1,1.5"])
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let reference = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json"))) as? [String: Any])
        #expect(ours["images"] as? Int == 3)
        for key in ["mIoU", "pixelAccuracy"] {
            let a = try #require(ours[key] as? Double), b = try #require(reference[key] as? Double)
            #expect(abs(a - b) < 1e-12, "\(key): \(a) vs reference \(b)")
        }
        let perClass = try #require(ours["perClass"] as? [[String: Any]]).map { $0["iou"] as? Double }
        let expected = try #require(reference["perClass"] as? [Any]).map { $0 as? Double }
        #expect(perClass == expected)
    }

    @Test("evaluate: the bundled model on the bundled labelled scene, as JSON")
    func evaluate() throws {
        let images = try CLI.temporaryFolder(), labels = try CLI.temporaryFolder()
        try FileManager.default.copyItem(atPath: Self.demo + "/street.png", toPath: images + "/scene.png")
        try FileManager.default.copyItem(atPath: Self.demo + "/street-label.png", toPath: labels + "/scene.png")
        let result = try CLI.run(["evaluate", "--images", images, "--labels", labels, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["images"] as? Int == 1)
        #expect(object["dataset"] as? String == "street")
        let miou = try #require(object["mIoU"] as? Double)
        #expect(miou > 0.8, "bundled model mIoU \(miou) on its demo scene")
        #expect((object["perClass"] as? [Any])?.count == 6)
    }
}

/// Reads a PNG's [height, width] from its IHDR, without linking the image library into the tests.
enum ImageIOProbe {
    static func size(_ path: String) throws -> [Int] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        return [u32(20), u32(16)]
    }
}
