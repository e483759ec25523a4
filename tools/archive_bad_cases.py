"""Hand-made pickles for make_archive_fixtures.py: views, Python 2-era files, hostile and broken files.

Hostile payloads would create /tmp/danet-marker-<case> if anything ever ran them; the Swift tests
check that no such file appears. Nothing here is run by the generator either: payloads are only
pickled, never unpickled with a permissive loader.
"""

import collections
import os
import pickle
import pickletools
import struct
import subprocess
import zlib

import numpy as np
import torch

import torchlike


class FakeStorage:
    """Pickled as a persistent id, as torch.save pickles storages."""

    def __init__(self, pid):
        self.pid = pid


class FakeTensor:
    """Pickled as a torch rebuild call with whatever (possibly impossible) geometry it is given."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class Call:
    """Pickled as func(*args): the shape of a code-execution payload."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def dumps(obj, protocol=2):
    import io

    buffer = io.BytesIO()

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, FakeStorage) else None

    Pickler(buffer, protocol=protocol).dump(obj)
    return buffer.getvalue()


def float_storage(key, values, legacy=False):
    pid = ("storage", torch.FloatStorage, key, "cpu", len(values))
    return FakeStorage(pid + (None,) if legacy else pid), struct.pack(f"<{len(values)}f", *values)


def numpy_scalar_name():
    for opcode, arg, _ in pickletools.genops(pickle.dumps(np.float64(1.0), protocol=2)):
        if opcode.name == "GLOBAL":
            return arg.replace(" ", ".")
    raise RuntimeError("no GLOBAL in a pickled numpy scalar")


def legacy_views_pickle():
    """Tensors viewing parts of one root storage through view_metadata (PyTorch < 1.0)."""
    values = [float(i) for i in range(12)]
    root = ("storage", torch.FloatStorage, "root", "cpu", 12)
    whole = FakeStorage(root + (None,))
    view1 = FakeStorage(root + (("view1", 2, 6),))
    view2 = FakeStorage(root + (("view2", 8, 4),))
    obj = collections.OrderedDict(
        whole=FakeTensor(whole, 0, (3, 4), (4, 1)),
        a=FakeTensor(view1, 1, (2, 2), (2, 1)),
        b=FakeTensor(view2, 0, (4,), (1,)),
        b_again=FakeTensor(view2, 2, (2,), (1,)),
    )
    base = torch.tensor(values)
    expected = collections.OrderedDict(
        whole=base.reshape(3, 4), a=base[2:8][1:5].reshape(2, 2), b=base[8:12], b_again=base[10:12])
    return dumps(obj), [("root", 12, struct.pack("<12f", *values))], expected


def python2_pickle():
    """A legacy main pickle as Python 2 wrote it: BINSTRING keys, __builtin__ and copy_reg names,
    the old 4-argument _rebuild_tensor, and protocol-0 text opcodes for plain values."""
    a = torchlike.Asm(2)
    a.global_("collections", "OrderedDict").op(b")").op(b"R").op(b"p0\n").op(b"(")
    a.binstring(b"weight").global_("torch._utils", "_rebuild_tensor").op(b"p1\n")
    a.op(b"((").binstring(b"storage").global_("torch", "FloatStorage").binstring(b"94103434434432")
    a.binstring(b"cpu").int_text(6).op(b"N").op(b"tQ").int_text(0)
    a.op(b"(").int_text(2).int_text(3).op(b"t(").int_text(3).int_text(1).op(b"ttR")
    a.binstring(b"bias").op(b"g1\n")
    a.op(b"((").binstring(b"storage").global_("torch", "LongStorage").binstring(b"94103434435008")
    a.binstring(b"cpu").int_text(2).op(b"N").op(b"tQ").int_text(0)
    a.op(b"(").int_text(2).op(b"t(").int_text(1).op(b"ttR")
    a.text_string("text_key").int_text(42)
    a.text_string("big").long_text(12345678901234567890123)
    a.text_string("ratio").op(b"F0.25\n")
    a.text_string("name").op(b"Vcaf\\u00e9\n")
    a.text_string("flags").op(b"(l").op(b"I01\na").op(b"I00\na")
    a.text_string("ids").global_("__builtin__", "set").op(b"((l").int_text(1).op(b"a").int_text(2).op(b"atR")
    a.text_string("args").global_("copy_reg", "_reconstructor").op(b"(").global_("__main__", "Args")
    a.global_("__builtin__", "object").op(b"NtR(d").text_string("lr").op(b"F0.01\ns").op(b"b")
    a.op(b"u")
    weight = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    storages = [("94103434434432", 6, struct.pack("<6f", *weight)), ("94103434435008", 2, struct.pack("<2q", -1, 5))]
    expected = collections.OrderedDict(weight=torch.tensor(weight).reshape(2, 3), bias=torch.tensor([-1, 5]))
    return a.stop(), storages, expected


def fake_zip(path, obj, storages, protocol=2, **options):
    records = [("archive/data.pkl", dumps(obj, protocol)), ("archive/byteorder", b"little")]
    records += [(f"archive/data/{key}", raw) for key, raw in storages.items()]
    torchlike.write_zip(path, records, **options)


def raw_zip(path, data_pkl, extra=()):
    torchlike.write_zip(path, [("archive/data.pkl", data_pkl), ("archive/byteorder", b"little"), *extra])


def error(file, kind, *contains):
    return {"file": file, "error": {"kind": kind, "contains": list(contains)}}


def write_all(out):
    def path(name):
        return os.path.join(out, name)

    cases = {}
    weight, weight_raw = float_storage("0", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])

    # --- hostile globals, in every form a pickle can name a callable
    marker = "/tmp/danet-marker-"
    fake_zip(path("hostile_zip_posix_system.pth"),
             {"weight": FakeTensor(weight, 0, (6,), (1,)), "x": Call(os.system, f"touch {marker}zip")}, {"0": weight_raw})
    cases["hostile_zip_posix_system"] = error("hostile_zip_posix_system.pth", "refusedGlobal", os.system.__module__ + ".system")

    a = torchlike.Asm(2).global_("os", "system").op(b"(").text_string(f"touch {marker}legacy").op(b"tR")
    torchlike.save_legacy_raw(path("hostile_legacy_os_system.pth"), a.stop(), [])
    cases["hostile_legacy_os_system"] = error("hostile_legacy_os_system.pth", "refusedGlobal", "os.system")

    raw_zip(path("hostile_proto0_inst.pth"), f"((lp0\nS'touch'\naS'{marker}inst'\naisubprocess\nPopen\n.".encode())
    cases["hostile_proto0_inst"] = error("hostile_proto0_inst.pth", "refusedGlobal", "subprocess.Popen")

    raw_zip(path("hostile_proto0_obj.pth"), f"(cbuiltins\nexec\nS'open(\"{marker}obj\", \"w\")'\no.".encode())
    cases["hostile_proto0_obj"] = error("hostile_proto0_obj.pth", "refusedGlobal", "builtins.exec")

    fake_zip(path("hostile_proto4_eval.pth"), {"x": Call(eval, f"open('{marker}eval', 'w')")}, {}, protocol=4)
    cases["hostile_proto4_eval"] = error("hostile_proto4_eval.pth", "refusedGlobal", "builtins.eval")

    ts = torchlike.Asm(2).global_("__torch__", "M").op(b")\x81}(").unicode("training").op(b"\x88")
    ts.unicode("hook").global_("posix", "system").op(b"(").unicode(f"touch {marker}torchscript").op(b"tR").op(b"ub")
    torchlike.write_zip(path("hostile_torchscript.pt"), [
        ("m/data.pkl", ts.stop()), ("m/code/__torch__.py", b"def forward(self):\n  return None\n"),
        ("m/constants.pkl", b"\x80\x02).") , ("m/version", b"3\n")])
    cases["hostile_torchscript"] = error("hostile_torchscript.pt", "refusedGlobal", "posix.system")

    # --- broken pickles
    good = dumps({"weight": FakeTensor(weight, 0, (6,), (1,))})
    raw_zip(path("truncated_pickle.pth"), good[:-1], [("archive/data/0", weight_raw)])
    cases["truncated_pickle"] = error("truncated_pickle.pth", "truncated", "STOP")

    legacy = open(path("legacy.pth"), "rb").read()
    open(path("truncated_legacy.pth"), "wb").write(legacy[: len(legacy) * 3 // 5])
    cases["truncated_legacy"] = error("truncated_legacy.pth", "truncated", "truncated_legacy.pth")

    raw_zip(path("absurd_binunicode8.pth"), b"\x80\x04\x8d" + struct.pack("<Q", 1 << 62) + b"abc.")
    cases["absurd_binunicode8"] = error("absurd_binunicode8.pth", "limitExceeded", "BINUNICODE8", str(1 << 62))
    raw_zip(path("absurd_binbytes8.pth"), b"\x80\x04\x8e" + struct.pack("<Q", 1 << 40) + b"abc.")
    cases["absurd_binbytes8"] = error("absurd_binbytes8.pth", "limitExceeded", "BINBYTES8", str(1 << 40))

    depth = 100_000
    raw_zip(path("deep_nesting.pth"), b"\x80\x02}X\x01\x00\x00\x00x" + b"]" * depth + b"a" * (depth - 1) + b"s.")
    cases["deep_nesting"] = error("deep_nesting.pth", "limitExceeded", "nested")

    raw_zip(path("mark_bomb.pth"), b"\x80\x02" + b"(" * 20_000 + b"N.")
    cases["mark_bomb"] = error("mark_bomb.pth", "limitExceeded", "MARK")

    raw_zip(path("setitem_nondict.pth"), b"\x80\x02]X\x01\x00\x00\x00aK\x01s.")
    cases["setitem_nondict"] = error("setitem_nondict.pth", "malformed", "dict under SETITEM", "list")

    # --- tensors that do not fit their storage
    fake_zip(path("numel_overflow.pth"), {"x": FakeTensor(weight, 0, (1 << 40, 1 << 40), (1, 1))}, {"0": weight_raw})
    cases["numel_overflow"] = error("numel_overflow.pth", "limitExceeded", "64 bits")
    fake_zip(path("offset_outside.pth"), {"x": FakeTensor(weight, 100, (2,), (1,))}, {"0": weight_raw})
    cases["offset_outside"] = error("offset_outside.pth", "malformed", "inside storage '0'", "element 101")
    fake_zip(path("stride_outside.pth"), {"x": FakeTensor(weight, 0, (3, 3), (3, 1))}, {"0": weight_raw})
    cases["stride_outside"] = error("stride_outside.pth", "malformed", "inside storage '0'", "element 8")
    fake_zip(path("short_storage.pth"), {"x": FakeTensor(weight, 0, (6,), (1,))}, {"0": weight_raw[:16]})
    cases["short_storage"] = error("short_storage.pth", "truncated", "archive/data/0", "24 bytes", "16 bytes")
    fake_zip(path("missing_record.pth"), {"x": FakeTensor(weight, 0, (6,), (1,))}, {})
    cases["missing_record"] = error("missing_record.pth", "missing", "archive/data/0")

    # --- not checkpoints at all
    open(path("html.pth"), "wb").write(b"<!DOCTYPE html>\n<html><head><title>Google Drive - Virus scan warning</title></head>"
                                       b"<body>Can't scan this file for viruses.</body></html>\n")
    cases["html"] = error("html.pth", "unsupported", "HTML page")
    rng = np.random.default_rng(7)
    open(path("garbage.pth"), "wb").write(b"\x13\x37" + rng.integers(0, 256, 4094, dtype=np.uint8).tobytes())
    cases["garbage"] = error("garbage.pth", "unsupported", "garbage.pth", "starting")
    open(path("plain_pickle.pth"), "wb").write(pickle.dumps({"weights": [1, 2, 3]}, protocol=2))
    cases["plain_pickle"] = error("plain_pickle.pth", "unsupported", "magic number")
    open(path("empty.pth"), "wb").close()
    cases["empty"] = error("empty.pth", "unsupported", "empty file")

    # --- a zip bomb: 50 MB of zeros deflated to about 50 KB, declared honestly
    count = 50_000_000 // 4
    bomb = FakeStorage(("storage", torch.FloatStorage, "0", "cpu", count))
    torchlike.write_zip(path("zip_bomb.pth"), [
        ("archive/data.pkl", dumps({"x": FakeTensor(bomb, 0, (count,), (1,))})),
        ("archive/data/0", bytes(count * 4))], deflate={"archive/data/0"})
    cases["zip_bomb"] = error("zip_bomb.pth", "limitExceeded", "zip bomb", "archive/data/0")
    return cases
