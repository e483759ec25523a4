#!/usr/bin/env python3
"""Writes Fixtures/archive/: one checkpoint per case a reader must pass, plus expected.json.

Run from the repository root with the tools venv (see README):
    .venv/bin/python tools/make_archive_fixtures.py

Valid files are made with torch.save / torch.jit.save where PyTorch can make the case, and with
tools/torchlike.py where it cannot; each valid file is loaded back with torch.load and compared
with the tensors it should hold before its expectation is recorded. Hostile and broken files come
from tools/archive_bad_cases.py.
"""

import argparse
import collections
import io
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import archive_bad_cases  # noqa: E402
import torchlike  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "archive")
SAFETENSORS_NAMES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL", torch.complex64: "C64", torch.complex128: "C128", torch.uint16: "U16",
    torch.uint32: "U32", torch.uint64: "U64", torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2",
    torch.float8_e4m3fnuz: "F8_E4M3FNUZ", torch.float8_e5m2fnuz: "F8_E5M2FNUZ",
}

expected = {}


def raw_bytes(t):
    flat = t.detach().reshape(-1).contiguous()
    if flat.dtype.is_complex:
        flat = torch.view_as_real(flat).reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def describe(t):
    entry = {"dtype": SAFETENSORS_NAMES[t.dtype], "shape": list(t.shape), "bytes": raw_bytes(t).hex()}
    if not t.dtype.is_complex:
        entry["f32"] = raw_bytes(t.detach().to(torch.float32)).hex()
    return entry


def flatten(obj, prefix=""):
    """The dotted names the Swift reader gives: dict keys, list/tuple indices."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj}
    items = []
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    out = {}
    for key, value in items:
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def check_same(loaded, reference, case):
    a, b = flatten(loaded), flatten(reference)
    assert a.keys() == b.keys(), (case, sorted(a)[:5], sorted(b)[:5])
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, (case, name)
        assert raw_bytes(a[name]) == raw_bytes(b[name]), (case, name)


def record(case, file, tensors, *, fmt, protocol, state_dict="", opaque=(), strip=None, load_check=None):
    """Stores what the Swift reader must find in `file`; `tensors` maps full names to tensors."""
    if load_check is not None:
        check_same(load_check(os.path.join(OUT, file)), {k: v for k, v in tensors.items()}, case)
    expected[case] = {
        "file": file, "format": fmt, "protocol": protocol, "stateDict": state_dict,
        "tensors": [dict(name=name, **describe(t)) for name, t in tensors.items()],
        "opaque": [list(pair) for pair in opaque], "stripPrefix": strip,
    }


def load_weights(path):
    return torch.load(path, weights_only=True)


def path(name):
    return os.path.join(OUT, name)


def small_state_dict(seed=0):
    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    sd["conv1.weight"] = torch.randn(4, 3, 3, 3, generator=g)
    sd["bn1.weight"] = torch.rand(4, generator=g) + 0.5
    sd["bn1.bias"] = torch.randn(4, generator=g)
    sd["bn1.running_mean"] = torch.randn(4, generator=g)
    sd["bn1.running_var"] = torch.rand(4, generator=g) + 0.5
    sd["bn1.num_batches_tracked"] = torch.tensor(7)
    return sd


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.register_buffer("scale", torch.tensor([2.0]))

    def forward(self, x):
        return self.bn(self.conv(x)) * self.scale + torch.tensor([0.5, 1.5, 2.5, 3.5]).view(1, 4, 1, 1)


def zip_cases():
    sd = small_state_dict()
    torch.save(sd, path("zip_named_folder.pth"))  # top folder "zip_named_folder/", sizes only in the directory
    record("zip_named_folder", "zip_named_folder.pth", sd, fmt="zip", protocol=2, load_check=load_weights)

    buffer = io.BytesIO()
    torch.save(sd, buffer)  # saved to a buffer: top folder "archive/"
    open(path("zip_buffer.pth"), "wb").write(buffer.getvalue())
    record("zip_buffer", "zip_buffer.pth", sd, fmt="zip", protocol=2, load_check=load_weights)

    variants = {
        "zip64": dict(zip64=True, folder="custom-top"),
        "zip_no_crc": dict(crc=False),
        "zip_deflated": dict(deflate={"archive/data.pkl", "archive/data/0", "archive/data/1"}),
        "zip_pointer_keys": dict(key_of=lambda i: str(94_358_219_772_416 + 4096 * i)),
        "zip_big_endian": dict(big_endian=True),
    }
    for case, options in variants.items():
        torchlike.save_zip(sd, path(f"{case}.pth"), **options)
        record(case, f"{case}.pth", sd, fmt="zip", protocol=2, load_check=load_weights)

    for protocol in (1, 2, 3, 4, 5):
        torch.save(sd, path(f"protocol{protocol}.pth"), pickle_protocol=protocol)
        # weights_only=True cannot read FRAME (protocol 4+); these files are our own, so a full load is safe.
        record(f"protocol{protocol}", f"protocol{protocol}.pth", sd, fmt="zip", protocol=protocol,
               load_check=lambda p: torch.load(p, weights_only=False))


def dtype_cases():
    values = torch.tensor([0.0, 1.5, -2.25, 3.0e4, -7.0, 0.0078125])
    typed = collections.OrderedDict()
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                  torch.int16, torch.int8, torch.uint8, torch.bool):
        typed[str(dtype).replace("torch.", "")] = values.to(dtype) if dtype != torch.bool else values > 0
    typed["complex64"] = torch.complex(values, -values)
    typed["complex128"] = torch.complex(values.double(), values.double() * 2)
    torch.save(typed, path("dtypes_typed.pth"))
    record("dtypes_typed", "dtypes_typed.pth", typed, fmt="zip", protocol=2, load_check=load_weights)

    v3 = collections.OrderedDict()
    small = torch.tensor([0.0, 1.5, -2.25, 448.0, -0.015625, 3.0])
    for dtype in (torch.uint16, torch.uint32, torch.uint64):
        v3[str(dtype).replace("torch.", "")] = torch.tensor([0, 1, 2, 300, 65535, 7]).to(dtype)
    for dtype in (torch.float8_e4m3fn, torch.float8_e5m2, torch.float8_e4m3fnuz, torch.float8_e5m2fnuz):
        v3[str(dtype).replace("torch.", "")] = small.to(dtype)
    torch.save(v3, path("dtypes_v3.pth"))
    record("dtypes_v3", "dtypes_v3.pth", v3, fmt="zip", protocol=2, load_check=load_weights)


def shape_cases():
    base = torch.arange(60, dtype=torch.float32).reshape(6, 10)
    shapes = collections.OrderedDict()
    shapes["scalar"] = torch.tensor(3.5)
    shapes["empty"] = torch.zeros(0, 4)
    shapes["offset"] = base.reshape(-1)[7:19]
    shapes["transposed"] = base.t()
    shapes["strided"] = base[::2, 1::3]
    shapes["expanded"] = torch.tensor([1.0, 2.0, 3.0]).view(3, 1).expand(3, 4)
    shapes["shared_a"] = base
    shapes["shared_b"] = base.view(10, 6)
    shapes["slice"] = base[2:4]
    torch.save(shapes, path("shapes.pth"))
    record("shapes", "shapes.pth", shapes, fmt="zip", protocol=2, load_check=load_weights)

    params = collections.OrderedDict(
        weight=torch.nn.Parameter(torch.randn(3, 2, generator=torch.Generator().manual_seed(1))),
        frozen=torch.nn.Parameter(torch.ones(2), requires_grad=False),
    )
    torch.save(params, path("parameters.pth"))
    record("parameters", "parameters.pth", params, fmt="zip", protocol=2, load_check=load_weights)

    net = TinyNet()
    sd = net.state_dict()  # OrderedDict with _metadata, pickled with BUILD
    assert hasattr(sd, "_metadata")
    torch.save(sd, path("module_state_dict.pth"))
    record("module_state_dict", "module_state_dict.pth", sd, fmt="zip", protocol=2, load_check=load_weights)

    torch.save(net, path("full_module.pth"))  # a pickled nn.Module: weights inside _parameters/_buffers
    record("full_module", "full_module.pth", sd, fmt="zip", protocol=2,
           opaque=[("(top level)", "__main__.TinyNet")],
           load_check=lambda p: torch.load(p, weights_only=False).state_dict())

    many = collections.OrderedDict((f"layer{i}.weight", torch.full((2,), float(i))) for i in range(1500))
    torch.save(many, path("many_keys.pth"))  # > 1000 keys: several SETITEMS batches; > 256 memo entries
    record("many_keys", "many_keys.pth", many, fmt="zip", protocol=2, load_check=load_weights)


def wrapper_cases():
    sd = small_state_dict(2)
    official = {"epoch": 240, "state_dict": sd, "optimizer": {"state": {}, "param_groups": [{"lr": 0.003, "params": [0, 1]}]},
                "best_pred": 0.7993}
    torch.save(official, path("official_like.pth.tar"), _use_new_zipfile_serialization=False)
    record("official_like", "official_like.pth.tar", {f"state_dict.{k}": v for k, v in sd.items()},
           fmt="legacy", protocol=2, state_dict="state_dict", load_check=load_weights)

    mmseg = {"meta": {"mmseg_version": "0.30.0", "CLASSES": ("road", "sidewalk"), "PALETTE": [[128, 64, 128], [244, 35, 232]]},
             "state_dict": sd}
    torch.save(mmseg, path("mmseg_like.pth"))
    record("mmseg_like", "mmseg_like.pth", {f"state_dict.{k}": v for k, v in sd.items()},
           fmt="zip", protocol=2, state_dict="state_dict", load_check=load_weights)

    prefixed = {"model": collections.OrderedDict((f"module.{k}", v) for k, v in sd.items()), "step": 10}
    torch.save(prefixed, path("module_prefix.pth"))
    record("module_prefix", "module_prefix.pth", {f"model.module.{k}": v for k, v in sd.items()},
           fmt="zip", protocol=2, state_dict="model", strip="module.", load_check=load_weights)

    args = argparse.Namespace(lr=0.01, backbone="resnet101", dilated=True)
    opaque = {"state_dict": sd, "args": args, "best_pred": np.float64(0.79), "epoch": np.int64(240)}
    torch.save(opaque, path("opaque_objects.pth"))
    record("opaque_objects", "opaque_objects.pth", {f"state_dict.{k}": v for k, v in sd.items()},
           fmt="zip", protocol=2, state_dict="state_dict",
           opaque=[("args", "argparse.Namespace"), ("best_pred", archive_bad_cases.numpy_scalar_name()),
                   ("epoch", archive_bad_cases.numpy_scalar_name())],
           load_check=lambda p: {"state_dict": torch.load(p, weights_only=False)["state_dict"]})


def legacy_cases():
    sd = small_state_dict(3)
    torch.save(sd, path("legacy.pth"), _use_new_zipfile_serialization=False)
    record("legacy", "legacy.pth", sd, fmt="legacy", protocol=2, load_check=load_weights)

    torchlike.save_legacy(sd, path("legacy_big_endian.pth"), big_endian=True)
    record("legacy_big_endian", "legacy_big_endian.pth", sd, fmt="legacy", protocol=2, load_check=load_weights)

    main, storages, tensors = archive_bad_cases.legacy_views_pickle()
    torchlike.save_legacy_raw(path("legacy_views.pth"), main, storages)
    record("legacy_views", "legacy_views.pth", tensors, fmt="legacy", protocol=2, load_check=load_weights)

    main, storages, tensors = archive_bad_cases.python2_pickle()
    torchlike.save_legacy_raw(path("python2_era.pth"), main, storages)
    record("python2_era", "python2_era.pth", tensors, fmt="legacy", protocol=2,
           opaque=[("args", "__main__.Args")],
           load_check=lambda p: {k: v for k, v in torch.load(p, weights_only=False, encoding="latin1").items()
                                 if isinstance(v, torch.Tensor)})


def torchscript_cases():
    torch.manual_seed(0)
    scripted = torch.jit.script(TinyNet().eval())
    torch.jit.save(scripted, path("torchscript.pt"))
    tensors = dict(scripted.state_dict())
    record("torchscript", "torchscript.pt", tensors, fmt="torchscript", protocol=2,
           load_check=lambda p: dict(torch.jit.load(p).state_dict()))

    # Tracing records tensors made inside forward() as constants (constants.pkl, constants/<key>).
    traced = torch.jit.trace(TinyNet().eval(), torch.zeros(1, 3, 5, 5))
    torch.jit.save(traced, path("torchscript_traced.pt"))
    constants = torch.jit.load(path("torchscript_traced.pt")).code
    assert "CONSTANTS.c0" in constants, constants
    record("torchscript_traced", "torchscript_traced.pt", dict(traced.state_dict()), fmt="torchscript", protocol=2,
           load_check=lambda p: dict(torch.jit.load(p).state_dict()))


class Args:  # the class python2_era.pth names as __main__.Args
    pass


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    zip_cases()
    dtype_cases()
    shape_cases()
    wrapper_cases()
    legacy_cases()
    torchscript_cases()
    for case, entry in archive_bad_cases.write_all(OUT).items():
        expected[case] = entry
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(expected)} cases to {os.path.normpath(OUT)} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
