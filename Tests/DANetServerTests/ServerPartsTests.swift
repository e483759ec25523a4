import Foundation
import Testing
@testable import DANetServer

/// The server's parts that need no network: admission to the workers, the token comparison, the
/// configuration's checks and the model names taken from files.
@Suite("Server parts")
struct ServerPartsTests {
    /// A gate the test opens, for jobs that must stay running while the test looks.
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var open = false
        private(set) var arrived = 0

        func pass() {
            condition.withLock {
                arrived += 1
                condition.broadcast()
                while !open { condition.wait() }
            }
        }

        func waitForArrivals(_ count: Int) {
            condition.withLock { while arrived < count { condition.wait() } }
        }

        func release() { condition.withLock { open = true; condition.broadcast() } }
    }

    @Test("Beyond the workers and the queue, a request is refused at once with 503")
    func admission() async throws {
        let pool = WorkerPool(workers: 2, queue: 1)
        defer { pool.stop() }
        let gate = Gate()
        async let a = pool.run { gate.pass(); return 1 }
        async let b = pool.run { gate.pass(); return 2 }
        gate.waitForArrivals(2)  // both workers busy at once: each has its own thread
        async let c = pool.run { 3 }  // waits in the queue
        try await Task.sleep(for: .milliseconds(100))
        do {
            _ = try await pool.run { 4 }
            Issue.record("expected a 503 with both workers busy and the queue full")
        } catch let error as ServerError {
            #expect(error.status == 503)
        }
        gate.release()
        let results = try await [a, b, c]
        #expect(results == [1, 2, 3])
        #expect(try await pool.run { 5 } == 5)
    }

    @Test("A job's error reaches its caller; the worker goes on")
    func errors() async throws {
        let pool = WorkerPool(workers: 1, queue: 0)
        defer { pool.stop() }
        await #expect(throws: ServerError.self) { try await pool.run { () throws -> Int in throw ServerError(status: 400, "bad") } }
        #expect(try await pool.run { 6 } == 6)
    }

    @Test("Tokens compare equal only when equal, whatever their lengths")
    func tokens() {
        let token = Array("s3cret".utf8)
        #expect(ServerState.constantTimeEqual(token, token))
        for other in ["", "s3cre", "s3cret!", "S3cret", "x3cret", "s3creu"] {
            #expect(!ServerState.constantTimeEqual(Array(other.utf8), token), "\(other)")
        }
    }

    @Test("Model names from files, and the settings no server can run with")
    func configuration() {
        #expect(ServerConfiguration.Model(weights: URL(fileURLWithPath: "/m/city.pth.tar")).name == "city")
        #expect(ServerConfiguration.Model(weights: URL(fileURLWithPath: "r101.danet")).name == "r101")
        #expect(ServerConfiguration.Model(weights: URL(fileURLWithPath: "model")).name == "model")
        var bad = ServerConfiguration()
        bad.models = [.init(name: "../x", weights: nil)]
        #expect(throws: ServerError.self) { try bad.validate() }
        bad.models = [.init(name: "a", weights: nil), .init(name: "a", weights: nil)]
        #expect(throws: ServerError.self) { try bad.validate() }
        bad.models = []
        bad.workers = 0
        #expect(throws: ServerError.self) { try bad.validate() }
        bad.workers = 1
        bad.token = "has space"
        #expect(throws: ServerError.self) { try bad.validate() }
        bad.token = "fine"
        #expect(throws: Never.self) { try bad.validate() }
    }

    @Test("A model that cannot be loaded stops the start with one line naming the file")
    func loadFailure() throws {
        var configuration = ServerConfiguration()
        configuration.models = [.init(name: "m", weights: URL(fileURLWithPath: "/nonexistent/model.pth"))]
        do {
            _ = try DANetServer(configuration: configuration)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("/nonexistent/model.pth"), "\(error)")
        }
    }
}
