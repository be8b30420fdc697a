"""Regression tests for the defects of the security review (issue 7, part A) and the contract
half of B.1: each test here fails on the contracts before the fix.

A.1 per-period totals that could wrap their 64-bit lanes; A.2 withholding that failed open is in
test_payments.py (section 8); A.3 coupon positions moved before issue; A.4 and A.5 wallet
recovery after close and under the bond's recipient rules; A.6 call terms on chain; A.7 a
settlement token that re-enters; A.8 the two-step admin hand-over; B.1 no mint before the
payment schedule of a bond with a coupon.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .conftest import deploy
from .helpers import (
    Platform,
    account_slot,
    events,
    expect_revert,
    raw_storage,
    role_id,
)
from .payment_helpers import (
    CALL_NOTICE,
    CLAIM_WINDOW,
    DAY,
    DIV_EXP,
    JPY,
    PAR,
    PAY_EXP,
    PAYING_AGENT_ROLE,
    Payments,
    as_tuples,
    call_terms,
    deploy_token,
    pay_rules,
    schedule,
    setup_payments,
)
from .test_payments import pay_period

ADMIN_ROLE = b"\x00" * 32
ISSUER_ROLE = role_id("ISSUER_ROLE")
REASON = "lost key, case 2027-11"


# --- A.1 per-period totals ------------------------------------------------------------------

def test_schedule_whose_totals_could_wrap_is_refused(p: Platform) -> None:
    """A rounding unit of 1e-13 JPY paid in an 18-decimal coin: 2^64 rounding units are about
    1.84m JPY, so a 3m JPY issue would lock its last holders' principal. setSchedule refuses it
    and names the largest issue volume that fits."""
    token = deploy_token(p)
    periods = schedule(p.chain.now() + 10 * DAY, 2)
    # rounding unit 1e-13 JPY: divisor exponent = 0 (decimals) + 13 (interest) - 13 = 0
    fine = dict(issueVolume=3_000_000, denomination=1_000_000, maturityDate=periods[-1].payment)
    bond = p.make_bond(pay_rules(p), **fine)
    error = expect_revert(lambda: p.send(p.admin, bond.functions.setSchedule(
        as_tuples(periods), token.address, 0, 5, CLAIM_WINDOW, call_terms())),
        "PeriodTotalTooLarge")
    limit = 2**64 - 1
    # period 1 (the redemption) pays 3,000,000 x 1 JPY = 3e19 units of 1e-13 JPY, above 2^64
    assert (error["period"], error["total"], error["limit"]) == (1, 3_000_000 * PAR, limit)
    # the largest volume named fits exactly: at it the total is within the limit, one more is not
    most = error["maxIssueVolume"]
    assert most == 1_844_674
    assert most * PAR <= limit < (most + 1) * PAR


def test_largest_allowed_issue_pays_every_holder(p: Platform) -> None:
    """At the largest volume the rounding unit allows, every holder of the final period is paid
    and the period's totals are exact (no lane wraps)."""
    token = deploy_token(p)
    periods = schedule(p.chain.now() + 10 * DAY, 1)
    volume = (2**64 - 1) // PAR  # principal per unit PAR at divisor exponent 0
    volume -= volume % 3
    bond = p.make_bond(pay_rules(p), issueVolume=volume, denomination=volume // 3,
                       maturityDate=periods[-1].payment)
    p.send(p.admin, bond.functions.setSchedule(as_tuples(periods), token.address, 0, 5,
                                               CLAIM_WINDOW, call_terms(price=0)))
    pay = _payments(p, bond, token, periods)
    for name in ("a1", "bob", "carol"):
        p.mint(bond, p[name], volume // 3)
    pay_period(pay, 0)
    for name in ("a1", "bob", "carol"):
        pay.redeem(p[name])
    paid = pay.paid(0)
    assert paid["principal"] == volume * PAR * 10**5
    assert p.total(bond) == 0


def _payments(p: Platform, bond: Any, token: Any, periods: list[Any]) -> Payments:
    payer = p.creator
    p.send(p.admin, bond.functions.grantRole(PAYING_AGENT_ROLE, payer.address))
    p.send(p.admin, bond.functions.setTaxRates(1, 15_315, 5_000))
    p.send(p.admin, bond.functions.setTaxRates(2, 15_315, 0))
    p.send(p.admin, bond.functions.setTaxRates(0, 0, 0))
    p.send(p.admin, token.functions.mint(payer.address, 2**200))
    p.send(payer, token.functions.approve(bond.address, 2**256 - 1))
    return Payments(p=p, bond=bond, token=token, payer=payer, tax_account=p["new3"].address,
                    periods=periods)


# --- A.3 positions before issue -----------------------------------------------------------

def test_zero_moves_before_issue_change_no_position(p: Platform) -> None:
    """A stranger's zero-value transferFrom before issue used to settle both wallets' coupon
    cursors; a later schedule reset then cost them their first coupons. Before the first mint
    no account word changes, whoever calls."""
    token = deploy_token(p)
    periods = schedule(p.chain.now() + 10 * DAY, 3)
    bond = p.make_bond(pay_rules(p), maturityDate=periods[-1].payment)
    fn = bond.functions
    p.send(p.admin, fn.setSchedule(as_tuples(periods), token.address, DIV_EXP, PAY_EXP,
                                   CLAIM_WINDOW, call_terms()))
    p.warp_to(periods[0].record + 1)  # a record time passes before issue
    for who in ("a1", "bob"):
        p.send(p.stranger, fn.transferFrom(p[who].address, p["carol"].address, 0))
        p.send(p[who], fn.transfer(p["dave"].address, 0))
    # not a bit of any account word was written (the coupon cursor included)
    for who in ("a1", "bob", "carol", "dave"):
        assert raw_storage(p.chain, bond.address, account_slot(p[who].address)) == 0, who
    # the schedule is reset before issue; the holders' first coupon is the new first period
    later = schedule(p.chain.now() + 10 * DAY, 2)
    p.send(p.admin, fn.setSchedule(as_tuples(later), token.address, DIV_EXP, PAY_EXP,
                                   CLAIM_WINDOW, call_terms()))
    pay = _payments(p, bond, token, later)
    p.mint(bond, p["a1"], 10_000)
    p.mint(bond, p["carol"], 10_000)
    pay_period(pay, 0)
    for who in ("a1", "carol"):
        assert [e["period"] for e in pay.coupon_events(pay.claim(p[who]))] == [0]


# --- A.4 / A.5 recovery -----------------------------------------------------------------------

def test_recovery_after_close_moves_what_is_owed(p: Platform) -> None:
    """A lost wallet owed a coupon when the bond closes can still be recovered (it was refused
    with code 2), and the new wallet is paid."""
    pay = setup_payments(p, n=2, holders={"a1": 10_000, "bob": 10_000})
    pay.to_record(0, 1)
    p.transfer(pay.bond, p["a1"], p["bob"], 10_000)  # a1 holds nothing, owed period 0
    pay.fund(0)
    pay.to_payment(1)
    pay.fund(1)
    pay.redeem(p["bob"])
    assert pay.fn.detectTransferRestriction(p["bob"].address, p["carol"].address, 0).call() == 2
    assert pay.entitlements(p["a1"]) == [(0, 10_000)]
    receipt = p.send(p.agent, pay.fn.recoverWallet(p["a1"].address, p["a2"].address, REASON))
    assert events(pay.bond, receipt, "WalletRecovered")[0]["newWallet"] == p["a2"].address
    assert pay.entitlements(p["a2"]) == [(0, 10_000)] and pay.entitlements(p["a1"]) == []
    (event,) = pay.coupon_events(pay.claim(p["a2"]))
    assert event["gross"] == 31 * JPY


def test_recovery_applies_the_recipient_rules(p: Platform) -> None:
    """The new wallet must be of a class, country and region the bond allows: a wallet a
    transfer would refuse with code 12 (region) receives nothing by recovery either."""
    pay = setup_payments(p, holders={"a1": 10_000})
    tokyo_wallet_of_a1 = p["new1"]
    from .conftest import investor_records

    record = investor_records(p.t0)["tokyo"]
    p.register(tokyo_wallet_of_a1, type(record)(1, region=record.region,
                                                kycValidUntil=record.kycValidUntil))
    assert p.detect(pay.bond, p["bob"], tokyo_wallet_of_a1, 0) == 12
    expect_revert(lambda: p.send(p.agent, pay.fn.recoverWallet(
        p["a1"].address, tokyo_wallet_of_a1.address, REASON)), "TransferRestricted", 12)
    assert p.balance(pay.bond, p["a1"]) == 10_000
    # the investor's eligible wallet receives it (lock-up, caps and holder count aside)
    p.send(p.agent, pay.fn.recoverWallet(p["a1"].address, p["a2"].address, REASON))
    assert p.balance(pay.bond, p["a2"]) == 10_000


# --- A.6 call terms ---------------------------------------------------------------------------

def test_call_terms_are_enforced(p: Platform) -> None:
    periods = schedule(p.chain.now() + 60 * DAY, 4)
    first_call = periods[2].payment
    pay = setup_payments(p, periods=periods, holders={"a1": 10_000},
                         call=call_terms(first_call=first_call))
    assert tuple(pay.fn.callTerms().call()) == (CALL_NOTICE, first_call, 1_005_000, 1_000_000)
    at_terms = PAR * 1_005_000 // 1_000_000
    assert pay.fn.minCallPrincipal(1).call() == at_terms
    # the issuer alone cannot redeem at 0, below the call price, or before the first call date
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(2, 0)),
                  "CallPriceBelowTerms", 0, at_terms)
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(2, at_terms - 1)),
                  "CallPriceBelowTerms", at_terms - 1, at_terms)
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(1, at_terms)),
                  "CallBeforeFirstCallDate", 1, periods[1].payment, first_call)
    p.send(p.issuer, pay.fn.announceCall(2, at_terms))
    assert pay.info(2)["isFinal"]


def test_call_of_an_amortising_bond_pays_the_face_outstanding_before_it(p: Platform) -> None:
    """With 30% amortised in period 1, a call of period 1 must pay all the face (the
    amortisation is not yet paid), a call of period 2 the 70% left: each at the call price."""
    base = schedule(p.chain.now() + 60 * DAY, 4)
    periods = [base[0], dataclasses.replace(base[1], principal=3 * PAR // 10), base[2],
               dataclasses.replace(base[3], principal=7 * PAR // 10)]
    pay = setup_payments(p, periods=periods, holders={"a1": 10_000})
    assert pay.fn.minCallPrincipal(1).call() == PAR * 1_005_000 // 1_000_000
    assert pay.fn.minCallPrincipal(2).call() == 7 * PAR // 10 * 1_005_000 // 1_000_000
    # the old SDK priced every call on the face left at maturity (70%): refused for period 1
    at_maturity_face = 7 * PAR // 10 * 1_005_000 // 1_000_000
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(1, at_maturity_face)),
                  "CallPriceBelowTerms", at_maturity_face, PAR * 1_005_000 // 1_000_000)
    p.send(p.issuer, pay.fn.announceCall(1, PAR * 1_005_000 // 1_000_000))


def test_bond_without_call_right_cannot_be_called(p: Platform) -> None:
    pay = setup_payments(p, periods=schedule(p.chain.now() + 60 * DAY, 4),
                         holders={"a1": 10_000}, call=call_terms(price=0))
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(2, 10 * PAR)), "NotCallable")


# --- A.7 a settlement token that re-enters ----------------------------------------------------

def _hostile(p: Platform, holders: dict[str, int]) -> tuple[Payments, Any]:
    token = deploy(p.chain, p.admin, "ReentrantSettlementToken")
    periods = schedule(p.chain.now() + 10 * DAY, 2)
    bond = p.make_bond(pay_rules(p), maturityDate=periods[-1].payment)
    p.send(p.admin, bond.functions.setSchedule(as_tuples(periods), token.address, DIV_EXP,
                                               PAY_EXP, CLAIM_WINDOW, call_terms()))
    pay = _payments(p, bond, token, periods)
    p.send(p.admin, bond.functions.setTaxAccount(pay.tax_account))
    # the token itself holds the paying agent's role: its call backs get past the role checks
    p.send(p.admin, bond.functions.grantRole(PAYING_AGENT_ROLE, token.address))
    p.send(p.admin, bond.functions.grantRole(ISSUER_ROLE, token.address))
    for name, units in holders.items():
        p.mint(bond, p[name], units)
    return pay, token


def _reentries(token: Any, receipt: Any) -> list[tuple[bool, bytes]]:
    return [(e["args"]["ok"], bytes(e["args"]["result"])) for e in
            token.events.Reentered().process_receipt(receipt)]


def test_fund_with_a_reentering_token(p: Platform) -> None:
    """fund writes its state before calling the token: a call back into fund finds the period
    funded (before the fix the call back funded it a second time)."""
    pay, token = _hostile(p, {"a1": 10_000})
    need = pay.required(0)
    token.functions.arm(pay.bond.address, pay.fn.fund(0, need)._encode_transaction_data(),
                        1).transact({"from": p.admin.address, "gasPrice": 0})
    receipt = pay.fund(0)
    ((ok, result),) = _reentries(token, receipt)
    assert not ok and result[:4] == bytes.fromhex(_selector("AlreadyFunded(uint256)"))
    assert pay.funding(0)[:2] == (need, need)
    assert pay.cash(pay.bond.address) == need


def test_payments_with_a_reentering_token(p: Platform) -> None:
    """claim, push, remitTax and returnUnclaimed with a token that calls back into the bond on
    every payout: nobody is paid twice and the escrow always equals what is owed."""
    pay, token = _hostile(p, {"a1": 10_000, "bob": 20_000, "carol": 10_000})
    pay_period(pay, 0)
    arm = token.functions.arm
    # a1's claim: the token calls payBatch([a1]) before paying a1
    arm(pay.bond.address, pay.fn.payBatch([p["a1"].address])._encode_transaction_data(),
        1).transact({"from": p.admin.address, "gasPrice": 0})
    receipt = pay.claim(p["a1"])
    assert len(pay.coupon_events(receipt)) == 1
    # push to bob: the token calls claim() (as itself: owed nothing) and payBatch again
    arm(pay.bond.address, pay.fn.payBatch([p["bob"].address])._encode_transaction_data(),
        1).transact({"from": p.admin.address, "gasPrice": 0})
    receipt = pay.pay_batch([p["bob"]])
    assert len(pay.coupon_events(receipt)) == 1
    paid = pay.paid(0)
    gross = (31 + 62) * JPY
    assert paid["couponGross"] == gross
    assert pay.cash(p["a1"]) + pay.cash(p["bob"]) == gross - paid["nationalTax"] - paid["localTax"]
    # remitting tax: the call back remits again and finds nothing left
    arm(pay.bond.address, pay.fn.remitTax(0)._encode_transaction_data(),
        1).transact({"from": p.admin.address, "gasPrice": 0})
    receipt = p.send(pay.payer, pay.fn.remitTax(0))
    ((ok, result),) = _reentries(token, receipt)
    assert not ok and result[:4] == bytes.fromhex(_selector("NothingToRemit(uint256)"))
    assert pay.cash(pay.tax_account) == paid["nationalTax"] + paid["localTax"]
    # the claim window closes: returning the dust once
    p.warp_to(pay.periods[0].payment + CLAIM_WINDOW)
    arm(pay.bond.address, pay.fn.returnUnclaimed(0, p.issuer.address)._encode_transaction_data(),
        1).transact({"from": p.admin.address, "gasPrice": 0})
    receipt = p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address))
    ((ok, result),) = _reentries(token, receipt)
    assert not ok and result[:4] == bytes.fromhex(_selector("PeriodSwept(uint256)"))
    required_0 = pay.required(0)
    assert pay.cash(p.issuer) == required_0 - gross == 31 * JPY  # carol never claimed


def _selector(signature: str) -> str:
    from eth_utils import keccak

    return keccak(text=signature)[:4].hex()


# --- A.8 two-step admin hand-over ------------------------------------------------------------

def test_bond_admin_moves_only_by_a_delayed_two_step_handover(p: Platform) -> None:
    bond = p.make_bond(pay_rules(p))
    fn = bond.functions
    new = p["new1"]
    delay = fn.defaultAdminDelay().call()
    assert delay == 3 * DAY
    for action in (fn.grantRole(ADMIN_ROLE, new.address),
                   fn.revokeRole(ADMIN_ROLE, p.admin.address),
                   fn.renounceRole(ADMIN_ROLE, p.admin.address)):
        expect_revert(lambda action=action: p.send(p.admin, action),
                      "AdminRoleMovesByHandoverOnly")
    expect_revert(lambda: p.send(p.stranger, fn.beginDefaultAdminTransfer(p.stranger.address)),
                  "AccessControlUnauthorizedAccount", p.stranger, ADMIN_ROLE)
    start = p.chain.now() + 100
    p.at(start)
    receipt = p.mined(p.admin, fn.beginDefaultAdminTransfer(new.address))
    assert events(bond, receipt, "DefaultAdminTransferScheduled") == [
        {"admin": p.admin.address, "newAdmin": new.address, "acceptAfter": start + delay}]
    p.at(start + delay)  # accepted strictly after acceptAfter, as OpenZeppelin's rules
    expect_revert(lambda: p.mined(new, fn.acceptDefaultAdminTransfer()),
                  "AdminHandoverNotAcceptable", new, new, start + delay)
    expect_revert(lambda: p.send(p.stranger, fn.acceptDefaultAdminTransfer()),
                  "AdminHandoverNotAcceptable", p.stranger, new, start + delay)
    p.at(start + delay + 1)
    receipt = p.mined(new, fn.acceptDefaultAdminTransfer())
    assert events(bond, receipt, "DefaultAdminTransferred") == [
        {"previousAdmin": p.admin.address, "newAdmin": new.address}]
    assert fn.hasRole(ADMIN_ROLE, new.address).call()
    assert not fn.hasRole(ADMIN_ROLE, p.admin.address).call()
    assert fn.pendingDefaultAdmin().call() == [ZERO_ADDRESS, 0]
    # a cancelled hand-over cannot be accepted
    p.send(new, fn.beginDefaultAdminTransfer(p.admin.address))
    p.send(new, fn.cancelDefaultAdminTransfer())
    p.warp_to(p.chain.now() + delay + 1)
    expect_revert(lambda: p.send(p.admin, fn.acceptDefaultAdminTransfer()),
                  "AdminHandoverNotAcceptable")


def test_admin_delay_change_waits_for_the_current_delay(p: Platform) -> None:
    bond = p.make_bond(pay_rules(p))
    fn = bond.functions
    start = p.chain.now() + 100
    p.at(start)
    expect_revert(lambda: p.send(p.admin, fn.changeDefaultAdminDelay(0)), "InvalidAdminDelay")
    expect_revert(lambda: p.send(p.stranger, fn.changeDefaultAdminDelay(60)),
                  "AccessControlUnauthorizedAccount", p.stranger, ADMIN_ROLE)
    p.mined(p.admin, fn.changeDefaultAdminDelay(60))
    assert fn.defaultAdminDelay().call() == 3 * DAY
    assert fn.pendingDefaultAdminDelay().call() == [60, start + 3 * DAY]
    p.warp_to(start + 3 * DAY)
    assert fn.defaultAdminDelay().call() == 60


def test_registry_and_factory_admins_move_by_handover_only(p: Platform) -> None:
    new = p["new2"]
    for contract, refusal in ((p.registry, "AdminRoleMovesByHandoverOnly"),
                              (p.factory, "AccessControlEnforcedDefaultAdminRules")):
        expect_revert(lambda c=contract: p.send(p.admin, c.functions.grantRole(
            ADMIN_ROLE, new.address)), refusal)
        start = p.chain.now() + 100
        p.at(start)
        p.mined(p.admin, contract.functions.beginDefaultAdminTransfer(new.address))
        p.warp_to(start + 3 * DAY + 1)
        p.send(new, contract.functions.acceptDefaultAdminTransfer())
        assert contract.functions.hasRole(ADMIN_ROLE, new.address).call()
        assert not contract.functions.hasRole(ADMIN_ROLE, p.admin.address).call()


# --- B.1 no mint before the schedule of a bond with a coupon ---------------------------------

def test_coupon_bond_mints_nothing_before_its_schedule(p: Platform) -> None:
    token = deploy_token(p)
    periods = schedule(p.chain.now() + 10 * DAY, 2)
    bond = p.make_bond(pay_rules(p), couponRate=4_500, couponFrequency=2,
                       maturityDate=periods[-1].payment)
    assert p.detect(bond, None, p["a1"], 1_000) == 23
    assert bond.functions.messageForTransferRestriction(23).call() == (
        "The bond pays coupons but has no payment schedule yet")
    expect_revert(lambda: p.mint(bond, p["a1"], 1_000), "TransferRestricted", 23)
    p.send(p.admin, bond.functions.setSchedule(as_tuples(periods), token.address, DIV_EXP,
                                               PAY_EXP, CLAIM_WINDOW, call_terms()))
    assert p.detect(bond, None, p["a1"], 1_000) == 0
    p.mint(bond, p["a1"], 1_000)
    assert p.balance(bond, p["a1"]) == 1_000
    # a zero-coupon bond (no coupon rate) mints without one
    zero = p.make_bond(pay_rules(p))
    assert p.detect(zero, None, p["a1"], 1_000) == 0


ZERO_ADDRESS = "0x" + "00" * 20
