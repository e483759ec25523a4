import Imaging

/// Class names, palettes and test-time defaults of the datasets DANet is evaluated on, from
/// mmsegmentation's dataset metadata, plus the bundled street model's own classes.
public struct DatasetPreset: Sendable {
    /// The name `--dataset` takes, e.g. `cityscapes`.
    public let name: String
    /// Class names by index.
    public let classes: [String]
    /// One RGB colour per class.
    public let palette: [RGBColor]
    /// The long side at scale 1.
    public let baseSize: Int
    /// The sliding window.
    public let cropSize: Int
    /// Test scales.
    public let scales: [Double]
    /// Whether the flipped pass is added.
    public let flip: Bool
    /// Sliding window or whole image.
    public let mode: SegmentationPipeline.Mode
    /// mmsegmentation's test pipeline for this dataset, from its DANet config where there is one.
    public let mmseg: MMSegOptions
    /// The `align_corners` of that config's head, which a checkpoint cannot show.
    public let mmsegAlignCorners: Bool

    init(_ name: String, classes: String, palette: [Int], baseSize: Int, cropSize: Int, scales: [Double] = [1.0], flip: Bool = true,
         mode: SegmentationPipeline.Mode = .slide, mmseg: MMSegOptions, mmsegAlignCorners: Bool = false) {
        let names = classes.split(separator: "|").map(String.init)
        precondition(palette.count == names.count * 3, "\(name): \(names.count) classes, \(palette.count / 3) colours")
        self.name = name
        self.classes = names
        self.palette = stride(from: 0, to: palette.count, by: 3).map { RGBColor(UInt8(palette[$0]), UInt8(palette[$0 + 1]), UInt8(palette[$0 + 2])) }
        self.baseSize = baseSize
        self.cropSize = cropSize
        self.scales = scales
        self.flip = flip
        self.mode = mode
        self.mmseg = mmseg
        self.mmsegAlignCorners = mmsegAlignCorners
    }

    /// The options this preset implies.
    public var options: SegmentationPipeline.Options {
        SegmentationPipeline.Options(scales: scales, flip: flip, baseSize: baseSize, cropSize: cropSize, mode: mode)
    }

    /// Every preset, as `--dataset` lists them.
    public static let all: [DatasetPreset] = [street, cityscapes, cityscapes769, ade20k, pascalContext59, pascalContext60, cocoStuff]

    /// The preset for a model with `classes` outputs when none is named: the street preset for the
    /// bundled model, else the first dataset with that many classes, else `generic(classes:)`.
    public static func matching(classes: Int, bundled: Bool) -> DatasetPreset {
        if bundled { return .street }
        return all.first { $0.classes.count == classes && $0.name != "street" } ?? .generic(classes: classes)
    }

    /// The preset called `name` (any case), or nil.
    public static func named(_ name: String) -> DatasetPreset? {
        all.first { $0.name == name.lowercased() }
    }

    /// The bundled default model's classes (tools/street_scenes.py). It was trained on whole
    /// 128 x 256 scenes, so it runs whole images at that size: black padding, never seen in
    /// training, would reach every pixel through position attention.
    public static let street = DatasetPreset("street", classes: "road|building|vegetation|sky|car|person",
                                             palette: [128, 64, 128, 70, 70, 70, 107, 142, 35, 70, 130, 180, 0, 0, 142, 220, 20, 60],
                                             baseSize: 256, cropSize: 256, mode: .whole,
                                             mmseg: MMSegOptions(resizeLong: 256, resizeShort: 128, mode: .whole), mmsegAlignCorners: true)

    static let cityscapesClasses = "road|sidewalk|building|wall|fence|pole|traffic light|traffic sign|vegetation|terrain|sky|"
        + "person|rider|car|truck|bus|train|motorcycle|bicycle"
    static let cityscapesPalette = [128, 64, 128, 244, 35, 232, 70, 70, 70, 102, 102, 156, 190, 153, 153, 153, 153, 153, 250, 170, 30,
                                    220, 220, 0, 107, 142, 35, 152, 251, 152, 70, 130, 180, 220, 20, 60, 255, 0, 0, 0, 0, 142, 0, 0, 70,
                                    0, 60, 100, 0, 80, 100, 0, 0, 230, 119, 11, 32]

    /// Cityscapes trainIds: base 2048, crop 768, single scale with flip (the official DANet test
    /// setting); mmseg's 512x1024 config: resize to 2048x1024, whole image, align_corners false.
    public static let cityscapes = DatasetPreset(
        "cityscapes", classes: cityscapesClasses, palette: cityscapesPalette, baseSize: 2048, cropSize: 768,
        mmseg: MMSegOptions(resizeLong: 2048, resizeShort: 1024, mode: .whole))

    /// Cityscapes with mmseg's 769x769 config: resize to 2049x1025, slide 769x769 windows with
    /// stride 513x513, align_corners true. The official pipeline is `cityscapes`'s.
    public static let cityscapes769 = DatasetPreset(
        "cityscapes-769", classes: cityscapesClasses, palette: cityscapesPalette, baseSize: 2048, cropSize: 768,
        mmseg: MMSegOptions(resizeLong: 2049, resizeShort: 1025, mode: .slide, cropHeight: 769, cropWidth: 769,
                            strideHeight: 513, strideWidth: 513),
        mmsegAlignCorners: true)

    /// Cityscapes labelIds (0...33) to trainIds (0...18, 255 ignored), as cityscapesScripts defines them.
    public static let cityscapesTrainIds: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        let pairs: [(Int, UInt8)] = [(7, 0), (8, 1), (11, 2), (12, 3), (13, 4), (17, 5), (19, 6), (20, 7), (21, 8), (22, 9),
                                     (23, 10), (24, 11), (25, 12), (26, 13), (27, 14), (28, 15), (31, 16), (32, 17), (33, 18)]
        for (id, train) in pairs { table[id] = train }
        return table
    }()
}

extension DatasetPreset {
    /// Names "class 0"... and spread-out colours, for models of no known dataset.
    public static func generic(classes: Int) -> DatasetPreset {
        let classes = max(0, classes)
        var palette: [Int] = []
        for c in 0..<classes {
            palette += [(c * 97 + 40) % 256, (c * 57 + 90) % 256, (c * 151 + 160) % 256]
        }
        return DatasetPreset("generic", classes: (0..<classes).map { "class \($0)" }.joined(separator: "|"),
                             palette: palette, baseSize: 512, cropSize: 512,
                             mmseg: MMSegOptions(resizeLong: 2048, resizeShort: 512, mode: .whole))
    }
}
