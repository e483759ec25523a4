import Foundation
import Testing
@testable import TorchArchive

/// Fixtures/archive/expected.json, written by tools/make_archive_fixtures.py.
struct ArchiveExpectation: Decodable, Sendable {
    struct Tensor: Decodable, Sendable {
        let name: String
        let dtype: String
        let shape: [Int]
        /// Contiguous little-endian elements, hex.
        let bytes: String
        /// The tensor converted to float32 by PyTorch, hex (absent for complex).
        let f32: String?
    }

    struct Failure: Decodable, Sendable {
        let kind: String
        let contains: [String]
    }

    let file: String
    let format: String?
    let `protocol`: Int?
    let stateDict: String?
    let tensors: [Tensor]?
    let opaque: [[String]]?
    let stripPrefix: String?
    let error: Failure?
    /// A callable no list knows: the default load keeps it and names it, strict mode refuses it.
    let unknown: Bool?
}

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    static func path(_ relative: String) -> String { root + "/" + relative }

    /// Fixtures/benign/expected.json, written by tools/make_benign_fixtures.py.
    struct Benign: Decodable, Sendable {
        let verdict: String
        let stateDict: String
    }

    static let benign: [String: Benign] = {
        let path = Fixtures.path("benign/expected.json")
        return (try? JSONDecoder().decode([String: Benign].self, from: Data(contentsOf: URL(fileURLWithPath: path)))) ?? [:]
    }()

    static let archive = expectations("archive")
    /// Fixtures/hostile/expected.json, written by tools/make_hostile_fixtures.py.
    static let hostile = expectations("hostile")

    static func expectations(_ folder: String) -> [String: ArchiveExpectation] {
        let url = URL(fileURLWithPath: path(folder + "/expected.json"))
        do {
            return try JSONDecoder().decode([String: ArchiveExpectation].self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }

    static var validCases: [String] { archive.filter { $0.value.error == nil }.keys.sorted() }
    static var failingCases: [String] { archive.filter { $0.value.error != nil }.keys.sorted() }
}

func floatsFromHex(_ text: String) -> [Float] {
    let bytes = stride(from: 0, to: text.count, by: 2).map { offset -> UInt8 in
        let start = text.index(text.startIndex, offsetBy: offset)
        return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
    }
    return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Compares two byte strings and, on mismatch, says where the first differing elements are.
func expectSameBytes(_ actual: [UInt8], hex expected: String, elementSize: Int, _ label: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let actualHex = hex(actual)
    guard actualHex != expected else { return }
    let width = elementSize * 2
    var mismatches: [String] = []
    var index = 0
    while index * width < max(actualHex.count, expected.count) && mismatches.count < 5 {
        let a = actualHex.dropFirst(index * width).prefix(width)
        let e = expected.dropFirst(index * width).prefix(width)
        if a != e { mismatches.append("element \(index): got \(a), expected \(e)") }
        index += 1
    }
    Issue.record("\(label): \(actual.count) bytes differ from the PyTorch reference; first mismatches: \(mismatches.joined(separator: "; "))",
                 sourceLocation: sourceLocation)
}

func kindName(_ kind: ArchiveError.Kind) -> String {
    switch kind {
    case .refusedGlobal: "refusedGlobal"
    case .unknownGlobal: "unknownGlobal"
    case .truncated: "truncated"
    case .malformed: "malformed"
    case .limitExceeded: "limitExceeded"
    case .unsupported: "unsupported"
    case .missing: "missing"
    case .io: "io"
    }
}
