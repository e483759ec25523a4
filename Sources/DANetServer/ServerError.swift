import DANetSupport

/// Why the server refused a request or could not start: an HTTP status and one line naming the
/// request (or file), what was expected and what was found. The server answers it as the
/// inference protocol's `{"error": "..."}` with that status.
public struct ServerError: DANetError, Equatable {
    /// The HTTP status the answer carries (4xx for the client's mistakes, 503 when busy).
    public let status: Int
    /// The file concerned (a model's weights or the token file), or "" for a request.
    public let file: String
    /// One line: what was expected and what was found.
    public let message: String

    /// An error with `status`, about `file` when there is one.
    public init(status: Int, file: String = "", _ message: String) {
        self.status = status
        self.file = file
        self.message = message
    }

    public var description: String { errorLine(file: file, message) }

    static func badRequest(_ message: String) -> ServerError { ServerError(status: 400, message) }
}
