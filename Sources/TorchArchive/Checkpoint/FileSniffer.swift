/// Tells checkpoint formats apart by their first bytes, and says what a file is when it is none.
enum FileSniffer {
    enum Kind: Equatable {
        case zip
        case pickle
        case safetensors
        case unknown(String)
    }

    static func sniff(_ bytes: UnsafeRawBufferPointer) -> Kind {
        guard !bytes.isEmpty else { return .unknown("an empty file") }
        if bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B, bytes[2] == 0x03 || bytes[2] == 0x05 {
            return .zip
        }
        if bytes.count >= 9 {
            let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
            if headerLength <= UInt64(bytes.count - 8), bytes[8] == UInt8(ascii: "{") { return .safetensors }
        }
        // torch.save pickles start with PROTO (0x80); protocol 0/1 legacy files with LONG text or MARK.
        if bytes[0] == 0x80 || bytes[0] == UInt8(ascii: "L") || bytes[0] == UInt8(ascii: "(") { return .pickle }
        return .unknown(describe(bytes))
    }

    /// A few words on what the bytes look like, for the error message.
    static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        let head = String(decoding: bytes.prefix(512), as: UTF8.self).lowercased()
        let trimmed = head.drop(while: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" || $0 == "\u{FEFF}" })
        if trimmed.hasPrefix("<!doctype html") || trimmed.hasPrefix("<html") || head.contains("<head") {
            return "an HTML page (a download that returned a web page?) starting '\(bytes.preview(limit: 24))'"
        }
        if trimmed.hasPrefix("version https://git-lfs") {
            return "a Git LFS pointer, not the file itself"
        }
        if bytes.count > 262, bytes[257] == UInt8(ascii: "u"), bytes[258] == UInt8(ascii: "s"), bytes[259] == UInt8(ascii: "t") {
            return "a tar archive (the PyTorch 0.1 tar format is not supported)"
        }
        if bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B {
            return "a gzip stream (decompress it first)"
        }
        return "\(bytes.count)+ bytes starting '\(bytes.preview(limit: 16))'"
    }
}
