"""Term sheet -> the contracts' structs -> the bond's getters -> Python values, round trip."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from munibond.codes import COUNTRY_JAPAN, country_numeric
from munibond.exceptions import TermSheetError
from munibond.onchain import (
    ZERO_ADDRESS,
    BondRules,
    BondTerms,
    countries_bitmap,
    countries_from_bitmap,
    redemption_price_bps,
    roles_tuple,
    rules_tuple,
    terms_tuple,
)

from .conftest import Env, create_variant, term_sheet_variant


def plain(value: Any) -> Any:
    """web3's results with lists as tuples, for comparison with the tuples we send."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    return value


def test_terms_tuple_of_the_example(env: Env) -> None:
    ts = env.term_sheet
    terms = terms_tuple(ts, settlement_token=None)
    assert terms == (
        "KOBE-R-2026-01", "JP228100AQ12", "Kobe City Resident-Participation Bond 2026 Series 1",
        "KOBE26R1", "City of Kobe", "JPY", ZERO_ADDRESS, 0, 10_000, 500_000_000,
        int(datetime(2026, 12, 15, tzinfo=UTC).timestamp()),
        int(datetime(2031, 12, 15, tzinfo=UTC).timestamp()),
        6200, 2, 10_000)


def test_rules_tuple_of_the_example(env: Env) -> None:
    rules = rules_tuple(env.term_sheet)
    japan_word = 1 << (COUNTRY_JAPAN & 255)
    assert COUNTRY_JAPAN >> 8 == 1
    assert rules == (
        1,                       # trading unit: 1 JPY, 0 decimals
        10_000_000,              # cap per investor
        0b110,                   # retail (1) and corporate (2)
        int(datetime(2027, 1, 15, tzinfo=UTC).timestamp()),
        5000,
        1,                       # allow list
        False,                   # aggregate_wallets: false -> per wallet
        (0, japan_word, 0, 0),
        (28, 0, 0, 0, 0, 0, 0, 0))


def test_terms_and_rules_round_trip_through_the_chain(env: Env) -> None:
    ts, bond = env.term_sheet, env.bond
    functions = bond.contract.functions
    assert plain(functions.terms().call()) == terms_tuple(
        ts, settlement_token=env.addresses.settlement_token)
    assert plain(functions.rules().call()) == rules_tuple(ts)
    # the ERC-7092-style getters one by one
    assert functions.bondCode().call() == ts.bond.code
    assert functions.isin().call() == ts.bond.isin
    assert functions.name().call() == ts.bond.name
    assert functions.symbol().call() == ts.bond.symbol
    assert functions.issuer().call() == ts.bond.issuer
    assert functions.currencyCode().call() == "JPY"
    assert functions.currency().call() == env.addresses.settlement_token
    assert functions.decimals().call() == ts.decimals
    assert functions.denomination().call() == ts.denomination_units
    assert functions.issueVolume().call() == ts.issue_size_units
    assert functions.couponRate().call() == ts.coupon_rate_micros == 6200
    assert functions.couponFrequency().call() == 2
    assert functions.issueDate().call() == ts.issue_timestamp
    assert functions.maturityDate().call() == ts.maturity_timestamp
    assert functions.redemptionPrice().call() == 10_000
    # decoded: what the SDK shows equals what the term sheet said
    terms = bond.terms()
    assert terms == BondTerms.from_tuple(terms_tuple(
        ts, settlement_token=env.addresses.settlement_token))
    assert terms.denomination == Decimal("10000") and terms.issue_volume == Decimal("500000000")
    assert terms.issue_date == datetime(2026, 12, 15, tzinfo=UTC)
    assert terms.maturity_date == datetime(2031, 12, 15, tzinfo=UTC)
    assert terms.coupon_rate == ts.bond.coupon.rate == Decimal("0.0062")
    assert terms.redemption_price == ts.bond.redemption_price == Decimal(100)
    assert terms.settlement_token == env.addresses.settlement_token
    rules = bond.rules()
    assert rules == BondRules.from_tuple(rules_tuple(ts), ts.decimals)
    assert rules.trading_unit == Decimal(1)
    assert rules.max_balance == Decimal("10000000")
    assert rules.allowed_classes == (1, 2)
    assert rules.lockup_until == ts.eligibility.lockup_until
    assert rules.max_holders == 5000
    assert rules.country_mode == "allow" and rules.countries == (COUNTRY_JAPAN,)
    assert rules.regions == (28,)
    assert rules.per_investor is False


def test_a_variant_with_every_other_setting_round_trips(env: Env) -> None:
    changes = {
        "code": "code: KOBE-R-2026-01 => code: KOBE-V-1",
        "isin": "isin: JP228100AQ12 => isin: null",
        "decimals": "decimals: 0  => decimals: 2  ",
        "trading_unit": 'trading_unit: "1"  => trading_unit: "0.50"',
        "redemption": 'redemption_price: "100"  => redemption_price: "101.25"',
        "countries": "countries: {allow: [JP]} => countries: {deny: [US, KP, 'NO']}",
        "regions": 'regions: ["28"] => regions: ["281000", "27", "131016"]',
        "aggregate": "aggregate_wallets: false => aggregate_wallets: true",
        "max_holders": "max_holders: 5000 => # no max_holders",
        "lockup": "lockup_until: 2027-01-15 => # no lock-up",
        "classes": "investor_classes: [retail, corporate] => "
                   "investor_classes: [retail, professional, public_entity]",
    }
    ts = term_sheet_variant(**changes)
    bond = create_variant(env, **changes)
    token = env.addresses.settlement_token
    assert plain(bond.contract.functions.terms().call()) == terms_tuple(ts, settlement_token=token)
    assert plain(bond.contract.functions.rules().call()) == rules_tuple(ts)
    terms, rules = bond.terms(), bond.rules()
    assert terms.isin is None and terms.settlement_token == token
    assert terms.decimals == 2 and terms.denomination_units == 1_000_000
    assert terms.denomination == Decimal("10000.00")
    assert terms.redemption_price_bps == 10_125 and terms.redemption_price == Decimal("101.25")
    assert rules.trading_unit == Decimal("0.50") and rules.trading_unit_units == 50
    assert rules.max_balance == Decimal("10000000") and rules.max_balance_units == 1_000_000_000
    assert rules.country_mode == "deny"
    assert rules.countries == tuple(sorted(country_numeric(c) for c in ("US", "KP", "NO")))
    assert rules.regions == (281000, 27, 131016)
    assert rules.per_investor is True
    assert rules.max_holders is None and rules.lockup_until is None
    assert rules.allowed_classes == (1, 3, 5) and rules.allowed_class_mask == 0b101010
    assert bond.trading_unit == Decimal("0.50")


def test_redemption_price_in_basis_points() -> None:
    assert redemption_price_bps(term_sheet_variant(
        p='redemption_price: "100"  => redemption_price: "99.5"')) == 9950
    too_fine = term_sheet_variant(p='redemption_price: "100"  => redemption_price: "100.005"')
    with pytest.raises(TermSheetError, match="basis point"):
        redemption_price_bps(too_fine)
    with pytest.raises(TermSheetError, match="redemption_price"):
        terms_tuple(too_fine, settlement_token=None)


def test_roles_tuple_default_and_named(env: Env) -> None:
    deployer = env.deployer.address
    assert roles_tuple(env.term_sheet, deployer) == (deployer,) * 4
    issuer = env.accounts[3].address
    ts = term_sheet_variant(roles=f"documents: => roles: {{issuer: \"{issuer.lower()}\"}}\n"
                                  f"documents:")
    assert roles_tuple(ts, deployer.lower()) == (deployer, issuer, deployer, deployer)


def test_countries_bitmap_round_trip() -> None:
    codes = (4, 255, 256, 392, 840, 1023)
    words = countries_bitmap(codes)
    assert words[0] == (1 << 4) | (1 << 255)
    assert words[1] == 1 | (1 << (392 - 256))
    assert words[3] == (1 << (840 - 768)) | (1 << 255)
    assert countries_from_bitmap(words) == codes
    with pytest.raises(ValueError):
        countries_bitmap([1024])


def test_the_bond_enforces_the_mapped_rules(env: Env) -> None:
    """The structs mean what the SDK says: a deny-listed country and an unlisted region are
    refused, a listed one passes (codes from the bond itself)."""
    bond = create_variant(
        env,
        code="code: KOBE-R-2026-01 => code: KOBE-V-2",
        countries="countries: {allow: [JP]} => countries: {deny: [US]}",
        regions='regions: ["28"] => regions: ["281000", "282014"]',
    )
    kobe_ward_only = env.wallet(1001)   # 281107: Kobe Chuo-ku, not Kobe City's own code
    himeji = env.wallet(1003)           # 282014: listed
    us = env.wallet(1011)
    assert bond.check_mint(himeji, "10000").ok
    assert bond.check_mint(kobe_ward_only, "10000").code == 12
    assert bond.check_mint(us, "10000").code == 11
