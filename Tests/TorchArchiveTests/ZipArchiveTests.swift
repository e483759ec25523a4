import Testing
@testable import TorchArchive

@Suite("Zip layout")
struct ZipArchiveTests {
    @Test("torch.save archives: sizes only in the central directory, data 64-byte aligned, served from the map")
    func torchSaveLayout() throws {
        let file = try MappedFile(path: Fixtures.path("archive/zip_named_folder.pth"))
        let archive = try ZipArchive(file: file, limits: .standard)
        #expect(archive.entries.allSatisfy { $0.name.hasPrefix("zip_named_folder/") })
        let data = archive.entries.filter { $0.name.contains("/data/") }
        #expect(data.count == 6)
        for entry in data {
            let offset = try #require(entry.dataOffset, "\(entry.name) is stored")
            #expect(offset % 64 == 0, "\(entry.name) at \(offset)")
            // Flag bit 3: the local header's sizes are zero, so only the directory can tell them.
            let localSize = try file.withBytes { bytes -> UInt32 in
                let offsets = try ZipDirectory.localHeaderOffsets(bytes)
                return bytes.loadUnaligned(fromByteOffset: offsets[entry.index] + 22, as: UInt32.self)
            }
            #expect(localSize == 0)
            #expect(entry.size > 0)
        }
    }

    @Test("ZIP64 end records and directory extra fields")
    func zip64() throws {
        let file = try MappedFile(path: Fixtures.path("archive/zip64.pth"))
        let archive = try ZipArchive(file: file, limits: .standard)
        #expect(archive["custom-top/data.pkl"] != nil)
        #expect(archive.entries.count == 11)
    }

    @Test("deflated entries inflate only when read")
    func deflatedIsLazy() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/zip_deflated.pth"))
        let first = try #require(checkpoint.tensors.first)
        guard case .inflated = try #require(first.tensor.storage.source) else {
            Issue.record("expected a lazily inflated storage")
            return
        }
        #expect(try first.tensor.floats().count == 108)
    }

    @Test("withFloats reads aligned float32 entries straight from the memory map")
    func zeroCopy() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/zip_named_folder.pth"))
        let tensor = try #require(checkpoint.tensors.first?.tensor)
        let region = try tensor.storage.bytes()
        let mapped = region.withUnsafeBytes { $0.baseAddress }
        let served = try tensor.withFloats { UnsafeRawPointer($0.baseAddress) }
        #expect(served == mapped)
    }

    @Test("stored tensors are not copied when the checkpoint opens")
    func storedIsMapped() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/protocol2.pth"))
        for named in checkpoint.tensors {
            guard case .region(let region) = try #require(named.tensor.storage.source), case .mapped = region.backing else {
                Issue.record("\(named.name) is not served from the memory map")
                continue
            }
        }
    }
}
