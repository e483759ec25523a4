import Foundation
import Testing
import DANetModel
import TensorKernels
import TorchArchive

/// Fixtures/danet/cases.json, written by tools/make_danet_fixtures.py.
struct DANetCase: Decodable, Sendable {
    let file: String
    let golden: String
    let layout: String
    let depth: Int
    let stem: String
    let width: Int
    let classes: Int
    let layer4Dilations: [Int]
    let alignCorners: Bool
}

enum DANetFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/danet").path

    static func path(_ name: String) -> String { folder + "/" + name }

    static let cases: [String: DANetCase] = {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path("cases.json")))
            return try JSONDecoder().decode([String: DANetCase].self, from: data)
        } catch {
            fatalError("cannot read \(path("cases.json")): \(error)")
        }
    }()

    static var names: [String] { cases.keys.sorted() }

    /// The tensors of a golden file by name.
    static func golden(_ file: String) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for named in try Checkpoint.open(path(file)).tensors {
            result[named.name] = try Tensor(shape: named.tensor.shape, data: try named.tensor.floats())
        }
        return result
    }
}

/// The parity criterion: max|diff| <= 1e-4 * max|reference|. Records an issue that
/// prints max|diff| and the first mismatching elements, and returns max|diff|.
@discardableResult
func expectClose(_ actual: Tensor, _ reference: Tensor, _ label: String, relativeTolerance: Float = 1e-4,
                 sourceLocation: SourceLocation = #_sourceLocation) -> Float {
    guard actual.shape == reference.shape else {
        Issue.record("\(label): shape \(actual.shape), reference \(reference.shape)", sourceLocation: sourceLocation)
        return .infinity
    }
    let tolerance = relativeTolerance * reference.maxMagnitude
    var maxDiff: Float = 0
    var mismatches: [String] = []
    for i in 0..<reference.count {
        let diff = abs(actual.data[i] - reference.data[i])
        if !(diff <= tolerance) && mismatches.count < 5 {
            mismatches.append("[\(i)] \(actual.data[i]) vs \(reference.data[i])")
        }
        if !(diff <= maxDiff) { maxDiff = diff }
    }
    if !(maxDiff <= tolerance) {
        Issue.record("\(label): max|diff| \(maxDiff) > \(tolerance) (1e-4 x max|ref| \(reference.maxMagnitude)); first mismatches: \(mismatches.joined(separator: ", "))",
                     sourceLocation: sourceLocation)
    }
    return maxDiff
}
