import ArgumentParser
import DANetModel
import DANetSupport
import Foundation
import ImageCodecs
import Imaging
import Segmentation

/// `danet segment`: photos in; class-index masks, colour masks and overlays out.
struct Segment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment images with the official test-time pipeline.",
        discussion: """
            For each image writes NAME_labels.png (8-bit class indices), NAME_color.png (the dataset \
            palette) and NAME_overlay.png (the palette over the photo) into OUTDIR. NAME keeps the \
            folder structure of folder arguments and of --list lines; a file argument is named by \
            its file name. If two inputs would write the same NAME, nothing runs and the two are \
            named. Without --weights the bundled street-scene model runs. A file that cannot be \
            read is reported and skipped. Exit status: 0 when every image was written, 1 when some \
            failed (one line each) and the others were written, 64 for a usage error.
            """
    )

    @Argument(help: "Images (PNG or JPEG) or folders of them.", completion: .file(extensions: ["png", "jpg", "jpeg"]))
    var inputs: [String] = []

    @Option(name: .customLong("list"), help: "A file with one image path per line (blank lines and # comments skipped); repeatable.",
            completion: .file())
    var lists: [String] = []

    @Option(name: .shortAndLong, help: "Output folder.", completion: .directory)
    var output: String?

    @Option(help: "Opacity of the colours in the overlay, 0...1.")
    var alpha: Double = 0.5

    @Option(help: """
        Process only the images of one shard: i/n (0-based), or auto to read a Slurm array \
        (SLURM_ARRAY_TASK_ID, _MIN, _COUNT) or an AWS Batch array job, or auto/n for a Kubernetes \
        Indexed Job (JOB_COMPLETION_INDEX). Image k of the list goes to shard k mod n.
        """)
    var shard: String?

    @Flag(help: "Skip images whose three outputs already exist (outputs appear only when complete), so a re-run resumes.")
    var skipExisting = false

    @Flag(help: "Print one JSON object per image (JSON Lines) instead of text.")
    var json = false

    @Flag(help: "Print the dataset's class names and colours and exit.")
    var listClasses = false

    @OptionGroup var pipeline: PipelineOptions

    func validate() throws {
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1, found \(alpha)") }
        if let shard { _ = try Shard.parse(shard) }
        if !listClasses {
            guard !inputs.isEmpty || !lists.isEmpty else { throw ValidationError("give at least one image, folder or --list") }
            guard output != nil else { throw ValidationError("give an output folder with -o OUTDIR") }
        }
    }

    static let suffixes = ["_labels.png", "_color.png", "_overlay.png"]

    func run() throws {
        if listClasses {
            let preset = pipeline.dataset?.preset ?? .street
            for (index, name) in preset.classes.enumerated() {
                print("\(String(index).leftPadded(to: 3, with: " "))  \(name.padding(toLength: 20, withPad: " ", startingAt: 0))  \(preset.palette[index])")
            }
            return
        }
        var failures = 0
        try reportingErrors {
            let all = try ImageList.collect(inputs, lists: lists)
            try ImageList.checkDistinctOutputs(all)
            let shard = try Shard.fromOption(self.shard)
            var images = shard.map { $0.select(all) } ?? all
            guard !images.isEmpty else {
                throw ModelError(.invalidInput, file: (inputs + lists).joined(separator: " "),
                                 "expected PNG or JPEG images, found none\(shard.map { " in shard \($0.description)" } ?? "")")
            }
            let outputFolder = output!
            if skipExisting {
                let before = images.count
                images.removeAll { item in
                    Segment.suffixes.allSatisfy { FileManager.default.fileExists(atPath: outputFolder + "/" + item.relativeStem + $0) }
                }
                if !json && before > images.count { print("skipping \(before - images.count) of \(before) images already done") }
                if images.isEmpty { return }
            }
            let (segmenter, _) = try pipeline.makePipeline()
            for (index, image) in images.enumerated() {
                do {
                    try segmentOne(image, number: index + 1, of: images.count, segmenter: segmenter, into: outputFolder)
                } catch let error as ImageError {
                    failures += 1
                    Terminal.standardError("danet: error: \(error)")
                } catch let error as FileError {
                    failures += 1
                    Terminal.standardError("danet: error: \(error)")
                }
            }
            if failures > 0 { Terminal.standardError("danet: \(failures) of \(images.count) images failed; the others were written") }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    private func segmentOne(_ item: ImageList.Item, number: Int, of total: Int, segmenter: SegmentationPipeline, into folder: String) throws {
        let image = try RGBImage(contentsOf: URL(fileURLWithPath: item.path))
        var bar = ProgressBar(label: "image \(number)/\(total)", total: segmenter.passCount(height: image.height, width: image.width))
        let start = Platform.monotonicSeconds()
        var passes = 0
        let labels = try segmenter.predict(image) { progress in
            passes = progress.completedPasses
            bar.update(passes)
        }
        let seconds = Platform.monotonicSeconds() - start
        let base = folder + "/" + item.relativeStem
        try FileManager.default.createDirectory(atPath: (base as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let outputs = [try labels.pngData(), try labels.colorized().pngData(), try labels.overlay(on: image, alpha: alpha).pngData()]
        for (suffix, png) in zip(Segment.suffixes, outputs) {
            try AtomicFile.write([UInt8](png), to: base + suffix)
        }
        let shares = labels.classShares()
        if json {
            let record = SegmentRecord(input: item.path, outputs: Segment.suffixes.map { base + $0 }, width: image.width,
                                       height: image.height, passes: passes, seconds: seconds,
                                       classes: shares.map { .init(index: Int($0.label), name: $0.name, fraction: $0.fraction) })
            print(try record.jsonLine())
        } else {
            print("\(item.path): \(image.width)x\(image.height), \(passes) passes in \(String(seconds: seconds)) s -> \(base)_{labels,color,overlay}.png")
            print("  " + shares.map { "\($0.name) \(String(format1: 100 * $0.fraction))%" }.joined(separator: ", "))
        }
    }
}

/// What `segment --json` prints per image, one line each.
struct SegmentRecord: Encodable {
    struct Share: Encodable {
        let index: Int
        let name: String
        let fraction: Double
    }

    let input: String
    /// The labels, colour and overlay PNGs, in that order.
    let outputs: [String]
    let width: Int
    let height: Int
    let passes: Int
    let seconds: Double
    /// Classes present, largest share first.
    let classes: [Share]

    func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
