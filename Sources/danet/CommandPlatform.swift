#if canImport(Glibc)
import CMalloc
import Glibc
#else
import Foundation
#endif

/// The command line's own operating-system calls, in one place so that a port touches one file.
enum CommandPlatform {
    /// A forward pass frees and allocates activations of the same few sizes, layer after layer. By
    /// default glibc maps each large one afresh and unmaps it when freed, so every layer pays page
    /// faults and zeroing again. Served from the heap and not trimmed, freed activations are reused
    /// instead, for a little more peak memory (the README gives the figures).
    static func keepFreedMemory() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, Int32.max)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        #endif
    }

    static func exit(_ status: Int32) -> Never {
        #if canImport(Glibc)
        Glibc.exit(status)
        #else
        Foundation.exit(status)
        #endif
    }
}
