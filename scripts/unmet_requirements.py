#!/usr/bin/env python3
"""Print munibond's runtime requirements (pyproject.toml) that this Python environment lacks.

`make brownie` installs munibond into brownie's environment with `--no-deps` (brownie pins web3,
eth-account, ...) and then only what this prints, constrained to the versions already installed.
One requirement per line; nothing when everything is there.
"""

from __future__ import annotations

import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def unmet(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    missing: list[str] = []
    for spec in project.get("dependencies", []):
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            missing.append(spec)
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            missing.append(spec)
    return missing


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    print("\n".join(unmet(root / "pyproject.toml")))
    sys.exit(0)
