"""On-chain payments (issue 3): the schedule, record-date entitlement settled lazily, funding,
claims and batch payments, withholding tax, the return of unclaimed funds, redemption with burn,
amortisation, the issuer's call and a zero-coupon bond.

The example bond has 0 decimals (1 unit = 1 JPY of face), a coupon of 0.31% per period
(31_000_000_000 at 13 interest decimals), a rounding unit of 1 JPY and an 18-decimal settlement
token: a holding of u units earns floor(u * 0.0031) JPY = that x 10^18 settlement units.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from munibond.exceptions import TransactionReverted

from .conftest import investor_records
from .helpers import (
    BOND_CLOSED,
    BOND_MATURED,
    INVALID_RECIPIENT,
    ZERO,
    Investor,
    Platform,
    decode_error,
    events,
    expect_revert,
    investor_units_slot,
    raw_storage,
)
from .payment_helpers import (
    ACCOUNT_ARREARS,
    ADMIN_ROLE,
    CALL_NOTICE,
    CLAIM_WINDOW,
    CORPORATE_TAX,
    COUPON,
    DAY,
    DIV_EXP,
    EXEMPT,
    INDIVIDUAL,
    ISSUER_ROLE,
    JPY,
    PAR,
    PAY_EXP,
    PAY_LAG,
    PAYING_AGENT_ROLE,
    RECORDED_SHIFT,
    Expected,
    Payments,
    Period,
    as_tuples,
    call_terms,
    deploy_token,
    expected,
    pay_rules,
    required,
    reverts_at,
    schedule,
    setup_payments,
    view_reverts,
)

#: holdings with every tax category and a rounding remainder: the holders' coupons floor to
#: 38 + 21 + 10 + 6 = 75 JPY, the supply's (24_717 units) to 76 JPY: 1 JPY of dust
HOLDERS = {"a1": 12_345, "bob": 6_789, "grace": 3_333, "qii": 2_250}
CATEGORY = {"a1": INDIVIDUAL, "a2": INDIVIDUAL, "bob": INDIVIDUAL, "carol": INDIVIDUAL,
            "dave": INDIVIDUAL, "erin": INDIVIDUAL, "grace": CORPORATE_TAX, "qii": EXEMPT}
SUPPLY = sum(HOLDERS.values())
REASON = "court order"


def standard(p: Platform, **kw: Any) -> Payments:
    kw.setdefault("holders", HOLDERS)
    return setup_payments(p, **kw)


def coupon_event(pay: Payments, who: str, period: int, units: int,
                 coupon: int = COUPON) -> dict[str, Any]:
    e = expected(units, CATEGORY[who], coupon)
    return {"holder": pay.p[who].address, "period": period, "gross": e.gross,
            "nationalTax": e.national, "localTax": e.local, "net": e.net_coupon}


def pay_period(pay: Payments, period: int) -> None:
    """Fund ``period`` and move to its payment time."""
    pay.to_payment(period)
    pay.fund(period)


# =============================================================================================
# the arithmetic of the example (guards the helper that the other tests compare against)


def test_example_arithmetic() -> None:
    # 12_345 x 0.31% = 38.2695 -> 38 JPY; national 38 x 15.315% = 5.8 -> 5; local 38 x 5% = 1.9 -> 1
    assert expected(12_345, INDIVIDUAL) == Expected(38 * JPY, 5 * JPY, 1 * JPY, 0)
    assert expected(12_345, INDIVIDUAL).net == 32 * JPY
    # corporate: no local tax
    assert expected(3_333, CORPORATE_TAX) == Expected(10 * JPY, 1 * JPY, 0, 0)
    # exempt
    assert expected(2_250, EXEMPT) == Expected(6 * JPY, 0, 0, 0)
    assert required(SUPPLY) == 76 * JPY
    assert sum(expected(u, CATEGORY[n]).gross for n, u in HOLDERS.items()) == 75 * JPY
    assert expected(12_345, INDIVIDUAL, principal=PAR).net == (32 + 12_345) * JPY


# =============================================================================================
# 1 the schedule


def test_schedule_views_and_event(p: Platform) -> None:
    token = deploy_token(p)
    periods = schedule(p.chain.now() + 10 * DAY, 4)
    bond = p.make_bond(pay_rules(p), maturityDate=periods[-1].payment + 1)
    receipt = p.send(p.admin, bond.functions.setSchedule(
        as_tuples(periods), token.address, DIV_EXP, PAY_EXP, CLAIM_WINDOW, call_terms()))
    (event,) = events(bond, receipt, "ScheduleSet")
    assert [(q["recordTime"], q["paymentTime"], q["couponPerUnit"], q["principalPerUnit"])
            for q in event["periods"]] == as_tuples(periods)
    assert (event["settlementToken"], event["divisorExponent"], event["payExponent"],
            event["claimWindow"], tuple(event["callTerms"].values())) == (
        token.address, DIV_EXP, PAY_EXP, CLAIM_WINDOW, call_terms())
    assert [tuple(q) for q in bond.functions.paymentSchedule().call()] == as_tuples(periods)
    assert bond.functions.paymentTerms().call() == [
        token.address, 4, 0, DIV_EXP, PAY_EXP, CLAIM_WINDOW, CALL_NOTICE]
    for i, q in enumerate(periods):
        assert bond.functions.periodInfo(i).call() == [
            q.record, q.payment, COUPON, q.principal, i == 3, False, False]
    assert periods[3].principal == PAR and all(q.principal == 0 for q in periods[:3])
    view_reverts(p, bond.functions.periodInfo(4), "NoSuchPeriod", 4)
    view_reverts(p, bond.functions.requiredFunding(4), "NoSuchPeriod", 4)
    # record times count on the chain's clock
    p.warp_to(periods[1].record)
    assert bond.functions.paymentTerms().call()[2] == 2


def test_bond_without_schedule_pays_nothing(p: Platform) -> None:
    bond = p.make_bond(pay_rules(p))
    assert bond.functions.paymentTerms().call() == [ZERO, 0, 0, 0, 0, 0, 0]
    assert bond.functions.paymentSchedule().call() == []
    p.mint(bond, p["a1"], 10_000)
    expect_revert(lambda: p.send(p["a1"], bond.functions.claim()), "NothingOwed", p["a1"])
    assert bond.functions.entitlementsOf(p["a1"].address).call() == [[], []]


def test_schedule_only_by_admin(p: Platform) -> None:
    token = deploy_token(p)
    periods = schedule(p.chain.now() + 10 * DAY, 2)
    bond = p.make_bond(pay_rules(p))
    for who in (p.stranger, p.issuer, p.agent):
        expect_revert(lambda who=who: p.send(who, bond.functions.setSchedule(
            as_tuples(periods), token.address, DIV_EXP, PAY_EXP, CLAIM_WINDOW, call_terms())),
            "AccessControlUnauthorizedAccount", who, ADMIN_ROLE)


def _invalid_cases(now: int, maturity: int) -> dict[str, tuple[Any, ...]]:
    """case -> (periods, token or None for the real one, divExp, payExp, claimWindow,
    expected period index, expected reason)"""
    base = schedule(now + 10 * DAY, 3)
    r0 = base[0]
    return {
        "no periods": ([], None, 13, 18, CLAIM_WINDOW, 0, "between 1 and 255 periods"),
        "256 periods": (schedule(now + 10, 256, spacing=10, lag=5), None, 13, 18,
                        CLAIM_WINDOW, 256, "between 1 and 255 periods"),
        "token not a contract": (base, "eoa", 13, 18, CLAIM_WINDOW, 0,
                                 "settlement token is not a contract"),
        "divisor exponent": (base, None, 78, 18, CLAIM_WINDOW, 0, "exponent above 77"),
        "pay exponent": (base, None, 13, 78, CLAIM_WINDOW, 0, "exponent above 77"),
        "claim window": (base, None, 13, 18, 0, 0, "claim window must be positive"),
        "first record in the past": ([Period(now - 1, now + DAY), *base[1:]], None, 13, 18,
                                     CLAIM_WINDOW, 0, "record time not after the previous time"),
        "record at previous payment": ([r0, Period(r0.payment, r0.payment + DAY), base[2]],
                                       None, 13, 18, CLAIM_WINDOW, 1,
                                       "record time not after the previous time"),
        "payment at record": ([r0, Period(base[1].record, base[1].record), base[2]], None, 13,
                              18, CLAIM_WINDOW, 1, "payment time not after record time"),
        "payment before record": ([Period(r0.record, r0.record - 1), *base[1:]], None, 13, 18,
                                  CLAIM_WINDOW, 0, "payment time not after record time"),
        "payment after maturity": ([*base[:2], Period(maturity - DAY, maturity + 1, 0, PAR)],
                                   None, 13, 18, CLAIM_WINDOW, 2, "payment after maturity"),
        "final pays no principal": ([*base[:2], Period(base[2].record, base[2].payment)], None,
                                    13, 18, CLAIM_WINDOW, 2, "final period pays no principal"),
    }


@pytest.mark.parametrize("case", sorted(_invalid_cases(0, 10**9)))
def test_schedule_invalid(p: Platform, case: str) -> None:
    token = deploy_token(p)
    now = p.chain.now()
    maturity = now + 2 * 365 * DAY
    bond = p.make_bond(pay_rules(p), maturityDate=maturity)
    periods, tok, div_exp, pay_exp, window, index, reason = _invalid_cases(now, maturity)[case]
    settlement = p["outsider"].address if tok == "eoa" else token.address
    expect_revert(lambda: p.send(p.admin, bond.functions.setSchedule(
        as_tuples(periods), settlement, div_exp, pay_exp, window, call_terms())),
        "InvalidSchedule", index, reason)


def test_schedule_boundaries(p: Platform) -> None:
    """The first record time must be after the block's time; the last payment may be at maturity;
    exponents up to 77 are accepted."""
    token = deploy_token(p)
    start = p.chain.now() + 10 * DAY  # the chain's clock may follow the wall clock meanwhile
    maturity = start + 10 * DAY
    bond = p.make_bond(pay_rules(p), maturityDate=maturity)

    def set_schedule(first_record: int) -> Any:
        periods = [Period(first_record, first_record + DAY),
                   Period(maturity - DAY, maturity, 0, PAR)]
        return bond.functions.setSchedule(as_tuples(periods), token.address, 77, 77, 1,
                                          call_terms(0, 0, 0))

    reverts_at(p, start, p.admin, set_schedule(start), "InvalidSchedule", 0,
               "record time not after the previous time")
    p.at(start + 1)
    p.mined(p.admin, set_schedule(start + 2))
    assert bond.functions.paymentTerms().call()[1:5] == [2, 0, 77, 77]
    assert bond.functions.periodInfo(1).call()[1] == maturity


def test_schedule_fixed_after_issue_and_replaced_before(p: Platform) -> None:
    pay = setup_payments(p, n=4)
    # before the first mint the schedule may be replaced; a shorter one drops the extra periods
    short = schedule(p.chain.now() + 20 * DAY, 2)
    p.send(p.admin, pay.fn.setSchedule(as_tuples(short), pay.token.address, DIV_EXP, PAY_EXP,
                                       CLAIM_WINDOW, call_terms()))
    assert pay.fn.paymentTerms().call()[1] == 2
    assert [tuple(q) for q in pay.fn.paymentSchedule().call()] == as_tuples(short)
    view_reverts(p, pay.fn.periodInfo(2), "NoSuchPeriod", 2)
    assert pay.info(1)["isFinal"]
    p.mint(pay.bond, p["a1"], 1_000)
    expect_revert(lambda: p.send(p.admin, pay.fn.setSchedule(
        as_tuples(short), pay.token.address, DIV_EXP, PAY_EXP, CLAIM_WINDOW, call_terms())),
        "ScheduleFixedAfterIssue")


# =============================================================================================
# 2 record date: exact to the second


def test_record_time_is_exact_to_the_second(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    r = pay.periods[0].record
    # in a block one second before the record time the coupon moves with the units ...
    p.allowed_at(r - 1, pay.bond, p["a1"], p["bob"], 4_000)
    # ... at the record time and after, it stays with the holder of record
    p.allowed_at(r, pay.bond, p["a1"], p["bob"], 1_000)
    p.allowed_at(r + 1, pay.bond, p["a1"], p["bob"], 1_000)
    assert (p.balance(pay.bond, p["a1"]), p.balance(pay.bond, p["bob"])) == (4_000, 6_000)
    assert pay.entitlements(p["a1"]) == [(0, 6_000)]
    assert pay.entitlements(p["bob"]) == [(0, 4_000)]
    pay_period(pay, 0)
    receipt = pay.claim(p["a1"])
    # 6_000 x 0.31% = 18.6 -> 18 JPY
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 6_000)]
    assert pay.coupon_events(receipt)[0]["gross"] == 18 * JPY
    receipt = pay.claim(p["bob"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", 0, 4_000)]
    assert pay.coupon_events(receipt)[0]["gross"] == 12 * JPY
    assert pay.cash(p["a1"]) == expected(6_000, INDIVIDUAL).net
    assert pay.cash(p["bob"]) == expected(4_000, INDIVIDUAL).net


def test_entitlement_view_at_the_record_second(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    r = pay.periods[0].record
    p.at(r - 1)
    assert pay.entitlements(p["a1"], "pending") == []
    p.chain.mine()
    p.at(r)
    assert pay.entitlements(p["a1"], "pending") == [(0, 10_000)]


# =============================================================================================
# 3 lazy settlement


def test_passing_a_record_time_writes_nothing(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 12_345, "bob": 6_789})
    words = {n: pay.account_word(p[n]) for n in ("a1", "bob")}
    state = pay.state_word()
    assert pay.cursor_and_held(p["a1"]) == (0, 0)
    pay.to_record(0, 10)
    p.chain.mine(3)
    # time passed the record: nothing stored changed, the views count the record already
    assert {n: pay.account_word(p[n]) for n in ("a1", "bob")} == words
    assert pay.state_word() == state
    assert (state >> RECORDED_SHIFT) & 0xFF == 0
    assert pay.fn.paymentTerms().call()[2] == 1
    assert pay.entitlements(p["a1"]) == [(0, 12_345)]
    # the first move after the record settles only the two wallets that move
    receipt = p.transfer(pay.bond, p["bob"], p["carol"], 1_000)
    assert events(pay.bond, receipt, "EntitlementKept") == []
    assert (pay.state_word() >> RECORDED_SHIFT) & 0xFF == 1
    assert pay.account_word(p["a1"]) == words["a1"]
    assert pay.cursor_and_held(p["bob"]) == (1, 6_789)  # kept in the account word
    assert pay.cursor_and_held(p["carol"]) == (1, 0)
    assert pay.account_word(p["bob"]) & ACCOUNT_ARREARS == 0
    assert pay.entitlements(p["bob"]) == [(0, 6_789)]
    assert pay.entitlements(p["carol"]) == []
    assert p.balance(pay.bond, p["bob"]) == 5_789
    # both are paid on their holdings at the record time
    pay_period(pay, 0)
    pay.claim(p["a1"])
    pay.claim(p["bob"])
    expect_revert(lambda: pay.claim(p["carol"]), "NothingOwed", p["carol"])
    assert pay.cash(p["a1"]) == expected(12_345, INDIVIDUAL).net
    assert pay.cash(p["bob"]) == expected(6_789, INDIVIDUAL).net
    assert pay.cursor_and_held(p["bob"]) == (1, 0)
    # the next period pays the new balances
    pay_period(pay, 1)
    receipt = pay.pay_batch([p["bob"], p["carol"]])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", 1, 5_789),
                                          coupon_event(pay, "carol", 1, 1_000)]


def test_holder_who_sold_everything_after_the_record_is_paid(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 12_345, "bob": 1_000})
    pay.to_record(0, 1)
    p.transfer(pay.bond, p["a1"], p["carol"], 12_345)
    assert p.balance(pay.bond, p["a1"]) == 0
    assert p.holders(pay.bond) == 2  # a1 left, carol joined
    assert pay.entitlements(p["a1"]) == [(0, 12_345)]
    assert pay.entitlements(p["carol"]) == []
    pay_period(pay, 0)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 12_345)]
    assert pay.cash(p["a1"]) == expected(12_345, INDIVIDUAL).net
    expect_revert(lambda: pay.claim(p["carol"]), "NothingOwed", p["carol"])
    assert pay.entitlements(p["a1"]) == []
    # nothing more for a1 at the next period, the buyer is paid
    pay_period(pay, 1)
    expect_revert(lambda: pay.claim(p["a1"]), "NothingOwed", p["a1"])
    receipt = pay.claim(p["carol"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "carol", 1, 12_345)]


def test_several_unpaid_periods_then_a_move_keeps_arrears(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000, "bob": 5_000})
    pay.to_record(2, 1)  # records 0, 1 and 2 passed; nobody paid
    assert pay.entitlements(p["a1"]) == [(0, 10_000), (1, 10_000), (2, 10_000)]
    receipt = p.transfer(pay.bond, p["a1"], p["bob"], 1_000)
    kept = events(pay.bond, receipt, "EntitlementKept")
    assert kept == [
        {"wallet": p["a1"].address, "period": 0, "units": 10_000},
        {"wallet": p["a1"].address, "period": 1, "units": 10_000},
        {"wallet": p["bob"].address, "period": 0, "units": 5_000},
        {"wallet": p["bob"].address, "period": 1, "units": 5_000},
    ]
    assert pay.cursor_and_held(p["a1"]) == (3, 10_000)
    assert pay.account_word(p["a1"]) & ACCOUNT_ARREARS
    assert pay.entitlements(p["a1"]) == [(0, 10_000), (1, 10_000), (2, 10_000)]
    assert pay.entitlements(p["bob"]) == [(0, 5_000), (1, 5_000), (2, 5_000)]
    for period in (0, 1, 2):
        pay.fund(period)
    pay.to_payment(2)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", q, 10_000) for q in (0, 1, 2)]
    # 10_000 x 0.31% = 31 JPY; tax 4 + 1; net 26 per period
    assert pay.cash(p["a1"]) == 3 * 26 * JPY
    assert pay.entitlements(p["a1"]) == []
    assert pay.account_word(p["a1"]) & ACCOUNT_ARREARS == 0
    expect_revert(lambda: pay.claim(p["a1"]), "NothingOwed", p["a1"])
    receipt = pay.claim(p["bob"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", q, 5_000) for q in (0, 1, 2)]
    # a move between record times changes nothing owed; the final period pays the balances at
    # its record time
    receipt = p.transfer(pay.bond, p["bob"], p["a1"], 1_000)
    assert events(pay.bond, receipt, "EntitlementKept") == []
    pay.to_record(3, 1)
    assert pay.entitlements(p["a1"]) == [(3, 10_000)]
    assert pay.entitlements(p["bob"]) == [(3, 5_000)]


def test_held_goes_to_arrears_when_unpaid_at_the_next_move(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    pay.to_record(0, 1)
    p.transfer(pay.bond, p["a1"], p["bob"], 2_000)
    assert pay.cursor_and_held(p["a1"]) == (1, 10_000)
    pay.to_record(1, 1)
    receipt = p.transfer(pay.bond, p["a1"], p["bob"], 3_000)
    # a1's held units of period 0 go to arrears; period 1 is held (bob's too: nothing kept)
    assert events(pay.bond, receipt, "EntitlementKept") == [
        {"wallet": p["a1"].address, "period": 0, "units": 10_000}]
    assert pay.cursor_and_held(p["a1"]) == (2, 8_000)
    assert pay.cursor_and_held(p["bob"]) == (2, 2_000)
    assert pay.entitlements(p["a1"]) == [(0, 10_000), (1, 8_000)]
    assert pay.entitlements(p["bob"]) == [(1, 2_000)]
    pay.fund(0)
    pay_period(pay, 1)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 10_000),
                                          coupon_event(pay, "a1", 1, 8_000)]


def test_transfers_between_record_times_take_the_plain_path(p: Platform) -> None:
    """Once both wallets are settled, transfers until the next record time change only balances;
    a wallet that never held starts at the periods recorded (owed nothing before)."""
    pay = setup_payments(p, holders={"a1": 10_000, "bob": 1_000})
    pay.to_record(0, 1)
    p.transfer(pay.bond, p["a1"], p["bob"], 1_000)  # settles both
    word = pay.account_word(p["a1"])
    p.transfer(pay.bond, p["a1"], p["dave"], 2_000)
    p.transfer(pay.bond, p["dave"], p["erin"], 500)
    assert pay.account_word(p["a1"]) == word - 2_000  # only the balance changed
    assert pay.cursor_and_held(p["dave"]) == (1, 0)
    assert pay.cursor_and_held(p["erin"]) == (1, 0)
    assert pay.entitlements(p["dave"]) == [] and pay.entitlements(p["erin"]) == []
    pay.to_record(1, 1)
    assert pay.entitlements(p["a1"]) == [(0, 10_000), (1, 7_000)]
    assert pay.entitlements(p["bob"]) == [(0, 1_000), (1, 2_000)]
    assert pay.entitlements(p["dave"]) == [(1, 1_500)]
    assert pay.entitlements(p["erin"]) == [(1, 500)]


def test_holdings_too_large_for_the_account_word_go_to_arrears(p: Platform) -> None:
    """`held` has 32 bits: a larger holding at a record time is kept in `_arrears` (a bond with
    6 decimals: 1 JPY of face = 10^6 units)."""
    m = 10**6
    pay = setup_payments(p, div_exp=DIV_EXP + 6, decimals=6, denomination=10_000 * m,
                         issueVolume=10**9 * m,
                         holders={"bob": 10_000 * m, "a1": 3_000 * m, "a2": 3_000 * m})
    pay.to_record(0, 1)
    receipt = p.transfer(pay.bond, p["bob"], p["carol"], 1_000 * m)
    assert events(pay.bond, receipt, "EntitlementKept") == [
        {"wallet": p["bob"].address, "period": 0, "units": 10_000 * m}]
    assert pay.cursor_and_held(p["bob"]) == (1, 0)
    assert pay.entitlements(p["bob"]) == [(0, 10_000 * m)]
    # two holdings that fit alone but not together, merged by a recovery
    p.transfer(pay.bond, p["a1"], p["carol"], 1_000 * m)
    p.transfer(pay.bond, p["a2"], p["carol"], 1_000 * m)
    assert pay.cursor_and_held(p["a1"]) == (1, 3_000 * m)
    receipt = p.send(p.agent, pay.fn.recoverWallet(p["a2"].address, p["a1"].address, "lost"))
    assert events(pay.bond, receipt, "EntitlementKept") == [
        {"wallet": p["a1"].address, "period": 0, "units": 6_000 * m}]
    assert pay.cursor_and_held(p["a1"]) == (1, 0)
    assert pay.entitlements(p["a1"]) == [(0, 6_000 * m)]
    assert pay.required(0) == 49 * JPY  # 16_000 JPY of face x 0.31% = 49.6
    pay_period(pay, 0)
    receipt = pay.pay_batch([p["a1"], p["bob"], p["carol"]])
    # coupons on the face: 6_000 JPY -> 18 JPY, 10_000 JPY -> 31 JPY; carol held nothing
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 6_000),
                                          coupon_event(pay, "bob", 0, 10_000)]
    assert pay.entitlements(p["a1"]) == [] and pay.entitlements(p["bob"]) == []
    assert pay.account_word(p["a1"]) & ACCOUNT_ARREARS == 0


def test_periods_are_paid_in_order(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    pay.to_payment(1)
    pay.fund(1)
    # period 1 is funded and due, but period 0 is not funded: nothing is paid
    expect_revert(lambda: pay.claim(p["a1"]), "PeriodNotFunded", 0)
    # a push skips it silently (nothing payable is not a failure)
    assert pay.paid_count([p["a1"]]) == 0
    receipt = pay.pay_batch([p["a1"]])
    assert pay.failures(receipt) == [] and pay.coupon_events(receipt) == []
    pay.fund(0)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", q, 10_000) for q in (0, 1)]


# =============================================================================================
# 4 funding


def test_required_funding_is_the_floor_of_the_supply(p: Platform) -> None:
    pay = standard(p)
    assert pay.required(0) == 76 * JPY  # 24_717 x 0.31% = 76.6 JPY
    assert pay.required(1) == 76 * JPY
    assert pay.required(3) == (76 + SUPPLY) * JPY  # final: coupon + principal at par
    assert pay.funding(0) == (76 * JPY, 0, 76 * JPY, False)


def test_fund_exactly_what_is_missing(p: Platform) -> None:
    pay = standard(p)
    need = pay.required(0)
    expect_revert(lambda: pay.fund(0, need - 1), "WrongFundingAmount", 0, need, need - 1)
    expect_revert(lambda: pay.fund(0, need + 1), "WrongFundingAmount", 0, need, need + 1)
    expect_revert(lambda: pay.fund(0, 0), "WrongFundingAmount", 0, need, 0)
    for who in (p.stranger, p["a1"], p.agent):
        expect_revert(lambda who=who: pay.fund(0, need, signer=who),
                      "AccessControlUnauthorizedAccount", who, PAYING_AGENT_ROLE)
    expect_revert(lambda: pay.fund(9, need), "NoSuchPeriod", 9)
    before = pay.cash(pay.payer)
    receipt = pay.fund(0, need)
    assert events(pay.bond, receipt, "PeriodFunded") == [
        {"period": 0, "funder": pay.payer.address, "amount": need, "funded": need,
         "required": need}]
    assert pay.cash(pay.payer) == before - need
    assert pay.cash(pay.bond.address) == need
    assert pay.funding(0) == (need, need, 0, False)
    assert pay.info(0)["funded"]
    expect_revert(lambda: pay.fund(0, need), "AlreadyFunded", 0)
    expect_revert(lambda: pay.fund(0, 0), "AlreadyFunded", 0)
    # the issuer may fund too
    issuer_before = pay.cash(p.issuer)
    pay.fund(1, signer=p.issuer)
    assert pay.cash(p.issuer) == issuer_before - pay.required(1)
    assert pay.funding(1)[:3] == (pay.required(1), pay.required(1), 0)
    # payable from the payment time on
    pay.to_payment(0, -2)
    assert pay.funding(0)[3] is False
    pay.to_payment(0)
    assert pay.funding(0)[3] is True


def test_funding_needs_the_allowance(p: Platform) -> None:
    pay = standard(p)
    p.send(pay.payer, pay.token.functions.approve(pay.bond.address, 0))
    expect_revert(lambda: pay.fund(0), "ERC20InsufficientAllowance", pay.bond.address, 0,
                  pay.required(0))
    assert not pay.info(0)["funded"]


def test_report_shortfall(p: Platform) -> None:
    pay = standard(p)
    need = pay.required(0)
    expect_revert(lambda: p.send(p.stranger, pay.fn.reportShortfall(0)), "NoShortfall", 0)
    pay.to_payment(0, -2)
    expect_revert(lambda: p.send(p.stranger, pay.fn.reportShortfall(0)), "NoShortfall", 0)
    pay.to_payment(0)
    receipt = p.send(p.stranger, pay.fn.reportShortfall(0))
    assert events(pay.bond, receipt, "FundingShortfall") == [
        {"period": 0, "required": need, "funded": 0}]
    assert pay.funding(0) == (need, 0, need, False)
    pay.fund(0)
    expect_revert(lambda: p.send(p.stranger, pay.fn.reportShortfall(0)), "NoShortfall", 0)
    assert pay.funding(0) == (need, need, 0, True)


def test_mint_after_funding_reopens_the_funding(p: Platform) -> None:
    pay = standard(p)
    pay.fund(0)
    pay.fund(1)
    old = pay.required(0)
    receipt = p.mint(pay.bond, p["carol"], 1_000)
    assert [e["period"] for e in events(pay.bond, receipt, "FundingReopened")] == [0, 1]
    new = required(SUPPLY + 1_000)
    assert new == 79 * JPY and pay.required(0) == new
    assert pay.funding(0) == (new, old, new - old, False)
    assert not pay.info(0)["funded"] and not pay.info(1)["funded"]
    expect_revert(lambda: pay.fund(0, new), "WrongFundingAmount", 0, new - old, new)
    receipt = pay.fund(0, new - old)
    assert events(pay.bond, receipt, "PeriodFunded")[0]["funded"] == new
    assert pay.funding(0) == (new, new, 0, False)
    # period 1 (old) and period 0 (old + the top-up)
    assert pay.cash(pay.bond.address) == old + new


def test_mint_reopens_a_period_funded_ahead(p: Platform) -> None:
    """Funding a later period first (period 0 not funded yet): a mint must reopen it too, or the
    period would pay more than it holds."""
    pay = standard(p)
    pay.fund(1)
    receipt = p.mint(pay.bond, p["carol"], 1_000)
    assert [e["period"] for e in events(pay.bond, receipt, "FundingReopened")] == [1]
    assert not pay.info(1)["funded"]
    assert pay.funding(1) == (79 * JPY, 76 * JPY, 3 * JPY, False)


def test_mint_after_a_record_keeps_that_period_requirement(p: Platform) -> None:
    pay = standard(p)
    pay.fund(0)
    pay.to_record(0, 1)
    receipt = p.mint(pay.bond, p["carol"], 1_000)
    p.mint(pay.bond, p["a1"], 1_000)
    assert events(pay.bond, receipt, "FundingReopened") == []
    # period 0 was recorded before the mints: its supply and funding are unchanged
    assert pay.required(0) == 76 * JPY and pay.info(0)["funded"]
    assert pay.required(1) == required(SUPPLY + 2_000)
    # the new units earn from period 1 on; a1's record-time holding is kept
    assert pay.entitlements(p["carol"]) == []
    assert pay.entitlements(p["a1"]) == [(0, 12_345)]
    pay.to_record(1, 1)
    assert pay.entitlements(p["carol"]) == [(1, 1_000)]
    assert pay.entitlements(p["a1"]) == [(0, 12_345), (1, 13_345)]


def test_a_period_needing_nothing_can_be_made_payable(p: Platform) -> None:
    """A period whose requirement floors to 0 (here a coupon-free period) must not block the
    periods after it forever."""
    start = p.chain.now() + 10 * DAY
    periods = [Period(start, start + PAY_LAG, 0, 0),
               Period(start + 100 * DAY, start + 100 * DAY + PAY_LAG, COUPON, PAR)]
    pay = setup_payments(p, periods=periods, holders={"a1": 10_000})
    assert pay.required(0) == 0
    pay.to_payment(0)
    pay.fund(0, 0)
    assert pay.funding(0) == (0, 0, 0, True)
    expect_revert(lambda: pay.fund(0, 0), "AlreadyFunded", 0)
    pay_period(pay, 1)
    receipt = pay.redeem(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 1, 10_000)]
    assert p.balance(pay.bond, p["a1"]) == 0


def test_mint_that_does_not_change_the_requirement_can_be_refunded(p: Platform) -> None:
    """A mint reopens the funding even when the floored requirement did not grow: the period
    must then be markable as funded again with nothing more to pay in."""
    pay = setup_payments(p, holders={"a1": 10_000})
    pay.fund(0)
    receipt = p.mint(pay.bond, p["bob"], 1)  # 10_001 x 0.31% = 31.003 -> still 31 JPY
    assert [e["period"] for e in events(pay.bond, receipt, "FundingReopened")] == [0]
    assert pay.funding(0) == (31 * JPY, 31 * JPY, 0, False)
    pay.fund(0, 0)
    assert pay.info(0)["funded"]
    pay.to_payment(0)
    pay.claim(p["a1"])
    assert pay.cash(p["a1"]) == 26 * JPY


# =============================================================================================
# 5 claim


def test_claim_reverts_until_payable(p: Platform) -> None:
    pay = standard(p)
    q0 = pay.periods[0]
    expect_revert(lambda: pay.claim(p["a1"]), "NothingOwed", p["a1"])
    pay.to_record(0)
    expect_revert(lambda: pay.claim(p["a1"]), "NotYetPayable", 0, q0.payment)
    pay.to_payment(0, -1)
    expect_revert(lambda: pay.claim(p["a1"]), "NotYetPayable", 0, q0.payment)
    pay.to_payment(0)
    expect_revert(lambda: pay.claim(p["a1"]), "PeriodNotFunded", 0)
    pay.fund(0)
    # someone who held nothing at the record time is owed nothing
    expect_revert(lambda: pay.claim(p["carol"]), "NothingOwed", p["carol"])
    expect_revert(lambda: pay.claim(p.stranger), "NothingOwed", p.stranger)
    pay.claim(p["a1"])


def test_claim_amounts_by_tax_category(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    funded = pay.required(0)
    total = Expected(0, 0, 0, 0)
    for name, units in HOLDERS.items():
        net = pay.fn.claim().call({"from": p[name].address})
        receipt = pay.claim(p[name])
        e = expected(units, CATEGORY[name])
        assert net == e.net
        assert pay.coupon_events(receipt) == [coupon_event(pay, name, 0, units)]
        assert events(pay.bond, receipt, "PrincipalPaid") == []
        assert pay.cash(p[name]) == e.net
        total = Expected(total.gross + e.gross, total.national + e.national,
                         total.local + e.local, 0)
    # literal numbers: a1 38 = 5 + 1 + 32, bob 21 = 3 + 1 + 17, grace 10 = 1 + 0 + 9, qii 6
    assert [pay.cash(p[n]) for n in HOLDERS] == [32 * JPY, 17 * JPY, 9 * JPY, 6 * JPY]
    assert total == Expected(75 * JPY, 9 * JPY, 2 * JPY, 0)
    assert pay.paid(0) == {"couponGross": 75 * JPY, "nationalTax": 9 * JPY, "localTax": 2 * JPY,
                           "principal": 0, "taxRemitted": 0, "returned": 0}
    # what stays in the bond: the withheld tax and the dust
    assert pay.cash(pay.bond.address) == funded - total.net == (9 + 2 + 1) * JPY


def test_claim_twice_pays_once(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    pay.claim(p["a1"])
    cash, paid, escrow = pay.cash(p["a1"]), pay.paid(0), pay.cash(pay.bond.address)
    expect_revert(lambda: pay.claim(p["a1"]), "NothingOwed", p["a1"])
    # mined anyway, it fails and moves nothing
    with pytest.raises(TransactionReverted) as info:
        p.mined(p["a1"], pay.fn.claim())
    assert decode_error(info.value.data).name == "NothingOwed"
    assert (pay.cash(p["a1"]), pay.paid(0), pay.cash(pay.bond.address)) == (cash, paid, escrow)
    # pushing to it does not pay it again either
    assert pay.paid_count([p["a1"]]) == 0
    receipt = pay.pay_batch([p["a1"]])
    assert pay.coupon_events(receipt) == [] and pay.failures(receipt) == []
    assert pay.cash(p["a1"]) == cash


def test_claim_pays_every_payable_period_at_once(p: Platform) -> None:
    pay = setup_payments(p, holders={"grace": 50_000})
    pay.fund(0)
    pay.fund(1)
    pay.to_payment(1)
    receipt = pay.claim(p["grace"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "grace", q, 50_000) for q in (0, 1)]
    # 50_000 x 0.31% = 155 JPY; corporate 15.315% -> 23 JPY; net 132 JPY per period
    assert pay.cash(p["grace"]) == 2 * 132 * JPY


# =============================================================================================
# 6 batch payments


def test_pay_batch_is_idempotent(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    # a payee listed twice is paid once
    payees = [p[n] for n in HOLDERS] + [p["outsider"], p["a1"]]
    assert pay.paid_count(payees) == 4
    receipt = pay.pay_batch(payees)
    assert pay.coupon_events(receipt) == [coupon_event(pay, n, 0, u) for n, u in HOLDERS.items()]
    assert pay.failures(receipt) == []
    cash = {n: pay.cash(p[n]) for n in HOLDERS}
    assert cash == {n: expected(u, CATEGORY[n]).net for n, u in HOLDERS.items()}
    assert pay.paid_count(payees) == 0
    receipt = pay.pay_batch(payees)
    assert pay.coupon_events(receipt) == [] and pay.failures(receipt) == []
    assert {n: pay.cash(p[n]) for n in HOLDERS} == cash
    assert pay.paid(0)["couponGross"] == 75 * JPY


def test_pay_batch_survives_a_payee_the_token_refuses(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    p.send(p.admin, pay.token.functions.setBlocked(p["bob"].address, True))
    bob_net = expected(6_789, INDIVIDUAL).net
    assert pay.paid_count([p["a1"], p["bob"], p["grace"]]) == 2
    receipt = pay.pay_batch([p["a1"], p["bob"], p["grace"]])
    assert pay.failures(receipt) == [
        (p["bob"].address, "SettlementTransferFailed",
         {"holder": p["bob"].address, "amount": bob_net})]
    assert [e["holder"] for e in pay.coupon_events(receipt)] == [p["a1"].address,
                                                                 p["grace"].address]
    assert pay.cash(p["bob"]) == 0
    assert pay.entitlements(p["bob"]) == [(0, 6_789)]
    assert pay.paid(0)["couponGross"] == (38 + 10) * JPY
    expect_revert(lambda: pay.claim(p["bob"]), "SettlementTransferFailed", p["bob"], bob_net)
    p.send(p.admin, pay.token.functions.setBlocked(p["bob"].address, False))
    receipt = pay.claim(p["bob"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", 0, 6_789)]
    assert pay.cash(p["bob"]) == bob_net
    assert pay.entitlements(p["bob"]) == []


def test_pay_batch_waits_for_a_frozen_wallet(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    p.send(p.agent, pay.fn.setWalletFrozen(p["bob"].address, True))
    # frozen units (not the wallet) do not hold a coupon back
    p.send(p.agent, pay.fn.freezeTokens(p["a1"].address, 1_000))
    receipt = pay.pay_batch([p["bob"], p["a1"]])
    assert pay.failures(receipt) == [
        (p["bob"].address, "PaymentWaitsForUnfreeze", {"holder": p["bob"].address})]
    assert pay.cash(p["bob"]) == 0 and pay.cash(p["a1"]) == expected(12_345, INDIVIDUAL).net
    expect_revert(lambda: pay.claim(p["bob"]), "PaymentWaitsForUnfreeze", p["bob"])
    assert pay.entitlements(p["bob"]) == [(0, 6_789)]
    p.send(p.agent, pay.fn.setWalletFrozen(p["bob"].address, False))
    assert pay.paid_count([p["bob"], p["a1"]]) == 1
    receipt = pay.pay_batch([p["bob"], p["a1"]])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", 0, 6_789)]
    assert pay.cash(p["bob"]) == expected(6_789, INDIVIDUAL).net


def test_pay_batch_and_pay_for_access(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    for who in (p.stranger, p.issuer, p["a1"]):
        expect_revert(lambda who=who: pay.pay_batch([p["a1"]], signer=who),
                      "AccessControlUnauthorizedAccount", who, PAYING_AGENT_ROLE)
    for who in (p.stranger, pay.payer, p["a1"], p.admin):
        expect_revert(lambda who=who: p.send(who, pay.fn.payFor(p["a1"].address)), "OnlySelf")
    assert pay.cash(p["a1"]) == 0
    assert pay.entitlements(p["a1"]) == [(0, 12_345)]


# =============================================================================================
# 7 forced transfers and recovery


def test_forced_transfer_after_the_record_leaves_the_coupon_with_the_sender(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000, "bob": 2_000})
    pay.to_record(0, 1)
    p.send(p.agent, pay.fn.forcedTransfer(p["a1"].address, p["bob"].address, 4_000, REASON))
    assert pay.entitlements(p["a1"]) == [(0, 10_000)]
    assert pay.entitlements(p["bob"]) == [(0, 2_000)]
    pay_period(pay, 0)
    receipt = pay.pay_batch([p["a1"], p["bob"]])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 10_000),
                                          coupon_event(pay, "bob", 0, 2_000)]
    pay_period(pay, 1)
    receipt = pay.pay_batch([p["a1"], p["bob"]])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 1, 6_000),
                                          coupon_event(pay, "bob", 1, 6_000)]


def test_forced_transfer_before_the_record_moves_the_coupon(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    r = pay.periods[0].record
    p.at(r - 1)
    p.mined(p.agent, pay.fn.forcedTransfer(p["a1"].address, p["bob"].address, 4_000, REASON))
    pay.to_record(0)
    assert pay.entitlements(p["a1"]) == [(0, 6_000)]
    assert pay.entitlements(p["bob"]) == [(0, 4_000)]


def test_recovery_carries_held_and_arrears(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    pay.to_record(0, 1)
    p.transfer(pay.bond, p["a1"], p["bob"], 1_000)  # a1: held 10_000 for period 0
    pay.to_record(2, 1)  # periods 1 and 2 recorded with a1 holding 9_000
    p.send(p.agent, pay.fn.setWalletFrozen(p["a1"].address, True))
    receipt = p.send(p.agent, pay.fn.recoverWallet(p["a1"].address, p["a2"].address, "lost"))
    kept = [(e["wallet"], e["period"], e["units"])
            for e in events(pay.bond, receipt, "EntitlementKept")]
    # settling a1 keeps 0 (held) and 1 in arrears, 2 stays held; all of it moves to a2
    assert (p["a2"].address, 0, 10_000) in kept and (p["a2"].address, 1, 9_000) in kept
    assert pay.entitlements(p["a1"]) == []
    assert pay.entitlements(p["a2"]) == [(0, 10_000), (1, 9_000), (2, 9_000)]
    assert p.account(pay.bond, p["a2"]) == (9_000, 0, True)
    assert p.account(pay.bond, p["a1"]) == (0, 0, False)
    for q in (0, 1, 2):
        pay.fund(q)
    pay.to_payment(2)
    expect_revert(lambda: pay.claim(p["a2"]), "PaymentWaitsForUnfreeze", p["a2"])
    p.send(p.agent, pay.fn.setWalletFrozen(p["a2"].address, False))
    expect_revert(lambda: pay.claim(p["a1"]), "NothingOwed", p["a1"])
    receipt = pay.claim(p["a2"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a2", 0, 10_000),
                                          coupon_event(pay, "a2", 1, 9_000),
                                          coupon_event(pay, "a2", 2, 9_000)]
    assert pay.cash(p["a2"]) == (expected(10_000, INDIVIDUAL).net
                                 + 2 * expected(9_000, INDIVIDUAL).net)
    assert pay.cash(p["a1"]) == 0


def test_recovery_into_a_holding_wallet_adds_held_units(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000, "a2": 3_000})
    pay.to_record(0, 1)
    p.transfer(pay.bond, p["a1"], p["bob"], 1_000)
    p.transfer(pay.bond, p["a2"], p["bob"], 1_000)
    p.send(p.agent, pay.fn.recoverWallet(p["a1"].address, p["a2"].address, "lost"))
    assert pay.entitlements(p["a2"]) == [(0, 13_000)]
    assert p.balance(pay.bond, p["a2"]) == 11_000
    pay_period(pay, 0)
    receipt = pay.claim(p["a2"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a2", 0, 13_000)]


def test_recovery_after_the_final_record_only_to_an_unused_wallet(p: Platform) -> None:
    pay = setup_payments(p, n=2, holders={"a1": 10_000, "a2": 1_000})
    p.register(p["new1"], Investor(1, kycValidUntil=p.t0 + 10 * 365 * DAY))
    pay.to_record(1, 1)
    fn = pay.fn.recoverWallet(p["a1"].address, p["a2"].address, "lost")
    expect_revert(lambda: p.send(p.agent, fn), "TransferRestricted", INVALID_RECIPIENT)
    p.send(p.agent, pay.fn.recoverWallet(p["a1"].address, p["new1"].address, "lost"))
    assert pay.entitlements(p["new1"]) == [(0, 10_000), (1, 10_000)]
    pay.fund(0)
    pay_period(pay, 1)
    supply = p.total(pay.bond)
    receipt = pay.redeem(p["new1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 10_000) | {
        "holder": p["new1"].address}, coupon_event(pay, "a1", 1, 10_000) | {
        "holder": p["new1"].address}]
    assert events(pay.bond, receipt, "Transfer") == [
        {"from": p["new1"].address, "to": ZERO, "value": 10_000}]
    assert p.total(pay.bond) == supply - 10_000
    assert pay.cash(p["new1"]) == 2 * expected(10_000, INDIVIDUAL).net + 10_000 * JPY


# =============================================================================================
# 8 tax


def test_set_tax_rates(p: Platform) -> None:
    pay = standard(p)
    assert pay.fn.taxRates(INDIVIDUAL).call() == [15_315, 5_000, True]
    assert pay.fn.taxRates(CORPORATE_TAX).call() == [15_315, 0, True]
    assert pay.fn.taxRates(EXEMPT).call() == [0, 0, True]  # exemption is explicit
    assert pay.fn.taxRates(10).call() == [0, 0, False]  # never set
    assert pay.fn.highestTaxRates().call() == [15_315, 5_000, True]
    for who in (p.stranger, p.issuer, pay.payer):
        expect_revert(lambda who=who: p.send(who, pay.fn.setTaxRates(1, 1, 1)),
                      "AccessControlUnauthorizedAccount", who, ADMIN_ROLE)
    expect_revert(lambda: p.send(p.admin, pay.fn.setTaxRates(11, 0, 0)), "InvalidTaxRates",
                  11, 0, 0)
    # the local part at most 32.767% (so national + local stays below 100%: 98.302% at most)
    expect_revert(lambda: p.send(p.admin, pay.fn.setTaxRates(1, 0, 32_768)),
                  "InvalidTaxRates", 1, 0, 32_768)
    receipt = p.send(p.admin, pay.fn.setTaxRates(10, 65_535, 32_767))
    assert pay.fn.taxRates(10).call() == [65_535, 32_767, True]
    receipt = p.send(p.admin, pay.fn.setTaxRates(10, 70_000 - 5_000, 30_000))
    # every change carries the old and the new rates
    assert events(pay.bond, receipt, "TaxRatesSet") == [
        {"category": 10, "oldNationalRate": 65_535, "oldLocalRate": 32_767, "wasSet": True,
         "nationalRate": 65_000, "localRate": 30_000, "admin": p.admin.address}]
    receipt = p.send(p.admin, pay.fn.setTaxRates(9, 1, 2))
    assert events(pay.bond, receipt, "TaxRatesSet")[0]["wasSet"] is False
    assert pay.fn.taxRates(10).call() == [65_000, 30_000, True]
    assert pay.fn.highestTaxRates().call() == [65_000, 30_000, True]
    # a high category does not disturb the low ones, nor the settlement token
    assert pay.fn.taxRates(INDIVIDUAL).call() == [15_315, 5_000, True]
    assert pay.fn.paymentTerms().call()[0] == pay.token.address


def test_payable_period_keeps_its_tax_rates(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 100_000, "grace": 100_000})
    pay_period(pay, 0)
    receipt = p.send(p.admin, pay.fn.setTaxRates(INDIVIDUAL, 10_000, 3_000))
    assert [e["period"] for e in events(pay.bond, receipt, "PeriodTaxRatesFixed")] == [0]
    p.send(p.admin, pay.fn.setTaxRates(CORPORATE_TAX, 20_000, 0))
    assert pay.fn.periodTaxRates(0, INDIVIDUAL).call() == [15_315, 5_000, True]
    assert pay.fn.periodTaxRates(0, CORPORATE_TAX).call() == [15_315, 0, True]
    assert pay.fn.periodTaxRates(1, INDIVIDUAL).call() == [10_000, 3_000, True]
    assert pay.fn.periodTaxRates(1, CORPORATE_TAX).call() == [20_000, 0, True]
    # 100_000 x 0.31% = 310 JPY: old rates 47 + 15 (individual), 47 (corporate)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt)[0]["nationalTax"] == 47 * JPY
    assert pay.coupon_events(receipt)[0]["localTax"] == 15 * JPY
    receipt = pay.claim(p["grace"])
    assert pay.coupon_events(receipt)[0]["nationalTax"] == 47 * JPY
    # period 1 at the new rates: 31 + 9 (individual), 62 (corporate)
    pay_period(pay, 1)
    new = {INDIVIDUAL: (10_000, 3_000), CORPORATE_TAX: (20_000, 0)}
    receipt = pay.pay_batch([p["a1"], p["grace"]])
    got = pay.coupon_events(receipt)
    assert got[0]["nationalTax"] == 31 * JPY and got[0]["localTax"] == 9 * JPY
    assert got[1]["nationalTax"] == 62 * JPY and got[1]["localTax"] == 0
    assert got[0]["net"] == expected(100_000, INDIVIDUAL, rates=new).net_coupon
    # changing again fixes period 1 at the second rates; period 0 keeps the first
    receipt = p.send(p.admin, pay.fn.setTaxRates(INDIVIDUAL, 1, 1))
    assert [e["period"] for e in events(pay.bond, receipt, "PeriodTaxRatesFixed")] == [1]
    assert pay.fn.periodTaxRates(0, INDIVIDUAL).call() == [15_315, 5_000, True]
    assert pay.fn.periodTaxRates(1, INDIVIDUAL).call() == [10_000, 3_000, True]


def test_high_tax_category_rates_are_paid_and_kept(p: Platform) -> None:
    """Categories 3-10 live in a second rate word: paid at their rates, and kept per period."""
    pay = setup_payments(p, holders={"a1": 100_000})
    p.register(p["new1"], Investor(78, taxCategory=5, kycValidUntil=p.t0 + 10 * 365 * DAY))
    p.send(p.admin, pay.fn.setTaxRates(5, 10_000, 2_000))
    p.mint(pay.bond, p["new1"], 100_000)
    pay_period(pay, 0)
    p.send(p.admin, pay.fn.setTaxRates(5, 1, 1))
    assert pay.fn.periodTaxRates(0, 5).call() == [10_000, 2_000, True]
    assert pay.fn.periodTaxRates(1, 5).call() == [1, 1, True]
    receipt = pay.claim(p["new1"])
    # 310 JPY: 10% -> 31, 2% -> 6.2 -> 6
    (event,) = pay.coupon_events(receipt)
    assert (event["nationalTax"], event["localTax"], event["net"]) == (31 * JPY, 6 * JPY,
                                                                       273 * JPY)
    pay_period(pay, 1)
    (event,) = pay.coupon_events(pay.claim(p["new1"]))
    # 310 x 0.001% = 0.0031 -> 0
    assert (event["nationalTax"], event["localTax"], event["net"]) == (0, 0, 310 * JPY)


def test_unfunded_due_period_takes_the_new_rates(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 100_000})
    pay.to_payment(0)
    receipt = p.send(p.admin, pay.fn.setTaxRates(INDIVIDUAL, 10_000, 3_000))
    assert events(pay.bond, receipt, "PeriodTaxRatesFixed") == []
    pay.fund(0)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt)[0]["nationalTax"] == 31 * JPY


def test_remit_tax(p: Platform) -> None:
    pay = standard(p)
    expect_revert(lambda: p.send(pay.payer, pay.fn.remitTax(0)), "NothingToRemit", 0)
    pay_period(pay, 0)
    pay.claim(p["a1"])  # 5 + 1 withheld
    pay.claim(p["grace"])  # 1 withheld
    pay.claim(p["qii"])  # exempt
    for who in (p.stranger, p.issuer, p.admin):
        expect_revert(lambda who=who: p.send(who, pay.fn.remitTax(0)),
                      "AccessControlUnauthorizedAccount", who, PAYING_AGENT_ROLE)
    assert pay.fn.remitTax(0).call({"from": pay.payer.address}) == 7 * JPY
    receipt = p.send(pay.payer, pay.fn.remitTax(0))
    assert events(pay.bond, receipt, "TaxRemitted") == [
        {"period": 0, "account": pay.tax_account, "amount": 7 * JPY}]
    assert pay.cash(pay.tax_account) == 7 * JPY
    assert pay.paid(0)["taxRemitted"] == 7 * JPY
    expect_revert(lambda: p.send(pay.payer, pay.fn.remitTax(0)), "NothingToRemit", 0)
    pay.claim(p["bob"])  # 3 + 1 more
    receipt = p.send(pay.payer, pay.fn.remitTax(0))
    assert events(pay.bond, receipt, "TaxRemitted")[0]["amount"] == 4 * JPY
    assert pay.cash(pay.tax_account) == 11 * JPY
    paid = pay.paid(0)
    assert paid["taxRemitted"] == paid["nationalTax"] + paid["localTax"] == 11 * JPY


def test_remit_tax_needs_a_tax_account(p: Platform) -> None:
    pay = standard(p, tax_account=False)
    assert pay.fn.taxAccount().call() == ZERO
    pay_period(pay, 0)
    pay.claim(p["a1"])
    expect_revert(lambda: p.send(pay.payer, pay.fn.remitTax(0)), "NoTaxAccount")
    expect_revert(lambda: p.send(p.admin, pay.fn.setTaxAccount(ZERO)), "NoTaxAccount")
    expect_revert(lambda: p.send(p.stranger, pay.fn.setTaxAccount(p.stranger.address)),
                  "AccessControlUnauthorizedAccount", p.stranger, ADMIN_ROLE)
    receipt = p.send(p.admin, pay.fn.setTaxAccount(pay.tax_account))
    assert events(pay.bond, receipt, "TaxAccountSet") == [
        {"account": pay.tax_account, "admin": p.admin.address}]
    p.send(pay.payer, pay.fn.remitTax(0))
    assert pay.cash(pay.tax_account) == 6 * JPY


def test_unknown_tax_category_is_withheld_at_the_highest_rates(p: Platform) -> None:
    """A category the bond has no rates for is never exempt: the highest rates apply."""
    pay = setup_payments(p, holders={"a1": 100_000})
    p.register(p["new2"], Investor(77, taxCategory=11, kycValidUntil=p.t0 + 10 * 365 * DAY))
    p.register(p["new1"], Investor(78, taxCategory=7, kycValidUntil=p.t0 + 10 * 365 * DAY))
    p.mint(pay.bond, p["new2"], 100_000)
    p.mint(pay.bond, p["new1"], 100_000)
    pay_period(pay, 0)
    receipt = pay.pay_batch([p["new2"], p["new1"], p["a1"]])
    assert pay.failures(receipt) == []
    # 310 JPY at 15.315% + 5% (individual, the highest): 47 + 15
    taxes = [(e["nationalTax"], e["localTax"]) for e in pay.coupon_events(receipt)]
    assert taxes == [(47 * JPY, 15 * JPY)] * 3


def test_wallet_removed_from_the_registry_is_withheld_at_the_highest_rates(p: Platform) -> None:
    """Withholding never fails open: a holder of record whom the registry no longer knows (its
    record reads as category 0, exempt) is withheld at the bond's highest rates."""
    pay = setup_payments(p, holders={"qii": 100_000, "a1": 100_000})
    pay_period(pay, 0)
    p.send(p.registrar, p.registry.functions.removeWallet(p["qii"].address))
    receipt = pay.pay_batch([p["qii"], p["a1"]])
    taxes = [(e["holder"], e["nationalTax"], e["localTax"]) for e in pay.coupon_events(receipt)]
    assert taxes == [(p["qii"].address, 47 * JPY, 15 * JPY), (p["a1"].address, 47 * JPY, 15 * JPY)]


def test_tax_category_at_payment_applies(p: Platform) -> None:
    """Policy: the holder's category when paid applies, not the one at the record time
    (withholding is the payer's duty at payment; the registry is the KYC agent's current word)."""
    pay = setup_payments(p, holders={"a1": 100_000})
    pay.to_record(0, 1)
    # a1 (individual at the record time) becomes exempt before the payment: paid gross
    p.register(p["a1"], dataclasses.replace(investor_records(p.t0)["a1"], taxCategory=EXEMPT))
    pay.fund(0)
    pay.to_payment(0)
    (event,) = pay.coupon_events(pay.claim(p["a1"]))
    assert (event["nationalTax"], event["localTax"], event["net"]) == (0, 0, 310 * JPY)


def test_coupon_waits_when_the_bond_has_no_tax_rates(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000}, tax_rates={})
    assert pay.fn.highestTaxRates().call() == [0, 0, False]
    pay_period(pay, 0)
    expect_revert(lambda: pay.claim(p["a1"]), "TaxRatesNotSet", p["a1"], 1)
    receipt = pay.pay_batch([p["a1"]])
    assert [f[1] for f in pay.failures(receipt)] == ["TaxRatesNotSet"]
    assert pay.entitlements(p["a1"]) == [(0, 10_000)]
    p.send(p.admin, pay.fn.setTaxRates(EXEMPT, 0, 0))
    # a1's category (individual) has no rates: the highest set (exempt, 0%) applies
    (event,) = pay.coupon_events(pay.claim(p["a1"]))
    assert event["net"] == 31 * JPY


# =============================================================================================
# 9 dust and unclaimed funds


def test_return_unclaimed_after_the_claim_window(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    funded = pay.required(0)
    for name in ("a1", "grace", "qii"):
        pay.claim(p[name])  # bob does not claim
    closes = pay.periods[0].payment + CLAIM_WINDOW
    p.warp_to(closes - 1)
    expect_revert(lambda: p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address)),
                  "ClaimWindowOpen", 0, closes)
    for who in (p.stranger, pay.payer, p.admin):
        expect_revert(lambda who=who: p.send(who, pay.fn.returnUnclaimed(0, who.address)),
                      "AccessControlUnauthorizedAccount", who, ISSUER_ROLE)
    before = pay.cash(p.issuer)
    p.at(closes)
    receipt = p.mined(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address))
    # 76 funded - (38 + 10 + 6) paid gross = 22 JPY: bob's 21 and 1 of dust
    assert events(pay.bond, receipt, "UnclaimedReturned") == [
        {"period": 0, "to": p.issuer.address, "amount": 22 * JPY}]
    assert pay.cash(p.issuer) == before + 22 * JPY
    assert pay.info(0)["swept"] and pay.paid(0)["returned"] == 22 * JPY
    assert pay.funding(0)[3] is False
    expect_revert(lambda: p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address)),
                  "PeriodSwept", 0)
    expect_revert(lambda: pay.fund(0), "PeriodSwept", 0)
    # withheld tax stays for the tax account
    p.send(pay.payer, pay.fn.remitTax(0))
    paid = pay.paid(0)
    net = sum(pay.cash(p[n]) for n in ("a1", "grace", "qii"))
    assert net + paid["taxRemitted"] + paid["returned"] == funded
    assert pay.cash(pay.bond.address) == 0
    # bob's entitlement to period 0 lapses, period 1 still pays
    assert pay.entitlements(p["bob"]) == [(0, 6_789)]
    pay_period(pay, 1)
    receipt = pay.claim(p["bob"])
    assert events(pay.bond, receipt, "EntitlementForfeited") == [
        {"holder": p["bob"].address, "period": 0, "units": 6_789}]
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", 1, 6_789)]
    assert pay.cash(p["bob"]) == expected(6_789, INDIVIDUAL).net
    assert pay.paid(0)["couponGross"] == 54 * JPY


def test_forfeit_of_a_held_entitlement(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 10_000})
    pay_period(pay, 0)
    p.transfer(pay.bond, p["a1"], p["bob"], 4_000)  # a1 keeps 10_000 held for period 0
    p.warp_to(pay.periods[0].payment + CLAIM_WINDOW)
    p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address))
    pay_period(pay, 1)
    receipt = pay.claim(p["a1"])
    assert events(pay.bond, receipt, "EntitlementForfeited") == [
        {"holder": p["a1"].address, "period": 0, "units": 10_000}]
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 1, 6_000)]


def test_return_unclaimed_when_everyone_was_paid_returns_the_dust(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    pay.pay_batch([p[n] for n in HOLDERS])
    p.warp_to(pay.periods[0].payment + CLAIM_WINDOW)
    assert pay.fn.returnUnclaimed(0, p.issuer.address).call(
        {"from": p.issuer.address}) == 1 * JPY
    p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address))
    p.send(pay.payer, pay.fn.remitTax(0))
    assert pay.cash(pay.bond.address) == 0


# =============================================================================================
# 10 redemption


def test_redeem_before_the_final_period(p: Platform) -> None:
    pay = standard(p, n=2)
    pay_period(pay, 0)
    expect_revert(lambda: pay.redeem(p["a1"]), "RedemptionNotDue", p["a1"])
    pay.claim(p["a1"])
    expect_revert(lambda: pay.redeem(p["a1"]), "RedemptionNotDue", p["a1"])
    pay.to_record(1, 1)
    expect_revert(lambda: pay.redeem(p["a1"]), "RedemptionNotDue", p["a1"])
    assert p.balance(pay.bond, p["a1"]) == 12_345


def test_final_period_redeems_and_burns(p: Platform) -> None:
    pay = standard(p, n=2)
    pay_period(pay, 0)
    pay.pay_batch([p[n] for n in HOLDERS])
    pay.to_record(1, 1)
    pay.to_payment(1)
    need = pay.required(1)
    assert need == (76 + SUPPLY) * JPY
    pay.fund(1)
    assert p.holders(pay.bond) == 4
    # a1 redeems (pull)
    receipt = pay.redeem(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 1, 12_345)]
    assert events(pay.bond, receipt, "PrincipalPaid") == [
        {"holder": p["a1"].address, "period": 1, "units": 12_345, "amount": 12_345 * JPY}]
    assert events(pay.bond, receipt, "Transfer") == [
        {"from": p["a1"].address, "to": ZERO, "value": 12_345}]
    assert p.balance(pay.bond, p["a1"]) == 0
    assert p.total(pay.bond) == SUPPLY - 12_345
    assert p.holders(pay.bond) == 3
    assert pay.cash(p["a1"]) == 2 * expected(12_345, INDIVIDUAL).net_coupon + 12_345 * JPY
    # the requirement stays what it was at the record time
    assert pay.required(1) == need
    expect_revert(lambda: pay.claim(p["a1"]), "NothingOwed", p["a1"])
    # grace has frozen units: her redemption waits, pushed or pulled
    p.send(p.agent, pay.fn.freezeTokens(p["grace"].address, 1_000))
    expect_revert(lambda: pay.redeem(p["grace"]), "RedemptionWaitsForUnfreeze", p["grace"], 1_000)
    expect_revert(lambda: pay.claim(p["grace"]), "RedemptionWaitsForUnfreeze", p["grace"], 1_000)
    # bob and qii are pushed; grace fails in the batch without reverting it
    receipt = pay.pay_batch([p["bob"], p["grace"], p["qii"]])
    assert pay.failures(receipt) == [
        (p["grace"].address, "RedemptionWaitsForUnfreeze",
         {"holder": p["grace"].address, "frozenUnits": 1_000})]
    assert events(pay.bond, receipt, "Transfer") == [
        {"from": p["bob"].address, "to": ZERO, "value": 6_789},
        {"from": p["qii"].address, "to": ZERO, "value": 2_250}]
    assert p.total(pay.bond) == 3_333 and p.holders(pay.bond) == 1
    assert pay.entitlements(p["grace"]) == [(1, 3_333)]
    assert p.detect(pay.bond, p["a1"], p["bob"], 0) == BOND_MATURED
    p.send(p.agent, pay.fn.unfreezeTokens(p["grace"].address, 1_000))
    assert pay.paid_count([p["grace"]]) == 1
    receipt = pay.pay_batch([p["grace"]])
    assert events(pay.bond, receipt, "Transfer") == [
        {"from": p["grace"].address, "to": ZERO, "value": 3_333}]
    # everything redeemed: the bond is closed
    assert p.total(pay.bond) == 0 and p.holders(pay.bond) == 0
    assert p.state_word(pay.bond) & (1 << 201)
    p.assert_refused(pay.bond, None, p["a1"], 1_000, BOND_CLOSED)
    p.assert_refused(pay.bond, p["a1"], p["bob"], 0, BOND_CLOSED)
    # sums: holders' net + withheld + the dust left == funded
    paid = pay.paid(1)
    assert paid["principal"] == SUPPLY * JPY and paid["couponGross"] == 75 * JPY
    holders_cash = sum(pay.cash(p[n]) for n in HOLDERS)
    net_1 = holders_cash - sum(expected(u, CATEGORY[n]).net for n, u in HOLDERS.items())
    assert net_1 + paid["nationalTax"] + paid["localTax"] + 1 * JPY == need
    p.warp_to(pay.periods[1].payment + CLAIM_WINDOW)
    p.send(p.issuer, pay.fn.returnUnclaimed(1, p.issuer.address))
    assert pay.paid(1)["returned"] == 1 * JPY


def test_redemption_counts_holders_per_investor(p: Platform) -> None:
    pay = setup_payments(p, n=1, rules=pay_rules(p, perInvestor=True),
                         holders={"a1": 5_000, "a2": 3_000, "bob": 2_000})
    assert p.holders(pay.bond) == 2  # investor 1 (two wallets) and bob
    pay_period(pay, 0)
    pay.redeem(p["a1"])
    assert p.holders(pay.bond) == 2
    assert raw_storage(p.chain, pay.bond.address, investor_units_slot(1)) == 3_000
    pay.redeem(p["a2"])
    assert p.holders(pay.bond) == 1
    assert raw_storage(p.chain, pay.bond.address, investor_units_slot(1)) == 0
    pay.pay_batch([p["bob"]])
    assert p.holders(pay.bond) == 0 and p.total(pay.bond) == 0
    p.assert_refused(pay.bond, None, p["bob"], 1_000, BOND_CLOSED)


def test_transfers_stop_at_the_final_record_time(p: Platform) -> None:
    pay = setup_payments(p, n=2, holders={"a1": 10_000})
    r = pay.periods[1].record
    p.allowed_at(r - 1, pay.bond, p["a1"], p["bob"], 1_000)
    p.refused_at(r, pay.bond, p["a1"], p["bob"], 1_000, BOND_MATURED)
    p.assert_refused(pay.bond, None, p["carol"], 1_000, BOND_MATURED)
    fn = pay.fn.forcedTransfer(p["a1"].address, p["bob"].address, 1_000, REASON)
    expect_revert(lambda: p.send(p.agent, fn), "TransferRestricted", BOND_MATURED)
    # the maturity date itself is later
    assert pay.fn.maturityDate().call() > r
    assert pay.entitlements(p["a1"]) == [(0, 10_000), (1, 9_000)]
    assert pay.entitlements(p["bob"]) == [(1, 1_000)]


def test_redemption_pays_earlier_periods_first(p: Platform) -> None:
    pay = setup_payments(p, n=3, holders={"qii": 10_000})
    for q in (0, 1, 2):
        pay.fund(q)
    pay.to_payment(2)
    receipt = pay.redeem(p["qii"])
    assert [e["period"] for e in pay.coupon_events(receipt)] == [0, 1, 2]
    assert pay.cash(p["qii"]) == 3 * 31 * JPY + 10_000 * JPY
    assert p.balance(pay.bond, p["qii"]) == 0


def test_non_holder_cannot_redeem(p: Platform) -> None:
    """After the final period is payable, a wallet that held nothing is owed nothing: claim and
    redeem revert, and a batch does not count it as paid."""
    pay = setup_payments(p, n=1, holders={"a1": 10_000})
    pay_period(pay, 0)
    expect_revert(lambda: pay.claim(p["carol"]), "NothingOwed", p["carol"])
    expect_revert(lambda: pay.redeem(p["carol"]), "RedemptionNotDue", p["carol"])
    assert pay.paid_count([p["carol"], p["outsider"]]) == 0
    assert pay.paid_count([p["a1"], p["carol"]]) == 1


def test_final_period_swept_burns_the_forfeited_units(p: Platform) -> None:
    """Once the final period's claim window closed and its funds went back, a holder who never
    redeemed forfeits: the units are burned and the bond can close."""
    pay = setup_payments(p, n=1, holders={"a1": 10_000, "bob": 5_000})
    pay_period(pay, 0)
    pay.redeem(p["a1"])
    p.warp_to(pay.periods[0].payment + CLAIM_WINDOW)
    receipt = p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address))
    assert events(pay.bond, receipt, "UnclaimedReturned")[0]["amount"] == (15 + 5_000) * JPY
    receipt = pay.claim(p["bob"])
    assert events(pay.bond, receipt, "EntitlementForfeited") == [
        {"holder": p["bob"].address, "period": 0, "units": 5_000}]
    assert events(pay.bond, receipt, "Transfer") == [
        {"from": p["bob"].address, "to": ZERO, "value": 5_000}]
    assert pay.cash(p["bob"]) == 0
    assert p.total(pay.bond) == 0
    assert p.detect(pay.bond, p["a1"], p["bob"], 0) == BOND_CLOSED


# =============================================================================================
# 11 amortisation


def test_amortisation_pays_principal_without_burning(p: Platform) -> None:
    start = p.chain.now() + 10 * DAY
    half = PAR // 2
    periods = [Period(start, start + PAY_LAG),
               Period(start + 180 * DAY, start + 180 * DAY + PAY_LAG, COUPON, half),
               Period(start + 360 * DAY, start + 360 * DAY + PAY_LAG, COUPON // 2, half)]
    pay = setup_payments(p, periods=periods, holders={"a1": 12_345, "grace": 3_333})
    supply = 15_678
    assert pay.required(1) == required(supply, COUPON, half)
    assert pay.required(1) == (48 + 7_839) * JPY
    pay.fund(0)
    pay.fund(1)
    pay.to_payment(1)
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, 12_345),
                                          coupon_event(pay, "a1", 1, 12_345)]
    # 12_345 x 0.5 = 6_172.5 -> 6_172 JPY, untaxed
    assert events(pay.bond, receipt, "PrincipalPaid") == [
        {"holder": p["a1"].address, "period": 1, "units": 12_345, "amount": 6_172 * JPY}]
    assert events(pay.bond, receipt, "Transfer") == []
    assert p.balance(pay.bond, p["a1"]) == 12_345 and p.total(pay.bond) == supply
    assert pay.cash(p["a1"]) == 2 * 32 * JPY + 6_172 * JPY
    assert pay.paid(1)["principal"] == 6_172 * JPY
    # trading goes on; the last period pays the halved coupon and the rest of the principal
    p.transfer(pay.bond, p["a1"], p["carol"], 2_345)
    pay.to_payment(2)
    pay.fund(2)
    assert pay.required(2) == required(supply, COUPON // 2, half)
    receipt = pay.redeem(p["carol"])
    # 2_345 x 0.155% = 3.63 -> 3 JPY; principal 1_172.5 -> 1_172 JPY
    assert pay.coupon_events(receipt) == [coupon_event(pay, "carol", 2, 2_345, COUPON // 2)]
    assert pay.coupon_events(receipt)[0]["gross"] == 3 * JPY
    assert events(pay.bond, receipt, "PrincipalPaid")[0]["amount"] == 1_172 * JPY
    assert events(pay.bond, receipt, "Transfer") == [
        {"from": p["carol"].address, "to": ZERO, "value": 2_345}]
    receipt = pay.redeem(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 2, 10_000, COUPON // 2)]
    assert events(pay.bond, receipt, "PrincipalPaid")[0]["amount"] == 5_000 * JPY


# =============================================================================================
# 12 the issuer's call


CALL_PRICE = 10_050_000_000_000  # 100.5% of face


def test_call_refusals(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 12_345, "bob": 5_000})
    pay.to_record(0, 1)
    for who in (p.stranger, p.admin, pay.payer):
        expect_revert(lambda who=who: p.send(who, pay.fn.announceCall(2, CALL_PRICE)),
                      "AccessControlUnauthorizedAccount", who, ISSUER_ROLE)
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(2, 0)), "CallPriceBelowTerms", 0,
                  CALL_PRICE)
    # a recorded period, the final one: not callable
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(0, CALL_PRICE)),
                  "CallNoticeTooShort", 0)
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(3, CALL_PRICE)),
                  "CallNoticeTooShort", 3)
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(7, CALL_PRICE)), "NoSuchPeriod", 7)
    # a later period already funded must give its funding back first
    pay.fund(3)
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(2, CALL_PRICE)),
                  "InvalidSchedule", 3, "funded: return its funding before a call")
    assert pay.fn.paymentTerms().call()[1] == 4


def test_call_notice_too_short_by_one_second(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 12_345})
    announce_by = pay.periods[2].payment - CALL_NOTICE
    reverts_at(p, announce_by + 1, p.issuer, pay.fn.announceCall(2, CALL_PRICE),
               "CallNoticeTooShort", 2, announce_by)
    assert pay.fn.paymentTerms().call()[1] == 4
    assert not pay.info(2)["isFinal"]


def test_call_announced_at_the_last_moment(p: Platform) -> None:
    pay = setup_payments(p, holders={"a1": 12_345, "bob": 5_000})
    pay.fund(0)
    pay.fund(2)
    q2 = pay.periods[2]
    funded_2 = pay.required(2)
    p.at(q2.payment - CALL_NOTICE)
    receipt = p.mined(p.issuer, pay.fn.announceCall(2, CALL_PRICE))
    assert events(pay.bond, receipt, "CallAnnounced") == [
        {"period": 2, "paymentTime": q2.payment, "principalPerUnit": CALL_PRICE,
         "issuer": p.issuer.address}]
    schedule_now = [tuple(q) for q in pay.fn.paymentSchedule().call()]
    assert schedule_now == [*as_tuples(pay.periods[:2]),
                            (q2.record, q2.payment, COUPON, CALL_PRICE)]
    assert pay.fn.paymentTerms().call()[1] == 3
    assert pay.fn.maturityDate().call() == q2.payment
    info = pay.info(2)
    assert info["isFinal"] and info["principalPerUnit"] == CALL_PRICE and not info["funded"]
    assert not pay.info(1)["isFinal"]
    view_reverts(p, pay.fn.periodInfo(3), "NoSuchPeriod", 3)
    need = required(17_345, COUPON, CALL_PRICE)
    assert pay.required(2) == need
    assert pay.funding(2) == (need, funded_2, need - funded_2, False)
    # a second call of the (now final) period is refused
    expect_revert(lambda: p.send(p.issuer, pay.fn.announceCall(2, CALL_PRICE)),
                  "CallNoticeTooShort", 2)
    # transfers stop at the called period's record time
    p.allowed_at(q2.record - 1, pay.bond, p["bob"], p["carol"], 1_000)
    p.refused_at(q2.record, pay.bond, p["bob"], p["carol"], 1_000, BOND_MATURED)
    pay.fund(1)
    pay.to_payment(2)
    pay.fund(2, need - funded_2)
    receipt = pay.redeem(p["a1"])
    assert [e["period"] for e in pay.coupon_events(receipt)] == [0, 1, 2]
    # 12_345 x 1.005 = 12_406.7 -> 12_406 JPY
    assert events(pay.bond, receipt, "PrincipalPaid") == [
        {"holder": p["a1"].address, "period": 2, "units": 12_345, "amount": 12_406 * JPY}]
    assert p.balance(pay.bond, p["a1"]) == 0
    pay.pay_batch([p["bob"], p["carol"]])
    assert p.total(pay.bond) == 0
    assert p.detect(pay.bond, p["a1"], p["bob"], 0) == BOND_CLOSED
    # bob: 4_000 x 1.005 = 4_020; carol: 1_000 x 1.005 = 1_005
    assert pay.paid(2)["principal"] == (12_406 + 4_020 + 1_005) * JPY


def test_call_of_the_next_period_to_record(p: Platform) -> None:
    """Calling the very next period to record: transfers stop at its record time at once."""
    pay = setup_payments(p, periods=schedule(p.chain.now() + 60 * DAY, 4),
                         holders={"a1": 10_000})
    p.send(p.issuer, pay.fn.announceCall(0, CALL_PRICE))
    assert pay.fn.paymentTerms().call()[1] == 1
    r = pay.periods[0].record
    p.allowed_at(r - 1, pay.bond, p["a1"], p["bob"], 1_000)
    p.refused_at(r, pay.bond, p["a1"], p["bob"], 1_000, BOND_MATURED)
    pay_period(pay, 0)
    assert pay.required(0) == required(10_000, COUPON, CALL_PRICE)
    receipt = pay.redeem(p["a1"])
    # 9_000 x 1.005 = 9_045 JPY
    assert events(pay.bond, receipt, "PrincipalPaid")[0]["amount"] == 9_045 * JPY


# =============================================================================================
# 13 zero-coupon bond


def test_zero_coupon_bond_redeems_at_its_price(p: Platform) -> None:
    start = p.chain.now() + 10 * DAY
    price = 10_000_000_000_000  # par
    pay = setup_payments(p, periods=[Period(start, start + PAY_LAG, 0, price)],
                         holders={"a1": 12_345, "grace": 3_333})
    assert pay.info(0)["isFinal"]
    assert pay.required(0) == 15_678 * JPY
    p.allowed_at(start - 1, pay.bond, p["a1"], p["bob"], 345)
    p.refused_at(start, pay.bond, p["a1"], p["bob"], 1_000, BOND_MATURED)
    pay.to_payment(0, -1)
    expect_revert(lambda: pay.redeem(p["a1"]), "RedemptionNotDue", p["a1"])
    expect_revert(lambda: pay.claim(p["a1"]), "NotYetPayable", 0, start + PAY_LAG)
    pay_period(pay, 0)
    receipt = pay.redeem(p["a1"])
    assert pay.coupon_events(receipt) == []
    assert events(pay.bond, receipt, "PrincipalPaid") == [
        {"holder": p["a1"].address, "period": 0, "units": 12_000, "amount": 12_000 * JPY}]
    assert pay.cash(p["a1"]) == 12_000 * JPY
    pay.pay_batch([p["bob"], p["grace"]])
    assert pay.cash(p["bob"]) == 345 * JPY and pay.cash(p["grace"]) == 3_333 * JPY
    paid = pay.paid(0)
    assert paid["nationalTax"] == paid["localTax"] == paid["couponGross"] == 0
    expect_revert(lambda: p.send(pay.payer, pay.fn.remitTax(0)), "NothingToRemit", 0)
    assert p.total(pay.bond) == 0
    assert p.detect(pay.bond, p["a1"], p["bob"], 0) == BOND_CLOSED
    assert pay.cash(pay.bond.address) == 0


@pytest.mark.parametrize("period_count", [1, 2])
def test_redeeming_the_last_unit_closes_the_bond(p: Platform, period_count: int) -> None:
    pay = setup_payments(p, n=period_count, holders={"a1": 10_000})
    assert p.detect(pay.bond, p["a1"], p["bob"], 1_000) == 0
    last = period_count - 1
    for q in range(period_count):
        pay.fund(q)
    pay.to_payment(last)
    pay.redeem(p["a1"])
    assert p.state_word(pay.bond) & (1 << 201)
    p.assert_refused(pay.bond, None, p["bob"], 1_000, BOND_CLOSED)
    assert pay.cash(p["a1"]) == period_count * 26 * JPY + 10_000 * JPY


def test_a_never_funded_period_cannot_be_swept(p: Platform) -> None:
    """A period the issuer never funded stays owed after the claim window: nothing lapses."""
    pay = standard(p)
    pay.to_payment(0)
    closes = pay.periods[0].payment + CLAIM_WINDOW
    p.warp_to(closes)
    expect_revert(lambda: p.send(p.issuer, pay.fn.returnUnclaimed(0, p.issuer.address)),
                  "NotFunded", 0)
    assert not pay.info(0)["swept"]
    pay.fund(0)  # the default cured: the holders are paid in full, ten years late
    receipt = pay.claim(p["bob"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "bob", 0, HOLDERS["bob"])]


def test_a_batch_writes_nothing_for_a_wallet_that_never_held(p: Platform) -> None:
    pay = standard(p)
    pay_period(pay, 0)
    outsider = p["outsider"].address
    receipt = pay.pay_batch([outsider])
    assert pay.coupon_events(receipt) == [] and pay.failures(receipt) == []
    assert pay.account_word(outsider) == 0
    expect_revert(lambda: pay.claim(p["outsider"]), "NothingOwed", p["outsider"])


def test_payments_continue_while_transfers_are_paused(p: Platform) -> None:
    """A pause stops trading, not the issuer's obligations: claims and pushes still pay."""
    pay = standard(p)
    pay_period(pay, 0)
    p.send(p.pauser, pay.bond.functions.pause())
    assert pay.bond.functions.detectTransferRestriction(
        p["a1"].address, p["bob"].address, 1).call() == 1  # PAUSED
    receipt = pay.claim(p["a1"])
    assert pay.coupon_events(receipt) == [coupon_event(pay, "a1", 0, HOLDERS["a1"])]
    receipt = pay.pay_batch([p["bob"], p["grace"], p["qii"]])
    assert pay.coupon_events(receipt) == [
        coupon_event(pay, n, 0, HOLDERS[n]) for n in ("bob", "grace", "qii")]
    assert pay.paid(0)["couponGross"] == 75 * JPY
