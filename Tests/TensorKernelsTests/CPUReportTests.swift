import Testing
@testable import TensorKernels

/// What `danet info` and the start-up warning make of /proc/cpuinfo's flags and the kernels chosen.
@Suite("CPU report")
struct CPUReportTests {
    @Test("/proc/cpuinfo's words promise a set", arguments: [
        (["avx", "avx2", "fma", "avx512f", "avx512bw"], CPUKernels.ISA.avx512),
        (["avx", "avx2", "fma"], .avx2),
        (["avx", "avx2"], .generic),
        (["avx512f", "avx2", "fma"], .generic),
        (["sse4_2"], .generic),
    ])
    func advertised(_ flags: [String], _ expected: CPUKernels.ISA) {
        #if arch(x86_64)
        #expect(CPUReport.advertisedISA(Set(flags)) == expected)
        #endif
    }

    @Test("a lower set than advertised warns, naming both and the reason, unless DANET_ISA asked for it")
    func warning() throws {
        let reason = "AVX-512F found, but the OS does not save ZMM and opmask state (XCR0 bits 5-7)"
        let line = try #require(CPUReport.warning(requested: nil, advertised: .avx512, selected: .avx2, reason: reason))
        #expect(line.contains("/proc/cpuinfo lists avx512") && line.contains("the avx2 kernels run") && line.contains(reason))
        #expect(!line.contains("\n"))
        #expect(CPUReport.warning(requested: "avx2", advertised: .avx512, selected: .avx2, reason: reason) == nil)
        #expect(CPUReport.warning(requested: nil, advertised: .avx2, selected: .avx2, reason: reason) == nil)
        #expect(CPUReport.warning(requested: nil, advertised: nil, selected: .generic, reason: reason) == nil)
        #expect(CPUReport.warning(requested: nil, advertised: .avx2, selected: .generic, reason: reason) != nil)
    }

    @Test("this machine: the kernels chosen are the best available unless DANET_ISA lowers them, and every feature has a name")
    func current() {
        let report = CPUReport.current
        #expect(report.available.contains(report.selected) && report.available.contains(report.best))
        if report.requested == nil { #expect(report.selected == report.best) }
        #expect(!report.bestReason.isEmpty && report.threads >= 1)
        #expect(Set(report.features).count == report.features.count)
        print("CPU report: \(report.model), \(report.selected.rawValue) (\(report.selectionReason)), features \(report.features.joined(separator: " "))")
    }
}
