"""Deployments and their records under ``deployments/<network>/``.

One JSON file per network and bond, written atomically (a temporary file in the same directory,
flushed, renamed over the old one) and deterministically (sorted keys, two-space indent, a final
newline), so that records can be committed and reviewed. The network name is a directory name
(letters, digits, ``.``, ``_``, ``-``), checked by :func:`validate_network_name`.

``deployments/<network>/platform.json`` (``"format": "munibond-platform/1"``)
    ``chain_id`` and ``genesis_hash`` (a reset local chain has a new genesis); ``deployer``,
    ``admin``, ``registrar``, ``creator``; ``registry`` (= the implementation's address); and
    under ``contracts``, for each of ``servicing`` (BondServicing), ``implementation`` (BondToken:
    the bond implementation *and* the investor registry, one address), ``factory`` (BondFactory)
    and ``settlement_token`` (the local MockSettlementToken with its ``mock`` name/symbol/
    decimals, an existing token given by address with ``"contract": null``, or ``null``):
    ``address``, ``tx_hash``, ``block``, ``gas_used``, ``code_hash`` (keccak-256 of the runtime
    code on chain, what a re-run checks), ``artifact_code_hash`` (keccak-256 of the artifact's
    ``deployedBytecode``), ``immutables`` (the 32-byte values found in the code's immutable
    slots) and ``matches_artifact``; then ``compiler`` (solc version, EVM version, optimizer),
    ``munibond_version`` and ``created_at`` (UTC).

``deployments/<network>/<bond code>.json`` (``"format": "munibond-bond/1"``)
    ``code``, ``isin``, ``name``, ``symbol``; ``address``, ``factory``, ``implementation``,
    ``registry``, ``settlement_token``; ``term_sheet`` (``path``, relative to the project when
    inside it, and ``sha256`` of the file); ``tx_hash``, ``block`` and ``creator`` of the
    creation; ``code_hash`` of the clone, the seven ``rule_words`` it carries and the ``rules``
    they encode (plain fields, amounts in token units); ``terms`` as the bond's ``terms()``
    returned them; ``adopted`` (found on chain without a record); ``chain_id``,
    ``genesis_hash``, ``network``, ``munibond_version``, ``created_at``.

**How code is verified.** A contract with ``immutable`` variables has their values written into its
runtime code at deployment, so the code on chain differs from the artifact's ``deployedBytecode``
(where solc leaves those 32-byte slots zero). The build does not write solc's
``immutableReferences`` into the artifacts, so the slots are found in the artifact's code itself:
every ``PUSH32`` whose operand is 32 zero bytes (solc never emits a zero constant that way; it is
how an immutable placeholder looks). The on-chain code with those slots zeroed must equal the
artifact byte for byte, and the values found in the slots must be the ones the deployment passed
(``BondToken``: the servicing address and its own; ``BondFactory``: the implementation;
``MockSettlementToken``: its decimals). Should an artifact ever carry ``immutableReferences`` (as
``deployedImmutableReferences`` or ``immutableReferences``), those offsets are used instead. A
bond is an EIP-1167 clone with immutable arguments, whose code is fully determined by the
implementation address and the rule words: it is compared with the code the factory must have
produced, byte for byte.

On a re-run, :func:`ensure_platform` and :func:`ensure_bond` send nothing when the record is good:
they check the chain id and genesis hash, that the code at every recorded address still has the
recorded hash (and, for a bond, that the factory still maps the code to the address), and return
the SDK objects. Any difference raises :class:`~munibond.exceptions.DeploymentError` saying what
differs and what to do. When the artifacts were rebuilt since the platform was deployed, the
deployed platform keeps working and a warning says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from munibond.artifacts import Artifact, load_artifact
from munibond.exceptions import DeploymentError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from munibond.bond import Bond
    from munibond.chain import Chain
    from munibond.platform import DeployedContract, Platform
    from munibond.termsheet import TermSheet

__all__ = [
    "BOND_FORMAT",
    "DEFAULT_ROOT",
    "PLATFORM_FILE",
    "PLATFORM_FORMAT",
    "CodeCheck",
    "DocumentsOutcome",
    "SettlementSpec",
    "bond_record_path",
    "check_code",
    "clone_code",
    "code_hash",
    "created_address",
    "decode_rule_words",
    "ensure_bond",
    "ensure_platform",
    "file_sha256",
    "genesis_hash",
    "immutable_offsets",
    "load_bond",
    "load_platform",
    "network_dir",
    "pack_rules",
    "parse_clone",
    "parse_settlement",
    "platform_record_path",
    "publish_documents",
    "read_record",
    "recorded_bonds",
    "summary_lines",
    "validate_network_name",
    "write_record",
]

log = logging.getLogger(__name__)

PLATFORM_FORMAT: Final = "munibond-platform/1"
BOND_FORMAT: Final = "munibond-bond/1"
PLATFORM_FILE: Final = "platform.json"
DEFAULT_ROOT: Final = Path("deployments")

#: ``(name, symbol, decimals)`` of a local mock settlement token to deploy, the address of an
#: existing settlement token, ``"auto"`` (a mock "Mock JPY Coin"/"JPYC"/18 on a local development
#: chain, none elsewhere), or None (no settlement token).
SettlementSpec = tuple[str, str, int] | str | None


def parse_settlement(text: str) -> SettlementSpec:
    """A settlement choice as a person writes it: ``auto`` (a mock token on local chains),
    ``none``, or the address of an existing token (checked; :class:`~munibond.codes.CodeError`
    says what is wrong with a malformed one)."""
    from munibond.codes import parse_address

    lowered = text.strip().lower()
    if lowered == "auto":
        return "auto"
    if lowered in ("none", ""):
        return None
    return parse_address(text)
AUTO_SETTLEMENT: Final = ("Mock JPY Coin", "JPYC", 18)

_NETWORK = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9_-])?")
_RESERVED = {"platform", "con", "prn", "aux", "nul"}
_ZERO_ADDRESS = "0x" + "00" * 20

# the contracts of the platform, as recorded: key -> artifact name
_PLATFORM_CONTRACTS: Final = (("servicing", "BondServicing"), ("implementation", "BondToken"),
                              ("factory", "BondFactory"))

Report = Callable[[str], None]


# --- names and files ---------------------------------------------------------------------------

def validate_network_name(name: str) -> str:
    """``name`` if it is a safe directory name: 1 to 64 letters, digits, ``.``, ``_`` and ``-``,
    starting with a letter or digit and not ending with a dot; raises DeploymentError otherwise."""
    if not isinstance(name, str) or not _NETWORK.fullmatch(name) or ".." in name \
            or name.lower() in _RESERVED:
        raise DeploymentError(
            f"{name!r} is not a usable network name: use 1 to 64 letters, digits, '.', '_' and "
            f"'-', starting with a letter or digit (e.g. local, development, besu-test)")
    return name


def network_dir(network: str, root: str | os.PathLike[str] = DEFAULT_ROOT) -> Path:
    """``<root>/<network>`` (the network name validated)."""
    return Path(root) / validate_network_name(network)


def platform_record_path(network: str, root: str | os.PathLike[str] = DEFAULT_ROOT) -> Path:
    return network_dir(network, root) / PLATFORM_FILE


def bond_record_path(network: str, code: str,
                     root: str | os.PathLike[str] = DEFAULT_ROOT) -> Path:
    """``<root>/<network>/<code>.json``; a code that is not a safe file name, or is
    ``platform``, raises DeploymentError."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", code) or code.endswith(".") \
            or code.lower() in _RESERVED:
        raise DeploymentError(f"bond code {code!r} cannot name a record file under "
                              f"deployments/: use letters, digits, '.', '_' and '-' (and not "
                              f"'platform')")
    return network_dir(network, root) / f"{code}.json"


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_record(path: str | os.PathLike[str], data: Mapping[str, Any]) -> None:
    """Write ``data`` as deterministic JSON (sorted keys, indent 2, final newline), atomically: a
    temporary file in the same directory, flushed to disk, renamed over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = _dump(data)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with contextlib.suppress(OSError):  # mkstemp makes 0600; records are ordinary files
            os.chmod(temp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_record(path: str | os.PathLike[str], *, expected_format: str | None = None
                ) -> dict[str, Any]:
    """A record file as a dict; unreadable, malformed or wrong-format files raise
    DeploymentError naming the file."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeploymentError(f"{file} does not exist") from None
    except (OSError, ValueError) as error:
        raise DeploymentError(f"{file} cannot be read as a deployment record ({error}): restore "
                              f"it from version control, or delete it to deploy anew") from None
    if not isinstance(data, dict):
        raise DeploymentError(f"{file} is not a deployment record (not a JSON object)")
    if expected_format is not None and data.get("format") != expected_format:
        raise DeploymentError(f"{file} has format {data.get('format')!r}, expected "
                              f"{expected_format!r}: it was written by another version of "
                              f"munibond or is not a munibond record")
    return data


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``directory/.lock`` (POSIX), so that two processes deploying
    to one network do not both deploy; a no-op where ``fcntl`` does not exist."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, 64 hex digits (what ``sha256sum`` prints)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _munibond_version() -> str:
    try:
        return metadata.version("munibond")
    except metadata.PackageNotFoundError:
        return "unknown"


def _hex(value: bytes | HexBytes | str) -> str:
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    return "0x" + bytes(value).hex()


def _shown_path(path: Path, root: Path) -> str:
    """``path`` relative to the project (the deployments root's parent) when inside it, else
    absolute; POSIX separators."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve().parent).as_posix()
    except ValueError:
        return resolved.as_posix()


# --- code hashes ---------------------------------------------------------------------------------

def code_hash(code: bytes) -> str:
    """keccak-256 of runtime code, ``0x`` hex (what ``EXTCODEHASH`` returns for a contract)."""
    return "0x" + keccak(bytes(code)).hex()


def _raw_artifact(name: str) -> Mapping[str, Any]:
    from importlib import resources

    entry = resources.files("munibond").joinpath("artifacts", f"{name}.json")
    try:
        raw = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def created_address(deployer: str, nonce: int) -> str:
    """The address a contract at ``deployer`` gives the contract it creates with ``nonce`` (a
    contract's nonce starts at 1): keccak256(rlp([deployer, nonce]))[12:]."""
    import rlp
    from eth_utils.conversions import to_bytes
    from eth_utils.crypto import keccak

    return to_checksum_address(keccak(rlp.encode([to_bytes(hexstr=deployer), nonce]))[12:])


def immutable_offsets(artifact: Artifact) -> tuple[tuple[int, int], ...]:
    """``(offset, length)`` of every immutable slot in the artifact's runtime code.

    From solc's ``immutableReferences`` when the artifact has them; otherwise every ``PUSH32``
    with an all-zero operand (solc pushes small constants with shorter PUSHes, so a zero PUSH32 is
    an immutable placeholder). The walk stops at the CBOR metadata at the end of the code.
    """
    raw = _raw_artifact(artifact.name)
    refs = raw.get("deployedImmutableReferences") or raw.get("immutableReferences")
    if isinstance(refs, Mapping) and refs:
        spots = {(int(s["start"]), int(s["length"])) for group in refs.values() for s in group}
        return tuple(sorted(spots))
    code = artifact.deployed_bytecode
    end = len(code)
    if end >= 2:  # solc appends CBOR metadata and its 2-byte length
        meta = int.from_bytes(code[-2:], "big")
        if meta + 2 <= end:
            end -= meta + 2
    found: list[tuple[int, int]] = []
    i = 0
    while i < end:
        op = code[i]
        if 0x60 <= op <= 0x7F:
            width = op - 0x5F
            if op == 0x7F and code[i + 1:i + 33] == bytes(32):
                found.append((i + 1, 32))
            i += 1 + width
        else:
            i += 1
    return tuple(found)


@dataclass(frozen=True)
class CodeCheck:
    """The code at an address compared with an artifact.

    ``matches``: the code with its immutable slots zeroed equals the artifact's
    ``deployedBytecode`` and every immutable value is one of those expected; ``problem`` says what
    differs otherwise.
    """

    code_hash: str
    artifact_code_hash: str
    immutables: tuple[str, ...]
    matches: bool
    problem: str = ""


def _word(value: int | str) -> bytes:
    if isinstance(value, int):
        return value.to_bytes(32, "big")
    return bytes(12) + bytes.fromhex(to_checksum_address(value)[2:])


def check_code(code: bytes, artifact: Artifact, *,
               expected_immutables: Iterable[int | str] | None = None) -> CodeCheck:
    """Compare runtime ``code`` with ``artifact`` (see the module docstring).

    ``expected_immutables``: values (addresses or integers) each immutable slot may hold; None
    accepts any value.
    """
    code = bytes(code)
    expected = artifact.deployed_bytecode
    spots = immutable_offsets(artifact)
    values: list[str] = []
    masked = bytearray(code)
    problem = ""
    if not code:
        problem = "there is no code at the address"
    elif len(code) != len(expected):
        problem = (f"the code is {len(code)} bytes long, the artifact's {len(expected)} "
                   f"({artifact.name})")
    else:
        allowed = None if expected_immutables is None else {_word(v) for v in expected_immutables}
        for start, length in spots:
            value = code[start:start + length]
            masked[start:start + length] = bytes(length)
            shown = "0x" + value.hex()
            if shown not in values:
                values.append(shown)
            if allowed is not None and value.rjust(32, b"\0") not in allowed and not problem:
                problem = (f"immutable at byte {start} holds {shown}, not one of the values the "
                           f"deployment passed")
        if not problem and bytes(masked) != expected:
            first = next(i for i in range(len(code)) if masked[i] != expected[i])
            problem = (f"the code differs from the artifact's {artifact.name} from byte {first} "
                       f"on (other than in immutable values): it was built from other sources "
                       f"or settings")
    return CodeCheck(code_hash=code_hash(code), artifact_code_hash=code_hash(expected),
                     immutables=tuple(values), matches=not problem, problem=problem)


# --- clones ----------------------------------------------------------------------------------

_CLONE_PREFIX: Final = bytes.fromhex("363d3d373d3d3d363d73")
_CLONE_SUFFIX: Final = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")
RULE_WORDS: Final = 7


def clone_code(implementation: str, args: bytes) -> bytes:
    """Runtime code of an OpenZeppelin ``Clones.cloneWithImmutableArgs`` clone."""
    return (_CLONE_PREFIX + bytes.fromhex(to_checksum_address(implementation)[2:])
            + _CLONE_SUFFIX + bytes(args))


def parse_clone(code: bytes) -> tuple[str, tuple[int, ...]]:
    """``(implementation, rule words)`` of a bond clone's runtime code; DeploymentError when the
    code is not an EIP-1167 clone carrying seven words."""
    code = bytes(code)
    head = len(_CLONE_PREFIX) + 20 + len(_CLONE_SUFFIX)
    if (len(code) != head + 32 * RULE_WORDS or not code.startswith(_CLONE_PREFIX)
            or code[len(_CLONE_PREFIX) + 20:head] != _CLONE_SUFFIX):
        raise DeploymentError(f"the code ({len(code)} bytes) is not a munibond bond clone")
    implementation = to_checksum_address(code[len(_CLONE_PREFIX):len(_CLONE_PREFIX) + 20])
    words = tuple(int.from_bytes(code[head + 32 * i:head + 32 * (i + 1)], "big")
                  for i in range(RULE_WORDS))
    return implementation, words


_LOCKUP_SHIFT = 32
_MAX_HOLDERS_SHIFT = 72
_COUNTRY_MODE_SHIFT = 104
_PER_INVESTOR_SHIFT = 112
_REGION_COUNT_SHIFT = 120


def pack_rules(rules: Sequence[Any]) -> tuple[int, ...]:
    """The seven words ``RulesCodec.pack`` makes of an ``IBondTerms.Rules`` tuple (as
    :func:`munibond.onchain.rules_tuple` returns it), without the contract's validation."""
    (unit, max_balance, classes, lockup, max_holders, mode, per_investor, countries,
     regions) = rules
    w0 = int(unit) | (int(max_balance) << 128)
    used = [int(r) for r in regions if int(r)]
    w6 = 0
    for index, region in enumerate(used):
        w6 |= region << (32 * index)
    w1 = (int(classes) | (int(lockup) << _LOCKUP_SHIFT) | (int(max_holders) << _MAX_HOLDERS_SHIFT)
          | (int(mode) << _COUNTRY_MODE_SHIFT) | ((1 if per_investor else 0) << _PER_INVESTOR_SHIFT)
          | (len(used) << _REGION_COUNT_SHIFT))
    return (w0, w1, *(int(c) for c in countries), w6)


def decode_rule_words(words: Sequence[int]) -> dict[str, Any]:
    """The rules seven packed words encode, as plain JSON values (amounts in token units)."""
    if len(words) != RULE_WORDS:
        raise DeploymentError(f"expected {RULE_WORDS} rule words, got {len(words)}")
    w0, w1, w6 = words[0], words[1], words[6]
    countries = []
    for index, word in enumerate(words[2:6]):
        countries += [index * 256 + bit for bit in range(256) if word >> bit & 1]
    count = (w1 >> _REGION_COUNT_SHIFT) & 0xFF
    return {
        "trading_unit_units": w0 & ((1 << 128) - 1),
        "max_balance_units": w0 >> 128,
        "allowed_class_mask": w1 & 0xFFFFFFFF,
        "lockup_until": (w1 >> _LOCKUP_SHIFT) & ((1 << 40) - 1),
        "max_holders": (w1 >> _MAX_HOLDERS_SHIFT) & 0xFFFFFFFF,
        "country_mode": {0: "any", 1: "allow", 2: "deny"}.get((w1 >> _COUNTRY_MODE_SHIFT) & 0xFF,
                                                             "invalid"),
        "per_investor": bool((w1 >> _PER_INVESTOR_SHIFT) & 0xFF),
        "countries": countries,
        "regions": [(w6 >> (32 * i)) & 0xFFFFFFFF for i in range(count)],
    }


# --- chain facts -------------------------------------------------------------------------------

def genesis_hash(chain: Chain) -> str:
    """Hash of the chain's genesis block: it changes when a local chain is restarted from scratch.

    Read as block 1's ``parentHash`` when block 1 exists (the genesis the chain's history actually
    links to), else as block 0's hash. The two are the same on every node but one: anvil, started
    again on a saved ``--state``, keeps the saved blocks 1..n but makes itself a new block 0, so
    ``eth_getBlockByNumber(0)`` is not stable there while block 1's parent is.
    """
    with contextlib.suppress(Exception):
        block = chain.w3.eth.get_block(1)
        if block is not None:
            return HexBytes(block["parentHash"]).to_0x_hex()
    return HexBytes(chain.w3.eth.get_block(0)["hash"]).to_0x_hex()


def _code_at(chain: Chain, address: str) -> bytes:
    return bytes(chain.w3.eth.get_code(to_checksum_address(address)))


def _chain_problems(record: Mapping[str, Any], chain: Chain, genesis: str, file: Path,
                    remedy: str) -> list[str]:
    problems: list[str] = []
    recorded_id = record.get("chain_id")
    if recorded_id != chain.chain_id:
        problems.append(
            f"{file} was written for chain id {recorded_id}, but the node at {chain.url} is on "
            f"chain id {chain.chain_id}: check the RPC URL and the network name (each network "
            f"has its own directory under deployments/)")
    elif record.get("genesis_hash") != genesis:
        problems.append(
            f"the chain at {chain.url} is not the one {file} was written on (genesis block "
            f"{record.get('genesis_hash')} recorded, {genesis} now): the local chain was reset. "
            f"{remedy}")
    return problems


# --- the platform --------------------------------------------------------------------------------

def _fresh_hint(directory: Path, *, capital: bool = True) -> str:
    return (f"{'D' if capital else 'd'}elete {directory}/ (or run with --fresh, fresh=True) to "
            f"deploy a new platform there, or use another network name")


def _contract_entry(chain: Chain, *, artifact: str | None, address: str,
                    deployment: DeployedContract | None,
                    expected_immutables: Iterable[int | str] | None) -> dict[str, Any]:
    code = _code_at(chain, address)
    entry: dict[str, Any] = {
        "address": to_checksum_address(address),
        "block": None if deployment is None else deployment.block_number,
        "code_hash": code_hash(code),
        "contract": artifact,
        "gas_used": None if deployment is None else deployment.gas_used,
        "tx_hash": None if deployment is None else _hex(deployment.tx_hash),
    }
    if artifact is None:
        if not code:
            raise DeploymentError(f"there is no contract at {address} on chain {chain.chain_id}")
        return entry
    check = check_code(code, load_artifact(artifact), expected_immutables=expected_immutables)
    if not check.matches:
        raise DeploymentError(
            f"the {artifact} just deployed at {address} does not match its artifact: "
            f"{check.problem}. The node may be rewriting code, or the artifacts changed during "
            f"the deployment; nothing was recorded")
    entry.update(artifact_code_hash=check.artifact_code_hash, immutables=list(check.immutables),
                 matches_artifact=True)
    return entry


def _compiler_facts() -> dict[str, Any]:
    artifact = load_artifact("BondToken")
    settings = artifact.compiler_settings
    optimizer = settings.get("optimizer") or {}
    return {
        "evm_version": settings.get("evmVersion"),
        "optimizer": {"enabled": bool(optimizer.get("enabled")), "runs": optimizer.get("runs")},
        "version": artifact.compiler_version,
    }


def _resolve_settlement(chain: Chain, settlement: SettlementSpec
                        ) -> tuple[tuple[str, str, int] | None, str | None]:
    """(mock to deploy, existing token address) for a settlement spec."""
    if settlement == "auto":
        return (AUTO_SETTLEMENT if chain.dev_kind is not None else None), None
    if isinstance(settlement, str):
        if not is_address(settlement):
            raise DeploymentError(f"settlement token {settlement!r} is not an address (give an "
                                  f"address, (name, symbol, decimals) for a local mock, 'auto' "
                                  f"or None)")
        return None, to_checksum_address(settlement)
    if settlement is None:
        return None, None
    name, symbol, decimals = settlement
    return (str(name), str(symbol), int(decimals)), None


def _settlement_problem(record: Mapping[str, Any], settlement: SettlementSpec) -> str | None:
    entry = record.get("contracts", {}).get("settlement_token")
    if settlement == "auto":
        return None
    if settlement is None:
        return None if entry is None else (
            "the recorded platform has a settlement token, but none was asked for")
    if isinstance(settlement, str):
        recorded = None if entry is None else entry.get("address")
        if recorded is None or recorded.lower() != settlement.lower():
            return (f"the recorded platform's settlement token is {recorded}, not the "
                    f"{settlement} asked for")
        return None
    if entry is None or entry.get("contract") != "MockSettlementToken":
        return "the recorded platform has no local mock settlement token, but one was asked for"
    mock = entry.get("mock") or {}
    wanted = {"name": settlement[0], "symbol": settlement[1], "decimals": int(settlement[2])}
    if mock and mock != wanted:
        return (f"the recorded mock settlement token is {mock}, not the {wanted} asked for")
    return None


def _verify_platform(chain: Chain, record: Mapping[str, Any], file: Path,
                     settlement: SettlementSpec, report: Report | None) -> None:
    directory = file.parent
    genesis = genesis_hash(chain)
    remedy = _fresh_hint(directory) + "."
    problems = _chain_problems(record, chain, genesis, file, remedy)
    if problems:
        raise DeploymentError("; ".join(problems))
    contracts = record.get("contracts")
    if not isinstance(contracts, Mapping):
        raise DeploymentError(f"{file} has no 'contracts' section: restore it or delete it")
    missing_code: list[str] = []
    for key, artifact_name in (*_PLATFORM_CONTRACTS, ("settlement_token", None)):
        entry = contracts.get(key)
        if entry is None and key == "settlement_token":
            continue
        if not isinstance(entry, Mapping) or not isinstance(entry.get("address"), str) \
                or not is_address(entry["address"]):
            problems.append(f"{file}: contracts.{key} has no valid address")
            continue
        address = to_checksum_address(entry["address"])
        code = _code_at(chain, address)
        if not code:
            missing_code.append(f"{key} ({address})")
            continue
        found = code_hash(code)
        if found != entry.get("code_hash"):
            problems.append(
                f"the code at {address} ({key}) is not the one recorded (keccak "
                f"{entry.get('code_hash')} recorded, {found} on chain): the record was edited or "
                f"points at another contract; restore {file} from version control, or "
                f"{_fresh_hint(directory, capital=False)}")
            continue
        name = artifact_name or entry.get("contract")
        if name and entry.get("artifact_code_hash") and report is not None:
            current = code_hash(load_artifact(str(name)).deployed_bytecode)
            if current != entry["artifact_code_hash"]:
                report(f"note: the {name} artifact changed since the platform was deployed "
                       f"({key} at {address} runs the earlier build); the recorded platform "
                       f"keeps working. {_fresh_hint(directory)} to deploy the new build.")
    if missing_code:
        problems.insert(0, f"no contract on chain {chain.chain_id} at the recorded "
                           f"{', '.join(missing_code)}: the local chain was reset (or the record "
                           f"belongs to another chain). {remedy}")
    settlement_problem = _settlement_problem(record, settlement)
    if settlement_problem:
        problems.append(f"{settlement_problem}. {remedy}")
    if problems:
        raise DeploymentError("; ".join(problems))


def _platform_from_record(chain: Chain, record: Mapping[str, Any]) -> Platform:
    from munibond.platform import DeployedContract, Platform, PlatformAddresses

    contracts = record["contracts"]
    deployments: list[DeployedContract] = []
    for key, entry in contracts.items():
        if isinstance(entry, Mapping) and entry.get("tx_hash") and entry.get("block") is not None:
            deployments.append(DeployedContract(
                part=key, contract=str(entry.get("contract") or ""), address=entry["address"],
                tx_hash=str(entry["tx_hash"]), block_number=int(entry["block"]),
                gas_used=int(entry.get("gas_used") or 0)))
    token = contracts.get("settlement_token")
    addresses = PlatformAddresses(
        servicing=contracts["servicing"]["address"],
        implementation=contracts["implementation"]["address"],
        factory=contracts["factory"]["address"],
        settlement_token=token["address"] if isinstance(token, Mapping) else None,
        deployments=tuple(deployments))
    return Platform(chain, addresses)


def ensure_platform(chain: Chain, signer: LocalAccount, network: str, *,
                    settlement: SettlementSpec = "auto", admin: str | None = None,
                    registrar: str | None = None, creator: str | None = None,
                    root: str | os.PathLike[str] = DEFAULT_ROOT,
                    fresh: bool = False, replace_if_reset: bool = False,
                    report: Report | None = None) -> Platform:
    """The platform recorded for ``network``, verified; or a new one, deployed and recorded.

    With a record, nothing is sent: the chain id and genesis hash must match and the code at every
    recorded address must have the recorded hash, else DeploymentError says what differs and what
    to do. ``fresh=True`` deploys a new platform whatever is recorded and removes the network's
    bond records (they belong to the old factory). ``replace_if_reset=True`` does the same only
    when the recorded chain is gone (another genesis, or no code at the recorded addresses): for
    throw-away chains such as brownie's ``development`` network, started anew on every run.

    ``settlement``: see :data:`SettlementSpec`. ``admin`` (registry and factory admin, owner of a
    mock settlement token), ``registrar`` (REGISTRAR_ROLE) and ``creator`` (the factory's
    CREATOR_ROLE, needed by :func:`ensure_bond`) default to the signer; they matter only when a
    platform is deployed.
    ``report`` receives progress lines for people (the scripts print them).
    """
    directory = network_dir(network, root)
    file = directory / PLATFORM_FILE
    say = report or (lambda message: log.info("%s", message))
    with _locked(directory):
        if file.exists() and not fresh:
            record = read_record(file, expected_format=PLATFORM_FORMAT)
            try:
                _verify_platform(chain, record, file, settlement, say)
            except DeploymentError as error:
                if not (replace_if_reset and _is_reset(chain, record)):
                    raise
                say(f"the chain recorded in {file} is gone ({str(error).split(';')[0]}); "
                    f"deploying a new platform")
            else:
                say(f"platform on {network} (chain id {chain.chain_id}) reused from {file}: "
                    f"factory {record['contracts']['factory']['address']}")
                return _platform_from_record(chain, record)
        record = _deploy_platform(chain, signer, network, settlement=settlement, admin=admin,
                                  registrar=registrar, creator=creator, say=say)
        write_record(file, record)
        removed = _remove_bond_records(directory)
        say(f"platform deployed on {network} (chain id {chain.chain_id}) and recorded in {file}: "
            f"factory {record['contracts']['factory']['address']}")
        for path in removed:
            say(f"removed {path}: it recorded a bond of the replaced platform")
        return _platform_from_record(chain, record)


def _is_reset(chain: Chain, record: Mapping[str, Any]) -> bool:
    """True when the chain the record describes is gone (same chain id, other genesis; or none of
    the recorded contracts has code)."""
    if record.get("chain_id") != chain.chain_id:
        return False
    if record.get("genesis_hash") != genesis_hash(chain):
        return True
    contracts = record.get("contracts") or {}
    addresses = [str(entry["address"]) for entry in contracts.values()
                 if isinstance(entry, Mapping) and isinstance(entry.get("address"), str)
                 and is_address(entry["address"])]
    return bool(addresses) and all(not _code_at(chain, a) for a in addresses)


def _remove_bond_records(directory: Path) -> list[Path]:
    """Remove the network's bond records: a newly deployed platform has no bonds yet, so every
    bond record there belongs to the platform it replaced (whose factory may even have had the
    same address, on a local chain started again)."""
    removed: list[Path] = []
    for path in sorted(directory.glob("*.json")):
        if path.name == PLATFORM_FILE:
            continue
        try:
            data = read_record(path)
        except DeploymentError:
            continue
        if data.get("format") == BOND_FORMAT:
            path.unlink()
            removed.append(path)
    return removed


def _deploy_platform(chain: Chain, signer: LocalAccount, network: str, *,
                     settlement: SettlementSpec, admin: str | None, registrar: str | None,
                     creator: str | None, say: Report) -> dict[str, Any]:
    from munibond.platform import deploy_platform_contracts

    mock, existing = _resolve_settlement(chain, settlement)
    genesis = genesis_hash(chain)
    deployer = to_checksum_address(signer.address)
    admin_address = to_checksum_address(admin) if admin else deployer
    registrar_address = to_checksum_address(registrar) if registrar else deployer
    creator_address = to_checksum_address(creator) if creator else deployer
    if existing is not None and not _code_at(chain, existing):
        raise DeploymentError(f"there is no contract at the settlement token address {existing} "
                              f"on chain {chain.chain_id}")
    say(f"deploying the platform on {network} (chain id {chain.chain_id}) from {deployer}"
        + (f" with a mock settlement token {mock[1]} ({mock[2]} decimals)" if mock else ""))
    addresses = deploy_platform_contracts(chain, signer, admin=admin_address,
                                          registrar=registrar_address, creator=creator_address,
                                          settlement=mock)
    contracts: dict[str, Any] = {}
    coupons = created_address(addresses.servicing, 1)
    expected: dict[str, list[int | str]] = {
        "servicing": [coupons],
        "implementation": [addresses.servicing, addresses.implementation],
        "factory": [addresses.implementation],
    }
    for key, artifact in _PLATFORM_CONTRACTS:
        contracts[key] = _contract_entry(chain, artifact=artifact, address=getattr(addresses, key),
                                         deployment=addresses.deployment(key),
                                         expected_immutables=expected[key])
    # BondServicing creates the bonds' payments module in its constructor (its first CREATE)
    servicing_deployment = addresses.deployment("servicing")
    contracts["coupons"] = _contract_entry(chain, artifact="BondCoupons", address=coupons,
                                           deployment=servicing_deployment,
                                           expected_immutables=[])
    contracts["coupons"]["gas_used"] = None
    if mock is not None:
        if addresses.settlement_token is None:
            raise DeploymentError("a mock settlement token was asked for but none was deployed")
        entry = _contract_entry(chain, artifact="MockSettlementToken",
                                address=addresses.settlement_token,
                                deployment=addresses.deployment("settlement_token"),
                                expected_immutables=[mock[2]])
        entry["mock"] = {"decimals": mock[2], "name": mock[0], "symbol": mock[1]}
        contracts["settlement_token"] = entry
    elif existing is not None:
        contracts["settlement_token"] = _contract_entry(
            chain, artifact=None, address=existing, deployment=None, expected_immutables=None)
    else:
        contracts["settlement_token"] = None
    return {
        "admin": admin_address,
        "chain_id": chain.chain_id,
        "compiler": _compiler_facts(),
        "contracts": contracts,
        "created_at": _now(),
        "creator": creator_address,
        "deployer": deployer,
        "format": PLATFORM_FORMAT,
        "genesis_hash": genesis,
        "munibond_version": _munibond_version(),
        "network": network,
        "registrar": registrar_address,
        "registry": contracts["implementation"]["address"],
    }


# --- bonds -----------------------------------------------------------------------------------

def _platform_factory(platform: Platform) -> str:
    return to_checksum_address(platform.addresses.factory)


def _platform_implementation(platform: Platform) -> str:
    return to_checksum_address(platform.addresses.implementation)


def _platform_settlement(platform: Platform) -> str | None:
    token = platform.addresses.settlement_token
    return None if token is None else to_checksum_address(token)


def _factory_bond(platform: Platform, code: str) -> str | None:
    found = platform.factory.bond_by_code(code)
    return None if found is None else to_checksum_address(found.address)


def _expected_terms(ts: TermSheet, settlement_token: str | None) -> tuple[Any, ...]:
    from munibond.onchain import terms_tuple

    return terms_tuple(ts, settlement_token=settlement_token)


_TERM_FIELDS: Final = ("code", "isin", "name", "symbol", "issuerName", "currencyCode",
                       "currency", "decimals", "denomination", "issueVolume", "issueDate",
                       "maturityDate", "couponRate", "couponFrequency", "redemptionPrice")


def _bond_contract(chain: Chain, address: str) -> Any:
    from munibond.contracts import bond_abi

    return chain.w3.eth.contract(address=to_checksum_address(address), abi=bond_abi())


def _onchain_terms(chain: Chain, address: str) -> dict[str, Any]:
    """The bond's ``terms()`` as a plain dict keyed by the struct's field names."""
    raw = tuple(chain.call(_bond_contract(chain, address).functions.terms()))
    return {name: (to_checksum_address(value) if name == "currency" else value)
            for name, value in zip(_TERM_FIELDS, raw, strict=True)}


def _terms_differences(chain: Chain, address: str, ts: TermSheet,
                       settlement_token: str | None) -> list[str]:
    from munibond.onchain import rules_tuple

    contract = _bond_contract(chain, address)
    on_chain = tuple(chain.call(contract.functions.terms()))
    wanted = _expected_terms(ts, settlement_token)
    differences: list[str] = []
    called = _called_maturity(chain, contract)
    for name, have, want in zip(_TERM_FIELDS, on_chain, wanted, strict=True):
        if isinstance(have, str) and is_address(have) and isinstance(want, str):
            same = have.lower() == want.lower()
        elif name == "maturityDate" and called is not None:
            # an issuer call moved the maturity to the called period's payment time
            same = have == called and have < want
        else:
            same = have == want
        if not same:
            source = "expected (the platform's settlement token)" if name == "currency" \
                else "in the term sheet"
            differences.append(f"{name}: {have!r} on chain, {want!r} {source}")
    rules_on_chain = tuple(chain.call(contract.functions.rules()))
    rules_wanted = rules_tuple(ts)
    if pack_rules(rules_on_chain) != pack_rules(rules_wanted):
        differences.append(f"rules: {decode_rule_words(pack_rules(rules_on_chain))} on chain, "
                           f"{decode_rule_words(pack_rules(rules_wanted))} in the term sheet")
    return differences


def _called_maturity(chain: Chain, contract: Any) -> int | None:
    """The payment time of the period an issuer call made final (the bond's maturity since),
    or None when the bond was not called."""
    from munibond.ledger import fetch_logs

    topic = keccak(text="CallAnnounced(uint256,uint256,uint64,address)")
    logs = fetch_logs(chain, contract.address, from_block=0, to_block=chain.block_number(),
                      topics=[HexBytes(topic)])
    if not logs:
        return None
    return int.from_bytes(HexBytes(logs[-1]["data"])[:32], "big")


def _bond_creation(chain: Chain, factory: str, bond: str, from_block: int
                   ) -> tuple[str | None, int | None, str | None]:
    """(tx hash, block, creator) of the factory's BondCreated event for ``bond``."""
    from munibond.ledger import fetch_logs

    topic = keccak(text="BondCreated(address,string,string,address)")
    bond_topic = HexBytes(bytes(12) + bytes.fromhex(to_checksum_address(bond)[2:]))
    logs = fetch_logs(chain, factory, from_block=from_block, to_block=chain.block_number(),
                      topics=[HexBytes(topic), bond_topic])
    if not logs:
        return None, None, None
    entry = logs[0]
    creator = to_checksum_address(HexBytes(entry["topics"][2])[-20:])
    return HexBytes(entry["transactionHash"]).to_0x_hex(), int(entry["blockNumber"]), creator


def _bond_record(chain: Chain, platform: Platform, *, network: str, ts: TermSheet,
                 term_sheet: Path, sha: str, address: str, tx_hash: str | None,
                 block: int | None, creator: str | None, adopted: bool,
                 root: Path) -> dict[str, Any]:
    code = _code_at(chain, address)
    implementation, words = parse_clone(code)
    terms = _onchain_terms(chain, address)
    currency = terms["currency"]
    return {
        "address": to_checksum_address(address),
        "adopted": adopted,
        "block": block,
        "chain_id": chain.chain_id,
        "code": ts.bond.code,
        "code_hash": code_hash(code),
        "created_at": _now(),
        "creator": creator,
        "factory": _platform_factory(platform),
        "format": BOND_FORMAT,
        "genesis_hash": genesis_hash(chain),
        "implementation": implementation,
        "isin": ts.bond.isin,
        "munibond_version": _munibond_version(),
        "name": ts.bond.name,
        "network": network,
        "registry": implementation,
        "rule_words": ["0x" + w.to_bytes(32, "big").hex() for w in words],
        "rules": decode_rule_words(words),
        "settlement_token": None if int(currency, 16) == 0 else currency,
        "symbol": ts.bond.symbol,
        "term_sheet": {"path": _shown_path(term_sheet, root), "sha256": sha},
        "terms": terms,
        "tx_hash": tx_hash,
    }


def _bond_object(chain: Chain, address: str) -> Bond:
    from munibond.bond import Bond

    return Bond(chain, address)


def _check_clone(chain: Chain, address: str, implementation: str, ts: TermSheet) -> str | None:
    """Why the code at ``address`` is not the clone the factory makes for ``ts`` (None if it is)."""
    from munibond.onchain import rules_tuple

    code = _code_at(chain, address)
    if not code:
        return f"there is no code at {address}"
    words = pack_rules(rules_tuple(ts))
    expected = clone_code(implementation, b"".join(w.to_bytes(32, "big") for w in words))
    if code != expected:
        try:
            found_impl, found_words = parse_clone(code)
        except DeploymentError as error:
            return str(error)
        if found_impl != implementation:
            return (f"the clone at {address} delegates to {found_impl}, not to the platform's "
                    f"implementation {implementation}")
        return (f"the clone at {address} carries the rules {decode_rule_words(found_words)}, "
                f"the term sheet says {decode_rule_words(words)}")
    return None


def ensure_bond(chain: Chain, signer: LocalAccount, platform: Platform,
                term_sheet_path: str | os.PathLike[str], network: str, *,
                root: str | os.PathLike[str] = DEFAULT_ROOT,
                settlement_token: str | None = None, roles_default: str | None = None,
                accept_term_sheet_edits: bool = False,
                report: Report | None = None) -> Bond:
    """The bond of ``term_sheet_path`` on ``network``: reused from its record, adopted from the
    chain, or created and recorded.

    * With a record (``<root>/<network>/<code>.json``): nothing is sent. The record must belong to
      the platform's factory, the term sheet file must have the recorded SHA-256, the factory must
      still map the code to the recorded address and the code there must have the recorded hash.
      An edited term sheet raises DeploymentError (a bond's terms are fixed on chain): revert the
      edit, or give the bond a new code. ``accept_term_sheet_edits=True`` accepts an edited file
      whose terms and rules still equal those on chain (comments, documents) and updates the
      recorded hash.
    * Without a record, when the factory already has a bond with the code (created by another
      machine, or a record lost): the bond's clone code, terms and rules are compared with the term
      sheet and, if they all match, the bond is adopted and recorded (``"adopted": true``); any
      difference raises DeploymentError listing it.
    * Otherwise the bond is created through the factory and recorded.

    ``settlement_token`` defaults to the platform's; ``roles_default`` (the holder of every role
    the term sheet leaves out) to the signer.
    """
    from munibond.termsheet import load_term_sheet

    term_sheet = Path(term_sheet_path)
    ts = load_term_sheet(term_sheet)
    sha = file_sha256(term_sheet)
    code = ts.bond.code
    root_path = Path(root)
    file = bond_record_path(network, code, root_path)
    say = report or (lambda message: log.info("%s", message))
    factory = _platform_factory(platform)
    implementation = _platform_implementation(platform)
    token = settlement_token if settlement_token is not None else _platform_settlement(platform)
    with _locked(file.parent):
        if file.exists():
            record = read_record(file, expected_format=BOND_FORMAT)
            if record.get("code") != code:
                raise DeploymentError(f"{file} records bond {record.get('code')!r}, not "
                                      f"{code!r}: restore it or delete it")
            address = _verify_bond_record(chain, platform, record, file)
            # a half-made bond (no schedule, nothing issued) is completed from the term sheet,
            # amended in place, or replaced; any other bond's terms are fixed
            half_made = _half_made(chain, address)
            changed = half_made and bool(_terms_differences(chain, address, ts, token))
            if half_made:
                preflight(chain, ts, token)  # its schedule must still be possible
            else:
                _check_term_sheet(chain, record, address, ts, sha, term_sheet,
                                  accept_term_sheet_edits, token)
            if changed and _same_rules(chain, address, ts):
                _complete_bond(chain, signer, address, ts, token, say)
                updated = dict(record)
                updated["term_sheet"] = {"path": _shown_path(term_sheet, root_path),
                                         "sha256": sha}
                write_record(file, updated)
                return _bond_object(chain, address)
            if changed:
                _retire_half_made(chain, signer, platform, address, ts, file, say)
            else:
                if record.get("term_sheet", {}).get("sha256") != sha:
                    updated = dict(record)
                    updated["term_sheet"] = {"path": _shown_path(term_sheet, root_path),
                                             "sha256": sha}
                    write_record(file, updated)
                    say(f"{term_sheet} was edited but its terms and rules equal those on "
                        f"chain: the new SHA-256 is recorded in {file}")
                say(f"bond {code} on {network} reused from {file}: {address}")
                return _bond_object(chain, address)

        existing = _factory_bond(platform, code)
        if existing is not None:
            problem = _check_clone(chain, existing, implementation, ts)
            differences = [problem] if problem else []
            differences += _terms_differences(chain, existing, ts, token)
            if differences:
                raise DeploymentError(
                    f"the factory {factory} already has a bond {code} at {existing}, but it is "
                    f"not the bond {term_sheet} describes: " + "; ".join(differences)
                    + ". Give the new bond another code, or restore the term sheet it was "
                      "created from")
            start = _factory_block(root_path, network)
            tx_hash, block, creator = _bond_creation(chain, factory, existing, start)
            record = _bond_record(chain, platform, network=network, ts=ts, term_sheet=term_sheet,
                                  sha=sha, address=existing, tx_hash=tx_hash, block=block,
                                  creator=creator, adopted=True, root=root_path)
            write_record(file, record)
            say(f"bond {code} found on chain at {existing} without a record: its code, terms and "
                f"rules match {term_sheet}; adopted and recorded in {file}")
            return _bond_object(chain, existing)

        preflight(chain, ts, token)
        say(f"creating bond {code} on {network} from {term_sheet.resolve()}")
        bond, receipt = platform.factory.create_bond(
            signer, ts, settlement_token=token,
            roles_default=roles_default or to_checksum_address(signer.address))
        address = to_checksum_address(bond.address)
        problem = _check_clone(chain, address, implementation, ts)
        if problem:
            raise DeploymentError(f"the bond just created at {address} is not the expected "
                                  f"clone: {problem}")
        record = _bond_record(
            chain, platform, network=network, ts=ts, term_sheet=term_sheet, sha=sha,
            address=address, tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            block=int(receipt["blockNumber"]), creator=to_checksum_address(signer.address),
            adopted=False, root=root_path)
        write_record(file, record)
        say(f"bond {code} created at {address} (block {record['block']}) and recorded in {file}")
        return bond


def _factory_block(root: Path, network: str) -> int:
    """The factory's deployment block from the platform record (0 when unknown)."""
    with contextlib.suppress(DeploymentError):
        record = read_record(platform_record_path(network, root))
        block = (record.get("contracts") or {}).get("factory", {}).get("block")
        if isinstance(block, int):
            return block
    return 0


def _verify_bond_record(chain: Chain, platform: Platform, record: Mapping[str, Any],
                        file: Path) -> str:
    """The recorded bond's address after checking the record against the chain (chain id,
    genesis, factory, the factory's code -> address mapping, the code hash)."""
    directory = file.parent
    code = str(record.get("code"))
    remedy = (f"Delete {file} (the bond is then recreated, or adopted if the factory has it), "
              f"or {_fresh_hint(directory, capital=False)}")
    problems = _chain_problems(record, chain, genesis_hash(chain), file, remedy + ".")
    if problems:
        raise DeploymentError("; ".join(problems))
    address = record.get("address")
    if not isinstance(address, str) or not is_address(address):
        raise DeploymentError(f"{file} has no valid bond address. {remedy}")
    address = to_checksum_address(address)
    factory = _platform_factory(platform)
    if str(record.get("factory", "")).lower() != factory.lower():
        raise DeploymentError(
            f"{file} records bond {code} of factory {record.get('factory')}, but the platform's "
            f"factory is {factory}: the record belongs to a replaced platform. {remedy}")
    on_factory = _factory_bond(platform, code)
    if on_factory != address:
        raise DeploymentError(
            f"the factory {factory} maps bond {code} to {on_factory or 'no bond'}, but {file} "
            f"records {address}: the chain was reset or the record was edited. {remedy}")
    found = code_hash(_code_at(chain, address))
    if found != record.get("code_hash"):
        raise DeploymentError(
            f"the code at {address} (bond {code}) is not the one recorded (keccak "
            f"{record.get('code_hash')} recorded, {found} on chain): the record was edited. "
            f"{remedy}")
    return address


def _half_made(chain: Chain, address: str) -> bool:
    """Whether the bond at ``address`` is a half-made one (a deployment that stopped after
    creating it): nothing issued, no payment schedule on chain, not retired."""
    contract = _bond_contract(chain, address)
    return not (bool(chain.call(contract.functions.issued()))
                or bool(chain.call(contract.functions.closed()))
                or int(chain.call(contract.functions.paymentTerms())[1]) != 0)


def _same_rules(chain: Chain, address: str, ts: TermSheet) -> bool:
    """Whether the bond at ``address`` has the term sheet's transfer rules (they are the clone's
    code: a half-made bond with other rules cannot be completed in place, only replaced)."""
    from munibond.onchain import rules_tuple

    rules_on_chain = tuple(chain.call(_bond_contract(chain, address).functions.rules()))
    return pack_rules(rules_on_chain) == pack_rules(rules_tuple(ts))


def _retire_half_made(chain: Chain, signer: LocalAccount, platform: Platform, address: str,
                      ts: TermSheet, file: Path, say: Report) -> None:
    """Retire the half-made bond at ``address`` (its rules differ from the corrected term
    sheet's), free its code in the factory and set its record aside, so that the bond can be
    created again from the corrected term sheet. Checks both roles before sending anything."""
    from munibond.contracts import CREATOR_ROLE, DEFAULT_ADMIN_ROLE

    bond = _bond_object(chain, address)
    who = to_checksum_address(signer.address)
    if not bond.has_role(DEFAULT_ADMIN_ROLE, who) or \
            not platform.factory.has_role(CREATOR_ROLE, who):
        raise DeploymentError(
            f"bond {ts.bond.code} at {address} was created but never got its payment schedule, "
            f"and the corrected term sheet changes its transfer rules, which are the bond's "
            f"code: it must be retired and created again, which needs the bond's admin and the "
            f"factory's CREATOR_ROLE; {who} lacks one of them. Nothing was sent")
    bond.retire(signer)
    platform.factory.release_code(signer, ts.bond.code)
    retired_dir = file.parent / "retired"
    retired_dir.mkdir(exist_ok=True)
    aside = retired_dir / f"{file.stem}-{address}.json"
    file.replace(aside)
    say(f"bond {ts.bond.code} at {address} had no payment schedule and issued nothing, and the "
        f"corrected term sheet changes its transfer rules: it was retired (closed for good), its "
        f"code freed, and its record kept as {aside.resolve()}")


def _complete_bond(chain: Chain, signer: LocalAccount, address: str, ts: TermSheet,
                   token: str | None, say: Report) -> None:
    """Amend the terms of a half-made bond (see :func:`_half_made`) to the term sheet's."""
    from munibond.contracts import DEFAULT_ADMIN_ROLE

    bond = _bond_object(chain, address)
    admin = to_checksum_address(signer.address)
    if not bond.has_role(DEFAULT_ADMIN_ROLE, admin):
        raise DeploymentError(f"bond {ts.bond.code} at {address} was created but never got its "
                              f"payment schedule; completing it from the corrected term sheet "
                              f"needs its admin's key, and {admin} is not its admin")
    bond._transact(signer, "amendTerms", _expected_terms(ts, token))
    say(f"bond {ts.bond.code} at {address} had no payment schedule and issued nothing: its terms "
        f"were amended to the corrected term sheet")


def preflight(chain: Chain, ts: TermSheet, token: str | None) -> None:
    """Everything about a new bond that can be checked before the first transaction, so that a
    deployment does not leave a half-made bond: a settlement token that is a contract, the
    on-chain schedule (totals, exponents, call terms) and a first record time after the chain's
    time. Raises DeploymentError or TermSheetError saying what to change."""
    from munibond.payment_setup import check_first_record, onchain_schedule_for

    if token is None:
        raise DeploymentError(
            f"bond {ts.bond.code} needs a settlement token to pay its coupons and principal on "
            f"chain: give one (a JPY stablecoin's address, or `--settlement mock` on a local "
            f"chain); nothing was sent")
    if not chain.w3.eth.get_code(to_checksum_address(token)):
        raise DeploymentError(f"the settlement token {token} is not a contract on this chain; "
                              f"nothing was sent")
    check_first_record(ts, onchain_schedule_for(chain, ts, token), chain.now())


def _check_term_sheet(chain: Chain, record: Mapping[str, Any], address: str, ts: TermSheet,
                      sha: str, term_sheet: Path, accept_edits: bool, token: str | None) -> None:
    """Raise unless the term sheet file is the one the bond was created from (or, with
    ``accept_edits``, an edit that leaves the terms and rules as they are on chain)."""
    recorded_sha = (record.get("term_sheet") or {}).get("sha256")
    if recorded_sha == sha:
        return
    differences = _terms_differences(chain, address, ts, token)
    if differences or not accept_edits:
        detail = ("its terms now differ from the bond's on chain: " + "; ".join(differences)
                  if differences else "its terms and rules still equal those on chain")
        raise DeploymentError(
            f"{term_sheet} changed since bond {ts.bond.code} was created from it (SHA-256 "
            f"{recorded_sha} recorded, {sha} now); {detail}. A bond's terms are fixed on chain: "
            f"restore the term sheet, or give a changed bond a new code (bond.code)"
            + ("" if differences else "; to record the edited file, pass "
               "--accept-term-sheet-edits (accept_term_sheet_edits=True)"))


def load_platform(chain: Chain, network: str, *, root: str | os.PathLike[str] = DEFAULT_ROOT,
                  report: Report | None = None) -> Platform:
    """The platform recorded for ``network``, verified against the chain as
    :func:`ensure_platform` does, without ever deploying: no record raises DeploymentError."""
    file = platform_record_path(network, root)
    if not file.exists():
        raise DeploymentError(f"no platform is recorded for network {network!r} ({file} does not "
                              f"exist): deploy one first, e.g. with scripts/deploy_bond.py")
    record = read_record(file, expected_format=PLATFORM_FORMAT)
    _verify_platform(chain, record, file, "auto", report)
    return _platform_from_record(chain, record)


def recorded_bonds(network: str, root: str | os.PathLike[str] = DEFAULT_ROOT) -> list[str]:
    """Codes of the bonds recorded for ``network``, sorted."""
    directory = network_dir(network, root)
    found: list[str] = []
    for path in sorted(directory.glob("*.json")):
        if path.name == PLATFORM_FILE:
            continue
        with contextlib.suppress(DeploymentError):
            record = read_record(path, expected_format=BOND_FORMAT)
            if isinstance(record.get("code"), str):
                found.append(record["code"])
    return sorted(found)


def load_bond(chain: Chain, platform: Platform, network: str, code: str | None = None, *,
              root: str | os.PathLike[str] = DEFAULT_ROOT,
              report: Report | None = None) -> Bond:
    """The bond recorded as ``code`` on ``network`` (default: the only bond recorded there),
    verified against the chain (chain, factory, address, code hash); never creates one.

    When the term sheet file the record names still exists and no longer has the recorded
    SHA-256, ``report`` is told (the bond on chain is unaffected)."""
    if code is None:
        codes_found = recorded_bonds(network, root)
        if len(codes_found) != 1:
            listed = ", ".join(codes_found) if codes_found else "none"
            raise DeploymentError(
                f"give the bond code: {len(codes_found)} bonds are recorded for {network} "
                f"({listed})" if codes_found else
                f"no bond is recorded for network {network!r}: create one first, e.g. with "
                f"scripts/deploy_bond.py")
        code = codes_found[0]
    file = bond_record_path(network, code, root)
    if not file.exists():
        known = ", ".join(recorded_bonds(network, root)) or "none"
        raise DeploymentError(f"no bond {code!r} is recorded for network {network!r} ({file} "
                              f"does not exist; recorded: {known})")
    record = read_record(file, expected_format=BOND_FORMAT)
    address = _verify_bond_record(chain, platform, record, file)
    sheet = (record.get("term_sheet") or {})
    path = Path(str(sheet.get("path", "")))
    if not path.is_absolute():
        path = Path(root).resolve().parent / path
    if report is not None and path.is_file() and file_sha256(path) != sheet.get("sha256"):
        report(f"note: {path} changed since bond {code} was created from it; the bond on chain "
               f"keeps the terms it was created with")
    return _bond_object(chain, address)


def summary_lines(network: str, root: str | os.PathLike[str] = DEFAULT_ROOT) -> list[str]:
    """Short lines describing what is recorded for ``network`` (for scripts and the CLI)."""
    directory = network_dir(network, root)
    lines: list[str] = []
    file = directory / PLATFORM_FILE
    if not file.exists():
        return [f"nothing recorded for {network} in {directory}"]
    record = read_record(file)
    contracts = record.get("contracts") or {}
    lines.append(f"platform on {network} (chain id {record.get('chain_id')}), recorded "
                 f"{record.get('created_at')}:")
    for key in ("servicing", "coupons", "implementation", "factory", "settlement_token"):
        entry = contracts.get(key)
        if isinstance(entry, Mapping):
            kind = entry.get("contract") or "external"
            lines.append(f"  {key:<17} {entry.get('address')}  ({kind})")
    for path in sorted(directory.glob("*.json")):
        if path.name == PLATFORM_FILE:
            continue
        with contextlib.suppress(DeploymentError):
            bond = read_record(path, expected_format=BOND_FORMAT)
            lines.append(f"  bond {bond.get('code'):<12} {bond.get('address')}  (from "
                         f"{(bond.get('term_sheet') or {}).get('path')})")
    return lines


@dataclass(frozen=True)
class DocumentsOutcome:
    """What :func:`publish_documents` did: names published, already on chain as given, left out
    (no URI), and not published because the signer is not the bond's issuer."""

    published: tuple[str, ...]
    unchanged: tuple[str, ...]
    without_uri: tuple[str, ...]
    not_issuer: tuple[str, ...]


def publish_documents(bond: Bond, signer: LocalAccount, ts: TermSheet) -> DocumentsOutcome:
    """Put the term sheet's documents on the bond (ERC-1643) where the bond lacks them or has
    another URI or hash; documents already as given send nothing, so a re-run is free. A signer
    without the bond's ISSUER_ROLE publishes nothing (the outcome says which were left)."""
    from munibond.contracts import ISSUER_ROLE

    wanted = [d for d in ts.documents if d.uri.strip()]
    without_uri = tuple(d.name for d in ts.documents if not d.uri.strip())
    changes = []
    for document in wanted:
        current = bond.document(document.name)
        if current is None or current.uri != document.uri \
                or current.sha256 != document.hash_bytes:
            changes.append(document)
    unchanged = tuple(d.name for d in wanted if d not in changes)
    if changes and not bond.has_role(ISSUER_ROLE, signer.address):
        return DocumentsOutcome((), unchanged, without_uri, tuple(d.name for d in changes))
    for document in changes:
        bond.set_document(signer, document.name, document.uri, document.hash_bytes)
    return DocumentsOutcome(tuple(d.name for d in changes), unchanged, without_uri, ())
