#!/usr/bin/env bash
# Builds the DocC documentation of every library with swift-docc-plugin and fails on any warning
# (an unresolved link, a parameter documented wrongly or not at all), then checks that every public
# declaration has a doc comment (tools/check_docs.py, on the symbol graphs DocC read).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for target in DANetSupport TorchArchive DANetModel Segmentation Imaging ImageCodecs; do
    log=$(mktemp)
    swift package generate-documentation --target "$target" >"$log" 2>&1 || { cat "$log"; exit 1; }
    if grep -q "warning:" "$log"; then
        echo "== DocC warnings for $target:"
        grep -A4 "warning:" "$log"
        status=1
    else
        echo "$target: documentation built without warnings"
    fi
    rm -f "$log"
done
symbols=$(dirname "$(ls -d .build/*/extracted-symbols/*/TorchArchive | head -1)")
python3 tools/check_docs.py "$symbols" || status=1
exit $status
