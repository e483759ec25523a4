import Foundation
import Testing
@testable import TorchArchive

@Suite("safetensors")
struct SafetensorsTests {
    let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("danet-st-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func write(_ name: String, header: String, data: [UInt8]) throws -> String {
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) }
        bytes += Array(header.utf8) + data
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("every tensor of a checkpoint survives a write and read, in every dtype safetensors has")
    func roundTrip() throws {
        let source = try Checkpoint.open(Fixtures.path("archive/dtypes_typed.pth"))
        let items = source.tensors.filter { $0.tensor.dtype != .complex128 }.map { named in
            SafetensorsWriter.Item(name: named.name, dtype: named.tensor.dtype, shape: named.tensor.shape) { try named.tensor.contiguousBytes() }
        }
        let path = folder + "/round.safetensors"
        try SafetensorsWriter.write(items, metadata: ["format": "pt", "quote\"key": "line\nbreak"], to: path)
        let read = try Checkpoint.open(path)
        #expect(read.format == .safetensors)
        #expect(read.metadata == ["format": "pt", "quote\"key": "line\nbreak"])
        #expect(Set(read.tensors.map(\.name)) == Set(items.map(\.name)))
        let byName = Dictionary(uniqueKeysWithValues: read.tensors.map { ($0.name, $0.tensor) })
        for named in source.tensors where named.tensor.dtype != .complex128 {
            let copy = try #require(byName[named.name])
            #expect(copy.shape == named.tensor.shape)
            #expect(try copy.contiguousBytes() == named.tensor.contiguousBytes(), "\(named.name)")
        }
        // Larger elements first, then by name, with the header padded to 8 bytes.
        #expect(read.tensors.first?.tensor.dtype.byteSize == 8)
        let headerLength = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
    }

    @Test("conversion to f16 and bf16 rounds to nearest even, as PyTorch does")
    func floatConversion() throws {
        #expect(StoredTensor.bfloat16Bits(1.0) == 0x3F80)
        #expect(StoredTensor.bfloat16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even stays
        #expect(StoredTensor.bfloat16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, odd rounds up
        #expect(StoredTensor.bfloat16Bits(.nan) == 0x7FC0)
        let source = try Checkpoint.open(Fixtures.path("archive/dtypes_typed.pth"))
        let f32 = try #require(source.tensors.first { $0.name == "float32" }?.tensor)
        let f16 = try #require(source.tensors.first { $0.name == "float16" }?.tensor)
        let bf16 = try #require(source.tensors.first { $0.name == "bfloat16" }?.tensor)
        #expect(try f32.bytes(as: .float16) == f16.contiguousBytes())
        #expect(try f32.bytes(as: .bfloat16) == bf16.contiguousBytes())
        #expect(throws: ArchiveError.self) { try source.tensors.first { $0.name == "int64" }!.tensor.bytes(as: .float16) }
    }

    @Test("headers that do not describe the data are refused", arguments: [
        ("gap", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "starting at byte 0"),
        ("overlap", #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "starting at byte 8"),
        ("size", #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8, "12 bytes"),
        ("beyond", #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, 8, "within the 8-byte buffer"),
        ("dtype", #"{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}"#, 8, "'F99'"),
        ("tail", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, "covering all 8 bytes"),
        ("json", #"{"a":"#, 8, "a JSON object"),
        ("metadata", #"{"__metadata__":{"k":1}}"#, 0, "a string"),
        ("negative", #"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, 8, "non-negative"),
    ])
    func malformedHeaders(_ name: String, _ header: String, _ dataSize: Int, _ fragment: String) throws {
        let path = try write("\(name).safetensors", header: header, data: [UInt8](repeating: 0, count: dataSize))
        do {
            _ = try Checkpoint.open(path)
            Issue.record("\(name) loaded")
        } catch let error as ArchiveError {
            #expect(error.description.contains(fragment), "\(error)")
            #expect(error.description.hasPrefix(path))
        }
    }

    @Test("a header length beyond the file is refused before reading")
    func absurdHeaderLength() throws {
        var bytes = withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Array($0) }
        bytes += Array("{}".utf8)
        let path = folder + "/huge.safetensors"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: ArchiveError.self) { try Checkpoint.open(path) }
    }

    @Test("a failed write leaves the previous file untouched and no temporary file")
    func atomicWrite() throws {
        let path = folder + "/keep.safetensors"
        try Data("previous".utf8).write(to: URL(fileURLWithPath: path))
        let failing = SafetensorsWriter.Item(name: "x", dtype: .float32, shape: [2]) {
            throw ArchiveError(.io, expected: "bytes", found: "a failure")
        }
        let good = SafetensorsWriter.Item(name: "a", dtype: .float32, shape: [1]) { [0, 0, 128, 63] }
        #expect(throws: ArchiveError.self) { try SafetensorsWriter.write([good, failing], to: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "previous")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("partial") }.isEmpty)
        #expect(throws: ArchiveError.self) { try SafetensorsWriter.write([good, good], to: path) }
    }
}
