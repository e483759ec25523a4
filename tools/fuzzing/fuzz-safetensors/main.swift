import Glibc
import FuzzSupport
@_spi(Fuzzing) import TorchArchive

/// The safetensors reader on a file of the fuzzer's bytes, every tensor read as float32.
exit(FuzzDriver.run { data, size in
    _ = try? FuzzEntry.load(FuzzInput.write(data, size), reader: .safetensors)
    return 0
})
