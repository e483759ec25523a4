/// The bounds every load enforces. Lengths inside a file are bounded further by the bytes that
/// really remain, so none of these is ever the only thing between a hostile file and an allocation.
public struct ArchiveLimits: Sendable {
    /// Entries a single pickle may memoize (a full DANet-R101 state dict needs about 7,000).
    public var maxMemoEntries = 4_000_000
    /// MARKs open at once; real checkpoints nest a handful.
    public var maxOpenMarks = 10_000
    /// Values on the pickle stack at once.
    public var maxStackDepth = 16_000_000
    /// Container nesting when names are built from the object tree.
    public var maxNesting = 200
    /// Values visited while building names: shared sub-trees count each time they are reached,
    /// which stops a "billion laughs" pickle that references one list a billion times. The bound
    /// is hundreds of times what large state dicts with optimizer state reach (SECURITY.md).
    public var maxVisitedValues = 1_000_000
    /// How many times its own size a checkpoint may grow when it is read. A deflated zip entry over
    /// `expansionExemptBytes` may inflate at most this much (deflate's own ceiling is about 1032:1;
    /// real tensor data compresses far less than 100:1), and so may all deflated entries of one
    /// archive together, and so may all named tensors with their names: stride-0 views and one
    /// storage (or one empty tensor, or one unknown object) named again and again through shared
    /// containers turn a few kilobytes into terabytes, or into millions of names, as surely as a
    /// zip bomb does. `budget(forFileOf:)` is the resulting ceiling.
    public var maxExpansionRatio = 100
    /// Bytes every file may expand to regardless of its size (small zero tensors compress well,
    /// and a test checkpoint of a few kilobytes may tie or expand a small weight).
    public var expansionExemptBytes = 1 << 20
    /// Largest safetensors JSON header, as the reference implementation allows.
    public var maxSafetensorsHeader = 100_000_000

    /// The standard limits; change a field to loosen or tighten one.
    public init() {}

    /// The most bytes reading a file of `size` bytes may produce, in inflated entries and in named
    /// tensors alike: `maxExpansionRatio` times `size`, plus `expansionExemptBytes`.
    public func budget(forFileOf size: Int) -> Int {
        let scaled = maxExpansionRatio.multipliedReportingOverflow(by: size)
        let total = scaled.partialValue.addingReportingOverflow(expansionExemptBytes)
        return scaled.overflow || total.overflow ? Int.max : total.partialValue
    }

    /// How `budget(forFileOf:)` is reckoned, for error messages.
    var budgetRule: String {
        "\(maxExpansionRatio) times the file's size plus \(expansionExemptBytes) bytes"
    }

    /// The limits every load uses unless given others.
    public static let standard = ArchiveLimits()
}
