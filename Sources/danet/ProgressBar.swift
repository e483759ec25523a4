import DANetSupport

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct ProgressBar {
    let label: String
    var total: Int
    private let enabled: Bool
    private var lastDrawn = -1

    init(label: String, total: Int, enabled: Bool = Terminal.standardErrorIsTerminal) {
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
    }

    mutating func update(_ done: Int) {
        guard enabled else { return }
        let width = 30
        let filled = min(width, done * width / total)
        guard filled != lastDrawn || done == total else { return }
        lastDrawn = filled
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Terminal.writeStandardError("\r\(label) [\(bar)] \(done)/\(total)")
        if done >= total { Terminal.writeStandardError("\r\u{1B}[2K") }  // clear the line when finished
    }
}
