import DANetSupport
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What every request handler shares: the models, the workers, the metrics and readiness.
final class ServerState: Sendable {
    let configuration: ServerConfiguration
    let models: [String: ServedModel]
    /// Model names in the order they were given.
    let modelNames: [String]
    let pool: WorkerPool
    let metrics: ServerMetrics
    private let readiness = NSLock()
    nonisolated(unsafe) private var ready = true

    init(configuration: ServerConfiguration, models: [ServedModel]) {
        self.configuration = configuration
        self.models = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        modelNames = models.map(\.name)
        let metrics = ServerMetrics(workers: configuration.workers)
        self.metrics = metrics
        pool = WorkerPool(workers: configuration.workers, queue: configuration.queue) { metrics.load($0) }
        for model in models { metrics.modelLoaded(model.name, seconds: model.loadSeconds) }
    }

    /// False from the moment shutdown begins.
    var isReady: Bool { readiness.withLock { ready } }

    func stopBeingReady() { readiness.withLock { ready = false } }

    /// The served model `name`.
    /// - Throws: `ServerError` 404 naming the models there are.
    func model(_ name: String?) throws -> ServedModel {
        guard let name else {
            if modelNames.count == 1 { return models[modelNames[0]]! }
            throw ServerError(status: 400, "expected ?model=NAME, one of \(modelNames.joined(separator: ", ")), found none")
        }
        guard let model = models[name] else {
            throw ServerError(status: 404, "expected a model named \(modelNames.joined(separator: ", ")), found '\(String(name.prefix(64)))'")
        }
        return model
    }

    /// Runs `body` on a worker, recording the time waited and the time run; returns both with the result.
    func onWorker<T: Sendable>(_ model: ServedModel, _ body: @escaping @Sendable () throws -> T) async throws -> (T, queued: Double, ran: Double) {
        let submitted = Platform.monotonicSeconds()
        let (result, started, finished) = try await pool.run { () throws -> (T, Double, Double) in
            let started = Platform.monotonicSeconds()
            let result = try body()
            return (result, started, Platform.monotonicSeconds())
        }
        let queued = started - submitted, ran = finished - started
        metrics.queueWait(model: model.name, seconds: queued)
        metrics.inference(model: model.name, seconds: ran)
        return (result, queued, ran)
    }

    /// The request body, at most `maxBodyBytes`, arriving within `readTimeout`.
    /// - Throws: `ServerError` 413 (said by Content-Length before reading, or found while reading)
    ///   or 408.
    func body(of request: Request) async throws -> [UInt8] {
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw ServerError(status: 413, "expected a body of at most \(limit) bytes (--max-body), found Content-Length \(declared)")
        }
        let timeout = configuration.readTimeout
        let body = request.body
        return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                do {
                    return [UInt8](buffer: try await body.collect(upTo: limit))
                } catch is NIOTooManyBytesError {
                    throw ServerError(status: 413, "expected a body of at most \(limit) bytes (--max-body), found more")
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let bytes = first else {
                throw ServerError(status: 408, "expected the request body within \(timeout.seconds) s, found it still arriving")
            }
            return bytes
        }
    }

    /// Throws 401 unless the request carries the configured bearer token (compared in constant time).
    func authorize(_ request: Request) throws {
        guard let token = configuration.token else { return }
        let presented = request.headers[.authorization].flatMap { value -> Substring? in
            value.lowercased().hasPrefix("bearer ") ? value.dropFirst(7).drop { $0 == " " } : nil
        }
        guard let presented, Self.constantTimeEqual(Array(presented.utf8), Array(token.utf8)) else {
            throw ServerError(status: 401, "expected 'Authorization: Bearer TOKEN' with the server's token, found "
                              + (presented == nil ? "no bearer token" : "another token"))
        }
    }

    /// Compares every byte whatever the first difference, so the time taken tells nothing of where
    /// a guess went wrong (only the token's length, which a long random token makes worthless).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// Answers the server writes.
enum Answer {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ object: Any) -> Response { json(JSONText.data(object)) }

    static func bytes(_ bytes: [UInt8], type: String, headers: HTTPFields = [:]) -> Response {
        buffer(ByteBuffer(bytes: bytes), type: type, headers: headers)
    }

    static func buffer(_ buffer: ByteBuffer, type: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = type
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: buffer))
    }

    /// The protocol's error answer: `{"error": "..."}` with the error's status, and the headers a
    /// client acts on (when to retry, how to authenticate, that the connection ends).
    static func error(_ error: ServerError) -> Response {
        var headers: HTTPFields = [:]
        switch error.status {
        case 503: headers[.retryAfter] = "1"
        case 401: headers[.wwwAuthenticate] = "Bearer"
        case 408, 413: headers[.connection] = "close"
        default: break
        }
        return json(JSONText.data(["error": error.description]), status: .init(code: error.status), headers: headers)
    }

    /// `Server-Timing` with each phase's milliseconds.
    static func timing(_ phases: Phases) -> HTTPFields {
        [.init("Server-Timing")!: phases.entries.map { String(format: "%@;dur=%.2f", $0.name, $0.seconds * 1000) }.joined(separator: ", ")]
    }
}

/// Where a request's time went: reading, decoding, waiting, the model, encoding.
struct Phases {
    private(set) var entries: [(name: String, seconds: Double)] = []
    private var mark = Platform.monotonicSeconds()

    /// Ends the phase that began at the last mark.
    mutating func end(_ name: String) {
        let now = Platform.monotonicSeconds()
        entries.append((name, now - mark))
        mark = now
    }

    /// Adds the worker's queue and model times, measured on the worker.
    mutating func add(queued: Double, ran: Double) {
        entries += [("queue", queued), ("model", ran)]
        mark = Platform.monotonicSeconds()
    }}
