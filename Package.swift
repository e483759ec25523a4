// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-danet",
    products: [
        .library(name: "TorchArchive", targets: ["TorchArchive"]),
        .library(name: "DANetModel", targets: ["DANetModel"]),
        .library(name: "Segmentation", targets: ["Segmentation"]),
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "ImageCodecs", targets: ["ImageCodecs"]),
        .library(name: "DANetSupport", targets: ["DANetSupport"]),
        .executable(name: "danet", targets: ["danet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: Libraries

        /// Reads PyTorch checkpoints (zip, legacy, TorchScript) and safetensors without running code;
        /// writes safetensors; hands out a model's weights by name and shape.
        .target(name: "TorchArchive", dependencies: ["DANetSupport", "CLibZip"]),

        /// DANet: dilated ResNet, position and channel attention, official and mmseg key layouts.
        .target(name: "DANetModel", dependencies: ["TorchArchive", "TensorKernels", "DANetSupport", "CDemoModel"]),

        /// The official test-time pipeline, dataset presets, label maps and mIoU.
        .target(name: "Segmentation", dependencies: ["DANetModel", "TensorKernels", "Imaging", "DANetSupport"]),

        /// Images and label maps in memory: RGB pixels, class indices, palettes and overlays. No codecs.
        .target(name: "Imaging", dependencies: ["DANetSupport"]),

        /// PNG (libpng) and JPEG (libjpeg-turbo) reading, with EXIF orientation; PNG writing.
        .target(name: "ImageCodecs", dependencies: ["Imaging", "DANetSupport", "CLibPNG", "CTurboJPEG"]),

        /// The `danet` command-line tool.
        .executableTarget(
            name: "danet",
            dependencies: [
                "TorchArchive",
                "DANetModel",
                "TensorKernels",
                "Imaging",
                "ImageCodecs",
                "Segmentation",
                "DANetSupport",
                "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        /// In-process timings for the benchmark scripts in tools/: checkpoint loading and sgemm.
        .executableTarget(name: "danet-bench", dependencies: ["TorchArchive", "TensorKernels", "DANetSupport"]),

        // MARK: Implementation details

        /// What every module shares: the error protocol (public, so an app can catch every error of
        /// the package at once), atomic file writes, text escaping, and the operating-system calls
        /// they need (package access).
        .target(name: "DANetSupport"),

        /// Float32 NCHW kernels: products, convolution, Winograd, pooling, resize, softmax; one
        /// thread pool. Package access only: the libraries above are its interface.
        .target(name: "TensorKernels", dependencies: ["CVectorKernels", "DANetSupport"]),

        /// C kernels with one table per instruction set (AVX-512, AVX2+FMA, NEON, portable C), chosen
        /// at run time: the GEMM micro-kernels and blocking, Winograd transforms, softmax; the CPU count
        /// and OpenBLAS, loaded on first use (Debian: libopenblas0).
        .target(name: "CVectorKernels", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),

        /// The bundled street-scene model (tools/train_default_model.py), assembled into the binary.
        .target(name: "CDemoModel", exclude: ["model/default-street-danet.pth"], cSettings: [.headerSearchPath("model")]),

        // System libraries (Debian: libzip-dev, libpng-dev, libturbojpeg0-dev)

        /// glibc's <malloc.h>, for mallopt (part of libc: nothing to install or link).
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(
            name: "CLibZip", pkgConfig: "libzip",
            providers: [.apt(["libzip-dev"])]
        ),
        .systemLibrary(
            name: "CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),

        // MARK: Tests

        .testTarget(name: "TorchArchiveTests", dependencies: ["TorchArchive"]),
        .testTarget(name: "TensorKernelsTests", dependencies: ["TensorKernels"]),
        .testTarget(name: "DANetModelTests", dependencies: ["DANetModel", "TorchArchive", "TensorKernels", "DANetSupport"]),
        .testTarget(name: "SegmentationTests", dependencies: ["Segmentation", "DANetSupport", "DANetModel", "Imaging", "ImageCodecs", "TensorKernels", "TorchArchive"]),
        .testTarget(name: "danetTests", dependencies: ["danet", "TorchArchive"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (tools/fuzz builds them with DANET_FUZZ=1 and -sanitize=fuzzer): left out of every
// other build, since libFuzzer supplies their main.
if Context.environment["DANET_FUZZ"] == "1" {
    let archive: [Target.Dependency] = ["TorchArchive", "FuzzSupport"]
    package.targets += [
        .target(name: "FuzzSupport", path: "tools/fuzzing/FuzzSupport"),
        .executableTarget(name: "fuzz-pickle", dependencies: archive, path: "tools/fuzzing/fuzz-pickle"),
        .executableTarget(name: "fuzz-zip", dependencies: archive, path: "tools/fuzzing/fuzz-zip"),
        .executableTarget(name: "fuzz-legacy", dependencies: archive, path: "tools/fuzzing/fuzz-legacy"),
        .executableTarget(name: "fuzz-safetensors", dependencies: archive, path: "tools/fuzzing/fuzz-safetensors"),
        .executableTarget(name: "fuzz-png", dependencies: ["ImageCodecs", "FuzzSupport"], path: "tools/fuzzing/fuzz-png"),
        .executableTarget(name: "fuzz-jpeg", dependencies: ["ImageCodecs", "FuzzSupport"], path: "tools/fuzzing/fuzz-jpeg"),
    ]
}
