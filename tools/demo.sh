#!/usr/bin/env bash
# The main job on a fresh machine: install, build, then inspect a bundled legacy checkpoint
# (the layout of the released official DANet101), convert it to safetensors, run a small bundled
# DANet on a tensor, and show a hostile checkpoint being refused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-system-deps.sh
swift build -c release --product danet
mkdir -p demo-out
.build/release/danet inspect Fixtures/archive/official_like.pth.tar
echo
.build/release/danet convert Fixtures/archive/official_like.pth.tar demo-out/official_like.safetensors
echo
.build/release/danet inspect demo-out/official_like.safetensors
echo
echo "A small bundled DANet (official layout, R50 at width 8) on a 2 x 3 x 97 x 130 tensor:"
.build/release/danet infer --weights Fixtures/danet/official_resnet7_r50.pth.tar \
    --input Fixtures/danet/official_resnet7_r50.golden.safetensors --output demo-out/logits.safetensors
echo
echo "A checkpoint that tries to run a shell command is refused, and nothing runs:"
.build/release/danet inspect Fixtures/archive/hostile_zip_posix_system.pth || true
