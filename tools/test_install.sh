#!/usr/bin/env bash
# The README's install command into a temporary prefix, then `danet segment` and `evaluate` from
# PATH, run from another folder with nothing beside them: the bundled model comes from inside the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
PREFIX=$prefix bash tools/install.sh
cd "$work"
PATH="$prefix/bin:$PATH" danet segment "$repo/Fixtures/demo/street.png" -o out
for suffix in labels color overlay; do
    test -s "out/street_$suffix.png" || { echo "out/street_$suffix.png missing"; exit 1; }
done
mkdir images labels
cp "$repo/Fixtures/demo/street.png" images/street.png
cp "$repo/Fixtures/demo/street-label.png" labels/street.png
PATH="$prefix/bin:$PATH" danet evaluate --images images --labels labels | head -2
echo "installed danet segmented and evaluated from $work with the bundled model"
