import Testing
@testable import TorchArchive

/// One test per valid case a reader must pass (tools/make_archive_fixtures.py): every tensor must match what torch.load returned.
@Suite("Checkpoints match torch.load")
struct CheckpointFixtureTests {
    @Test("reads the case as PyTorch does", arguments: Fixtures.validCases)
    func readsCase(_ name: String) throws {
        let expectation = try #require(Fixtures.archive[name])
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/" + expectation.file))
        #expect(checkpoint.format.rawValue == expectation.format)
        #expect(checkpoint.pickleProtocol == expectation.protocol)
        #expect(checkpoint.stateDictPath == expectation.stateDict)
        let expected = try #require(expectation.tensors)
        #expect(checkpoint.tensors.map(\.name) == expected.map(\.name))
        for (named, reference) in zip(checkpoint.tensors, expected) {
            let tensor = named.tensor
            #expect(tensor.dtype.rawValue == reference.dtype, "\(named.name)")
            #expect(tensor.shape == reference.shape, "\(named.name)")
            expectSameBytes(try tensor.contiguousBytes(), hex: reference.bytes, elementSize: tensor.dtype.byteSize, named.name)
            if let f32 = reference.f32 {
                // withFloats serves the same values, from the map where it can.
                let direct = try tensor.withFloats { Array($0) }
                let copied = try tensor.floats()
                let same = direct.withUnsafeBytes { Array($0) } == copied.withUnsafeBytes { Array($0) }
                #expect(same, "\(named.name): withFloats and floats() differ")
                // NaN payloads differ between conversions; every NaN counts as the same value.
                let floats = copied.map { $0.isNaN ? Float.nan : $0 }
                let reference = floatsFromHex(f32).map { $0.isNaN ? Float.nan : $0 }
                expectSameBytes(floats.withUnsafeBytes { Array($0) }, hex: hex(reference.withUnsafeBytes { Array($0) }),
                                elementSize: 4, "\(named.name) as float32")
            } else {
                #expect(throws: ArchiveError.self) { try tensor.floats() }
            }
        }
        let opaque = checkpoint.opaqueObjects.map { [$0.path, $0.className] }
        #expect(opaque == (expectation.opaque ?? []))
    }

    @Test("strips a module. prefix inside a wrapper")
    func stripsPrefix() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/module_prefix.pth"))
        #expect(checkpoint.stateDictPath == "model")
        let names = try checkpoint.stateDict(stripPrefix: "module.").map(\.name)
        #expect(names == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"])
        #expect(try checkpoint.stateDict().names == names, "DataParallel's prefix goes by default")
        #expect(try checkpoint.stateDict()["conv1.weight"]?.shape == [4, 3, 3, 3])
        #expect(try checkpoint.stateDict(stripPrefix: nil).first?.name == "module.conv1.weight")
    }

    @Test("tensors read the same after their pages are released", arguments: ["legacy.pth", "legacy_views.pth", "zip_deflated.pth", "shapes.pth"])
    func releasedPagesReadAgain(file: String) throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/" + file))
        for entry in try checkpoint.stateDict() where !entry.tensor.dtype.isComplex {
            let before = try entry.tensor.floats()
            entry.tensor.storage.releasePages()
            let after = try entry.tensor.floats()
            let same = before.elementsEqual(after) { $0 == $1 || ($0.isNaN && $1.isNaN) }
            #expect(same, "\(file): \(entry.name) changed after its pages were released")
        }
    }

    @Test("finds the state dict of official and mmseg wrappers")
    func findsWrappedStateDict() throws {
        for file in ["official_like.pth.tar", "mmseg_like.pth"] {
            let checkpoint = try Checkpoint.open(Fixtures.path("archive/" + file))
            let stateDict = try checkpoint.stateDict()
            #expect(stateDict.count == 6)
            #expect(stateDict.first?.name == "conv1.weight")
        }
        let official = try Checkpoint.open(Fixtures.path("archive/official_like.pth.tar"))
        #expect(official.structure.map(\.key) == ["epoch", "state_dict", "optimizer", "best_pred"])
        #expect(official.structure.first?.summary == "int 240")
    }

    @Test("tensors that view one storage share one TorchStorage")
    func sharedStorages() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/shapes.pth"))
        let byName = Dictionary(uniqueKeysWithValues: checkpoint.tensors.map { ($0.name, $0.tensor) })
        let a = try #require(byName["shared_a"]), b = try #require(byName["shared_b"]), slice = try #require(byName["slice"])
        #expect(a.storage === b.storage)
        #expect(a.storage === slice.storage)
        #expect(slice.storageOffset == 20)
        #expect(byName["expanded"]?.strides == [1, 0])
        #expect(byName["transposed"]?.isContiguous == false)
        #expect(byName["scalar"]?.shape == [])
        #expect(byName["empty"]?.elementCount == 0)
    }

    @Test("Parameter wrappers keep requires_grad")
    func parameters() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/parameters.pth"))
        #expect(checkpoint.tensors.map(\.tensor.requiresGrad) == [true, false])
    }

    @Test("big-endian zip archives are swapped per element")
    func bigEndian() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/zip_big_endian.pth"))
        #expect(checkpoint.isBigEndian)
        #expect(checkpoint.tensors.first?.tensor.storage.bigEndian == true)
    }

    @Test("TorchScript archives expose module attributes as a state dict")
    func torchScript() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/torchscript.pt"))
        #expect(checkpoint.format == .torchScript)
        #expect(checkpoint.tensors.map(\.name).contains("conv.weight"))
        #expect(checkpoint.constants.isEmpty)
    }

    @Test("traced TorchScript keeps tensors created in forward() as constants")
    func torchScriptConstants() throws {
        let checkpoint = try Checkpoint.open(Fixtures.path("archive/torchscript_traced.pt"))
        #expect(checkpoint.format == .torchScript)
        let constant = try #require(checkpoint.constants.first)
        #expect(constant.name == "constants.0")
        #expect(try constant.tensor.floats() == [0.5, 1.5, 2.5, 3.5])
    }
}
