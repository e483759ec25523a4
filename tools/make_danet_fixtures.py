#!/usr/bin/env python3
"""Writes Fixtures/danet/: small DANets in both key layouts and all three stems, with golden outputs.

    .venv/bin/python tools/make_danet_fixtures.py

Each case is a reduced-width model from tools/danet_reference.py with random weights, realistic BN
statistics and non-zero attention gammas, saved the way such checkpoints are found in the wild, plus
`<case>.golden.safetensors` holding the input (2 x 3 x 97 x 130, not a multiple of 8), the three
outputs (fused, pam and cam logits) and the intermediate stages c1..c4, pam and cam, so that a
failing parity test points at its layer. cases.json records each case's configuration.
"""

import collections
import json
import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from danet_reference import DANet, randomize, to_mmseg  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "danet")

CASES = [
    # name, depth, stem, width, layer4 dilations, align_corners, layout, file, how it is saved
    ("official_resnet7_r50", 50, "resnet7", 8, (4, 8, 16), True, "official", "official_resnet7_r50.pth.tar", "legacy-wrapped"),
    ("official_deep_r50", 50, "deep", 8, (4, 8, 16), True, "official", "official_deep_r50.pth", "zip-module-prefix"),
    ("mmseg_v1c_r50", 50, "v1c", 8, (2, 4, 4), False, "mmseg", "mmseg_v1c_r50.pth", "mmseg"),
    ("official_resnet7_r101", 101, "resnet7", 4, (4, 8, 16), True, "official", "official_resnet7_r101.pt", "zip-plain"),
]
CLASSES = 5


def save(state, path, how, seed):
    g = torch.Generator().manual_seed(seed)
    if how == "legacy-wrapped":
        # The released official DANet101: legacy format, the training wrapper, stale fc/auxlayer weights.
        state = collections.OrderedDict(state)
        width = state["pretrained.layer4.0.conv3.weight"].shape[0]
        state["pretrained.fc.weight"] = torch.randn(10, width, generator=g)
        state["pretrained.fc.bias"] = torch.randn(10, generator=g)
        state["auxlayer.conv5.0.weight"] = torch.randn(4, 8, 3, 3, generator=g)
        torch.save({"epoch": 240, "state_dict": state, "optimizer": {"state": {}, "param_groups": []}, "best_pred": 0.7993},
                   path, _use_new_zipfile_serialization=False)
    elif how == "zip-module-prefix":
        torch.save({"model": collections.OrderedDict((f"module.{k}", v) for k, v in state.items())}, path)
    elif how == "mmseg":
        state = to_mmseg(state)
        state["auxiliary_head.convs.0.conv.weight"] = torch.randn(4, 8, 3, 3, generator=g)
        torch.save({"meta": {"mmseg_version": "0.30.0", "CLASSES": tuple(f"class{i}" for i in range(CLASSES))},
                    "state_dict": state}, path)
    else:
        torch.save(state, path)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    cases = {}
    for index, (name, depth, stem, width, dilations, align, layout, file, how) in enumerate(CASES):
        model = randomize(DANet(depth, stem, CLASSES, width, dilations, align), seed=index)
        save(model.state_dict(), os.path.join(OUT, file), how, seed=100 + index)  # float32 weights
        x = torch.randn(2, 3, 97, 130, generator=torch.Generator().manual_seed(1000 + index))
        # The golden values are computed in float64 and stored as float32: the reference side then
        # adds no rounding of its own, and the test measures only the Swift side's float32 error.
        with torch.no_grad():
            fused, pam, cam, stages = model.double()(x.double(), capture=True)
        golden = {"input": x, "logits": fused, "pam_logits": pam, "cam_logits": cam}
        golden.update({f"stage.{k}": v for k, v in stages.items()})
        save_file({k: v.float().contiguous() for k, v in golden.items()}, os.path.join(OUT, f"{name}.golden.safetensors"))
        cases[name] = {"file": file, "golden": f"{name}.golden.safetensors", "layout": layout, "depth": depth, "stem": stem,
                       "width": width, "classes": CLASSES, "layer4Dilations": list(dilations), "alignCorners": align}
        print(f"{name}: {file} ({os.path.getsize(os.path.join(OUT, file)) / 1e6:.2f} MB), "
              f"max|logits| {fused.abs().max().item():.3g}")
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(cases)} cases to {os.path.normpath(OUT)} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
