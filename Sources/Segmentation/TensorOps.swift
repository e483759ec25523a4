import DANetModel
import Imaging
import TensorKernels

/// Whole-tensor helpers on (channels, height, width) tensors for the test-time pipeline.
enum TensorOps {
    /// (3, height, width) float32: each RGB value divided by `pixelScale` (255 for 0...1, 1 to keep
    /// 0...255), minus `mean`, over `std`, per channel.
    static func normalize(_ image: RGBImage, pixelScale: Float, mean: [Float], std: [Float]) -> Tensor {
        let plane = image.width * image.height
        var data = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            for c in 0..<3 { data[c * plane + i] = (Float(image.pixels[i * 3 + c]) / pixelScale - mean[c]) / std[c] }
        }
        return Tensor(checkedShape: [3, image.height, image.width], data: data)
    }

    static func resize(_ x: Tensor, height: Int, width: Int, alignCorners: Bool) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        if h == height && w == width { return x }
        var out = Tensor(zerosChecked: [c, height, width])
        x.data.withUnsafeBufferPointer { input in
            out.data.withUnsafeMutableBufferPointer { output in
                Resize.bilinear(input.baseAddress!, planes: c, height: h, width: w, output: output.baseAddress!,
                                outHeight: height, outWidth: width, alignCorners: alignCorners)
            }
        }
        return out
    }

    /// Pads at the bottom and right to at least `size` x `size` with one value per channel.
    static func pad(_ x: Tensor, to size: Int, values: [Float]) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let (ph, pw) = (max(h, size), max(w, size))
        if ph == h && pw == w { return x }
        var out = Tensor(zerosChecked: [c, ph, pw])
        for channel in 0..<c {
            for y in 0..<ph {
                for xi in 0..<pw {
                    out.data[(channel * ph + y) * pw + xi] = (y < h && xi < w) ? x.data[(channel * h + y) * w + xi] : values[channel]
                }
            }
        }
        return out
    }

    static func crop(_ x: Tensor, top: Int, left: Int, height: Int, width: Int) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        if top == 0 && left == 0 && height == h && width == w { return x }
        var out = Tensor(zerosChecked: [c, height, width])
        for channel in 0..<c {
            for y in 0..<height {
                let source = (channel * h + top + y) * w + left
                let target = (channel * height + y) * width
                for xi in 0..<width { out.data[target + xi] = x.data[source + xi] }
            }
        }
        return out
    }

    static func flipHorizontally(_ x: Tensor) -> Tensor {
        let (c, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        var out = x
        for row in 0..<(c * h) {
            for xi in 0..<w { out.data[row * w + xi] = x.data[row * w + (w - 1 - xi)] }
        }
        return out
    }
}
