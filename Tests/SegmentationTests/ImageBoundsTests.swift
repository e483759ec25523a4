import Foundation
import Testing
import ImageCodecs
import Imaging

/// A few bytes of header can claim any image size: the decoders refuse what is over
/// `ImageFile.maxPixels` before allocating for it.
@Suite("Image size bounds")
struct ImageBoundsTests {
    /// A PNG whose IHDR claims `width` x `height` RGB pixels, with one empty IDAT: the header is
    /// read in full, the pixels never exist.
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
        }
        let header = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + chunk("IEND", [])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Found by tools/fuzz: libpng allocated an sPLT chunk at its declared 1.9 GB before reading it.
    /// Every chunk must fit in what is left of the file, which also catches a file cut short.
    @Test("a PNG chunk longer than the file is refused before libpng reads it")
    func chunkLongerThanFile() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let found = try [UInt8](Data(contentsOf: root.appendingPathComponent("Fixtures/hostile/png_chunk_length.png")))
        let whole = Self.pngHeader(width: 4, height: 4)
        let cases = [(found, "chunk 'sPLT' at byte 69 declaring 1936946035 bytes with 48 left"),
                     (Array(whole.prefix(47)), "chunk 'IDAT' at byte 33 declaring 8 bytes with 2 left")]
        for (bytes, expected) in cases {
            for decode in [{ try ImageFile.decodeRGB(bytes, name: "cut.png") as Any }, { try ImageFile.decodeLabels(bytes, name: "cut.png") as Any }] {
                #expect {
                    _ = try decode()
                } throws: { error in
                    "\(error)".hasPrefix("cut.png: expected PNG chunks within the file, found \(expected)")
                }
            }
        }
    }

    @Test("a PNG claiming 100000 x 100000 pixels is refused in one line", arguments: [(100_000, 100_000), (1_000_000, 1)])
    func hugePNG(width: Int, height: Int) {
        let bytes = Self.pngHeader(width: UInt32(width), height: UInt32(height))
        for decode in [{ try ImageFile.decodeRGB(bytes, name: "huge.png") as Any }, { try ImageFile.decodeLabels(bytes, name: "huge.png") as Any }] {
            do {
                _ = try decode()
                Issue.record("a \(width) x \(height) PNG header decoded")
            } catch {
                let message = "\(error)"
                #expect(message.contains("huge.png") && !message.contains("\n"), "\(message)")
                // libpng itself refuses widths over a million; below that the bound here speaks.
                if width < 1_000_000 { #expect(message.contains("at most \(ImageFile.maxPixels) pixels"), "\(message)") }
            }
        }
    }

    @Test("a lower pixel limit refuses a real image over it, PNG and JPEG, and passes one within it")
    func lowerLimit() throws {
        let image = try RGBImage(width: 40, height: 30, pixels: [UInt8](repeating: 128, count: 40 * 30 * 3))
        let png = try image.pngData()
        #expect(try RGBImage(encoded: png, maxPixels: 1200).width == 40)
        do {
            _ = try RGBImage(encoded: png, name: "upload", maxPixels: 1199)
            Issue.record("a 40 x 30 image passed a limit of 1199 pixels")
        } catch {
            #expect("\(error)" == "upload: expected an image of at most 1199 pixels, found 40 x 30")
        }
        let jpeg = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fixtures/pipeline/images/orientation6.jpg").standardized)
        let decoded = try RGBImage(encoded: jpeg)
        #expect(throws: ImageError.self) { try RGBImage(encoded: jpeg, maxPixels: decoded.width * decoded.height - 1) }
    }
}
