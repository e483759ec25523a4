import Foundation
import Testing

/// `segment` and `evaluate` as batch and cluster jobs use them: lists, shards from a scheduler's
/// environment, resuming, JSON lines, split evaluations merged, and no output written twice.
@Suite("danet segment and evaluate in batch jobs")
struct BatchCommandTests {
    static let photo = SegmentCommandTests.pipelineFixtures + "/photo.png"
    static let r50 = InferCommandTests.danetFixtures + "/official_resnet7_r50.pth.tar"
    static let small = ["--weights", r50, "--base-size", "64", "--crop-size", "64", "--no-flip"]

    @Test("two inputs that would write the same files stop the run before any work, naming both")
    func collisions() throws {
        let input = try CLI.temporaryFolder(), output = try CLI.temporaryFolder()
        for name in ["a/x.png", "b/x.png", "a/y.png", "a/y.jpg"] {
            try FileManager.default.createDirectory(atPath: input + "/" + (name as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.photo, toPath: input + "/" + name)
        }
        for (arguments, names) in [([input + "/a/x.png", input + "/b/x.png"], ["a/x.png", "b/x.png"]),
                                   ([input + "/a"], ["a/y.jpg", "a/y.png"])] {
            let result = try CLI.run(["segment"] + arguments + ["-o", output] + Self.small)
            #expect(result.status == 1)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            for name in names { #expect(result.stderr.contains(name), "\(name) not named in: \(result.stderr)") }
            #expect(try FileManager.default.contentsOfDirectory(atPath: output).isEmpty)
        }
        // Inside one folder argument the two x.png keep their folders apart.
        try FileManager.default.removeItem(atPath: input + "/a/y.jpg")
        let apart = try CLI.run(["segment", input, "-o", output] + Self.small)
        #expect(apart.status == 0, "\(apart.stderr)")
        #expect(FileManager.default.fileExists(atPath: output + "/a/x_labels.png") && FileManager.default.fileExists(atPath: output + "/b/x_labels.png"))
    }

    @Test("--list, --json lines, and --skip-existing resumes without touching finished outputs")
    func listJSONAndResume() throws {
        let input = try CLI.temporaryFolder(), output = try CLI.temporaryFolder()
        try FileManager.default.createDirectory(atPath: input + "/city", withIntermediateDirectories: true)
        for name in ["city/a.png", "city/b.png"] { try FileManager.default.copyItem(atPath: Self.photo, toPath: input + "/" + name) }
        let list = input + "/list.txt"
        try "# images\n\(input)/city/a.png\n\n\(input)/city/b.png\n".write(toFile: list, atomically: true, encoding: .utf8)
        let first = try CLI.run(["segment", "--list", list, "-o", output, "--json"] + Self.small)
        #expect(first.status == 0, "\(first.stderr)")
        let records = try first.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(records.count == 2)
        #expect(records.first?["input"] as? String == input + "/city/a.png")
        #expect((records.first?["outputs"] as? [String])?.first?.hasSuffix("city/a_labels.png") == true)
        #expect(records.first?["passes"] as? Int == 1)
        let shares = try #require(records.first?["classes"] as? [[String: Any]])
        #expect(abs(shares.reduce(0) { $0 + ($1["fraction"] as? Double ?? 0) } - 1) < 1e-9)

        let labels = output + input + "/city/a_labels.png"
        let before = try FileManager.default.attributesOfItem(atPath: labels)[.modificationDate] as? Date
        try FileManager.default.removeItem(atPath: output + input + "/city/b_overlay.png")
        let again = try CLI.run(["segment", "--list", list, "-o", output, "--skip-existing"] + Self.small)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("skipping 1 of 2 images already done"), "\(again.stdout)")
        #expect(again.stdout.contains("city/b.png: "), "the incomplete image runs again: \(again.stdout)")
        #expect(try FileManager.default.attributesOfItem(atPath: labels)[.modificationDate] as? Date == before)
        #expect(FileManager.default.fileExists(atPath: output + input + "/city/b_overlay.png"))
    }

    @Test("--shard auto reads Slurm, AWS Batch and Kubernetes indices", arguments: [
        ("SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=2", "auto", "b"),
        ("AWS_BATCH_JOB_ARRAY_INDEX=0 AWS_BATCH_JOB_ARRAY_SIZE=3", "auto", "a"),
        ("JOB_COMPLETION_INDEX=2", "auto/3", "c"),
    ])
    func shardAuto(_ environment: String, _ shard: String, _ expected: String) throws {
        let input = try CLI.temporaryFolder(), output = try CLI.temporaryFolder()
        for name in ["a", "b", "c"] { try FileManager.default.copyItem(atPath: Self.photo, toPath: input + "/\(name).png") }
        let result = try CLI.run(["segment", input, "-o", output, "--shard", shard] + Self.small,
                                 shell: "exec env \(environment) \"$0\" \"$@\"")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted()
            == ["_color.png", "_labels.png", "_overlay.png"].map { expected + $0 })
    }

    @Test("--shard auto without a scheduler, or Kubernetes without a count, is one clear line")
    func shardAutoMissing() throws {
        let bare = try CLI.run(["segment", Self.photo, "-o", try CLI.temporaryFolder(), "--shard", "auto"],
                               shell: "exec env -u SLURM_ARRAY_TASK_ID -u AWS_BATCH_JOB_ARRAY_INDEX -u JOB_COMPLETION_INDEX \"$0\" \"$@\"")
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("expected SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX"), "\(bare.stderr)")
        let kubernetes = try CLI.run(["segment", Self.photo, "-o", try CLI.temporaryFolder(), "--shard", "auto"],
                                     shell: "exec env JOB_COMPLETION_INDEX=1 \"$0\" \"$@\"")
        #expect(kubernetes.stderr.contains("give it as --shard auto/n"), "\(kubernetes.stderr)")
    }

    @Test("evaluate split in shards and merged gives exactly the unsplit report")
    func splitAndMerge() throws {
        let folder = SegmentCommandTests.pipelineFixtures + "/eval", work = try CLI.temporaryFolder()
        let common = ["evaluate", "--images", folder + "/images", "--labels", folder + "/labels", "--weights", Self.r50,
                      "--base-size", "96", "--crop-size", "64", "--scales", "0.5,1,1.5"]
        let whole = try CLI.run(common + ["--json"])
        #expect(whole.status == 0, "\(whole.stderr)")
        for index in 0..<2 {
            let part = try CLI.run(common + ["--shard", "\(index)/2", "--save-counts", work + "/part\(index).json"])
            #expect(part.status == 0, "\(part.stderr)")
        }
        let merged = try CLI.run(["evaluate", "--merge", work + "/part0.json", work + "/part1.json", "--json"])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout == whole.stdout, "merged:\n\(merged.stdout)\nunsplit:\n\(whole.stdout)")
        let twice = try CLI.run(["evaluate", "--merge", work + "/part0.json", work + "/part0.json"])
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("found shard 0/2 again"), "\(twice.stderr)")
    }

    @Test("--version prints the version")
    func version() throws {
        let result = try CLI.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("danet "))
    }

    @Test("an mmseg checkpoint runs mmseg's pipeline by default, with HxW windows and strides")
    func mmsegPipeline() throws {
        let weights = InferCommandTests.danetFixtures + "/mmseg_v1c_r50.pth"
        let slide = try CLI.run(["segment", Self.photo, "-o", try CLI.temporaryFolder(), "--weights", weights, "--json",
                                 "--resize", "120x90", "--mode", "slide", "--crop-size", "64x48", "--stride", "40x30"])
        #expect(slide.status == 0, "\(slide.stderr)")
        #expect(slide.stdout.contains("\"passes\":8"), "2 x 4 windows of 64 x 48 on the 120 x 88 resize: \(slide.stdout)")
        let wrong = try CLI.run(["segment", Self.photo, "-o", try CLI.temporaryFolder(), "--weights", weights, "--pipeline", "official",
                                 "--stride", "40x30"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("--stride applies to --pipeline mmseg"), "\(wrong.stderr)")
    }
}

/// `danet scan`, `--strict` and the verdict, as a user deciding what to torch.load meets them.
@Suite("danet scan and the safety verdict")
struct ScanCommandTests {
    static let fixtures = URL(fileURLWithPath: CLI.fixtures).deletingLastPathComponent().path

    @Test("scan exits 0 for benign files, 1 when any is not clean, 2 for a usage error")
    func exitStatuses() throws {
        let benign = try CLI.run(["scan", Self.fixtures + "/benign"])
        #expect(benign.status == 0, "\(benign.stdout)\(benign.stderr)")
        #expect(benign.stdout.split(separator: "\n").count == 11)
        #expect(benign.stdout.contains("omegaconf_config.pth: needs weights_only=False only for known data classes: omegaconf.dictconfig.DictConfig"))
        #expect(benign.stdout.contains("ema_wrapper.pth: loads with torch.load(weights_only=True)"))
        let hostile = try CLI.run(["scan", "--json", Self.fixtures + "/hostile/bypass_zip_pydoc_pipepager.pth",
                                   Self.fixtures + "/hostile/unknown_legacy_acme_tools_deploy_run_everything.pth"])
        #expect(hostile.status == 1)
        let lines = try hostile.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(lines.map { $0["verdict"] as? String } == ["refused", "unknown-callables"])
        #expect(lines.map { $0["globals"] as? [String] } == [["pydoc.pipepager"], ["acme_tools.deploy.run_everything"]])
        #expect(try CLI.run(["scan"]).status == 2)
        #expect(try CLI.run(["scan", "--bogus", Self.fixtures + "/benign"]).status == 2)
        #expect(try CLI.run(["scan", "/nonexistent"]).status == 2)
    }

    @Test("an unknown callable loads with one warning line; --strict refuses it, naming it")
    func strict() throws {
        let file = Self.fixtures + "/hostile/unknown_zip_acme_tools_deploy_run_everything.pth"
        let loose = try CLI.run(["inspect", file])
        #expect(loose.status == 0)
        #expect(loose.stderr.split(separator: "\n").count == 1)
        #expect(loose.stderr.contains("warning: \(file): unknown callables acme_tools.deploy.run_everything"))
        #expect(loose.stdout.contains("verdict  unknown callables: acme_tools.deploy.run_everything"))
        #expect(loose.stdout.contains("acme_tools.deploy.run_everything  unknown  archive/data.pkl at byte"))
        let strict = try CLI.run(["inspect", "--strict", file])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("refused global 'acme_tools.deploy.run_everything' (not on the allow list; --strict)"))
        let benign = try CLI.run(["inspect", "--strict", "--json", Self.fixtures + "/benign/numpy_objects.pth"])
        #expect(benign.status == 0)
        #expect(benign.stderr.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(benign.stdout.utf8)) as? [String: Any])
        #expect((object["verdict"] as? String)?.hasPrefix("needs weights_only=False only for known data classes") == true)
        #expect(object["clean"] as? Bool == true)
        let globals = try #require(object["globals"] as? [[String: Any]])
        #expect(globals.contains { $0["name"] as? String == "numpy.ndarray" && $0["kind"] as? String == "known-data" })
    }

    @Test("convert finds EMA and model_state wrappers, and names a bare tensor")
    func wrappers() throws {
        let folder = try CLI.temporaryFolder()
        let ema = try CLI.run(["convert", Self.fixtures + "/benign/params_ema.pth", folder + "/ema.safetensors"])
        #expect(ema.status == 0, "\(ema.stderr)")
        #expect(ema.stdout.contains("from 'params_ema'"), "\(ema.stdout)")
        let bare = try CLI.run(["convert", Self.fixtures + "/benign/bare_tensor.pth", folder + "/bare.safetensors", "--strict"])
        #expect(bare.status == 0, "\(bare.stderr)")
        let inspect = try CLI.run(["inspect", folder + "/bare.safetensors"])
        #expect(inspect.stdout.contains("  tensor  float32  [2, 3]"), "\(inspect.stdout)")
    }
}
