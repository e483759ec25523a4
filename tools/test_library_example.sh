#!/usr/bin/env bash
# The README's "Use it as a library" example, compiled in Swift 6 mode as a package of its own that
# depends on this one by path, and run on Fixtures/library. First checks that the README shows
# exactly the example's source, so the two cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."
example=Examples/LibraryExample
source=$example/Sources/LibraryExample/main.swift

shown=$(awk '/<!-- library-example -->/ { found = 1; next } found && /^```swift/ { inside = 1; next } inside && /^```/ { exit } inside' README.md)
if [ "$shown" != "$(cat "$source")" ]; then
    echo "README's library example differs from $source:"
    diff <(echo "$shown") "$source" || true
    exit 1
fi

swift build -c release --package-path "$example" --scratch-path .build-example
binary=$(swift build -c release --package-path "$example" --scratch-path .build-example --show-bin-path)/LibraryExample

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp Fixtures/library/danet101.pth.tar Fixtures/library/street.jpg "$work"/
(cd "$work" && "$binary") | tee "$work/stdout"
python3 - "$work" <<'PY'
import struct, sys
work = sys.argv[1]
lines = open(f"{work}/stdout").read().splitlines()
assert lines[0] == "[4, 3, 7, 7] float32 588", lines[0]
width, height, label = lines[1].split(" ", 2)
assert (width, height) == ("256", "128"), lines[1]
assert 0 <= int(label) < 19, lines[1]
for name in ("color.png", "overlay.png"):
    data = open(f"{work}/{name}", "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", name
    assert struct.unpack(">II", data[16:24]) == (256, 128), name
print("library example: ran, printed the expected lines, wrote color.png and overlay.png (256 x 128)")
PY
