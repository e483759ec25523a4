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
    /// which stops a "billion laughs" pickle that references one list a billion times.
    /// 1,000,000 is hundreds of times what large state dicts with optimizer state reach, and keeps
    /// the worst case under a second (tools/fuzz found a 334-byte pickle of DUP and TUPLE3 that
    /// spent 2.7 s reaching the former bound of 20,000,000).
    public var maxVisitedValues = 1_000_000
    /// Largest inflate ratio of a deflated zip entry before it counts as a zip bomb (deflate's own
    /// ceiling is about 1032:1; real tensor data compresses far less than 100:1). All deflated
    /// entries of one archive together may inflate to at most this times the file's size, plus
    /// `inflateRatioExemptBytes`: the bound on what reading a zip checkpoint can allocate.
    public var maxInflateRatio = 100
    /// Entries below this size inflate without a ratio check (small zero tensors compress well).
    public var inflateRatioExemptBytes = 1 << 20
    /// Largest safetensors JSON header, as the reference implementation allows.
    public var maxSafetensorsHeader = 100_000_000

    public init() {}

    public static let standard = ArchiveLimits()
}
