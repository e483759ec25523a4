// swift-tools-version: 6.1
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
        .library(name: "DANetServer", targets: ["DANetServer"]),
        .executable(name: "danet", targets: ["danet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The server: HTTP/1.1 on SwiftNIO, graceful shutdown on SIGTERM, metrics in Prometheus's format.
        // Hummingbird's default traits pull in swift-configuration, which the server does not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
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

        /// An Open Inference Protocol (KServe v2) server with a plain segmentation endpoint, a page to
        /// try it, admission control, bearer tokens and Prometheus metrics: what `danet serve` runs.
        .target(
            name: "DANetServer",
            dependencies: [
                "DANetModel", "Segmentation", "Imaging", "ImageCodecs", "TorchArchive", "TensorKernels", "DANetSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

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
                "DANetServer",
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
        .testTarget(name: "DANetServerTests", dependencies: ["DANetServer", .product(name: "NIOCore", package: "swift-nio")]),
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
