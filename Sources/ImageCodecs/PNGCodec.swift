import Imaging
import CLibPNG

/// PNG through libpng's simplified API (`png_image_*`), which reports errors instead of longjmp-ing.
enum PNGCodec {
    // png.h builds these from flags in macros Swift does not import: alpha 1, colour 2, linear 4.
    static let gray: UInt32 = 0, rgb: UInt32 = 2, rgba: UInt32 = 3, linearRGBA: UInt32 = 7, alphaFlag: UInt32 = 1, linearFlag: UInt32 = 4

    static func decodeRGB(_ bytes: [UInt8], file: String, maxPixels: Int = ImageFile.maxPixels) throws -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        try begin(&image, bytes, file: file, maxPixels: maxPixels)
        defer { png_image_free(&image) }
        let width = Int(image.width), height = Int(image.height)
        // 16-bit files are read as linear 16-bit (unchanged when they carry no gamma) and cut to
        // 8 bits as OpenCV does; 8-bit files with alpha are read as 8-bit RGBA and the alpha is
        // dropped (libpng would composite it); 8-bit files without are read as RGB directly.
        let sixteen = image.format & linearFlag != 0
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        if !sixteen && image.format & alphaFlag == 0 {
            image.format = self.rgb
            try finish(&image, &rgb, file: file)
        } else if sixteen {
            image.format = linearRGBA
            var wide = [UInt16](repeating: 0, count: width * height * 4)
            try finish(&image, &wide, file: file)
            for i in 0..<(width * height) {
                for c in 0..<3 { rgb[i * 3 + c] = UInt8(wide[i * 4 + c] >> 8) }
            }
        } else {
            image.format = rgba
            var rgba = [UInt8](repeating: 0, count: width * height * 4)
            try finish(&image, &rgba, file: file)
            for i in 0..<(width * height) {
                for c in 0..<3 { rgb[i * 3 + c] = rgba[i * 4 + c] }
            }
        }
        return RGBImage(checkedWidth: width, height: height, pixels: rgb)
    }

    static func decodeLabels(_ bytes: [UInt8], file: String) throws -> (width: Int, height: Int, values: [UInt8]) {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        try begin(&image, bytes, file: file)
        defer { png_image_free(&image) }
        // Colour type byte of IHDR: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA; bit depth before it.
        let depth = bytes.count > 25 ? bytes[24] : 0, colour = bytes.count > 25 ? bytes[25] : 0
        guard colour == 0, depth == 8 else {
            throw ImageError(file: file, "expected an 8-bit grey label PNG, found bit depth \(depth), colour type \(colour)")
        }
        image.format = gray
        var values = [UInt8](repeating: 0, count: Int(image.width) * Int(image.height))
        try finish(&image, &values, file: file)
        return (Int(image.width), Int(image.height), values)
    }

    /// Encodes 8-bit grey (`channels` 1) or RGB (`channels` 3) pixels as PNG bytes.
    static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int, file: String) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 1 ? gray : rgb
        // One pass into a buffer that holds any outcome (deflate grows incompressible data by well
        // under 1%, plus chunk headers), instead of a pass that only measures and a second that
        // writes; libpng says when a buffer is too small, and then the second pass runs.
        var capacity = height * (width * channels + 1) + height * (width * channels + 1) / 100 + 4096
        for _ in 0..<2 {
            var output = [UInt8](repeating: 0, count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = output.withUnsafeMutableBytes { out in
                pixels.withUnsafeBytes { png_image_write_to_memory(&image, out.baseAddress, &size, 0, $0.baseAddress, 0, nil) }
            }
            if ok != 0 { return Array(output.prefix(Int(size))) }
            guard Int(size) > capacity else { break }
            capacity = Int(size)
            png_image_free(&image)
            image.warning_or_error = 0
        }
        throw ImageError(file: file, "cannot encode PNG: \(message(image))")
    }

    private static func begin(_ image: inout png_image, _ bytes: [UInt8], file: String, maxPixels: Int = ImageFile.maxPixels) throws {
        try checkChunkLengths(bytes, file: file)
        let ok = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard ok != 0 else { throw ImageError(file: file, "expected a valid PNG, found \(message(image))") }
        do {
            try ImageFile.checkSize(Int(image.width), Int(image.height), file: file, maxPixels: maxPixels)
        } catch {
            // The callers free the image only once begin succeeds, so a refused one is freed here.
            png_image_free(&image)
            throw error
        }
    }

    /// Refuses a chunk that claims more bytes than the file has left. libpng allocates some chunks
    /// (sPLT) at their declared length before reading them, so a file of a hundred bytes could make
    /// it allocate gigabytes (SECURITY.md). Chunks after IEND are never read.
    private static func checkChunkLengths(_ bytes: [UInt8], file: String) throws {
        var offset = 8
        while offset < bytes.count {
            let left = bytes.count - offset
            guard left >= 12 else {
                throw ImageError(file: file, "expected a whole PNG chunk at byte \(offset), found \(left) bytes (a truncated file)")
            }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = bytes[(offset + 4)..<(offset + 8)]
            guard length <= left - 12 else {
                let isLetters = type.allSatisfy { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
                let name = isLetters ? "'" + String(decoding: type, as: UTF8.self) + "'"
                    : "of type 0x" + type.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
                throw ImageError(file: file, "expected PNG chunks within the file, found chunk \(name) at byte \(offset) "
                                 + "declaring \(length) bytes with \(left - 12) left (a truncated or damaged file)")
            }
            if type.elementsEqual("IEND".utf8) { return }
            offset += 12 + length
        }
    }

    private static func finish<T>(_ image: inout png_image, _ buffer: inout [T], file: String) throws {
        let ok = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard ok != 0 else { throw ImageError(file: file, "expected a valid PNG, found \(message(image))") }
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        return withUnsafeBytes(of: &copy) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
