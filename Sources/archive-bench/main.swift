// Times checkpoint loading in-process, for tools/bench_load.py (which times PyTorch in the same run).
// Usage: archive-bench FILE [REPEATS]. Prints one JSON object with the median of each measurement.
#if canImport(Glibc)
import Glibc
#endif
import TorchArchive

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: archive-bench FILE [REPEATS]")
    exit(2)
}
let path = arguments[1]
let repeats = arguments.count > 2 ? Int(arguments[2]) ?? 7 : 7

do {
    var openTimes: [Double] = []
    var readTimes: [Double] = []
    var checksum: Double = 0
    var tensorCount = 0
    var elementCount = 0
    for _ in 0..<repeats {
        let start = now()
        let checkpoint = try Checkpoint.open(path)
        openTimes.append(now() - start)
        tensorCount = checkpoint.tensors.count
    }
    for _ in 0..<repeats {
        let start = now()
        let checkpoint = try Checkpoint.open(path)
        var elements = 0
        for named in checkpoint.tensors {
            let values = try named.tensor.floats()
            elements += values.count
            checksum += Double(values.first ?? 0)
        }
        readTimes.append(now() - start)
        elementCount = elements
    }
    print("""
        {"open_index_s": \(median(openTimes)), "read_all_f32_s": \(median(readTimes)), "tensors": \(tensorCount), \
        "elements": \(elementCount), "checksum": \(checksum / Double(repeats))}
        """)
} catch {
    print("archive-bench: \(error)")
    exit(1)
}
