import Foundation
import TensorKernels

/// The threads that run models. Each worker is a thread of its own (a forward pass holds its thread
/// for its whole length, which Swift's cooperative pool must not be asked to do) on a lane of the
/// kernels' thread pools of its own, so `workers` requests run at once on `threads` cores each.
///
/// Admission is decided at once: with every worker busy and `queue` requests waiting, `run` throws
/// a 503 instead of waiting. A request whose task is cancelled while it waits is dropped when a
/// worker reaches it, without running (the HTTP server does not cancel a handler whose client
/// left, so over HTTP such a request runs).
final class WorkerPool: @unchecked Sendable {
    /// How busy the pool is, after every change.
    struct Load: Sendable {
        let waiting: Int
        let running: Int
    }

    let workers: Int
    let queue: Int
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var running = 0
    private var stopping = false
    private let observe: @Sendable (Load) -> Void

    /// A request's work: runs on the worker and returns what hands the result over, which the
    /// worker calls only once it counts itself free again (so a client that answers at once
    /// finds the place its last request held).
    private struct Job {
        let ticket: Ticket
        let body: () -> () -> Void
    }

    /// A waiting request's cancellation flag.
    private final class Ticket: @unchecked Sendable {
        private let lock = NSLock()
        private var cancelled = false
        func cancel() { lock.withLock { cancelled = true } }
        var isCancelled: Bool { lock.withLock { cancelled } }
    }

    /// Lanes are handed out round the kernels' pools, lane 0 (everyone else's) left out.
    private static let nextLane = NSLock()
    nonisolated(unsafe) private static var laneCounter = 0

    init(workers: Int, queue: Int, observe: @escaping @Sendable (Load) -> Void = { _ in }) {
        self.workers = workers
        self.queue = queue
        self.observe = observe
        for _ in 0..<workers {
            let lane = WorkerPool.nextLane.withLock {
                defer { WorkerPool.laneCounter += 1 }
                return 1 + WorkerPool.laneCounter % (Threads.lanes - 1)
            }
            let thread = Thread { [self] in loop(lane: lane) }
            thread.name = "danet-worker-\(lane)"
            thread.start()
        }
    }

    /// Runs `body` on a worker and returns what it returns.
    /// - Throws: `ServerError` 503 when workers and queue are full; `CancellationError` when the
    ///   calling task was cancelled before a worker took it; what `body` throws.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let ticket = Ticket()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let job = Job(ticket: ticket) {
                    let result: Result<T, any Error> = ticket.isCancelled ? .failure(CancellationError()) : Result { try body() }
                    return { continuation.resume(with: result) }
                }
                if !enqueue(job) {
                    continuation.resume(throwing: ServerError(status: 503,
                        "expected a free worker or queue place, found \(workers) running and \(queue) waiting; retry shortly"))
                }
            }
        } onCancel: {
            ticket.cancel()
        }
    }

    /// Lets the worker threads end once the queue is empty.
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
    }

    private func enqueue(_ job: Job) -> Bool {
        let load: Load? = condition.withLock {
            guard !stopping, running + jobs.count < workers + queue else { return nil }
            jobs.append(job)
            condition.signal()
            return Load(waiting: jobs.count, running: running)
        }
        if let load { observe(load) }
        return load != nil
    }

    private func loop(lane: Int) {
        Threads.useLane(lane)
        while true {
            let (job, load): (Job?, Load) = condition.withLock {
                while jobs.isEmpty && !stopping { condition.wait() }
                guard !jobs.isEmpty else { return (nil, Load(waiting: 0, running: running)) }
                running += 1
                return (jobs.removeFirst(), Load(waiting: jobs.count, running: running))
            }
            guard let job else { return }
            observe(load)
            let deliver = job.body()
            let after = condition.withLock {
                running -= 1
                return Load(waiting: jobs.count, running: running)
            }
            observe(after)
            deliver()
        }
    }
}
