"""Every restriction code that applies to transfers and mints: refused with its code (ERC-1404
pre-check and the revert agree, with from/to/value), and the boundary case allowed."""

from __future__ import annotations

import pytest
from web3.contract import Contract

from .helpers import (
    AMAGASAKI,
    AMOUNT_FROZEN,
    BOND_CLOSED,
    BOND_MATURED,
    CLASS_NOT_ALLOWED,
    COUNTRY_NOT_ALLOWED,
    HIMEJI,
    INSUFFICIENT_BALANCE,
    INVALID_RECIPIENT,
    ISSUE_VOLUME_EXCEEDED,
    JAPAN,
    KOBE,
    LOCKED_UP,
    MAX_BALANCE,
    MAX_BALANCE_EXCEEDED,
    MAX_HOLDERS_REACHED,
    NOT_TRADING_UNIT_MULTIPLE,
    PAUSED,
    QII,
    RECIPIENT_FROZEN,
    RECIPIENT_KYC_EXPIRED,
    RECIPIENT_NOT_REGISTERED,
    RECIPIENT_SUSPENDED,
    REGION_NOT_ALLOWED,
    RETAIL,
    SAPPORO,
    SENDER_FROZEN,
    SENDER_KYC_EXPIRED,
    SENDER_NOT_REGISTERED,
    SENDER_SUSPENDED,
    SUCCESS,
    UNIT,
    USA,
    YEAR,
    ZERO,
    Investor,
    Platform,
    close_bond,
    countries_bitmap,
    decode_error,
    events,
    expect_revert,
)


def fund(p: Platform, bond: Contract, **amounts: int) -> None:
    for name, amount in amounts.items():
        p.mint(bond, p[name], amount)


# ---------------------------------------------------------------------------------------------
# the plain case


def test_eligible_resident_transfer_and_mint(p: Platform, bond: Contract) -> None:
    receipt = p.assert_allowed(bond, None, p["a1"], 10_000)
    assert events(bond, receipt, "Transfer") == [{"from": ZERO, "to": p["a1"].address,
                                                   "value": 10_000}]
    receipt = p.assert_allowed(bond, p["a1"], p["bob"], 3_000)
    assert events(bond, receipt, "Transfer") == [{"from": p["a1"].address,
                                                   "to": p["bob"].address, "value": 3_000}]
    assert p.holders(bond) == 2
    # the corporate class is allowed too
    p.assert_allowed(bond, p["bob"], p["grace"], 1_000)


def test_messages_for_every_code(p: Platform, bond: Contract) -> None:
    messages = [bond.functions.messageForTransferRestriction(c).call() for c in range(24)]
    assert messages[0] == "Transfer allowed"
    assert all(messages) and len(set(messages)) == 24
    assert "Unknown restriction code" not in messages
    assert bond.functions.messageForTransferRestriction(24).call() == "Unknown restriction code"
    assert bond.functions.messageForTransferRestriction(255).call() == "Unknown restriction code"


# ---------------------------------------------------------------------------------------------
# 1 PAUSED


def test_paused_refuses_transfers_and_mints(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.pauser, bond.functions.pause())
    p.assert_refused(bond, p["a1"], p["bob"], 1_000, PAUSED)
    p.assert_refused(bond, None, p["bob"], 1_000, PAUSED)
    # pause comes before every other rule
    assert p.detect(bond, p["outsider"], ZERO, 1) == PAUSED
    p.send(p.pauser, bond.functions.unpause())
    p.assert_allowed(bond, p["a1"], p["bob"], 1_000)
    p.assert_allowed(bond, None, p["bob"], 1_000)


# ---------------------------------------------------------------------------------------------
# 2 BOND_CLOSED (no function closes a bond yet: the flag is set in storage)


def test_closed_bond_refuses_transfers_and_mints(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)
    p.send(p.pauser, bond.functions.pause())
    close_bond(p.chain, bond)
    # closed comes before paused, and before everything else
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, BOND_CLOSED)
    p.assert_refused(bond, None, p["bob"], UNIT, BOND_CLOSED)
    assert p.detect(bond, p["outsider"], ZERO, 1) == BOND_CLOSED


# ---------------------------------------------------------------------------------------------
# 3 BOND_MATURED


def test_matured_bond_refuses_at_maturity_allows_one_second_before(p: Platform) -> None:
    maturity = p.chain.now() + 1_000
    bond = p.make_bond(maturityDate=maturity)
    fund(p, bond, a1=10_000)
    p.allowed_at(maturity - 1, bond, p["a1"], p["bob"], 1_000)
    p.refused_at(maturity, bond, p["a1"], p["bob"], 1_000, BOND_MATURED)
    p.assert_refused(bond, p["a1"], p["bob"], 1_000, BOND_MATURED)
    p.assert_refused(bond, None, p["bob"], 1_000, BOND_MATURED)


def test_mint_one_second_before_maturity(p: Platform) -> None:
    maturity = p.chain.now() + 1_000
    bond = p.make_bond(maturityDate=maturity)
    p.allowed_at(maturity - 1, bond, None, p["a1"], 1_000)
    p.refused_at(maturity, bond, None, p["a1"], 1_000, BOND_MATURED)


# ---------------------------------------------------------------------------------------------
# 4/5 registration


def test_sender_not_registered(p: Platform, bond: Contract) -> None:
    fund(p, bond, dave=5_000)
    p.send(p.registrar, p.registry.functions.removeWallet(p["dave"].address))
    p.assert_refused(bond, p["dave"], p["bob"], 1_000, SENDER_NOT_REGISTERED)
    p.register(p["dave"], p.records["dave"])
    p.assert_allowed(bond, p["dave"], p["bob"], 1_000)


def test_recipient_not_registered(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=5_000)
    p.assert_refused(bond, p["a1"], p["outsider"], 1_000, RECIPIENT_NOT_REGISTERED)
    p.assert_refused(bond, None, p["outsider"], 1_000, RECIPIENT_NOT_REGISTERED)
    # the platform contract (registry + implementation) is not an investor either
    p.assert_refused(bond, p["a1"], p.registry.address, 1_000, RECIPIENT_NOT_REGISTERED)
    p.register(p["outsider"], Investor(99, kycValidUntil=p.t0 + YEAR))
    p.assert_allowed(bond, p["a1"], p["outsider"], 1_000)


# ---------------------------------------------------------------------------------------------
# 6/7 KYC expiry: valid while kycValidUntil > block.timestamp


def test_sender_kyc_expires_exactly_at_its_time(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    expiry = p.pinned_now() + 100  # the next block is at pinned_now()
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["a1"].address, expiry))
    p.allowed_at(expiry - 1, bond, p["a1"], p["bob"], 1_000)  # valid until one second after
    p.refused_at(expiry, bond, p["a1"], p["bob"], 1_000, SENDER_KYC_EXPIRED)
    p.assert_refused(bond, p["a1"], p["bob"], 1_000, SENDER_KYC_EXPIRED)
    assert p.registry.functions.isVerified(p["a1"].address).call() is False


def test_recipient_kyc_expires_exactly_at_its_time(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["expired"], 1_000, RECIPIENT_KYC_EXPIRED)
    p.assert_refused(bond, None, p["expired"], 1_000, RECIPIENT_KYC_EXPIRED)
    expiry = p.pinned_now() + 100  # the next block is at pinned_now()
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["bob"].address, expiry))
    p.allowed_at(expiry - 1, bond, p["a1"], p["bob"], 1_000)
    p.refused_at(expiry, bond, p["a1"], p["bob"], 1_000, RECIPIENT_KYC_EXPIRED)
    p.assert_refused(bond, None, p["bob"], 1_000, RECIPIENT_KYC_EXPIRED)
    # renewed KYC: allowed again
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["bob"].address,
                                                              p.chain.now() + YEAR))
    p.assert_allowed(bond, p["a1"], p["bob"], 1_000)


def test_mint_kyc_boundary(p: Platform, bond: Contract) -> None:
    expiry = p.pinned_now() + 100  # the next block is at pinned_now()
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["bob"].address, expiry))
    p.allowed_at(expiry - 1, bond, None, p["bob"], 1_000)
    p.refused_at(expiry, bond, None, p["bob"], 1_000, RECIPIENT_KYC_EXPIRED)


# ---------------------------------------------------------------------------------------------
# 8/9 suspension


def test_sender_suspended(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.registrar, p.registry.functions.setSuspended(p["a1"].address, True))
    p.assert_refused(bond, p["a1"], p["bob"], 1_000, SENDER_SUSPENDED)
    p.send(p.registrar, p.registry.functions.setSuspended(p["a1"].address, False))
    p.assert_allowed(bond, p["a1"], p["bob"], 1_000)


def test_recipient_suspended(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["suspended"], 1_000, RECIPIENT_SUSPENDED)
    p.assert_refused(bond, None, p["suspended"], 1_000, RECIPIENT_SUSPENDED)
    p.send(p.registrar, p.registry.functions.setSuspended(p["suspended"].address, False))
    p.assert_allowed(bond, p["a1"], p["suspended"], 1_000)
    p.assert_allowed(bond, None, p["suspended"], 1_000)


# ---------------------------------------------------------------------------------------------
# 10 investor class


def test_class_not_allowed(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["qii"], 1_000, CLASS_NOT_ALLOWED)
    p.assert_refused(bond, None, p["qii"], 1_000, CLASS_NOT_ALLOWED)


def test_class_bitmap_exact_bits_and_zero_means_any(p: Platform) -> None:
    only_qii = p.make_bond(p.rules(allowedClasses=1 << QII))
    p.assert_allowed(only_qii, None, p["qii"], 1_000)
    p.assert_refused(only_qii, None, p["a1"], 1_000, CLASS_NOT_ALLOWED)
    p.assert_refused(only_qii, p["qii"], p["a1"], 1_000, CLASS_NOT_ALLOWED)
    any_class = p.make_bond(p.rules(allowedClasses=0))
    p.assert_allowed(any_class, None, p["qii"], 1_000)
    p.assert_allowed(any_class, None, p["a1"], 1_000)
    # class 31 is the last bit of the map; a class above 31 can never be allowed by a bit
    p.register(p["new1"], Investor(50, investorClass=31, kycValidUntil=p.t0 + YEAR))
    p.register(p["new2"], Investor(51, investorClass=32, kycValidUntil=p.t0 + YEAR))
    top = p.make_bond(p.rules(allowedClasses=(1 << 31) | (1 << RETAIL)))
    p.assert_allowed(top, None, p["new1"], 1_000)
    p.assert_refused(top, None, p["new2"], 1_000, CLASS_NOT_ALLOWED)


# ---------------------------------------------------------------------------------------------
# 11 country: allow list, deny list, any


def test_country_allow_list(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["us"], 1_000, COUNTRY_NOT_ALLOWED)
    p.assert_refused(bond, None, p["us"], 1_000, COUNTRY_NOT_ALLOWED)
    both = p.make_bond(p.rules(countries=countries_bitmap([JAPAN, USA]), regions=[]))
    p.assert_allowed(both, None, p["us"], 1_000)
    p.assert_allowed(both, None, p["a1"], 1_000)


def test_country_deny_list(p: Platform) -> None:
    deny_us = p.make_bond(p.rules(countryMode=2, countries=countries_bitmap([USA]), regions=[]))
    p.assert_refused(deny_us, None, p["us"], 1_000, COUNTRY_NOT_ALLOWED)
    p.assert_allowed(deny_us, None, p["a1"], 1_000)
    p.assert_refused(deny_us, p["a1"], p["us"], 1_000, COUNTRY_NOT_ALLOWED)
    p.assert_allowed(deny_us, p["a1"], p["tokyo"], 1_000)
    deny_japan = p.make_bond(p.rules(countryMode=2, countries=countries_bitmap([JAPAN]),
                                     regions=[]))
    p.assert_refused(deny_japan, None, p["a1"], 1_000, COUNTRY_NOT_ALLOWED)
    p.assert_allowed(deny_japan, None, p["us"], 1_000)


def test_country_any_and_codes_beyond_the_bitmap(p: Platform) -> None:
    anyone = p.make_bond(p.rules(countryMode=0, countries=[0, 0, 0, 0], regions=[]))
    p.assert_allowed(anyone, None, p["us"], 1_000)
    # a country code >= 1024 is never listed: refused by an allow list, passed by a deny list
    p.register(p["new1"], Investor(60, country=1500, region=0, kycValidUntil=p.t0 + YEAR))
    allow = p.make_bond(p.rules(countries=[2**256 - 1] * 4, regions=[]))
    p.assert_refused(allow, None, p["new1"], 1_000, COUNTRY_NOT_ALLOWED)
    deny = p.make_bond(p.rules(countryMode=2, countries=[2**256 - 1] * 4, regions=[]))
    p.assert_allowed(deny, None, p["new1"], 1_000)
    p.assert_refused(deny, None, p["us"], 1_000, COUNTRY_NOT_ALLOWED)
    # bit 1023 (the last of the map) works
    p.register(p["new2"], Investor(61, country=1023, region=0, kycValidUntil=p.t0 + YEAR))
    last = p.make_bond(p.rules(countries=countries_bitmap([1023]), regions=[]))
    p.assert_allowed(last, None, p["new2"], 1_000)
    p.assert_refused(last, None, p["a1"], 1_000, COUNTRY_NOT_ALLOWED)


# ---------------------------------------------------------------------------------------------
# 12 region: prefecture rule vs exact JIS code rule


def test_region_prefecture_rule(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["tokyo"], 1_000, REGION_NOT_ALLOWED)
    p.assert_refused(bond, None, p["tokyo"], 1_000, REGION_NOT_ALLOWED)
    # every city of prefecture 28 is in
    for name in ("bob", "carol", "dave"):  # Himeji, Amagasaki, Kobe
        p.assert_allowed(bond, p["a1"], p[name], 1_000)
    # a Japanese investor with no region code is not a resident of anywhere
    p.register(p["new1"], Investor(70, region=0, kycValidUntil=p.t0 + YEAR))
    p.assert_refused(bond, p["a1"], p["new1"], 1_000, REGION_NOT_ALLOWED)


def test_region_exact_jis_code_rule(p: Platform) -> None:
    kobe_only = p.make_bond(p.rules(regions=[KOBE]))
    p.assert_allowed(kobe_only, None, p["a1"], 1_000)
    p.assert_refused(kobe_only, None, p["bob"], 1_000, REGION_NOT_ALLOWED)  # Himeji, same pref.
    p.assert_refused(kobe_only, p["a1"], p["carol"], 1_000, REGION_NOT_ALLOWED)
    # a code is not a prefecture: 28 as an exact region does not match prefecture 28's cities
    mixed = p.make_bond(p.rules(regions=[13, HIMEJI]))
    p.assert_allowed(mixed, None, p["tokyo"], 1_000)
    p.assert_allowed(mixed, None, p["bob"], 1_000)
    p.assert_refused(mixed, None, p["a1"], 1_000, REGION_NOT_ALLOWED)
    p.assert_refused(mixed, None, p["carol"], 1_000, REGION_NOT_ALLOWED)


def test_region_leading_zero_prefecture_and_eight_rules(p: Platform) -> None:
    p.register(p["new1"], Investor(80, region=SAPPORO, kycValidUntil=p.t0 + YEAR))
    hokkaido = p.make_bond(p.rules(regions=[1]))
    p.assert_allowed(hokkaido, None, p["new1"], 1_000)
    p.assert_refused(hokkaido, None, p["a1"], 1_000, REGION_NOT_ALLOWED)
    sapporo = p.make_bond(p.rules(regions=[SAPPORO]))
    p.assert_allowed(sapporo, None, p["new1"], 1_000)
    # all eight rule slots are read: the match is in the last one
    eight = p.make_bond(p.rules(regions=[1, 2, 3, 4, 5, 6, 7, AMAGASAKI]))
    p.assert_allowed(eight, None, p["carol"], 1_000)
    p.assert_refused(eight, None, p["a1"], 1_000, REGION_NOT_ALLOWED)
    # zero slots between rules are skipped when packing
    gaps = p.make_bond(p.rules(regions=[0, 13, 0, 0, 28, 0, 0, 0]))
    assert gaps.functions.rules().call()[8] == [13, 28, 0, 0, 0, 0, 0, 0]
    p.assert_allowed(gaps, None, p["a1"], 1_000)
    p.assert_allowed(gaps, None, p["tokyo"], 1_000)


def test_no_region_rule_allows_any_region(p: Platform) -> None:
    nationwide = p.make_bond(p.rules(regions=[]))
    p.assert_allowed(nationwide, None, p["tokyo"], 1_000)
    p.register(p["new1"], Investor(81, region=0, kycValidUntil=p.t0 + YEAR))
    p.assert_allowed(nationwide, None, p["new1"], 1_000)


# ---------------------------------------------------------------------------------------------
# 13 maximum balance


def test_max_balance_exact_allowed_one_unit_over_refused(p: Platform, bond: Contract) -> None:
    p.assert_allowed(bond, None, p["a1"], MAX_BALANCE)  # exactly at the cap
    p.assert_refused(bond, None, p["a1"], UNIT, MAX_BALANCE_EXCEEDED)
    fund(p, bond, bob=MAX_BALANCE - 2 * UNIT)
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)  # bob exactly at the cap
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, MAX_BALANCE_EXCEEDED)
    # a holder at the cap may still send
    p.assert_allowed(bond, p["bob"], p["carol"], MAX_BALANCE)


def test_max_balance_zero_means_no_cap(p: Platform) -> None:
    bond = p.make_bond(p.rules(maxBalance=0))
    p.assert_allowed(bond, None, p["a1"], 5 * MAX_BALANCE)
    p.assert_allowed(bond, p["a1"], p["bob"], 4 * MAX_BALANCE)


def test_max_balance_is_per_wallet_by_default(p: Platform, bond: Contract) -> None:
    # a1 and a2 belong to one investor, but the default bond caps wallets
    fund(p, bond, a1=MAX_BALANCE)
    p.assert_allowed(bond, None, p["a2"], MAX_BALANCE)
    assert p.holders(bond) == 2


# ---------------------------------------------------------------------------------------------
# 14 maximum number of holders


def test_max_holders(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000, bob=10_000, carol=10_000, dave=10_000, erin=10_000)
    assert p.holders(bond) == 5
    p.assert_refused(bond, None, p["frank"], UNIT, MAX_HOLDERS_REACHED)
    p.assert_refused(bond, p["a1"], p["frank"], UNIT, MAX_HOLDERS_REACHED)
    p.assert_refused(bond, p["a1"], p["frank"], 9_000, MAX_HOLDERS_REACHED)
    # between holders: fine; a mint to a holder: fine
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)
    p.assert_allowed(bond, None, p["bob"], UNIT)
    # a holder who leaves entirely may hand over to a newcomer: the count stays at the cap
    p.assert_allowed(bond, p["a1"], p["frank"], 9_000)
    assert p.holders(bond) == 5
    assert p.balance(bond, p["a1"]) == 0
    p.assert_refused(bond, None, p["a1"], UNIT, MAX_HOLDERS_REACHED)
    # a holder leaving into another holder frees a place
    p.assert_allowed(bond, p["erin"], p["dave"], 10_000)
    assert p.holders(bond) == 4
    p.assert_allowed(bond, None, p["a1"], UNIT)
    assert p.holders(bond) == 5


def test_zero_value_transfer_to_a_newcomer_at_the_cap(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000, bob=10_000, carol=10_000, dave=10_000, erin=10_000)
    p.assert_allowed(bond, p["a1"], p["frank"], 0)
    assert p.holders(bond) == 5
    assert p.balance(bond, p["frank"]) == 0


def test_max_holders_zero_means_no_cap(p: Platform) -> None:
    bond = p.make_bond(p.rules(maxHolders=0))
    for name in ("a1", "a2", "bob", "carol", "dave", "erin", "frank", "grace"):
        p.mint(bond, p[name], UNIT)
    assert p.holders(bond) == 8


# ---------------------------------------------------------------------------------------------
# 15 lock-up


def test_lockup_refused_one_second_before_allowed_at(p: Platform) -> None:
    lockup = p.chain.now() + 1_000
    bond = p.make_bond(p.rules(lockupUntil=lockup))
    # allotment is not a transfer between investors: the lock-up does not apply to it
    p.assert_allowed(bond, None, p["a1"], 10_000)
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, LOCKED_UP)
    p.refused_at(lockup - 1, bond, p["a1"], p["bob"], UNIT, LOCKED_UP)
    p.allowed_at(lockup, bond, p["a1"], p["bob"], UNIT)


# ---------------------------------------------------------------------------------------------
# 16 trading unit


def test_trading_unit_multiples(p: Platform, bond: Contract) -> None:
    p.assert_refused(bond, None, p["a1"], UNIT + 1, NOT_TRADING_UNIT_MULTIPLE)
    p.assert_refused(bond, None, p["a1"], UNIT // 2, NOT_TRADING_UNIT_MULTIPLE)
    p.assert_allowed(bond, None, p["a1"], 10 * UNIT)
    p.assert_refused(bond, p["a1"], p["bob"], 1_500, NOT_TRADING_UNIT_MULTIPLE)
    p.assert_refused(bond, p["a1"], p["bob"], 1, NOT_TRADING_UNIT_MULTIPLE)
    p.assert_allowed(bond, p["a1"], p["bob"], 2_000)
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)


def test_trading_unit_one_allows_any_amount(p: Platform) -> None:
    bond = p.make_bond(p.rules(tradingUnit=1, maxBalance=MAX_BALANCE))
    p.assert_allowed(bond, None, p["a1"], 1_234)
    p.assert_allowed(bond, p["a1"], p["bob"], 1)


# ---------------------------------------------------------------------------------------------
# 17/18/19 freezes


def test_sender_wallet_frozen(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, SENDER_FROZEN)
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, False))
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)


def test_recipient_wallet_frozen(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.setWalletFrozen(p["bob"].address, True))
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, RECIPIENT_FROZEN)
    p.assert_refused(bond, None, p["bob"], UNIT, RECIPIENT_FROZEN)
    # both sides frozen: the sender is reported first
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, SENDER_FROZEN)
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, False))
    p.send(p.agent, bond.functions.setWalletFrozen(p["bob"].address, False))
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)


def test_partial_freeze(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 4_000))
    p.assert_refused(bond, p["a1"], p["bob"], 7_000, AMOUNT_FROZEN)
    p.assert_allowed(bond, p["a1"], p["bob"], 6_000)  # exactly the free part
    assert p.account(bond, p["a1"]) == (4_000, 4_000, False)
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, AMOUNT_FROZEN)
    # more than the balance is "insufficient", not "frozen"
    p.assert_refused(bond, p["a1"], p["bob"], 5_000, INSUFFICIENT_BALANCE)
    # the frozen units still count as held (max balance) and a holder stays a holder
    assert p.holders(bond) == 2
    p.send(p.agent, bond.functions.unfreezeTokens(p["a1"].address, UNIT))
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)


def test_frozen_units_count_towards_max_balance(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=MAX_BALANCE, bob=UNIT)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, MAX_BALANCE))
    p.assert_refused(bond, p["bob"], p["a1"], UNIT, MAX_BALANCE_EXCEEDED)


# ---------------------------------------------------------------------------------------------
# 20 insufficient balance, 21 invalid recipient, 22 issue volume


def test_insufficient_balance(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["bob"], 11_000, INSUFFICIENT_BALANCE)
    p.assert_refused(bond, p["bob"], p["a1"], UNIT, INSUFFICIENT_BALANCE)  # holds nothing
    p.assert_allowed(bond, p["a1"], p["bob"], 10_000)  # the whole balance
    assert p.holders(bond) == 1


def test_invalid_recipients(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], ZERO, UNIT, INVALID_RECIPIENT)
    p.assert_refused(bond, p["a1"], bond.address, UNIT, INVALID_RECIPIENT)
    p.assert_refused(bond, None, ZERO, UNIT, INVALID_RECIPIENT)
    p.assert_refused(bond, None, bond.address, UNIT, INVALID_RECIPIENT)


def test_issue_volume(p: Platform) -> None:
    bond = p.make_bond(issueVolume=5 * 10_000)
    p.assert_allowed(bond, None, p["a1"], 30_000)
    p.assert_refused(bond, None, p["bob"], 21_000, ISSUE_VOLUME_EXCEEDED)
    p.assert_allowed(bond, None, p["bob"], 20_000)  # exactly the issue volume
    assert p.total(bond) == 50_000
    p.assert_refused(bond, None, p["bob"], UNIT, ISSUE_VOLUME_EXCEEDED)
    # transfers are not mints
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)


# ---------------------------------------------------------------------------------------------
# self-transfers


def test_self_transfer(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=MAX_BALANCE)
    receipt = p.assert_allowed(bond, p["a1"], p["a1"], UNIT)  # at the cap: still fine
    assert events(bond, receipt, "Transfer") == [{"from": p["a1"].address,
                                                   "to": p["a1"].address, "value": UNIT}]
    assert p.balance(bond, p["a1"]) == MAX_BALANCE
    assert p.holders(bond) == 1
    p.assert_refused(bond, p["a1"], p["a1"], MAX_BALANCE + UNIT, INSUFFICIENT_BALANCE)
    p.assert_refused(bond, p["a1"], p["a1"], 1_500, NOT_TRADING_UNIT_MULTIPLE)
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    p.assert_refused(bond, p["a1"], p["a1"], UNIT, SENDER_FROZEN)


def test_self_transfer_of_a_new_holder_at_the_holder_cap(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000, bob=10_000, carol=10_000, dave=10_000, erin=10_000)
    p.assert_allowed(bond, p["a1"], p["a1"], 10_000)
    assert p.holders(bond) == 5


# ---------------------------------------------------------------------------------------------
# per-investor mode: caps and holder counts across all wallets of one investor


@pytest.fixture
def per_investor(p: Platform) -> Contract:
    return p.make_bond(p.rules(perInvestor=True, maxBalance=20_000, maxHolders=2))


def test_per_investor_max_balance_across_wallets(p: Platform, per_investor: Contract) -> None:
    bond = per_investor
    p.assert_allowed(bond, None, p["a1"], 12_000)
    p.assert_allowed(bond, None, p["a2"], 8_000)  # investor 1 exactly at 20,000
    assert bond.functions.investorBalance(1).call() == 20_000
    p.assert_refused(bond, None, p["a2"], UNIT, MAX_BALANCE_EXCEEDED)  # wallet has only 8,000
    fund(p, bond, bob=5_000)
    p.assert_refused(bond, p["bob"], p["a2"], UNIT, MAX_BALANCE_EXCEEDED)
    p.assert_refused(bond, p["bob"], p["a1"], UNIT, MAX_BALANCE_EXCEEDED)
    # between the investor's own wallets nothing changes hands: allowed at the cap
    p.assert_allowed(bond, p["a1"], p["a2"], 12_000)
    assert p.account(bond, p["a2"])[0] == 20_000
    assert bond.functions.investorBalance(1).call() == 20_000


def test_per_investor_counts_holders_per_investor(p: Platform, per_investor: Contract) -> None:
    bond = per_investor
    fund(p, bond, a1=10_000, a2=5_000)
    assert p.holders(bond) == 1  # two wallets, one investor
    fund(p, bond, bob=5_000)
    assert p.holders(bond) == 2
    p.assert_refused(bond, None, p["carol"], UNIT, MAX_HOLDERS_REACHED)
    p.assert_refused(bond, p["bob"], p["carol"], UNIT, MAX_HOLDERS_REACHED)
    # a1 sends all it has, but investor 1 still holds through a2: not leaving
    p.assert_refused(bond, p["a1"], p["carol"], 10_000, MAX_HOLDERS_REACHED)
    # the investor gathers everything in one wallet, then leaves entirely: allowed
    p.assert_allowed(bond, p["a2"], p["a1"], 5_000)
    assert p.holders(bond) == 2
    p.assert_allowed(bond, p["a1"], p["carol"], 15_000)
    assert p.holders(bond) == 2
    assert bond.functions.investorBalance(1).call() == 0
    assert bond.functions.investorBalance(3).call() == 15_000
    # a new investor can come in once another leaves into an existing holder
    p.assert_allowed(bond, p["bob"], p["carol"], 5_000)
    assert p.holders(bond) == 1
    p.assert_allowed(bond, None, p["a2"], UNIT)
    assert p.holders(bond) == 2


# ---------------------------------------------------------------------------------------------
# the other entry points go through the same hook


def test_transfer_from_follows_the_rules(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    spender = p.stranger  # a DvP contract or broker: need not be an investor
    p.send(p["a1"], bond.functions.approve(spender.address, 5_000))
    fn = bond.functions.transferFrom(p["a1"].address, p["tokyo"].address, UNIT)
    expect_revert(lambda: p.send(spender, fn), "TransferRestricted", REGION_NOT_ALLOWED,
                  p["a1"], p["tokyo"], UNIT)
    assert bond.functions.allowance(p["a1"].address, spender.address).call() == 5_000
    p.send(spender, bond.functions.transferFrom(p["a1"].address, p["bob"].address, 2_000))
    assert bond.functions.allowance(p["a1"].address, spender.address).call() == 3_000
    assert p.balance(bond, p["bob"]) == 2_000
    expect_revert(lambda: p.send(spender, bond.functions.transferFrom(
        p["a1"].address, p["bob"].address, 4_000)), "ERC20InsufficientAllowance",
        spender, 3_000, 4_000)


def test_batch_transfer_is_all_or_nothing(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    to = [p["bob"].address, p["tokyo"].address, p["carol"].address]
    expect_revert(lambda: p.send(p["a1"], bond.functions.batchTransfer(to, [1_000] * 3)),
                  "TransferRestricted", REGION_NOT_ALLOWED, p["a1"], p["tokyo"], 1_000)
    assert p.balance(bond, p["bob"]) == 0
    to[1] = p["dave"].address
    p.send(p["a1"], bond.functions.batchTransfer(to, [1_000, 2_000, 3_000]))
    assert [p.balance(bond, w) for w in to] == [1_000, 2_000, 3_000]
    expect_revert(lambda: p.send(p["a1"], bond.functions.batchTransfer(to, [1_000])),
                  "LengthMismatch", 3, 1)


def test_mint_batch_is_all_or_nothing(p: Platform, bond: Contract) -> None:
    to = [p["a1"].address, p["bob"].address, p["us"].address]
    expect_revert(lambda: p.send(p.issuer, bond.functions.mintBatch(to, [1_000] * 3)),
                  "TransferRestricted", COUNTRY_NOT_ALLOWED, ZERO, p["us"], 1_000)
    assert p.total(bond) == 0
    to[2] = p["carol"].address
    p.send(p.issuer, bond.functions.mintBatch(to, [1_000, 2_000, 3_000]))
    assert p.total(bond) == 6_000 and p.holders(bond) == 3
    expect_revert(lambda: p.send(p.issuer, bond.functions.mintBatch(to, [1_000])),
                  "LengthMismatch", 3, 1)


# ---------------------------------------------------------------------------------------------
# precedence of the checks (the first failing rule is the one reported)


def test_rule_precedence(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    # a transfer breaking several rules at once reports them in the documented order
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    assert p.detect(bond, p["a1"], p["tokyo"], 1_500) == SENDER_FROZEN
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, False))
    assert p.detect(bond, p["a1"], p["tokyo"], 1_500) == NOT_TRADING_UNIT_MULTIPLE
    assert p.detect(bond, p["a1"], p["tokyo"], 20_000) == INSUFFICIENT_BALANCE
    assert p.detect(bond, p["a1"], p["tokyo"], 1_000) == REGION_NOT_ALLOWED
    assert p.detect(bond, p["outsider"], p["outsider"], 1_000) == SENDER_NOT_REGISTERED
    assert p.detect(bond, p["a1"], ZERO, 1_500) == INVALID_RECIPIENT
    assert p.detect(bond, p["expired"], p["suspended"], 1_000) == RECIPIENT_SUSPENDED
    assert p.detect(bond, p["expired"], p["bob"], 1_000) == SENDER_KYC_EXPIRED


# ---------------------------------------------------------------------------------------------
# defects these tests found, fixed: kept as regression tests


def test_detect_never_reverts_for_a_huge_mint_value(p: Platform, bond: Contract) -> None:
    """ERC-1404's pre-check must answer with a code for any input. With units already issued,
    `(supply) + value` in TransferRestrictions._checkMint overflows for a value near 2**256 and
    the view reverts with Panic(0x11) instead of returning ISSUE_VOLUME_EXCEEDED (22); the mint
    itself reverts with a Panic instead of TransferRestricted."""
    fund(p, bond, a1=UNIT)
    huge = (2**256 - 1) // UNIT * UNIT  # a multiple of the trading unit
    assert p.detect(bond, None, p["bob"], huge) == ISSUE_VOLUME_EXCEEDED
    expect_revert(lambda: p.mint(bond, p["bob"], huge), "TransferRestricted",
                  ISSUE_VOLUME_EXCEEDED, ZERO, p["bob"], huge)


def test_zero_mint_does_not_issue(p: Platform, bond: Contract) -> None:
    """`issued()` says "true once the first unit has been issued (terms are fixed from then
    on)", but a mint of 0 units passes every rule and sets STATE_ISSUED: nothing is issued, yet
    the terms are frozen (TermsFixedAfterIssue) and perInvestor can no longer change."""
    receipt = p.mint(bond, p["a1"], 0)
    assert p.total(bond) == 0
    assert events(bond, receipt, "Transfer")  # a zero mint is at least visible
    assert bond.functions.issued().call() is False
    same_code = p.terms(code=bond.functions.bondCode().call())
    p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(same_code)))


def test_detect_agrees_with_the_transfer_after_the_registry_moves_a_wallet(
        p: Platform, per_investor: Contract) -> None:
    """Per-investor bonds keep units per investor id, read from the shared registry at each
    transfer. If the registrar re-registers a holding wallet under another investor id (a data
    correction, or a wallet handed to a new owner), the bond's per-investor totals no longer
    match: detectTransferRestriction says 0 but the transfer reverts with an arithmetic Panic
    (`c.fromUnits - value` underflows in BondLedger._updateInvestorUnits)."""
    bond = per_investor
    fund(p, bond, a1=5_000)
    moved = Investor(90, region=KOBE, kycValidUntil=p.t0 + YEAR)
    p.register(p["a1"], moved)  # same wallet, another investor id
    code = p.detect(bond, p["a1"], p["bob"], UNIT)
    try:
        p.transfer(bond, p["a1"], p["bob"], UNIT)
    except Exception as error:
        data = getattr(error, "data", b"")
        outcome = decode_error(data).name if data else repr(error)
    else:
        outcome = "success"
    assert (code == SUCCESS) == (outcome == "success"), (
        f"detectTransferRestriction said {code}, the transfer ended in {outcome}")
    if outcome != "success":
        assert outcome == "TransferRestricted"
