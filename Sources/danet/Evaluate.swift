import ArgumentParser
import DANetModel
import Foundation
import ImageCodecs
import Imaging
import Segmentation

/// `danet evaluate`: mIoU, pixel accuracy and per-class IoU on labelled images.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure mIoU on labelled images with the segment pipeline.",
        discussion: """
            Each image in --images is paired with the label PNG in --labels at the same relative \
            path and name: NAME.png, or for Cityscapes NAME without '_leftImg8bit' plus \
            '_gtFine_labelTrainIds.png' (or '_gtFine_labelIds.png' with --label-ids, mapped to trainIds). \
            Labels are 8-bit grey PNGs; 255 is ignored. For a split run, give each part --shard and \
            --save-counts, then `danet evaluate --merge A.json B.json ...` reports the whole: the \
            counts add up, so the merged mIoU is exactly that of one unsplit run. Exit status: 0 when \
            every image was evaluated, 1 when some failed (one line each), 64 for a usage error.
            """
    )

    @Option(help: "Folder of images (searched recursively).", completion: .directory)
    var images: String?

    @Option(help: "Folder of label PNGs with the same structure.", completion: .directory)
    var labels: String?

    @Flag(help: "Labels are Cityscapes labelIds; map them to the 19 trainIds.")
    var labelIds = false

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Evaluate only one shard of the images: i/n, auto or auto/n, as for segment.")
    var shard: String?

    @Option(help: "Write this run's confusion matrix to a JSON file, for --merge.", completion: .file(extensions: ["json"]))
    var saveCounts: String?

    @Option(parsing: .upToNextOption, help: "Instead of evaluating, merge the --save-counts files of shards into one report.",
            completion: .file(extensions: ["json"]))
    var merge: [String] = []

    @OptionGroup var pipeline: PipelineOptions

    func validate() throws {
        if let shard { _ = try Shard.parse(shard) }
        if merge.isEmpty {
            guard images != nil, labels != nil else { throw ValidationError("give --images and --labels, or --merge FILE.json...") }
        } else {
            guard images == nil, labels == nil, shard == nil else {
                throw ValidationError("--merge combines saved counts; it takes no --images, --labels or --shard")
            }
        }
    }

    func run() throws {
        if !merge.isEmpty {
            try reportingErrors {
                let report = try SavedCounts.merged(merge).report
                print(json ? try report.jsonText() : report.text())
            }
            return
        }
        var failures = 0
        try reportingErrors {
            let (images, labels) = (self.images!, self.labels!)
            var pairs = try Evaluate.pairs(images: images, labels: labels, labelIds: labelIds)
            let shard = try Shard.fromOption(self.shard)
            if let shard { pairs = shard.select(pairs) }
            guard !pairs.isEmpty else {
                throw ModelError(.invalidInput, file: images, "expected images with labels in \(labels), found none"
                                 + (shard.map { " in shard \($0.description)" } ?? ""))
            }
            let (segmenter, preset) = try pipeline.makePipeline()
            var matrix = ConfusionMatrix(classes: preset.classes.count)
            var bar = ProgressBar(label: "evaluating", total: pairs.count)
            var evaluated = 0
            for (index, pair) in pairs.enumerated() {
                do {
                    let image = try RGBImage(contentsOf: URL(fileURLWithPath: pair.image))
                    var label = try LabelMap(contentsOf: URL(fileURLWithPath: pair.label))
                    guard label.width == image.width, label.height == image.height else {
                        throw ImageError(file: pair.label, "expected a \(image.width)x\(image.height) label map like its image, found \(label.width)x\(label.height)")
                    }
                    if labelIds {
                        label = try LabelMap(width: label.width, height: label.height,
                                             labels: label.labels.map { DatasetPreset.cityscapesTrainIds[Int($0)] })
                    }
                    try matrix.add(prediction: try segmenter.predict(image), truth: label)
                    evaluated += 1
                } catch let error as ImageError {
                    failures += 1
                    Terminal.standardError("danet: error: \(error)")
                }
                bar.update(index + 1)
            }
            let counts = SavedCounts(dataset: preset.name, classes: preset.classes, images: evaluated, failed: failures,
                                     shard: shard?.description, counts: matrix.counts)
            if let saveCounts { try counts.write(to: saveCounts) }
            let report = try counts.report
            print(json ? try report.jsonText() : report.text())
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// (image, label) paths matched by relative path and name.
    static func pairs(images: String, labels: String, labelIds: Bool) throws -> [(image: String, label: String)] {
        let items = try ImageList.collect([images])
        var result: [(String, String)] = []
        for item in items {
            let stem = item.relativeStem
            var candidates = [stem + ".png"]
            if stem.hasSuffix("_leftImg8bit") {
                let base = String(stem.dropLast("_leftImg8bit".count))
                candidates = [base + (labelIds ? "_gtFine_labelIds.png" : "_gtFine_labelTrainIds.png")] + candidates
            }
            if let match = candidates.map({ labels + "/" + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) {
                result.append((item.path, match))
            } else {
                Terminal.standardError("danet: warning: \(item.path): no label found (looked for \(candidates.joined(separator: ", ")) in \(labels))")
            }
        }
        return result
    }
}

/// What `evaluate` prints.
struct EvaluationReport: Encodable {
    struct ClassScore: Encodable {
        let name: String
        let iou: Double?
    }

    let dataset: String
    let images: Int
    let failed: Int
    let mIoU: Double
    let pixelAccuracy: Double
    let perClass: [ClassScore]

    init(dataset: String, images: Int, failed: Int, matrix: ConfusionMatrix, classes: [String]) {
        self.dataset = dataset
        self.images = images
        self.failed = failed
        mIoU = matrix.meanIoU
        pixelAccuracy = matrix.pixelAccuracy
        perClass = zip(classes, matrix.iou).map { ClassScore(name: $0, iou: $1) }
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        func percent(_ value: Double) -> String { String(format1: value * 100) }
        var lines = ["\(dataset): \(images) images\(failed > 0 ? ", \(failed) failed" : "")",
                     "mIoU \(percent(mIoU))%   pixel accuracy \(percent(pixelAccuracy))%", ""]
        lines += Format.table([["class", "IoU %"]] + perClass.map { [$0.name, $0.iou.map(percent) ?? "-"] }, rightAligned: [1])
        return lines.joined(separator: "\n")
    }
}
