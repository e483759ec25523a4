import Dispatch
import Synchronization

/// The one place the thread count is set: OpenBLAS's products and the kernels' own parallel loops.
public enum Threads {
    private static let count = Atomic<Int>(1)

    /// Uses `n` threads from now on (OpenBLAS's `openblas_set_num_threads` and `parallelFor`).
    public static func set(_ n: Int) {
        let n = max(1, n)
        count.store(n, ordering: .relaxed)
        Gemm.setThreads(n)
    }

    public static var current: Int { count.load(ordering: .relaxed) }

    /// Runs `body(range)` over `0..<total` split into contiguous chunks, one per thread.
    public static func parallelFor(_ total: Int, minimumChunk: Int = 1, _ body: @Sendable (Range<Int>) -> Void) {
        let chunks = min(current, max(1, total / max(minimumChunk, 1)))
        guard chunks > 1 else {
            body(0..<total)
            return
        }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = total * chunk / chunks, end = total * (chunk + 1) / chunks
            if start < end { body(start..<end) }
        }
    }
}
