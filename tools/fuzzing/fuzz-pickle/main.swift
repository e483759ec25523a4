import Glibc
import FuzzSupport
@_spi(Fuzzing) import TorchArchive

/// The pickle machine and the torch resolver over raw bytes (seeds: every Fixtures pickle).
exit(FuzzDriver.run { data, size in
    _ = try? FuzzEntry.unpickle(UnsafeRawBufferPointer(start: data, count: size))
    return 0
})
