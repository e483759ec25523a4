// In-process timings for the benchmark scripts in tools/, which time PyTorch in the same run.
// Usage: danet-bench load FILE [REPEATS]   checkpoint open/index and every tensor as Float32
//        danet-bench sgemm N [THREADS]      the sgemm rate on N x N matrices (DANET_GEMM=openblas: OpenBLAS's)
//        danet-bench bf16gemm N [THREADS]   with A packed once as weights are: the rate of the bf16 products
//                                          (where they run) and of the f32 ones on the same packed shape
//        danet-bench kernels                 which kernels and GEMM run here (DANET_ISA, DANET_GEMM), default threads
//        danet-bench regions                 the time of a parallel region of 2 x 100 us on 2 threads
// Prints one JSON object with the median of each measurement.
#if canImport(Glibc)
import Glibc
#endif
import DANetSupport
import TensorKernels
import TorchArchive

func now() -> Double { Platform.monotonicSeconds() }

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, ["kernels", "regions"].contains(arguments[1]) || (arguments.count >= 3 && ["load", "sgemm", "bf16gemm"].contains(arguments[1])) else {
    print("usage: danet-bench load FILE [REPEATS] | danet-bench sgemm|bf16gemm N [THREADS] | danet-bench kernels | danet-bench regions")
    exit(2)
}

if arguments[1] == "regions" {
    // A parallel region whose two chunks each spin for 100 us: ideally 100 us on two threads; the
    // excess is the pool's cost to start and finish a region.
    var times: [Double] = []
    for _ in 0..<5 {
        let start = now()
        Threads.with(2) {
            for _ in 0..<1000 {
                Threads.parallelFor(2) { _ in
                    let begin = now()
                    while now() - begin < 100e-6 {}
                }
            }
        }
        times.append((now() - start) / 1000 * 1e6)
    }
    print("{\"region_us\": \(median(times)), \"ideal_us\": 100}")
    exit(0)
}

if arguments[1] == "kernels" {
    let available = CPUKernels.available.map { "\"\($0.isa.rawValue)\"" }.joined(separator: ", ")
    print("{\"isa\": \"\(CPUKernels.selected.isa.rawValue)\", \"gemm\": \"\(Gemm.backendDescription)\", "
        + "\"available\": [\(available)], \"defaultThreads\": \(Threads.available)}")
    exit(0)
}

if arguments[1] == "sgemm" {
    let n = Int(arguments[2]) ?? 4096
    let threads = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2
    let a = [Float](repeating: 1, count: n * n), b = [Float](repeating: 0.5, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var times: [Double] = []
    for _ in 0..<4 {
        let start = now()
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Threads.with(threads) {
                        Gemm.multiply(m: n, n: n, k: n, a: ap.baseAddress!, lda: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n)
                    }
                }
            }
        }
        times.append(now() - start)
    }
    // Every element is n * 0.5, exactly: a wrong tile or panel shows here.
    guard c.allSatisfy({ $0 == Float(n) / 2 }) else {
        print("sgemm gave a wrong product")
        exit(1)
    }
    print("{\"n\": \(n), \"threads\": \(threads), \"gemm\": \"\(Gemm.backendDescription)\", \"gflops\": \(2 * Double(n) * Double(n) * Double(n) / median(Array(times.dropFirst())) / 1e9)}")
    exit(0)
}

if arguments[1] == "bf16gemm" {
    let n = Int(arguments[2]) ?? 4096
    let threads = arguments.count > 3 ? Int(arguments[3]) ?? 2 : 2
    guard CPUKernels.selected.hasBF16Products, Gemm.backend == .blocked else {
        print("{\"error\": \"the \(CPUKernels.selected.isa.rawValue) kernels and \(Gemm.backendDescription) GEMM have no bf16 products\"}")
        exit(1)
    }
    // 1 and 0.5 are exact in bf16, so every element of C is n / 2 exactly either way.
    let a = [Float](repeating: 1, count: n * n), b = [Float](repeating: 0.5, count: n * n)
    var rates: [String: Double] = [:]
    for element in [PackedMatrix.Element.bfloat16, .float32] {
        let packed = PackedMatrix(rows: n, columns: n, values: a, element: element)
        var c = [Float](repeating: 0, count: n * n)
        var times: [Double] = []
        for _ in 0..<4 {
            let start = now()
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    Threads.with(threads) { Gemm.multiply(packed, n: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n) }
                }
            }
            times.append(now() - start)
        }
        guard c.allSatisfy({ $0 == Float(n) / 2 }) else {
            print("bf16gemm (\(element)) gave a wrong product")
            exit(1)
        }
        rates[element.rawValue] = 2 * Double(n) * Double(n) * Double(n) / median(Array(times.dropFirst())) / 1e9
    }
    print("{\"n\": \(n), \"threads\": \(threads), \"gemm\": \"\(Gemm.backendDescription)\", "
        + "\"bf16_gflops\": \(rates["bfloat16"]!), \"f32_packed_gflops\": \(rates["float32"]!)}")
    exit(0)
}

let path = arguments[2]
let repeats = arguments.count > 3 ? Int(arguments[3]) ?? 7 : 7

/// Reads one float per 4 KB page, so every page of every tensor is touched.
func pageChecksum(_ values: UnsafeBufferPointer<Float>) -> Double {
    var sum = 0.0
    for index in stride(from: 0, to: values.count, by: 1024) { sum += Double(values[index]) }
    return sum
}

do {
    var openTimes: [Double] = [], copyTimes: [Double] = [], viewTimes: [Double] = []
    var checksums: Set<Double> = []
    var tensorCount = 0, elementCount = 0
    for _ in 0..<repeats {
        let start = now()
        let checkpoint = try Checkpoint.open(path)
        openTimes.append(now() - start)
        tensorCount = checkpoint.tensors.count
    }
    for _ in 0..<repeats {
        // Every tensor copied into its own [Float], as a consumer that keeps the values needs.
        let start = now()
        let checkpoint = try Checkpoint.open(path)
        var sum = 0.0, elements = 0
        for named in checkpoint.tensors {
            let values = try named.tensor.floats()
            elements += values.count
            sum += values.withUnsafeBufferPointer(pageChecksum)
        }
        copyTimes.append(now() - start)
        checksums.insert(sum)
        elementCount = elements
    }
    for _ in 0..<repeats {
        // Every tensor as a float32 buffer, straight from the memory map where the file allows.
        let start = now()
        let checkpoint = try Checkpoint.open(path)
        var sum = 0.0
        for named in checkpoint.tensors { sum += try named.tensor.withFloats(pageChecksum) }
        viewTimes.append(now() - start)
        checksums.insert(sum)
    }
    guard checksums.count == 1 else {
        print("danet-bench: copies and views disagree: \(checksums)")
        exit(1)
    }
    print("""
        {"open_index_s": \(median(openTimes)), "read_all_f32_copy_s": \(median(copyTimes)), \
        "read_all_f32_view_s": \(median(viewTimes)), "tensors": \(tensorCount), "elements": \(elementCount)}
        """)
} catch {
    print("danet-bench: \(error)")
    exit(1)
}
