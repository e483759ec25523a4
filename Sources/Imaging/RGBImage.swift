import DANetSupport

/// An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B).
///
/// Read one from a PNG or JPEG file with ImageCodecs (`RGBImage(contentsOf:)`), or build one from
/// pixels you already have.
public struct RGBImage: Sendable, Equatable {
    /// Columns.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `width * height * 3` bytes: R, G, B of each pixel, row by row.
    public let pixels: [UInt8]

    /// An image of `width` x `height` pixels.
    /// - Throws: `ImageError` unless both sizes are positive and `pixels` holds exactly
    ///   `width * height * 3` bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, !width.multipliedReportingOverflow(by: height).overflow,
              pixels.count == width * height * 3 else {
            throw ImageError(file: "", "expected \(width) x \(height) x 3 = \(max(0, width) &* max(0, height) &* 3) bytes of RGB pixels "
                             + "with positive sizes, found \(pixels.count) bytes")
        }
        self.init(checkedWidth: width, height: height, pixels: pixels)
    }

    /// For sizes the package computed itself.
    package init(checkedWidth width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour at column `x`, row `y`; nil outside the image.
    public subscript(x x: Int, y y: Int) -> RGBColor? {
        guard (0..<width).contains(x), (0..<height).contains(y) else { return nil }
        let at = (y * width + x) * 3
        return RGBColor(pixels[at], pixels[at + 1], pixels[at + 2])
    }
}

/// One 8-bit RGB colour, as palettes hold them.
public struct RGBColor: Sendable, Hashable, CustomStringConvertible {
    /// Red, 0...255.
    public var red: UInt8
    /// Green, 0...255.
    public var green: UInt8
    /// Blue, 0...255.
    public var blue: UInt8

    /// The colour (red, green, blue).
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// `(128, 64, 128)`.
    public var description: String { "(\(red), \(green), \(blue))" }
}

/// Why an image could not be read, written or built: one line naming the file.
public struct ImageError: DANetError, Equatable {
    /// The file concerned, or "" for an image built in memory.
    public let file: String
    /// The rest of the line, after the file.
    public let message: String

    /// An error about `file`.
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { errorLine(file: file, message) }
}
