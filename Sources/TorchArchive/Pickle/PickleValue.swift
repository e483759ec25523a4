/// A value produced by the pickle machine. Nothing here can run code: classes the reader does not
/// recognise become `.object` records that keep their name, arguments and state.
package indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too wide for `Int`, as little-endian two's-complement bytes (LONG1/LONG4/LONG).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    /// Tuples live in the arena like lists, so no value nests inside another by value: releasing a
    /// hostile million-level chain then never recurses.
    case tuple(PickleList)
    case list(PickleList)
    case dict(PickleDict)
    case set(PickleList)
    /// A class or function reference that has not been called.
    case global(PickleGlobal)
    /// An instance of a class the reader keeps opaque (argparse.Namespace, numpy scalars, modules).
    case object(PickleObject)
    case storage(TorchStorage)
    case tensor(StoredTensor)

    /// A short type name for messages and `inspect`.
    package var typeName: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .set: "set"
        case .global(let global): "global \(global.qualifiedName)"
        case .object(let object): object.className
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }

    /// Values that can be dict keys: Python requires them to be hashable.
    var dictKey: PickleDict.Key? {
        var budget = PickleDict.maxKeyValues
        return dictKey(depth: 0, budget: &budget)
    }

    /// `budget` counts the values a key is built from: tuples shared through DUP or the memo make
    /// a key of a few hundred bytes stand for billions of values (SECURITY.md).
    private func dictKey(depth: Int, budget: inout Int) -> PickleDict.Key? {
        budget -= 1
        guard depth < 64, budget >= 0 else { return nil }
        switch self {
        case .none: return .null
        case .bool(let value): return .int(value ? 1 : 0)
        case .int(let value): return .int(value)
        case .bigInt(let bytes): return .bigInt(bytes)
        case .float(let value): return value == value.rounded() && abs(value) < 9e18 ? .int(Int(value)) : .float(value)
        case .string(let value): return .string(value)
        case .bytes(let value): return .bytes(value)
        case .tuple(let tuple):
            var keys: [PickleDict.Key] = []
            for item in tuple.items {
                guard let key = item.dictKey(depth: depth + 1, budget: &budget) else { return nil }
                keys.append(key)
            }
            return .tuple(keys)
        case .global(let global): return .string("<global \(global.qualifiedName)>")
        default: return nil
        }
    }
}

/// `module.name` of a GLOBAL / STACK_GLOBAL / INST.
package struct PickleGlobal: Hashable, Sendable {
    package let module: String
    package let name: String
    package var qualifiedName: String { "\(module).\(name)" }
}

/// A Python list (also used for sets). A class because pickles mutate lists after memoizing them.
package final class PickleList {
    package internal(set) var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A Python dict that keeps insertion order, as OrderedDict and plain dicts do.
package final class PickleDict {
    enum Key: Hashable {
        case null
        case int(Int)
        case bigInt([UInt8])
        case float(Double)
        case string(String)
        case bytes([UInt8])
        indirect case tuple([Key])
    }

    /// Values one key may be built from; real checkpoints use strings, ints and short tuples.
    static let maxKeyValues = 4096

    package internal(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var index: [Key: Int] = [:]

    init() {}

    /// Inserts or replaces, as `d[key] = value` does.
    func set(_ key: PickleValue, _ value: PickleValue) -> Bool {
        guard let hashKey = key.dictKey else { return false }
        if let position = index[hashKey] {
            entries[position].value = value
        } else {
            index[hashKey] = entries.count
            entries.append((key, value))
        }
        return true
    }

    package subscript(name: String) -> PickleValue? {
        index[.string(name)].map { entries[$0].value }
    }

    var count: Int { entries.count }

    fileprivate func releaseChildren() {
        entries.removeAll()
        index.removeAll()
    }
}

/// An instance of a class the reader does not interpret: its class, constructor arguments and state.
package final class PickleObject {
    package let className: String
    package internal(set) var arguments: [PickleValue]
    package internal(set) var state: PickleValue?

    init(className: String, arguments: [PickleValue]) {
        self.className = className
        self.arguments = arguments
    }

    fileprivate func releaseChildren() {
        arguments.removeAll()
        state = nil
    }
}

/// Every container a pickle creates, so they can be emptied when the load ends.
///
/// A hostile pickle can build cycles (leaks under reference counting) or chains a million levels
/// deep (a recursive release would overflow the stack). Emptying every container one by one makes
/// both harmless whatever shape the graph has.
final class PickleArena {
    private var lists: [PickleList] = []
    private var dicts: [PickleDict] = []
    private var objects: [PickleObject] = []

    func list(_ items: [PickleValue] = []) -> PickleList {
        let list = PickleList(items)
        lists.append(list)
        return list
    }

    func dict() -> PickleDict {
        let dict = PickleDict()
        dicts.append(dict)
        return dict
    }

    func object(_ className: String, _ arguments: [PickleValue]) -> PickleObject {
        let object = PickleObject(className: className, arguments: arguments)
        objects.append(object)
        return object
    }

    deinit {
        for list in lists { list.items.removeAll() }
        for dict in dicts { dict.releaseChildren() }
        for object in objects { object.releaseChildren() }
    }
}
