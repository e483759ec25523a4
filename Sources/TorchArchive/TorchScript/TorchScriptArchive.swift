/// What sets a TorchScript archive (`torch.jit.save`) apart from a torch.save zip: its `code/`
/// folder of serialized TorchScript source and its `constants.pkl`, whose tensors have their own
/// `constants/` folder of storages. The source is never compiled or run; the weights are read from
/// `data.pkl` exactly as in a torch.save archive, its `__torch__.*` classes kept as records.
enum TorchScriptArchive {
    static func isTorchScript(_ archive: ZipArchive, folder: String) -> Bool {
        archive[folder + "constants.pkl"] != nil || archive.entries.contains { $0.name.hasPrefix(folder + "code/") }
    }

    /// The tensors of `constants.pkl`, named `constants.N`; `tree` is the main pickle's, whose
    /// spent budget the constants share.
    static func constants(_ archive: ZipArchive, folder: String, file: String, limits: ArchiveLimits, after tree: ObjectTree,
                          resolver: TorchGlobalResolver, arena: PickleArena) throws -> [NamedTensor] {
        guard let record = archive[folder + "constants.pkl"] else { return [] }
        let (value, _) = try Checkpoint.unpickle(try archive.region(record), record: record.name, file: file, limits: limits,
                                                 resolver: resolver, arena: arena)
        var constants = ObjectTree(limits: limits, fileSize: archive.file.count, spent: tree.spent)
        try tagging(file: file) { try constants.collect(value, prefix: "constants") }
        return constants.tensors
    }
}
