#!/usr/bin/env bash
# Builds the DocC documentation of every library with swift-docc-plugin and fails on any warning
# (an unresolved link, a parameter documented wrongly or not at all), then checks that every public
# declaration has a doc comment (tools/check_docs.py, on the symbol graphs DocC read).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for target in DANetSupport TorchArchive DANetModel Segmentation Imaging ImageCodecs DANetServer; do
    log=$(mktemp)
    swift package generate-documentation --target "$target" >"$log" 2>&1 || { cat "$log"; exit 1; }
    # The package manager's notes about files inside dependencies' checkouts are not DocC's.
    grep -v "^warning: '[^']*': found [0-9]* file(s) which are unhandled" "$log" | grep -v "^    .*/\.build/checkouts/" >"$log.own" || true
    if grep -q "warning:" "$log.own"; then
        echo "== DocC warnings for $target:"
        grep -A4 "warning:" "$log.own"
        status=1
    else
        echo "$target: documentation built without warnings"
    fi
    rm -f "$log" "$log.own"
done
symbols=$(dirname "$(ls -d .build/*/extracted-symbols/*/TorchArchive | head -1)")
python3 tools/check_docs.py "$symbols" || status=1
exit $status
