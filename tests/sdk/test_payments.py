"""On-chain coupons and redemption through the SDK (``bond.coupons``, ``bond.redemption``) and the
payment terms :func:`munibond.payment_setup.ensure_payments` writes from the term sheet.

The example bond (examples/kobe-resident-bond-2026.yaml): 0 decimals (1 unit = 1 JPY of face),
0.620% a year paid semi-annually = 0.0031 JPY per unit per period, floored to 1 JPY per holding;
an 18-decimal mock JPY stablecoin; withholding 15.315% national + 5% local for individuals,
15.315% national for companies, each part floored to 1 JPY. Every expectation below is computed
here from those numbers, not read back from the SDK.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from web3.logs import DISCARD

from munibond import codes
from munibond.exceptions import (
    AmountError,
    ContractRevert,
    DeploymentError,
    InvalidArgument,
    MissingRole,
    NodeUnreachable,
    TransferRestricted,
)
from munibond.ledger import block_at, holders_at
from munibond.payment_setup import ensure_payments
from munibond.payments import PaymentInterrupted, PaymentReport, TaxRates
from munibond.schedule import coupon_schedule, onchain_schedule
from munibond.signers import Signer

from .conftest import Env, term_sheet_variant

D = Decimal
JST = ZoneInfo("Asia/Tokyo")
DAY = 86_400
#: settlement-token units per JPY (18 decimals)
JPY = 10**18
#: 0.620% a year, semi-annual: 31 JPY per 10,000 JPY of face per period
COUPON_NUM, COUPON_DEN = 31, 10_000
#: withholding rates in 0.001% per tax category: (national, local)
RATES = {0: (0, 0), 1: (15_315, 5_000), 2: (15_315, 0), 3: (15_315, 0)}


# --- independent arithmetic -------------------------------------------------------------------

def gross_jpy(units: int) -> int:
    """The coupon of a holding for one regular period, floored to 1 JPY."""
    return units * COUPON_NUM // COUPON_DEN


def taxes_jpy(gross: int, category: int) -> tuple[int, int]:
    national, local = RATES[category]
    return gross * national // 100_000, gross * local // 100_000


def category_of(env: Env, wallet: str) -> int:
    return next(i.tax_category for i in env.investors if i.wallet == wallet)


# --- chain helpers -----------------------------------------------------------------------------

def travel(env: Env, timestamp: int) -> None:
    """Mine a block at ``timestamp`` (the chain's clock only goes forward)."""
    assert env.chain.now() < timestamp, "travel goes forward only"
    env.chain.set_next_timestamp(timestamp)
    env.chain.mine()


def settlement(env: Env) -> Any:
    token = env.platform.settlement
    assert token is not None
    return token


def mint_money(env: Env, to: str, jpy_units: int) -> None:
    """Mint settlement tokens (base units) to ``to`` (the deployer owns the mock)."""
    env.chain.transact(env.deployer, settlement(env).functions.mint(to, jpy_units))


def money_of(env: Env, wallet: str) -> int:
    return int(settlement(env).functions.balanceOf(wallet).call())


def record_time(env: Env, period: int) -> int:
    return int(env.bond.coupons.period(period).record_time.timestamp())


def payment_time(env: Env, period: int) -> int:
    return int(env.bond.coupons.period(period).payment_time.timestamp())


def supply_units(env: Env) -> int:
    return int(env.bond.contract.functions.totalSupply().call())


def fund_periods(env: Env, periods: Iterable[int]) -> None:
    """Fund each period with what it needs: the money minted and approved once, one ``fund``
    transaction a period."""
    wanted = list(periods)
    needed = sum(env.bond.coupons.funding(p).shortfall_units for p in wanted)
    mint_money(env, env.deployer.address, needed)
    env.chain.transact(env.deployer, settlement(env).functions.approve(env.bond.address, needed))
    for p in wanted:
        assert len(env.bond.coupons.fund(env.deployer, p)) == 1  # approved already


def coupon_paid_logs(env: Env) -> list[Any]:
    return list(env.bond.contract.events.CouponPaid.get_logs(from_block=0))


def paid_counts(env: Env) -> dict[str, int]:
    """CouponPaid events per holder, from the bond's logs."""
    return dict(Counter(log["args"]["holder"] for log in coupon_paid_logs(env)))


def units_of(env: Env, wallet: str) -> int:
    return int(env.bond.contract.functions.balanceOf(wallet).call())


def holder(env: Env, investor_id: int, index: int = 0) -> Signer:
    return env.signer(env.wallet(investor_id, index))


#: gas given to every transaction unless a test asks for the node's estimate (py-evm's
#: eth_estimateGas runs the transaction a dozen times: most of these tests' time)
FIXED_GAS = 10_000_000


@pytest.fixture(autouse=True)
def fixed_gas(env_session: Env) -> Iterator[Callable[[bool], None]]:
    """Skip gas estimation (the pre-check ``eth_call`` still runs, so reverts are still found
    before sending). Call the fixture's value with False to estimate again, as on a real node:
    the batch payments are checked under estimation too (a ``payBatch`` catches its payees'
    failures, so too little gas would show as failed payees, not as a failed transaction)."""
    chain = env_session.chain

    def use(fixed: bool) -> None:
        if fixed:
            setattr(chain, "_estimate", lambda request: FIXED_GAS)  # noqa: B010
        else:
            chain.__dict__.pop("_estimate", None)

    use(True)
    yield use
    use(False)


@pytest.fixture
def due(minted: Env) -> Env:
    """The eligible allotment minted, period 0 funded by the deployer and its payment time come."""
    env = minted
    fund_periods(env, [1])
    travel(env, payment_time(env, 1))
    return env


def eligible_units(env: Env) -> dict[str, int]:
    return {a.wallet: int(a.amount) for a in env.eligible}


# --- ensure_payments ---------------------------------------------------------------------------

def test_ensure_payments_writes_the_term_sheets_schedule(env: Env) -> None:
    want = onchain_schedule(coupon_schedule(env.term_sheet), settlement_decimals=18)
    coupons = env.bond.coupons
    terms = coupons.terms()
    assert terms.settlement_token == env.addresses.settlement_token
    assert terms.settlement_decimals == 18
    assert terms.period_count == len(want.periods) == 10
    assert terms.periods_recorded == 0
    assert (terms.divisor_exponent, terms.pay_exponent) == (want.divisor_exponent,
                                                            want.pay_exponent) == (13, 18)
    assert (terms.claim_window, terms.call_notice) == (want.claim_window, want.call_notice)
    assert terms.call_notice == 30 * DAY
    assert 10 * 365 * DAY <= terms.claim_window <= 10 * 366 * DAY
    assert (terms.interest_decimals, terms.rounding_exponent, terms.token_decimals) == (13, 0, 0)
    raw = [tuple(int(v) for v in p) for p in env.bond.contract.functions.paymentSchedule().call()]
    assert raw == [p.as_tuple() for p in want.periods]

    schedule = coupons.schedule()
    assert [p.index for p in schedule] == list(range(10))
    for period, expected in zip(schedule, want.periods, strict=True):
        assert period.record_time.timestamp() == expected.record_time
        assert period.payment_time.timestamp() == expected.payment_time
        assert period.coupon_per_unit_scaled == expected.coupon_per_unit == 31 * 10**9
        assert period.coupon_per_unit == D("0.0031")
        assert not period.funded and not period.swept
    assert [p.kind for p in schedule] == ["coupon"] * 9 + ["redemption"]
    assert [p.final for p in schedule] == [False] * 9 + [True]
    assert schedule[-1].principal_per_unit == D(1)
    assert all(p.principal_per_unit_scaled == 0 for p in schedule[:-1])
    # holders of record: 15:00 JST on the business day before the payment date
    first = coupons.period(1)
    assert first.record_time == datetime(2027, 6, 14, 15, tzinfo=JST)
    assert first.payment_time == datetime(2027, 6, 15, tzinfo=JST)
    last = coupons.final_period()
    assert last.number == 10
    assert last.payment_time == datetime(2031, 12, 15, tzinfo=JST)  # a Monday
    assert last.record_time == datetime(2031, 12, 12, 15, tzinfo=JST)  # the Friday before
    with pytest.raises(InvalidArgument, match="numbered 1 to 10; there is no period 11"):
        coupons.period(11)


def test_a_second_ensure_payments_sends_nothing(env: Env) -> None:
    before = env.nonce(env.deployer)
    setup = ensure_payments(env.bond, env.deployer, env.term_sheet,
                            token=env.addresses.settlement_token)
    assert setup.sent == []
    assert {"schedule", "paying agent", "tax rates"} <= set(setup.unchanged)
    assert env.nonce(env.deployer) == before


def test_ensure_payments_rewrites_before_issue_and_refuses_after(env: Env) -> None:
    other = term_sheet_variant(rate='rate: "0.620%" => rate: "0.700%"')
    token = env.addresses.settlement_token
    setup = ensure_payments(env.bond, env.deployer, other, token=token)
    assert setup.sent == ["schedule"]
    assert env.bond.coupons.period(1).coupon_per_unit == D("0.0035")
    # issue, then ask for the original schedule back: refused, nothing sent
    env.bond.mint(env.deployer, env.eligible[0].wallet, env.eligible[0].amount)
    before = env.nonce(env.deployer)
    with pytest.raises(DeploymentError, match="cannot change after issue"):
        ensure_payments(env.bond, env.deployer, env.term_sheet, token=token)
    assert env.nonce(env.deployer) == before
    assert env.bond.coupons.period(1).coupon_per_unit == D("0.0035")
    # the schedule on chain still matches the variant: nothing to do
    assert ensure_payments(env.bond, env.deployer, other, token=token).sent == []
    assert env.nonce(env.deployer) == before


def test_tax_rates_from_the_term_sheet_are_on_chain(env: Env) -> None:
    coupons = env.bond.coupons
    for category, (national, local) in RATES.items():
        assert tuple(env.bond.contract.functions.taxRates(category).call()) == (national, local,
                                                                                 True)
        assert coupons.tax_rates(category) == TaxRates(category, D(national) / 1000,
                                                       D(local) / 1000)
    individual = coupons.tax_rates(codes.TAX_CATEGORIES["individual"])
    assert (individual.national, individual.local, individual.total) == (
        D("15.315"), D(5), D("20.315"))
    assert coupons.tax_account() is None  # the example names none
    with pytest.raises(InvalidArgument):
        coupons.tax_rates(11)


# --- funding -------------------------------------------------------------------------------------

def test_funding_requires_the_floored_coupon_of_the_supply(minted: Env) -> None:
    env = minted
    extra = ("0x61097BA76cD906d2ba4FD106E757f7Eb455fc295", 1_234)  # an odd holding: flooring shows
    env.bond.mint(env.deployer, *extra)
    supply = sum(int(a.amount) for a in env.eligible) + extra[1]
    assert supply == supply_units(env) == 18_661_234
    coupon = supply * 31 // 10_000  # 57,849.8254 -> 57,849 JPY
    assert coupon == 57_849
    status = env.bond.coupons.funding(1)
    assert status.required == D(coupon) and status.required_units == coupon * JPY
    assert status.funded == 0 and status.funded_units == 0
    assert status.shortfall == D(coupon) and status.shortfall_units == coupon * JPY
    assert not status.payable
    final = env.bond.redemption.funding_status()
    assert (final.period, final.period_index) == (10, 9)
    assert final.required_units == (coupon + supply) * JPY  # last coupon + the face at par


def test_fund_with_the_exact_amount(minted: Env) -> None:
    env = minted
    required = env.bond.coupons.funding(1).required_units
    mint_money(env, env.deployer.address, required + 5 * JPY)
    receipts = env.bond.coupons.fund(env.deployer, 1, env.bond.coupons.money(required),
                                     token=env.addresses.settlement_token.lower())
    assert len(receipts) == 2  # approve, fund
    assert money_of(env, env.bond.address) == required
    assert money_of(env, env.deployer.address) == 5 * JPY
    status = env.bond.coupons.funding(1)
    assert (status.funded_units, status.shortfall_units, status.payable) == (required, 0, False)
    assert env.bond.coupons.period(1).funded
    before = env.nonce(env.deployer)
    with pytest.raises(ContractRevert) as caught:
        env.bond.coupons.fund(env.deployer, 1)
    assert caught.value.error == "AlreadyFunded"
    assert env.nonce(env.deployer) == before


def test_fund_refusals_send_nothing(minted: Env) -> None:
    env = minted
    coupons = env.bond.coupons
    needed = coupons.funding(1).shortfall_units
    mint_money(env, env.deployer.address, needed - JPY)  # 1 JPY short
    watched = (env.deployer, env.stranger)

    def state() -> tuple[int, ...]:
        return (*(env.nonce(a) for a in watched), money_of(env, env.deployer.address),
                money_of(env, env.bond.address),
                int(settlement(env).functions.allowance(env.deployer.address,
                                                        env.bond.address).call()))

    before = state()
    with pytest.raises(AmountError, match="needs"):
        coupons.fund(env.deployer, 1)
    with pytest.raises(ContractRevert) as wrong:
        coupons.fund(env.deployer, 1, coupons.money(needed) + 1)
    assert wrong.value.error == "WrongFundingAmount"
    assert wrong.value.error_args["expected"] == needed
    assert wrong.value.error_args["given"] == needed + JPY
    assert str(needed) in str(wrong.value)
    with pytest.raises(InvalidArgument, match="settlement token"):
        coupons.fund(env.deployer, 1, token=env.addresses.registry)
    with pytest.raises(MissingRole) as role:
        coupons.fund(env.stranger, 1)
    assert role.value.account == env.stranger.address
    assert state() == before
    # one more JPY and the same call goes through
    mint_money(env, env.deployer.address, JPY)
    coupons.fund(env.deployer, 1)
    assert coupons.funding(1).funded_units == needed


# --- claims --------------------------------------------------------------------------------------

def test_claims_refused_before_payment_and_funding(minted: Env) -> None:
    env = minted
    yamada = holder(env, 1001)
    nonce = env.nonce(yamada)
    travel(env, record_time(env, 1) + 1)  # recorded, not yet payable
    with pytest.raises(ContractRevert) as early:
        env.bond.coupons.claim(yamada)
    assert early.value.error == "NotYetPayable"
    assert early.value.error_args == {"period": 0, "paymentTime": payment_time(env, 1)}
    travel(env, payment_time(env, 1))
    with pytest.raises(ContractRevert) as unfunded:
        env.bond.coupons.claim(yamada)
    assert unfunded.value.error == "PeriodNotFunded"
    assert unfunded.value.error_args == {"period": 0}
    fund_periods(env, [1])
    # the second wallet of investor 1005 held nothing at the record time
    empty = holder(env, 1005, 1)
    with pytest.raises(ContractRevert) as nothing:
        env.bond.coupons.claim(empty)
    assert nothing.value.error == "NothingOwed"
    assert nothing.value.error_args == {"holder": empty.address}
    assert env.nonce(yamada) == nonce and env.nonce(empty) == 0
    assert money_of(env, yamada.address) == 0
    # funded and due: the claim pays 3,100 JPY less 20.315% (474 + 155)
    report = env.bond.coupons.claim(yamada)
    assert [(line.period, line.gross, line.national_tax, line.local_tax, line.net)
            for line in report.lines] == [(1, 3_100, 474, 155, 2_471)]
    assert money_of(env, yamada.address) == 2_471 * JPY
    with pytest.raises(ContractRevert, match="NothingOwed"):
        env.bond.coupons.claim(yamada)


# --- paying --------------------------------------------------------------------------------------

def expected_line(env: Env, wallet: str, units: int) -> tuple[int, int, int, int]:
    gross = gross_jpy(units)
    national, local = taxes_jpy(gross, category_of(env, wallet))
    return gross, national, local, gross - national - local


def test_pay_reports_every_holder_and_is_idempotent(
        due: Env, fixed_gas: Callable[[bool], None]) -> None:
    env = due
    fixed_gas(False)  # the batches' gas as a real node estimates it
    with pytest.raises(MissingRole):
        env.bond.coupons.pay(env.stranger)
    seen: list[tuple[int, int]] = []
    report = env.bond.coupons.pay(env.deployer, chunk_size=4,
                                  progress=lambda done, total: seen.append((done, total)))
    holdings = eligible_units(env)
    assert seen == [(4, 11), (8, 11), (11, 11)]
    assert len(report.tx_hashes) == 3 and report.holders_asked == 11 and report.gas_used > 0
    assert report.failed == []
    assert [line.holder for line in report.lines] == list(holdings)
    for line in report.lines:
        gross, national, local, net = expected_line(env, line.holder, holdings[line.holder])
        assert (line.period, line.status, line.reason) == (1, "paid", "")
        assert (line.gross, line.national_tax, line.local_tax, line.net, line.principal) == (
            gross, national, local, net, 0)
        assert line.tax == national + local
        assert line.tx_hash in report.tx_hashes
        assert money_of(env, line.holder) == net * JPY
    # the corporate holder (1004, 10,000,000 units) pays no local tax
    corporate = next(line for line in report.lines if line.holder == env.wallet(1004))
    assert (corporate.gross, corporate.national_tax, corporate.local_tax) == (31_000, 4_747, 0)
    total_gross = sum(gross_jpy(u) for u in holdings.values())
    assert report.total("gross") == total_gross == env.bond.coupons.funding(1).required
    paid = env.bond.coupons.paid(1)
    assert paid.coupon_gross == total_gross and paid.principal == 0
    assert paid.withheld == report.total("tax") and paid.net == report.total("net")
    assert money_of(env, env.bond.address) == paid.withheld * JPY  # the tax stays in the bond
    status = env.bond.coupons.status(1)  # terms, funding and payments of the period at once
    assert (status.period.index, status.paid, status.funding.payable) == (0, paid, True)
    assert status.funding.funded == status.funding.required == total_gross
    assert [env.bond.coupons.holder_status(w) for w in holdings] == [[]] * len(holdings)

    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert list(rows[0]) == ["holder", "period", "gross", "national_tax", "local_tax", "tax",
                             "net", "principal", "tx_hash", "status", "reason"]
    assert len(rows) == 11
    first = rows[0]
    assert first["holder"] == env.wallet(1001) and first["period"] == "1"
    assert [D(first[k]) for k in ("gross", "national_tax", "local_tax", "tax", "net",
                                  "principal")] == [3_100, 474, 155, 629, 2_471, 0]
    assert first["status"] == "paid" and first["tx_hash"] == report.tx_hashes[0]

    # again: nobody is owed anything payable, nothing is sent, nobody is paid twice
    nonce = env.nonce(env.deployer)
    again = env.bond.coupons.pay(env.deployer)
    assert again.lines == [] and again.tx_hashes == []
    assert env.nonce(env.deployer) == nonce
    # even when the agent names the holders itself, the chain skips them
    forced = env.bond.coupons.pay(env.deployer, list(holdings))
    assert forced.lines == []
    assert paid_counts(env) == dict.fromkeys(holdings, 1)


def test_a_payee_the_settlement_token_blocks_is_paid_later(due: Env) -> None:
    env = due
    blocked = env.wallet(1002)
    token = settlement(env)
    env.chain.transact(env.deployer, token.functions.setBlocked(blocked, True))
    report = env.bond.coupons.pay(env.deployer)
    assert blocked not in report.holders_paid
    assert len(report.holders_paid) == 10
    [failed] = report.failed
    assert failed.holder == blocked and failed.status == "failed"
    assert failed.period == 1  # the period it still waits for
    assert (failed.gross, failed.net) == (0, 0)
    assert "SettlementTransferFailed" in failed.reason and blocked in failed.reason
    assert money_of(env, blocked) == 0
    [owed] = env.bond.coupons.entitlements(blocked)
    assert (owed.period, owed.units, owed.gross, owed.status) == (1, 500_000, 1_550, "payable")
    csv_row = [r for r in csv.DictReader(io.StringIO(report.to_csv())) if r["holder"] == blocked]
    assert csv_row[0]["status"] == "failed" and "SettlementTransferFailed" in csv_row[0]["reason"]
    assert csv_row[0]["period"] == "1"

    env.chain.transact(env.deployer, token.functions.setBlocked(blocked, False))
    later = env.bond.coupons.pay(env.deployer)
    assert later.holders_asked == 1 and later.holders_paid == {blocked}
    assert later.failed == []
    assert money_of(env, blocked) == expected_line(env, blocked, 500_000)[3] * JPY
    assert env.bond.coupons.entitlements(blocked) == []


def test_a_frozen_wallet_waits_until_unfrozen(due: Env) -> None:
    env = due
    frozen = holder(env, 1003)
    env.bond.freeze_wallet(env.deployer, frozen.address)
    report = env.bond.coupons.pay(env.deployer)
    [failed] = report.failed
    assert failed.holder == frozen.address and "PaymentWaitsForUnfreeze" in failed.reason
    assert failed.period == 1
    nonce = env.nonce(frozen)
    with pytest.raises(ContractRevert) as caught:
        env.bond.coupons.claim(frozen)
    assert caught.value.error == "PaymentWaitsForUnfreeze"
    assert env.nonce(frozen) == nonce and money_of(env, frozen.address) == 0
    env.bond.unfreeze_wallet(env.deployer, frozen.address)
    later = env.bond.coupons.pay(env.deployer)
    assert later.holders_paid == {frozen.address}
    assert money_of(env, frozen.address) == expected_line(env, frozen.address, 200_000)[3] * JPY


def test_a_node_lost_mid_payment_loses_nothing(due: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env = due
    real = env.chain.transact
    batches: list[list[str]] = []

    def flaky(signer: Any, tx: Any, **options: Any) -> Any:
        if getattr(tx, "fn_name", None) == "payBatch":
            batches.append(list(tx.args[0]))
            if len(batches) == 2:
                raise NodeUnreachable("no Ethereum node answers at http://node.example: "
                                      "connection refused")
        return real(signer, tx, **options)

    monkeypatch.setattr(env.chain, "transact", flaky)
    holdings = list(eligible_units(env))
    with pytest.raises(PaymentInterrupted, match="4 of 11") as caught:
        env.bond.coupons.pay(env.deployer, chunk_size=4)
    first: PaymentReport = caught.value.report
    assert isinstance(caught.value.__cause__, NodeUnreachable)
    assert len(first.tx_hashes) == 1
    assert [line.holder for line in first.paid] == holdings[:4] == batches[0]
    assert {log["args"]["holder"] for log in coupon_paid_logs(env)} == set(holdings[:4])

    monkeypatch.undo()  # the node is back
    rest = env.bond.coupons.pay(env.deployer, chunk_size=4)
    assert [line.holder for line in rest.paid] == holdings[4:]
    assert rest.holders_asked == 7 and rest.failed == []
    assert paid_counts(env) == dict.fromkeys(holdings, 1)
    for wallet, units in eligible_units(env).items():
        assert money_of(env, wallet) == expected_line(env, wallet, units)[3] * JPY


# --- the register at the record time -----------------------------------------------------------

def test_the_register_at_the_record_time_is_what_gets_paid(minted: Env) -> None:
    env = minted
    record = record_time(env, 1)
    record_dt = env.bond.coupons.period(1).record_time
    yamada, suzuki = holder(env, 1001), holder(env, 1002)
    takahashi2, yoshida = env.wallet(1005, 1), env.wallet(1014)
    # a second before the record: the coupon moves with the units
    env.chain.set_next_timestamp(record - 1)
    before = env.bond.transfer(yamada, takahashi2, 1_234)
    # exactly at the record time: recorded already, the coupon stays with the seller
    env.chain.set_next_timestamp(record)
    at = env.bond.transfer(suzuki, yoshida, 4_321)
    stamp = env.chain.w3.eth.get_block
    assert stamp(before["blockNumber"])["timestamp"] == record - 1
    assert stamp(at["blockNumber"])["timestamp"] == record

    # the register of record: the last block before the record time (a block AT it is after)
    assert block_at(env.chain, record_dt) == at["blockNumber"]
    assert block_at(env.chain, record_dt - timedelta(seconds=1)) == before["blockNumber"]
    register = {h.wallet: h.units
                for h in holders_at(env.chain, env.bond, record_dt - timedelta(seconds=1))}
    expected = eligible_units(env)
    expected[yamada.address] -= 1_234
    expected[takahashi2] = 1_234
    assert register == expected
    assert yoshida not in register

    fund_periods(env, [1])
    travel(env, payment_time(env, 1))
    # the funding is the coupon of the whole supply, floored once; each holding's coupon is
    # floored on its own, so the holders get 1 JPY less in all (dust, returned after the window)
    required = env.bond.coupons.funding(1).required
    assert required == gross_jpy(sum(register.values())) == 57_846
    assert sum(gross_jpy(u) for u in register.values()) == 57_845  # 1 JPY of dust
    report = env.bond.coupons.pay(env.deployer)
    paid = {line.holder: line.gross for line in report.paid}
    assert paid == {wallet: gross_jpy(units) for wallet, units in register.items()}
    assert paid[yamada.address] == 3_096  # 998,766 x 0.0031 = 3,096.17
    assert paid[takahashi2] == 3  # 1,234 x 0.0031 = 3.83
    assert paid[suzuki.address] == 1_550  # sold 4,321 at the record time: still 500,000
    from_logs = {log["args"]["holder"]: log["args"]["gross"] // JPY
                 for log in coupon_paid_logs(env) if log["args"]["period"] == 0}
    assert from_logs == paid
    assert env.bond.coupons.entitlements(yoshida) == []


def test_entitlements_follow_the_record_not_later_transfers(minted: Env) -> None:
    env = minted
    coupons = env.bond.coupons
    seller, buyer = holder(env, 1001), env.wallet(1005, 1)
    assert coupons.entitlements(seller.address) == []
    travel(env, record_time(env, 1) + 60)
    [owed] = coupons.entitlements(seller.address)
    assert (owed.holder, owed.period, owed.units, owed.gross, owed.principal, owed.status) == (
        seller.address, 1, 1_000_000, 3_100, 0, "not yet payable")
    env.bond.transfer(seller, buyer, 400_000)  # after the record
    [kept] = coupons.entitlements(seller.address)
    assert (kept.units, kept.gross) == (1_000_000, 3_100)
    assert coupons.entitlements(buyer) == []
    travel(env, payment_time(env, 1))
    assert [e.status for e in coupons.entitlements(seller.address)] == ["not funded"]
    assert not coupons.owed_now(seller.address)
    fund_periods(env, [1])
    assert [e.status for e in coupons.entitlements(seller.address)] == ["payable"]
    assert coupons.owed_now(seller.address) and not coupons.owed_now(buyer)
    report = coupons.pay(env.deployer)
    line = next(line for line in report.paid if line.holder == seller.address)
    assert (line.gross, line.net) == (3_100, 2_471)
    assert buyer not in report.holders_paid
    # period 2 is recorded on today's holdings: 600,000 and 400,000
    travel(env, record_time(env, 2) + 1)
    assert [(e.period, e.units) for e in coupons.entitlements(seller.address)] == [(2, 600_000)]
    assert [(e.period, e.units, e.gross) for e in coupons.entitlements(buyer)] == [
        (2, 400_000, 1_240)]


# --- redemption ---------------------------------------------------------------------------------

def test_redemption_before_maturity_is_refused(due: Env) -> None:
    env = due
    yamada = holder(env, 1001)
    nonces = (env.nonce(yamada), env.nonce(env.deployer))
    with pytest.raises(ContractRevert) as caught:
        env.bond.redemption.claim(yamada)
    assert caught.value.error == "RedemptionNotDue"
    with pytest.raises(ContractRevert) as early:
        env.bond.redemption.pay(env.deployer)
    assert early.value.error == "NotYetPayable"
    assert early.value.error_args["period"] == 9
    assert (env.nonce(yamada), env.nonce(env.deployer)) == nonces
    assert units_of(env, yamada.address) == 1_000_000 and money_of(env, yamada.address) == 0
    assert not env.bond.redemption.closed()


def test_redemption_at_maturity_closes_the_bond(
        minted: Env, fixed_gas: Callable[[bool], None]) -> None:
    env = minted
    redemption = env.bond.redemption
    fund_periods(env, range(1, 11))
    final = redemption.final_period()
    travel(env, int(final.payment_time.timestamp()))
    fixed_gas(False)  # the gas as a real node estimates it
    assert redemption.funding_status().payable
    holdings = eligible_units(env)
    yamada = holder(env, 1001)
    report = redemption.claim(yamada)
    assert report.holders_asked == 1 and len(report.tx_hashes) == 1
    assert [line.period for line in report.lines] == list(range(1, 11))
    last = report.lines[-1]
    assert (last.gross, last.national_tax, last.local_tax, last.principal) == (
        3_100, 474, 155, 1_000_000)
    assert last.net == 2_471 + 1_000_000
    assert units_of(env, yamada.address) == 0
    assert money_of(env, yamada.address) == 10 * 2_471 * JPY + 1_000_000 * JPY
    burns = [e for e in env.bond.contract.events.Transfer().process_receipt(
        env.chain.w3.eth.get_transaction_receipt(report.tx_hashes[0]), errors=DISCARD)
        if int(e["args"]["to"], 16) == 0]
    assert [(e["args"]["from"], e["args"]["value"]) for e in burns] == [
        (yamada.address, 1_000_000)]
    assert not redemption.closed()

    # one payee alone, ten periods and a burn: the node's estimate for the batch is gas with
    # which the payee's sub-call runs out (the batch catches it); the payment still goes through
    suzuki = env.wallet(1002)
    alone = redemption.pay(env.deployer, [suzuki])
    assert alone.failed == [] and alone.holders_paid == {suzuki}
    assert units_of(env, suzuki) == 0
    fixed_gas(True)
    rest = redemption.pay(env.deployer)
    assert rest.holders_paid == set(holdings) - {yamada.address, suzuki}
    principals = {line.holder: line.principal for line in alone.paid + rest.paid
                  if line.period == 10}
    assert principals == {w: u for w, u in holdings.items() if w != yamada.address}
    for wallet, units in holdings.items():
        net = expected_line(env, wallet, units)[3]
        assert money_of(env, wallet) == (10 * net + units) * JPY
    assert supply_units(env) == 0
    assert redemption.closed()
    paid = redemption.paid(10)
    assert paid.principal == sum(holdings.values())
    # the bond is closed: transfers and mints are refused with code 2
    assert env.bond.check_transfer(yamada.address, env.wallet(1002), 1).code == 2
    assert env.bond.check_mint(env.wallet(1002), 1).code == 2
    with pytest.raises(TransferRestricted) as refused:
        env.bond.transfer(holder(env, 1002), yamada.address, 1)
    assert refused.value.code == 2
    assert redemption.pay(env.deployer).tx_hashes == []


def test_an_issuer_call_shortens_the_schedule(minted: Env) -> None:
    env = minted
    redemption = env.bond.redemption
    # too late for period 0: its payment is less than the 30 days' notice away
    travel(env, payment_time(env, 1) - 30 * DAY + 1)
    nonce = env.nonce(env.deployer)
    with pytest.raises(ContractRevert) as late:
        redemption.call(env.deployer, 1, "100")
    assert late.value.error == "CallNoticeTooShort"
    assert late.value.error_args["announceBy"] == payment_time(env, 1) - 30 * DAY
    with pytest.raises(MissingRole):
        redemption.call(env.stranger, 3, "101")
    with pytest.raises(AmountError):
        redemption.call(env.deployer, 3, "0")
    # below the term sheet's call price (the redemption price, 100%): refused as the contract
    # refuses it, before sending (issue 7 A.6)
    with pytest.raises(ContractRevert) as cheap:
        redemption.call(env.deployer, 3, "99.99")
    assert cheap.value.error == "CallPriceBelowTerms"
    assert env.nonce(env.deployer) == nonce

    called_at = payment_time(env, 3)
    redemption.call(env.deployer, 3, "101")
    schedule = env.bond.coupons.schedule()
    assert len(schedule) == 3
    assert [p.kind for p in schedule] == ["coupon", "coupon", "redemption"]
    assert schedule[2].principal_per_unit == D("1.01")
    assert schedule[2].payment_time.timestamp() == called_at
    env.bond.refresh()
    assert env.bond.terms().maturity_date.timestamp() <= called_at

    fund_periods(env, range(1, 4))
    holdings = eligible_units(env)
    assert redemption.funding_status().required_units == (
        sum(gross_jpy(u) for u in holdings.values())
        + sum(holdings.values()) * 101 // 100) * JPY
    travel(env, called_at)
    report = redemption.pay(env.deployer)
    principals = {line.holder: line.principal for line in report.paid if line.period == 3}
    assert principals == {w: u * 101 // 100 for w, u in holdings.items()}
    assert principals[env.wallet(1001)] == 1_010_000
    assert supply_units(env) == 0 and redemption.closed()
    # a later run of the deployment accepts the called schedule and sends nothing
    nonce = env.nonce(env.deployer)
    setup = ensure_payments(env.bond, env.deployer, env.term_sheet,
                            token=env.addresses.settlement_token)
    assert "schedule" in setup.unchanged and setup.sent == []
    assert env.nonce(env.deployer) == nonce


# --- withholding -------------------------------------------------------------------------------

def test_tax_rates_are_fixed_once_a_period_is_payable(due: Env) -> None:
    env = due
    coupons = env.bond.coupons
    nonce = env.nonce(env.deployer)
    with pytest.raises(MissingRole):
        coupons.set_tax_rates(env.stranger, 1, "10", "2")
    with pytest.raises(AmountError):
        coupons.set_tax_rates(env.deployer, 1, "10.0001", "2")
    with pytest.raises(AmountError):
        coupons.set_tax_rates(env.deployer, 1, "90", "11")
    with pytest.raises(InvalidArgument):
        coupons.set_tax_rates(env.deployer, 11, "10", "2")
    assert env.nonce(env.deployer) == nonce
    receipt = coupons.set_tax_rates(env.deployer, 1, "10", "2")
    fixed = env.bond.contract.events.PeriodTaxRatesFixed().process_receipt(receipt,
                                                                           errors=DISCARD)
    assert [e["args"]["period"] for e in fixed] == [0]
    assert coupons.tax_rates(1) == TaxRates(1, D(10), D(2))
    assert coupons.tax_rates(1, period=1) == TaxRates(1, D("15.315"), D(5))
    assert tuple(env.bond.contract.functions.periodTaxRates(0, 1).call()) == (15_315, 5_000, True)
    assert coupons.tax_rates(1, period=2) == TaxRates(1, D(10), D(2))
    assert coupons.tax_rates(2, period=1) == TaxRates(2, D("15.315"), D(0))

    report = coupons.pay(env.deployer)
    line = next(line for line in report.paid if line.holder == env.wallet(1001))
    assert (line.national_tax, line.local_tax) == (474, 155)  # the old rates
    fund_periods(env, [2])
    travel(env, payment_time(env, 2))
    line = next(line for line in coupons.pay(env.deployer).paid
                if line.holder == env.wallet(1001))
    assert (line.period, line.national_tax, line.local_tax, line.net) == (2, 310, 62, 2_728)


def test_remit_tax_to_the_tax_account(due: Env) -> None:
    env = due
    coupons = env.bond.coupons
    report = coupons.pay(env.deployer)
    withheld = report.total("tax")
    with pytest.raises(ContractRevert, match="NoTaxAccount"):
        coupons.remit_tax(env.deployer, 1)
    with pytest.raises(MissingRole):
        coupons.set_tax_account(env.stranger, env.stranger.address)
    account = env.wallet(1014)  # any address will do
    coupons.set_tax_account(env.deployer, account)
    assert coupons.tax_account() == account
    with pytest.raises(MissingRole):
        coupons.remit_tax(env.stranger, 1)
    coupons.remit_tax(env.deployer, 1)
    assert money_of(env, account) == withheld * JPY
    assert coupons.paid(1).tax_remitted == withheld
    assert money_of(env, env.bond.address) == 0
    with pytest.raises(ContractRevert) as again:
        coupons.remit_tax(env.deployer, 1)
    assert again.value.error == "NothingToRemit"


def test_return_unclaimed_after_the_claim_window(due: Env) -> None:
    env = due
    coupons = env.bond.coupons
    claimers = [env.wallet(1001), env.wallet(1004)]
    report = coupons.pay(env.deployer, claimers)
    assert report.holders_paid == set(claimers)
    funded = coupons.funding(1).funded_units
    window = coupons.terms().claim_window
    issuer_before = money_of(env, env.deployer.address)
    with pytest.raises(ContractRevert) as open_:
        coupons.return_unclaimed(env.deployer, 1, env.deployer.address)
    assert open_.value.error == "ClaimWindowOpen"
    with pytest.raises(MissingRole):
        coupons.return_unclaimed(env.stranger, 1, env.stranger.address)

    travel(env, payment_time(env, 1) + window)  # ten years on
    coupons.return_unclaimed(env.deployer, 1, env.deployer.address)
    unclaimed = funded - report.total("gross") * JPY  # the withheld tax stays for remittance
    assert money_of(env, env.deployer.address) - issuer_before == unclaimed
    assert coupons.paid(1).returned * JPY == unclaimed
    assert money_of(env, env.bond.address) == report.total("tax") * JPY
    assert coupons.period(1).swept
    lapsed = coupons.entitlements(env.wallet(1002))[0]
    assert (lapsed.period, lapsed.status) == (1, "lapsed")
    with pytest.raises(ContractRevert):
        coupons.return_unclaimed(env.deployer, 1, env.deployer.address)



def test_a_push_reports_a_due_unfunded_period_once(minted: Env) -> None:
    """The first signal of a default: a push that finds a due period unfunded puts a
    FundingShortfall event on chain (once) and says so in its report; nobody is paid."""
    env = minted
    coupons = env.bond.coupons
    travel(env, payment_time(env, 1) + 60)
    report = coupons.pay(env.deployer)
    assert report.paid == [] and report.tx_hashes == []
    assert [s.period for s in report.shortfalls] == [1]
    need = gross_jpy(supply_units(env)) * JPY
    assert report.shortfalls[0].shortfall_units == need
    event = env.bond.contract.events.FundingShortfall()
    logs = event.get_logs(from_block=0, to_block="latest")
    assert [(log["args"]["period"], log["args"]["required"], log["args"]["funded"])
            for log in logs] == [(0, need, 0)]
    nonce = env.nonce(env.deployer)
    again = coupons.pay(env.deployer)  # still short: reported, but the event is not repeated
    assert [s.period for s in again.shortfalls] == [1]
    assert env.nonce(env.deployer) == nonce
    fund_periods(env, [1])
    paid = coupons.pay(env.deployer)
    assert paid.shortfalls == [] and len(paid.holders_paid) == len(eligible_units(env))
