import ArgumentParser
import DANetModel
import Foundation
import TensorKernels

/// `danet info [--json]`: the CPU, its features, the kernels chosen and why, threads and GEMM.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the CPU, the kernels danet chose for it and why, the thread count and the GEMM backend.",
        discussion: """
            Features come from CPUID leaves 1 and 7 and XGETBV (the register state the operating system \\
            saves) on x86-64, from HWCAP on ARM64. DANET_ISA=avx2 (or avx512, neon, generic) runs a lower \\
            set; DANET_GEMM=openblas runs the system OpenBLAS. When the kernels run below what \\
            /proc/cpuinfo lists and DANET_ISA did not ask for it, every command warns once.
            """
    )

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let report = InfoReport(CPUReport.current)
        print(json ? try report.jsonText() : report.text())
    }
}

/// What `info` prints, in a form that serialises to JSON as it is.
struct InfoReport: Encodable {
    let version: String
    let cpu: String
    let architecture: String
    let features: [String]
    let kernels: String
    let kernelsReason: String
    let best: String
    let requested: String?
    let available: [String]
    let advertised: String?
    let warning: String?
    let threads: Int
    let threadsReason: String
    let online: Int
    let affinity: Int
    let cgroupQuota: Int
    let gemm: String
    let openBLAS: Bool
    let denormals: String
    let bf16: String

    init(_ r: CPUReport) {
        version = Danet.configuration.version
        cpu = r.model
        architecture = r.architecture
        features = r.features
        kernels = r.selected.rawValue
        kernelsReason = r.selectionReason
        best = r.best.rawValue
        requested = r.requested
        available = r.available.map(\.rawValue)
        advertised = r.advertised?.rawValue
        warning = r.warning
        threads = r.threads
        threadsReason = r.threadsReason
        (online, affinity, cgroupQuota) = (r.online, r.affinity, r.quota)
        gemm = r.gemm
        openBLAS = r.openBLASAvailable
        denormals = "kept (IEEE 754, as PyTorch computes by default): flush-to-zero and denormals-are-zero are not set"
        if let reason = Precision.bf16Unavailable() {
            bf16 = "not run: \(reason); --precision bf16 runs f32"
        } else {
            bf16 = CPUKernels.selected.hasNativeBF16
                ? "native: --precision bf16 runs bf16 products (\(r.selected.rawValue))"
                : "portable: --precision bf16 runs the portable reference products (DANET_ISA=generic; slow)"
        }
    }

    func jsonText() throws -> String {
        try Format.prettyJSON(self)
    }

    func text() -> String {
        Format.table([
            ["version", version],
            ["cpu", "\(cpu) (\(architecture))"],
            ["features", features.isEmpty ? "none the kernels use" : features.joined(separator: " ")],
            ["kernels", "\(kernels): \(kernelsReason)"],
            ["available", available.joined(separator: " ") + (advertised.map { " (/proc/cpuinfo promises \($0))" } ?? "")],
            ["threads", "\(threads) (\(threadsReason))"],
            ["gemm", gemm + (openBLAS ? " (OpenBLAS found: DANET_GEMM=openblas uses it)" : " (no OpenBLAS found)")],
            ["bf16", bf16],
            ["denormals", denormals],
        ] + (warning.map { [["warning", $0]] } ?? [])).joined(separator: "\n")
    }
}
