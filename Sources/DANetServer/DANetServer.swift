import DANetModel
import DANetSupport
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// An inference server for DANet models: the Open Inference Protocol (KServe v2) over HTTP/REST,
/// as Triton, KServe and OpenVINO Model Server speak it, with its binary-data extension, so that
/// `tritonclient` and other such clients work unchanged; a plain `POST /v1/segment` for curl; a
/// page at `/` to try a model on a photo; `GET /metrics` for Prometheus.
///
/// ```swift
/// var configuration = ServerConfiguration()
/// configuration.models = [.init(weights: URL(fileURLWithPath: "danet_r101.pth"), dataset: .cityscapes)]
/// let server = try DANetServer(configuration: configuration)
/// try await server.run()   // until SIGTERM or SIGINT
/// ```
///
/// Models load in `init`, before the server listens, so it reports ready only with every model
/// loaded. Requests that run a model go to `workers` threads of their own; beyond them and the
/// queue the server answers 503 at once. On SIGTERM readiness fails, running requests finish and
/// `run` returns.
public struct DANetServer: Sendable {
    /// The version `GET /v2` reports.
    public static let version = "0.16.0"

    /// What the server serves and how.
    public let configuration: ServerConfiguration
    private let state: ServerState

    /// Loads every model of `configuration` (the bundled one as `street` when it names none).
    /// - Parameters:
    ///   - configuration: the address, models, workers and limits.
    ///   - progress: called with one line per model loaded.
    /// - Throws: `ServerError` for a setting no server can run with; the loader's error, naming the
    ///   file, for a model that cannot be loaded.
    public init(configuration: ServerConfiguration, progress: (String) -> Void = { _ in }) throws {
        var configuration = configuration
        if configuration.models.isEmpty { configuration.models = [.init(name: "street", weights: nil)] }
        try configuration.validate()
        var models: [ServedModel] = []
        for spec in configuration.models {
            let model = try ServedModel.load(spec, precision: configuration.precision, threads: configuration.threads)
            let c = model.network.configuration
            progress("loaded \(model.name): DANet-R\(c.depth) (\(c.layout.rawValue), \(c.classes) classes, \(model.preset.name) preset, "
                     + "\(model.pipeline.kind.rawValue) pipeline, \(model.network.precision.rawValue)) from \(model.source) in "
                     + String(format: "%.2f s", model.loadSeconds))
            if let note = model.network.precisionNote { progress(note) }
            models.append(model)
        }
        self.configuration = configuration
        state = ServerState(configuration: configuration, models: models)
    }

    /// Serves until SIGTERM or SIGINT, then stops taking requests (after `drainTime` with
    /// readiness failing), lets running ones finish and returns. Cancelling the task that runs it
    /// stops it at once instead (open connections are closed). A server runs once: its worker
    /// threads end when `run` returns.
    /// - Parameter onListening: called once with the address and port the server listens on.
    /// - Throws: `ServerError` when the address cannot be bound.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws {
        var logger = Logger(label: "danet.serve")
        logger.logLevel = .warning
        let router = Router()
        router.add(middleware: ObservingMiddleware(state: state))
        router.get("/") { _, _ in Answer.bytes(Array(Page.html.utf8), type: "text/html; charset=utf-8") }
        router.get("/metrics") { _, _ in Answer.bytes(state.metrics.exposition(), type: "text/plain; version=0.0.4") }
        InferenceEndpoints(state: state).add(to: router)
        SegmentEndpoints(state: state).add(to: router)
        let host = configuration.host
        let app = Application(
            router: router,
            // Idle connections close after twice the read timeout: a body still arriving at the read
            // timeout gets its 408 first.
            server: .http1(configuration: .init(idleTimeout: .seconds(2 * Int64(max(1, configuration.readTimeout.seconds))))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "danet/\(Self.version)"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let drain = DrainService(state: state, time: configuration.drainTime)
        let group = ServiceGroup(configuration: .init(services: [.init(service: app), .init(service: drain)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        defer { state.pool.stop() }
        do {
            try await group.run()
        } catch let error as IOError {
            throw ServerError(status: 500, "cannot listen on \(host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))")
        }
    }
}

/// On graceful shutdown, fails readiness and holds the server open for the drain time; the server
/// (shut down after it, in reverse order) then stops accepting and finishes what runs.
private struct DrainService: Service {
    let state: ServerState
    let time: Duration

    func run() async throws {
        try? await gracefulShutdown()
        state.stopBeingReady()
        if time > .zero { try? await Task.sleep(for: time) }
    }
}

/// Around every request: the bearer token, errors as the protocol's JSON, and the metrics.
private struct ObservingMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let state: ServerState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = Platform.monotonicSeconds()
        let (endpoint, model) = Self.classify(request.uri.path, state: state)
        var response: Response
        do {
            if !endpoint.hasPrefix("/v2/health/") && endpoint != "/" { try state.authorize(request) }
            response = try await next(request, context)
        } catch let error as ServerError {
            response = Answer.error(error)
        } catch let error as any HTTPResponseError {
            let line = error.status == .notFound
                ? "expected a path of the inference protocol (/v2/...), /v1/segment, /v1/models, /metrics or /, found \(request.method) \(request.uri.path.prefix(100))"
                : "\(error.status.reasonPhrase) for \(request.method) \(request.uri.path.prefix(100))"
            response = Answer.error(ServerError(status: Int(error.status.code), line))
        } catch is CancellationError {
            response = Answer.error(ServerError(status: 499, "the client closed the connection before the answer"))
        } catch {
            response = Answer.error(ServerError(status: 500, "\(error)"))
        }
        state.metrics.request(endpoint: endpoint, model: model, status: Int(response.status.code), seconds: Platform.monotonicSeconds() - start)
        return response
    }

    /// The route's pattern and the served model a path names: metric labels from a fixed set,
    /// whatever paths clients send.
    static func classify(_ path: String, state: ServerState) -> (endpoint: String, model: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch parts.count {
        case 0: return ("/", "")
        case 1 where ["v2", "metrics"].contains(parts[0]): return ("/" + parts[0], "")
        case 2 where parts[0] == "v1" && ["segment", "models"].contains(parts[1]): return (path.hasSuffix("/") ? String(path.dropLast()) : path, "")
        case 3 where parts[0] == "v2" && parts[1] == "health" && ["live", "ready"].contains(parts[2]): return ("/v2/health/" + parts[2], "")
        default: break
        }
        guard parts.count >= 3, parts[0] == "v2", parts[1] == "models" else { return ("other", "") }
        let model = state.models[parts[2]] == nil ? "" : parts[2]
        var rest = Array(parts.dropFirst(3))
        var pattern = "/v2/models/{name}"
        if rest.count >= 2 && rest[0] == "versions" {
            pattern += "/versions/{version}"
            rest.removeFirst(2)
        }
        switch rest {
        case []: return (pattern, model)
        case ["ready"], ["infer"]: return (pattern + "/" + rest[0], model)
        default: return ("other", model)
        }
    }
}
