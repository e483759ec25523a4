import DANetModel
import Foundation
import Segmentation

/// What a `DANetServer` serves and how: its address, its models, how many requests run at once,
/// and the limits that keep a busy or careless client from taking it down.
public struct ServerConfiguration: Sendable {
    /// One model to serve, by name.
    public struct Model: Sendable {
        /// The name in URLs (`/v2/models/NAME`, `?model=NAME`): letters, digits, `.`, `_`, `-`.
        public var name: String
        /// The checkpoint or `.danet` model file; nil for the bundled street-scene model.
        public var weights: URL?
        /// Class names, palette and test-time sizes; nil picks them by the model's class count.
        public var dataset: DatasetPreset?

        /// A model called `name`, read from `weights` (nil: the bundled one).
        public init(name: String, weights: URL?, dataset: DatasetPreset? = nil) {
            self.name = name
            self.weights = weights
            self.dataset = dataset
        }

        /// A model named after its file: `city.pth.tar` is `city`.
        public init(weights: URL, dataset: DatasetPreset? = nil) {
            var name = weights.lastPathComponent
            for suffix in [".tar", ".pth", ".pt", ".safetensors", ".danet", ".bin"] where name.hasSuffix(suffix) && name.count > suffix.count {
                name.removeLast(suffix.count)
            }
            self.init(name: name, weights: weights, dataset: dataset)
        }
    }

    /// The address to listen on; the default takes connections from this machine only.
    public var host = "127.0.0.1"
    /// The TCP port; 0 lets the system choose (the server reports which).
    public var port = 8080
    /// The models, by name; empty serves the bundled model as `street`.
    public var models: [Model] = []
    /// Requests that run a model at once, each on its own threads.
    public var workers = 1
    /// Threads per worker; nil divides the CPUs this process may use among the workers.
    public var threadsPerWorker: Int?
    /// Requests that may wait for a worker; beyond them the server answers 503 at once.
    public var queue = 4
    /// The largest request body, in bytes; a larger one gets 413 without being read.
    public var maxBodyBytes = 64 << 20
    /// The largest image, in pixels, checked from its header before it is decoded.
    public var maxPixels = 4096 * 4096
    /// How long a request body may take to arrive; a slower client gets 408.
    public var readTimeout: Duration = .seconds(30)
    /// How long readiness fails before the server stops taking requests, after SIGTERM (time for a
    /// load balancer to notice); running requests finish either way.
    public var drainTime: Duration = .zero
    /// When set, every endpoint but `/v2/health/*` and the page wants `Authorization: Bearer TOKEN`.
    public var token: String?
    /// The precision the models run in; nil: f32, or what a `.danet` file was converted to.
    public var precision: Precision?

    /// The default configuration: the bundled model on 127.0.0.1:8080, one worker.
    public init() {}

    /// The threads each worker's forward pass uses.
    public var threads: Int { threadsPerWorker ?? max(1, DANet.availableThreads / max(1, workers)) }

    /// Throws for values no server can run with, naming the setting.
    func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw ServerError(status: 500, message) }
        }
        try check((0...65535).contains(port), "expected a port in 0...65535, found \(port)")
        try check((1...63).contains(workers), "expected 1...63 workers, found \(workers)")
        try check((threadsPerWorker ?? 1) >= 1, "expected at least 1 thread per worker, found \(threadsPerWorker ?? 0)")
        try check(queue >= 0, "expected a queue of 0 or more requests, found \(queue)")
        try check(maxBodyBytes >= 1024, "expected a body limit of at least 1 KB, found \(maxBodyBytes) bytes")
        try check(maxPixels >= 1, "expected a pixel limit of at least 1, found \(maxPixels)")
        try check(readTimeout > .zero, "expected a positive read timeout")
        var seen: Set<String> = []
        for model in models {
            try check(ServerConfiguration.isValidName(model.name),
                      "expected a model name of letters, digits, '.', '_' and '-' (at most 64), found '\(model.name)'")
            try check(seen.insert(model.name).inserted, "expected each model name once, found '\(model.name)' twice")
        }
        if let token { try check(!token.isEmpty && token.allSatisfy { $0.isASCII && !$0.isWhitespace }, "expected a token of printable ASCII without spaces") }
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
