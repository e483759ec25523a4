#!/usr/bin/env bash
# Installs danet: the system libraries it links (apt-get), a release build with the Swift runtime
# linked in statically, and the binary copied to $PREFIX/bin (default ~/.local/bin). The bundled
# street model is inside the binary, so the copy segments from any folder, alone.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-$HOME/.local}
bash tools/install-system-deps.sh
swift build -c release --product danet --static-swift-stdlib
install -D -m 755 .build/release/danet "$prefix/bin/danet"
echo "installed $prefix/bin/danet ($("$prefix/bin/danet" --version))"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "$prefix/bin is not on PATH; add it with: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
