#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and segment the bundled demo street scene with
# the bundled model, writing the class mask, the colour mask and the overlay to demo-out/. Then the
# checkpoint tools: inspect a legacy checkpoint in the layout of the released official DANet101,
# convert it to safetensors, convert the bundled model's checkpoint to a native .danet model file and
# segment the scene again with it (the same result), show which kernels this CPU runs, and show a
# hostile checkpoint being refused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh
swift build -c release --product danet
mkdir -p demo-out
.build/release/danet segment Fixtures/demo/street.png -o demo-out
echo "colour mask: demo-out/street_color.png   overlay: demo-out/street_overlay.png   classes: demo-out/street_labels.png"
echo
.build/release/danet inspect Fixtures/archive/official_like.pth.tar
echo
.build/release/danet convert Fixtures/archive/official_like.pth.tar demo-out/official_like.safetensors
echo
.build/release/danet convert Sources/CDemoModel/model/default-street-danet.pth demo-out/street.danet
.build/release/danet segment Fixtures/demo/street.png --weights demo-out/street.danet --dataset street -o demo-out/from-danet
echo
.build/release/danet info
echo
echo "A checkpoint that tries to run a shell command is refused, and nothing runs:"
.build/release/danet inspect Fixtures/archive/hostile_zip_posix_system.pth || true
