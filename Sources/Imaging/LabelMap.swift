/// A class index per pixel, with the class names and colours that give the indices meaning: what
/// segmentation produces, and what a dataset's label PNG holds.
///
/// ```swift
/// let labels = try await pipeline.segment(image)
/// labels[x: 10, y: 20]                   // the class index there
/// labels.classes[Int(labels[x: 10, y: 20])]
/// let colours = labels.colorized()       // an RGBImage in the dataset's palette
/// ```
public struct LabelMap: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `width * height` class indices, row by row.
    public let labels: [UInt8]
    /// Class names by index (may be empty for a label file read on its own).
    public let classes: [String]
    /// A colour per class index, for `colorized()` and `overlay(on:alpha:)`.
    public let palette: [RGBColor]

    /// Labels ignored in scoring, as mmsegmentation and Cityscapes use it.
    public static let ignoreIndex: UInt8 = 255

    /// A label map of `width` x `height` pixels.
    /// - Throws: `ImageError` unless both sizes are positive and `labels` holds `width * height` values.
    public init(width: Int, height: Int, labels: [UInt8], classes: [String] = [], palette: [RGBColor] = []) throws {
        guard width > 0, height > 0, !width.multipliedReportingOverflow(by: height).overflow, labels.count == width * height else {
            throw ImageError(file: "", "expected \(width) x \(height) labels with positive sizes, found \(labels.count) values")
        }
        self.init(checkedWidth: width, height: height, labels: labels, classes: classes, palette: palette)
    }

    /// For sizes the package computed itself.
    package init(checkedWidth width: Int, height: Int, labels: [UInt8], classes: [String], palette: [RGBColor]) {
        self.width = width
        self.height = height
        self.labels = labels
        self.classes = classes
        self.palette = palette
    }

    /// The class index at column `x`, row `y`; outside the map, `ignoreIndex` (no class).
    public subscript(x x: Int, y y: Int) -> UInt8 {
        guard (0..<width).contains(x), (0..<height).contains(y) else { return LabelMap.ignoreIndex }
        return labels[y * width + x]
    }

    /// The same labels with other names and colours.
    public func with(classes: [String], palette: [RGBColor]) -> LabelMap {
        LabelMap(checkedWidth: width, height: height, labels: labels, classes: classes, palette: palette)
    }

    /// Each pixel in its class's colour; indices without a colour (255, or beyond the palette) are black.
    public func colorized() -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: labels.count * 3)
        for (i, label) in labels.enumerated() where Int(label) < palette.count {
            let colour = palette[Int(label)]
            pixels[i * 3] = colour.red
            pixels[i * 3 + 1] = colour.green
            pixels[i * 3 + 2] = colour.blue
        }
        return RGBImage(checkedWidth: width, height: height, pixels: pixels)
    }

    /// The class colours laid over `image` with opacity `alpha` (0: the photo, 1: the colours),
    /// rounded to the nearest level.
    /// - Throws: `ImageError` when `image` has another size or `alpha` is outside 0...1.
    public func overlay(on image: RGBImage, alpha: Double) throws -> RGBImage {
        guard image.width == width, image.height == height else {
            throw ImageError(file: "", "expected an image of \(width) x \(height) like the labels, found \(image.width) x \(image.height)")
        }
        guard (0...1).contains(alpha) else {
            throw ImageError(file: "", "expected an overlay opacity between 0 and 1, found \(alpha)")
        }
        let colours = colorized().pixels
        let pixels = zip(image.pixels, colours).map { photo, colour in
            UInt8((Double(photo) * (1 - alpha) + Double(colour) * alpha).rounded())
        }
        return RGBImage(checkedWidth: width, height: height, pixels: pixels)
    }

    /// The share of the pixels each class covers, largest first, classes absent left out.
    public func classShares() -> [(label: UInt8, name: String, fraction: Double)] {
        var counts = [Int](repeating: 0, count: 256)
        for label in labels { counts[Int(label)] += 1 }
        return counts.enumerated().filter { $0.element > 0 }.sorted { $0.element > $1.element }.map { index, count in
            (UInt8(index), index < classes.count ? classes[index] : "class \(index)", Double(count) / Double(labels.count))
        }
    }
}
