/// Renames checkpoint keys into the names a model asks for: prefix rules, the first match wins,
/// so that another layout of the same weights is another table, not another loader.
///
/// ```swift
/// let mmseg = KeyMap([("backbone.", "pretrained."), ("decode_head.conv_seg.", "head.conv8.1.")])
/// mmseg.rename("backbone.conv1.weight")  // "pretrained.conv1.weight"
/// ```
public struct KeyMap: Sendable {
    /// The rules in the order they are tried.
    public let rules: [(from: String, to: String)]

    /// A map that applies `rules`, first match wins.
    public init(_ rules: [(from: String, to: String)]) {
        self.rules = rules
    }

    /// `key` with the first matching rule's prefix replaced, or `key` unchanged.
    public func rename(_ key: String) -> String {
        for rule in rules where key.hasPrefix(rule.from) {
            return rule.to + key.dropFirst(rule.from.count)
        }
        return key
    }

    /// Keeps every key as it is.
    public static let identity = KeyMap([])
}
