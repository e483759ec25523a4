import DANetSupport
import Foundation
import Imaging

/// Reading and writing image files.
extension RGBImage {
    /// Reads a PNG or JPEG file (told apart by its bytes, not its name): PNG of any bit depth and
    /// colour type (grey, palette, RGBA; alpha is dropped as OpenCV and mmsegmentation do) or JPEG
    /// with its EXIF orientation applied.
    /// - Throws: `ImageError` naming the file for an unreadable, corrupt, unsupported or too
    ///   large image (`ImageFile.maxPixels`).
    public init(contentsOf url: URL) throws {
        self = try ImageFile.readRGB(url.displayPath)
    }

    /// Decodes PNG or JPEG bytes; `name` stands for the file in errors. `maxPixels` (at most
    /// `ImageFile.maxPixels`) is checked against the header before any pixel is decoded, so a
    /// server can refuse a small file that claims a huge image without allocating for it.
    /// - Throws: `ImageError`, as `init(contentsOf:)`.
    public init(encoded data: Data, name: String = "image", maxPixels: Int = ImageFile.maxPixels) throws {
        self = try ImageFile.decodeRGB([UInt8](data), name: name, maxPixels: min(maxPixels, ImageFile.maxPixels))
    }

    /// The image as an 8-bit RGB PNG file.
    /// - Throws: `ImageError` if libpng cannot encode it.
    public func pngData() throws -> Data {
        Data(try ImageFile.encodePNG(pixels, width: width, height: height, channels: 3))
    }
}

/// Reading and writing label files.
extension LabelMap {
    /// Reads an 8-bit single-channel PNG of class indices (a dataset's label file), with the class
    /// names and colours to give them.
    /// - Throws: `ImageError` naming the file for an unreadable file or one that is not 8-bit grey.
    public init(contentsOf url: URL, classes: [String] = [], palette: [RGBColor] = []) throws {
        let read = try ImageFile.readLabels(url.displayPath)
        self.init(checkedWidth: read.width, height: read.height, labels: read.values, classes: classes, palette: palette)
    }

    /// The class indices as an 8-bit grey PNG file, as datasets store labels.
    /// - Throws: `ImageError` if libpng cannot encode it.
    public func pngData() throws -> Data {
        Data(try ImageFile.encodePNG(labels, width: width, height: height, channels: 1))
    }
}

/// Reads PNG and JPEG files (by their bytes, not their names) and encodes PNG.
public enum ImageFile {
    /// The largest image read, in pixels (8192 x 8192; a Cityscapes frame has 2 million). A few
    /// hundred bytes of header can claim any size, so the decoders check before they allocate.
    public static let maxPixels = 1 << 26

    /// Decodes PNG or JPEG bytes (told apart by their signature) as RGB; `name` is used in errors.
    package static func decodeRGB(_ bytes: [UInt8], name: String, maxPixels: Int = ImageFile.maxPixels) throws -> RGBImage {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGCodec.decodeRGB(bytes, file: name, maxPixels: maxPixels) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try JPEGCodec.decodeRGB(bytes, file: name, maxPixels: maxPixels) }
        throw ImageError(file: name, "expected a PNG or JPEG image, found \(bytes.isEmpty ? "an empty file" : "other data")")
    }

    /// Decodes the bytes of an 8-bit single-channel PNG (a label map) as its raw values.
    package static func decodeLabels(_ bytes: [UInt8], name: String) throws -> (width: Int, height: Int, values: [UInt8]) {
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw ImageError(file: name, "expected a PNG label map, found other data")
        }
        return try PNGCodec.decodeLabels(bytes, file: name)
    }

    /// Throws unless a `width` x `height` image is within `maxPixels`.
    static func checkSize(_ width: Int, _ height: Int, file: String, maxPixels: Int = ImageFile.maxPixels) throws {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).partialValue <= maxPixels,
              width <= maxPixels, height <= maxPixels else {
            throw ImageError(file: file, "expected an image of at most \(maxPixels) pixels, found \(width) x \(height)")
        }
    }

    /// Reads `path` as RGB: PNG of any bit depth and colour type (grey, palette, RGBA; alpha is
    /// dropped as OpenCV and mmseg do) or JPEG with its EXIF orientation applied.
    /// - Throws: `ImageError` naming the file for unreadable, corrupt or unsupported images.
    package static func readRGB(_ path: String) throws -> RGBImage {
        try decodeRGB(try contents(path), name: path)
    }

    /// Reads an 8-bit single-channel PNG (a label map) as its raw values.
    package static func readLabels(_ path: String) throws -> (width: Int, height: Int, values: [UInt8]) {
        try decodeLabels(try contents(path), name: path)
    }

    static func contents(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError(file: path, "expected a readable file, found \(FileManager.default.fileExists(atPath: path) ? "one that cannot be read" : "no such file")")
        }
        return [UInt8](data)
    }
}

extension ImageFile {
    /// PNG bytes of 8-bit grey pixels (`channels` 1) or RGB pixels (`channels` 3).
    package static func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int, file: String = "") throws -> [UInt8] {
        try PNGCodec.encode(pixels, width: width, height: height, channels: channels, file: file)
    }
}
