import Synchronization
import Testing
import TensorKernels

/// The thread pool: every index runs exactly once, whatever the thread count, nesting or
/// concurrent callers.
@Suite("Thread pool")
struct ThreadsTests {
    /// Counts how often each index of `0..<total` ran.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        init(_ total: Int) { counts = Mutex([Int](repeating: 0, count: total)) }
        func hit(_ range: Range<Int>) { counts.withLock { for i in range { $0[i] += 1 } } }
        var allOnce: Bool { counts.withLock { $0.allSatisfy { $0 == 1 } } }
    }

    @Test("each index once", arguments: [1, 2, 3, 7], [0, 1, 5, 64, 1000])
    func coverage(threads: Int, total: Int) {
        Threads.with(threads) {
            for minimumChunk in [1, 3, 100] {
                let tally = Tally(total)
                Threads.parallelFor(total, minimumChunk: minimumChunk) { tally.hit($0) }
                #expect(tally.allOnce, "\(threads) threads, \(total) items, chunks of at least \(minimumChunk)")
            }
        }
    }

    @Test("a region inside a region runs on its caller, and completes")
    func nested() {
        Threads.with(2) {
            let tally = Tally(40 * 25)
            Threads.parallelFor(40) { outer in
                for i in outer {
                    Threads.parallelFor(25) { inner in tally.hit((i * 25 + inner.lowerBound)..<(i * 25 + inner.upperBound)) }
                }
            }
            #expect(tally.allOnce)
        }
    }

    @Test("regions from concurrent tasks all complete, each index once")
    func concurrentCallers() async {
        await Threads.with(2) {
            let tallies = (0..<8).map { _ in Tally(5000) }
            await withTaskGroup(of: Void.self) { group in
                for tally in tallies {
                    group.addTask {
                        for round in 0..<20 { Threads.parallelFor(250) { range in tally.hit((round * 250 + range.lowerBound)..<(round * 250 + range.upperBound)) } }
                    }
                }
            }
            let allOnce = tallies.allSatisfy { $0.allOnce }
            #expect(allOnce)
        }
    }

    @Test("the default thread count is the CPUs this process may use")
    func available() {
        #expect(Threads.available >= 1)
    }

    @Test("the thread count is bound per call: nested bindings and concurrent tasks see their own")
    func boundPerCall() async {
        #expect(Threads.current == Threads.available)
        Threads.with(3) {
            #expect(Threads.current == 3)
            Threads.with(nil) { #expect(Threads.current == 3) }
            Threads.with(1) { #expect(Threads.current == 1) }
        }
        #expect(Threads.current == Threads.available)
        let seen = await withTaskGroup(of: (Int, Int).self) { group in
            for count in 1...6 {
                group.addTask { await Threads.with(count) { await Task.yield(); return (count, Threads.current) } }
            }
            return await group.reduce(into: [(Int, Int)]()) { $0.append($1) }
        }
        #expect(seen.allSatisfy { $0.0 == $0.1 }, "\(seen)")
    }
}
