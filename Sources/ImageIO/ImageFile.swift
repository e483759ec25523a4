import Foundation

/// Reads PNG and JPEG files (by their bytes, not their names) and encodes PNG.
public enum ImageFile {
    /// Reads `path` as RGB: PNG of any bit depth and colour type (grey, palette, RGBA; alpha is
    /// dropped as OpenCV and mmseg do) or JPEG with its EXIF orientation applied.
    /// - Throws: `ImageError` naming the file for unreadable, corrupt or unsupported images.
    public static func readRGB(_ path: String) throws -> RGBImage {
        let bytes = try contents(path)
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGCodec.decodeRGB(bytes, file: path) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try JPEGCodec.decodeRGB(bytes, file: path) }
        throw ImageError(file: path, "expected a PNG or JPEG image, found \(bytes.isEmpty ? "an empty file" : "other data")")
    }

    /// Reads an 8-bit single-channel PNG (a label map) as its raw values.
    public static func readLabels(_ path: String) throws -> (width: Int, height: Int, values: [UInt8]) {
        let bytes = try contents(path)
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw ImageError(file: path, "expected a PNG label map, found other data")
        }
        return try PNGCodec.decodeLabels(bytes, file: path)
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
    public static func encodePNG(_ pixels: [UInt8], width: Int, height: Int, channels: Int, file: String = "") throws -> [UInt8] {
        try PNGCodec.encode(pixels, width: width, height: height, channels: channels, file: file)
    }
}
