import DANetSupport
import Foundation

/// Reads a safetensors file: u64 header length, a JSON header, then the tensors tiling the data
/// buffer exactly, in offset order, little-endian and C-contiguous.
enum SafetensorsReader {
    static func read(_ file: MappedFile, limits: ArchiveLimits) throws -> Checkpoint {
        let path = file.path
        func fail(_ kind: ArchiveError.Kind, _ location: String, _ expected: String, _ found: String) -> ArchiveError {
            ArchiveError(kind, file: path, location: location, expected: expected, found: found)
        }
        let header: [String: Any] = try file.withBytes { bytes in
            var reader = ByteReader(bytes)
            let length = try tagging(file: path, location: "header length") { try reader.u64() }
            guard length <= UInt64(limits.maxSafetensorsHeader), length <= UInt64(reader.remaining) else {
                throw fail(.limitExceeded, "header length", "at most \(min(limits.maxSafetensorsHeader, reader.remaining)) bytes", "\(length)")
            }
            let json = Data(try reader.take(Int(length), "the JSON header"))
            guard let object = try? JSONSerialization.jsonObject(with: json), let dict = object as? [String: Any] else {
                throw fail(.malformed, "header", "a JSON object", "'\(String(decoding: json.prefix(40), as: UTF8.self))'")
            }
            return dict
        }
        let dataStart = 8 + (file.withBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) })
        let bufferSize = file.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let pairs = value as? [String: Any] else { throw fail(.malformed, name, "a string-to-string map", "\(type(of: value))") }
                for (key, item) in pairs {
                    guard let text = item as? String else { throw fail(.malformed, "__metadata__.\(key)", "a string", "\(type(of: item))") }
                    metadata[key] = text
                }
                continue
            }
            let location = "tensor '\(name)'"
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any], let offsets = info["data_offsets"] as? [Any] else {
                throw fail(.malformed, location, "{dtype, shape, data_offsets}", "\(value)".prefix(60).description)
            }
            guard let dtype = DType(safetensorsName: dtypeName) else { throw fail(.unsupported, location, "a safetensors dtype", "'\(dtypeName)'") }
            let shape = shapeValues.compactMap(SafetensorsReader.jsonInt)
            let range = offsets.compactMap(SafetensorsReader.jsonInt)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw fail(.malformed, location, "a shape of non-negative integers", "\(shapeValues)")
            }
            guard range.count == 2, range[0] >= 0, range[0] <= range[1], range[1] <= bufferSize else {
                throw fail(.malformed, location, "data_offsets [begin, end] within the \(bufferSize)-byte buffer", "\(offsets)")
            }
            entries.append((name, dtype, shape, range[0], range[1]))
        }

        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expectedBegin = 0
        var tensors: [NamedTensor] = []
        tensors.reserveCapacity(entries.count)
        for entry in entries {
            let location = "tensor '\(entry.name)'"
            guard entry.begin == expectedBegin else {
                throw fail(.malformed, location, "data starting at byte \(expectedBegin) (tensors tile the buffer)", "byte \(entry.begin)")
            }
            guard let count = elementCount(of: entry.shape) else {
                throw fail(.limitExceeded, location, "an element count that fits in 64 bits", "shape \(entry.shape)")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: entry.dtype.byteSize)
            guard !overflow, bytes == entry.end - entry.begin else {
                throw fail(.malformed, location, "\(overflow ? "a size that fits" : "\(bytes) bytes") for \(entry.dtype.rawValue) \(entry.shape)",
                           "\(entry.end - entry.begin) bytes")
            }
            let storage = try TorchStorage(key: entry.name, dtype: entry.dtype, count: count, location: "cpu")
            storage.attach(.region(ByteRegion(file, (dataStart + entry.begin)..<(dataStart + entry.end))), bigEndian: false)
            let tensor = try tagging(file: path, location: location) {
                try StoredTensor(storage: storage, dtype: entry.dtype, storageOffset: 0, shape: entry.shape,
                               strides: StoredTensor.contiguousStrides(entry.shape))
            }
            tensors.append(NamedTensor(name: entry.name, tensor: tensor))
            expectedBegin = entry.end
        }
        guard expectedBegin == bufferSize else {
            throw fail(.malformed, "data buffer", "tensors covering all \(bufferSize) bytes", "\(expectedBegin) bytes covered")
        }
        return Checkpoint(path: path, format: .safetensors, pickleProtocol: nil, fileSize: file.count, isBigEndian: false,
                          root: nil, tensors: tensors, metadata: metadata)
    }

    /// JSON numbers arrive as NSNumber; only exact non-negative integers are accepted.
    static func jsonInt(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }  // "c": a JSON boolean
        let double = number.doubleValue
        guard double == double.rounded(), double >= 0, double < 9.0e18 else { return nil }
        return number.intValue
    }
}
