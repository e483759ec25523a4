/// Renames checkpoint keys to the official DANet names (`pretrained.*`, `head.*`).
///
/// A data table of prefix rules, applied first match wins, so a new layout is a new table.
struct KeyMap: Sendable {
    let rules: [(from: String, to: String)]

    func canonical(_ key: String) -> String {
        for rule in rules where key.hasPrefix(rule.from) {
            return rule.to + key.dropFirst(rule.from.count)
        }
        return key
    }

    static let official = KeyMap(rules: [])

    /// mmsegmentation's DAHead on ResNetV1c.
    static let mmseg = KeyMap(rules: [
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
