"""BondToken and BondServicing run on the same clone storage (the clone delegates to BondToken,
whose fallback delegates to BondServicing): every variable BondToken has must sit at the same
slot, offset and type in BondServicing, and BondServicing's own variables must come after."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak

from munibond.artifacts import load_artifact

ROOT = Path(__file__).resolve().parents[2]


def _declared_in(path: str) -> set[str]:
    """Names of the state variables (not constants) a Solidity file declares."""
    source = (ROOT / path).read_text()
    source = re.sub(r"//[^\n]*|/\*.*?\*/", "", source, flags=re.S)
    names = set()
    for m in re.finditer(r"^\s*(?!function|event|error|modifier|using|return)([^;{}()=]*?(?:"
                         r"mapping\(.*?\)|[\w\[\]]+))\s+(?:internal|private|public)\s+"
                         r"(?!constant|immutable)(\w+)\s*;", source, flags=re.M):
        names.add(m.group(2))
    return names


BOND_STORAGE_VARS = _declared_in("contracts/token/BondStorage.sol")


def _layout(name: str) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    layout = load_artifact(name).storage_layout
    assert layout, f"{name} has no storageLayout in its artifact"
    variables = {v["label"]: dict(v) for v in layout["storage"]}
    assert len(variables) == len(layout["storage"]), f"{name}: duplicate labels"
    return variables, dict(layout.get("types") or {})


TOKEN, TOKEN_TYPES = _layout("BondToken")
SERVICING, SERVICING_TYPES = _layout("BondServicing")
COUPONS, COUPONS_TYPES = _layout("BondCoupons")


def _type_shape(types: dict[str, Any], type_id: str) -> tuple[Any, ...]:
    t = types[type_id]
    shape: tuple[Any, ...] = (t["encoding"], t["numberOfBytes"], t["label"])
    for key in ("key", "value", "base"):
        if key in t:
            shape += (key, _type_shape(types, t[key]))
    if "members" in t:
        shape += tuple((m["label"], m["slot"], m["offset"], _type_shape(types, m["type"]))
                       for m in t["members"])
    return shape


@pytest.mark.parametrize("label", list(TOKEN))
def test_bond_token_variable_sits_at_the_same_place_in_servicing(label: str) -> None:
    mine = TOKEN[label]
    assert label in SERVICING, f"BondServicing lacks {label}"
    theirs = SERVICING[label]
    assert (mine["slot"], mine["offset"], mine["type"]) == (
        theirs["slot"], theirs["offset"], theirs["type"])
    assert mine["astId"] == theirs["astId"], "declared in different places"
    assert _type_shape(TOKEN_TYPES, mine["type"]) == _type_shape(SERVICING_TYPES, theirs["type"])


@pytest.mark.parametrize("label", list(COUPONS))
def test_payments_module_variables_sit_where_the_token_has_them(label: str) -> None:
    """BondCoupons runs on the clone's storage too (through BondServicing's fallback): it has
    only the bond storage, at the token's places."""
    assert label in TOKEN, f"BondCoupons has {label}, which BondToken lacks"
    mine, theirs = COUPONS[label], TOKEN[label]
    assert (mine["slot"], mine["offset"], mine["astId"]) == (
        theirs["slot"], theirs["offset"], theirs["astId"])
    assert _type_shape(COUPONS_TYPES, mine["type"]) == _type_shape(TOKEN_TYPES, theirs["type"])


def test_every_bond_storage_variable_is_in_both() -> None:
    assert {"_state", "_accounts", "_allowances", "_investorUnits",
                                 "_amendedRules", "_issueVolumeUnits"} <= BOND_STORAGE_VARS
    assert set(TOKEN) >= BOND_STORAGE_VARS
    assert set(SERVICING) >= BOND_STORAGE_VARS
    assert set(COUPONS) == BOND_STORAGE_VARS
    assert {"_periods", "_payConfig", "_arrears"} <= BOND_STORAGE_VARS


def test_bond_storage_comes_first_and_servicing_variables_after() -> None:
    def slots(v: dict[str, Any]) -> range:
        size = int(SERVICING_TYPES[v["type"]]["numberOfBytes"])
        first = int(v["slot"])
        return range(first, first + max(1, (size + 31) // 32))

    token_slots = {s for v in TOKEN.values() for s in slots(v)}
    assert token_slots == set(range(len(token_slots))), "BondToken's storage is not contiguous"
    for label, v in SERVICING.items():
        if label in TOKEN:
            continue
        overlap = set(slots(v)) & token_slots
        assert not overlap, f"BondServicing's {label} overlaps BondToken's slots {overlap}"


def test_hot_state_is_where_the_tests_read_it() -> None:
    """Other tests read `_state` (slot 0), `_accounts` (mapping at 1), `_investorUnits`
    (mapping at 3) and `_amendedRules` (slots 4-10) directly."""
    assert (TOKEN["_state"]["slot"], TOKEN["_state"]["offset"]) == ("0", 0)
    assert TOKEN["_accounts"]["slot"] == "1"
    assert TOKEN["_investorUnits"]["slot"] == "3"
    assert TOKEN["_amendedRules"]["slot"] == "4"
    assert TOKEN_TYPES[TOKEN["_amendedRules"]["type"]]["numberOfBytes"] == "224"


def erc7201(namespace: str) -> int:
    inner = int.from_bytes(keccak(text=namespace), "big") - 1
    return int.from_bytes(keccak(inner.to_bytes(32, "big")), "big") & ~0xFF


def test_registry_namespace_is_the_erc7201_slot() -> None:
    source = (ROOT / "contracts/registry/InvestorRegistry.sol").read_text()
    match = re.search(r"REGISTRY_STORAGE\s*=\s*(0x[0-9a-fA-F]{64})", source)
    assert match
    assert int(match.group(1), 16) == erc7201("munibond.storage.InvestorRegistry")
    # far from the plain slots of either contract
    assert int(match.group(1), 16) > 2**128
