import Imaging

/// Counts of (label, prediction) pairs over a dataset, and the scores mmseg reports from them.
public struct ConfusionMatrix: Sendable, Equatable {
    /// Classes counted.
    public let classes: Int
    /// Row = ground-truth class, column = predicted class.
    public private(set) var counts: [Int]
    /// Labels ignored: 255, as mmsegmentation and Cityscapes use it.
    public static let ignoreIndex: UInt8 = LabelMap.ignoreIndex

    /// An empty matrix for `classes` classes (1 to 255: labels are bytes, and 255 is ignored).
    public init(classes: Int) {
        self.classes = min(max(1, classes), 255)
        counts = [Int](repeating: 0, count: self.classes * self.classes)
    }

    /// A matrix with counts already made, for example by another process (row = ground truth).
    /// - Throws: `SegmentationError` unless `counts` holds `classes * classes` non-negative numbers
    ///   and `classes` is 1 to 255.
    public init(classes: Int, counts: [Int]) throws {
        guard (1...255).contains(classes), counts.count == classes * classes, counts.allSatisfy({ $0 >= 0 }) else {
            throw SegmentationError("expected \(classes) x \(classes) non-negative counts for 1 to 255 classes, found \(counts.count) values")
        }
        self.classes = classes
        self.counts = counts
    }

    /// Adds one image; labels equal to 255 (or beyond the class count) are ignored.
    /// - Throws: `SegmentationError` when the two differ in size.
    public mutating func add(prediction: LabelMap, truth: LabelMap) throws {
        guard prediction.width == truth.width, prediction.height == truth.height else {
            throw SegmentationError("expected a \(prediction.width)x\(prediction.height) label map like the prediction, "
                                    + "found \(truth.width)x\(truth.height)")
        }
        try add(prediction: prediction.labels, label: truth.labels)
    }

    /// Adds one image given as class indices; labels equal to 255 (or beyond the class count) are ignored.
    /// - Throws: `SegmentationError` when the two differ in length.
    public mutating func add(prediction: [UInt8], label: [UInt8]) throws {
        guard prediction.count == label.count else {
            throw SegmentationError("expected as many labels as predicted pixels (\(prediction.count)), found \(label.count)")
        }
        for (p, l) in zip(prediction, label) where l != ConfusionMatrix.ignoreIndex && Int(l) < classes && Int(p) < classes {
            counts[Int(l) * classes + Int(p)] += 1
        }
    }

    /// The counts of both, for matrices of the same classes.
    /// - Throws: `SegmentationError` when the class counts differ.
    public func adding(_ other: ConfusionMatrix) throws -> ConfusionMatrix {
        guard other.classes == classes else {
            throw SegmentationError("expected confusion matrices of \(classes) classes, found one of \(other.classes)")
        }
        var sum = self
        for i in sum.counts.indices { sum.counts[i] += other.counts[i] }
        return sum
    }

    /// Intersection over union per class; nil for a class that appears in neither labels nor predictions.
    public var iou: [Double?] {
        (0..<classes).map { c in
            let intersection = counts[c * classes + c]
            let labelled = (0..<classes).reduce(0) { $0 + counts[c * classes + $1] }
            let predicted = (0..<classes).reduce(0) { $0 + counts[$1 * classes + c] }
            let union = labelled + predicted - intersection
            return union == 0 ? nil : Double(intersection) / Double(union)
        }
    }

    /// Mean over the classes that occur (mmseg's nanmean).
    public var meanIoU: Double {
        let present = iou.compactMap { $0 }
        return present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }

    /// Correct pixels over labelled pixels (mmseg's aAcc).
    public var pixelAccuracy: Double {
        let total = counts.reduce(0, +)
        return total == 0 ? 0 : Double((0..<classes).reduce(0) { $0 + counts[$1 * classes + $1] }) / Double(total)
    }
}
