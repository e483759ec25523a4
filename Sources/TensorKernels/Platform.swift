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
    static func zeroedFloats(_ count: Int) -> UnsafeMutablePointer<Float>? {
        calloc(max(count, 1), MemoryLayout<Float>.stride)?.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    static func release(_ floats: UnsafeMutablePointer<Float>) { free(floats) }

    /// The environment variable `name`, or nil.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
