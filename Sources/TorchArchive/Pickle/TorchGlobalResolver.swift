/// Interprets the globals of a torch.save pickle without running any of them.
///
/// Tensors come only from the torch rebuild functions applied to storages that arrive through
/// persistent ids; containers come from `collections.OrderedDict` and the builtins; every other
/// allowed class stays an opaque record. Refused globals stop the load (see `GlobalPolicy`).
final class TorchGlobalResolver: PickleResolver {
    /// Makes the storage for a persistent id: `(key, dtype, element count, location)`.
    typealias StorageFactory = (_ key: String, _ dtype: DType, _ count: Int, _ location: String) throws -> TorchStorage

    private let makeStorage: StorageFactory
    /// Storages by key, so that every tensor of one storage shares one `TorchStorage`.
    private(set) var storages: [String: TorchStorage] = [:]
    /// Keys in the order the pickle first names them.
    private(set) var storageOrder: [String] = []

    /// The pickle this resolver serves, as references name it.
    let record: String
    /// Refuses every global outside the allow list, not only those that can run code.
    let strict: Bool
    /// Every global named, in first-use order, with its first opcode's offset and its use count.
    private(set) var references: [GlobalReference] = []
    private var referenceIndex: [String: Int] = [:]

    init(record: String = "", strict: Bool = false, makeStorage: @escaping StorageFactory) {
        self.record = record
        self.strict = strict
        self.makeStorage = makeStorage
    }

    func resolveGlobal(_ global: PickleGlobal) throws -> PickleValue {
        try resolveGlobal(global, at: 0)
    }

    func resolveGlobal(_ global: PickleGlobal, at offset: Int) throws -> PickleValue {
        let name = global.qualifiedName
        if let index = referenceIndex[name] {
            let old = references[index]
            references[index] = GlobalReference(name: name, kind: old.kind, why: old.why, record: old.record, offset: old.offset, uses: old.uses + 1)
            return .global(global)
        }
        let (kind, why) = GlobalPolicy.classify(global)
        switch kind {
        case .refused:
            throw ArchiveError(.refusedGlobal(name), expected: "only tensor, storage, dtype and container globals", found: name)
        case .unknown where strict:
            throw ArchiveError(.unknownGlobal(name), expected: "in strict mode only tensor machinery, containers and known data classes",
                               found: name)
        default:
            referenceIndex[name] = references.count
            references.append(GlobalReference(name: name, kind: kind, why: why, record: record, offset: offset, uses: 1))
            return .global(global)
        }
    }

    // MARK: Calls

    func call(_ callable: PickleValue, _ arguments: [PickleValue], arena: PickleArena) throws -> PickleValue {
        guard case .global(let global) = callable else {
            if case .object(let object) = callable {
                return .object(arena.object("call of \(object.className)", arguments))
            }
            throw ArchiveError(.malformed, expected: "a callable global for REDUCE", found: callable.typeName)
        }
        switch (global.module, global.name) {
        case ("collections", "OrderedDict"), ("collections", "defaultdict"), ("builtins", "dict"), ("__builtin__", "dict"):
            let dict = arena.dict()
            if global.name != "defaultdict", let items = arguments.first {
                try fill(dict, from: items)
            }
            return .dict(dict)
        case ("torch._utils", "_rebuild_tensor"), ("torch._utils", "_rebuild_tensor_v2"):
            return .tensor(try rebuildTensor(arguments, dtypeArgument: nil))
        case ("torch._utils", "_rebuild_tensor_v3"):
            return .tensor(try rebuildTensor(arguments, dtypeArgument: 6))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"),
             ("torch.nn.parameter", "Parameter"), ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor"):
            guard case .tensor(var tensor)? = arguments.first else {
                throw ArchiveError(.malformed, expected: "a tensor as the first argument of \(global.qualifiedName)", found: arguments.first?.typeName ?? "no arguments")
            }
            if global.name != "_rebuild_device_tensor_from_cpu_tensor", arguments.count > 1, let flag = arguments[1].boolValue {
                tensor.requiresGrad = flag
            }
            return .tensor(tensor)
        case ("torch._tensor", "_rebuild_from_type_v2"), ("torch._utils", "_rebuild_from_type"):
            // (func, type, args, state): the tensor is func(*args); the subclass type is dropped.
            guard arguments.count >= 3, case .tuple(let inner) = arguments[2] else {
                throw ArchiveError(.malformed, expected: "(func, type, args, state) for \(global.qualifiedName)", found: "\(arguments.count) arguments")
            }
            return try call(arguments[0], inner.items, arena: arena)
        case ("_codecs", "encode"):
            guard case .string(let text)? = arguments.first else {
                throw ArchiveError(.malformed, expected: "a string for _codecs.encode", found: arguments.first?.typeName ?? "nothing")
            }
            let latin1 = arguments.count > 1 && ["latin1", "latin-1", "iso-8859-1"].contains(arguments[1].stringValue ?? "")
            return .bytes(latin1 ? text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } : Array(text.utf8))
        case ("builtins", "set"), ("builtins", "frozenset"), ("__builtin__", "set"), ("__builtin__", "frozenset"):
            return .set(arena.list(arguments.first?.sequenceItems ?? []))
        case ("builtins", "bytearray"), ("__builtin__", "bytearray"), ("builtins", "bytes"):
            if case .bytes(let bytes)? = arguments.first { return .bytes(bytes) }
            return .bytes([])
        case ("torch", "Size"):
            return .tuple(arena.list(arguments.first?.sequenceItems ?? []))
        case ("torch", "device"):
            return .string(arguments.compactMap(\.stringValue).joined(separator: ":"))
        case ("torch.jit._pickle", let name) where name.hasPrefix("build_") && name.hasSuffix("list"):
            return .list(arena.list(arguments.first?.sequenceItems ?? []))
        case ("torch.jit._pickle", "restore_type_tag"):
            return arguments.first ?? .none
        case ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"), ("copyreg", "__newobj__"), ("copy_reg", "__newobj__"):
            guard let cls = arguments.first else {
                throw ArchiveError(.malformed, expected: "a class for \(global.qualifiedName)", found: "no arguments")
            }
            return try instantiate(cls, Array(arguments.dropFirst(global.name == "_reconstructor" ? 3 : 1)), arena: arena)
        default:
            return .object(arena.object(global.qualifiedName, arguments))
        }
    }

    func instantiate(_ cls: PickleValue, _ arguments: [PickleValue], arena: PickleArena) throws -> PickleValue {
        guard case .global(let global) = cls else {
            throw ArchiveError(.malformed, expected: "a class to instantiate", found: cls.typeName)
        }
        switch global.qualifiedName {
        case "collections.OrderedDict", "collections.defaultdict", "builtins.dict", "__builtin__.dict":
            return .dict(arena.dict())
        case "builtins.list", "__builtin__.list":
            return .list(arena.list())
        case "builtins.set", "__builtin__.set":
            return .set(arena.list())
        default:
            return .object(arena.object(global.qualifiedName, arguments))
        }
    }

    func build(_ target: PickleValue, state: PickleValue) throws {
        switch target {
        case .object(let object): object.state = state
        case .tensor, .dict: break  // Parameter flags and OrderedDict `_metadata` (versions only)
        default: throw ArchiveError(.malformed, expected: "an object, tensor or dict under BUILD", found: target.typeName)
        }
    }

    // MARK: Storages

    /// `('storage', storage_type, key, location, numel[, view_metadata])`.
    func persistentLoad(_ id: PickleValue) throws -> PickleValue {
        guard case .tuple(let tuple) = id, tuple.items.count >= 5, tuple.items[0].stringValue == "storage" else {
            throw ArchiveError(.malformed, expected: "a persistent id ('storage', type, key, location, numel)", found: describe(id))
        }
        let items = tuple.items
        guard case .global(let storageType) = items[1] else {
            throw ArchiveError(.malformed, expected: "a storage class in the persistent id", found: items[1].typeName)
        }
        let dtype: DType
        if storageType.name == "UntypedStorage" {
            dtype = .uint8
        } else if let typed = DType(storageClass: storageType.name), storageType.module.hasPrefix("torch") {
            dtype = typed
        } else {
            throw ArchiveError(.unsupported, expected: "a torch storage class", found: storageType.qualifiedName)
        }
        guard let key = items[2].keyString, case .int(let count) = items[4] else {
            throw ArchiveError(.malformed, expected: "a storage key and an integer element count", found: "\(items[2].typeName) and \(items[4].typeName)")
        }
        let location = items[3].stringValue ?? "cpu"
        let root = try storage(key: key, dtype: dtype, count: count, location: location)
        if items.count > 5, case .tuple(let view) = items[5] {
            return .storage(try viewStorage(of: root, view.items))
        }
        return .storage(root)
    }

    private func storage(key: String, dtype: DType, count: Int, location: String) throws -> TorchStorage {
        if let existing = storages[key] {
            guard existing.dtype == dtype, existing.count == count else {
                throw ArchiveError(.malformed, location: "storage '\(key)'",
                                   expected: "\(existing.count) \(existing.dtype.torchName) elements as first declared",
                                   found: "\(count) \(dtype.torchName) elements")
            }
            return existing
        }
        let storage = try makeStorage(key, dtype, count, location)
        storages[key] = storage
        storageOrder.append(key)
        return storage
    }

    /// Legacy `view_metadata = (view_key, offset, size)`, in elements of the root storage.
    private func viewStorage(of root: TorchStorage, _ view: [PickleValue]) throws -> TorchStorage {
        guard view.count == 3, let viewKey = view[0].keyString, case .int(let offset) = view[1], case .int(let size) = view[2] else {
            throw ArchiveError(.malformed, expected: "view metadata (key, offset, size)", found: "\(view.count) values")
        }
        if let existing = storages[viewKey] { return existing }
        guard offset >= 0, size >= 0, offset <= root.count, size <= root.count - offset else {
            throw ArchiveError(.malformed, location: "storage '\(viewKey)'",
                               expected: "a view inside storage '\(root.key)' of \(root.count) elements",
                               found: "offset \(offset) size \(size)")
        }
        let storage = try TorchStorage(key: viewKey, dtype: root.dtype, count: size, location: root.location)
        storage.attach(.view(root, byteOffset: offset * root.dtype.byteSize), bigEndian: false)
        storages[viewKey] = storage
        return storage
    }

    /// `(storage, storage_offset, size, stride, ...)`; v3 adds the dtype at `dtypeArgument`.
    private func rebuildTensor(_ arguments: [PickleValue], dtypeArgument: Int?) throws -> StoredTensor {
        guard arguments.count >= 4, case .storage(let storage) = arguments[0], case .int(let offset) = arguments[1],
              let shape = arguments[2].intList, let strides = arguments[3].intList else {
            throw ArchiveError(.malformed, expected: "(storage, offset, size, stride) for a tensor rebuild",
                               found: "(" + arguments.prefix(4).map(\.typeName).joined(separator: ", ") + ")")
        }
        var dtype = storage.dtype
        if let index = dtypeArgument {
            guard index < arguments.count, case .global(let global) = arguments[index], let named = DType(torchName: global.name) else {
                throw ArchiveError(.unsupported, expected: "a torch dtype for _rebuild_tensor_v3",
                                   found: index < arguments.count ? describe(arguments[index]) : "none")
            }
            dtype = named
        }
        let requiresGrad = arguments.count > 4 && arguments[4].boolValue == true
        return try StoredTensor(storage: storage, dtype: dtype, storageOffset: offset, shape: shape, strides: strides, requiresGrad: requiresGrad)
    }

    private func fill(_ dict: PickleDict, from items: PickleValue) throws {
        for pair in items.sequenceItems ?? [] {
            guard let entry = pair.sequenceItems, entry.count == 2, dict.set(entry[0], entry[1]) else {
                throw ArchiveError(.malformed, expected: "(key, value) pairs for a dict", found: pair.typeName)
            }
        }
    }

    private func describe(_ value: PickleValue) -> String {
        switch value {
        case .global(let global): return global.qualifiedName
        case .tuple(let tuple): return "(" + tuple.items.prefix(6).map(\.typeName).joined(separator: ", ") + ")"
        default: return value.typeName
        }
    }
}

extension PickleValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var boolValue: Bool? {
        switch self {
        case .bool(let value): return value
        case .int(let value): return value != 0
        default: return nil
        }
    }

    /// Storage keys are strings, but some writers used integers.
    var keyString: String? {
        switch self {
        case .string(let text): return text
        case .int(let value): return String(value)
        default: return nil
        }
    }

    /// Items of a tuple, list or set.
    var sequenceItems: [PickleValue]? {
        switch self {
        case .tuple(let list), .list(let list), .set(let list): return list.items
        default: return nil
        }
    }

    var intList: [Int]? {
        guard let items = sequenceItems else { return nil }
        var values: [Int] = []
        values.reserveCapacity(items.count)
        for item in items {
            guard case .int(let value) = item else { return nil }
            values.append(value)
        }
        return values
    }
}
