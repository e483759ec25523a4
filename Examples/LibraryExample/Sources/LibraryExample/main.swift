import DANetModel
import Foundation
import ImageCodecs
import Imaging
import Segmentation
import TorchArchive

let checkpoint = try Checkpoint(contentsOf: URL(fileURLWithPath: "danet101.pth.tar"))
let weights = try checkpoint.stateDict()                  // wrappers and `module.` removed
if let conv1 = weights["pretrained.conv1.weight"] {       // lookup by name
    print(conv1.shape, conv1.dtype, try conv1.floats().count)
}
let model = try DANet(contentsOf: URL(fileURLWithPath: "danet101.pth.tar"))
let image = try RGBImage(contentsOf: URL(fileURLWithPath: "street.jpg"))   // PNG or JPEG
let pipeline = SegmentationPipeline(model: model, preset: .cityscapes)
let labels = try await Task.detached { try await pipeline.segment(image) }.value  // Sendable
print(labels.width, labels.height, labels[x: 10, y: 20])  // a LabelMap, class index per pixel
try labels.colorized().pngData().write(to: URL(fileURLWithPath: "color.png"))
try labels.overlay(on: image, alpha: 0.5).pngData().write(to: URL(fileURLWithPath: "overlay.png"))
