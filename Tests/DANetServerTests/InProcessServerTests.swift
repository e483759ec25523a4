import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import DANetServer

/// The server as an app holds it: started in a task on a port the system picks, asked over HTTP,
/// stopped by cancelling the task.
@Suite("Server in process")
struct InProcessServerTests {
    /// The port the server reports, or nil after `seconds`; waits without holding a thread (the
    /// other suites' parity tests keep Swift's cooperative threads busy).
    static func port(from ports: AsyncStream<Int>, seconds: Int) async -> Int? {
        await withTaskGroup(of: Int?.self) { group in
            group.addTask { await ports.first { _ in true } }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func get(_ url: URL, body: Data? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: url)
        if let body {
            request.httpMethod = "POST"
            request.httpBody = body
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test("the bundled model served, asked and stopped from one process")
    func serveAndStop() async throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = try DANetServer(configuration: configuration)
        #expect(server.configuration.models.map(\.name) == ["street"])
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let running = Task { try await server.run { _, port in continuation.yield(port) } }
        let port = try #require(await Self.port(from: ports, seconds: 300))
        let base = URL(string: "http://127.0.0.1:\(port)")!
        let (ready, _) = try await Self.get(base.appendingPathComponent("v2/health/ready"))
        #expect(ready == 200)
        let photo = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fixtures/demo/street.png").standardized)
        var components = URLComponents(url: base.appendingPathComponent("v1/segment"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "output", value: "json")]
        let (status, data) = try await Self.get(components.url!, body: photo)
        #expect(status == 200)
        let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let names = (answer?["classes"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(names.first == "road" && names.count == 6, "\(names)")
        let (missing, errorBody) = try await Self.get(base.appendingPathComponent("v2/models/nope"))
        #expect(missing == 404)
        #expect(String(decoding: errorBody, as: UTF8.self) == #"{"error":"expected a model named street, found 'nope'"}"#)
        running.cancel()
        _ = await running.result
    }
}
