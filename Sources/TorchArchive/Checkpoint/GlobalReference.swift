/// What a global named by a checkpoint's pickle is, from the loader's point of view.
public enum GlobalKind: String, Sendable, Codable, CaseIterable {
    /// Tensor and storage machinery: rebuild functions, storage classes, dtypes, sizes, devices.
    case torch
    /// Containers and plain data: OrderedDict, the data-building builtins.
    case container
    /// A class known to hold only data (numpy arrays, argparse.Namespace, omegaconf, ...), kept as
    /// a record: `torch.load(weights_only=True)` refuses it, but building it runs nothing harmful.
    case knownData = "known-data"
    /// Not on the allow list: kept as a record and never run here, but `torch.load` would call it.
    case unknown
    /// On the deny list: it can run code, so the load stops.
    case refused
}

/// One global a checkpoint names: what it is and where it is first used.
public struct GlobalReference: Sendable, Equatable, Codable {
    /// `module.name`, e.g. `collections.OrderedDict`.
    public let name: String
    /// What it is.
    public let kind: GlobalKind
    /// Why it is harmless, or that it is unknown.
    public let why: String
    /// The pickle that names it (`archive/data.pkl`, `main pickle`, ...).
    public let record: String
    /// The byte offset, inside that pickle, of the first opcode that names it.
    public let offset: Int
    /// How many opcodes name it.
    public let uses: Int
}

/// What loading a checkpoint with Python would involve, from the globals its pickles name.
public enum SafetyVerdict: Sendable, Equatable {
    /// Only tensor machinery and containers: `torch.load(weights_only=True)` loads it.
    case weightsOnly
    /// Also known data classes, which `weights_only=True` refuses but which only hold data.
    case knownData([String])
    /// Globals nobody vouches for: never run here, but `torch.load` would call them.
    case unknownCallables([String])
    /// Globals that can run code (the load was refused).
    case refused([String])

    /// The verdict for a set of references.
    public init(_ globals: [GlobalReference]) {
        let refused = globals.filter { $0.kind == .refused }.map(\.name)
        let unknown = globals.filter { $0.kind == .unknown }.map(\.name)
        let known = globals.filter { $0.kind == .knownData }.map(\.name)
        if !refused.isEmpty {
            self = .refused(refused)
        } else if !unknown.isEmpty {
            self = .unknownCallables(unknown)
        } else if !known.isEmpty {
            self = .knownData(known)
        } else {
            self = .weightsOnly
        }
    }

    /// `weights-only`, `known-data`, `unknown-callables` or `refused`, as `danet scan --json` names it.
    public var name: String {
        switch self {
        case .weightsOnly: "weights-only"
        case .knownData: "known-data"
        case .unknownCallables: "unknown-callables"
        case .refused: "refused"
        }
    }

    /// The globals that decided the verdict (none for `weightsOnly`).
    public var globals: [String] {
        switch self {
        case .weightsOnly: []
        case .knownData(let names), .unknownCallables(let names), .refused(let names): names
        }
    }

    /// True for the two verdicts of files that name only tensor machinery, containers and known data.
    public var isClean: Bool {
        switch self {
        case .weightsOnly, .knownData: true
        case .unknownCallables, .refused: false
        }
    }

    /// One line, as `danet inspect` and `danet scan` print it.
    public var line: String {
        switch self {
        case .weightsOnly: "loads with torch.load(weights_only=True)"
        case .knownData(let names): "needs weights_only=False only for known data classes: " + names.joined(separator: ", ")
        case .unknownCallables(let names):
            "unknown callables: " + names.joined(separator: ", ") + " (never run here; do not torch.load this file without reading them)"
        case .refused(let names): "refused: " + names.joined(separator: ", ") + " can run code"
        }
    }
}
