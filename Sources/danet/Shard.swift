import ArgumentParser
import DANetModel
import Foundation

/// `--shard i/n`, `auto` or `auto/n`: the i-th of n parts of the images, 0-based.
///
/// The images, in the order they are listed (arguments and list lines in order, each folder's
/// images sorted by path), are dealt out round-robin: image k goes to shard k mod n. Every shard of
/// the same inputs therefore gets a fixed, disjoint part, and together they cover every image once.
struct Shard: Equatable {
    let index: Int
    let count: Int

    /// What `--shard` was given, before the environment is read.
    enum Request: Equatable {
        case fixed(index: Int, count: Int)
        /// Index (and count, unless given) from the scheduler's environment.
        case auto(count: Int?)
    }

    static func parse(_ text: String) throws -> Request {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "auto" {
            if parts.count == 1 { return .auto(count: nil) }
            guard parts.count == 2, let count = Int(parts[1]), count >= 1 else {
                throw ValidationError("--shard auto/n takes a positive count n, e.g. auto/4; found '\(text)'")
            }
            return .auto(count: count)
        }
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            throw ValidationError("--shard takes i/n with 0 <= i < n (e.g. 0/4), auto or auto/n; found '\(text)'")
        }
        return .fixed(index: index, count: count)
    }

    /// The shard `request` names, reading a Slurm array (`SLURM_ARRAY_TASK_ID` minus
    /// `SLURM_ARRAY_TASK_MIN`, of `SLURM_ARRAY_TASK_COUNT`), an AWS Batch array job
    /// (`AWS_BATCH_JOB_ARRAY_INDEX` of `AWS_BATCH_JOB_ARRAY_SIZE`) or a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, whose count the user gives as auto/n) from `environment`.
    static func resolve(_ request: Request, environment: [String: String]) throws -> Shard {
        switch request {
        case .fixed(let index, let count):
            return Shard(index: index, count: count)
        case .auto(let given):
            func number(_ name: String) -> Int? { environment[name].flatMap { Int($0) } }
            var found: (index: Int, count: Int?, source: String)?
            if let id = number("SLURM_ARRAY_TASK_ID") {
                found = (id - (number("SLURM_ARRAY_TASK_MIN") ?? 0), number("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID")
            } else if let id = number("AWS_BATCH_JOB_ARRAY_INDEX") {
                found = (id, number("AWS_BATCH_JOB_ARRAY_SIZE"), "AWS_BATCH_JOB_ARRAY_INDEX")
            } else if let id = number("JOB_COMPLETION_INDEX") {
                found = (id, nil, "JOB_COMPLETION_INDEX")
            }
            guard let found else {
                throw ModelError(.invalidOption, "--shard auto: expected SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX or "
                                 + "JOB_COMPLETION_INDEX in the environment, found none; give --shard i/n")
            }
            guard let count = given ?? found.count else {
                throw ModelError(.invalidOption, "--shard auto: \(found.source) gives the index but not the count; give it as --shard auto/n")
            }
            guard (0..<count).contains(found.index) else {
                throw ModelError(.invalidOption, "--shard auto: expected an index in 0..<\(count), found \(found.index) (from \(found.source))")
            }
            return Shard(index: found.index, count: count)
        }
    }

    /// The shard `--shard` names (reading the scheduler's environment for `auto`), or nil without it.
    static func fromOption(_ text: String?) throws -> Shard? {
        try text.map { try resolve(try parse($0), environment: ProcessInfo.processInfo.environment) }
    }

    func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    var description: String { "\(index)/\(count)" }
}
