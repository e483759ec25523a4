/// Colour masks, overlays and class shares of a label map.
enum Masks {
    static func colour(_ labels: [UInt8], palette: [[UInt8]]) -> [UInt8] {
        var pixels = [UInt8](repeating: 0, count: labels.count * 3)
        for (i, label) in labels.enumerated() where Int(label) < palette.count {
            pixels[i * 3] = palette[Int(label)][0]
            pixels[i * 3 + 1] = palette[Int(label)][1]
            pixels[i * 3 + 2] = palette[Int(label)][2]
        }
        return pixels
    }

    static func overlay(_ photo: [UInt8], _ colour: [UInt8], alpha: Double) -> [UInt8] {
        zip(photo, colour).map { p, c in UInt8((Double(p) * (1 - alpha) + Double(c) * alpha).rounded()) }
    }

    /// "road 41.2%, sky 30.1%, ..." for the classes present, largest first.
    static func shares(_ labels: [UInt8], classes: [String]) -> [String] {
        var counts = [Int](repeating: 0, count: 256)
        for label in labels { counts[Int(label)] += 1 }
        return counts.enumerated().filter { $0.element > 0 }.sorted { $0.element > $1.element }.map { index, count in
            let name = index < classes.count ? classes[index] : "class \(index)"
            return "\(name) \(String(format1: 100 * Double(count) / Double(labels.count)))%"
        }
    }
}
