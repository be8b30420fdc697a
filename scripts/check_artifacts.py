#!/usr/bin/env python3
"""Rebuild the contracts in a temporary folder and compare with the committed artifacts.

Exits 0 when every file in munibond/artifacts/ is reproduced byte for byte, 1 with the
differences listed otherwise, 2 when the build itself fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

from munibond.build import check
from munibond.exceptions import BuildError


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    try:
        differences = check(root)
    except BuildError as exc:
        print(f"check-artifacts: the build failed: {exc}", file=sys.stderr)
        return 2
    if differences:
        print("check-artifacts: the committed artifacts are not what the sources compile to:",
              file=sys.stderr)
        for line in differences:
            print(f"  {line}", file=sys.stderr)
        print("run `munibond build` (or `make build`) and commit munibond/artifacts/",
              file=sys.stderr)
        return 1
    print("check-artifacts: munibond/artifacts/ reproduced byte for byte from the sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
