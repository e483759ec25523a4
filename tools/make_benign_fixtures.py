#!/usr/bin/env python3
"""Writes Fixtures/benign/: checkpoints as people hold them, with more than tensors in them, that
the allow list must pass in --strict mode: numpy arrays, scalars and dtypes (numpy 2 and numpy 1
module paths), argparse.Namespace, omegaconf configs, mmengine's HistoryBuffer and ConfigDict,
pathlib paths, datetimes, typing.Any, collections.defaultdict, a pickled torch.nn model, and the
EMA and model_state wrappers. expected.json: each file's verdict and the state dict path.

    .venv/bin/python tools/make_benign_fixtures.py    (needs numpy and omegaconf)
"""

import argparse
import collections
import datetime
import io
import json
import os
import pathlib
import sys
import typing

import numpy as np
import torch
import torch.nn as nn
from omegaconf import OmegaConf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchlike  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "benign")


def weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return collections.OrderedDict([("conv.weight", torch.randn(4, 3, 3, 3, generator=g)), ("conv.bias", torch.randn(4, generator=g))])


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    cases = {}

    def save(name, obj, verdict, state_dict, legacy=False):
        path = os.path.join(OUT, name)
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        cases[name] = {"verdict": verdict, "stateDict": state_dict}

    save("numpy_objects.pth", {"state_dict": weights(), "mean": np.array([0.5, 0.25], dtype=np.float32),
                               "best": np.float64(0.7993), "epoch": np.int64(240), "kind": np.dtype("float32")},
         "known-data", "state_dict")
    # numpy 1 wrote its module as numpy.core; the same file with those paths.
    buffer = io.BytesIO()
    torch.save({"state_dict": weights(1), "mean": np.arange(3.0), "best": np.float32(0.5)}, buffer,
               _use_new_zipfile_serialization=False)
    with open(os.path.join(OUT, "numpy1_paths.pth"), "wb") as f:
        f.write(buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    cases["numpy1_paths.pth"] = {"verdict": "known-data", "stateDict": "state_dict"}

    save("argparse_namespace.pth.tar", {"state_dict": weights(2), "args": argparse.Namespace(lr=0.01, dataset="cityscapes")},
         "known-data", "state_dict", legacy=True)
    config = OmegaConf.create({"model": {"depth": 101, "classes": 19}, "train": {"lr": 0.01, "steps": [1, 2]}})
    save("omegaconf_config.pth", {"state_dict": weights(3), "cfg": config}, "known-data", "state_dict")
    save("python_values.pth", {"model_state": weights(4), "log_dir": pathlib.PurePosixPath("/runs/danet"),
                               "saved": datetime.datetime(2026, 12, 2, 13, 22), "elapsed": datetime.timedelta(hours=3),
                               "hint": typing.Any, "counts": collections.defaultdict(int, {"a": 1})},
         "known-data", "model_state")
    save("torch_nn_model.pth", nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()), "known-data", "")
    save("ema_wrapper.pth", {"state_dict_ema": weights(5), "optimizer": {"state": {}, "param_groups": [{"lr": 0.1}]}},
         "weights-only", "state_dict_ema")
    save("params_ema.pth", {"params_ema": weights(6), "params": weights(7)}, "weights-only", "params_ema")
    save("model_state_dict.pth", {"model_state_dict": weights(8), "epoch": 3}, "weights-only", "model_state_dict")
    save("bare_tensor.pth", torch.arange(6.0).reshape(2, 3), "weights-only", "")

    # mmengine's HistoryBuffer and ConfigDict as mmengine pickles them (instance, then BUILD with
    # its __dict__), assembled here so the generator does not need mmengine.
    asm = torchlike.Asm(2).op(b"}").unicode("message_hub")
    asm.global_("mmengine.logging.history_buffer", "HistoryBuffer").op(b")\x81}").unicode("max_length").binint(1000).op(b"s")
    asm.unicode("_log_history").op(b"]").binint(3).op(b"a").op(b"s").op(b"b").op(b"s")
    asm.unicode("cfg").global_("mmengine.config.config", "ConfigDict").op(b")\x81}").unicode("type").unicode("DANet").op(b"s").op(b"b").op(b"s")
    torchlike.write_zip(os.path.join(OUT, "mmengine_objects.pth"), [("archive/data.pkl", asm.stop()), ("archive/byteorder", b"little")])
    cases["mmengine_objects.pth"] = {"verdict": "known-data", "stateDict": ""}

    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
