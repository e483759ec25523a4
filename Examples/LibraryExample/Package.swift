// swift-tools-version: 6.0
// The README's "Use it as a library" example as a package of its own, depending on swift-danet by
// path the way an app depends on it by URL. tools/test_library_example.sh builds and runs it.
import PackageDescription

// A path dependency is named after its folder, which is whatever the clone was called.
let root = Context.packageDirectory.split(separator: "/").dropLast(2)
let danet = String(root.last ?? "swift-danet")

let package = Package(
    name: "LibraryExample",
    dependencies: [
        .package(path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "LibraryExample",
            dependencies: [
                .product(name: "TorchArchive", package: danet),
                .product(name: "DANetModel", package: danet),
                .product(name: "Segmentation", package: danet),
                .product(name: "Imaging", package: danet),
                .product(name: "ImageCodecs", package: danet),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
