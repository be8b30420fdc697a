"""The compiled contracts shipped inside the package (``munibond/artifacts/*.json``).

``munibond build`` writes them (see :mod:`munibond.build`); this module only reads them, so the SDK
needs no compiler. Artifacts are loaded once and cached.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from munibond.exceptions import BuildError

__all__ = ["Artifact", "artifact_names", "clear_cache", "load_artifact", "read_artifact"]

_BUILD_INFO = "build-info.json"
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _code(hex_code: str, refs: Mapping[str, Any]) -> bytes:
    """Bytes of the code; unlinked library placeholders (``__$…$__``) become zero bytes."""
    body = hex_code[2:] if hex_code.startswith("0x") else hex_code
    if refs:
        body = re.sub(r"__\$[0-9a-fA-F]{34}\$__", "0" * 40, body)
    return bytes.fromhex(body)


@dataclass(frozen=True, eq=False)
class Artifact:
    """One compiled, deployable contract."""

    name: str
    source_name: str
    abi: tuple[dict[str, Any], ...]  # plain dicts, as web3 wants them: do not modify
    bytecode: bytes  # init code
    deployed_bytecode: bytes  # runtime code
    method_identifiers: Mapping[str, str]  # "transfer(address,uint256)" -> "a9059cbb"
    devdoc: Mapping[str, Any]
    userdoc: Mapping[str, Any]
    storage_layout: Mapping[str, Any]
    metadata: str  # solc's metadata JSON, exactly as solc gave it
    compiler_version: str
    compiler_settings: Mapping[str, Any]
    link_references: Mapping[str, Any]  # libraries to link into ``bytecode`` (usually none)

    @property
    def selectors(self) -> Mapping[str, bytes]:
        """Function signature -> 4-byte selector."""
        return MappingProxyType(
            {sig: bytes.fromhex(sel) for sig, sel in self.method_identifiers.items()})

    @property
    def needs_linking(self) -> bool:
        return bool(self.link_references)

    def linked_bytecode(self, libraries: Mapping[str, str]) -> bytes:
        """Init code with library addresses filled in; ``libraries`` maps library name (or
        ``source:name``) to a 0x address."""
        code = bytearray(self.bytecode)
        for source, by_name in self.link_references.items():
            for lib, spots in by_name.items():
                address = libraries.get(f"{source}:{lib}") or libraries.get(lib)
                if address is None:
                    raise BuildError(f"{self.name} needs library {lib} ({source}) linked")
                raw = bytes.fromhex(address[2:] if address.startswith("0x") else address)
                if len(raw) != 20:
                    raise BuildError(f"library address for {lib} is not 20 bytes: {address}")
                for spot in spots:
                    code[spot["start"]:spot["start"] + spot["length"]] = raw
        return bytes(code)


def read_artifact(path: Path) -> Artifact:
    """An artifact from a file (``load_artifact`` reads the package's own)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"no artifact at {path}: run `munibond build`") from None
    except (OSError, ValueError) as exc:
        raise BuildError(f"cannot read artifact {path}: {exc}; run `munibond build`") from exc
    return _from_json(raw, str(path))


def _from_json(raw: Any, where: str) -> Artifact:
    try:
        refs = raw.get("linkReferences") or {}
        return Artifact(
            name=raw["contractName"],
            source_name=raw["sourceName"],
            abi=tuple(raw["abi"]),
            bytecode=_code(raw["bytecode"], refs),
            deployed_bytecode=_code(raw["deployedBytecode"],
                                    raw.get("deployedLinkReferences") or {}),
            method_identifiers=MappingProxyType(dict(raw.get("methodIdentifiers", {}))),
            devdoc=_frozen(raw.get("devdoc", {})),
            userdoc=_frozen(raw.get("userdoc", {})),
            storage_layout=_frozen(raw.get("storageLayout", {})),
            metadata=raw.get("metadata", ""),
            compiler_version=raw["compiler"]["version"],
            compiler_settings=_frozen(raw["compiler"]["settings"]),
            link_references=_frozen(refs),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BuildError(
            f"artifact {where} is malformed ({exc!r}): run `munibond build`") from exc


def _folder() -> Any:
    return resources.files("munibond").joinpath("artifacts")


@functools.cache
def artifact_names() -> tuple[str, ...]:
    """Names of the contracts the package ships artifacts for, sorted."""
    folder = _folder()
    if not folder.is_dir():
        return ()
    return tuple(sorted(
        entry.name[:-5] for entry in folder.iterdir()
        if entry.name.endswith(".json") and entry.name != _BUILD_INFO))


@functools.cache
def load_artifact(name: str) -> Artifact:
    """The artifact of contract ``name`` (e.g. ``"BondToken"``), cached."""
    if not _NAME.match(name):
        raise BuildError(f"{name!r} is not a contract name")
    entry = _folder().joinpath(f"{name}.json")
    if not entry.is_file():
        known = artifact_names()
        if not known:
            raise BuildError(
                f"no compiled artifact for {name}: the package has no artifacts at all; "
                f"run `munibond build` (or `make build`)")
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise BuildError(
            f"no compiled artifact for {name}{hint}: run `munibond build` if the contract is new; "
            f"artifacts: {', '.join(known)}")
    where = f"munibond/artifacts/{name}.json"
    try:
        raw = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildError(f"cannot read {where}: {exc}; run `munibond build`") from exc
    return _from_json(raw, where)


def clear_cache() -> None:
    """Forget loaded artifacts (after a build in the same process)."""
    load_artifact.cache_clear()
    artifact_names.cache_clear()
