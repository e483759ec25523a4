/// What each global a checkpoint may name is, as data in one place: torch's tensor and storage
/// machinery and the containers (what `torch.load(weights_only=True)` accepts), and classes known to
/// hold only data, each with why building it is harmless. Everything else is unknown, unless the
/// deny list in `GlobalPolicy` refuses it. Names are exact: a class's attribute (`Path.write_text`,
/// reachable through STACK_GLOBAL) never matches its class's entry.
enum GlobalAllowList {
    struct Entry {
        let kind: GlobalKind
        let why: String
    }

    /// Exact `module.name` entries.
    static let exact: [String: Entry] = {
        var table: [String: Entry] = [:]
        func add(_ kind: GlobalKind, _ why: String, _ names: [String]) {
            for name in names { table[name] = Entry(kind: kind, why: why) }
        }
        add(.torch, "rebuilds a tensor or parameter from a storage the file holds", [
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
            "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
            "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._utils._rebuild_qtensor",
            "torch._utils._rebuild_sparse_tensor", "torch._tensor._rebuild_from_type_v2", "torch._utils._rebuild_from_type",
            "torch.nn.parameter.Parameter", "torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.storage._LegacyStorage",
        ])
        add(.torch, "a tensor shape or device: plain values", ["torch.Size", "torch.device"])
        add(.torch, "a memory layout or format tag", ["torch.strided", "torch.sparse_coo", "torch.contiguous_format",
                                                       "torch.channels_last", "torch.preserve_format"])
        add(.torch, "builds a list of TorchScript values", ["torch.jit._pickle.build_intlist", "torch.jit._pickle.build_floatlist",
                                                            "torch.jit._pickle.build_boollist", "torch.jit._pickle.build_tensorlist",
                                                            "torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_list",
                                                            "torch.jit._pickle.restore_type_tag"])
        add(.container, "an ordered dict (every state dict)", ["collections.OrderedDict"])
        add(.container, "a dict with a default factory, which is never called here", ["collections.defaultdict"])
        add(.container, "builds plain data", ["builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.bytes",
                                              "builtins.complex", "builtins.slice", "builtins.range", "builtins.int", "builtins.float",
                                              "builtins.bool", "builtins.str", "builtins.list", "builtins.dict", "builtins.tuple",
                                              "builtins.object", "__builtin__.set", "__builtin__.frozenset", "__builtin__.bytearray",
                                              "__builtin__.complex", "__builtin__.slice", "__builtin__.long", "__builtin__.unicode",
                                              "__builtin__.object", "__builtin__.dict", "__builtin__.list"])
        add(.container, "turns text into bytes (how protocol 2 stores bytes)", ["_codecs.encode"])
        add(.container, "creates an instance of a class the pickle names without calling it", [
            "copyreg._reconstructor", "copy_reg._reconstructor", "copyreg.__newobj__", "copy_reg.__newobj__", "copyreg.__newobj_ex__"])
        add(.knownData, "numpy array: rebuilt from its dtype, shape and bytes", [
            "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray"])
        add(.knownData, "numpy scalar or dtype: a value and its type", [
            "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype"])
        add(.knownData, "argparse's namespace of training options", ["argparse.Namespace"])
        add(.knownData, "omegaconf configuration: containers of values", [
            "omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.base.ContainerMetadata",
            "omegaconf.base.Metadata", "omegaconf.nodes.AnyNode", "omegaconf.nodes.StringNode", "omegaconf.nodes.IntegerNode",
            "omegaconf.nodes.FloatNode", "omegaconf.nodes.BooleanNode", "omegaconf.nodes.EnumNode", "omegaconf.nodes.BytesNode",
            "omegaconf.nodes.PathNode", "omegaconf.nodes.ValueNode"])
        add(.knownData, "mmengine/mmcv logging and configuration: containers of values", [
            "mmengine.logging.history_buffer.HistoryBuffer", "mmengine.config.config.ConfigDict", "mmcv.utils.config.ConfigDict",
            "mmengine.logging.message_hub.MessageHub"])
        add(.knownData, "a file path value (nothing is opened)", [
            "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePath", "pathlib.PurePosixPath",
            "pathlib.PureWindowsPath", "pathlib._local.PosixPath", "pathlib._local.WindowsPath", "pathlib._local.Path"])
        add(.knownData, "a date or time value", ["datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
                                                   "datetime.timezone"])
        add(.knownData, "a type annotation marker", ["typing.Any"])
        add(.knownData, "counts and named tuples of values", ["collections.Counter", "collections.deque"])
        return table
    }()

    /// Module prefixes whose classes (names without dots, not dunders) hold only data.
    static let classPrefixes: [(prefix: String, entry: Entry)] = [
        ("__torch__.", Entry(kind: .knownData, why: "a TorchScript archive's own class, kept as a record")),
        ("__torch__", Entry(kind: .knownData, why: "a TorchScript archive's own class, kept as a record")),
        ("torch.nn.modules.", Entry(kind: .knownData, why: "a torch.nn layer class (a whole pickled model), kept as a record")),
        ("numpy.dtypes", Entry(kind: .knownData, why: "numpy 2's dtype classes: a value's type")),
    ]

    /// The entry for `global`, or nil when it is not on the list.
    static func entry(for global: PickleGlobal) -> Entry? {
        if let entry = exact[global.qualifiedName] { return entry }
        guard !global.name.contains("."), !(global.name.hasPrefix("__") && global.name.hasSuffix("__")) else { return nil }
        if global.module == "torch", DType(storageClass: global.name) != nil || DType(torchName: global.name) != nil {
            return Entry(kind: .torch, why: "a storage class or dtype")
        }
        // Outside TorchScript's own classes, only class names (capitalised) match: a module's
        // functions (`register_module_forward_hook`) do things when called.
        let isClassName = global.name.first?.isUppercase == true
        for (prefix, entry) in classPrefixes where global.module == prefix || (prefix.hasSuffix(".") && global.module.hasPrefix(prefix)) {
            if prefix.hasPrefix("__torch__") || isClassName { return entry }
        }
        return nil
    }
}
