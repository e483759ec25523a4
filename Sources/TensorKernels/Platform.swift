import DANetSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#else
#error("TensorKernels needs a C library")
#endif

/// The C library calls of the kernels' Swift side, in one place so that a port touches one file.
enum Platform {
    /// `count` zeroed floats from calloc, which does not clear memory fresh from the system a
    /// second time; nil when memory runs out.
    ///
    /// Buffers of 4 MB and more ask for transparent huge pages before they are written: weights
    /// built at load (Winograd transforms, packed panels) are fresh memory, and faulting it in 4 KB
    /// pages was most of the time a checkpoint took to load.
    static func zeroedFloats(_ count: Int) -> UnsafeMutablePointer<Float>? {
        guard let raw = calloc(max(count, 1), MemoryLayout<Float>.stride) else { return nil }
        DANetSupport.Platform.adviseHugePages(raw, bytes: count * MemoryLayout<Float>.stride)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    static func release(_ floats: UnsafeMutablePointer<Float>) { free(floats) }

    /// The environment variable `name`, or nil.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
