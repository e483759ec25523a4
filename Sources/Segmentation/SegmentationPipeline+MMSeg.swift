import DANetModel
import Foundation
import Imaging
import TensorKernels

/// mmsegmentation 1.x's test pipeline (`MMSegOptions`), in float32 as mmseg computes it.
extension SegmentationPipeline {
    func mmsegPassCount(_ o: MMSegOptions, height: Int, width: Int) -> Int {
        guard (try? o.validate()) != nil, height > 0, width > 0 else { return 0 }
        let windows = o.sizes(width: width, height: height).reduce(0) { total, size in
            total + (o.mode == .whole ? 1
                : MMSegOptions.windows(size: size.height, crop: o.cropHeight, stride: o.strideHeight).count
                    * MMSegOptions.windows(size: size.width, crop: o.cropWidth, stride: o.strideWidth).count)
        }
        return windows * (o.flip ? 2 : 1)
    }

    func mmsegScores(_ image: RGBImage, _ o: MMSegOptions, _ run: inout Run) throws -> Scores {
        try o.validate()
        let (height, width) = (image.height, image.width)
        let classes = model.configuration.classes, plane = height * width
        let sizes = o.sizes(width: width, height: height)
        guard sizes.allSatisfy({ $0.width <= Options.maxSide && $0.height <= Options.maxSide }) else {
            throw SegmentationError("expected resized sides of at most \(Options.maxSide), found \(sizes.map { "\($0.width)x\($0.height)" })")
        }
        let averagesProbabilities = o.flip || o.ratios != nil
        var merged = [Float](repeating: 0, count: classes * plane)
        var passes = 0
        for size in sizes {
            // mmseg normalises pixels in 0...255.
            let resized = TensorOps.normalize(try image.resizedLikeOpenCV(width: size.width, height: size.height),
                                              pixelScale: 1, mean: o.mean, std: o.std)
            for flipped in o.flip ? [false, true] : [false] {
                let input = flipped ? TensorOps.flipHorizontally(resized) : resized
                var logits = o.mode == .whole ? try run.pass { try fused(input) } : try slide(input, o, &run)
                if flipped { logits = TensorOps.flipHorizontally(logits) }
                logits = TensorOps.resize(logits, height: height, width: width, alignCorners: model.configuration.alignCorners)
                if averagesProbabilities {
                    SegmentationPipeline.addSoftmax(logits.data, into: &merged, classes: classes, plane: plane)
                } else {
                    merged = logits.data
                }
                passes += 1
            }
        }
        if averagesProbabilities {
            let count = Float(passes)
            for i in merged.indices { merged[i] /= count }
        }
        return Scores(checkedChannels: classes, height: height, width: width, values: merged.map(Double.init))
    }

    /// Logits of overlapping windows, summed and divided by the windows covering each pixel.
    private func slide(_ x: Tensor, _ o: MMSegOptions, _ run: inout Run) throws -> Tensor {
        let (height, width) = (x.shape[1], x.shape[2])
        let classes = model.configuration.classes
        var sum = Tensor(zerosChecked: [classes, height, width])
        var count = [Float](repeating: 0, count: height * width)
        for rows in MMSegOptions.windows(size: height, crop: o.cropHeight, stride: o.strideHeight) {
            for columns in MMSegOptions.windows(size: width, crop: o.cropWidth, stride: o.strideWidth) {
                let window = TensorOps.crop(x, top: rows.lowerBound, left: columns.lowerBound, height: rows.count, width: columns.count)
                let logits = try run.pass { try fused(window) }
                for c in 0..<classes {
                    for (wy, y) in rows.enumerated() {
                        let target = (c * height + y) * width + columns.lowerBound, source = (c * rows.count + wy) * columns.count
                        for i in 0..<columns.count { sum.data[target + i] += logits.data[source + i] }
                    }
                }
                for y in rows {
                    for xi in columns { count[y * width + xi] += 1 }
                }
            }
        }
        for c in 0..<classes {
            for i in 0..<(height * width) { sum.data[c * height * width + i] /= count[i] }
        }
        return sum
    }

    /// Adds each pixel's softmax over the classes (max subtracted, as torch computes it) to `sum`.
    static func addSoftmax(_ logits: [Float], into sum: inout [Float], classes: Int, plane: Int) {
        for i in 0..<plane {
            var peak = -Float.infinity
            for c in 0..<classes { peak = max(peak, logits[c * plane + i]) }
            var total: Float = 0
            for c in 0..<classes { total += Foundation.exp(logits[c * plane + i] - peak) }
            for c in 0..<classes { sum[c * plane + i] += Foundation.exp(logits[c * plane + i] - peak) / total }
        }
    }
}
