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
            palette) and NAME_overlay.png (the palette over the photo) into OUTDIR, keeping the \
            folder structure of directory arguments. Without --weights the bundled street-scene \
            model runs. A file that cannot be read is reported and skipped; the exit status is 1 \
            if any image failed.
            """
    )

    @Argument(help: "Images (PNG or JPEG) or folders of them.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String?

    @Option(help: "Opacity of the colours in the overlay, 0...1.")
    var alpha: Double = 0.5

    @Option(help: "Process only images i, i+n, i+2n... (0-based i/n), e.g. from a Slurm array or a Kubernetes indexed Job.")
    var shard: String?

    @Flag(help: "Print the dataset's class names and colours and exit.")
    var listClasses = false

    @OptionGroup var pipeline: PipelineOptions

    func validate() throws {
        guard (0...1).contains(alpha) else { throw ValidationError("--alpha must be between 0 and 1, found \(alpha)") }
        if let shard { _ = try Shard(shard) }
        if !listClasses {
            guard !inputs.isEmpty else { throw ValidationError("give at least one image or folder") }
            guard output != nil else { throw ValidationError("give an output folder with -o OUTDIR") }
        }
    }

    func run() throws {
        if listClasses {
            let preset = pipeline.dataset.flatMap(DatasetPreset.named) ?? .street
            for (index, name) in preset.classes.enumerated() {
                print("\(String(index).leftPadded(to: 3, with: " "))  \(name.padding(toLength: 20, withPad: " ", startingAt: 0))  \(preset.palette[index])")
            }
            return
        }
        var failures = 0
        try reportingErrors {
            var images = try ImageList.collect(inputs)
            if let shard { images = try Shard(shard).select(images) }
            guard !images.isEmpty else {
                throw ModelError(.invalidInput, file: inputs.joined(separator: " "), "expected PNG or JPEG images, found none\(shard.map { " in shard \($0)" } ?? "")")
            }
            let (segmenter, preset) = try pipeline.makePipeline()
            let outputFolder = output!
            for (index, image) in images.enumerated() {
                do {
                    try segmentOne(image, number: index + 1, of: images.count, segmenter: segmenter, preset: preset, into: outputFolder)
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

    private func segmentOne(_ item: ImageList.Item, number: Int, of total: Int, segmenter: SegmentationPipeline,
                            preset: DatasetPreset, into folder: String) throws {
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
        let outputs = [("_labels.png", try labels.pngData()), ("_color.png", try labels.colorized().pngData()),
                       ("_overlay.png", try labels.overlay(on: image, alpha: alpha).pngData())]
        for (suffix, png) in outputs {
            try AtomicFile.write([UInt8](png), to: base + suffix)
        }
        print("\(item.path): \(image.width)x\(image.height), \(passes) passes in \(String(seconds: seconds)) s -> \(base)_{labels,color,overlay}.png")
        print("  " + labels.classShares().map { "\($0.name) \(String(format1: 100 * $0.fraction))%" }.joined(separator: ", "))
    }
}

/// `--shard i/n`: the i-th of n interleaved parts, 0-based.
struct Shard {
    let index: Int
    let count: Int

    init(_ text: String) throws {
        let parts = text.split(separator: "/").map { Int($0) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, (0..<count).contains(index) else {
            throw ValidationError("--shard takes i/n with 0 <= i < n, e.g. 0/4; found '\(text)'")
        }
        self.index = index
        self.count = count
    }

    func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}
