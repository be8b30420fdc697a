"""Where the deployment records are, wherever a command runs.

The records of a project (``deployments/<network>/platform.json``, ``<bond code>.json``) are
found, in this order:

1. an explicit folder: ``--deployments DIR`` (CLI and scripts);
2. the environment variable ``MUNIBOND_DEPLOYMENTS``;
3. the project's folder, found by walking up from the current directory (as git finds its
   repository): the nearest folder whose ``deployments/`` holds munibond records (a
   ``deployments/<network>/platform.json`` written by munibond); failing that, the nearest folder
   with a ``deployments/`` folder next to a ``pyproject.toml`` or a ``.git`` (a project checkout
   that has not deployed yet);
4. ``deployments/`` in the current directory (created by the first deployment).

The root is always absolute, so every message and every record written names an absolute path;
:meth:`RecordsRoot.describe` says which rule found it and where else it looked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEPLOYMENTS_DIR", "DEPLOYMENTS_ENV", "RecordsRoot", "find_records_root"]

DEPLOYMENTS_ENV = "MUNIBOND_DEPLOYMENTS"
DEPLOYMENTS_DIR = "deployments"
_PROJECT_MARKERS = ("pyproject.toml", ".git")


@dataclass(frozen=True)
class RecordsRoot:
    """The deployment records' root folder (absolute) and how it was chosen."""

    path: Path
    #: "option", "environment", "project" or "current directory"
    source: str
    #: the folders looked at while walking up (empty unless the walk ran)
    searched: tuple[Path, ...] = ()

    def describe(self) -> str:
        """How the root was found, in words, with absolute paths."""
        if self.source == "option":
            return f"deployment records in {self.path} (--deployments)"
        if self.source == "environment":
            return f"deployment records in {self.path} ({DEPLOYMENTS_ENV})"
        if self.source == "project":
            return (f"deployment records in {self.path} (the project folder found above the "
                    f"current directory)")
        looked = self.searched[0] if self.searched else self.path.parent
        top = self.searched[-1] if self.searched else looked
        return (f"deployment records in {self.path} (the current directory: no deployments/ "
                f"folder with munibond records from {looked} up to {top}; give --deployments "
                f"DIR or set {DEPLOYMENTS_ENV})")


def _has_records(directory: Path) -> bool:
    """Whether ``directory`` (a deployments folder) holds a munibond platform record."""
    try:
        candidates = sorted(directory.glob("*/platform.json"))
    except OSError:
        return False
    for file in candidates:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and str(data.get("format", "")).startswith("munibond-"):
            return True
    return False


def find_records_root(explicit: str | os.PathLike[str] | None = None, *,
                      explicit_source: str = "option",
                      environ: Mapping[str, str] | None = None,
                      cwd: str | os.PathLike[str] | None = None) -> RecordsRoot:
    """The deployment records' root (see the module docstring for the order).

    ``explicit`` is the ``--deployments`` value (``explicit_source="environment"`` when it came
    from the environment variable); ``environ`` and ``cwd`` default to the process's.
    """
    here = Path(cwd) if cwd is not None else Path.cwd()
    here = here.resolve()
    if explicit is not None and str(explicit).strip():
        return RecordsRoot((here / Path(explicit).expanduser()).resolve(), explicit_source)
    env = os.environ if environ is None else environ
    from_env = env.get(DEPLOYMENTS_ENV, "").strip()
    if from_env:
        return RecordsRoot((here / Path(from_env).expanduser()).resolve(), "environment")
    searched = (here, *here.parents)
    for folder in searched:
        candidate = folder / DEPLOYMENTS_DIR
        if candidate.is_dir() and _has_records(candidate):
            return RecordsRoot(candidate, "project", searched)
    for folder in searched:
        candidate = folder / DEPLOYMENTS_DIR
        if candidate.is_dir() and any((folder / m).exists() for m in _PROJECT_MARKERS):
            return RecordsRoot(candidate, "project", searched)
    return RecordsRoot(here / DEPLOYMENTS_DIR, "current directory", searched)
