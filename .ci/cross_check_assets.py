"""Cross-check: every digest in the repository's SHA256SUMS that the outside asset folder
also publishes (matched by file name and digest) agrees with it; exit 1 on a mismatch."""

from __future__ import annotations

import sys
from pathlib import Path


def read(path: str) -> dict[str, str]:
    sums = {}
    for line in Path(path).read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    return sums


def main(ours_path: str, theirs_path: str) -> int:
    ours, theirs = read(ours_path), read(theirs_path)
    # The same file lives under data/ here and datasets/ there, model_zoo/weights/ here
    # and weights/ there.
    renamed = {
        name.replace("datasets/", "data/", 1)
        if name.startswith("datasets/")
        else "model_zoo/" + name
        if name.startswith("weights/")
        else name: digest
        for name, digest in theirs.items()
    }
    bad = [n for n, d in ours.items() if n in renamed and renamed[n] != d]
    for name in bad:
        print(f"checksum differs from the outside assets: {name}", file=sys.stderr)
    shared = sum(n in renamed for n in ours)
    print(f"cross-checked {shared} bundled files against the outside assets")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
