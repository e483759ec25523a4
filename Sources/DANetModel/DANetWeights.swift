import TorchArchive

/// How a checkpoint's keys become the official DANet names (`pretrained.*`, `head.*`) and which
/// keys the model may leave unused.
enum DANetWeights {
    /// The state dict of `checkpoint` (a `module.` prefix removed) under official names, and the
    /// layout its keys show.
    static func open(_ checkpoint: Checkpoint) throws -> (WeightStore, DANetConfiguration.Layout) {
        let stateDict: StateDict
        do {
            stateDict = try checkpoint.stateDict(stripPrefix: "module.")
        } catch let error as ArchiveError {
            throw ModelError(.unrecognized, file: checkpoint.path, error.description)
        }
        let isMMSeg = stateDict.contains { $0.name.hasPrefix("decode_head.") || $0.name.hasPrefix("backbone.") }
        let store = try WeightStore(stateDict, file: checkpoint.path, keyMap: isMMSeg ? mmseg : .identity)
        return (store, isMMSeg ? .mmseg : .official)
    }

    /// Keys the model never uses and that may be left over: batch counters, the ImageNet
    /// classifier, the auxiliary FCN head of training.
    static func isIgnorable(_ name: String) -> Bool {
        name.hasSuffix("num_batches_tracked") || name.hasPrefix("pretrained.fc.")
            || name.hasPrefix("auxlayer.") || name.hasPrefix("auxiliary_head.")
    }

    /// mmsegmentation's DAHead on ResNetV1c.
    static let mmseg = KeyMap([
        ("backbone.", "pretrained."),
        ("decode_head.pam_in_conv.conv.", "head.conv5a.0."),
        ("decode_head.pam_in_conv.bn.", "head.conv5a.1."),
        ("decode_head.cam_in_conv.conv.", "head.conv5c.0."),
        ("decode_head.cam_in_conv.bn.", "head.conv5c.1."),
        ("decode_head.pam.query_project.", "head.sa.query_conv."),
        ("decode_head.pam.key_project.", "head.sa.key_conv."),
        ("decode_head.pam.value_project.", "head.sa.value_conv."),
        ("decode_head.pam.gamma.scale", "head.sa.gamma"),
        ("decode_head.cam.gamma.scale", "head.sc.gamma"),
        ("decode_head.pam_out_conv.conv.", "head.conv51.0."),
        ("decode_head.pam_out_conv.bn.", "head.conv51.1."),
        ("decode_head.cam_out_conv.conv.", "head.conv52.0."),
        ("decode_head.cam_out_conv.bn.", "head.conv52.1."),
        ("decode_head.pam_conv_seg.", "head.conv6.1."),
        ("decode_head.cam_conv_seg.", "head.conv7.1."),
        ("decode_head.conv_seg.", "head.conv8.1."),
    ])
}
