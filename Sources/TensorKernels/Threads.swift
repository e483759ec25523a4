import CVectorKernels

/// How many threads the kernels use, and the pools every parallel kernel runs on: the products
/// (OpenBLAS's included, which runs single-threaded inside each part), the transforms, the
/// unfolding and the element-wise passes.
///
/// The count is chosen per call, not per process: `Threads.with(n) { ... }` binds it for the work
/// inside (a task-local value, so concurrent tasks can each use their own), and every kernel reads
/// it from there. Outside any binding, kernels use every CPU this process may use.
package enum Threads {
    @TaskLocal private static var bound: Int?

    /// The CPUs this process may use: its CPU affinity (taskset, Slurm, cpusets), lowered to its
    /// cgroup's CPU quota rounded up (a container's `cpu.max`). The default thread count.
    package static let available: Int = danet_available_cpus()

    /// Runs `body` with the kernels inside it using `count` threads (at least 1); nil keeps the
    /// count of the surrounding call, or `available`.
    package static func with<R>(_ count: Int?, _ body: () throws -> R) rethrows -> R {
        guard let count else { return try body() }
        return try $bound.withValue(max(1, count), operation: body)
    }

    /// `with(_:_:)` for async work; child tasks inherit the count.
    package static func with<R>(_ count: Int?, _ body: () async throws -> R) async rethrows -> R {
        guard let count else { return try await body() }
        return try await $bound.withValue(max(1, count), operation: body)
    }

    /// How many separate pools there are (`useLane(_:)`).
    package static let lanes = Int(DANET_MAX_LANES)

    /// Makes the calling thread's parallel regions run on pool `lane` (0 ..< `lanes`), which has its
    /// own workers: threads that each run a model at once (a server's workers) each pick a lane, so
    /// that each gets the cores its thread count promises. Every thread starts on lane 0. For
    /// threads the caller owns (not Swift's cooperative pool, whose threads run other tasks too).
    package static func useLane(_ lane: Int) {
        precondition(danet_parallel_set_lane(Int32(lane)) == 0, "lane \(lane) out of 0..<\(lanes)")
    }

    /// The thread count in use here.
    package static var current: Int { bound ?? available }

    /// Chunks per thread in a parallel region: threads take them as they finish, so one thread
    /// slowed down (by the system, or by a harder part of the work) holds the others up less.
    package static let chunksPerThread = 4

    /// Runs `body(range)` over `0..<total` split into contiguous chunks of at least `minimumChunk`,
    /// `chunksPerThread` per thread at most, on the package's thread pool (CVectorKernels): the
    /// calling thread works too. Called while another region runs, from another thread or from
    /// inside `body`, it runs on the caller alone.
    package static func parallelFor(_ total: Int, minimumChunk: Int = 1, chunksPerThread: Int = Threads.chunksPerThread,
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
