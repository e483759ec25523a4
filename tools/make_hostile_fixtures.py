#!/usr/bin/env python3
"""Writes Fixtures/hostile/: every code-execution payload in every form a checkpoint can take, and
memo attacks, each with the error the reader must give (expected.json).

    .venv/bin/python tools/make_hostile_fixtures.py

Payloads call os.system, posix.system, builtins.eval or subprocess.Popen through GLOBAL + REDUCE
(or INST / OBJ / STACK_GLOBAL) to create /tmp/danet-marker-hostile-<case>; the tests check that no
such file ever appears. Pickles are assembled byte by byte and never unpickled here.
"""

import json
import os
import struct

import archive_bad_cases as bad
import torch
import torchlike

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "hostile")
MARKER = "/tmp/danet-marker-hostile-"

# (module, name, how the argument tuple is built for a command that touches `marker`)
CALLABLES = [
    ("os", "system", lambda marker: ("text", f"touch {marker}")),
    ("posix", "system", lambda marker: ("text", f"touch {marker}")),
    ("builtins", "eval", lambda marker: ("text", f"open('{marker}', 'w')")),
    ("subprocess", "Popen", lambda marker: ("list", ["touch", marker])),
]


# Published bypasses of pickle scanners and their neighbours: callables outside the classic
# os/subprocess/eval family that run a command, a file or code. (module, qualified name inside it)
BYPASSES = [
    ("pydoc", "pipepager"), ("idlelib.run", "Executive.runcode"), ("idlelib.pyshell", "ModifiedInterpreter.runcommand"),
    ("doctest", "debug_script"), ("_aix_support", "_read_cmd_output"), ("_osx_support", "_read_output"),
    ("_pyrepl.pager", "pipe_pager"), ("imaplib", "IMAP4_stream"), ("test.support.script_helper", "assert_python_ok"),
    ("lib2to3.pgen2.grammar", "Grammar.loads"), ("torch.utils.collect_env", "run"),
    ("torch.utils.bottleneck.__main__", "run_cprofile"), ("torch.utils._config_module", "ConfigModule.load_config"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"), ("aiohttp.client", "ClientSession"),
    ("profile", "Profile.run"), ("cProfile", "runctx"), ("code", "InteractiveInterpreter.runcode"),
]

# Callables no list knows: loaded with a warning, named by the verdict, refused by --strict.
UNKNOWN = [("acme_tools.deploy", "run_everything"), ("__main__", "helper")]


def argument(asm, kind, value, protocol):
    """Pushes one call argument: a string, or a list of strings."""
    def push(text):
        if protocol == 0:
            asm.text_string(text)
        else:
            asm.unicode(text)
    if kind == "text":
        push(value)
    else:
        asm.op(b"(" if protocol == 0 else b"]")
        if protocol == 0:
            asm.op(b"l")  # LIST from the mark: an empty list to append to
        for item in value:
            push(item)
            asm.op(b"a")


def reduce_pickle(module, name, kind, value, protocol=2, stack_global=False):
    """{'x': module.name(arg)} through GLOBAL (or STACK_GLOBAL) + REDUCE."""
    asm = torchlike.Asm(protocol)
    asm.op(b"}").unicode("x")
    if stack_global:
        asm.unicode(module).unicode(name).op(b"\x93")
    else:
        asm.global_(module, name)
    asm.op(b"(")
    argument(asm, kind, value, protocol)
    asm.op(b"tR").op(b"s")
    return asm.stop()


def reduce_pickle0(module, name, value):
    """{'x': module.name(value)} in protocol 0 text opcodes only: DICT, STRING, GLOBAL, TUPLE, REDUCE."""
    asm = torchlike.Asm(0).op(b"(d").text_string("x").global_(module, name).op(b"(").text_string(value)
    return asm.op(b"tR").op(b"s").stop()


def inst_pickle(module, name, kind, value):
    """Protocol 0 INST: MARK, arguments, then `i module\\nname\\n` calls the class."""
    asm = torchlike.Asm(0).op(b"(")
    argument(asm, kind, value, 0)
    return asm.op(b"i", f"{module}\n{name}\n".encode()).stop()


def obj_pickle(module, name, kind, value):
    """Protocol 0/1 OBJ: MARK, the callable, arguments, then `o`."""
    asm = torchlike.Asm(0).op(b"(").global_(module, name)
    argument(asm, kind, value, 0)
    return asm.op(b"o").stop()


def torchscript_pickle(module, name, kind, value):
    """A TorchScript module object whose attribute is the payload call."""
    asm = torchlike.Asm(2).global_("__torch__", "M").op(b")\x81}(").unicode("training").op(b"\x88").unicode("hook")
    asm.global_(module, name).op(b"(")
    argument(asm, kind, value, 2)
    return asm.op(b"tR").op(b"ub").stop()


def zip_file(path, data_pkl, folder="archive", extra=()):
    torchlike.write_zip(path, [(f"{folder}/data.pkl", data_pkl), (f"{folder}/byteorder", b"little"), *extra])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    cases = {}

    def case(name, writer, kind, contains):
        file = name + (".pt" if name.startswith("torchscript") else ".pth")
        writer(os.path.join(OUT, file))
        cases[name] = {"file": file, "error": {"kind": kind, "contains": contains} if kind else None}

    for module, name, make in CALLABLES:
        tag = f"{module}_{name}".lower()
        for form in ("zip", "legacy", "proto0_inst", "proto0_obj", "proto4_stack_global", "torchscript"):
            marker = MARKER + f"{form}-{tag}"
            kind, value = make(marker)
            if form == "zip":
                writer = lambda p, pk=reduce_pickle(module, name, kind, value): zip_file(p, pk)
            elif form == "legacy":
                writer = lambda p, pk=reduce_pickle(module, name, kind, value): torchlike.save_legacy_raw(p, pk, [])
            elif form == "proto0_inst":
                writer = lambda p, pk=inst_pickle(module, name, kind, value): zip_file(p, pk)
            elif form == "proto0_obj":
                writer = lambda p, pk=obj_pickle(module, name, kind, value): zip_file(p, pk)
            elif form == "proto4_stack_global":
                writer = lambda p, pk=reduce_pickle(module, name, kind, value, protocol=4, stack_global=True): zip_file(p, pk)
            else:
                writer = lambda p, pk=torchscript_pickle(module, name, kind, value): zip_file(
                    p, pk, folder="m", extra=[("m/code/__torch__.py", b"def forward(self):\n  return None\n"),
                                              ("m/constants.pkl", b"\x80\x02)."), ("m/version", b"3\n")])
            case(f"{form}_{tag}", writer, "refusedGlobal", [f"{module}.{name}"])

    for module, name in BYPASSES:
        qualified = f"{module}.{name}"
        tag = qualified.replace(".", "_").strip("_").lower()
        marker = MARKER + f"bypass-{tag}"
        for form in ("zip", "legacy", "proto0"):
            if form == "zip":
                writer = lambda p, pk=reduce_pickle(module, name, "text", f"touch {marker}"): zip_file(p, pk)
            elif form == "legacy":
                writer = lambda p, pk=reduce_pickle(module, name, "text", f"touch {marker}"): torchlike.save_legacy_raw(p, pk, [])
            else:
                writer = lambda p, pk=reduce_pickle0(module, name, f"touch {marker}"): zip_file(p, pk)
            case(f"bypass_{form}_{tag}", writer, "refusedGlobal", [qualified])

    for module, name in UNKNOWN:
        qualified = f"{module}.{name}"
        tag = qualified.replace(".", "_").strip("_").lower()
        for form in ("zip", "legacy", "proto0"):
            if form == "zip":
                writer = lambda p, pk=reduce_pickle(module, name, "text", "x"): zip_file(p, pk)
            elif form == "legacy":
                writer = lambda p, pk=reduce_pickle(module, name, "text", "x"): torchlike.save_legacy_raw(p, pk, [])
            else:
                writer = lambda p, pk=reduce_pickle0(module, name, "x"): zip_file(p, pk)
            case(f"unknown_{form}_{tag}", writer, "unknownGlobal", [qualified])
            cases[f"unknown_{form}_{tag}"]["unknown"] = True

    # Memo attacks: an index far past anything stored (valid, and it must not allocate: the file
    # opens and holds no tensors), a GET of an index never PUT, and a PUT with nothing on the stack.
    sparse = torchlike.Asm(2).op(b"N").op(b"r", struct.pack("<I", 0xFFFFFFFF)).op(b"j", struct.pack("<I", 0xFFFFFFFF)).stop()
    case("memo_sparse_index", lambda p: zip_file(p, sparse), None, [])
    missing = torchlike.Asm(2).op(b"h", b"\x07").stop()
    case("memo_get_unset", lambda p: zip_file(p, missing), "missing", ["memo entry 7"])
    empty_put = torchlike.Asm(4).op(b"\x94").stop()
    case("memo_put_empty_stack", lambda p: zip_file(p, empty_put), "malformed", ["empty stack"])

    # A zip bomb spread over many entries, each small enough (1 MB inflated, about 1 KB deflated)
    # to pass the per-entry ratio check: only a budget for the whole archive stops it.
    count, elements = 300, (1 << 20) // 4
    storages = [bad.FakeStorage(("storage", torch.FloatStorage, str(i), "cpu", elements)) for i in range(count)]
    tensors = {f"w{i}": bad.FakeTensor(storage, 0, (elements,), (1,)) for i, storage in enumerate(storages)}
    records = [("archive/data.pkl", bad.dumps(tensors))] + [(f"archive/data/{i}", bytes(elements * 4)) for i in range(count)]
    case("zip_bomb_many_entries",
         lambda p: torchlike.write_zip(p, records, deflate={name for name, _ in records[1:]}),
         "limitExceeded", ["zip bomb"])

    # Found by tools/fuzz (pickle target, a timeout): DUP and TUPLE3 build a tree of shared tuples
    # whose naming walk reached 20,000,000 values in 2.7 s from 334 bytes. Kept byte for byte.
    shared = bytes.fromhex(
        "80027d71002858050000006d6f3232323232323232323232323232323232323232323232323232323232323232323232"
        "323232323232323232323232323232323232323232323232323232323232323232323232323232323232323287873232"
        "323232323232323232323232323232323232323232323232323232323232878787878732328787878787878787878787"
        "878787878787878732323232323232323232323232323232323232323232323232323232323232323232323232323232"
        "323232323232323232323287878787878787878787878787878787878787323232323232323232323232323232328787"
        "878787878787878787878787878787878732323232323232323232323232323232323232323232878787878787878787"
        "8787878787878787878732323232323232323232323232323232878787878787878787878787878787878787872e")
    case("shared_tuple_bomb", lambda p: zip_file(p, shared), "limitExceeded", ["values reachable from the top"])

    # Found by tools/fuzz (pickle target, a timeout, after the bound above): the same kind of
    # shared-tuple tree used as a dict key, whose hashing walked it all. Kept byte for byte.
    key = bytes.fromhex(
        "80027d7100288a02888888888888888888888888888888885805000000606d6f32323232323232323232323232323232"
        "323232323232323232323232323232323232323232323232323232323232323232323232323232323232323232323232"
        "323287323232323232323232323232323232323232323232323232323232323232323232323232323232328787878787"
        "878787878787878787878787878732323232323232323232323232323232323232327232323232323232323232323232"
        "323232323232323232323232323232323287873232323232323232323287878787878787878787878787878787878787"
        "323232323232323232323232323232323232323232323232323232323232323232323232323232323232323287878787"
        "878787878787878787878787878787323232323232323232323232323232323232323272323232323232323232323232"
        "323232323232323232323232323232323232878732323232323232323232878787878787878775323232323232746f72"
        "3a00000000000000788787877777872e")
    case("shared_tuple_key", lambda p: zip_file(p, key), "malformed", ["hashable dict key of at most"])

    # Found by tools/fuzz (pickle target, out of memory after 31 minutes): another shared-tuple
    # tree, under the visit bound, whose walk built a path string per value (1,000,000 of them, up
    # to hundreds of characters each). Kept byte for byte.
    oom = bytes.fromhex(
        "80027d71002858050000006d6f3232323232323232323232323232323232323232323232323232323232323232323232"
        "323232323232323232323232323232323232323232323232323232323232878787878787878787878787878787878787"
        "873232323232323232323232323232323232323232323232878787878787878787878585858585858585858585858585"
        "858585858585858585858585858585858585853232323232323232323232323232323232323232323232323232323232"
        "323232323232323232323232323232323232323232878787878787878787878787878787878787873232323232323232"
        "32323232323232323232323232323287878787878787878787858585858585858585858585858585742e426147634e6f"
        "726d33858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585"
        "858585858585858585858585858585858585858585858585858585858585858787878787878787872e")
    case("shared_tuple_oom", lambda p: zip_file(p, oom), "limitExceeded", ["values reachable from the top"])

    # Views that claim far more bytes than the file holds: a stride-0 view of one float as 2^36
    # of them (256 GB), the same view of one double as 2^61 (a size in bytes past 64 bits), and a
    # 16-byte tensor named 531,441 times through a tree of shared tuples (8.5 MB of tensors from a
    # 576-byte file; with a 4 MB tensor, 2 TB of safetensors output).
    def one_storage(dtype, elements, geometry):
        storage = bad.FakeStorage(("storage", dtype, "0", "cpu", elements))
        return [("archive/data.pkl", bad.dumps(geometry(storage))), ("archive/data/0", bytes(elements * 8))]
    expand = one_storage(torch.FloatStorage, 1, lambda s: {"w": bad.FakeTensor(s, 0, (1 << 36,), (0,))})
    case("expanded_view_bomb", lambda p: torchlike.write_zip(p, expand), "limitExceeded", ["tensors and names of at most"])
    overflow = one_storage(torch.DoubleStorage, 1, lambda s: {"w": bad.FakeTensor(s, 0, (1 << 61,), (0,))})
    case("expanded_view_overflow", lambda p: torchlike.write_zip(p, overflow), "limitExceeded", ["a size in bytes that fits"])

    def shared_tensor(storage):
        tree = bad.FakeTensor(storage, 0, (4,), (1,))
        for _ in range(12):
            tree = (tree, tree, tree)
        return {"w": tree}
    aliased = one_storage(torch.FloatStorage, 4, shared_tensor)
    case("shared_tensor_bomb", lambda p: torchlike.write_zip(p, aliased), "limitExceeded", ["tensors and names of at most"])

    # Found by tools/fuzz (pickle target, a timeout, after the two fixes above): unknown classes
    # (kept as opaque records) in a shared-tuple tree, each reached object recorded with its path,
    # and empty tensors likewise: names cost nothing in tensor bytes. Kept byte for byte.
    opaque = bytes.fromhex(
        "80027d71002858050000006d6f323232323232323232323232323232323232323232323232323232323232327d710758"
        "050000007363616c65710863746f7263682e5f6574696c730a5f72656275696c645f74656e736f725f76320a71092828"
        "580700000073746f72616765710a63746f7263680a466c6f617453746f726167650a710b580100000030710c58030000"
        "00637075710d4b0174710e514b004b0185710f4b018571108963636f6c6c656374696f6e730a4f726465726544646963"
        "740a71112952711274711352711473581b0000005f6e6f6e5f70657273697374656e745f627566666572735f73657471"
        "15635f756c6962695f746e5f5f0a7365740a71165d711785711852711958130000005f6261636b776172645f7072655f"
        "686f6f6b63711a68112952711b580f0000005f6261636b776172645f686f6f6b73711c68112952711d32323232323232"
        "323232323232323232323232323232323232323232323232323232323232323232323232323232323232328787878787"
        "878787878787878787878787878732323232323232323232323232323232323232323232328732324304000032323232"
        "323232323232323232323232323232323232323232323232323232878787878787878787878787878787878787873232"
        "323232323232323232323232323232323232323232878787878787878787878585858585858585858585858585858587"
        "878787878732323232323232323232323232323232323232323232328787878787323232323232323232323232323232"
        "323232323232323232323232323232323232323232323287878787878787878787878787878787878787323232323232"
        "323232323232323232323232323232323287323243040000323232323232323232323232323232323232323232323232"
        "323232323232328787878787878787878787878787878787878732323232323232323232323232323232323232323232"
        "328787878787878787878785858585858585858585858585858585878787878787323232323232323232323232323232"
        "323232323232323287878787878787878787858585858585858585858585878787878785858585858585858585858585"
        "858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585"
        "858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585858585"
        "858585858585858585858585858787878787878787872e")
    case("shared_opaque_objects", lambda p: zip_file(p, opaque, extra=[("archive/data/0", bytes(4))]),
         "limitExceeded", ["tensors and names of at most"])

    # Found by tools/fuzz (png target, out of memory): a 129-byte PNG whose sPLT chunk declares
    # 1,936,946,035 bytes, which libpng allocated before reading. Not a checkpoint: ImageBoundsTests
    # reads it, and tools/fuzz replays it as a png seed. Kept byte for byte.
    with open(os.path.join(OUT, "png_chunk_length.png"), "wb") as f:
        f.write(bytes.fromhex(
            "89504e470d0a1a0a0000000d494844520000000500000007040300000032899add000000187373737373737373737373"
            "7373737373737373737373737373737373737373737373737373504c5445b4d25235d37d90884b0a9968c42b8e4e2dc6"
            "16346b17076ec76523670000000f49444154789c000000000000000000004e4650"))

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
