import DANetModel
import DANetSupport
import Foundation
import Segmentation

/// One evaluation's confusion matrix as `evaluate --save-counts` writes it and `--merge` reads it:
/// integer counts, so that shards add up to exactly the unsplit run.
struct SavedCounts: Codable {
    static let formatName = "danet-confusion-counts"

    var format = SavedCounts.formatName
    var version = 1
    let dataset: String
    let classes: [String]
    let images: Int
    let failed: Int
    /// The shard it covers (`i/n`), or nil for a whole run or a merge.
    let shard: String?
    /// Row = ground-truth class, column = predicted class, row-major.
    let counts: [Int]

    var report: EvaluationReport {
        get throws {
            let matrix = try ConfusionMatrix(classes: classes.count, counts: counts)
            return EvaluationReport(dataset: dataset, images: images, failed: failed, matrix: matrix, classes: classes)
        }
    }

    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write([UInt8](try encoder.encode(self)), to: path)
    }

    /// The sum of the saved runs at `paths`.
    /// - Throws: `ModelError` naming the file that cannot be read or does not match the first.
    static func merged(_ paths: [String]) throws -> SavedCounts {
        var total: SavedCounts?
        var shards: [String: String] = [:]
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ModelError(.invalidInput, file: path, "expected a counts file from evaluate --save-counts, found "
                                 + (FileManager.default.fileExists(atPath: path) ? "a file that cannot be read" : "no such file"))
            }
            let part: SavedCounts
            do {
                part = try JSONDecoder().decode(SavedCounts.self, from: data)
            } catch {
                throw ModelError(.invalidInput, file: path, "expected a counts file from evaluate --save-counts, found other JSON or text")
            }
            guard part.format == formatName, part.version == 1, part.counts.count == part.classes.count * part.classes.count else {
                throw ModelError(.invalidInput, file: path, "expected \(formatName) version 1 with classes x classes counts, found "
                                 + "\(part.format) version \(part.version) with \(part.counts.count) counts for \(part.classes.count) classes")
            }
            if let shard = part.shard {
                if let other = shards[shard] {
                    throw ModelError(.invalidInput, file: path, "expected each shard once, found shard \(shard) again (also in \(other))")
                }
                shards[shard] = path
            }
            guard let sum = total else {
                total = part
                continue
            }
            guard part.dataset == sum.dataset, part.classes == sum.classes else {
                throw ModelError(.invalidInput, file: path, "expected counts of \(sum.dataset) (\(sum.classes.count) classes) like \(paths[0]), "
                                 + "found \(part.dataset) (\(part.classes.count) classes)")
            }
            total = SavedCounts(dataset: sum.dataset, classes: sum.classes, images: sum.images + part.images, failed: sum.failed + part.failed,
                                shard: nil, counts: zip(sum.counts, part.counts).map { $0 + $1 })
        }
        guard let total else { throw ModelError(.invalidInput, "expected counts files to merge, found none") }
        return SavedCounts(dataset: total.dataset, classes: total.classes, images: total.images, failed: total.failed, shard: nil, counts: total.counts)
    }
}
