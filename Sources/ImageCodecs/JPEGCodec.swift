import Imaging
import CTurboJPEG

/// JPEG through TurboJPEG (libjpeg-turbo), accurate DCT as libjpeg's default, EXIF orientation applied.
enum JPEGCodec {
    static func decodeRGB(_ bytes: [UInt8], file: String, maxPixels: Int = ImageFile.maxPixels) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw ImageError(file: file, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        var source = bytes
        let header = source.withUnsafeMutableBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0, width > 0, height > 0 else {
            throw ImageError(file: file, "expected a valid JPEG, found \(String(cString: tjGetErrorStr2(handle)))")
        }
        try ImageFile.checkSize(Int(width), Int(height), file: file, maxPixels: maxPixels)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = source.withUnsafeMutableBufferPointer { input in
            pixels.withUnsafeMutableBufferPointer { output in
                tjDecompress2(handle, input.baseAddress, UInt(bytes.count), output.baseAddress, width, 0, height,
                              Int32(TJPF_RGB.rawValue), 0)
            }
        }
        // A warning (a slightly damaged but decodable file) still yields an image; an error does not.
        if status != 0 && tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) {
            throw ImageError(file: file, "expected a valid JPEG, found \(String(cString: tjGetErrorStr2(handle)))")
        }
        let image = RGBImage(checkedWidth: Int(width), height: Int(height), pixels: pixels)
        return Orientation(exifIn: bytes).apply(to: image)
    }
}

/// The EXIF orientation tag (0x0112) and the transform that shows the image upright.
struct Orientation: Equatable {
    let value: Int

    /// Reads the tag from the first APP1 "Exif" segment; 1 (upright) when absent or unreadable.
    init(exifIn bytes: [UInt8]) {
        value = Orientation.read(bytes) ?? 1
    }

    init(_ value: Int) { self.value = value }

    private static func read(_ bytes: [UInt8]) -> Int? {
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            if marker == 0xDA || marker == 0xD9 || length < 2 { return nil }  // image data starts: no EXIF
            let segment = offset + 4
            if marker == 0xE1, segment + 14 <= bytes.count, Array(bytes[segment..<(segment + 6)]) == Array("Exif\0\0".utf8) {
                return orientation(tiff: Array(bytes[(segment + 6)..<min(bytes.count, offset + 2 + length)]))
            }
            offset += 2 + length
        }
        return nil
    }

    private static func orientation(tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little = tiff[0] == 0x49
        func u16(_ at: Int) -> Int? {
            guard at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let count = u16(ifd) else { return nil }
        for entry in 0..<min(count, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let value = u16(at + 8), (1...8).contains(value) { return value }
        }
        return nil
    }

    /// The upright image: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90° clockwise,
    /// 7 transverse, 8 rotate 90° counter-clockwise (as PIL's ImageOps.exif_transpose).
    func apply(to image: RGBImage) -> RGBImage {
        guard value != 1 else { return image }
        let (w, h) = (image.width, image.height)
        let swaps = value >= 5
        let outWidth = swaps ? h : w, outHeight = swaps ? w : h
        var pixels = [UInt8](repeating: 0, count: image.pixels.count)
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                let (sx, sy): (Int, Int) = switch value {
                case 2: (w - 1 - ox, oy)
                case 3: (w - 1 - ox, h - 1 - oy)
                case 4: (ox, h - 1 - oy)
                case 5: (oy, ox)
                case 6: (oy, h - 1 - ox)
                case 7: (w - 1 - oy, h - 1 - ox)
                default: (w - 1 - oy, ox)
                }
                let source = (sy * w + sx) * 3, target = (oy * outWidth + ox) * 3
                pixels[target] = image.pixels[source]
                pixels[target + 1] = image.pixels[source + 1]
                pixels[target + 2] = image.pixels[source + 2]
            }
        }
        return RGBImage(checkedWidth: outWidth, height: outHeight, pixels: pixels)
    }
}
