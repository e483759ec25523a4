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
        print("archive-bench: copies and views disagree: \(checksums)")
        exit(1)
    }
    print("""
        {"open_index_s": \(median(openTimes)), "read_all_f32_copy_s": \(median(copyTimes)), \
        "read_all_f32_view_s": \(median(viewTimes)), "tensors": \(tensorCount), "elements": \(elementCount)}
        """)
} catch {
    print("archive-bench: \(error)")
    exit(1)
}
