"""The documentation stays inside the repository: every relative link in README.md, docs/*.md and
examples/*.md resolves to a file of the repository (and a #fragment to a heading of it), none
points outside, and no file refers to the design notes that live outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the outside design notes' file name (spelled in two parts so that this file does not match)
OUTSIDE_NOTES = "DESIGN" + ".md"
_SKIPPED_DIRS = {".git", ".venv", ".venv-brownie", "node_modules", "build", "__pycache__",
                 ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}

_LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def _documents() -> list[Path]:
    found = [ROOT / "README.md"]
    for folder in ("docs", "examples"):
        found += sorted((ROOT / folder).glob("*.md"))
    return found


def _repository_files() -> list[Path]:
    """The repository's files: git's list when it is a checkout, else a walk of the tree."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                                capture_output=True, text=True, check=False)
        if listed.returncode == 0:
            return [ROOT / line for line in listed.stdout.splitlines() if line]
    files: list[Path] = []
    for folder, dirs, names in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not d.endswith(".egg-info")]
        files += [Path(folder) / name for name in names]
    return files


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)}


def _links(path: Path) -> list[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    return [*_LINK.findall(text), *_IMAGE.findall(text), *_REFERENCE.findall(text)]


def _problems(path: Path) -> list[str]:
    problems: list[str] = []
    root = ROOT.resolve()
    for target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:
            if target.lower().startswith("file:"):
                problems.append(f"{target}: a file: URL points outside the repository")
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path.resolve()
        if file_part.startswith("/") or not resolved.is_relative_to(root):
            problems.append(f"{target}: points outside the repository")
            continue
        if not resolved.exists():
            problems.append(f"{target}: {resolved.relative_to(root)} does not exist")
            continue
        if fragment and resolved.suffix == ".md" and fragment not in _anchors(resolved):
            problems.append(f"{target}: no heading #{fragment} in {resolved.relative_to(root)}")
    return problems


@pytest.mark.parametrize("document", _documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(document: Path) -> None:
    assert _problems(document) == []


def test_the_documentation_index_exists_and_is_linked() -> None:
    assert (ROOT / "docs" / "README.md").is_file()
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert "docs/architecture.md" in _links(ROOT / "README.md")
    assert "architecture.md" in _links(ROOT / "docs" / "README.md")


def test_the_checker_catches_bad_links(tmp_path: Path) -> None:
    bad = ROOT / "docs" / "_probe_links.md"
    bad.write_text("[a](missing.md) [b](../../outside.md) [c](architecture.md#no-such-heading)\n"
                   "[d](/etc/passwd) [ok](architecture.md#the-payment-model) "
                   "[web](https://example.org) `[code](nowhere.md)`\n", encoding="utf-8")
    try:
        found = _problems(bad)
    finally:
        bad.unlink()
    assert [p.split(":")[0] for p in found] == [
        "missing.md", "../../outside.md", "architecture.md#no-such-heading", "/etc/passwd"]


def test_no_file_refers_to_the_outside_design_notes() -> None:
    offenders: list[str] = []
    for path in _repository_files():
        if not path.is_file() or path.suffix in {".png", ".jpg", ".ico"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if OUTSIDE_NOTES.lower() in text.lower():
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == [], (f"these files refer to {OUTSIDE_NOTES}, which is not in the "
                             f"repository: {offenders}")
