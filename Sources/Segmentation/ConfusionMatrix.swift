/// Counts of (label, prediction) pairs over a dataset, and the scores mmseg reports from them.
public struct ConfusionMatrix: Sendable, Equatable {
    public let classes: Int
    /// Row = ground-truth class, column = predicted class.
    public private(set) var counts: [Int]
    public static let ignoreIndex: UInt8 = 255

    public init(classes: Int) {
        self.classes = classes
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// Adds one image; labels equal to 255 (or beyond the class count) are ignored.
    public mutating func add(prediction: [UInt8], label: [UInt8]) {
        precondition(prediction.count == label.count)
        for (p, l) in zip(prediction, label) where l != ConfusionMatrix.ignoreIndex && Int(l) < classes && Int(p) < classes {
            counts[Int(l) * classes + Int(p)] += 1
        }
    }

    public static func + (a: ConfusionMatrix, b: ConfusionMatrix) -> ConfusionMatrix {
        var sum = a
        for i in sum.counts.indices { sum.counts[i] += b.counts[i] }
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
