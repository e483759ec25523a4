import CoreMetrics
import Prometheus

/// The server's metrics, recorded through swift-metrics into a Prometheus registry of the server's
/// own (not the process-wide `MetricsSystem`, so an app that embeds the server keeps its own
/// backend) and served at `GET /metrics` in Prometheus's text format.
struct ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let queueDepth: CoreMetrics.Gauge
    private let workersBusy: CoreMetrics.Gauge

    init(workers: Int) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
            .map { Duration.nanoseconds(Int64($0 * 1e9)) }
        self.factory = factory
        queueDepth = CoreMetrics.Gauge(label: "danet_queue_depth", factory: factory)
        workersBusy = CoreMetrics.Gauge(label: "danet_workers_busy", factory: factory)
        CoreMetrics.Gauge(label: "danet_workers", factory: factory).record(workers)
        queueDepth.record(0)
        workersBusy.record(0)
    }

    /// One answered request: `endpoint` is the route's pattern (never the raw path), `model` a
    /// served model's name or "" (never a name a client made up).
    func request(endpoint: String, model: String, status: Int, seconds: Double) {
        CoreMetrics.Counter(label: "danet_requests_total", dimensions: [("endpoint", endpoint), ("model", model), ("status", String(status))],
                factory: factory).increment()
        CoreMetrics.Timer(label: "danet_request_duration_seconds", dimensions: [("endpoint", endpoint), ("model", model)], factory: factory)
            .recordSeconds(seconds)
    }

    /// Time a request spent on a worker, running the model.
    func inference(model: String, seconds: Double) {
        CoreMetrics.Timer(label: "danet_inference_duration_seconds", dimensions: [("model", model)], factory: factory).recordSeconds(seconds)
    }

    /// Time a request waited for a worker.
    func queueWait(model: String, seconds: Double) {
        CoreMetrics.Timer(label: "danet_queue_wait_seconds", dimensions: [("model", model)], factory: factory).recordSeconds(seconds)
    }

    func modelLoaded(_ model: String, seconds: Double) {
        CoreMetrics.Gauge(label: "danet_model_load_seconds", dimensions: [("model", model)], factory: factory).record(seconds)
    }

    func load(_ load: WorkerPool.Load) {
        queueDepth.record(load.waiting)
        workersBusy.record(load.running)
    }

    /// The registry in Prometheus's text format.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
