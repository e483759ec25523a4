// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-danet",
    products: [
        .library(name: "TorchArchive", targets: ["TorchArchive"]),
        .executable(name: "danet", targets: ["danet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: Public API

        /// Reads PyTorch checkpoints (zip, legacy, TorchScript) and safetensors without running code.
        .target(name: "TorchArchive", dependencies: ["CLibZip"]),

        /// The `danet` command-line tool.
        .executableTarget(
            name: "danet",
            dependencies: [
                "TorchArchive",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        /// Times checkpoint loading in-process for `tools/bench_load.py`.
        .executableTarget(name: "archive-bench", dependencies: ["TorchArchive"]),

        // MARK: Implementation details: system libraries (Debian: libzip-dev, libopenblas-dev)

        .systemLibrary(
            name: "CLibZip", pkgConfig: "libzip",
            providers: [.apt(["libzip-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: Tests

        .testTarget(name: "TorchArchiveTests", dependencies: ["TorchArchive"]),
        .testTarget(name: "danetTests", dependencies: ["danet", "TorchArchive"]),
    ],
    swiftLanguageModes: [.v6]
)
