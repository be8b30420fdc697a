"""munibond.schedule (and munibond.calendars): the coupon schedule of a term sheet, by Japanese
bond conventions (docs/conventions.md)."""

from __future__ import annotations

import calendar as calendar_module
import copy
import dataclasses
import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from munibond.calendars import BankCalendar, CalendarError
from munibond.exceptions import AmountError, TermSheetError
from munibond.schedule import (
    CouponPeriod,
    CouponSchedule,
    OnChainSchedule,
    _spans,
    add_months,
    coupon_schedule,
    holder_gross,
    holder_gross_amount,
    holder_principal,
    onchain_schedule,
    truncate,
)
from munibond.termsheet import TermSheet, load_term_sheet, parse_term_sheet, term_sheet_from_dict

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kobe-resident-bond-2026.yaml"
EXAMPLE_DATA: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
JST = ZoneInfo("Asia/Tokyo")
SCHEDULE_FIELDS = ("first_payment_date", "odd_period_day_count", "business_day", "calendar",
                   "holidays", "record_days_before", "record_time_of_day", "timezone",
                   "interest_decimals", "rounding_unit")


def terms(coupon: dict[str, Any] | None = None, *, defaults: bool = False,
          **bond: Any) -> TermSheet:
    """The example term sheet with some bond fields and coupon fields changed. ``defaults``:
    without the example's explicit schedule fields (every one then takes its default)."""
    data = copy.deepcopy(EXAMPLE_DATA)
    section = data["bond"]
    if defaults:
        for field in SCHEDULE_FIELDS:
            section["coupon"].pop(field, None)
    section.update(bond)
    section["coupon"].update(coupon or {})
    if "issue_date" in bond or "maturity_date" in bond:
        data["eligibility"].pop("lockup_until", None)
    # the model alone: loading a file also builds the schedule and refuses a malformed one
    # (test_loading_refuses_a_malformed_schedule); these tests call coupon_schedule themselves
    try:
        return TermSheet.model_validate(data, context={"base_dir": EXAMPLE.parent})
    except ValidationError:
        return term_sheet_from_dict(data)  # raises the model's error as a TermSheetError


def schedule_of(coupon: dict[str, Any] | None = None, **bond: Any) -> CouponSchedule:
    return coupon_schedule(terms(coupon, **bond))


def schedule_error(coupon: dict[str, Any] | None = None, **bond: Any) -> TermSheetError:
    with pytest.raises(TermSheetError) as info:
        schedule_of(coupon, **bond)
    return info.value


def jst(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=JST)


def unix(moment: datetime) -> int:
    return calendar_module.timegm(moment.astimezone(UTC).timetuple())


# --- the example bond ------------------------------------------------------------------------

#: (coupon date, payment date): 15 June and 15 December 2027 to 2031; four fall on a weekend
EXAMPLE_DATES = [
    (date(2027, 6, 15), date(2027, 6, 15)),
    (date(2027, 12, 15), date(2027, 12, 15)),
    (date(2028, 6, 15), date(2028, 6, 15)),
    (date(2028, 12, 15), date(2028, 12, 15)),
    (date(2029, 6, 15), date(2029, 6, 15)),
    (date(2029, 12, 15), date(2029, 12, 14)),   # Saturday -> Friday
    (date(2030, 6, 15), date(2030, 6, 14)),     # Saturday -> Friday
    (date(2030, 12, 15), date(2030, 12, 13)),   # Sunday -> Friday
    (date(2031, 6, 15), date(2031, 6, 13)),     # Sunday -> Friday
    (date(2031, 12, 15), date(2031, 12, 15)),   # maturity, a Monday
]


def test_example_bond_has_ten_semi_annual_periods() -> None:
    schedule = coupon_schedule(load_term_sheet(EXAMPLE))
    assert len(schedule) == 10
    assert schedule.payment_months == (6, 12) and schedule.payment_day == 15
    assert schedule.business_day == "preceding" and schedule.timezone == "Asia/Tokyo"
    start = date(2026, 12, 15)
    for period, (coupon_date, paid) in zip(schedule.periods, EXAMPLE_DATES, strict=True):
        assert period.accrual_start == start and period.accrual_end == coupon_date
        assert period.payment_date_unadjusted == coupon_date
        assert period.payment_date == paid
        assert period.moved is (paid != coupon_date)
        assert period.kind == "regular" and not period.is_odd
        # regular: exactly rate / 2 whatever the days (182 or 183)
        assert period.day_count_fraction == Fraction(1, 2)
        assert period.days == (coupon_date - start).days
        assert period.interest_per_unit == Decimal("0.0031")
        assert period.interest_per_unit_scaled == 31_000_000_000  # 0.0031 x 10^13, on chain
        assert period.interest_decimals == 13
        assert period.interest_per_denomination == 31
        assert period.coupon_percent == Decimal("0.31")
        assert period.payment_time == jst(paid)
        assert period.payment_timestamp == unix(jst(paid))
        start = coupon_date
    assert schedule.period(1).record_time == jst(date(2027, 6, 14), 15)
    assert schedule.period(1).record_timestamp == unix(datetime(2027, 6, 14, 6, tzinfo=UTC))
    assert schedule.period(1).record_time.tzname() == "JST"
    assert schedule.total_interest_per_unit == Decimal("0.031")
    assert schedule.total_interest_per_denomination == 310
    assert sum(p.days for p in schedule.periods) == (date(2031, 12, 15) - date(2026, 12, 15)).days

    redemption = schedule.redemption
    assert redemption.maturity_date == redemption.payment_date == date(2031, 12, 15)
    assert redemption.amount_per_unit == 1 and redemption.amount_per_denomination == 10_000
    # the last coupon is paid with the principal, to the same holders of record
    assert redemption.payment_time == schedule.periods[-1].payment_time
    assert redemption.record_time == schedule.periods[-1].record_time == \
        jst(date(2031, 12, 12), 15)  # Friday before Monday 15 December


def test_defaults_give_the_same_schedule_as_the_example() -> None:
    # the example writes every schedule field out with its default value
    explicit = coupon_schedule(load_term_sheet(EXAMPLE))
    implicit = coupon_schedule(terms(defaults=True))
    assert implicit.periods == explicit.periods
    assert implicit.redemption == explicit.redemption
    coupon = terms(defaults=True).bond.coupon
    assert coupon.first_payment_date is None
    assert coupon.odd_period_day_count == "actual/365 one end"
    assert coupon.business_day == "preceding" and coupon.calendar == "JP"
    assert coupon.record_days_before == 1 and coupon.record_time_of_day == time(15, 0)
    assert coupon.timezone == "Asia/Tokyo" and coupon.interest_decimals == 13
    assert coupon.rounding_unit == 1 and coupon.holidays == ()


def test_weekend_payment_dates_move_to_the_previous_business_day_accrual_unchanged() -> None:
    schedule = coupon_schedule(load_term_sheet(EXAMPLE))
    moved = [p for p in schedule.periods if p.moved]
    assert [p.index for p in moved] == [6, 7, 8, 9]
    for period in moved:
        assert period.payment_date_unadjusted.weekday() >= 5  # Saturday or Sunday
        assert period.payment_date.weekday() == 4  # the Friday before
        assert period.payment_date < period.payment_date_unadjusted
        # same amount, accrual dates unchanged: the next period starts on the coupon date
        assert period.interest_per_unit == Decimal("0.0031")
        assert period.accrual_end == period.payment_date_unadjusted
        assert schedule.period(period.index + 1).accrual_start == period.payment_date_unadjusted
        # recorded on the business day before the payment date (a Thursday)
        assert period.record_time == jst(period.payment_date - timedelta(days=1), 15)
    # 2029-12-15 is a Saturday: paid Friday 14th, recorded Thursday 13th at 15:00 JST
    assert schedule.period(6).payment_date == date(2029, 12, 14)
    assert schedule.period(6).record_time == jst(date(2029, 12, 13), 15)
    assert schedule.period(6).days == 183


def test_following_and_modified_following() -> None:
    following = schedule_of({"business_day": "following"})
    assert following.period(6).payment_date == date(2029, 12, 17)  # Saturday -> Monday
    assert following.period(6).record_time == jst(date(2029, 12, 14), 15)
    assert following.period(6).interest_per_unit == Decimal("0.0031")

    # coupon dates at the end of a month: 31 August and the end of February
    dates = {"issue_date": "2026-08-31", "maturity_date": "2031-08-31"}
    plain = schedule_of({"first_payment_date": None, "business_day": "following"}, **dates)
    modified = schedule_of({"first_payment_date": None, "business_day": "modified_following"},
                           **dates)
    assert plain.payment_months == (2, 8) and plain.payment_day == 31
    # every date is computed from the anchor (31 August): February's last day, then 31 August
    # again, no drift to the 28th
    assert [p.accrual_end for p in plain.periods[:4]] == [
        date(2027, 2, 28), date(2027, 8, 31), date(2028, 2, 29), date(2028, 8, 31)]
    # 2030-08-31 is a Saturday: following moves it into September, modified following back to
    # Friday 30 August
    august = next(p for p in plain.periods if p.accrual_end == date(2030, 8, 31))
    assert august.payment_date == date(2030, 9, 2)
    assert modified.period(august.index).payment_date == date(2030, 8, 30)
    # maturity on Sunday 2031-08-31: following pays the principal on Monday 1 September
    assert plain.redemption.payment_date == date(2031, 9, 1)
    assert modified.redemption.payment_date == date(2031, 8, 29)
    assert plain.periods[-1].payment_date == date(2031, 9, 1)

    unmoved = schedule_of({"business_day": "none"})
    assert unmoved.period(6).payment_date == date(2029, 12, 15)
    assert not any(p.moved for p in unmoved.periods)


# --- bank holidays -----------------------------------------------------------------------------

def test_year_end_and_national_holidays() -> None:
    jp = BankCalendar("JP")
    for day in (date(2027, 12, 31), date(2028, 1, 1), date(2028, 1, 2), date(2028, 1, 3),
                date(2026, 1, 2), date(2025, 12, 31)):
        assert not jp.is_business_day(day), day
    assert jp.closed_because(date(2027, 12, 31)) == "year-end bank holiday"  # a Friday
    assert jp.closed_because(date(2028, 1, 3)) == "year-end bank holiday"   # a Monday
    assert jp.is_business_day(date(2027, 12, 30)) and jp.is_business_day(date(2028, 1, 4))
    assert jp.closed_because(date(2028, 5, 5)) == "Children's Day"
    assert jp.closed_because(date(2027, 3, 22)) == "Substitute Holiday"
    assert jp.adjust(date(2028, 1, 3), "preceding") == date(2027, 12, 30)
    assert jp.adjust(date(2028, 1, 3), "following") == date(2028, 1, 4)
    assert jp.business_days_before(date(2028, 1, 4), 1) == date(2027, 12, 30)
    # Golden Week 2028: 3, 4, 5 May (Wednesday to Friday)
    assert jp.adjust(date(2028, 5, 5), "preceding") == date(2028, 5, 2)
    weekends = BankCalendar("weekends")
    assert weekends.is_business_day(date(2027, 12, 31)) and weekends.is_business_day(
        date(2028, 5, 5))


def test_coupons_on_3_january_are_paid_before_the_year_end_break() -> None:
    schedule = schedule_of({"first_payment_date": None},
                           issue_date="2027-01-03", maturity_date="2032-01-03")
    january = [p for p in schedule.periods if p.accrual_end.month == 1]
    assert [p.accrual_end for p in january] == [date(y, 1, 3) for y in range(2028, 2033)]
    # 2028-01-03 is a Monday, a bank holiday: 31 Dec (Friday) is one too, so 30 December
    assert schedule.period(2).payment_date == date(2027, 12, 30)
    assert schedule.period(2).record_time == jst(date(2027, 12, 29), 15)
    for period in january:
        assert period.payment_date.month == 12 and period.payment_date.day <= 30
    assert schedule.redemption.payment_date == schedule.periods[-1].payment_date


def test_national_holiday_and_issuer_holidays() -> None:
    golden_week = schedule_of({"first_payment_date": None},
                              issue_date="2026-11-05", maturity_date="2031-05-05")
    may_2028 = next(p for p in golden_week.periods if p.accrual_end == date(2028, 5, 5))
    assert may_2028.payment_date == date(2028, 5, 2)
    assert may_2028.record_time == jst(date(2028, 5, 1), 15)

    extra = schedule_of({"holidays": ["2027-06-15", "2027-06-14"]})
    assert extra.period(1).payment_date == date(2027, 6, 11)  # Friday before
    assert extra.period(1).record_time == jst(date(2027, 6, 10), 15)
    assert extra.calendar.closed_because(date(2027, 6, 15)) == "issuer holiday"
    assert extra.period(1).accrual_end == date(2027, 6, 15)


def test_record_time_rule() -> None:
    two_days = schedule_of({"record_days_before": 2, "record_time_of_day": "17:30"})
    assert two_days.period(1).record_time == datetime(2027, 6, 11, 17, 30, tzinfo=JST)  # Friday
    utc = schedule_of({"timezone": "UTC"})
    assert utc.period(1).record_time == datetime(2027, 6, 14, 15, tzinfo=UTC)
    assert utc.period(1).payment_time == datetime(2027, 6, 15, tzinfo=UTC)


# --- odd periods ---------------------------------------------------------------------------------

def test_odd_short_first_period_actual_365_one_end() -> None:
    schedule = schedule_of(issue_date="2027-01-10")
    first = schedule.period(1)
    assert first.kind == "short first" and first.is_odd
    assert first.accrual_start == date(2027, 1, 10) and first.accrual_end == date(2027, 6, 15)
    # one end: 11 January through 15 June = 21 + 28 + 31 + 30 + 31 + 15 days
    assert first.days == first.prorated_days == 156
    assert first.day_count_fraction == Fraction(156, 365)
    # 0.0062 x 156 / 365 = 0.9672 / 365 = 0.00264986301369863013... (by hand: 9672 / 3,650,000)
    assert first.interest_exact == Fraction(9672, 3_650_000)
    assert first.interest_per_unit == Decimal("0.0026498630136")  # truncated, not rounded up
    assert first.interest_per_unit_scaled == 26_498_630_136
    assert first.interest_per_denomination == 26  # 26.498630136 JPY floored
    assert holder_gross(1_000_000, first, 0) == 2_649  # 2,649.8630136
    assert all(p.kind == "regular" for p in schedule.periods[1:])
    assert len(schedule) == 10

    both = schedule_of({"odd_period_day_count": "actual/365 both ends"}, issue_date="2027-01-10")
    assert both.period(1).prorated_days == 157
    # 0.0062 x 157 / 365 = 0.9734 / 365 = 0.00266684931506849...
    assert both.period(1).interest_per_unit == Decimal("0.0026668493150")
    assert both.period(2).interest_per_unit == Decimal("0.0031")


def test_long_first_period_and_short_last_period() -> None:
    schedule = schedule_of({"first_payment_date": "2027-08-20"})
    first, last = schedule.period(1), schedule.periods[-1]
    assert first.kind == "long first" and first.accrual_end == date(2027, 8, 20)
    # one full half-year (2027-02-20 to 2027-08-20) + the stub 2026-12-15 to 2027-02-20:
    # 16 + 31 + 20 = 67 days
    assert first.prorated_days == 67 and first.days == 248
    assert first.day_count_fraction == Fraction(1, 2) + Fraction(67, 365)
    # 0.0031 + 0.0062 x 67 / 365 = 0.0031 + 0.00113808219178082... = 0.00423808219178082...
    assert first.interest_per_unit == Decimal("0.0042380821917")
    assert schedule.payment_months == (2, 8) and schedule.payment_day == 20
    # maturity 2031-12-15 is off the 20 February / 20 August grid: a short last period
    assert last.kind == "short last" and last.accrual_start == date(2031, 8, 20)
    assert last.accrual_end == date(2031, 12, 15) and last.prorated_days == 117
    # 0.0062 x 117 / 365 = 0.7254 / 365 = 0.00198739726027397...
    assert last.interest_per_unit == Decimal("0.0019873972602")
    assert [p.kind for p in schedule.periods[1:-1]] == ["regular"] * 8


def test_an_end_of_month_first_coupon_date_on_the_maturity_grid() -> None:
    # first coupon 28 February 2027, maturity 31 August 2031: the grid is the maturity's
    # (month ends), not the 28th of every month with a 3-day short last period
    schedule = schedule_of({"first_payment_date": "2027-02-28"},
                           issue_date="2026-08-31", maturity_date="2031-08-31")
    assert [p.accrual_end for p in schedule.periods[:4]] == [
        date(2027, 2, 28), date(2027, 8, 31), date(2028, 2, 29), date(2028, 8, 31)]
    assert all(p.kind == "regular" for p in schedule.periods) and len(schedule) == 10
    assert schedule.payment_day == 31
    # the same dates as leaving the first coupon date out
    assert schedule.periods == schedule_of({"first_payment_date": None},
                                           issue_date="2026-08-31",
                                           maturity_date="2031-08-31").periods
    # a long first period on that grid: issued 2026-07-15, a full half year from 2026-08-31
    # plus the stub 2026-07-15 to 2026-08-31, one end: 16 days of July + 31 of August
    long_first = schedule_of({"first_payment_date": "2027-02-28"},
                             issue_date="2026-07-15", maturity_date="2031-08-31").period(1)
    assert long_first.kind == "long first" and long_first.prorated_days == 47


def test_a_single_period_bond() -> None:
    schedule = schedule_of({"first_payment_date": "2027-06-15"},
                           issue_date="2027-01-10", maturity_date="2027-06-15")
    assert len(schedule) == 1 and schedule.period(1).kind == "short first"
    assert schedule.redemption.payment_date == date(2027, 6, 15)


# --- truncation and holders' gross -------------------------------------------------------------

def test_interest_per_unit_is_truncated_after_13_decimals() -> None:
    monthly = schedule_of({"first_payment_date": None, "frequency": 12})
    # 0.0062 / 12 = 0.000516666...: 13 decimals kept, the rest dropped
    assert monthly.period(1).interest_per_unit == Decimal("0.0005166666666")
    assert monthly.period(1).interest_per_unit_scaled == 5_166_666_666
    assert len(monthly) == 60
    five = schedule_of({"first_payment_date": None, "frequency": 12, "interest_decimals": 5})
    assert five.period(1).interest_per_unit == Decimal("0.00051")
    assert five.period(1).interest_per_unit_scaled == 51
    assert truncate(Fraction(2, 3), 4) == 6666 and truncate(Fraction(0), 13) == 0


@pytest.mark.parametrize(("held", "gross"), [
    (1, 0),                      # 0.0031 JPY
    (12_345, 38),                # 38.2695 JPY
    (10_000, 31),                # one bond
    (10_000_000, 31_000),        # the cap: 10,000,000 x 0.0031 exactly
    (500_000_000, 1_550_000),    # the whole issue
])
def test_holder_gross(held: int, gross: int) -> None:
    period = coupon_schedule(load_term_sheet(EXAMPLE)).period(1)
    assert holder_gross(held, period, 0) == gross
    assert holder_gross_amount(held, period, 0) == gross
    # in a settlement token's base units (JPYC: 18 decimals), still floored to 1 JPY
    assert holder_gross(held, period, 0, out_decimals=18) == gross * 10**18
    # the same face held as a token with 2 decimals
    assert holder_gross(held * 100, period, 2) == gross


def test_holder_gross_is_per_whole_holding_not_per_bond() -> None:
    period = schedule_of(issue_date="2027-01-10").period(1)  # 0.0026498630136 per JPY
    # 1,000,000 JPY held: 2,649.8630136 -> 2,649; per bond summed would be 100 x 26 = 2,600
    assert holder_gross(1_000_000, period, 0) == 2_649
    assert 100 * holder_gross(10_000, period, 0) == 2_600


def test_holder_gross_rounding_units() -> None:
    tens = schedule_of({"rounding_unit": "10"}).period(1)
    assert holder_gross(12_345, tens, 0) == 30 and holder_gross(10_000_000, tens, 0) == 31_000
    cents = schedule_of({"rounding_unit": "0.01"}).period(1)
    assert holder_gross(12_345, cents, 0) == 3_826  # 38.2695 -> 38.26, in hundredths
    assert holder_gross_amount(12_345, cents, 0) == Decimal("38.26")
    with pytest.raises(AmountError, match="finer"):
        holder_gross(12_345, cents, 0, out_decimals=1)
    with pytest.raises(AmountError, match="whole number"):
        holder_gross(-1, cents, 0)


@settings(max_examples=300, deadline=None)
@given(a=st.integers(0, 10**12), b=st.integers(0, 10**12), decimals=st.integers(0, 6),
       scaled=st.integers(0, 2 * 10**12), unit=st.sampled_from(["1", "10", "0.01", "0.5", "5"]))
def test_holder_gross_matches_exact_arithmetic(a: int, b: int, decimals: int, scaled: int,
                                               unit: str) -> None:
    period = _period(scaled, Decimal(unit))
    rounding = Fraction(Decimal(unit))
    exact = Fraction(a, 10**decimals) * Fraction(scaled, 10**13)
    gross = holder_gross_amount(a, period, decimals)
    # floored to the rounding unit: at most one unit below the exact entitlement, never above
    assert Fraction(gross) <= exact < Fraction(gross) + rounding
    assert Fraction(gross) / rounding == int(exact / rounding)
    # per holding: splitting a holding never pays more, merging never pays less
    merged = holder_gross_amount(a + b, period, decimals)
    split = gross + holder_gross_amount(b, period, decimals)
    assert split <= merged <= split + Decimal(unit)


def _period(scaled: int, unit: Decimal) -> CouponPeriod:
    base = coupon_schedule(load_term_sheet(EXAMPLE)).period(1)
    return CouponPeriod(**{**base.__dict__, "interest_per_unit_scaled": scaled,
                           "rounding_unit": unit})


# --- zero coupon -------------------------------------------------------------------------------

def test_zero_coupon_bond_has_only_the_redemption() -> None:
    schedule = schedule_of({"rate": "0%", "frequency": 0, "first_payment_date": None},
                           redemption_price="100")
    assert schedule.periods == () and len(schedule) == 0
    assert schedule.payment_months == () and schedule.payment_day is None
    assert schedule.total_interest_per_unit == 0
    assert schedule.redemption.payment_date == date(2031, 12, 15)
    assert schedule.redemption.record_time == jst(date(2031, 12, 12), 15)
    discount = schedule_of({"rate": "0%", "frequency": 0, "first_payment_date": None},
                           redemption_price="101.5")
    assert discount.redemption.amount_per_unit == Decimal("1.015")
    assert discount.redemption.amount_per_denomination == 10_150
    error = schedule_error({"rate": "0%", "frequency": 0})
    assert error.field == "bond.coupon.first_payment_date" and "zero-coupon" in error.detail


# --- malformed schedules -----------------------------------------------------------------------

@pytest.mark.parametrize(("coupon", "bond", "field", "words"), [
    ({"first_payment_date": "2032-06-15"}, {}, "first_payment_date", "after the maturity date"),
    ({"first_payment_date": "2026-12-15"}, {}, "first_payment_date", "after the issue date"),
    ({"first_payment_date": "2026-11-15"}, {}, "first_payment_date", "after the issue date"),
    ({"first_payment_date": "2028-01-20"}, {}, "first_payment_date",
     "two regular periods"),
    ({"record_days_before": 0}, {}, "record_days_before", "not before its payment time"),
    ({"record_days_before": 0, "record_time_of_day": "00:00"}, {}, "record_days_before",
     "not before its payment time"),
    ({"first_payment_date": None, "frequency": 12, "record_days_before": 30}, {},
     "record_days_before", "not after"),
    ({"first_payment_date": None}, {"maturity_date": "2101-12-15"}, "calendar", "2099"),
    ({"first_payment_date": None, "frequency": 12,
      "holidays": [(date(2027, 1, 16) + timedelta(days=n)).isoformat() for n in range(31)]},
     {}, "business_day", "onto one day"),
    # 2027-06-13 is a Sunday: paid on Friday 11 June, the issue date itself
    ({"first_payment_date": "2027-06-13"}, {"issue_date": "2027-06-11"}, "first_payment_date",
     "not after the issue date"),
])
def test_malformed_schedules_name_the_field(coupon: dict[str, Any], bond: dict[str, Any],
                                            field: str, words: str) -> None:
    error = schedule_error(coupon, **bond)
    assert error.field == f"bond.coupon.{field}", str(error)
    assert words in error.detail, str(error)
    assert str(error).startswith(f"term sheet: bond.coupon.{field}: ")


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    ("business_day: preceding", "business_day: previous", "bond.coupon.business_day",
     "not a business-day convention"),
    ("business_day: preceding", "business_day: Following", "bond.coupon.business_day",
     "did you mean 'following'"),
    ("calendar: JP", "calendar: US", "bond.coupon.calendar", "not a calendar"),
    ('odd_period_day_count: "actual/365 one end"', "odd_period_day_count: act/360",
     "bond.coupon.odd_period_day_count", "not a day count"),
    ('record_time_of_day: "15:00"', 'record_time_of_day: "25:00"',
     "bond.coupon.record_time_of_day", "HH:MM"),
    ('record_time_of_day: "15:00"', "record_time_of_day: 1500", "bond.coupon.record_time_of_day",
     "HH:MM"),
    ("timezone: Asia/Tokyo", "timezone: Tokyo", "bond.coupon.timezone", "IANA"),
    ("interest_decimals: 13", "interest_decimals: 0", "bond.coupon.interest_decimals", "1 to 18"),
    ("interest_decimals: 13", "interest_decimals: 19", "bond.coupon.interest_decimals",
     "1 to 18"),
    ('rounding_unit: "1"', 'rounding_unit: "0"', "bond.coupon.rounding_unit", "more than zero"),
    ('rounding_unit: "1"', "rounding_unit: 1.0", "bond.coupon.rounding_unit", "floating-point"),
    ("record_days_before: 1", "record_days_before: 31", "bond.coupon.record_days_before",
     "0 to 30"),
    ("holidays: []", "holidays: [2027-06-15, 2027-06-15]", "bond.coupon.holidays", "twice"),
    ("holidays: []", "holidays: [2027-06-31]", "bond.coupon.holidays[0]", "not a valid date"),
    ("first_payment_date: 2027-06-15", "first_payment_date: 2027-06", "bond.coupon."
     "first_payment_date", "YYYY-MM-DD"),
])
def test_malformed_schedule_fields_are_refused_at_load(old: str, new: str, field: str,
                                                       words: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text, old
    with pytest.raises(TermSheetError) as info:
        parse_term_sheet(text.replace(old, new, 1), source="terms.yaml")
    assert info.value.field == field, str(info.value)
    assert words in info.value.detail, str(info.value)
    assert "terms.yaml, line" in str(info.value)


def test_calendar_refuses_dates_it_does_not_know() -> None:
    with pytest.raises(CalendarError, match="2099"):
        BankCalendar("JP").is_business_day(date(2100, 1, 4))
    assert BankCalendar("weekends").is_business_day(date(2100, 1, 4))
    late = schedule_of({"first_payment_date": None, "calendar": "weekends"},
                       maturity_date="2101-12-15")
    assert late.redemption.payment_date == date(2101, 12, 15)


# --- properties over many bonds ------------------------------------------------------------------

@st.composite
def bonds(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    issue = draw(st.dates(date(2020, 1, 1), date(2060, 12, 31)))
    frequency = draw(st.sampled_from([1, 2, 4, 12]))
    maturity = issue + timedelta(days=draw(st.integers(40, 12 * 366)))
    coupon: dict[str, Any] = {
        "frequency": frequency,
        "rate": draw(st.sampled_from(["0.001%", "0.620%", "1.2345%", "5%", "20%"])),
        "business_day": draw(st.sampled_from(["preceding", "following", "modified_following",
                                              "none"])),
        "odd_period_day_count": draw(st.sampled_from(["actual/365 one end",
                                                      "actual/365 both ends"])),
        "record_days_before": draw(st.integers(1, 3)),
        "first_payment_date": None,
    }
    if draw(st.booleans()):
        step = 12 // frequency
        # a first coupon date from just after the issue to a long first period
        offset = draw(st.integers(1, max(1, step * 31 + step * 30 - 1)))
        first = min(issue + timedelta(days=offset), maturity)
        # (3 days of margin: a month end anchored at maturity may clamp differently)
        if first > issue and add_months(first, -2 * step) + timedelta(days=3) < issue:
            coupon["first_payment_date"] = first.isoformat()
    return {"issue_date": issue.isoformat(), "maturity_date": maturity.isoformat()}, coupon


@settings(max_examples=150, deadline=None)
@given(bonds())
def test_schedule_invariants(drawn: tuple[dict[str, Any], dict[str, Any]]) -> None:
    bond, coupon = drawn
    sheet = terms(coupon, **bond)
    try:
        schedule = coupon_schedule(sheet)
    except TermSheetError as error:
        # only a period of a few days can leave no room for the record time or move a payment
        # onto the issue date or the previous payment
        spans = _spans(sheet)[0]
        shortest = min((span.end - span.start).days for span in (spans[0], spans[-1]))
        event("refused: a short period")
        assert shortest < 20, str(error)
        assert error.field in ("bond.coupon.first_payment_date", "bond.coupon.business_day",
                               "bond.coupon.record_days_before"), str(error)
        return
    issue, maturity = sheet.bond.issue_date, sheet.bond.maturity_date
    rate = Fraction(sheet.bond.coupon.rate)
    frequency = coupon["frequency"]
    calendar = schedule.calendar
    periods = schedule.periods
    assert periods, "a coupon bond has at least one period"
    assert periods[0].accrual_start == issue and periods[-1].accrual_end == maturity
    assert sum(p.days for p in periods) == (maturity - issue).days
    for before, after in itertools.pairwise(periods):
        assert before.accrual_end == after.accrual_start
        assert before.payment_time < after.record_time < after.payment_time
    for p in periods:
        assert p.record_time < p.payment_time
        assert p.accrual_start < p.accrual_end
        assert p.kind in ("regular", "short first", "long first", "short last")
        assert p.kind != "short last" or p is periods[-1]
        assert p.kind not in ("short first", "long first") or p is periods[0]
        if p.kind == "regular":
            assert p.interest_per_unit_scaled == truncate(rate / frequency, 13)
        # truncation: never more than the exact interest, less by under 10^-13
        assert Fraction(p.interest_per_unit) <= p.interest_exact
        assert p.interest_exact - Fraction(p.interest_per_unit) < Fraction(1, 10**13)
        assert calendar.is_business_day(p.record_time.date())
        convention = coupon["business_day"]
        if convention == "none":
            assert p.payment_date == p.payment_date_unadjusted
            continue
        assert calendar.is_business_day(p.payment_date)
        assert abs((p.payment_date - p.payment_date_unadjusted).days) <= 10
        if calendar.is_business_day(p.payment_date_unadjusted):
            assert not p.moved
        if convention == "preceding":
            assert p.payment_date <= p.payment_date_unadjusted
            between = p.payment_date + timedelta(days=1)
            while between < p.payment_date_unadjusted:
                assert not calendar.is_business_day(between)
                between += timedelta(days=1)
    assert schedule.redemption.payment_time == periods[-1].payment_time


@given(st.dates(date(1, 1, 1), date(9998, 12, 31)), st.integers(-24, 24))
def test_add_months_keeps_the_day_or_the_month_end(anchor: date, months: int) -> None:
    try:
        moved = add_months(anchor, months)
    except ValueError:
        return
    assert (moved.year * 12 + moved.month) - (anchor.year * 12 + anchor.month) == months
    last = calendar_module.monthrange(moved.year, moved.month)[1]
    assert moved.day == min(anchor.day, last)


def test_loading_refuses_a_malformed_schedule(tmp_path: Path) -> None:
    """A term sheet whose schedule cannot be built is refused when it is loaded (so `munibond
    deploy` refuses it before connecting), with the field named."""
    text = EXAMPLE.read_text()
    assert "first_payment_date:" in text
    bad = re.sub(r"first_payment_date: [0-9-]+", "first_payment_date: 2032-06-15", text)
    (tmp_path / "bad.yaml").write_text(bad)
    for name in ("offering-circular.pdf", "terms.pdf"):
        if (EXAMPLE.parent / name).exists():
            (tmp_path / name).write_bytes((EXAMPLE.parent / name).read_bytes())
    with pytest.raises(TermSheetError) as caught:
        load_term_sheet(tmp_path / "bad.yaml")
    assert caught.value.field == "bond.coupon.first_payment_date"
    assert "bad.yaml" in str(caught.value)


# --- amortisation ------------------------------------------------------------------------------

AMORTISED = [{"date": "2028-12-15", "percent": "20"}, {"date": "2029-12-15", "percent": "30"}]


def test_amortisation_repays_original_face_and_coupons_accrue_on_the_outstanding() -> None:
    schedule = schedule_of(amortisation=AMORTISED)
    outstanding = [p.outstanding for p in schedule.periods]
    assert outstanding == [1] * 4 + [Fraction(4, 5)] * 2 + [Fraction(1, 2)] * 4
    assert [p.index for p in schedule.amortisations] == [4, 6]
    fourth, sixth = schedule.period(4), schedule.period(6)
    assert fourth.amortises and fourth.principal_percent == 20
    assert fourth.principal_per_unit == Decimal("0.2")
    assert fourth.principal_per_unit_scaled == 2 * 10**12
    assert fourth.principal_per_denomination == 2_000
    assert fourth.outstanding_after == Fraction(4, 5)
    # a coupon date on a Saturday: the principal is paid with the coupon, on the Friday before
    assert sixth.payment_date == date(2029, 12, 14) and sixth.principal_per_denomination == 3_000
    # interest per 1 JPY of ORIGINAL face: rate / 2 x outstanding
    assert fourth.interest_per_unit_scaled == 31_000_000_000
    assert schedule.period(5).interest_per_unit_scaled == 24_800_000_000
    assert schedule.period(5).interest_per_denomination == 24
    assert schedule.period(10).interest_per_unit_scaled == 15_500_000_000
    assert not schedule.period(5).amortises and schedule.period(5).principal_per_unit == 0
    redemption = schedule.redemption
    assert redemption.outstanding == Fraction(1, 2)
    assert redemption.amount_per_unit == Decimal("0.5")
    assert redemption.amount_per_unit_scaled == 5 * 10**12
    assert redemption.amount_per_denomination == 5_000
    assert schedule.total_principal_per_unit == 1
    # a holder of 12,345 JPY of face: each principal floored to 1 JPY separately
    assert holder_principal(12_345, fourth, 0) == 2_469
    assert holder_principal(12_345, sixth, 0) == 3_703  # 3,703.5
    assert holder_principal(12_345, redemption, 0) == 6_172  # 6,172.5
    assert holder_principal(12_345, redemption, 0, out_decimals=18) == 6_172 * 10**18


def test_amortised_interest_is_truncated_once_on_the_exact_product() -> None:
    schedule = schedule_of({"rate": "0.123%"}, amortisation=[
        {"date": "2027-06-15", "percent": "33.3333"}], redemption_price="101.5")
    second = schedule.period(2)
    outstanding = 1 - Fraction(333_333, 1_000_000)
    assert second.outstanding == outstanding
    assert second.interest_exact == Fraction(123, 100_000) / 2 * outstanding
    assert second.interest_per_unit_scaled == truncate(second.interest_exact, 13)
    # amortisation at the redemption price
    first = schedule.period(1)
    assert Fraction(first.principal_per_unit) == Fraction(333_333, 10**6) * Fraction(1015, 1000)
    assert first.principal_per_unit_scaled == 3_383_329_950_000  # exact: never truncated
    assert schedule.total_principal_per_unit == Decimal("1.015")


def test_principal_that_the_interest_decimals_cannot_hold_is_refused() -> None:
    error = schedule_error({"interest_decimals": 2},
                           amortisation=[{"date": "2027-06-15", "percent": "12.5"}])
    assert error.field == "bond.amortisation[0].percent" and "interest_decimals" in error.detail
    error = schedule_error({"interest_decimals": 1}, redemption_price="100.5")
    assert error.field == "bond.redemption_price" and "never truncated" in error.detail


def test_amortisation_dates_must_be_coupon_dates() -> None:
    error = schedule_error(amortisation=[{"date": "2029-12-14", "percent": "10"}])
    assert error.field == "bond.amortisation[0].date"
    assert "2029-12-14 is not a coupon date (before business-day adjustment)" in error.detail
    assert "2029-06-15 and 2029-12-15" in error.detail


# --- on chain ------------------------------------------------------------------------------------

TOKEN = "0xbcd4042de499d14e55001ccbb24a551f3b954096"
HOLDINGS = [0, 1, 3, 9_999, 10_000, 12_345, 33_333, 1_000_000, 10_000_000, 500_000_000]


def contract_pays(units: int, per_unit: int, onchain: OnChainSchedule) -> int:
    """The contract's formula: floor(u x perUnit / 10^divisorExponent) rounding units, each of
    10^payExponent settlement-token units."""
    divisor: int = 10**onchain.divisor_exponent
    unit: int = 10**onchain.pay_exponent
    return units * per_unit // divisor * unit


def test_onchain_schedule_of_the_example() -> None:
    schedule = coupon_schedule(load_term_sheet(EXAMPLE))
    onchain = onchain_schedule(schedule, settlement_decimals=18)
    assert len(onchain) == 10
    assert (onchain.divisor_exponent, onchain.pay_exponent) == (13, 18)  # the spec's example
    for period, terms in zip(schedule.periods, onchain.periods, strict=True):
        assert terms.record_time == period.record_timestamp
        assert terms.payment_time == period.payment_timestamp
        assert terms.coupon_per_unit == 31_000_000_000
    assert [p.principal_per_unit for p in onchain.periods] == [0] * 9 + [10**13]
    final = onchain.periods[-1]
    assert final.label == "coupon 10 + redemption" and onchain.periods[0].label == "coupon 1"
    assert final.record_time == schedule.redemption.record_timestamp
    assert final.payment_time == schedule.redemption.payment_timestamp
    # 10 years from each payment date; the longest span (three 29 Februaries) is 3,653 days
    assert onchain.claim_window == 3_653 * 86_400
    assert onchain.call_notice == 30 * 86_400
    assert onchain.call_principals == (10**13,) * 9 + (0,)
    periods, token, divisor, pay, window, notice = onchain.as_args(TOKEN)
    assert periods[0] == (1812952800, 1812985200, 31_000_000_000, 0)
    assert periods[-1] == (final.record_time, final.payment_time, 31_000_000_000, 10**13)
    assert len(periods) == 10
    assert token == "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
    # CallTerms: notice, first call time (any), call price and redemption price in millionths
    assert (divisor, pay, window, notice) == (13, 18, 3_653 * 86_400,
                                              (30 * 86_400, 0, 1_000_000, 1_000_000))
    assert onchain.payment_of(12_345, 0) == (38 * 10**18, 0)
    assert onchain.payment_of(12_345, 9) == (38 * 10**18, 12_345 * 10**18)
    assert onchain.required_funding(500_000_000, 9) == (1_550_000 + 500_000_000) * 10**18


def test_holder_gross_is_the_contracts_formula() -> None:
    """For the example, an amortising variant, a finer rounding unit and token decimals:
    holder_gross / holder_principal equal floor(u x perUnit / 10^divisorExponent) paid in
    10^payExponent settlement units, for every period and holding."""
    cases = [
        (coupon_schedule(load_term_sheet(EXAMPLE)), 18),
        (schedule_of(amortisation=AMORTISED), 18),
        (schedule_of(amortisation=AMORTISED), 0),
        (schedule_of({"rate": "1.2345%", "rounding_unit": "0.01"}, currency="USD", decimals=2,
                     trading_unit="0.01", redemption_price="100.25",
                     amortisation=[{"date": "2029-06-15", "percent": "12.3456"}]), 6),
        (schedule_of({"rate": "0.7%", "rounding_unit": "10", "first_payment_date": None},
                     issue_date="2027-01-10"), 0),
    ]
    for schedule, settlement in cases:
        onchain = onchain_schedule(schedule, settlement_decimals=settlement)
        last = len(schedule.periods) - 1
        for index, (period, terms) in enumerate(zip(schedule.periods, onchain.periods,
                                                    strict=True)):
            principal = schedule.redemption if index == last else period
            for units in HOLDINGS:
                gross = holder_gross(units, period, schedule.decimals, out_decimals=settlement)
                assert gross == contract_pays(units, terms.coupon_per_unit, onchain)
                paid = holder_principal(units, principal, schedule.decimals,
                                        out_decimals=settlement)
                assert paid == contract_pays(units, terms.principal_per_unit, onchain)
                assert onchain.payment_of(units, index) == (gross, paid)


def test_onchain_amortisation_and_calls() -> None:
    schedule = schedule_of(amortisation=AMORTISED)
    onchain = onchain_schedule(schedule, settlement_decimals=18)
    principals = [p.principal_per_unit for p in onchain.periods]
    assert principals == [0, 0, 0, 2 * 10**12, 0, 3 * 10**12, 0, 0, 0, 5 * 10**12]
    assert sum(principals) == 10**13
    assert onchain.periods[3].label == "coupon 4 + amortisation 20%"
    assert onchain.periods[-1].label == "coupon 10 + redemption"
    assert [p.coupon_per_unit for p in onchain.periods][3:6] == [31 * 10**9, 248 * 10**8,
                                                                 248 * 10**8]
    # a call of period p pays the face outstanding before its payment, at the call price
    assert onchain.call_principals == (10**13,) * 4 + (8 * 10**12,) * 2 + (5 * 10**12,) * 3 + (0,)
    premium = onchain_schedule(schedule_of(amortisation=AMORTISED,
                                           redemption_price="101"), settlement_decimals=18)
    assert premium.call_principals[0] == 101 * 10**11
    assert premium.periods[3].principal_per_unit == 202 * 10**10


def test_onchain_call_price_defaults_to_the_redemption_price() -> None:
    data = copy.deepcopy(EXAMPLE_DATA)
    data["payments"]["call_price"] = "102"
    data["payments"]["call_notice"] = "1 year"
    schedule = coupon_schedule(term_sheet_from_dict(data, base_dir=EXAMPLE.parent))
    assert schedule.call_price == 102 and schedule.redemption_price == 100
    onchain = onchain_schedule(schedule, settlement_decimals=18)
    assert onchain.call_principals[0] == 102 * 10**11
    # a year before each payment date; the longest such year has a 29 February (366 days)
    assert onchain.call_notice == 366 * 86_400


def test_a_zero_coupon_bond_has_one_onchain_period() -> None:
    schedule = schedule_of({"rate": "0%", "frequency": 0, "first_payment_date": None},
                           redemption_price="101.5")
    onchain = onchain_schedule(schedule, settlement_decimals=18)
    assert len(onchain) == 1
    (final,) = onchain.periods
    assert final.coupon_per_unit == 0 and final.principal_per_unit == 10_150_000_000_000
    assert final.label == "redemption"
    assert final.record_time == schedule.redemption.record_timestamp
    assert onchain.call_principals == (0,)


def test_claim_window_in_years_follows_the_civil_code() -> None:
    from munibond.schedule import _span_seconds
    from munibond.termsheet import Duration

    leap = datetime(2028, 2, 29, tzinfo=JST)
    # ends at the end of 28 February 2029 (no 29 February): 00:00 on 1 March
    assert _span_seconds(Duration(count=1, unit="years"), [leap], backwards=False) == \
        366 * 86_400
    plain = datetime(2027, 6, 15, tzinfo=JST)
    assert _span_seconds(Duration(count=10, unit="years"), [plain], backwards=False) == \
        (date(2037, 6, 15) - date(2027, 6, 15)).days * 86_400
    assert _span_seconds(Duration(count=45, unit="days"), [plain], backwards=True) == \
        45 * 86_400


@pytest.mark.parametrize(("coupon", "bond", "settlement", "field", "words"), [
    ({"rounding_unit": "5"}, {}, 18, "bond.coupon.rounding_unit", "not a power of ten"),
    ({"rounding_unit": "0.5"}, {}, 18, "bond.coupon.rounding_unit", "not a power of ten"),
    ({"rounding_unit": "0.01"}, {}, 0, "bond.coupon.rounding_unit",
     "finer than one unit of the settlement token"),
    ({"rounding_unit": "0.01", "interest_decimals": 1}, {}, 18, "bond.coupon.rounding_unit",
     "finer than the interest"),
    ({"rounding_unit": "10"}, {}, 77, "bond.coupon.rounding_unit", "above 77"),
    # 30 years of monthly coupons: 360 periods
    ({"frequency": 12, "first_payment_date": None}, {"maturity_date": "2056-12-15"}, 18,
     "bond.coupon.frequency", "at most 255"),
    # maturity on a Saturday paid on the Monday after: after the maturity the contract stores
    ({"business_day": "following", "first_payment_date": None},
     {"maturity_date": "2031-12-13"}, 18, "bond.coupon.business_day", "after the maturity"),
    # 00:00 in New York is 05:00 UTC, after 00:00 UTC of the maturity date
    ({"timezone": "America/New_York", "calendar": "weekends"}, {}, 18, "bond.coupon.timezone",
     "after the maturity"),
])
def test_onchain_refusals_name_the_field(coupon: dict[str, Any], bond: dict[str, Any],
                                         settlement: int, field: str, words: str) -> None:
    schedule = schedule_of(coupon, **bond)
    with pytest.raises(TermSheetError) as info:
        onchain_schedule(schedule, settlement_decimals=settlement)
    assert info.value.field == field, str(info.value)
    assert words in info.value.detail, str(info.value)


def test_onchain_refuses_bad_arguments() -> None:
    schedule = coupon_schedule(load_term_sheet(EXAMPLE))
    for bad in (-1, 78, True, "18"):
        with pytest.raises(AmountError, match="settlement_decimals"):
            onchain_schedule(schedule, settlement_decimals=bad)  # type: ignore[arg-type]
    onchain = onchain_schedule(schedule, settlement_decimals=18)
    with pytest.raises(AmountError, match="settlement token"):
        onchain.as_args("0x1234")
    with pytest.raises(AmountError, match="settlement token"):
        onchain.as_args("0x" + "0" * 40)
    # amounts and times must fit the contract's integers
    first = dataclasses.replace(schedule.periods[0], interest_per_unit_scaled=2**64)
    huge = dataclasses.replace(schedule, periods=(first, *schedule.periods[1:]))
    with pytest.raises(TermSheetError, match="uint64"):
        onchain_schedule(huge, settlement_decimals=18)


@settings(max_examples=60, deadline=None)
@given(bonds(), st.data())
def test_onchain_invariants(drawn: tuple[dict[str, Any], dict[str, Any]],
                            data: st.DataObject) -> None:
    """Over many bonds, with amortisation on drawn coupon dates: the on-chain periods mirror the
    coupon periods, principal adds up to the redemption price, and the contract's formula pays
    what holder_gross and holder_principal compute."""
    bond, coupon = drawn
    coupon = {**coupon, "business_day": "preceding"}
    try:
        plain = coupon_schedule(terms(coupon, **bond))
    except TermSheetError:
        return
    dates = [p.accrual_end for p in plain.periods[:-1]]
    chosen = sorted(data.draw(st.sets(st.sampled_from(dates), max_size=4)) if dates else [])
    percents = data.draw(st.lists(st.sampled_from(["1", "5", "12.5", "20", "0.0001"]),
                                  min_size=len(chosen), max_size=len(chosen)))
    amortisation = [{"date": day.isoformat(), "percent": percent}
                    for day, percent in zip(chosen, percents, strict=True)]
    price = data.draw(st.sampled_from(["100", "101.5", "99.75"]))
    schedule = coupon_schedule(terms(coupon, **bond, amortisation=amortisation,
                                     redemption_price=price))
    onchain = onchain_schedule(schedule, settlement_decimals=18)
    assert len(onchain) == len(schedule.periods)
    assert sum(p.principal_per_unit for p in onchain.periods) == \
        truncate(Fraction(price) / 100, 13)
    assert schedule.total_principal_per_unit == Decimal(price) / 100
    for before, after in itertools.pairwise(onchain.periods):
        assert before.record_time < before.payment_time < after.record_time
    assert onchain.periods[-1].principal_per_unit > 0
    assert onchain.claim_window >= 3_652 * 86_400
    units = data.draw(st.integers(0, 10**12))
    for index, period in enumerate(schedule.periods):
        paid = schedule.redemption if index == len(schedule.periods) - 1 else period
        assert onchain.payment_of(units, index) == (
            holder_gross(units, period, 0, out_decimals=18),
            holder_principal(units, paid, 0, out_decimals=18))
        assert period.interest_per_unit_scaled == truncate(
            Fraction(schedule.rate) * period.day_count_fraction * period.outstanding, 13)


def test_issue_too_large_for_the_rounding_unit_is_refused_when_loaded() -> None:
    """Issue 7 A.1: the contract keeps each period's paid totals in 64-bit lanes of rounding
    units; a term sheet whose totals over the whole issue would pass them is refused when it is
    loaded (not when the last holders try to redeem), naming the largest issue size that fits."""
    error = schedule_error({"rounding_unit": "0.0000000000001"}, denomination="1000000",
                           issue_size="3000000")
    assert error.field == "bond.issue_size"
    # 2^64 - 1 units of 1e-13 JPY = 1,844,674.4073709551615 JPY: 1 bond of 1,000,000 fits
    assert "at most 1,000,000 JPY" in error.detail, error.detail
    assert "coarser bond.coupon.rounding_unit" in error.detail
    # at the example's rounding unit (1 JPY) the same issue is far within the lanes
    assert len(schedule_of(denomination="1000000", issue_size="3000000")) == 10


def test_on_chain_schedule_bounds_funding_by_the_settlement_token() -> None:
    """With an 18-decimal settlement token the funding lane (2^128 base units) bounds it too."""
    plan = schedule_of()
    onchain = onchain_schedule(plan, settlement_decimals=18, issue_units=500_000_000)
    assert onchain.call_terms == (onchain.call_notice, 0, 1_000_000, 1_000_000)
    with pytest.raises(TermSheetError, match="issue size can be at most"):
        onchain_schedule(plan, settlement_decimals=77, issue_units=500_000_000)
