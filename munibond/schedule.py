"""A bond's coupon schedule, computed from its term sheet by Japanese bond conventions.

``coupon_schedule(term_sheet)`` returns a :class:`CouponSchedule`: the coupon periods (accrual
dates, payment dates before and after business-day adjustment, record time, day count fraction,
interest per 1 unit of face) and the redemption. It is what the contracts will store and what
``munibond coupon schedule TERMSHEET`` shows before anything is deployed.

Conventions (docs/conventions.md; every one is a term sheet field, see
:class:`munibond.termsheet.Coupon`)
=================================================================================

Dates
    The regular coupon dates are ``12 / frequency`` months apart. Without ``first_payment_date``
    they are the maturity date stepped back by whole periods; the first coupon date is the first
    such date after the issue date (so the first period is regular or short, never long). With
    ``first_payment_date`` on that grid they are the same, from the given date on (its first
    period may then be long); with one off that grid they are that date stepped forward and the
    last coupon date is the maturity date (a short last period). A day of the month that a month
    lacks (31, or 29 and 30 in February) is that month's last day; every date is computed from
    the anchor date (maturity, or the first coupon date off the maturity's grid), so 31 August
    -> 28 February -> 31 August does not drift.

Accrual and payment
    A period accrues from its start date (the issue date, then the previous coupon date) to its
    unadjusted coupon date. A coupon date on a bank holiday is paid on another day by
    ``business_day`` (``preceding``: the previous business day, the rule of municipal and
    corporate bonds), **same amount, accrual dates unchanged**. The bank calendar ``JP`` closes on
    weekends, national holidays and 31 December to 3 January (:mod:`munibond.calendars`), plus the
    issuer's ``holidays``. The payment time is 00:00 of the adjusted payment date in ``timezone``.

Record time
    Holdings are recorded at ``record_time_of_day`` (15:00) in ``timezone`` (Asia/Tokyo) on the
    business day ``record_days_before`` (1) business days before the adjusted payment date.

Interest per 1 unit of face
    * regular period: exactly ``rate / frequency`` (0.620% semi-annual: 0.0031), whatever the
      number of days;
    * odd (short) first or last period: ``rate x days / 365`` with days counted "one end" (from
      the day after the start date through the end date, i.e. ``end - start``), by
      ``odd_period_day_count``; 365 also in leap years. A short period of 183 days in a 184-day
      half year therefore pays a little more than a regular coupon: that is the convention;
    * long first period (``first_payment_date`` more than one period after the issue date): one
      full regular coupon for the regular period that ends on the first coupon date, plus the stub
      from the issue date to that period's start prorated as an odd period:
      ``rate / frequency + rate x stub days / 365``, summed exactly and truncated once. This is the
      common Japanese practice but **a convention to confirm against each term sheet**; a first
      period of two regular periods or more is refused.

    The interest per 1 unit of face (1 JPY) is truncated after ``interest_decimals`` (13) decimal
    places. On chain it is stored as the integer ``interest_per_unit_scaled`` = that value x
    10^interest_decimals.

Holder's gross
    :func:`holder_gross`: the interest per 1 unit of face x the holder's **whole** face held at
    the record time, floored to ``rounding_unit`` (1 JPY), in integers. Compute it per holding,
    never per token or per bond summed: 12,345 JPY at 0.0031 is 38 JPY (38.2695 floored).

Principal (``bond.amortisation``, ``bond.redemption_price``)
    An amortising bond repays a percentage of the ORIGINAL face on some coupon dates before
    maturity (:attr:`CouponPeriod.principal_per_unit`), pro rata to every holder; holdings are
    not reduced (no tokens are burnt), so every amount stays per 1 unit of original face. A
    coupon accrues on the share of the face outstanding during its period:
    ``truncate(rate x day count fraction x outstanding, interest_decimals)``. At maturity the
    redemption pays the outstanding share x the redemption price. Every unit of face is repaid at
    the redemption price, and principal is exact (never truncated). :func:`holder_principal`
    floors a holding's principal to the rounding unit, like the coupon.

On chain
    :func:`onchain_schedule` gives the schedule as ``BondCoupons.setSchedule`` takes it: one
    period per coupon period (its amortisation as its principal), the last coupon and the
    redemption merged into the FINAL period, a zero-coupon bond one period; the contract pays a
    holding of ``u`` units ``floor(u x perUnit / 10^divisorExponent)`` rounding units, which is
    :func:`holder_gross` and :func:`holder_principal`. The withholding rates are
    :meth:`munibond.termsheet.TermSheet.withholding_rates`.
"""

from __future__ import annotations

import calendar as _months
import dataclasses
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Final, Literal
from zoneinfo import ZoneInfo

from munibond.calendars import BankCalendar, CalendarError
from munibond.exceptions import AmountError, TermSheetError
from munibond.termsheet import (
    CALL_NOTICE_DEFAULT,
    CLAIM_WINDOW_DEFAULT,
    Duration,
    TermSheet,
)
from munibond.units import from_units

__all__ = [
    "DAY_COUNT_BASIS",
    "MAX_EXPONENT",
    "MAX_ONCHAIN_PERIODS",
    "MAX_PERIODS",
    "UINT40_MAX",
    "UINT64_MAX",
    "CouponPeriod",
    "CouponSchedule",
    "OnChainPeriod",
    "OnChainSchedule",
    "PeriodKind",
    "Redemption",
    "add_months",
    "coupon_schedule",
    "holder_gross",
    "holder_gross_amount",
    "holder_principal",
    "onchain_schedule",
    "truncate",
]

#: odd periods count actual days over this many days a year (also in leap years)
DAY_COUNT_BASIS: Final = 365
#: at most this many coupon periods (100 years of monthly coupons)
MAX_PERIODS: Final = 1200

PeriodKind = Literal["regular", "short first", "long first", "short last"]

_FIELD = "bond.coupon"


def _error(field: str, message: str) -> TermSheetError:
    return TermSheetError(f"{_FIELD}.{field}" if field else _FIELD, message)


# --- values ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CouponPeriod:
    """One coupon period. Dates are calendar dates; times are aware datetimes in the schedule's
    time zone. Amounts are per 1 unit of face of the bond's currency (1 JPY)."""

    index: int
    """1, 2, ... in payment order."""
    kind: PeriodKind
    accrual_start: date
    """The issue date, then the previous (unadjusted) coupon date."""
    accrual_end: date
    """The (unadjusted) coupon date: the next period accrues from here."""
    payment_date_unadjusted: date
    payment_date: date
    """The date the coupon is paid: the coupon date moved by the business-day convention."""
    payment_time: datetime
    """00:00 of ``payment_date`` in the schedule's time zone: payable from this instant."""
    record_time: datetime
    """Holdings at this instant are entitled to the coupon."""
    days: int
    """Actual days from ``accrual_start`` to ``accrual_end`` (one end counted)."""
    day_count_fraction: Fraction
    """What the annual rate is multiplied by: ``1/frequency`` for a regular period,
    ``days/365`` for an odd one, ``1/frequency + stub days/365`` for a long first period."""
    prorated_days: int | None
    """The days counted for the part prorated over 365: the whole period for a short one, the
    stub for a long first period (the day count's "one end" or "both ends"); None when
    regular."""
    interest_exact: Fraction
    """``rate x day_count_fraction``, exact (before truncation)."""
    interest_per_unit: Decimal
    """Interest per 1 unit of face, truncated after ``interest_decimals`` decimals."""
    interest_per_unit_scaled: int
    """``interest_per_unit x 10^interest_decimals``: the integer stored on chain."""
    interest_decimals: int
    rounding_unit: Decimal
    """A holder's gross is floored to a multiple of this (1 JPY)."""
    interest_per_denomination: Decimal
    """The gross of one bond (the denomination), floored to the rounding unit (for display)."""
    outstanding: Fraction = Fraction(1)
    """The share of the original face outstanding during the period, on which it accrues (1
    before any amortisation). The interest above is per 1 unit of ORIGINAL face:
    ``truncate(rate x day_count_fraction x outstanding, interest_decimals)``."""
    principal_percent: Decimal = Decimal(0)
    """Percent of the original face repaid (amortised) at this period's payment; 0 when none.
    The final redemption is not here but in :attr:`CouponSchedule.redemption`."""
    principal_per_unit: Decimal = Decimal(0)
    """Principal paid per 1 unit of original face at this payment: ``principal_percent / 100 x
    redemption price / 100``, exact."""
    principal_per_unit_scaled: int = 0
    """``principal_per_unit x 10^interest_decimals``: the integer stored on chain."""
    principal_per_denomination: Decimal = Decimal(0)
    """The principal paid for one bond of the original denomination, floored to the rounding
    unit."""

    @property
    def amortises(self) -> bool:
        """Principal is repaid at this period's payment (before maturity)."""
        return self.principal_percent > 0

    @property
    def outstanding_after(self) -> Fraction:
        """The share of the original face outstanding after this period's payment."""
        return self.outstanding - Fraction(self.principal_percent) / 100

    @property
    def is_odd(self) -> bool:
        """A short first or last period, or a long first period (not ``rate / frequency``)."""
        return self.kind != "regular"

    @property
    def moved(self) -> bool:
        """The payment date differs from the coupon date (a bank holiday)."""
        return self.payment_date != self.payment_date_unadjusted

    @property
    def record_timestamp(self) -> int:
        """The record time in unix seconds."""
        return int(self.record_time.timestamp())

    @property
    def payment_timestamp(self) -> int:
        """The payment time in unix seconds."""
        return int(self.payment_time.timestamp())

    @property
    def coupon_percent(self) -> Decimal:
        """The coupon of the period in percent of face: ``interest_per_unit x 100`` (exact)."""
        sign, digits, exponent = self.interest_per_unit.as_tuple()
        assert isinstance(exponent, int)
        return Decimal((sign, digits, exponent + 2))

    def gross(self, units_held: int, decimals: int) -> Decimal:
        """A holding's gross for this period as an amount of the currency (see
        :func:`holder_gross_amount`)."""
        return holder_gross_amount(units_held, self, decimals)


@dataclass(frozen=True)
class Redemption:
    """Principal repaid at maturity: amounts per 1 unit of face and per bond."""

    maturity_date: date
    payment_date: date
    """The maturity date moved by the business-day convention."""
    payment_time: datetime
    record_time: datetime
    price_percent: Decimal
    """Redemption price in percent of face (100: at par)."""
    amount_per_unit: Decimal
    """Principal per 1 unit of ORIGINAL face: ``outstanding x price_percent / 100`` (1 at par
    without amortisation), exact."""
    amount_per_denomination: Decimal
    """Principal of one bond of the original denomination, floored to the rounding unit."""
    outstanding: Fraction = Fraction(1)
    """The share of the original face still outstanding at maturity (1 for a bullet bond)."""
    amount_per_unit_scaled: int = 0
    """``amount_per_unit x 10^interest_decimals``: the integer stored on chain."""
    interest_decimals: int = 13
    rounding_unit: Decimal = Decimal(1)
    """A holder's principal is floored to a multiple of this, like the coupon."""

    @property
    def moved(self) -> bool:
        return self.payment_date != self.maturity_date

    @property
    def record_timestamp(self) -> int:
        return int(self.record_time.timestamp())

    @property
    def payment_timestamp(self) -> int:
        return int(self.payment_time.timestamp())


@dataclass(frozen=True)
class CouponSchedule:
    """A bond's coupon periods (none for a zero-coupon bond) and its redemption."""

    code: str
    currency: str
    decimals: int
    """Token decimals: holdings are in units of 10^-decimals of face."""
    denomination: Decimal
    issue_date: date
    maturity_date: date
    rate: Decimal
    frequency: int
    periods: tuple[CouponPeriod, ...]
    redemption: Redemption
    payment_day: int | None
    """Day of the month of the regular coupon dates (a shorter month: its last day)."""
    payment_months: tuple[int, ...]
    """Months of the regular coupon dates, 1 to 12, in calendar order."""
    business_day: str
    calendar: BankCalendar
    timezone: str
    record_days_before: int
    record_time_of_day: time
    odd_period_day_count: str
    interest_decimals: int
    rounding_unit: Decimal
    redemption_price: Decimal = Decimal(100)
    """Percent of face paid for every unit of face repaid (amortisation and maturity)."""
    call_price: Decimal = Decimal(100)
    """Percent of the outstanding face paid when the issuer calls the bond."""
    claim_window: Duration = CLAIM_WINDOW_DEFAULT
    """How long after each payment date holders can claim (``payments.claim_window``)."""
    call_notice: Duration = CALL_NOTICE_DEFAULT
    """Minimum notice of a call before the payment date called (``payments.call_notice``)."""
    callable: bool = True
    """Whether the issuer may call the bond (``payments.callable``)."""
    first_call_date: date | None = None
    """The earliest payment date a call may take effect at (``payments.first_call_date``)."""

    def __len__(self) -> int:
        return len(self.periods)

    def period(self, index: int) -> CouponPeriod:
        """Period ``index`` (1-based)."""
        if not 1 <= index <= len(self.periods):
            raise IndexError(f"{self.code} has {len(self.periods)} coupon period(s); there is no "
                             f"period {index}")
        return self.periods[index - 1]

    @property
    def total_interest_per_unit(self) -> Decimal:
        """The sum of every period's interest per 1 unit of face (as truncated)."""
        return from_units(sum(p.interest_per_unit_scaled for p in self.periods),
                          self.interest_decimals)

    @property
    def total_interest_per_denomination(self) -> Decimal:
        """The sum of every period's gross of one bond (each floored)."""
        return sum((p.interest_per_denomination for p in self.periods), Decimal(0))

    def holder_total(self, units_held: int) -> Decimal:
        """The gross of all coupons for a holding kept through the whole life of the bond."""
        return sum((p.gross(units_held, self.decimals) for p in self.periods), Decimal(0))

    @property
    def amortisations(self) -> tuple[CouponPeriod, ...]:
        """The periods whose payment repays part of the principal (before maturity)."""
        return tuple(p for p in self.periods if p.amortises)

    @property
    def total_principal_per_unit(self) -> Decimal:
        """Principal paid per 1 unit of original face over the bond's life (amortisations and
        the redemption): the redemption price / 100."""
        return sum((p.principal_per_unit for p in self.periods),
                   self.redemption.amount_per_unit)

    def call_principal_per_unit_scaled(self, index: int) -> int:
        """What a call of coupon period ``index`` (1-based) pays per 1 unit of ORIGINAL face, x
        10^interest_decimals (``announceCall(index - 1, this)``): the face outstanding before
        that payment at the call price, truncated."""
        period = self.period(index)
        return truncate(period.outstanding * Fraction(self.call_price) / 100,
                        self.interest_decimals)


# --- arithmetic ------------------------------------------------------------------------------

def add_months(anchor: date, months: int) -> date:
    """``anchor`` moved by ``months`` calendar months; a day the month lacks becomes its last
    day (``add_months(date(2027, 8, 31), -6)`` is 2027-02-28)."""
    total = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"{anchor} moved by {months} months is outside the calendar")
    last = _months.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor.day, last))


def truncate(value: Fraction, decimals: int) -> int:
    """``value x 10^decimals`` truncated towards zero, as an integer (``value`` >= 0)."""
    if value < 0:
        raise ValueError(f"cannot truncate a negative amount {value}")
    scaled = value * Fraction(10) ** decimals
    return scaled.numerator // scaled.denominator


def _unit_parts(unit: Decimal) -> tuple[int, int]:
    """``unit`` as ``(n, k)`` with ``unit == n / 10^k`` and ``k`` as small as possible."""
    exact = Fraction(unit)
    if exact <= 0:
        raise AmountError(f"the rounding unit must be positive, got {unit}")
    places = 0
    while (exact * 10**places).denominator != 1:
        places += 1
        if places > 36:
            raise AmountError(f"the rounding unit {unit} is not a decimal amount")
    return (exact * 10**places).numerator, places


def holder_gross(units_held: int, period: CouponPeriod, decimals: int, *,
                 out_decimals: int | None = None) -> int:
    """A holding's gross coupon for ``period``, exactly in integers.

    ``units_held`` is the holder's **whole** holding at the record time, in token base units
    (``decimals`` token decimals: face = ``units_held / 10^decimals``). The gross is
    ``face x interest_per_unit`` (the per-unit interest already truncated after
    ``interest_decimals`` decimals), floored to a multiple of the period's rounding unit.

    The result is an integer number of ``10^-out_decimals`` units of the currency;
    ``out_decimals`` defaults to the rounding unit's decimal places (0 for 1 JPY: yen; 2 for
    0.01 USD: cents). Pass the settlement token's decimals (JPYC: 18) to get the amount in its
    base units (still floored to the rounding unit, so a multiple of 10^18 for 1 JPY).

    In integers: ``count = units_held x interest_per_unit_scaled x 10^k //
    (10^(interest_decimals + decimals) x n)`` where ``rounding_unit = n / 10^k``; the gross is
    ``count x n x 10^(out_decimals - k)``. 10,000,000 JPY at 0.0031 -> 31,000 JPY.
    """
    return _floored(units_held, period.interest_per_unit_scaled, period.interest_decimals,
                    decimals, period.rounding_unit, out_decimals)


def holder_principal(units_held: int, payment: CouponPeriod | Redemption, decimals: int, *,
                     out_decimals: int | None = None) -> int:
    """A holding's principal at ``payment`` (an amortising coupon period or the redemption),
    exactly in integers, like :func:`holder_gross`: ``face x principal per unit`` floored to the
    rounding unit, in ``10^-out_decimals`` units of the currency. ``units_held`` is the holding
    at the record time in original face (amortisation burns no tokens)."""
    scaled = (payment.principal_per_unit_scaled if isinstance(payment, CouponPeriod)
              else payment.amount_per_unit_scaled)
    return _floored(units_held, scaled, payment.interest_decimals, decimals,
                    payment.rounding_unit, out_decimals)


def _floored(units_held: int, per_unit_scaled: int, interest_decimals: int, decimals: int,
             rounding_unit: Decimal, out_decimals: int | None) -> int:
    if isinstance(units_held, bool) or not isinstance(units_held, int) or units_held < 0:
        raise AmountError(f"units held must be a whole number of base units, zero or more, got "
                          f"{units_held!r}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 77:
        raise AmountError(f"decimals must be an integer from 0 to 77, got {decimals!r}")
    unit, places = _unit_parts(rounding_unit)
    out = places if out_decimals is None else out_decimals
    if out < places:
        raise AmountError(f"the rounding unit {rounding_unit} is finer than "
                          f"{out} decimal place(s); give out_decimals of at least {places}")
    count: int = (units_held * per_unit_scaled * 10**places) // (
        10 ** (interest_decimals + decimals) * unit)
    return count * unit * int(10 ** (out - places))


def holder_gross_amount(units_held: int, period: CouponPeriod, decimals: int) -> Decimal:
    """:func:`holder_gross` as an exact ``Decimal`` amount of the currency."""
    _, places = _unit_parts(period.rounding_unit)
    return from_units(holder_gross(units_held, period, decimals), places)


# --- the schedule ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Span:
    start: date
    end: date
    kind: PeriodKind
    regular_start: date
    """A long first period: where its regular part starts (the stub ends here)."""


def _spans(ts: TermSheet) -> tuple[list[_Span], date, int]:
    """The accrual periods, the anchor date of the regular coupon dates and their step."""
    bond, coupon = ts.bond, ts.bond.coupon
    issue, maturity = bond.issue_date, bond.maturity_date
    step = coupon.months_between_payments

    def grid(anchor: date, n: int) -> date:
        try:
            return add_months(anchor, n * step)
        except ValueError as error:
            raise _error("first_payment_date", str(error)) from None

    first = coupon.first_payment_date
    if first is None:
        anchor = maturity
        back = 0
        while grid(anchor, -(back + 1)) > issue:
            back += 1
            if back >= MAX_PERIODS:
                raise TermSheetError("bond.maturity_date", f"more than {MAX_PERIODS} coupon "
                                                           f"periods from {issue} to {maturity}")
        ends = [grid(anchor, n) for n in range(-back, 1)]
        first_index = -back
    else:
        if first <= issue:
            raise _error("first_payment_date", f"{first} must be after the issue date {issue}")
        if first > maturity:
            raise _error("first_payment_date", f"{first} is after the maturity date {maturity}: "
                                               f"the first coupon date must be on or before it")
        months = (maturity.year - first.year) * 12 + maturity.month - first.month
        if months % step == 0 and grid(maturity, -(months // step)) == first:
            # on the maturity's grid: anchor there, so that month ends stay month ends
            # (first coupon 28 February, maturity 31 August: every 31 August, not the 28th)
            anchor, first_index = maturity, -(months // step)
            if -first_index >= MAX_PERIODS:
                raise TermSheetError("bond.maturity_date", f"more than {MAX_PERIODS} coupon "
                                                           f"periods from {issue} to {maturity}")
            ends = [grid(anchor, n) for n in range(first_index, 1)]
        else:
            # off the maturity's grid: dates every period from the first, then a short last
            # period to maturity
            anchor, first_index = first, 0
            ends = []
            while (when := grid(anchor, len(ends))) < maturity:
                ends.append(when)
                if len(ends) >= MAX_PERIODS:
                    raise TermSheetError("bond.maturity_date",
                                         f"more than {MAX_PERIODS} coupon periods from {issue} "
                                         f"to {maturity}")
            ends.append(maturity)

    spans: list[_Span] = []
    regular_start = grid(anchor, first_index - 1)
    if issue == regular_start:
        kind: PeriodKind = "regular"
    elif issue > regular_start:
        kind = "short first"
    else:
        kind = "long first"
        if issue <= grid(anchor, first_index - 2):
            raise _error("first_payment_date",
                         f"the first period, {issue} to {ends[0]}, is two regular periods "
                         f"({step * 2} months) or longer; give an earlier first coupon date "
                         f"(such as {regular_start})")
    spans.append(_Span(issue, ends[0], kind, regular_start))
    for number, (start, end) in enumerate(itertools.pairwise(ends), start=1):
        on_grid = end == grid(anchor, first_index + number)
        spans.append(_Span(start, end, "regular" if on_grid else "short last", start))
    return spans, anchor, step


def _counted(start: date, end: date, day_count: str) -> int:
    days = (end - start).days
    return days + 1 if day_count == "actual/365 both ends" else days


def _period_fraction(span: _Span, frequency: int, day_count: str) -> tuple[Fraction, int | None]:
    if span.kind == "regular":
        return Fraction(1, frequency), None
    if span.kind == "long first":
        stub = _counted(span.start, span.regular_start, day_count)
        return Fraction(1, frequency) + Fraction(stub, DAY_COUNT_BASIS), stub
    counted = _counted(span.start, span.end, day_count)
    return Fraction(counted, DAY_COUNT_BASIS), counted


def _amount(count: int, rounding_unit: Decimal) -> Decimal:
    """An integer from :func:`_floored` (default ``out_decimals``) as an amount."""
    return from_units(count, _unit_parts(rounding_unit)[1])


def _exact_scaled(value: Fraction, decimals: int, field: str) -> int:
    """A principal per 1 unit of face x 10^decimals, which must be a whole number: principal
    is never truncated."""
    scaled: Fraction = value * Fraction(10) ** decimals
    if scaled.denominator != 1:
        raise TermSheetError(
            field, f"the principal it gives per 1 unit of face, about "
                   f"{Decimal(value.numerator) / Decimal(value.denominator):f}, is not a whole "
                   f"number of 10^-{decimals} (bond.coupon.interest_decimals): principal is "
                   f"never truncated; use a rounder percentage or more interest decimals")
    return scaled.numerator


def _amortisation_by_date(ts: TermSheet, coupon_dates: list[date]
                          ) -> dict[date, tuple[str, Decimal]]:
    """Each amortisation date -> (its field, its percent), checked to be a coupon date before
    maturity (the term sheet model checks the order, the range and the total)."""
    repaid: dict[date, tuple[str, Decimal]] = {}
    grid = set(coupon_dates)
    for number, part in enumerate(ts.bond.amortisation):
        field = f"bond.amortisation[{number}]"
        if part.date not in grid:
            before = max((day for day in coupon_dates if day < part.date), default=None)
            after = min((day for day in coupon_dates if day > part.date), default=None)
            near = " and ".join(str(day) for day in (before, after) if day is not None)
            hint = (f"; the nearest coupon dates before maturity are {near}" if near
                    else "; the bond has no coupon date before maturity")
            raise TermSheetError(f"{field}.date",
                                 f"{part.date} is not a coupon date (before business-day "
                                 f"adjustment): principal is repaid with a coupon{hint}")
        repaid[part.date] = (f"{field}.percent", part.percent)
    return repaid


def _utc_instant(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def coupon_schedule(ts: TermSheet) -> CouponSchedule:
    """The coupon schedule and redemption of the bond ``ts`` describes (see the module
    docstring for the conventions).

    Raises :class:`~munibond.exceptions.TermSheetError` naming the field to change when the
    schedule is malformed: a first coupon date not after the issue date or after maturity, a
    first period of two regular periods or more, payment dates that the business-day convention
    moves onto or before one another (or before the issue date), a record time that is not
    before its payment time or not after the previous payment, or dates outside the bank
    calendar's years.
    """
    bond, coupon = ts.bond, ts.bond.coupon
    zone = ZoneInfo(coupon.timezone)
    calendar = BankCalendar(coupon.calendar, coupon.holidays)
    decimals = coupon.interest_decimals
    rate = Fraction(coupon.rate)
    denomination_units = bond.denomination_units

    def adjust(day: date) -> date:
        try:
            return calendar.adjust(day, coupon.business_day)
        except CalendarError as error:
            raise _error(error.setting, str(error)) from None

    def record(payment: date) -> datetime:
        try:
            day = calendar.business_days_before(payment, coupon.record_days_before)
        except CalendarError as error:
            raise _error(error.setting, str(error)) from None
        return datetime.combine(day, coupon.record_time_of_day, tzinfo=zone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone)

    price = Fraction(bond.redemption_price) / 100
    periods: list[CouponPeriod] = []
    payment_day: int | None = None
    payment_months: tuple[int, ...] = ()
    outstanding = Fraction(1)
    if coupon.frequency:
        spans, anchor, step = _spans(ts)
        payment_day = anchor.day
        payment_months = tuple(sorted({add_months(anchor, n * step).month
                                       for n in range(coupon.frequency)}))
        repaid = _amortisation_by_date(ts, [span.end for span in spans[:-1]])
        for index, span in enumerate(spans, start=1):
            fraction, prorated = _period_fraction(span, coupon.frequency,
                                                  coupon.odd_period_day_count)
            exact = rate * fraction * outstanding
            scaled = truncate(exact, decimals)
            paid = adjust(span.end)
            field, percent = repaid.get(span.end, ("", Decimal(0)))
            principal = _exact_scaled(Fraction(percent) / 100 * price, decimals, field)
            draft = CouponPeriod(
                index=index, kind=span.kind, accrual_start=span.start, accrual_end=span.end,
                payment_date_unadjusted=span.end, payment_date=paid, payment_time=midnight(paid),
                record_time=record(paid), days=(span.end - span.start).days,
                day_count_fraction=fraction, prorated_days=prorated, interest_exact=exact,
                interest_per_unit=from_units(scaled, decimals), interest_per_unit_scaled=scaled,
                interest_decimals=decimals, rounding_unit=coupon.rounding_unit,
                interest_per_denomination=Decimal(0), outstanding=outstanding,
                principal_percent=percent, principal_per_unit=from_units(principal, decimals),
                principal_per_unit_scaled=principal)
            per_bond = holder_gross_amount(denomination_units, draft, bond.decimals)
            principal_per_bond = _amount(holder_principal(denomination_units, draft,
                                                          bond.decimals), coupon.rounding_unit)
            periods.append(dataclasses.replace(draft, interest_per_denomination=per_bond,
                                               principal_per_denomination=principal_per_bond))
            outstanding = draft.outstanding_after

    redeemed = adjust(bond.maturity_date)
    final = _exact_scaled(outstanding * price, decimals, "bond.redemption_price")
    draft_redemption = Redemption(
        maturity_date=bond.maturity_date, payment_date=redeemed, payment_time=midnight(redeemed),
        record_time=record(redeemed), price_percent=bond.redemption_price,
        amount_per_unit=from_units(final, decimals),
        amount_per_denomination=Decimal(0), outstanding=outstanding,
        amount_per_unit_scaled=final, interest_decimals=decimals,
        rounding_unit=coupon.rounding_unit)
    redemption = dataclasses.replace(draft_redemption, amount_per_denomination=_amount(
        holder_principal(denomination_units, draft_redemption, bond.decimals),
        coupon.rounding_unit))

    schedule = CouponSchedule(
        code=bond.code, currency=bond.currency, decimals=bond.decimals,
        denomination=bond.denomination, issue_date=bond.issue_date,
        maturity_date=bond.maturity_date, rate=coupon.rate, frequency=coupon.frequency,
        periods=tuple(periods), redemption=redemption, payment_day=payment_day,
        payment_months=payment_months, business_day=coupon.business_day, calendar=calendar,
        timezone=coupon.timezone, record_days_before=coupon.record_days_before,
        record_time_of_day=coupon.record_time_of_day,
        odd_period_day_count=coupon.odd_period_day_count, interest_decimals=decimals,
        rounding_unit=coupon.rounding_unit, redemption_price=bond.redemption_price,
        call_price=ts.call_price, claim_window=ts.payments.claim_window,
        call_notice=ts.payments.call_notice, callable=ts.payments.callable,
        first_call_date=ts.payments.first_call_date)
    _check(schedule, issued=_utc_instant(bond.issue_date))
    check_period_totals(schedule, bond.issue_size_units)
    return schedule


#: The largest coupon or principal a period can pay in all, in rounding units: the contract keeps
#: each period's paid totals (coupon, national tax, local tax, principal) in 64-bit lanes and
#: refuses a schedule whose totals over the whole issue could pass them (``PeriodTotalTooLarge``).
MAX_PERIOD_TOTAL: Final = 2**64 - 1
#: The largest amount a period may need, in settlement-token base units (a 128-bit lane).
MAX_PERIOD_FUNDING: Final = 2**128 - 1


def _period_totals(schedule: CouponSchedule) -> list[tuple[str, Fraction, Fraction]]:
    """Per payment: (label, coupon per 1 unit of face, principal per 1 unit of face), the call
    of each period at the call price included."""
    scale = Fraction(10**schedule.interest_decimals)
    rows: list[tuple[str, Fraction, Fraction]] = []
    r = schedule.redemption
    for p in schedule.periods:
        final = p is schedule.periods[-1]
        principal = r.amount_per_unit_scaled if final else p.principal_per_unit_scaled
        rows.append((f"period {p.index}", p.interest_per_unit_scaled / scale, principal / scale))
        if not final:
            rows.append((f"a call of period {p.index}", p.interest_per_unit_scaled / scale,
                         schedule.call_principal_per_unit_scaled(p.index) / scale))
    if not schedule.periods:
        rows.append(("the redemption", Fraction(0), r.amount_per_unit_scaled / scale))
    return rows


def check_period_totals(schedule: CouponSchedule, issue_units: int, *,
                        settlement_decimals: int | None = None) -> None:
    """Refuse a schedule whose coupon or principal over the whole issue could exceed what the
    contract accounts for per period (:data:`MAX_PERIOD_TOTAL` rounding units; with
    ``settlement_decimals``, also :data:`MAX_PERIOD_FUNDING` settlement-token units), naming the
    largest issue size the rounding unit allows. Such a bond would lock its last holders'
    payments, so the contract refuses it too."""
    face = Fraction(issue_units, 10**schedule.decimals)
    unit = Fraction(schedule.rounding_unit)
    limit = Fraction(MAX_PERIOD_TOTAL)
    if settlement_decimals is not None:
        pay_unit = unit * 10**settlement_decimals  # settlement base units per rounding unit
        limit = min(limit, Fraction(MAX_PERIOD_FUNDING) / pay_unit / 2)
    for label, coupon, principal in _period_totals(schedule):
        per_unit = max(coupon, principal)
        if per_unit == 0 or face * per_unit / unit <= limit:
            continue
        largest = (limit * unit / per_unit)
        step = Fraction(schedule.denomination)
        largest_size = Decimal(int(largest // step) * int(step)) if step >= 1 else \
            Decimal(largest.numerator) / Decimal(largest.denominator)
        raise TermSheetError(
            "bond.issue_size",
            f"{label} would pay more than the contract can account for: "
            f"{int(face * per_unit / unit):,} rounding units of {schedule.rounding_unit} "
            f"{schedule.currency}, above {int(limit):,}. With a rounding unit of "
            f"{schedule.rounding_unit} {schedule.currency} the issue size can be at most "
            f"{largest_size:,} {schedule.currency}: issue less, or use a coarser "
            f"bond.coupon.rounding_unit")


def _check(schedule: CouponSchedule, *, issued: datetime) -> None:
    """The rules the contract will check too: payment and record times strictly increasing,
    every record before its payment and after the issue and the previous payment, every payment
    at or before the redemption."""
    record_field = ("record_days_before" if schedule.record_days_before == 0
                    else "record_time_of_day")
    events: list[tuple[str, date, datetime, datetime]] = [
        (f"period {p.index}", p.payment_date_unadjusted, p.record_time, p.payment_time)
        for p in schedule.periods]
    r = schedule.redemption
    if not schedule.periods:
        events.append(("the redemption", r.maturity_date, r.record_time, r.payment_time))
    previous_payment: datetime | None = None
    previous_name = "the issue"
    for number, (name, unadjusted, record_time, payment_time) in enumerate(events):
        shown = f"{payment_time.date()}" + (f" (moved from {unadjusted})"
                                            if payment_time.date() != unadjusted else "")
        if payment_time.date() <= issued.date():
            raise _error("first_payment_date" if number == 0 else "business_day",
                         f"{name} is paid on {shown}, not after the issue date "
                         f"{issued.date()}")
        if previous_payment is not None and payment_time <= previous_payment:
            raise _error("business_day",
                         f"{name} is paid on {shown}, not after {previous_name} on "
                         f"{previous_payment.date()}: the business-day convention "
                         f"{schedule.business_day!r} and the bank holidays move two payments "
                         f"onto one day; use another convention or check the holidays")
        if record_time >= payment_time:
            raise _error(record_field,
                         f"the record time of {name}, {record_time.isoformat()}, is not before "
                         f"its payment time {payment_time.isoformat()}: record at least one "
                         f"business day before payment (record_days_before: 1) or at an "
                         f"earlier record_time_of_day")
        floor = issued if previous_payment is None else previous_payment
        if record_time <= floor:
            raise _error("record_days_before",
                         f"the record time of {name}, {record_time.isoformat()}, is not after "
                         f"{previous_name} ({floor.isoformat()}): record fewer business days "
                         f"before payment")
        previous_payment, previous_name = payment_time, f"{name}'s payment"
    # by construction the last coupon is paid with the redemption, and nothing after it
    for p in schedule.periods:
        if p.payment_date_unadjusted > r.maturity_date or p.payment_time > r.payment_time:
            raise _error("first_payment_date", f"period {p.index} is paid on {p.payment_date}, "
                                               f"after the redemption on {r.payment_date}")
    if schedule.periods and schedule.periods[-1].payment_time != r.payment_time:
        raise _error("first_payment_date", "the last coupon is not paid with the redemption")


# --- on chain --------------------------------------------------------------------------------

#: ``setSchedule`` takes 1 to this many periods.
MAX_ONCHAIN_PERIODS: Final = 255
#: The contract's largest divisor and pay exponent.
MAX_EXPONENT: Final = 77
UINT40_MAX: Final = 2**40 - 1
UINT64_MAX: Final = 2**64 - 1

_DAY_SECONDS: Final = 86_400


@dataclass(frozen=True)
class OnChainPeriod:
    """One period as ``BondCoupons.setSchedule`` takes it (``PeriodTerms``). Amounts are per 1
    unit of ORIGINAL face x 10^interest_decimals."""

    record_time: int
    """Unix seconds: the holders at this instant are paid for the period."""
    payment_time: int
    """Unix seconds: payable from this instant."""
    coupon_per_unit: int
    principal_per_unit: int
    """Amortisation before maturity; the redemption in the last (FINAL) period."""
    label: str
    """What the period pays, for people: "coupon 3", "coupon 5 + amortisation 20%",
    "coupon 10 + redemption", "redemption"."""

    def as_tuple(self) -> tuple[int, int, int, int]:
        """``(recordTime, paymentTime, couponPerUnit, principalPerUnit)``."""
        return (self.record_time, self.payment_time, self.coupon_per_unit,
                self.principal_per_unit)


@dataclass(frozen=True)
class OnChainSchedule:
    """A bond's payment schedule as the contract stores it (see :func:`onchain_schedule`).

    A holding of ``u`` token base units is paid, per period, ``floor(u x coupon_per_unit /
    10^divisor_exponent)`` and ``floor(u x principal_per_unit / 10^divisor_exponent)`` rounding
    units, each of ``10^pay_exponent`` settlement-token base units."""

    periods: tuple[OnChainPeriod, ...]
    divisor_exponent: int
    """Token decimals + interest decimals + log10(rounding unit)."""
    pay_exponent: int
    """Settlement-token decimals + log10(rounding unit): one rounding unit in token units."""
    claim_window: int
    """Seconds after each payment time before the issuer may take back what is unclaimed."""
    call_notice: int
    """Seconds: a call must be announced at least this long before the payment time called."""
    call_price_ppm: int = 0
    """The call price in millionths of the outstanding face (0: the bond cannot be called)."""
    redemption_price_ppm: int = 1_000_000
    """The redemption price in millionths of face (what the principal of the schedule is at)."""
    first_call_time: int = 0
    """The earliest payment time a call may take effect at (0: any)."""
    call_principals: tuple[int, ...] = ()
    """Per period: the ``principalPerUnit`` of ``announceCall(period, ...)`` (the face
    outstanding before that payment at the call price); 0 for the FINAL period, which cannot be
    called."""

    def __len__(self) -> int:
        return len(self.periods)

    @property
    def call_terms(self) -> tuple[int, int, int, int]:
        """The ``CallTerms`` of ``setSchedule``: (notice, first call time, call price, redemption
        price), prices in millionths."""
        return (self.call_notice, self.first_call_time, self.call_price_ppm,
                self.redemption_price_ppm)

    def as_args(self, token: str) -> tuple[list[tuple[int, int, int, int]], str, int, int, int,
                                           tuple[int, int, int, int]]:
        """The arguments of ``setSchedule(PeriodTerms[] periods, address settlementToken, uint8
        divisorExponent, uint8 payExponent, uint40 claimWindow, CallTerms callTerms)`` with
        ``token`` (checksummed here) as the settlement token."""
        from munibond.codes import CodeError, parse_address

        try:
            address = parse_address(token)
        except CodeError as error:
            raise AmountError(f"settlement token: {error}") from None
        return ([period.as_tuple() for period in self.periods], address, self.divisor_exponent,
                self.pay_exponent, self.claim_window, self.call_terms)

    def payment_of(self, units_held: int, period: int) -> tuple[int, int]:
        """``(coupon gross, principal)`` the contract pays a holding of ``units_held`` token base
        units for ``period`` (0-based), in settlement-token base units."""
        terms = self.periods[period]
        divisor, unit = 10**self.divisor_exponent, 10**self.pay_exponent
        return (units_held * terms.coupon_per_unit // divisor * unit,
                units_held * terms.principal_per_unit // divisor * unit)

    def required_funding(self, supply: int, period: int) -> int:
        """What ``requiredFunding(period)`` is for a supply of ``supply`` units at the record
        time, in settlement-token base units."""
        return sum(self.payment_of(supply, period))


def _span_seconds(duration: Duration, moments: list[datetime], *, backwards: bool) -> int:
    """``duration`` in seconds from (or, ``backwards``, before) each of ``moments`` (midnights
    in the schedule's time zone); the longest when in years. A span of years ends as in the
    Japanese Civil Code (art. 143): at the end of the day before the same date N years on, or
    of the month's last day when that month lacks the date (29 February)."""
    if duration.unit == "days":
        return duration.count * _DAY_SECONDS
    longest = 0
    for moment in moments:
        day = moment.date()
        other = add_months(day, (-12 if backwards else 12) * duration.count)
        if other.day != day.day:  # 29 February -> 28 February: the whole of that day counts
            other += timedelta(days=-1 if backwards else 1)
        edge = datetime.combine(other, time(0), tzinfo=moment.tzinfo)
        longest = max(longest, abs(int(edge.timestamp()) - int(moment.timestamp())))
    return longest


def onchain_schedule(schedule: CouponSchedule, *, settlement_decimals: int,
                     issue_units: int | None = None) -> OnChainSchedule:
    """The schedule as the contract takes it (``setSchedule``, see
    :meth:`OnChainSchedule.as_args`), paid in a settlement token of ``settlement_decimals``
    decimals (JPYC: 18).

    One on-chain period per coupon period, its amortisation (if any) as its principal; the last
    coupon period and the redemption at maturity are one FINAL period (same record and payment
    time). A zero-coupon bond has one period: no coupon, the redemption. Holdings on chain stay
    in ORIGINAL face: every amount is per 1 unit of original face x 10^interest_decimals.

    The claim window and the call notice are seconds: days are 86,400 seconds; years are counted
    from each payment date in the schedule's time zone (the longest of them, so that no payment's
    window is cut short by a leap day).

    Raises :class:`~munibond.exceptions.TermSheetError` naming the field when the contract could
    not take the schedule: a rounding unit that is not a power of ten or finer than one unit of
    the settlement token, exponents outside 0 to 77, more than 255 periods, amounts above uint64
    or times above uint40, or a last payment after the maturity the contract stores (00:00 UTC of
    the maturity date); :class:`~munibond.exceptions.AmountError` for a bad
    ``settlement_decimals``.
    """
    if isinstance(settlement_decimals, bool) or not isinstance(settlement_decimals, int) \
            or not 0 <= settlement_decimals <= MAX_EXPONENT:
        raise AmountError(f"settlement_decimals must be an integer from 0 to {MAX_EXPONENT}, "
                          f"got {settlement_decimals!r}")
    rounding = "bond.coupon.rounding_unit"
    unit, places = _unit_parts(schedule.rounding_unit)
    power = len(str(unit)) - 1
    if unit != 10**power:
        raise TermSheetError(rounding, f"{schedule.rounding_unit} is not a power of ten (such as "
                                       f"1, 10 or 0.01): the contract floors payments to 10^n "
                                       f"units of the settlement token")
    log_unit = power - places
    pay_exponent = settlement_decimals + log_unit
    divisor_exponent = schedule.decimals + schedule.interest_decimals + log_unit
    if pay_exponent < 0:
        raise TermSheetError(rounding, f"{schedule.rounding_unit} {schedule.currency} is finer "
                                       f"than one unit of the settlement token "
                                       f"({settlement_decimals} decimals)")
    if divisor_exponent < 0:
        raise TermSheetError(rounding, f"{schedule.rounding_unit} {schedule.currency} is finer "
                                       f"than the interest per unit of face "
                                       f"({schedule.interest_decimals} decimals) can express")
    if divisor_exponent > MAX_EXPONENT or pay_exponent > MAX_EXPONENT:
        raise TermSheetError(rounding, f"the divisor exponent {divisor_exponent} or the pay "
                                       f"exponent {pay_exponent} is above {MAX_EXPONENT}, the "
                                       f"contract's limit")

    r = schedule.redemption
    periods: list[OnChainPeriod] = []
    calls: list[int] = []
    for p in schedule.periods:
        final = p is schedule.periods[-1]
        if final and (p.record_time != r.record_time or p.payment_time != r.payment_time):
            raise TermSheetError("bond.coupon", "the last coupon is not recorded and paid with "
                                                "the redemption")
        principal = r.amount_per_unit_scaled if final else p.principal_per_unit_scaled
        label = f"coupon {p.index}"
        if p.amortises:
            label += f" + amortisation {_percent_text(p.principal_percent)}"
        if final:
            label += " + redemption"
        periods.append(OnChainPeriod(p.record_timestamp, p.payment_timestamp,
                                     p.interest_per_unit_scaled, principal, label))
        calls.append(0 if final else schedule.call_principal_per_unit_scaled(p.index))
    if not schedule.periods:
        periods.append(OnChainPeriod(r.record_timestamp, r.payment_timestamp, 0,
                                     r.amount_per_unit_scaled, "redemption"))
        calls.append(0)

    if len(periods) > MAX_ONCHAIN_PERIODS:
        raise TermSheetError("bond.coupon.frequency",
                             f"{len(periods)} payment periods; the contract holds at most "
                             f"{MAX_ONCHAIN_PERIODS} (fewer payments a year or a shorter term)")
    for number, period in enumerate(periods):
        if max(period.record_time, period.payment_time) > UINT40_MAX:
            raise TermSheetError("bond.maturity_date", f"period {number} ({period.label}) is "
                                                       f"after the last time a uint40 holds")
        if max(period.coupon_per_unit, period.principal_per_unit, calls[number]) > UINT64_MAX:
            raise TermSheetError("bond.coupon.interest_decimals",
                                 f"period {number} ({period.label}) pays more per unit of face "
                                 f"than a uint64 holds at {schedule.interest_decimals} interest "
                                 f"decimals; use fewer")
    maturity = _utc_midnight(schedule.maturity_date)
    if periods[-1].payment_time > maturity:
        late_day = r.payment_date > schedule.maturity_date
        raise TermSheetError(
            "bond.coupon.business_day" if late_day else "bond.coupon.timezone",
            f"the redemption is paid at {r.payment_time.isoformat()}, after the maturity the "
            f"contract stores (00:00 UTC of {schedule.maturity_date}), which refuses a payment "
            f"after maturity; " + ("use the preceding business-day convention" if late_day else
                                   "use a time zone at or east of UTC"))

    payments = [p.payment_time for p in schedule.periods] or [r.payment_time]
    claim_window = _span_seconds(schedule.claim_window, payments, backwards=False)
    call_notice = _span_seconds(schedule.call_notice, payments, backwards=True)
    for name, seconds in (("claim_window", claim_window), ("call_notice", call_notice)):
        if seconds > UINT40_MAX:
            raise TermSheetError(f"payments.{name}", f"{seconds} seconds is more than a uint40 "
                                                     f"holds")
    if claim_window <= 0:
        raise TermSheetError("payments.claim_window", "the claim window must be positive")
    if issue_units is not None:
        check_period_totals(schedule, issue_units, settlement_decimals=settlement_decimals)
    call_ppm = _ppm(schedule.call_price, "payments.call_price") if schedule.callable else 0
    first_call = 0
    if schedule.first_call_date is not None:
        first_call = int(datetime.combine(schedule.first_call_date, time(0),
                                          ZoneInfo(schedule.timezone)).timestamp())
    return OnChainSchedule(periods=tuple(periods), divisor_exponent=divisor_exponent,
                           pay_exponent=pay_exponent, claim_window=claim_window,
                           call_notice=call_notice, call_price_ppm=call_ppm,
                           redemption_price_ppm=_ppm(schedule.redemption_price,
                                                     "bond.redemption_price"),
                           first_call_time=first_call, call_principals=tuple(calls))


def _ppm(percent: Decimal, field: str) -> int:
    """A percentage in millionths of the whole (100% = 1,000,000), as the contract takes it."""
    value = percent * 10_000
    if value != value.to_integral_value() or not 0 < value < 2**32:
        raise TermSheetError(field, f"{percent}% must be positive and given to at most 4 decimal "
                                    f"places (the contract keeps prices in millionths)")
    return int(value)


def _percent_text(percent: Decimal) -> str:
    text = f"{percent:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def _utc_midnight(day: date) -> int:
    """00:00 UTC of ``day`` in unix seconds."""
    return _months.timegm(day.timetuple())
