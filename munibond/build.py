"""Compile the project's Solidity contracts into committed, reproducible artifacts.

One standard-JSON compile of every ``.sol`` file under ``contracts/`` (through py-solc-x), with
source unit names relative to the project root, so the output is byte for byte the same on every
clone and every machine. The compiler is a native ``solc`` 0.8.37 where one is installed, else
solc-js (npm ``solc``) behind ``munibond/adapter/solc.js``, which answers like native solc; both
give the same bytecode.

Outputs, under ``munibond/artifacts/``:

- ``<ContractName>.json`` for every deployable contract of the project (interfaces, abstract
  contracts, internal-only libraries and everything from ``node_modules`` are skipped);
- ``build-info.json``: compiler version, settings, the sha256 of every source file that went into
  the compile (the project's and the imported ones) and of every artifact written. A build whose
  inputs match it is skipped.

``check()`` compiles afresh into a temporary folder and compares every file byte for byte with the
committed ones: that is how an auditor verifies that the artifacts come from the sources.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from munibond.exceptions import BuildError

__all__ = [
    "ARTIFACT_FORMAT",
    "BUILD_INFO_FORMAT",
    "EIP170_LIMIT",
    "EIP3860_LIMIT",
    "EVM_VERSION",
    "OPTIMIZER_RUNS",
    "REMAPPINGS",
    "SOLC_VERSION",
    "BuildResult",
    "Compiler",
    "build",
    "check",
    "compiler_settings",
    "find_compiler",
    "find_project_root",
    "solc_binary_dir",
]

SOLC_VERSION = "0.8.37"
EVM_VERSION = "paris"  # no PUSH0: consortium chains on Clique/London-era forks lack it
OPTIMIZER_RUNS = 200
REMAPPINGS: tuple[str, ...] = (
    "@openzeppelin/contracts-upgradeable/=node_modules/@openzeppelin/contracts-upgradeable/",
    "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/",
)
EIP170_LIMIT = 24_576  # bytes of deployed (runtime) code
EIP3860_LIMIT = 2 * EIP170_LIMIT  # bytes of init code (Shanghai and later)

ARTIFACT_FORMAT = "munibond-artifact-1"
BUILD_INFO_FORMAT = "munibond-build-info-1"
BUILD_INFO = "build-info.json"
ARTIFACTS_SUBDIR = Path("munibond") / "artifacts"
CONTRACTS_SUBDIR = "contracts"
SHIM_DIR = ".solc"

CONTRACT_OUTPUTS: tuple[str, ...] = (
    "abi",
    "devdoc",
    "evm.bytecode.linkReferences",
    "evm.bytecode.object",
    "evm.deployedBytecode.linkReferences",
    "evm.deployedBytecode.object",
    "evm.methodIdentifiers",
    "metadata",
    "storageLayout",
    "userdoc",
)

_VERSION_RE = re.compile(r"Version:\s*(\d+\.\d+\.\d+)(?:-[\w.]+)?(\+commit\.[0-9a-f]+)")
_ADAPTER = Path(__file__).resolve().parent / "adapter" / "solc.js"

Json = dict[str, Any]


def compiler_settings() -> Json:
    """The compiler settings every build uses (standard JSON ``settings`` minus the selection)."""
    return {
        "evmVersion": EVM_VERSION,
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "remappings": list(REMAPPINGS),
    }


# --------------------------------------------------------------------------------------------
# project and compiler


def find_project_root(start: Path | None = None) -> Path:
    """The munibond source checkout: the folder holding ``pyproject.toml`` and ``package.json``.

    With ``start`` given, that folder or the nearest parent that has a ``contracts/`` folder;
    otherwise the checkout this package was imported from.
    """
    if start is not None:
        start = start.resolve()
        for folder in (start, *start.parents):
            if (folder / CONTRACTS_SUBDIR).is_dir():
                return folder
        raise BuildError(f"no contracts/ folder in {start} or above it")
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "package.json").is_file():
        return root
    raise BuildError(
        "munibond is not running from a source checkout, so there is nothing to build: "
        "pass project_root, or run from a clone of the munibond repository")


@dataclass(frozen=True)
class Compiler:
    """The ``solc`` executable a build hands to py-solc-x."""

    path: Path
    version: str  # long form without the platform: "0.8.37+commit.f401782d"
    kind: Literal["native", "solc-js"]

    def describe(self) -> str:
        how = "native" if self.kind == "native" else "solc-js through munibond/adapter/solc.js"
        return f"solc {self.version} ({how}: {self.path})"


def _is_script(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return True


def _version_of(binary: Path) -> str | None:
    """``0.8.37+commit.f401782d`` from ``binary --version``, or None if it does not answer."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION_RE.search(out.stdout)
    return match.group(1) + match.group(2) if match else None


def _solcx_install_folder() -> Path:
    # as solcx.get_solcx_install_folder(), without creating ~/.solcx as a side effect
    env = os.environ.get("SOLCX_BINARY_PATH")
    return Path(env) if env else Path.home() / ".solcx"


def _native_candidates() -> Iterable[Path]:
    on_path = shutil.which("solc")
    if on_path:
        yield Path(on_path)
    yield _solcx_install_folder() / f"solc-v{SOLC_VERSION}"


def _find_native() -> Compiler | None:
    for candidate in _native_candidates():
        if not (candidate.is_file() and os.access(candidate, os.X_OK)):
            continue
        if _is_script(candidate.resolve()):  # a shim like ours, not a real binary
            continue
        version = _version_of(candidate)
        if version and version.split("+")[0] == SOLC_VERSION:
            return Compiler(candidate.resolve(), version, "native")
    return None


def _shim_text(node: str, project_root: Path) -> str:
    solcjs = shlex.quote(str(project_root / "node_modules" / "solc"))
    return (
        "#!/bin/sh\n"
        "# generated by munibond.build: solc-js behind a native-solc command line (do not edit)\n"
        f"[ -n \"${{MUNIBOND_SOLCJS:-}}\" ] || MUNIBOND_SOLCJS={solcjs}\n"
        "export MUNIBOND_SOLCJS\n"
        f"exec {shlex.quote(node)} {shlex.quote(str(_ADAPTER))} \"$@\"\n"
    )


def _write_if_changed(path: Path, data: bytes, mode: int | None = None) -> bool:
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        if mode is not None and (path.stat().st_mode & 0o777) != mode:
            path.chmod(mode)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    if mode is not None:
        tmp.chmod(mode)
    os.replace(tmp, path)
    return True


def _solcjs_shim(project_root: Path) -> Compiler:
    node = shutil.which("node")
    package = project_root / "node_modules" / "solc" / "package.json"
    if node is None:
        raise BuildError(
            f"no Solidity compiler: neither a native solc {SOLC_VERSION} nor Node.js (`node` on "
            f"PATH, for solc-js) is installed. Install Node.js 20 and run `npm ci`, or install "
            f"solc {SOLC_VERSION}")
    if not package.is_file():
        raise BuildError(
            f"solc-js is missing ({package.parent} not found): run `npm ci` in {project_root}")
    installed = json.loads(package.read_text(encoding="utf-8")).get("version")
    if installed != SOLC_VERSION:
        raise BuildError(
            f"node_modules/solc is version {installed}, the project pins {SOLC_VERSION}: "
            f"run `npm ci` in {project_root}")
    if not _ADAPTER.is_file():
        raise BuildError(f"the solc adapter {_ADAPTER} is missing from the munibond package")
    shim = project_root / SHIM_DIR / f"solc-v{SOLC_VERSION}"
    _write_if_changed(shim, _shim_text(os.path.abspath(node), project_root).encode(), 0o755)
    version = _version_of(shim)
    if version is None or version.split("+")[0] != SOLC_VERSION:
        raise BuildError(
            f"the solc-js adapter does not answer `--version` as solc {SOLC_VERSION} "
            f"(got {version!r}); try `npm ci` in {project_root}")
    return Compiler(shim, version, "solc-js")


def find_compiler(project_root: Path | None = None) -> Compiler:
    """A native solc 0.8.37 if installed (on PATH or in py-solc-x's folder), else the solc-js shim.

    The shim is ``<project>/.solc/solc-v0.8.37``, a two-line shell script running the adapter
    with node; it is (re)written when missing or out of date.
    """
    root = project_root.resolve() if project_root else find_project_root()
    return _find_native() or _solcjs_shim(root)


def solc_binary_dir(project_root: Path | None = None) -> Path:
    """A folder holding ``solc-v0.8.37`` for tools that look compilers up by version.

    Point ``SOLCX_BINARY_PATH`` at it for brownie (or anything else built on py-solc-x). It is
    ``<project>/.solc``; ``solc-v0.8.37`` there is a symlink to the native compiler when one is
    installed, else the solc-js shim.
    """
    root = project_root.resolve() if project_root else find_project_root()
    compiler = find_compiler(root)
    target = root / SHIM_DIR / f"solc-v{SOLC_VERSION}"
    if compiler.kind == "native" and compiler.path != target.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(compiler.path)
        os.replace(tmp, target)
    return target.parent


# --------------------------------------------------------------------------------------------
# build


@dataclass(frozen=True)
class BuildResult:
    """What a build did. ``compiled`` is False when the artifacts were already up to date."""

    compiled: bool
    project_root: Path
    artifacts_dir: Path
    contracts: tuple[str, ...]
    message: str
    compiler_version: str
    compiler: str | None = None  # Compiler.describe() when something was compiled
    warnings: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # stale artifact files deleted
    sizes: Mapping[str, int] = field(default_factory=dict)  # deployed code size in bytes
    seconds: float = 0.0


def _dumps(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _project_sources(root: Path) -> dict[str, bytes]:
    """Every .sol file under contracts/, by source unit name (POSIX path from the root)."""
    folder = root / CONTRACTS_SUBDIR
    if not folder.is_dir():
        raise BuildError(f"no contracts/ folder in {root}")
    sources: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*.sol")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        sources[rel.as_posix()] = path.read_bytes()
    if not sources:
        raise BuildError(f"no .sol files under {folder}")
    return sources


def _check_dependencies(root: Path) -> None:
    for remapping in REMAPPINGS:
        target = remapping.split("=", 1)[1]
        if not (root / target).is_dir():
            raise BuildError(f"{target} is missing in {root}: run `npm ci`")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _up_to_date(root: Path, out_dir: Path, project: Mapping[str, bytes]) -> tuple[str, ...] | None:
    """The artifact names if build-info.json matches the current inputs and outputs, else None."""
    info = _read_json(out_dir / BUILD_INFO)
    if not isinstance(info, dict) or info.get("_format") != BUILD_INFO_FORMAT:
        return None
    compiler = info.get("compiler") or {}
    if not str(compiler.get("version", "")).startswith(SOLC_VERSION + "+"):
        return None
    if compiler.get("settings") != compiler_settings():
        return None
    sources = info.get("sources")
    artifacts = info.get("artifacts")
    if not isinstance(sources, dict) or not isinstance(artifacts, dict):
        return None
    recorded_project = {name for name in sources if name.startswith(CONTRACTS_SUBDIR + "/")}
    if recorded_project != set(project):
        return None
    for name, digest in sources.items():
        data = project.get(name)
        if data is None:
            try:
                data = (root / name).read_bytes()
            except OSError:
                return None
        if _sha256(data) != digest:
            return None
    expected = {f"{name}.json" for name in artifacts} | {BUILD_INFO}
    present = {p.name for p in out_dir.glob("*.json")}
    if present != expected:
        return None
    for name, entry in artifacts.items():
        try:
            data = (out_dir / f"{name}.json").read_bytes()
        except OSError:
            return None
        if _sha256(data) != entry.get("sha256"):
            return None
    return tuple(sorted(artifacts))


def _standard_input(project: Mapping[str, bytes]) -> Json:
    sources: Json = {}
    for name, data in project.items():
        try:
            sources[name] = {"content": data.decode("utf-8")}
        except UnicodeDecodeError as exc:
            raise BuildError(f"{name} is not UTF-8 text: {exc}") from exc
    settings = compiler_settings()
    # outputs for the project's own files only; nothing is generated for node_modules
    settings["outputSelection"] = {
        name: {"*": list(CONTRACT_OUTPUTS), "": ["ast"]} for name in project}
    return {"language": "Solidity", "sources": sources, "settings": settings}


def _allow_paths(root: Path) -> list[str]:
    # native solc resolves symlinks before checking that a file lies in an allowed folder, so a
    # symlinked node_modules (e.g. in a worktree) needs its real location allowed as well
    allowed = [str(root)]
    modules = root / "node_modules"
    if modules.exists() and not modules.resolve().is_relative_to(root):
        allowed.append(str(modules.resolve()))
    return allowed


def _compile(compiler: Compiler, root: Path, input_json: Json) -> Json:
    import solcx  # deferred: importing it is not free and `munibond` should load fast
    from solcx.exceptions import SolcError

    try:
        output: Json = solcx.compile_standard(
            input_json, solc_binary=compiler.path, base_path=root,
            allow_paths=_allow_paths(root))
    except SolcError as exc:
        errors = getattr(exc, "error_dict", None) or []
        messages = [e.get("formattedMessage") or e.get("message", "") for e in errors
                    if e.get("severity") == "error"]
        if messages:
            raise BuildError("compilation failed:\n\n" + "\n".join(m.rstrip() + "\n"
                                                                    for m in messages)) from exc
        raise BuildError(f"the compiler failed ({compiler.describe()}):\n{exc}") from exc
    except (OSError, ValueError) as exc:
        raise BuildError(f"could not run the compiler ({compiler.describe()}): {exc}") from exc
    return output


def _contract_kinds(output: Json, project: Mapping[str, bytes]) -> dict[tuple[str, str], Json]:
    """(source, name) -> the ContractDefinition node of every project contract."""
    kinds: dict[tuple[str, str], Json] = {}
    for source in project:
        ast = output.get("sources", {}).get(source, {}).get("ast") or {}
        for node in ast.get("nodes", []):
            if node.get("nodeType") == "ContractDefinition":
                kinds[(source, node["name"])] = node
    return kinds


def _deployable(node: Json | None, contract: Json) -> bool:
    if node is not None:
        if node.get("contractKind") == "interface" or node.get("abstract"):
            return False
        if node.get("contractKind") == "library" and not any(
                item.get("type") == "function" for item in contract.get("abi", [])):
            return False  # internal functions only: inlined into its users, never deployed
    return bool(contract.get("evm", {}).get("bytecode", {}).get("object"))


def _hex(code: str) -> str:
    return code if code.startswith("0x") else "0x" + code


def _artifacts_from(output: Json, project: Mapping[str, bytes], compiler_version: str,
                    ) -> tuple[dict[str, Json], dict[str, int], list[str]]:
    kinds = _contract_kinds(output, project)
    artifacts: dict[str, Json] = {}
    sizes: dict[str, int] = {}
    notes: list[str] = []
    settings = compiler_settings()
    for source in sorted(project):
        for name, contract in sorted(output.get("contracts", {}).get(source, {}).items()):
            if not _deployable(kinds.get((source, name)), contract):
                continue
            if name in artifacts:
                raise BuildError(
                    f"two contracts are named {name}: {artifacts[name]['sourceName']} and "
                    f"{source}; artifacts are keyed by name, so rename one")
            evm = contract["evm"]
            bytecode = evm["bytecode"]["object"]
            deployed = evm["deployedBytecode"]["object"]
            sizes[name] = len(deployed) // 2
            if len(bytecode) // 2 > EIP3860_LIMIT:
                notes.append(
                    f"{name}: init code is {len(bytecode) // 2:,} bytes, over the EIP-3860 limit "
                    f"of {EIP3860_LIMIT:,} (chains from Shanghai on refuse to deploy it)")
            artifacts[name] = {
                "_format": ARTIFACT_FORMAT,
                "contractName": name,
                "sourceName": source,
                "abi": contract.get("abi", []),
                "bytecode": _hex(bytecode),
                "deployedBytecode": _hex(deployed),
                "linkReferences": evm["bytecode"].get("linkReferences", {}),
                "deployedLinkReferences": evm["deployedBytecode"].get("linkReferences", {}),
                "methodIdentifiers": evm.get("methodIdentifiers", {}),
                "devdoc": contract.get("devdoc", {}),
                "userdoc": contract.get("userdoc", {}),
                "storageLayout": contract.get("storageLayout", {}),
                "metadata": contract.get("metadata", ""),
                "compiler": {"version": compiler_version, "settings": copy.deepcopy(settings)},
            }
    return artifacts, sizes, notes


def _source_hashes(root: Path, output: Json, project: Mapping[str, bytes]) -> dict[str, str]:
    hashes: dict[str, str] = {}
    for name in sorted(output.get("sources", {})):
        data = project.get(name)
        if data is None:
            path = root / name
            if Path(name).is_absolute() or not path.is_file():
                raise BuildError(
                    f"the compile read {name}, which is not a file under the project root "
                    f"{root}; import through the node_modules remappings or relative paths only")
            data = path.read_bytes()
        hashes[name] = _sha256(data)
    return hashes


def _warnings(output: Json) -> list[str]:
    return [(e.get("formattedMessage") or e.get("message", "")).rstrip()
            for e in output.get("errors", []) if e.get("severity") != "error"]


def build(project_root: Path | None = None, *, force: bool = False,
          out_dir: Path | None = None) -> BuildResult:
    """Compile ``contracts/`` into ``munibond/artifacts/`` unless the artifacts are up to date.

    ``out_dir`` writes the artifacts elsewhere (``check()`` uses it). Raises BuildError on
    compiler errors (every message in full), on contracts over the EIP-170 size limit (naming
    them) and when no compiler is available.
    """
    started = time.monotonic()
    root = project_root.resolve() if project_root else find_project_root()
    target = out_dir.resolve() if out_dir else root / ARTIFACTS_SUBDIR
    project = _project_sources(root)

    if not force:
        names = _up_to_date(root, target, project)
        if names is not None:
            info = _read_json(target / BUILD_INFO)
            return BuildResult(
                compiled=False, project_root=root, artifacts_dir=target, contracts=names,
                message=f"artifacts are up to date ({len(names)} contracts in {target})",
                compiler_version=str(info["compiler"]["version"]),
                seconds=time.monotonic() - started)

    _check_dependencies(root)
    compiler = find_compiler(root)
    output = _compile(compiler, root, _standard_input(project))
    warnings = _warnings(output)
    artifacts, sizes, notes = _artifacts_from(output, project, compiler.version)
    too_big = {name: size for name, size in sizes.items() if size > EIP170_LIMIT}
    if too_big:
        lines = "\n".join(f"  {name}: {size:,} bytes ({size - EIP170_LIMIT:,} over)"
                          for name, size in sorted(too_big.items()))
        raise BuildError(
            f"deployed code over the EIP-170 limit of {EIP170_LIMIT:,} bytes; chains refuse to "
            f"deploy it:\n{lines}")
    hashes = _source_hashes(root, output, project)

    target.mkdir(parents=True, exist_ok=True)
    manifest: Json = {}
    for name, artifact in artifacts.items():
        data = _dumps(artifact)
        _write_if_changed(target / f"{name}.json", data)
        manifest[name] = {"sourceName": artifact["sourceName"], "sha256": _sha256(data)}
    removed: list[str] = []
    for stale in sorted(target.glob("*.json")):
        if stale.name != BUILD_INFO and stale.stem not in artifacts:
            stale.unlink()
            removed.append(stale.name)
    build_info = {
        "_format": BUILD_INFO_FORMAT,
        "compiler": {"version": compiler.version, "settings": compiler_settings()},
        "sources": hashes,
        "artifacts": manifest,
    }
    # written last: an interrupted build leaves a manifest that does not match, so the next
    # build compiles again
    _write_if_changed(target / BUILD_INFO, _dumps(build_info))
    seconds = time.monotonic() - started
    return BuildResult(
        compiled=True, project_root=root, artifacts_dir=target,
        contracts=tuple(sorted(artifacts)),
        message=(f"compiled {len(project)} files ({len(hashes)} with imports) into "
                 f"{len(artifacts)} artifacts in {target} with solc {compiler.version} "
                 f"({compiler.kind}) in {seconds:.1f} s"),
        compiler_version=compiler.version, compiler=compiler.describe(),
        warnings=tuple(warnings + notes), removed=tuple(removed), sizes=dict(sorted(sizes.items())),
        seconds=seconds)


def _json_differences(committed: Any, fresh: Any) -> list[str]:
    """Top-level keys that differ (enough to say what changed without dumping bytecode)."""
    if isinstance(committed, dict) and isinstance(fresh, dict):
        keys = sorted(set(committed) | set(fresh))
        changed = [k for k in keys if committed.get(k) != fresh.get(k)]
        return changed or ["formatting (same JSON content)"]
    return ["(whole file)"]


def check(project_root: Path | None = None) -> list[str]:
    """Rebuild into a temporary folder and compare with the committed artifacts byte for byte.

    Returns one line per difference; an empty list means the artifacts were reproduced.
    """
    root = project_root.resolve() if project_root else find_project_root()
    committed_dir = root / ARTIFACTS_SUBDIR
    if not (committed_dir / BUILD_INFO).is_file():
        return [f"{ARTIFACTS_SUBDIR / BUILD_INFO} is missing: run `munibond build` and commit "
                f"the artifacts"]
    with tempfile.TemporaryDirectory(prefix="munibond-check-") as tmp:
        fresh_dir = Path(tmp) / "artifacts"
        build(root, force=True, out_dir=fresh_dir)
        committed = {p.name: p for p in committed_dir.glob("*.json")}
        fresh = {p.name: p for p in fresh_dir.glob("*.json")}
        differences: list[str] = []
        for name in sorted(set(committed) | set(fresh)):
            shown = (ARTIFACTS_SUBDIR / name).as_posix()
            if name not in fresh:
                differences.append(f"{shown}: committed, but the sources produce no such artifact")
            elif name not in committed:
                differences.append(f"{shown}: missing (the sources produce it)")
            else:
                old, new = committed[name].read_bytes(), fresh[name].read_bytes()
                if old != new:
                    try:
                        keys = _json_differences(json.loads(old), json.loads(new))
                    except ValueError:
                        keys = ["(not valid JSON)"]
                    differences.append(f"{shown}: differs from a fresh build in {', '.join(keys)}")
        return differences
