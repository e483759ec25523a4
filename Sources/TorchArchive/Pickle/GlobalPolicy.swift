/// Decides which pickle globals a checkpoint may name.
///
/// Nothing a pickle names is ever called, so an unknown class is harmless here: it becomes an
/// opaque `PickleObject` and the weights still load (in strict mode it is refused). A global whose
/// only purpose in a checkpoint would be to run code, read files or load more pickles is refused
/// with its name, because its presence means the file was made to attack whoever loads it with
/// `torch.load(weights_only=False)`. The allow list (`GlobalAllowList`) is checked first, so an
/// exact data class (`pathlib.PosixPath`) passes where its module's functions are refused.
enum GlobalPolicy {
    /// What `global` is, and why.
    static func classify(_ global: PickleGlobal) -> (kind: GlobalKind, why: String) {
        if let entry = GlobalAllowList.entry(for: global) { return (entry.kind, entry.why) }
        if isRefused(global) { return (.refused, "can run code, touch the system or load more code") }
        return (.unknown, "not on the allow list")
    }

    /// Modules whose every name can run code, touch the system or load further code.
    static let refusedModules: Set<String> = [
        "os", "posix", "nt", "subprocess", "sys", "shutil", "socket", "importlib", "runpy", "pickle",
        "_pickle", "cPickle", "pickletools", "marshal", "ctypes", "cffi", "code", "codeop", "pty",
        "commands", "popen2", "platform", "webbrowser", "multiprocessing", "asyncio", "threading",
        "_thread", "thread", "signal", "tempfile", "pathlib", "glob", "io", "_io", "operator",
        "functools", "types", "inspect", "timeit", "pdb", "bdb", "cProfile", "profile", "trace",
        "ftplib", "http", "httplib", "urllib", "urllib2", "urllib3", "requests", "smtplib",
        "telnetlib", "zipimport", "pkgutil", "site", "distutils", "setuptools", "pip", "yaml",
        "dill", "joblib", "cloudpickle", "gc", "tarfile", "zipfile", "shelve", "dbm", "sqlite3",
        "xmlrpc", "fcntl", "resource", "posixpath", "ntpath", "sysconfig", "ensurepip", "venv",
        "imp", "codecs", "nturl2path", "uuid", "logging", "atexit", "selectors",
        "select", "ssl", "mmap", "sched", "contextlib", "copy", "linecache", "tokenize", "ast",
        "dis", "compileall", "py_compile", "zipapp", "encodings", "_posixsubprocess", "spawn",
        // Scanner bypasses: modules with a function or method that runs a command, a file or code.
        "idlelib", "lib2to3", "pydoc", "pydoc_data", "doctest", "_aix_support", "_osx_support", "_pyrepl", "imaplib",
        "poplib", "nntplib", "test", "aiohttp", "httpx", "fsspec", "numpy.distutils", "IPython", "jinja2", "mako",
    ]

    /// Builtins a checkpoint may name: constructors of plain data.
    static let allowedBuiltins: Set<String> = [
        "set", "frozenset", "bytearray", "bytes", "complex", "slice", "range", "int", "float", "bool",
        "str", "unicode", "list", "dict", "tuple", "object", "long", "NoneType", "Ellipsis",
    ]

    /// Parts of torch and numpy that load or compile code, or load other files.
    static let refusedPrefixes: [String] = [
        "torch.load", "torch.save", "torch.hub", "torch.ops", "torch.classes", "torch._C",
        "torch.serialization", "torch.package", "torch.utils.cpp_extension", "torch.compile",
        "torch._dynamo", "torch._inductor", "torch.multiprocessing", "torch.distributed",
        "torch.storage._load_from_bytes", "torch.jit.load", "torch.jit._script", "torch.jit.frontend",
        "torch.utils.data", "torch.testing", "torch.fx", "torch.utils.collect_env", "torch.utils.bottleneck",
        "torch.utils._config_module", "torch.jit.unsupported_tensor_ops", "torch._export", "torch.export", "torch.onnx",
        "numpy.load", "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.lib.npyio",
        "numpy.ctypeslib", "numpy.core._internal", "numpy._core._internal",
    ]

    /// True when `global` must not appear in a checkpoint.
    static func isRefused(_ global: PickleGlobal) -> Bool {
        let module = global.module
        let root = module.split(separator: ".", maxSplits: 1).first.map(String.init) ?? module
        if refusedModules.contains(root) || refusedModules.contains(module) { return true }
        if module == "builtins" || module == "__builtin__" || module == "exceptions" {
            return !allowedBuiltins.contains(global.name)
        }
        if module == "copy_reg" || module == "copyreg" {
            return !["_reconstructor", "__newobj__", "__newobj_ex__"].contains(global.name)
        }
        let qualified = global.qualifiedName
        for prefix in refusedPrefixes where qualified == prefix || qualified.hasPrefix(prefix + ".") || module == prefix {
            return true
        }
        // Dunder names reach interpreter internals (`__import__`, `__reduce__`, `__class__`).
        return global.name.hasPrefix("__") && global.name.hasSuffix("__")
    }
}
