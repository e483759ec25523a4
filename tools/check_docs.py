#!/usr/bin/env python3
"""Fails unless every public declaration of the libraries has a doc comment.

    python3 tools/check_docs.py .build/<triple>/extracted-symbols/<package>

Reads the symbol graphs that `swift package generate-documentation` extracted. A member that only
implements a standard protocol (`description`, `==`, a collection's indices, ...) is exempt: DocC
shows the protocol's documentation for it.
"""

import glob
import json
import os
import sys

LIBRARIES = ["DANetSupport", "TorchArchive", "DANetModel", "Segmentation", "Imaging", "ImageCodecs", "DANetServer"]
INHERITED = {"description", "==(_:_:)", "hash(into:)", "startIndex", "endIndex", "subscript(_:)",
             "init(from:)", "encode(to:)", "hashValue", "index(after:)", "index(before:)"}


def main():
    folder = sys.argv[1]
    missing = []
    checked = 0
    for library in LIBRARIES:
        for path in glob.glob(os.path.join(folder, library, f"{library}*.symbols.json")):
            graph = json.load(open(path))
            for symbol in graph["symbols"]:
                if symbol.get("accessLevel") not in ("public", "open"):
                    continue
                name = symbol["names"]["title"]
                checked += 1
                if symbol.get("docComment") or name in INHERITED:
                    continue
                # Positional subscripts of a collection are the protocol's.
                if name.startswith("subscript(") and "position" in json.dumps(symbol.get("functionSignature", {})):
                    continue
                if "location" not in symbol:
                    continue  # inherited from a standard protocol, documented there
                location = symbol["location"]["uri"].split("/Sources/")[-1]
                missing.append(f"{library}: {'.'.join(symbol['pathComponents'])} ({location})")
    for line in sorted(set(missing)):
        print("no doc comment:", line)
    print(f"{checked} public declarations checked, {len(set(missing))} without a doc comment")
    return 1 if missing or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
