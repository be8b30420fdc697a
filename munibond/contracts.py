"""ABIs of the platform's contracts and the table of role names.

The compiled artifacts (:mod:`munibond.artifacts`) are the source of truth; this module shapes
them for web3:

* :func:`bond_abi` - what a bond clone answers: ``BondToken``'s ABI merged with
  ``BondServicing``'s (the token's fallback delegates every selector it does not know to the
  servicing contract). Entries are deduplicated by ``(type, name, input types)`` and constructor,
  fallback and receive entries are dropped, because web3 refuses duplicate selectors;
* :func:`registry_abi` - the platform's investor registry, which lives at the ``BondToken``
  implementation's own address;
* :func:`factory_abi`, :func:`settlement_abi` - ``BondFactory`` and the local
  ``MockSettlementToken`` (any ERC-20 settlement token answers its ERC-20 part);
* :func:`error_abis` - every custom error declared by any artifact, by 4-byte selector (what
  :func:`munibond.errors.decode_revert` decodes with).

Roles are ``bytes32`` hashes on chain: ``keccak256("ISSUER_ROLE")`` and so on, except
``DEFAULT_ADMIN_ROLE``, which is zero. :func:`role_hash` accepts a role's name in any usual
spelling (``"issuer"``, ``"ISSUER_ROLE"``, ``"transfer-agent"``, ``"admin"``) and
:func:`role_name` turns a hash back into the name.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from eth_utils.crypto import keccak

from munibond.artifacts import artifact_names, load_artifact
from munibond.exceptions import MunibondError

__all__ = [
    "ABI",
    "CREATOR_ROLE",
    "DEFAULT_ADMIN_ROLE",
    "ISSUER_ROLE",
    "PAUSER_ROLE",
    "PAYING_AGENT_ROLE",
    "REGISTRAR_ROLE",
    "ROLES",
    "ROLE_NAMES",
    "TRANSFER_AGENT_ROLE",
    "UnknownRole",
    "abi_signature",
    "bond_abi",
    "canonical_type",
    "error_abis",
    "error_docs",
    "factory_abi",
    "merge_abis",
    "registry_abi",
    "role_hash",
    "role_name",
    "settlement_abi",
]

#: An ABI as web3 takes it (a sequence of JSON objects); do not modify the entries.
ABI = Sequence[Mapping[str, Any]]

DEFAULT_ADMIN_ROLE: Final = bytes(32)
ISSUER_ROLE: Final = keccak(text="ISSUER_ROLE")
TRANSFER_AGENT_ROLE: Final = keccak(text="TRANSFER_AGENT_ROLE")
PAUSER_ROLE: Final = keccak(text="PAUSER_ROLE")
PAYING_AGENT_ROLE: Final = keccak(text="PAYING_AGENT_ROLE")
REGISTRAR_ROLE: Final = keccak(text="REGISTRAR_ROLE")
CREATOR_ROLE: Final = keccak(text="CREATOR_ROLE")

#: Role name (as the contracts spell the constant) -> ``bytes32`` hash.
ROLES: Final[Mapping[str, bytes]] = MappingProxyType({
    "DEFAULT_ADMIN_ROLE": DEFAULT_ADMIN_ROLE,
    "ISSUER_ROLE": ISSUER_ROLE,
    "TRANSFER_AGENT_ROLE": TRANSFER_AGENT_ROLE,
    "PAUSER_ROLE": PAUSER_ROLE,
    "PAYING_AGENT_ROLE": PAYING_AGENT_ROLE,
    "REGISTRAR_ROLE": REGISTRAR_ROLE,
    "CREATOR_ROLE": CREATOR_ROLE,
})
#: ``bytes32`` hash -> role name.
ROLE_NAMES: Final[Mapping[bytes, str]] = MappingProxyType({v: k for k, v in ROLES.items()})

_ROLE_ALIASES: Final[Mapping[str, str]] = MappingProxyType({
    "ADMIN": "DEFAULT_ADMIN_ROLE",
    "DEFAULT_ADMIN": "DEFAULT_ADMIN_ROLE",
    "ISSUER": "ISSUER_ROLE",
    "TRANSFER_AGENT": "TRANSFER_AGENT_ROLE",
    "AGENT": "TRANSFER_AGENT_ROLE",
    "PAUSER": "PAUSER_ROLE",
    "PAYING_AGENT": "PAYING_AGENT_ROLE",
    "PAYING": "PAYING_AGENT_ROLE",
    "REGISTRAR": "REGISTRAR_ROLE",
    "CREATOR": "CREATOR_ROLE",
})


class UnknownRole(MunibondError, ValueError):
    """A role name that is not one of the platform's roles."""


def role_hash(role: str | bytes) -> bytes:
    """The ``bytes32`` of a role: ``"issuer"``, ``"ISSUER_ROLE"`` or ``"Issuer-Role"`` all give
    ``keccak256("ISSUER_ROLE")``; ``"admin"`` gives ``DEFAULT_ADMIN_ROLE`` (zero). A 32-byte value
    or a ``0x`` hex string of 32 bytes is returned as it is (a role this table does not know)."""
    if isinstance(role, bytes | bytearray):
        if len(role) != 32:
            raise UnknownRole(f"a role hash is 32 bytes, got {len(role)}")
        return bytes(role)
    text = role.strip()
    if text[:2] in ("0x", "0X") and len(text) == 66:
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    key = text.upper().replace("-", "_").replace(" ", "_")
    key = _ROLE_ALIASES.get(key, key)
    if key not in ROLES and f"{key}_ROLE" in ROLES:
        key = f"{key}_ROLE"
    if key not in ROLES:
        known = ", ".join(sorted(ROLES))
        raise UnknownRole(f"unknown role {role!r}; the roles are {known} (or their short forms: "
                          f"admin, issuer, transfer_agent, pauser, registrar, creator)")
    return ROLES[key]


def role_name(role: bytes | str) -> str:
    """The name of a role hash (``"ISSUER_ROLE"``), or ``0x`` hex when it is not a known role."""
    raw = bytes.fromhex(role[2:] if role[:2] in ("0x", "0X") else role) \
        if isinstance(role, str) else bytes(role)
    return ROLE_NAMES.get(raw, "0x" + raw.hex())


# --- ABI shaping ------------------------------------------------------------------------------

def canonical_type(param: Mapping[str, Any]) -> str:
    """The canonical Solidity type of an ABI parameter, tuples spelled out:
    ``(uint64,uint16,...)[]`` for an array of structs."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param.get("components", ()))
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def abi_signature(entry: Mapping[str, Any]) -> str:
    """``name(type,...)`` of a function, event or error entry."""
    types = ",".join(canonical_type(p) for p in entry.get("inputs", ()))
    return f"{entry.get('name', '')}({types})"


def merge_abis(*abis: ABI) -> tuple[dict[str, Any], ...]:
    """ABIs merged, deduplicated by ``(type, name, input types)``, first occurrence kept, without
    constructor, fallback and receive entries."""
    seen: set[tuple[str, str]] = set()
    merged: list[dict[str, Any]] = []
    for abi in abis:
        for entry in abi:
            kind = str(entry.get("type", "function"))
            if kind in ("constructor", "fallback", "receive"):
                continue
            key = (kind, abi_signature(entry))
            if key in seen:
                continue
            seen.add(key)
            merged.append(dict(entry))
    return tuple(merged)


@functools.cache
def bond_abi() -> tuple[dict[str, Any], ...]:
    """ABI of a bond clone: ``BondToken``, ``BondServicing`` and ``BondCoupons`` merged (cached)."""
    return merge_abis(load_artifact("BondToken").abi, load_artifact("BondServicing").abi,
                      load_artifact("BondCoupons").abi)


@functools.cache
def registry_abi() -> tuple[dict[str, Any], ...]:
    """ABI of the investor registry: ``BondToken``'s, at the implementation's address (cached)."""
    return merge_abis(load_artifact("BondToken").abi)


@functools.cache
def factory_abi() -> tuple[dict[str, Any], ...]:
    """ABI of ``BondFactory`` (cached)."""
    return merge_abis(load_artifact("BondFactory").abi)


@functools.cache
def settlement_abi() -> tuple[dict[str, Any], ...]:
    """ABI of the local ``MockSettlementToken`` (an ERC-20 with mint and block) (cached)."""
    return merge_abis(load_artifact("MockSettlementToken").abi)


@functools.cache
def error_abis() -> Mapping[bytes, Mapping[str, Any]]:
    """Every custom error any shipped artifact declares, by 4-byte selector (cached)."""
    found: dict[bytes, Mapping[str, Any]] = {}
    for name in artifact_names():
        for entry in load_artifact(name).abi:
            if entry.get("type") == "error":
                selector = keccak(text=abi_signature(entry))[:4]
                found.setdefault(selector, entry)
    return MappingProxyType(found)


@functools.cache
def error_docs() -> Mapping[str, str]:
    """``Name(types)`` -> the first NatSpec sentence explaining the error (``@notice``, else
    ``@dev``), from every artifact (cached)."""
    docs: dict[str, str] = {}
    artifacts = [load_artifact(name) for name in artifact_names()]
    for kind in ("userdoc", "devdoc"):
        for artifact in artifacts:
            errors = getattr(artifact, kind).get("errors", {})
            for signature, items in errors.items():
                if signature in docs:
                    continue
                for item in items:
                    text = item.get("notice") or item.get("details")
                    if text:
                        docs[signature] = " ".join(str(text).split())
                        break
    return MappingProxyType(docs)
