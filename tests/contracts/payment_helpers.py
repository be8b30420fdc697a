"""Helpers of the payment tests (tests/contracts/test_payments.py): a settlement token, a bond
with a payment schedule, a paying agent and tax rates, time travel to record and payment times,
and the integer arithmetic the contracts must reproduce (coupons floored to the rounding unit,
each tax part floored separately).

The example bond: 0 decimals (1 unit = 1 JPY of face), interest decimals 13, rounding unit 1 JPY,
an 18-decimal JPY stablecoin: divisor exponent 13, pay exponent 18.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from web3.contract import Contract

from munibond.artifacts import load_artifact
from munibond.exceptions import TransactionReverted
from munibond.signers import Signer

from .helpers import (
    CORPORATE,
    DEPLOY_GAS,
    QII,
    RETAIL,
    Platform,
    Rules,
    account_slot,
    addr,
    decode_error,
    events,
    expect_revert,
    raw_storage,
    role_id,
)

PAYING_AGENT_ROLE = role_id("PAYING_AGENT_ROLE")
ISSUER_ROLE = role_id("ISSUER_ROLE")
ADMIN_ROLE = role_id("DEFAULT_ADMIN_ROLE")

DAY = 86_400
#: settlement-token units per rounding unit (1 JPY, 18 decimals)
JPY = 10**18
DIV_EXP = 13
PAY_EXP = 18
#: 0.31% of face per period, scaled by 10^13
COUPON = 31_000_000_000
#: 1 JPY of principal per unit of face (par), scaled by 10^13
PAR = 10**13
CLAIM_WINDOW = 60 * DAY
CALL_NOTICE = 30 * DAY
#: call and redemption price of the test bonds' call terms, in millionths (100.5% and par)
CALL_PRICE_PPM = 1_005_000
REDEMPTION_PPM = 1_000_000


def call_terms(notice: int = CALL_NOTICE, first_call: int = 0, price: int = CALL_PRICE_PPM,
               redemption: int = REDEMPTION_PPM) -> tuple[int, int, int, int]:
    """``setSchedule``'s CallTerms: (notice, first call time, call price, redemption price)."""
    return (notice, first_call, price, redemption)
#: between two record times
PERIOD = 180 * DAY
#: from a record time to its payment time
PAY_LAG = 14 * DAY
RATE_SCALE = 100_000

EXEMPT, INDIVIDUAL, CORPORATE_TAX = 0, 1, 2
#: withholding rates per tax category, in 0.001%: (national, local)
TAX_RATES = {EXEMPT: (0, 0), INDIVIDUAL: (15_315, 5_000), CORPORATE_TAX: (15_315, 0)}

# account word (BondStorage)
CURSOR_SHIFT = 216
HELD_SHIFT = 224
ACCOUNT_ARREARS = 1 << 209
RECORDED_SHIFT = 208

SETTLEMENT_SUPPLY = 10**12 * JPY


# ----------------------------------------------------------------------------------------------
# arithmetic


def floor_amount(units: int, per_unit: int, div_exp: int = DIV_EXP) -> int:
    """Rounding units (JPY) a holding of ``units`` is worth at ``per_unit`` (floored)."""
    return units * per_unit // 10**div_exp


@dataclass(frozen=True)
class Expected:
    """What one period pays one holding, in settlement-token units."""

    gross: int
    national: int
    local: int
    principal: int

    @property
    def withheld(self) -> int:
        return self.national + self.local

    @property
    def net_coupon(self) -> int:
        return self.gross - self.national - self.local

    @property
    def net(self) -> int:
        return self.net_coupon + self.principal


def expected(units: int, category: int, coupon: int = COUPON, principal: int = 0,
             rates: Mapping[int, tuple[int, int]] = TAX_RATES) -> Expected:
    gross = floor_amount(units, coupon)
    national_rate, local_rate = rates[category]
    return Expected(gross=gross * JPY, national=gross * national_rate // RATE_SCALE * JPY,
                    local=gross * local_rate // RATE_SCALE * JPY,
                    principal=floor_amount(units, principal) * JPY)


def required(supply: int, coupon: int = COUPON, principal: int = 0) -> int:
    """requiredFunding of a period for ``supply`` units outstanding at its record time."""
    return (floor_amount(supply, coupon) + floor_amount(supply, principal)) * JPY


# ----------------------------------------------------------------------------------------------
# the schedule


@dataclass(frozen=True)
class Period:
    record: int
    payment: int
    coupon: int = COUPON
    principal: int = 0

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.record, self.payment, self.coupon, self.principal)


def schedule(start: int, n: int, *, coupon: int = COUPON, final_principal: int = PAR,
             spacing: int = PERIOD, lag: int = PAY_LAG) -> list[Period]:
    """``n`` periods, the first recorded at ``start``; the last redeems at ``final_principal``."""
    return [Period(start + i * spacing, start + i * spacing + lag, coupon,
                   final_principal if i == n - 1 else 0) for i in range(n)]


def as_tuples(periods: Iterable[Period]) -> list[tuple[int, int, int, int]]:
    return [q.as_tuple() for q in periods]


def pay_rules(p: Platform, **overrides: Any) -> Rules:
    """Resident-bond rules loose enough for payment arithmetic: any unit count, no holding or
    holder cap, and QIIs (tax-exempt) allowed."""
    base: dict[str, Any] = {"tradingUnit": 1, "maxBalance": 0, "maxHolders": 0,
                            "allowedClasses": (1 << RETAIL) | (1 << CORPORATE) | (1 << QII)}
    base.update(overrides)
    return p.rules(**base)


def reverts_at(p: Platform, timestamp: int, signer: Signer, fn: Any, error: str,
               *args: Any) -> None:
    """At exactly ``timestamp`` (the next block) ``fn`` sent by ``signer`` reverts with
    ``error(*args)`` (checked by a call at that block), and the transaction mined in a block at
    ``timestamp`` fails. (A mined failure's own revert data cannot be used: it is replayed on
    the block before, at an earlier time.)"""
    p.at(timestamp)
    expect_revert(lambda: p.chain.call(fn, block="pending", sender=signer), error, *args)
    with pytest.raises(TransactionReverted) as info:
        p.mined(signer, fn)
    block = p.chain.w3.eth.get_block(info.value.receipt["blockNumber"])
    assert block["timestamp"] == timestamp


def view_reverts(p: Platform, fn: Any, error: str, *args: Any) -> None:
    """A view call reverts with ``error(*args)``."""
    expect_revert(lambda: p.chain.call(fn), error, *args)


def deploy_token(p: Platform, decimals: int = 18) -> Contract:
    artifact = load_artifact("MockSettlementToken")
    factory = p.chain.w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
    receipt = p.chain.transact(p.admin, factory.constructor("JPY Coin", "JPYC", decimals,
                                                            p.admin.address), gas=DEPLOY_GAS)
    return p.chain.w3.eth.contract(address=receipt["contractAddress"], abi=list(artifact.abi))


# ----------------------------------------------------------------------------------------------
# a bond with payments


@dataclass
class Payments:
    p: Platform
    bond: Contract
    token: Contract
    payer: Signer  # holds PAYING_AGENT_ROLE
    tax_account: str
    periods: list[Period]

    @property
    def fn(self) -> Any:
        return self.bond.functions

    # -- sending -------------------------------------------------------------------------------

    def fund(self, period: int, amount: int | None = None, signer: Signer | None = None) -> Any:
        """Funds ``period`` with what it still needs (or ``amount``)."""
        if amount is None:
            req, funded, _, _ = self.fn.fundingStatus(period).call()
            amount = req - funded
        return self.p.send(signer or self.payer, self.fn.fund(period, amount))

    def claim(self, who: Signer) -> Any:
        return self.p.send(who, self.fn.claim())

    def redeem(self, who: Signer) -> Any:
        return self.p.send(who, self.fn.redeem())

    def pay_batch(self, holders: Sequence[Signer | str], signer: Signer | None = None) -> Any:
        return self.p.send(signer or self.payer,
                           self.fn.payBatch([addr(h) for h in holders]))

    def paid_count(self, holders: Sequence[Signer | str]) -> int:
        """What payBatch would return now (a call as the paying agent)."""
        return int(self.fn.payBatch([addr(h) for h in holders]).call(
            {"from": self.payer.address}))

    # -- reading -------------------------------------------------------------------------------

    def cash(self, who: Signer | str) -> int:
        return int(self.token.functions.balanceOf(addr(who)).call())

    def entitlements(self, who: Signer | str, block: Any = "latest") -> list[tuple[int, int]]:
        periods, units = self.fn.entitlementsOf(addr(who)).call(block_identifier=block)
        return list(zip(periods, units, strict=True))

    def required(self, period: int) -> int:
        return int(self.fn.requiredFunding(period).call())

    def funding(self, period: int) -> tuple[int, int, int, bool]:
        return tuple(self.fn.fundingStatus(period).call())  # type: ignore[return-value]

    def paid(self, period: int) -> dict[str, int]:
        names = ("couponGross", "nationalTax", "localTax", "principal", "taxRemitted", "returned")
        return dict(zip(names, self.fn.periodPayments(period).call(), strict=True))

    def info(self, period: int) -> dict[str, Any]:
        names = ("recordTime", "paymentTime", "couponPerUnit", "principalPerUnit", "isFinal",
                 "funded", "swept")
        return dict(zip(names, self.fn.periodInfo(period).call(), strict=True))

    def account_word(self, who: Signer | str) -> int:
        return raw_storage(self.p.chain, self.bond.address, account_slot(addr(who)))

    def cursor_and_held(self, who: Signer | str) -> tuple[int, int]:
        word = self.account_word(who)
        return (word >> CURSOR_SHIFT) & 0xFF, word >> HELD_SHIFT

    def state_word(self) -> int:
        return raw_storage(self.p.chain, self.bond.address, 0)

    # -- time ----------------------------------------------------------------------------------

    def to_record(self, period: int, offset: int = 0) -> None:
        """Mine an empty block at ``period``'s record time + ``offset``."""
        self.p.warp_to(self.periods[period].record + offset)

    def to_payment(self, period: int, offset: int = 0) -> None:
        self.p.warp_to(self.periods[period].payment + offset)

    # -- events --------------------------------------------------------------------------------

    def coupon_events(self, receipt: Any) -> list[dict[str, Any]]:
        return events(self.bond, receipt, "CouponPaid")

    def failures(self, receipt: Any) -> list[tuple[str, str, dict[str, Any]]]:
        """(holder, error name, error args) of each PaymentFailed in ``receipt``."""
        out = []
        for e in events(self.bond, receipt, "PaymentFailed"):
            err = decode_error(bytes(e["reason"]))
            out.append((e["holder"], err.name, err.args))
        return out


def setup_payments(p: Platform, *, periods: Sequence[Period] | None = None, n: int = 4,
                   coupon: int = COUPON, final_principal: int = PAR,
                   rules: Rules | None = None, holders: Mapping[str, int] | None = None,
                   tax_account: bool = True, claim_window: int = CLAIM_WINDOW,
                   call_notice: int = CALL_NOTICE, maturity: int | None = None,
                   call: tuple[int, int, int, int] | None = None,
                   tax_rates: Mapping[int, tuple[int, int]] = TAX_RATES,
                   payer: Signer | None = None, div_exp: int = DIV_EXP,
                   **terms: Any) -> Payments:
    """A fresh bond with a schedule (by default ``n`` periods, the first recorded 10 days from
    now, maturity at the last payment), a paying agent with settlement tokens approved, the
    example tax rates and a tax account, and ``holders`` minted. ``terms`` override the bond's
    terms."""
    token = deploy_token(p)
    if periods is None:
        periods = schedule(p.chain.now() + 10 * DAY, n, coupon=coupon,
                           final_principal=final_principal)
    periods = list(periods)
    terms.setdefault("maturityDate", maturity if maturity is not None else periods[-1].payment)
    bond = p.make_bond(rules or pay_rules(p), **terms)
    p.send(p.admin, bond.functions.setSchedule(as_tuples(periods), token.address, div_exp,
                                               PAY_EXP, claim_window,
                                               call or call_terms(call_notice)))
    payer = payer or p.creator  # the factory's creator has no role on the bond: a clean agent
    p.send(p.admin, bond.functions.grantRole(PAYING_AGENT_ROLE, payer.address))
    for category, (national, local) in tax_rates.items():
        p.send(p.admin, bond.functions.setTaxRates(category, national, local))
    tax = p["new3"].address
    if tax_account:
        p.send(p.admin, bond.functions.setTaxAccount(tax))
    for who in (payer, p.issuer):
        p.send(p.admin, token.functions.mint(who.address, SETTLEMENT_SUPPLY))
        p.send(who, token.functions.approve(bond.address, 2**256 - 1))
    pay = Payments(p=p, bond=bond, token=token, payer=payer, tax_account=tax, periods=periods)
    for name, units in (holders or {}).items():
        p.mint(bond, p[name], units)
    return pay
