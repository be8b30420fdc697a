"""Coupons and principal, paid by the bond itself: ``bond.coupons`` and ``bond.redemption``.

The bond carries its payment schedule on chain (periods with a record time, a payment time, a
coupon and a principal per unit of face; the last period is the final redemption). Whoever holds
units at a period's record time is owed that period, exactly; the paying agent (or the issuer)
funds each period with exactly what it needs, and from the payment time on holders claim or the
paying agent pushes payments in batches. Withholding tax is taken at source by the holder's tax
category and stays in the bond until the paying agent remits it::

    coupons = bond.coupons
    coupons.schedule()                        # [PaymentPeriod(...), ...]
    coupons.funding(0)                        # FundingStatus(required=..., funded=..., ...)
    coupons.fund(paying_agent, 0)             # approves the settlement token, funds exactly
    report = coupons.pay(paying_agent)        # every holder owed something payable, in batches
    coupons.claim(holder)                     # one holder pulls everything payable
    bond.redemption.claim(holder)             # at maturity: principal + last coupon, units burned

**Periods are numbered from 1**, as the CLI, the payment reports and the term sheet's schedule
(:meth:`munibond.schedule.CouponSchedule.period`) number them: ``coupons.fund(agent, 1)`` funds
the first period. Every method that takes a period takes that number, or a
:class:`PaymentPeriod`; every value that names a period carries the number as ``period`` (or
``number``) and the contract's 0-based index as ``period_index`` (or ``index``). Only raw
contract data (event arguments, :meth:`Bond.events <munibond.bond.Bond.events>`, revert
arguments) carries the bare index.

Amounts are ``Decimal`` in the settlement currency at this API's edge (``Decimal("38")`` JPY)
and integers on chain. Every method checks before it sends (roles, amounts, what is payable) and
raises the decoded contract error, sending nothing, when the chain would refuse.

A batch payment is idempotent on chain: a holder already paid is skipped. If the node goes away in
the middle, :class:`PaymentInterrupted` says how far it got and the same call again pays the rest,
nobody twice.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract

from munibond._client import Progress, address_arg, check_chunk_size, chunks, signer_address
from munibond.contracts import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    PAYING_AGENT_ROLE,
    settlement_abi,
)
from munibond.errors import contract_error
from munibond.exceptions import (
    AmountError,
    ChainError,
    ConfigError,
    InvalidArgument,
    MissingRole,
    NodeUnreachable,
)
from munibond.units import amount_text, from_units, parse_decimal, to_units

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.types import EventData

    from munibond.bond import Bond
    from munibond.events import TxResult

__all__ = [
    "Coupons",
    "Entitlement",
    "FundingStatus",
    "PaymentInterrupted",
    "PaymentLine",
    "PaymentPeriod",
    "PaymentReport",
    "PaymentTerms",
    "PeriodPayments",
    "PeriodRef",
    "PeriodStatus",
    "Redemption",
    "TaxRates",
    "parse_percent",
    "percent_to_rate",
]

#: Withholding rates are integers in units of 0.001% on chain (20.315% = 20315).
#: the largest local rate the contract holds, in 0.001% (32.767%)
MAX_LOCAL_RATE: Final = 32_767
RATE_UNIT = Decimal("0.001")
#: The largest tax category the bond has rates for.
MAX_TAX_CATEGORY = 10

PeriodKind = Literal["coupon", "amortisation", "redemption"]
#: a line of a payment report: paid; failed (the payee stays owed); lapsed (the entitlement of a
#: period whose claim window closed, forfeited without payment)
LineStatus = Literal["paid", "failed", "lapsed"]


class PaymentInterrupted(ChainError):
    """A batch payment stopped part way (the node went away): ``report`` holds what was paid.

    Nothing is lost: the batches sent are final on chain, and running the same payment again
    skips everyone already paid."""

    def __init__(self, message: str, report: PaymentReport) -> None:
        super().__init__(message)
        self.report = report


# --- values ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentTerms:
    """How the bond pays: its settlement token and the integer scales of its schedule."""

    settlement_token: str
    settlement_decimals: int
    period_count: int
    periods_recorded: int
    divisor_exponent: int
    """A holding of u token units is worth u x per-unit / 10^divisor_exponent rounding units."""
    pay_exponent: int
    """Settlement-token units per rounding unit = 10^pay_exponent."""
    claim_window: int
    """Seconds after a payment time before unclaimed funds can go back to the issuer."""
    call_notice: int
    """Minimum seconds between an issuer call's announcement and its payment time."""
    token_decimals: int

    @property
    def rounding_exponent(self) -> int:
        """log10 of the rounding unit in the currency (0: 1 JPY)."""
        return self.pay_exponent - self.settlement_decimals

    @property
    def interest_decimals(self) -> int:
        """Decimals of the per-unit amounts (13 by Japanese convention)."""
        return self.divisor_exponent - self.token_decimals - self.rounding_exponent


@dataclass(frozen=True)
class PaymentPeriod:
    """One period of the on-chain schedule: ``number`` (1-based: what the SDK's methods take and
    the CLI shows) and ``index`` (the contract's, 0-based)."""

    index: int
    record_time: datetime
    payment_time: datetime
    coupon_per_unit: Decimal
    """Coupon per 1 unit of face (1 JPY), as the schedule truncated it."""
    principal_per_unit: Decimal
    coupon_per_unit_scaled: int
    principal_per_unit_scaled: int
    final: bool
    funded: bool
    swept: bool

    @property
    def number(self) -> int:
        """The period's number, 1-based: what the SDK's methods take and the CLI shows."""
        return self.index + 1

    @property
    def kind(self) -> PeriodKind:
        if self.final:
            return "redemption"
        return "amortisation" if self.principal_per_unit_scaled else "coupon"


#: A payment period as the SDK's methods take it: its number (1-based, as the CLI shows it) or a
#: :class:`PaymentPeriod`.
PeriodRef = int | PaymentPeriod


@dataclass(frozen=True)
class FundingStatus:
    """A period's funding in the settlement currency. ``period`` is the period's number
    (1-based)."""

    period: int
    required: Decimal
    funded: Decimal
    shortfall: Decimal
    payable: bool
    """Holders can be paid for it now (funded, payment time passed, not swept)."""
    required_units: int
    funded_units: int

    @property
    def shortfall_units(self) -> int:
        return max(self.required_units - self.funded_units, 0)

    @property
    def period_index(self) -> int:
        """The contract's 0-based index of the period."""
        return self.period - 1


@dataclass(frozen=True)
class PeriodPayments:
    """What a period has paid so far, in the settlement currency. ``period`` is the period's
    number (1-based)."""

    period: int
    coupon_gross: Decimal
    national_tax: Decimal
    local_tax: Decimal
    principal: Decimal
    tax_remitted: Decimal
    returned: Decimal

    @property
    def withheld(self) -> Decimal:
        return self.national_tax + self.local_tax

    @property
    def period_index(self) -> int:
        """The contract's 0-based index of the period."""
        return self.period - 1

    @property
    def net(self) -> Decimal:
        """Paid to holders: coupons net of tax, plus principal."""
        return self.coupon_gross - self.withheld + self.principal


@dataclass(frozen=True)
class PeriodStatus:
    """Everything about one period: its terms, its funding and what it has paid."""

    period: PaymentPeriod
    funding: FundingStatus
    paid: PeriodPayments


@dataclass(frozen=True)
class TaxRates:
    """A tax category's withholding rates, in percent (15.315 national + 5 local).

    ``is_set`` is False for a category the bond has no rates for: its holders (and holders the
    registry does not know) are withheld at the bond's highest rates (see
    ``highest_tax_rates``), never at 0%. Exemption is a category set to 0%."""

    category: int
    national: Decimal
    local: Decimal
    is_set: bool = True

    @property
    def total(self) -> Decimal:
        return self.national + self.local


@dataclass(frozen=True)
class Entitlement:
    """Units a holder held at a period's record time and has not been paid for yet, and what
    they pay: the coupon before and after withholding, as the contract will compute it.

    ``period`` is the period's number (1-based). ``tax_category`` is the holder's in the
    registry now (-1 for a wallet no longer registered) and ``national_tax`` / ``local_tax`` are
    at the rates the period pays that category at, or at the period's highest rates for a
    category without rates or an unregistered wallet (fixed once the period is payable; until
    then the current rates, which the admin may still change)."""

    holder: str
    period: int
    units: int
    gross: Decimal
    """The coupon before tax, floored as the contract floors it."""
    principal: Decimal
    status: Literal["payable", "not yet payable", "not funded", "lapsed"]
    national_tax: Decimal = Decimal(0)
    local_tax: Decimal = Decimal(0)
    tax_category: int = 0

    @property
    def tax(self) -> Decimal:
        """The withholding on the coupon (national + local part)."""
        return self.national_tax + self.local_tax

    @property
    def net(self) -> Decimal:
        """The coupon after withholding (without principal)."""
        return self.gross - self.tax

    @property
    def net_total(self) -> Decimal:
        """What the holder receives for the period: the net coupon plus the principal."""
        return self.net + self.principal

    @property
    def period_index(self) -> int:
        """The contract's 0-based index of the period."""
        return self.period - 1


@dataclass
class PaymentLine:
    """One payment to one holder for one period (a line of the payment report). ``period`` is
    the period's number (1-based); None on a failed line of a holder owed nothing any more."""

    holder: str
    period: int | None
    gross: Decimal
    national_tax: Decimal
    local_tax: Decimal
    net: Decimal
    principal: Decimal
    tx_hash: str
    status: LineStatus
    reason: str = ""

    @property
    def tax(self) -> Decimal:
        return self.national_tax + self.local_tax

    @property
    def period_index(self) -> int | None:
        """The contract's 0-based index of the period."""
        return None if self.period is None else self.period - 1


@dataclass
class PaymentReport:
    """What a claim or a batch payment did: one line per holder and period paid, one line per
    payee that failed (with the reason), and the transactions sent."""

    lines: list[PaymentLine] = field(default_factory=list)
    tx_hashes: list[str] = field(default_factory=list)
    gas_used: int = 0
    holders_asked: int = 0
    shortfalls: list[FundingStatus] = field(default_factory=list)
    """Periods due but not fully funded (their holders wait): the first signal of a default.
    A push puts each on chain once as a ``FundingShortfall`` event."""

    @property
    def paid(self) -> list[PaymentLine]:
        return [line for line in self.lines if line.status == "paid"]

    @property
    def failed(self) -> list[PaymentLine]:
        return [line for line in self.lines if line.status == "failed"]

    @property
    def holders_paid(self) -> set[str]:
        return {line.holder for line in self.paid}

    def total(self, what: Literal["gross", "tax", "net", "principal"]) -> Decimal:
        return sum((getattr(line, what) for line in self.paid), Decimal(0))

    def to_csv(self) -> str:
        """The report as CSV: holder, period, gross, national_tax, local_tax, tax, net,
        principal, tx_hash, status, reason (amounts in the settlement currency)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["holder", "period", "gross", "national_tax", "local_tax", "tax", "net",
                         "principal", "tx_hash", "status", "reason"])
        for line in self.lines:
            writer.writerow([line.holder, "" if line.period is None else line.period,
                             *(amount_text(v) for v in (line.gross, line.national_tax,
                                                        line.local_tax, line.tax, line.net,
                                                        line.principal)), line.tx_hash,
                             line.status, line.reason])
        return out.getvalue()

    def extend(self, other: PaymentReport) -> None:
        self.lines.extend(other.lines)
        self.tx_hashes.extend(other.tx_hashes)
        self.gas_used += other.gas_used
        self.holders_asked += other.holders_asked


# --- the client --------------------------------------------------------------------------------

def _time(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _without_percent(value: Decimal | str | int) -> Decimal | str | int:
    """A percentage's number: ``"15.315%"`` -> ``"15.315"`` (Decimals and ints as they are)."""
    if isinstance(value, str):
        text = value.strip()
        return text[:-1] if text.endswith("%") else text
    return value


def parse_percent(value: Decimal | str | int, what: str, *, positive: bool = False) -> Decimal:
    """A percentage (``"15.315%"``, ``"15.315"``) read by the one amount grammar."""
    try:
        return parse_decimal(_without_percent(value), what=f"{what} (percent)",
                             positive=positive)
    except AmountError as error:
        if "is not a number" in str(error):
            kind = "positive percentage" if positive else "percentage"
            raise AmountError(f"{what}: {value!r} is not a {kind} (e.g. 15.315%)") from None
        raise


def percent_to_rate(value: Decimal | str | int, what: str) -> int:
    """A withholding rate in percent (``"15.315"``) as the contract's integer (15315)."""
    percent = parse_percent(value, what)
    if percent > 100:
        raise AmountError(f"{what}: {value!r} must be between 0% and 100%")
    scaled = percent / RATE_UNIT
    if scaled != scaled.to_integral_value():
        raise AmountError(f"{what}: {value!r} is finer than {RATE_UNIT}%, the contract's unit")
    return int(scaled)


@dataclass(frozen=True)
class _Moment:
    """What a batch reads once: the payment terms, the schedule and the chain's time."""

    terms: PaymentTerms
    schedule: list[PaymentPeriod]
    now: int


class _Payments:
    """What coupons and redemption share: the schedule, amounts, funding and paying."""

    def __init__(self, bond: Bond) -> None:
        self.bond = bond
        self.chain = bond.chain

    # -- reading -----------------------------------------------------------------------------

    def _call(self, name: str, *args: Any) -> Any:
        return self.bond._call(name, *args)

    @functools.cached_property
    def _token(self) -> Contract:
        token, *_ = self._call("paymentTerms")
        if int(token, 16) == 0:
            raise InvalidArgument(f"bond {self.bond.code} has no payment schedule on chain: the "
                                  f"issuer sets it before issue (munibond deploy does)")
        return self.chain.w3.eth.contract(address=to_checksum_address(token),
                                          abi=list(settlement_abi()))

    @functools.cached_property
    def _settlement_decimals(self) -> int:
        return int(self._token.functions.decimals().call())

    def terms(self) -> PaymentTerms:
        """How the bond pays (settlement token, scales, claim window, call notice)."""
        token, count, recorded, div_exp, pay_exp, window, notice = self._call("paymentTerms")
        return PaymentTerms(
            settlement_token=to_checksum_address(token),
            settlement_decimals=self._settlement_decimals,
            period_count=int(count), periods_recorded=int(recorded),
            divisor_exponent=int(div_exp), pay_exponent=int(pay_exp),
            claim_window=int(window), call_notice=int(notice),
            token_decimals=self.bond.decimals)

    @functools.cached_property
    def _rounding_unit(self) -> Decimal:
        _, _, _, _, pay_exp, _, _ = self._call("paymentTerms")
        return Decimal(1).scaleb(int(pay_exp) - self._settlement_decimals)

    def money(self, settlement_units: int) -> Decimal:
        """Settlement-token units as an amount of the settlement currency, exact; shown to the
        rounding unit (``Decimal("3100")`` JPY) when it is a whole number of rounding units, as
        every payment is, else with the settlement token's decimals."""
        value = from_units(int(settlement_units), self._settlement_decimals)
        shown = value.quantize(self._rounding_unit)
        return shown if shown == value else value

    def settlement_units(self, amount: Decimal | str | int, what: str = "amount") -> int:
        """An amount of the settlement currency as settlement-token units (exact, else
        :class:`AmountError`)."""
        return to_units(amount, self._settlement_decimals, what=what)

    def schedule(self, *, terms: PaymentTerms | None = None) -> list[PaymentPeriod]:
        """Every period of the on-chain schedule, in order."""
        terms = terms or self.terms()
        return [self._period_at(i, terms) for i in range(terms.period_count)]

    def index_of(self, period: PeriodRef, *, terms: PaymentTerms | None = None) -> int:
        """The contract's 0-based index of ``period`` (a period number, 1-based, or a
        :class:`PaymentPeriod`); InvalidArgument when the bond has no such period."""
        if isinstance(period, PaymentPeriod):
            return period.index
        if isinstance(period, bool) or not isinstance(period, int):
            raise InvalidArgument(f"a period is its number (1, 2, ...) or a PaymentPeriod, not "
                                  f"{period!r}")
        terms = terms or self.terms()
        if not 1 <= period <= terms.period_count:
            hint = (" (periods are numbered from 1, as the CLI shows them; the contract's index "
                    "0 is period 1)" if period == 0 else "")
            raise InvalidArgument(f"bond {self.bond.code} has {terms.period_count} payment "
                                  f"period(s), numbered 1 to {terms.period_count}; there is no "
                                  f"period {period}{hint}")
        return period - 1

    def period(self, number: PeriodRef, *, terms: PaymentTerms | None = None) -> PaymentPeriod:
        """Period ``number`` (1-based, as the CLI shows it), read from the chain now."""
        terms = terms or self.terms()
        return self._period_at(self.index_of(number, terms=terms), terms)

    def _period_at(self, index: int, terms: PaymentTerms) -> PaymentPeriod:
        record, payment, coupon, principal, final, funded, swept = self._call("periodInfo", index)
        scale = terms.interest_decimals
        return PaymentPeriod(index=index, record_time=_time(int(record)),
                             payment_time=_time(int(payment)),
                             coupon_per_unit=from_units(int(coupon), scale),
                             principal_per_unit=from_units(int(principal), scale),
                             coupon_per_unit_scaled=int(coupon),
                             principal_per_unit_scaled=int(principal),
                             final=bool(final), funded=bool(funded), swept=bool(swept))

    def final_period(self) -> PaymentPeriod:
        terms = self.terms()
        return self._period_at(terms.period_count - 1, terms)

    def amounts(self, period: PaymentPeriod, units: int,
                terms: PaymentTerms | None = None) -> tuple[Decimal, Decimal]:
        """The gross coupon and the principal of ``units`` held at the period's record time,
        floored to the rounding unit exactly as the contract does, in the settlement currency."""
        terms = terms or self.terms()
        divisor = 10 ** terms.divisor_exponent
        unit = 10 ** terms.pay_exponent
        coupon = units * period.coupon_per_unit_scaled // divisor * unit
        principal = units * period.principal_per_unit_scaled // divisor * unit
        return self.money(coupon), self.money(principal)

    def funding(self, period: PeriodRef) -> FundingStatus:
        """A period's funding: what it needs, has and lacks, and whether it is payable now."""
        index = self.index_of(period)
        required, funded, shortfall, payable = self._call("fundingStatus", index)
        return FundingStatus(period=index + 1, required=self.money(required),
                             funded=self.money(funded), shortfall=self.money(shortfall),
                             payable=bool(payable), required_units=int(required),
                             funded_units=int(funded))

    def paid(self, period: PeriodRef) -> PeriodPayments:
        """What a period has paid so far."""
        index = self.index_of(period)
        gross, national, local, principal, remitted, returned = self._call("periodPayments",
                                                                           index)
        return PeriodPayments(period=index + 1, coupon_gross=self.money(gross),
                              national_tax=self.money(national), local_tax=self.money(local),
                              principal=self.money(principal), tax_remitted=self.money(remitted),
                              returned=self.money(returned))

    def status(self, period: PeriodRef) -> PeriodStatus:
        """A period's terms, funding and payments so far."""
        return PeriodStatus(period=self.period(period), funding=self.funding(period),
                            paid=self.paid(period))

    def holder_status(self, holder: str) -> list[Entitlement]:
        """What ``holder`` is owed and each period's status (as :meth:`entitlements`)."""
        return self.entitlements(holder)

    def _moment(self) -> _Moment:
        """The terms, the whole schedule and the chain's time, read once."""
        terms = self.terms()
        return _Moment(terms, self.schedule(terms=terms),
                       int(self.chain.w3.eth.get_block("latest")["timestamp"]))

    def entitlements(self, holder: str, *, at: _Moment | None = None) -> list[Entitlement]:
        """What ``holder`` is owed for periods whose record time passed, with each period's
        status (payable now, not yet, not funded, or lapsed after the claim window). ``at``:
        terms, schedule and time already read (a batch reads them once for every holder)."""
        who = address_arg(holder, "holder")
        periods, units = self._call("entitlementsOf", who)
        return self._entitlements(who, periods, units, at)

    def _entitlements(self, who: str, periods: Sequence[int], units: Sequence[int],
                      at: _Moment | None) -> list[Entitlement]:
        """:meth:`entitlements` from ``entitlementsOf``'s answer."""
        if not periods:
            return []
        at = at or self._moment()
        record = self.bond.registry.investor(who)
        # a wallet no longer registered: the contract withholds at the bond's highest rates
        category = record.tax_category if record is not None else -1
        out: list[Entitlement] = []
        for index, held in zip(periods, units, strict=True):
            p = at.schedule[int(index)]
            gross, principal = self.amounts(p, int(held), at.terms)
            status: Literal["payable", "not yet payable", "not funded", "lapsed"]
            if p.swept:
                status = "lapsed"
            elif at.now < p.payment_time.timestamp():
                status = "not yet payable"
            elif not p.funded:
                status = "not funded"
            else:
                status = "payable"
            national, local = self._withholding(p, int(held), category, at.terms)
            out.append(Entitlement(holder=who, period=p.number, units=int(held), gross=gross,
                                   principal=principal, status=status,
                                   national_tax=national, local_tax=local,
                                   tax_category=category))
        return out

    def owed_now(self, holder: str, *, at: _Moment | None = None) -> bool:
        """Whether a claim or push would pay ``holder`` something now (frozen wallets aside):
        periods are paid in order, so the first entitlement decides."""
        found = self.entitlements(holder, at=at)
        return bool(found) and found[0].status in ("payable", "lapsed")

    def _period_rates(self, period: PaymentPeriod, category: int) -> tuple[int, int]:
        """The rates (0.001%) the contract withholds a holder of ``category`` at for ``period``:
        the category's, or the highest the period has when the category has none or the holder
        is not registered (-1), as ``CouponPayments._ratesFor``."""
        if 0 <= category <= MAX_TAX_CATEGORY:
            national, local, is_set = self._call("periodTaxRates", period.index, category)
            if is_set:
                return int(national), int(local)
        best: tuple[int, int] | None = None
        for other in range(MAX_TAX_CATEGORY + 1):
            national, local, is_set = self._call("periodTaxRates", period.index, other)
            if is_set and (best is None or int(national) + int(local) > sum(best)):
                best = (int(national), int(local))
        if best is None:
            raise ConfigError(f"bond {self.bond.code} has no withholding rates for any tax "
                              f"category: its coupons are not paid until the admin sets them")
        return best

    def _withholding(self, period: PaymentPeriod, units: int, category: int,
                     terms: PaymentTerms) -> tuple[Decimal, Decimal]:
        """The national and local tax on the coupon of ``units`` held at the period's record
        time, as ``CouponPayments._payPeriodWord`` computes them: each part floored separately,
        in rounding units (coupon x rate / 100,000, the rate in 0.001%)."""
        divisor = 10 ** terms.divisor_exponent
        unit = 10 ** terms.pay_exponent
        coupon = units * period.coupon_per_unit_scaled // divisor  # rounding units
        if coupon == 0:
            return self.money(0), self.money(0)
        national, local = self._period_rates(period, category)
        scale = int(Decimal(100) / RATE_UNIT)  # 100% = 100,000
        return (self.money(coupon * int(national) // scale * unit),
                self.money(coupon * int(local) // scale * unit))

    # -- funding -----------------------------------------------------------------------------

    def _require_funder(self, account: str) -> None:
        if not (self.bond.has_role(PAYING_AGENT_ROLE, account)
                or self.bond.has_role(ISSUER_ROLE, account)):
            raise MissingRole("PAYING_AGENT_ROLE", account)

    def _fund(self, signer: LocalAccount, period: PeriodRef, amount: Decimal | str | int | None,
              token: str | None) -> list[TxResult]:
        funder = signer_address(signer)
        index = self.index_of(period)
        if token is not None and address_arg(token, "settlement token") != self._token.address:
            raise InvalidArgument(f"bond {self.bond.code} is paid in the settlement token "
                                  f"{self._token.address}, not {address_arg(token)}: fund it "
                                  f"with that token")
        status = self.funding(index + 1)
        needed = status.shortfall_units
        if needed == 0:
            raise contract_error("AlreadyFunded", index)
        if amount is not None:
            given = self.settlement_units(amount, what="funding amount")
            if given != needed:
                raise contract_error("WrongFundingAmount", index, needed, given)
        self._require_funder(funder)
        balance = int(self._token.functions.balanceOf(funder).call())
        if balance < needed:
            raise AmountError(f"{funder} holds {self.money(balance)} of the settlement token; "
                              f"period {index + 1} needs {self.money(needed)} more")
        receipts: list[TxResult] = []
        allowance = int(self._token.functions.allowance(funder, self.bond.address).call())
        if allowance < needed:
            receipts.append(self.bond._send(signer, self._token.functions.approve(
                self.bond.address, needed)))
        receipts.append(self.bond._transact(signer, "fund", index, needed))
        return receipts

    # -- paying ------------------------------------------------------------------------------

    def _lines(self, receipt: TxResult) -> list[PaymentLine]:
        """Payment lines from a receipt's CouponPaid, PrincipalPaid and PaymentFailed events."""
        tx = "0x" + bytes(receipt["transactionHash"]).hex()
        events = self.bond.contract.events
        by_key: dict[tuple[str, int], PaymentLine] = {}
        order: list[PaymentLine] = []
        zero = Decimal(0) * self.money(0)

        def line(holder: str, period: int) -> PaymentLine:
            key = (holder, period)
            if key not in by_key:
                by_key[key] = PaymentLine(holder=holder, period=period, gross=zero,
                                          national_tax=zero, local_tax=zero, net=zero,
                                          principal=zero, tx_hash=tx, status="paid")
                order.append(by_key[key])
            return by_key[key]

        for event in _decoded(events.CouponPaid(), receipt):
            a = event["args"]
            paid = line(str(a["holder"]), int(a["period"]) + 1)
            paid.gross = self.money(a["gross"])
            paid.national_tax = self.money(a["nationalTax"])
            paid.local_tax = self.money(a["localTax"])
            paid.net += self.money(a["net"])
        for event in _decoded(events.PrincipalPaid(), receipt):
            a = event["args"]
            paid = line(str(a["holder"]), int(a["period"]) + 1)
            paid.principal = self.money(a["amount"])
            paid.net += self.money(a["amount"])
        for event in _decoded(events.EntitlementForfeited(), receipt):
            a = event["args"]
            order.append(PaymentLine(holder=str(a["holder"]), period=int(a["period"]) + 1,
                                     gross=zero,
                                     national_tax=zero, local_tax=zero, net=zero, principal=zero,
                                     tx_hash=tx, status="lapsed",
                                     reason=f"{int(a['units'])} units held at the record time; "
                                            f"the claim window closed"))
        for event in _decoded(events.PaymentFailed(), receipt):
            a = event["args"]
            from munibond.errors import decode_revert

            reason = str(decode_revert(bytes(a["reason"])))
            order.append(PaymentLine(holder=str(a["holder"]), period=None, gross=zero,
                                     national_tax=zero, local_tax=zero, net=zero, principal=zero,
                                     tx_hash=tx, status="failed", reason=reason))
        return order

    def _claim(self, signer: LocalAccount, function: Literal["claim", "redeem"]) -> PaymentReport:
        receipt = self.bond._transact(signer, function)
        report = PaymentReport(lines=self._lines(receipt),
                               tx_hashes=["0x" + bytes(receipt["transactionHash"]).hex()],
                               gas_used=int(receipt["gasUsed"]), holders_asked=1)
        return report

    def _push(self, signer: LocalAccount, holders: Iterable[str] | None, *, chunk_size: int,
              progress: Progress | None, checking: Progress | None = None) -> PaymentReport:
        agent = signer_address(signer)
        if not self.bond.has_role(PAYING_AGENT_ROLE, agent):
            raise MissingRole("PAYING_AGENT_ROLE", agent)
        check_chunk_size(chunk_size)
        if holders is None:
            candidates = self.bond_holders_ever()
        else:
            candidates = []
            for i, wallet in enumerate(holders):
                who = address_arg(wallet, f"holders[{i}]")
                if who not in candidates:
                    candidates.append(who)
        # one read of the schedule, then entitlementsOf for every candidate, in JSON-RPC
        # batches: who is owed something payable (periods are paid in order: the first decides)
        at = self._moment()
        if checking is not None:
            checking(0, len(candidates))
        from munibond.chain import view_calls

        owed = self.chain.call_many(
            view_calls(self.bond.contract, "entitlementsOf", [(who,) for who in candidates]),
            progress=checking)
        due = []
        for who, (periods, units) in zip(candidates, owed, strict=True):
            found = self._entitlements(who, periods, units, at)
            if found and found[0].status in ("payable", "lapsed"):
                due.append(who)
        report = PaymentReport(shortfalls=self._report_shortfalls(signer, at.schedule, at.now))
        done = 0
        for chunk in chunks(due, chunk_size):
            try:
                receipt = self._pay_batch(signer, list(chunk))
            except NodeUnreachable as error:
                raise PaymentInterrupted(
                    f"the node went away after {done} of {len(due)} holders were paid "
                    f"({len(report.tx_hashes)} batch(es) final on chain): {error}. Nothing is "
                    f"lost: run the same payment again when the node is back; holders already "
                    f"paid are skipped", report) from error
            lines = self._lines(receipt)
            for line in lines:
                if line.status == "failed":  # still owed: the first period it waits for
                    owed = self.entitlements(line.holder, at=at)
                    line.period = owed[0].period if owed else None
            report.lines.extend(lines)
            report.tx_hashes.append("0x" + bytes(receipt["transactionHash"]).hex())
            report.gas_used += int(receipt["gasUsed"])
            report.holders_asked += len(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, len(due))
        return report

    def _report_shortfalls(self, signer: LocalAccount, schedule: Sequence[PaymentPeriod],
                           now: int) -> list[FundingStatus]:
        """Due periods that are not fully funded; each is put on chain (``reportShortfall``)
        the first time a push finds it."""
        found: list[FundingStatus] = []
        for period in schedule:
            if period.funded or period.swept or now < period.payment_time.timestamp():
                continue
            found.append(self.funding(period))
            from munibond.ledger import fetch_logs

            topic = keccak(text="FundingShortfall(uint256,uint256,uint256)")
            logs = fetch_logs(self.chain, self.bond.address, from_block=0,
                              to_block=self.chain.block_number(),
                              topics=[topic, period.index.to_bytes(32, "big")])
            if not logs:
                self.bond._transact(signer, "reportShortfall", period.index)
        return found

    def _pay_batch(self, signer: LocalAccount, holders: list[str]) -> TxResult:
        # a payee running out of gas reverts the whole batch (BatchOutOfGas), so the node's
        # gas estimate is enough for every payee
        return self.bond._transact(signer, "payBatch", holders)

    def bond_holders_ever(self) -> list[str]:
        """Every wallet that ever held units of the bond (from its Transfer events), in order of
        first receipt: the candidates a push pays."""
        from munibond.ledger import wallets_ever

        found: list[str] = wallets_ever(self.chain, self.bond.address)
        return found


def _decoded(event: Any, receipt: TxResult) -> Sequence[EventData]:
    from web3.logs import DISCARD

    return cast(Sequence["EventData"], event.process_receipt(receipt.receipt, errors=DISCARD))


class Coupons(_Payments):
    """The bond's coupons: ``bond.coupons``."""

    def fund(self, signer: LocalAccount, period: PeriodRef,
             amount: Decimal | str | int | None = None,
             *, token: str | None = None) -> list[TxResult]:
        """Fund ``period`` with exactly what it still needs (paying agent or issuer): approves
        the bond to take it from the signer's settlement tokens, then funds. ``amount``, when
        given, must be that amount (a wrong amount raises ``WrongFundingAmount`` before anything
        is sent); ``token``, when given, must be the bond's settlement token."""
        return self._fund(signer, period, amount, token)

    def report_shortfall(self, signer: LocalAccount, period: PeriodRef) -> TxResult:
        """Emit the on-chain ``FundingShortfall`` event for a period that is due and not fully
        funded (anyone may)."""
        return self.bond._transact(signer, "reportShortfall", self.index_of(period))

    def claim(self, signer: LocalAccount) -> PaymentReport:
        """The signer claims every payable period (coupons net of tax; principal where due; at
        the final period the redemption, burning the signer's units)."""
        return self._claim(signer, "claim")

    def pay(self, signer: LocalAccount, holders: Iterable[str] | None = None, *,
            chunk_size: int = 100, progress: Progress | None = None,
            checking: Progress | None = None) -> PaymentReport:
        """Pay holders everything payable (paying agent), ``chunk_size`` per transaction.

        ``holders`` defaults to every wallet that ever held units; only those owed something
        payable now are sent. Idempotent: a re-run pays nobody twice. A payee whose payment fails
        (a frozen wallet, a settlement token that refuses them) is a ``failed`` line of the
        report and stays owed. ``progress(done, total)`` counts holders paid;
        ``checking(done, total)`` the wallets checked first (what each is owed, read in
        JSON-RPC batches)."""
        return self._push(signer, holders, chunk_size=chunk_size, progress=progress,
                          checking=checking)

    # -- tax ---------------------------------------------------------------------------------

    def tax_rates(self, category: int, *, period: PeriodRef | None = None) -> TaxRates:
        """A tax category's withholding rates now, or those ``period`` pays at."""
        if not 0 <= category <= MAX_TAX_CATEGORY:
            raise InvalidArgument(f"tax category must be 0 to {MAX_TAX_CATEGORY}, got {category}")
        if period is None:
            national, local, is_set = self._call("taxRates", category)
        else:
            national, local, is_set = self._call("periodTaxRates", self.index_of(period),
                                                 category)
        return TaxRates(category=category, national=Decimal(int(national)) * RATE_UNIT,
                        local=Decimal(int(local)) * RATE_UNIT, is_set=bool(is_set))

    def highest_tax_rates(self) -> TaxRates | None:
        """The rates a holder is withheld at whose category has no rates, or whom the registry
        does not know: the bond's highest (``category`` is -1). None when no category has rates
        (such a coupon is not paid until the admin sets them)."""
        national, local, is_set = self._call("highestTaxRates")
        if not is_set:
            return None
        return TaxRates(category=-1, national=Decimal(int(national)) * RATE_UNIT,
                        local=Decimal(int(local)) * RATE_UNIT)

    def set_tax_rates(self, signer: LocalAccount, category: int, national: Decimal | str | int,
                      local: Decimal | str | int) -> TxResult:
        """Set a tax category's rates in percent (admin); periods already payable keep theirs."""
        if not 0 <= category <= MAX_TAX_CATEGORY:
            raise InvalidArgument(f"tax category must be 0 to {MAX_TAX_CATEGORY}, got {category}")
        n = percent_to_rate(national, "national rate")
        lo = percent_to_rate(local, "local rate")
        if n + lo > 100_000:
            raise AmountError(f"national {national}% + local {local}% exceed 100%")
        if lo > MAX_LOCAL_RATE:
            most = Decimal(MAX_LOCAL_RATE) * RATE_UNIT
            raise AmountError(f"local rate {local}% is above {most}%, the most the contract "
                              f"holds")
        self.bond.require_role(DEFAULT_ADMIN_ROLE, signer_address(signer))
        return self.bond._transact(signer, "setTaxRates", category, n, lo)

    def tax_account(self) -> str | None:
        account = str(self._call("taxAccount"))
        return None if int(account, 16) == 0 else to_checksum_address(account)

    def set_tax_account(self, signer: LocalAccount, account: str) -> TxResult:
        """Set where withheld tax is remitted (admin)."""
        who = address_arg(account, "tax account")
        self.bond.require_role(DEFAULT_ADMIN_ROLE, signer_address(signer))
        return self.bond._transact(signer, "setTaxAccount", who)

    def remit_tax(self, signer: LocalAccount, period: PeriodRef) -> TxResult:
        """Send the tax withheld for ``period`` and not yet remitted to the tax account (paying
        agent)."""
        self.bond.require_role(PAYING_AGENT_ROLE, signer_address(signer))
        return self.bond._transact(signer, "remitTax", self.index_of(period))

    def return_unclaimed(self, signer: LocalAccount, period: PeriodRef, to: str) -> TxResult:
        """After the claim window, return a period's unclaimed funds (dust and lapsed
        entitlements) to ``to`` (issuer); the period pays nothing more."""
        who = address_arg(to, "recipient")
        self.bond.require_role(ISSUER_ROLE, signer_address(signer))
        return self.bond._transact(signer, "returnUnclaimed", self.index_of(period), who)


class Redemption(_Payments):
    """The bond's principal: the final redemption (``bond.redemption``), amortisations and the
    issuer's call."""

    def funding_status(self) -> FundingStatus:
        """The final period's funding."""
        return self.funding(self.final_period())

    def fund(self, signer: LocalAccount, amount: Decimal | str | int | None = None, *,
             token: str | None = None) -> list[TxResult]:
        """Fund the final period (principal of every unit outstanding and the last coupon)."""
        return self._fund(signer, self.final_period(), amount, token)

    def claim(self, signer: LocalAccount) -> PaymentReport:
        """Redeem the signer's units: everything owed including the principal, units burned in
        the same transaction. Refused (``RedemptionNotDue``) before the final period is payable."""
        return self._claim(signer, "redeem")

    def pay(self, signer: LocalAccount, holders: Iterable[str] | None = None, *,
            chunk_size: int = 100, progress: Progress | None = None,
            checking: Progress | None = None) -> PaymentReport:
        """Redeem holders in batches (paying agent): as :meth:`Coupons.pay`, at the final period."""
        final = self.final_period()
        now = self.chain.w3.eth.get_block("latest")["timestamp"]
        if now < final.payment_time.timestamp():
            raise contract_error("NotYetPayable", final.index, int(final.payment_time.timestamp()))
        return self._push(signer, holders, chunk_size=chunk_size, progress=progress,
                          checking=checking)

    def closed(self) -> bool:
        """True once every unit is redeemed (no transfers, no mints; state stays readable): the
        bond then answers every transfer and mint with code 2, BOND_CLOSED, before any other."""
        return self.bond.check_mint(self.bond.address, 0).code == 2

    def call(self, signer: LocalAccount, period: PeriodRef,
             price_percent: Decimal | str | int) -> TxResult:
        """Announce the issuer's call (issuer): ``period`` becomes the final redemption at
        ``price_percent`` of the outstanding face; later periods are cancelled. Refused (as the
        contract refuses it) unless the bond's terms make it callable, the price is at least the
        call price of the terms, the payment time is on or after the first call date, and the
        call is announced at least the call notice before its payment time."""
        terms = self.terms()
        target = self.period(period, terms=terms)
        price = parse_percent(price_percent, "call price", positive=True)
        redemption_bps = int(self.bond.terms().redemption_price_bps)
        # the principal still scheduled from the called period on (amortisations and the
        # redemption) is the face outstanding before that payment x the redemption price, per
        # unit of original face (scaled): the call pays that face at the call price
        remaining = sum(p.principal_per_unit_scaled for p in self.schedule(terms=terms)
                        if p.index >= target.index)
        exact_fraction = Fraction(remaining * 10_000, redemption_bps) * Fraction(price) / 100
        if exact_fraction.denominator != 1:
            raise AmountError(f"call price {price}% of the outstanding face is finer than the "
                              f"schedule's {terms.interest_decimals} decimals")
        exact = exact_fraction.numerator
        self.bond.require_role(ISSUER_ROLE, signer_address(signer))
        _notice, first_call, call_ppm, _redemption = (int(v) for v in self._call("callTerms"))
        if call_ppm == 0:
            raise contract_error("NotCallable")
        now = self.chain.w3.eth.get_block("latest")["timestamp"]
        announce_by = target.payment_time.timestamp() - terms.call_notice
        if target.final or now > announce_by or now >= target.record_time.timestamp():
            raise contract_error("CallNoticeTooShort", target.index, max(int(announce_by), 0))
        payment_time = int(target.payment_time.timestamp())
        if payment_time < first_call:
            raise contract_error("CallBeforeFirstCallDate", target.index, payment_time, first_call)
        minimum = int(self._call("minCallPrincipal", target.index))
        if int(exact) < minimum:
            raise contract_error("CallPriceBelowTerms", int(exact), minimum)
        receipt = self.bond._transact(signer, "announceCall", target.index, int(exact))
        self.bond.__dict__.pop("_terms", None)  # the maturity moved: read the terms again
        return receipt
