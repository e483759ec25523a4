import Testing
import TensorKernels

/// Every GEMM engine (OpenBLAS, and the blocked GEMM with each micro-kernel this CPU runs) against a float64 product, over the shapes the register tiles find hard:
/// sizes that are not multiples of the tile, depths beyond one packing block, both transposes,
/// alpha and beta, and leading dimensions wider than the matrices.
/// Tolerance: max|diff| <= 1e-5 * k * max|a| * max|b|.
@Suite("GEMM backends")
struct GemmTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        let m, n, k: Int
        let transposeA, transposeB: Bool
        let alpha, beta: Float
        var testDescription: String { "\(m)x\(n)x\(k) tA \(transposeA) tB \(transposeB) alpha \(alpha) beta \(beta)" }
    }

    static let shapes: [Shape] = [
        Shape(m: 1, n: 1, k: 1, transposeA: false, transposeB: false, alpha: 1, beta: 0),
        Shape(m: 7, n: 65, k: 3, transposeA: false, transposeB: false, alpha: 1, beta: 0),
        Shape(m: 6, n: 64, k: 512, transposeA: false, transposeB: false, alpha: 1, beta: 0),
        Shape(m: 253, n: 300, k: 1100, transposeA: false, transposeB: false, alpha: 1, beta: 0),
        Shape(m: 19, n: 2100, k: 37, transposeA: false, transposeB: false, alpha: 0.5, beta: 1),
        Shape(m: 130, n: 17, k: 520, transposeA: true, transposeB: false, alpha: 1, beta: 0),
        Shape(m: 64, n: 129, k: 96, transposeA: false, transposeB: true, alpha: 1, beta: -2),
        Shape(m: 33, n: 70, k: 600, transposeA: true, transposeB: true, alpha: 2, beta: 0.5),
        Shape(m: 300, n: 5, k: 8, transposeA: false, transposeB: false, alpha: 1, beta: 0),
    ]

    @Test("matches a float64 product", arguments: GemmEngine.all, shapes)
    func product(engine: GemmEngine, shape s: Shape) {
        let (backend, kernels) = (engine.backend, engine.kernels)
        // Leading dimensions with slack, so a kernel that assumes packed rows fails.
        let (aRows, aColumns) = s.transposeA ? (s.k, s.m) : (s.m, s.k)
        let (bRows, bColumns) = s.transposeB ? (s.n, s.k) : (s.k, s.n)
        let lda = aColumns + 3, ldb = bColumns + 5, ldc = s.n + 2
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(s.m * 1_000_003 + s.n * 1009 + s.k)
        func next() -> Float {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(seed >> 40) % 2001 - 1000) / 1000
        }
        let a = (0..<(aRows * lda)).map { _ in next() }, b = (0..<(bRows * ldb)).map { _ in next() }
        let c0 = (0..<(s.m * ldc)).map { _ in next() }
        // Two threads split the product by columns or by rows, depending on the shape; a packed
        // A (weights) runs through its own entry point, with its rows split the same way.
        Threads.with(2) {
            var c = c0, packedC = c0
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        Gemm.multiply(transposeA: s.transposeA, transposeB: s.transposeB, m: s.m, n: s.n, k: s.k, alpha: s.alpha,
                                      a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: s.beta,
                                      c: cp.baseAddress!, ldc: ldc, backend: backend, kernels: kernels)
                    }
                    guard !s.transposeA else { return }
                    let packed = PackedMatrix(rows: s.m, columns: s.k, values: ap.baseAddress!, rowStride: lda, backend: backend)
                    packedC.withUnsafeMutableBufferPointer { cp in
                        Gemm.multiply(packed, transposeB: s.transposeB, n: s.n, alpha: s.alpha, b: bp.baseAddress!, ldb: ldb,
                                      beta: s.beta, c: cp.baseAddress!, ldc: ldc, kernels: kernels)
                    }
                }
            }
            check(c, "\(engine) \(s.testDescription)")
            if !s.transposeA { check(packedC, "\(engine) packed \(s.testDescription)") }

            func check(_ c: [Float], _ label: String) {
                var maxDiff = 0.0, first: [String] = [], slackTouched = false
                let tolerance = 1e-5 * Double(s.k)
                for i in 0..<s.m {
                    for j in 0..<ldc {
                        let at = i * ldc + j
                        guard j < s.n else {
                            if c[at] != c0[at] { slackTouched = true }
                            continue
                        }
                        var sum = 0.0
                        for p in 0..<s.k {
                            let x = s.transposeA ? a[p * lda + i] : a[i * lda + p]
                            let y = s.transposeB ? b[j * ldb + p] : b[p * ldb + j]
                            sum += Double(x) * Double(y)
                        }
                        let expected = Double(s.alpha) * sum + Double(s.beta) * Double(c0[at])
                        let diff = abs(Double(c[at]) - expected)
                        maxDiff = max(maxDiff, diff)
                        if diff > tolerance && first.count < 4 { first.append("[\(i), \(j)] \(c[at]) vs \(expected)") }
                    }
                }
                #expect(maxDiff <= tolerance, "\(label): max|diff| \(maxDiff); first mismatches \(first)")
                #expect(!slackTouched, "\(label) wrote outside the n columns of C")
            }
        }
    }

    /// The epilogue the convolutions use (bias per row, a residual, ReLU) against the same
    /// computed in float64, with the product split by rows (n = 200) and by columns (n = 700).
    @Test("packed product with bias, residual and ReLU", arguments: GemmEngine.all, [200, 700])
    func epilogue(engine: GemmEngine, n: Int) {
        let (m, k) = (13, 70)
        let a = (0..<(m * k)).map { Float(($0 * 37) % 19 - 9) / 9 }, b = (0..<(k * n)).map { Float(($0 * 11) % 23 - 11) / 11 }
        let bias = (0..<m).map { Float($0 % 5) - 2 }, residual = (0..<(m * n)).map { Float(($0 * 7) % 13 - 6) / 3 }
        var c = [Float](repeating: .nan, count: m * n)
        Threads.with(2) {
            let packed = PackedMatrix(rows: m, columns: k, values: a, backend: engine.backend)
            b.withUnsafeBufferPointer { bp in
                bias.withUnsafeBufferPointer { biasPointer in
                    residual.withUnsafeBufferPointer { rp in
                        c.withUnsafeMutableBufferPointer { cp in
                            Gemm.multiply(packed, n: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n,
                                          epilogue: Gemm.Epilogue(bias: biasPointer.baseAddress!, residual: rp.baseAddress!,
                                                                  residualStride: n, relu: true), kernels: engine.kernels)
                        }
                    }
                }
            }
            var maxDiff = 0.0
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                    let expected = max(sum + Double(bias[i]) + Double(residual[i * n + j]), 0)
                    let diff = abs(Double(c[i * n + j]) - expected)
                    maxDiff = diff.isNaN ? .infinity : max(maxDiff, diff)
                }
            }
            #expect(maxDiff <= 1e-5 * Double(k), "\(engine) n \(n): max|diff| \(maxDiff)")
        }
    }

    /// Names what runs here and what does not, so that a kernel this CPU cannot run is reported,
    /// not skipped in silence; the CPU's best set must be among those tested.
    @Test("every instruction set this CPU runs is tested")
    func coverage() {
        let tested = CPUKernels.available.map(\.isa)
        let skipped = CPUKernels.ISA.allCases.filter { !tested.contains($0) }
        print("kernels tested: \(tested.map(\.rawValue).joined(separator: ", ")); not run by this CPU: "
            + (skipped.isEmpty ? "none" : skipped.map(\.rawValue).joined(separator: ", "))
            + "; selected: \(CPUKernels.selected.isa.rawValue) (DANET_ISA=\(CPUKernels.requestedISA ?? "-"))")
        #expect(tested.contains(.generic))
        #expect(tested.contains(CPUKernels.selected.isa))
        #expect(GemmEngine.all.count == tested.count + (Gemm.openBLASAvailable ? 1 : 0))
    }
}

/// One way to compute products: a backend, and for the blocked GEMM the instruction set of its micro-kernel.
struct GemmEngine: Sendable, CustomTestStringConvertible, CustomStringConvertible {
    let backend: Gemm.Backend
    let kernels: CPUKernels

    /// OpenBLAS (where it loads), then the blocked GEMM with every micro-kernel this CPU runs.
    static let all: [GemmEngine] = (Gemm.openBLASAvailable ? [GemmEngine(backend: .openBLAS, kernels: .selected)] : [])
        + CPUKernels.available.map { GemmEngine(backend: .blocked, kernels: $0) }

    var description: String { backend == .openBLAS ? "openblas" : "blocked/\(kernels.isa.rawValue)" }
    var testDescription: String { description }
}
