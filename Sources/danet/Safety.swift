import TorchArchive

/// What the command line says about a checkpoint's globals.
enum Safety {
    /// One warning line on stderr when a loaded file names globals nobody vouches for: they were
    /// kept as records and never run, but `torch.load` would call them.
    static func warnAboutUnknownCallables(_ checkpoint: Checkpoint) {
        guard case .unknownCallables(let names) = checkpoint.verdict else { return }
        Terminal.standardError("danet: warning: \(checkpoint.path): unknown callables \(names.joined(separator: ", ")) "
            + "(kept as records, never run here; do not torch.load this file without reading them; --strict refuses them)")
    }
}
