import Glibc
import FuzzSupport
import ImageCodecs
import Imaging

/// The image decoders on the fuzzer's bytes (seeded with PNG files; the signature picks the decoder).
exit(FuzzDriver.run { data, size in
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    _ = try? ImageFile.decodeRGB(bytes, name: "input")
    _ = try? ImageFile.decodeLabels(bytes, name: "input")
    return 0
})
