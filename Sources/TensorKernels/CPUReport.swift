import CVectorKernels

/// What this machine offers the kernels and what they chose, with the reasons: the CPU, the
/// features CPUID and XGETBV (or HWCAP) report, the kernels and why, the thread count and what
/// limits it, the GEMM backend. `danet info` prints it; every command warns with `warning`.
package struct CPUReport: Sendable {
    /// The CPU's brand string, or /proc/cpuinfo's model name.
    package let model: String
    /// `x86_64` or `arm64`.
    package let architecture: String
    /// Feature names, in a fixed order: instructions first, then the register state the OS saves.
    package let features: [String]
    /// The best set this CPU and OS run.
    package let best: CPUKernels.ISA
    /// Why `best`: what the CPU has, or what it lacks for the set above.
    package let bestReason: String
    /// The set every kernel runs.
    package let selected: CPUKernels.ISA
    /// `DANET_ISA` as set, or nil.
    package let requested: String?
    /// Every set this CPU runs, the generic one first.
    package let available: [CPUKernels.ISA]
    /// The set /proc/cpuinfo's flags promise, or nil where it cannot be read.
    package let advertised: CPUKernels.ISA?
    /// Online CPUs, CPUs in the affinity mask (0: unknown), the cgroup quota rounded up (0: none).
    package let online: Int, affinity: Int, quota: Int
    /// Threads the kernels use by default.
    package let threads: Int
    /// The GEMM backend, e.g. `blocked/avx512` or `openblas`.
    package let gemm: String
    /// True when the system OpenBLAS can be loaded. Asked only when read: loading it starts its threads.
    package var openBLASAvailable: Bool { Gemm.openBLASAvailable }

    /// This process's report (read once).
    package static let current = CPUReport()

    private init() {
        var model = [CChar](repeating: 0, count: 128)
        danet_cpu_model(&model, model.count)
        var reason = [CChar](repeating: 0, count: 256)
        let best = CPUKernels.ISA(danet_best_isa(&reason, reason.count))
        let flags = CPUReport.cpuinfo("flags") ?? CPUReport.cpuinfo("Features")
        let flagWords = Set((flags ?? "").split(separator: " ").map(String.init))
        var (online, affinity, quota) = (0, 0, 0)
        danet_cpu_limits(&online, &affinity, &quota)
        #if arch(x86_64)
        architecture = "x86_64"
        #elseif arch(arm64)
        architecture = "arm64"
        #else
        architecture = "other"
        #endif
        let brand = CPUReport.text(model)
        self.model = !brand.isEmpty ? brand : CPUReport.cpuinfo("model name")
            ?? CPUReport.cpuinfo("CPU part").map { "CPU part \($0), implementer \(CPUReport.cpuinfo("CPU implementer") ?? "?")" }
            ?? "unknown CPU"
        features = CPUReport.names(of: danet_cpu_features())
        self.best = best
        bestReason = CPUReport.text(reason)
        selected = CPUKernels.selected.isa
        requested = CPUKernels.requestedISA
        available = CPUKernels.available.map(\.isa)
        advertised = flags == nil ? nil : CPUReport.advertisedISA(flagWords)
        (self.online, self.affinity, self.quota) = (online, affinity, quota)
        threads = Threads.available
        gemm = Gemm.backendDescription
    }

    /// Why the kernels are the ones they are, in one line.
    package var selectionReason: String {
        if let requested, selected != best {
            return CPUKernels.ISA(rawValue: requested) == nil
                ? "DANET_ISA=\(requested) is not a known set; the generic kernels run"
                : "DANET_ISA=\(requested) forces it; the CPU runs \(best.rawValue)"
        }
        return bestReason
    }

    /// What limits the default thread count, in words.
    package var threadsReason: String {
        var parts = ["\(online) online"]
        if affinity > 0 { parts.append("\(affinity) in the affinity mask") }
        parts.append(quota > 0 ? "cgroup CPU quota \(quota)" : "no cgroup CPU quota")
        return parts.joined(separator: ", ")
    }

    /// A line for stderr when the kernels run below what /proc/cpuinfo advertises and no
    /// `DANET_ISA` asked for that; nil otherwise.
    package var warning: String? {
        CPUReport.warning(requested: requested, advertised: advertised, selected: selected, reason: bestReason)
    }

    /// The warning for kernels `selected` where /proc/cpuinfo promises `advertised`, or nil when
    /// they are not lower or `DANET_ISA` (`requested`) asked for them.
    static func warning(requested: String?, advertised: CPUKernels.ISA?, selected: CPUKernels.ISA, reason: String) -> String? {
        guard requested == nil, let advertised, advertised.rank > selected.rank else { return nil }
        return "/proc/cpuinfo lists \(advertised.rawValue), but the \(selected.rawValue) kernels run: \(reason) "
            + "(CPUID and XGETBV decide; see `danet info`)"
    }

    /// The value of the first /proc/cpuinfo line named `key`, or nil.
    static func cpuinfo(_ key: String) -> String? {
        var value = [CChar](repeating: 0, count: 8192)
        guard danet_cpuinfo_value(key, &value, value.count) != 0 else { return nil }
        return CPUReport.text(value).trimmingSpaces
    }

    /// A C buffer's text up to its first NUL.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The set /proc/cpuinfo's words promise.
    static func advertisedISA(_ flags: Set<String>) -> CPUKernels.ISA {
        #if arch(arm64)
        return flags.contains("bf16") ? .neonbf16 : .neon
        #else
        let avx2 = flags.isSuperset(of: ["avx", "avx2", "fma"])
        guard avx2 else { return .generic }
        guard flags.contains("avx512f") else { return .avx2 }
        return flags.contains("avx512_bf16") ? .avx512bf16 : .avx512
        #endif
    }

    static let featureNames: [(UInt32, String)] = [
        (UInt32(DANET_CPU_AVX), "avx"), (UInt32(DANET_CPU_FMA), "fma"),
        (UInt32(DANET_CPU_AVX2), "avx2"), (UInt32(DANET_CPU_AVX512F), "avx512f"),
        (UInt32(DANET_CPU_AVX512DQ), "avx512dq"), (UInt32(DANET_CPU_AVX512BW), "avx512bw"),
        (UInt32(DANET_CPU_AVX512VL), "avx512vl"), (UInt32(DANET_CPU_AVX512_BF16), "avx512_bf16"),
        (UInt32(DANET_CPU_AVX_VNNI), "avx_vnni"), (UInt32(DANET_CPU_AMX_TILE), "amx_tile"),
        (UInt32(DANET_CPU_AMX_BF16), "amx_bf16"), (UInt32(DANET_CPU_AMX_INT8), "amx_int8"),
        (UInt32(DANET_CPU_OS_YMM), "os:ymm"), (UInt32(DANET_CPU_OS_ZMM), "os:zmm"),
        (UInt32(DANET_CPU_OS_AMX), "os:amx-tiles"), (UInt32(DANET_CPU_NEON), "asimd"),
        (UInt32(DANET_CPU_ASIMDDP), "asimddp"), (UInt32(DANET_CPU_ARM_BF16), "bf16"),
        (UInt32(DANET_CPU_I8MM), "i8mm"),
    ]

    /// The names of the bits set in a feature mask.
    static func names(of mask: UInt32) -> [String] {
        featureNames.filter { mask & $0.0 != 0 }.map(\.1)
    }
}

extension CPUKernels.ISA {
    init(_ isa: DanetISA) {
        self = CPUKernels.ISA.allCases.first { $0.c == isa } ?? .generic
    }

    /// Order within one architecture: generic below the vector sets, AVX2 below AVX-512, each set
    /// below itself with bf16 products.
    var rank: Int {
        switch self {
        case .generic: 0
        case .avx2, .neon: 1
        case .avx512, .neonbf16: 2
        case .avx512bf16: 3
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
