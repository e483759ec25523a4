import CVectorKernels
import Synchronization

/// The one place the thread count is set, and the one pool every parallel kernel runs on: the
/// products (OpenBLAS's included, which runs single-threaded inside each part), the transforms,
/// the unfolding and the element-wise passes.
public enum Threads {
    private static let count = Atomic<Int>(available)

    /// The CPUs this process may use: its CPU affinity (taskset, Slurm, cpusets), lowered to its
    /// cgroup's CPU quota rounded up (a container's `cpu.max`). The default thread count.
    public static let available: Int = danet_available_cpus()

    /// Uses `n` threads from now on.
    public static func set(_ n: Int) {
        count.store(max(1, n), ordering: .relaxed)
    }

    /// The thread count in use (initially `available`).
    public static var current: Int { count.load(ordering: .relaxed) }

    /// Chunks per thread in a parallel region: threads take them as they finish, so one thread
    /// slowed down (by the system, or by a harder part of the work) holds the others up less.
    public static let chunksPerThread = 4

    /// Runs `body(range)` over `0..<total` split into contiguous chunks of at least `minimumChunk`,
    /// `chunksPerThread` per thread at most, on the package's thread pool (CVectorKernels): the
    /// calling thread works too. Called while another region runs, from another thread or from
    /// inside `body`, it runs on the caller alone.
    public static func parallelFor(_ total: Int, minimumChunk: Int = 1, chunksPerThread: Int = Threads.chunksPerThread,
                                   _ body: @Sendable (Range<Int>) -> Void) {
        let threads = current
        let chunks = min(threads * max(1, chunksPerThread), max(1, total / max(minimumChunk, 1)))
        guard threads > 1, chunks > 1 else {
            body(0..<total)
            return
        }
        withoutActuallyEscaping(body) { body in
            var region = Region(body: body, total: total, chunks: chunks)
            withUnsafeMutablePointer(to: &region) { pointer in
                danet_parallel_run(chunks, Int32(min(threads, chunks)), { context, chunk in
                    let region = context!.assumingMemoryBound(to: Region.self)
                    let (total, chunks) = (region.pointee.total, region.pointee.chunks)
                    let start = total * chunk / chunks, end = total * (chunk + 1) / chunks
                    if start < end { region.pointee.body(start..<end) }
                }, pointer)
            }
        }
    }

    /// What the pool's tasks read: the body and how `0..<total` is cut.
    private struct Region {
        let body: @Sendable (Range<Int>) -> Void
        let total: Int
        let chunks: Int
    }
}
