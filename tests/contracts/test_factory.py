"""BondFactory: EIP-1167 clones with the rules as immutable args, events, terms getters,
validation of terms, rules and roles, ERC-165."""

from __future__ import annotations

from typing import Any

import pytest
from web3.contract import Contract

from .helpers import (
    DENOMINATION,
    UNIT,
    YEAR,
    ZERO,
    Platform,
    Rules,
    countries_bitmap,
    events,
    expect_revert,
    interface_id,
    role_id,
)

MAX_UNITS = (1 << 104) - 1
CLONE_PREFIX = bytes.fromhex("363d3d373d3d3d363d73")
CLONE_SUFFIX = bytes.fromhex("5af43d82803e903d91602b57fd5bf3")


def create(p: Platform, rules: Rules | None = None, roles: Any = None,
           **terms: Any) -> tuple[Contract, Any, dict[str, Any]]:
    t = p.terms(**terms)
    receipt = p.send(p.creator, p.create_bond_fn(rules or p.rules(), t, roles))
    return p.bond_at(p.factory.functions.bondByCode(t["code"]).call()), receipt, t


# ---------------------------------------------------------------------------------------------
# the clone


@pytest.mark.parametrize("rules_kind", ["default", "per-investor, gaps", "deny list, no caps"])
def test_clone_is_eip1167_with_the_rule_words(p: Platform, rules_kind: str) -> None:
    rules = {
        "default": p.rules(),
        "per-investor, gaps": p.rules(perInvestor=True, lockupUntil=p.t0 + YEAR,
                                      regions=[0, 13, 0, 281000, 0, 0, 0, 28]),
        "deny list, no caps": Rules(tradingUnit=1, maxBalance=0, allowedClasses=0,
                                    maxHolders=0, countryMode=2,
                                    countries=countries_bitmap([840, 156, 1023, 0]),
                                    regions=[]),
    }[rules_kind]
    bond, _, _ = create(p, rules)
    code = bytes(p.chain.w3.eth.get_code(bond.address))
    impl = bytes.fromhex(p.registry.address[2:])
    assert code[:10] == CLONE_PREFIX
    assert code[10:30] == impl
    assert code[30:45] == CLONE_SUFFIX
    assert len(code) == 45 + 7 * 32
    words = [int.from_bytes(code[45 + 32 * i:77 + 32 * i], "big") for i in range(7)]
    assert words == rules.words()
    assert tuple(bond.functions.rules().call()) == _normalised(rules).as_tuple()
    assert bond.functions.registry().call() == p.registry.address
    assert p.factory.functions.implementation().call() == p.registry.address
    assert p.factory.functions.registry().call() == p.registry.address
    # nothing stored for the rules until an amendment
    for slot in range(4, 11):
        assert int.from_bytes(p.chain.w3.eth.get_storage_at(bond.address, slot), "big") == 0


def _normalised(rules: Rules) -> Rules:
    """The rules as `rules()` reads them back: region codes packed to the front."""
    regions = [r for r in rules.regions if r]
    return Rules(rules.tradingUnit, rules.maxBalance, rules.allowedClasses, rules.lockupUntil,
                 rules.maxHolders, rules.countryMode, rules.perInvestor, list(rules.countries),
                 regions + [0] * (8 - len(regions)))


def test_bond_created_event_and_lookup(p: Platform) -> None:
    bond, receipt, t = create(p)
    assert events(p.factory, receipt, "BondCreated") == [{
        "bond": bond.address, "code": t["code"], "isin": t["isin"], "creator": p.creator.address}]
    assert p.factory.functions.bondByCode(t["code"]).call() == bond.address
    assert p.factory.functions.bondByCode("NO-SUCH-BOND").call() == ZERO
    second, _, t2 = create(p, isin="")
    assert second.address != bond.address
    assert p.factory.functions.bondByCode(t2["code"]).call() == second.address
    assert second.functions.isin().call() == ""


def test_initialisation_events(p: Platform) -> None:
    rules = p.rules(maxHolders=1_000)
    bond, receipt, t = create(p, rules)
    inits = events(bond, receipt, "BondInitialized")
    assert len(inits) == 1 and inits[0]["registry"] == p.registry.address
    assert tuple(inits[0]["rules"].values()) == rules.as_tuple()
    terms = events(bond, receipt, "TermsSet")
    assert len(terms) == 1 and terms[0]["by"] == p.factory.address
    assert tuple(terms[0]["terms"].values()) == Platform.terms_tuple(t)
    granted = {(e["role"], e["account"]) for e in events(bond, receipt, "RoleGranted")}
    assert granted == {(role_id("DEFAULT_ADMIN_ROLE"), p.admin.address),
                       (role_id("ISSUER_ROLE"), p.issuer.address),
                       (role_id("TRANSFER_AGENT_ROLE"), p.agent.address),
                       (role_id("PAUSER_ROLE"), p.pauser.address)}


def test_terms_getters(p: Platform) -> None:
    currency = p["outsider"].address  # any address stands for the settlement token here
    bond, _, t = create(p, currency=currency, decimals=2, denomination=1_000_000,
                        issueVolume=500_000_000, couponRate=1_234, couponFrequency=12,
                        redemptionPrice=10_100, issueDate=p.t0 - 86_400,
                        maturityDate=p.t0 + 10 * YEAR, name="兵庫県 住民参加型公募債",
                        symbol="HYOGO", issuerName="兵庫県")
    f = bond.functions
    assert f.bondCode().call() == t["code"]
    assert f.isin().call() == t["isin"]
    assert f.name().call() == "兵庫県 住民参加型公募債"
    assert f.symbol().call() == "HYOGO"
    assert f.decimals().call() == 2
    assert f.issuer().call() == "兵庫県"
    assert f.currency().call() == currency
    assert f.currencyCode().call() == "JPY"
    assert f.denomination().call() == 1_000_000
    assert f.issueVolume().call() == 500_000_000
    assert f.couponRate().call() == 1_234
    assert f.couponFrequency().call() == 12
    assert f.issueDate().call() == p.t0 - 86_400
    assert f.maturityDate().call() == p.t0 + 10 * YEAR
    assert f.redemptionPrice().call() == 10_100
    assert tuple(f.terms().call()) == Platform.terms_tuple(t)
    assert f.totalSupply().call() == 0 and f.holderCount().call() == 0
    assert f.issued().call() is False and f.paused().call() is False


# ---------------------------------------------------------------------------------------------
# validation


INVALID_TERMS: dict[str, tuple[str, dict[str, Any]]] = {
    "empty code": ("code", {"code": ""}),
    "empty name": ("name", {"name": ""}),
    "empty symbol": ("symbol", {"symbol": ""}),
    "decimals 19": ("decimals", {"decimals": 19}),
    "denomination 0": ("denomination", {"denomination": 0}),
    "issueVolume 0": ("issueVolume", {"issueVolume": 0}),
    "issueVolume not whole bonds": ("issueVolume", {"issueVolume": 10 * DENOMINATION + UNIT}),
    "issueVolume above the account word": (
        "issueVolume", {"issueVolume": (MAX_UNITS // DENOMINATION + 1) * DENOMINATION}),
    "maturity = issue": ("maturityDate", {"issueDate": 2_000_000_000,
                                          "maturityDate": 2_000_000_000}),
    "maturity before issue": ("maturityDate", {"issueDate": 2_000_000_000,
                                               "maturityDate": 1_999_999_999}),
    "couponFrequency 3": ("couponFrequency", {"couponFrequency": 3}),
    "couponFrequency 6": ("couponFrequency", {"couponFrequency": 6}),
    "couponFrequency 24": ("couponFrequency", {"couponFrequency": 24}),
    "redemptionPrice 0": ("redemptionPrice", {"redemptionPrice": 0}),
}


@pytest.mark.parametrize("case", list(INVALID_TERMS))
def test_invalid_terms(p: Platform, case: str) -> None:
    field, overrides = INVALID_TERMS[case]
    fn = p.create_bond_fn(p.rules(), p.terms(**overrides))
    expect_revert(lambda: p.send(p.creator, fn), "InvalidTerms", field)


VALID_EDGES: dict[str, dict[str, Any]] = {
    "decimals 18": {"decimals": 18},
    "largest issue volume": {"issueVolume": MAX_UNITS // DENOMINATION * DENOMINATION},
    "maturity one second after issue": {"issueDate": 2_000_000_000,
                                        "maturityDate": 2_000_000_001},
    "zero coupon": {"couponFrequency": 0, "couponRate": 0},
    "annual": {"couponFrequency": 1},
    "quarterly": {"couponFrequency": 4},
    "empty isin and issuer": {"isin": "", "issuerName": ""},
}


@pytest.mark.parametrize("case", list(VALID_EDGES))
def test_valid_term_edges(p: Platform, case: str) -> None:
    bond, _, t = create(p, **VALID_EDGES[case])
    assert tuple(bond.functions.terms().call()) == Platform.terms_tuple(t)


INVALID_RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "tradingUnit 0": ("tradingUnit must be at least 1", {"tradingUnit": 0}),
    "maxBalance not a multiple": ("maxBalance must be a multiple of tradingUnit",
                                  {"maxBalance": 1_500}),
    "countryMode 3": ("countryMode must be 0, 1 or 2", {"countryMode": 3}),
    "prefecture 48": ("regions must be prefectures 1-47 or 6-digit JIS codes", {"regions": [48]}),
    "region 99": ("regions must be prefectures 1-47 or 6-digit JIS codes", {"regions": [99]}),
    "region 100": ("regions must be prefectures 1-47 or 6-digit JIS codes", {"regions": [100]}),
    "region 9999": ("regions must be prefectures 1-47 or 6-digit JIS codes",
                    {"regions": [28, 9_999]}),
    "region 1000000": ("regions must be prefectures 1-47 or 6-digit JIS codes",
                       {"regions": [1_000_000]}),
    "denomination not a multiple": ("denomination must be a multiple of tradingUnit",
                                    {"tradingUnit": 3_000, "maxBalance": 99_000}),
}


@pytest.mark.parametrize("case", list(INVALID_RULES))
def test_invalid_rules(p: Platform, case: str) -> None:
    reason, overrides = INVALID_RULES[case]
    fn = p.create_bond_fn(p.rules(**overrides), p.terms())
    expect_revert(lambda: p.send(p.creator, fn), "InvalidRules", reason)


def test_valid_rule_edges(p: Platform) -> None:
    rules = p.rules(regions=[1, 47, 10_000, 999_999], tradingUnit=DENOMINATION,
                    maxBalance=0, countryMode=2)
    bond, _, _ = create(p, rules)
    assert bond.functions.rules().call()[8][:4] == [1, 47, 10_000, 999_999]


@pytest.mark.parametrize("index, role", [(0, "DEFAULT_ADMIN_ROLE"), (1, "ISSUER_ROLE"),
                                         (2, "TRANSFER_AGENT_ROLE"), (3, "PAUSER_ROLE")])
def test_role_holders_must_be_given(p: Platform, index: int, role: str) -> None:
    roles = list(p.roles())
    roles[index] = ZERO
    fn = p.create_bond_fn(p.rules(), p.terms(), roles)
    expect_revert(lambda: p.send(p.creator, fn), "InvalidRoleHolder", role_id(role))


def test_failed_creation_leaves_no_bond(p: Platform) -> None:
    t = p.terms(redemptionPrice=0)
    with pytest.raises(Exception):  # noqa: B017
        p.send(p.creator, p.create_bond_fn(p.rules(), t))
    assert p.factory.functions.bondByCode(t["code"]).call() == ZERO
    t["redemptionPrice"] = 10_000
    bond, _, _ = create(p, code=t["code"])
    assert bond.functions.bondCode().call() == t["code"]


# ---------------------------------------------------------------------------------------------
# ERC-165


ERC165 = bytes.fromhex("01ffc9a7")
IACCESS_CONTROL = bytes.fromhex("7965db0b")
IERC20 = interface_id(["totalSupply()", "balanceOf(address)", "transfer(address,uint256)",
                       "allowance(address,address)", "approve(address,uint256)",
                       "transferFrom(address,address,uint256)"])
IERC20_METADATA = interface_id(["name()", "symbol()", "decimals()"])
IERC1404 = interface_id(["detectTransferRestriction(address,address,uint256)",
                         "messageForTransferRestriction(uint8)"])
IERC1643 = interface_id(["getDocument(bytes32)", "setDocument(bytes32,string,bytes32)",
                         "removeDocument(bytes32)", "getAllDocuments()"])
IBOND_TERMS = interface_id(["bondCode()", "isin()", "issuer()", "currency()", "currencyCode()",
                            "denomination()", "issueVolume()", "couponRate()",
                            "couponFrequency()", "issueDate()", "maturityDate()",
                            "redemptionPrice()", "terms()"])
IINVESTOR_REGISTRY = interface_id(["recordOf(address)", "recordsOf(address,address)",
                                   "investorOf(address)", "isVerified(address)"])


def test_interface_ids_are_what_we_think() -> None:
    assert IERC20.hex() == "36372b07"
    assert IERC20_METADATA.hex() == "a219a025"


def test_supports_interface(p: Platform, bond: Contract) -> None:
    def supports(c: Contract, iid: bytes) -> bool:
        return bool(c.functions.supportsInterface(iid).call())

    for iid in (ERC165, IACCESS_CONTROL, IERC20, IERC20_METADATA, IERC1404, IERC1643,
                IBOND_TERMS):
        assert supports(bond, iid), iid.hex()
    assert not supports(bond, IINVESTOR_REGISTRY)
    assert not supports(bond, bytes.fromhex("ffffffff"))
    registry = p.registry
    for iid in (ERC165, IACCESS_CONTROL, IINVESTOR_REGISTRY):
        assert supports(registry, iid), iid.hex()
    for iid in (IERC20, IERC1404, IERC1643, IBOND_TERMS, bytes.fromhex("ffffffff")):
        assert not supports(registry, iid), iid.hex()
    assert supports(p.factory, IACCESS_CONTROL)
