import ArgumentParser
import DANetModel
import DANetServer
import DANetSupport
import Foundation
import Segmentation

/// `danet serve`: the models behind the Open Inference Protocol, a plain segmentation endpoint and a page.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve models over HTTP: the Open Inference Protocol (KServe v2), /v1/segment and a page at /.",
        discussion: """
            Endpoints: GET /v2/health/live, /v2/health/ready, /v2, /v2/models/NAME, /v2/models/NAME/ready; \
            POST /v2/models/NAME/infer with 'input' (FP32 [N,3,H,W], normalised; gives 'logits') or 'image' \
            (BYTES [N], PNG or JPEG files; gives 'labels', UINT8 [N,H,W]), in JSON or with the binary-data \
            extension tritonclient uses; POST /v1/segment?model=NAME&output=labels|color|overlay|json with an \
            image as the body; GET /v1/models; GET /metrics (Prometheus); GET / (a page to try a model). \
            Models load before the server listens. Requests beyond --workers running and --queue waiting get \
            503 with Retry-After at once. SIGTERM or SIGINT: readiness fails, running requests finish, exit 0.
            """
    )

    @Option(help: "A checkpoint or .danet file to serve, named after its file (city.pth serves as 'city').",
            completion: .file(extensions: ["pth", "pt", "tar", "safetensors", "danet"]))
    var weights: String?

    @Option(name: .customLong("model"), help: ArgumentHelp("A model to serve as NAME; repeatable.", valueName: "NAME=FILE"))
    var models: [String] = []

    @Option(help: ArgumentHelp("Dataset preset for every model, or for one as NAME=PRESET; repeatable (default: by class count).",
                               valueName: "PRESET|NAME=PRESET"))
    var dataset: [String] = []

    @Option(help: "Address to listen on (another than 127.0.0.1 opens the server to the network).")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port, printed when listening).")
    var port = 8080

    @Option(help: "Requests that run a model at once, each on its own threads.")
    var workers = 1

    @Option(help: "Threads per worker (default: the CPUs this process may use, divided among the workers).")
    var threads: Int?

    @Option(help: "Requests that may wait for a worker; more get 503 at once.")
    var queue = 4

    @Option(help: "Largest request body, in MB; larger ones get 413 without being read.")
    var maxBody = 64

    @Option(help: "Largest image, in pixels, checked before decoding.")
    var maxPixels = 4096 * 4096

    @Option(help: "Seconds a request body may take to arrive (slower clients get 408), and idle connections stay open.")
    var readTimeout = 30

    @Option(help: "Seconds readiness fails before the server stops taking requests after SIGTERM.")
    var drain = 0

    @Option(help: "A file holding the bearer token every endpoint but /v2/health/* and the page asks for.", completion: .file())
    var tokenFile: String?

    @Option(help: ArgumentHelp("f32 or bf16 (see `danet infer --help`).", valueName: "f32|bf16"))
    var precision: Precision?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, found \(threads)") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1, found \(workers)") }
        guard queue >= 0 else { throw ValidationError("--queue must be 0 or more, found \(queue)") }
        guard (1...4096).contains(maxBody) else { throw ValidationError("--max-body must be 1 to 4096 (MB), found \(maxBody)") }
        guard readTimeout >= 1 else { throw ValidationError("--read-timeout must be at least 1 (s), found \(readTimeout)") }
        guard drain >= 0 else { throw ValidationError("--drain must be 0 or more (s), found \(drain)") }
        for model in models where !model.contains("=") {
            throw ValidationError("--model takes NAME=FILE, found '\(model)'")
        }
    }

    func run() throws {
        try reportingErrors {
            var configuration = ServerConfiguration()
            configuration.host = host
            configuration.port = port
            configuration.workers = workers
            configuration.threadsPerWorker = threads
            configuration.queue = queue
            configuration.maxBodyBytes = maxBody << 20
            configuration.maxPixels = maxPixels
            configuration.readTimeout = .seconds(readTimeout)
            configuration.drainTime = .seconds(drain)
            configuration.precision = precision
            configuration.token = try tokenFile.map(Serve.readToken)
            configuration.models = try modelList()
            let server = try DANetServer(configuration: configuration) { Terminal.standardError("danet: " + $0) }
            let c = server.configuration
            let finished = Outcome()
            Task {
                do {
                    try await server.run { host, port in
                        let models = c.models.map(\.name).joined(separator: ", ")
                        Serve.say("danet: serving \(models) on http://\(host):\(port) with \(c.workers) worker\(c.workers == 1 ? "" : "s") x "
                                  + "\(c.threads) thread\(c.threads == 1 ? "" : "s"), queue \(c.queue)\(c.token == nil ? "" : ", bearer token required")")
                    }
                    finished.set(nil)
                } catch {
                    finished.set(error)
                }
            }
            if let error = finished.wait() {
                if let error = error as? any DANetError { throw error }
                throw ServerError(status: 500, "cannot serve on \(host):\(port): \(error)")
            }
            Serve.say("danet: stopped")
        }
    }

    /// The models the flags name, each with its dataset.
    private func modelList() throws -> [ServerConfiguration.Model] {
        var list: [ServerConfiguration.Model] = []
        if let weights { list.append(.init(weights: URL(fileURLWithPath: weights))) }
        for entry in models {
            let (name, file) = entry.split(separator: "=", maxSplits: 1).map(String.init).pair
            list.append(.init(name: name, weights: URL(fileURLWithPath: file)))
        }
        if list.isEmpty { list.append(.init(name: "street", weights: nil)) }
        for entry in dataset {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let presetName = parts.last!
            guard let preset = DatasetPreset.named(presetName) else {
                throw ServerError(status: 400, "expected --dataset to name one of \(DatasetPreset.all.map(\.name).joined(separator: ", ")), found '\(presetName)'")
            }
            if parts.count == 2 {
                guard let index = list.firstIndex(where: { $0.name == parts[0] }) else {
                    throw ServerError(status: 400, "expected --dataset NAME=PRESET to name a served model (\(list.map(\.name).joined(separator: ", "))), found '\(parts[0])'")
                }
                list[index].dataset = preset
            } else {
                for index in list.indices { list[index].dataset = preset }
            }
        }
        return list
    }

    /// The token: the file's first line, without surrounding spaces.
    static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServerError(status: 400, file: path, "expected a readable token file, found "
                              + (FileManager.default.fileExists(atPath: path) ? "one that cannot be read" : "no such file"))
        }
        let token = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ServerError(status: 400, file: path, "expected a token of printable ASCII on the first line, found "
                              + (token.isEmpty ? "an empty line" : "spaces or other characters"))
        }
        return token
    }

    /// One line on stdout, at once (the listening line is what scripts wait for).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// The server's result, handed from its task to the waiting main thread.
private final class Outcome: @unchecked Sendable {
    private let condition = NSCondition()
    private var done = false
    private var error: (any Error)?

    func set(_ error: (any Error)?) {
        condition.withLock {
            self.error = error
            done = true
            condition.signal()
        }
    }

    func wait() -> (any Error)? {
        condition.withLock {
            while !done { condition.wait() }
            return error
        }
    }
}

private extension Array where Element == String {
    var pair: (String, String) { (self[0], count > 1 ? self[1] : "") }
}
