"""``munibond coupon ...``: a bond's coupons. ``schedule`` shows the coupon schedule a term sheet
gives (coupons, principal repayments, withholding rates), before anything is deployed (reads no
chain)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import click

from munibond.cli.options import Group, state_of, verbose_option

if TYPE_CHECKING:
    from munibond.schedule import CouponPeriod, CouponSchedule
    from munibond.termsheet import TermSheet

__all__ = ["coupon", "schedule"]

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_FREQUENCY = {1: "annual", 2: "semi-annual", 4: "quarterly", 12: "monthly"}

#: the CSV's columns; one line per coupon period (each followed by its amortisation, if any),
#: then one for the redemption. Amounts are per 1 unit / one bond of ORIGINAL face;
#: outstanding_percent: percent of the original face outstanding at the record time
CSV_COLUMNS = (
    "type", "period", "kind", "accrual_start", "accrual_end", "days", "day_count_fraction",
    "record_time", "record_timestamp", "payment_date_unadjusted", "payment_date",
    "payment_timestamp", "percent_of_face", "amount_per_unit", "amount_per_unit_scaled",
    "amount_per_denomination", "outstanding_percent",
)


def _plain(value: Decimal) -> str:
    """A Decimal without exponent notation and without trailing zeros after the point."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _amount(value: Decimal) -> str:
    """``31``, ``10,000``, ``1,234.5``."""
    text = _plain(value)
    whole, _, fraction = text.partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _percent(per_unit: Decimal) -> str:
    from munibond.units import format_rate

    return format_rate(per_unit)


def _hundred(value: Decimal | Fraction) -> str:
    """A share of face (``Decimal("0.5")``, ``Fraction(1, 2)``) in percent, exactly: ``"50"``."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    return _plain(Decimal((sign, digits, exponent + 2)))


def _when(moment: datetime) -> str:
    """``2027-06-14 15:00 JST``: in the bond's zone (the schedule's times carry it)."""
    from munibond.cli.output import local_time

    assert moment.tzinfo is not None
    return local_time(moment, moment.tzinfo)


def _payment(schedule: CouponSchedule, paid: date, unadjusted: date) -> str:
    if paid == unadjusted:
        return paid.isoformat()
    why = schedule.calendar.closed_because(unadjusted) or "not a business day"
    return f"{paid.isoformat()} (moved from {unadjusted.isoformat()}, {why})"


def _note(period: CouponPeriod) -> str:
    from munibond.schedule import DAY_COUNT_BASIS

    if period.kind == "regular":
        return ""
    if period.kind == "long first":
        return (f"long first: a full coupon + {period.prorated_days}/{DAY_COUNT_BASIS} for the "
                f"stub from {period.accrual_start}")
    return f"{period.kind}: {period.prorated_days}/{DAY_COUNT_BASIS}"


def _dates_text(schedule: CouponSchedule) -> str:
    if not schedule.payment_months or schedule.payment_day is None:
        return ""
    day = schedule.payment_day
    short = " (or the month's last day)" if day > 28 else ""
    if len(schedule.payment_months) == 12:
        return f" on the {day}{_suffix(day)} of every month{short}"
    months = [_MONTHS[m - 1] for m in schedule.payment_months]
    listed = ", ".join(f"{day} {month}" for month in months[:-1])
    listed = f"{listed} and {day} {months[-1]}" if listed else f"{day} {months[-1]}"
    return f" on {listed}{short}"


def _suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _principal_text(schedule: CouponSchedule) -> str:
    r = schedule.redemption
    price = f"at {_plain(schedule.redemption_price)}% of face"
    if not schedule.amortisations:
        return f"bullet: the whole face at maturity, {price}"
    parts = [f"{_plain(p.principal_percent)}% of the original face on {p.accrual_end}"
             for p in schedule.amortisations]
    return (f"amortising: {', '.join(parts)}, the remaining {_hundred(r.outstanding)}% at "
            f"maturity; every repayment {price}, pro rata to every holder; later coupons accrue "
            f"on the outstanding face (amounts below are per original face)")


def _withholding_rows(sheet: TermSheet) -> list[list[str]]:
    from munibond import codes
    from munibond.units import format_rate

    return [[name, str(codes.tax_category_id(name)), format_rate(rates.national),
             format_rate(rates.local), format_rate(rates.total)]
            for name, rates in sheet.payments.withholding.by_category().items()]


def _summary(schedule: CouponSchedule, sheet: TermSheet) -> list[tuple[str, str]]:
    from munibond.calendars import BUSINESS_DAY_CONVENTIONS, CALENDARS
    from munibond.termsheet import ODD_PERIOD_DAY_COUNTS
    from munibond.units import format_rate

    currency = schedule.currency
    if schedule.frequency:
        coupon = (f"{format_rate(schedule.rate)} a year, {_FREQUENCY[schedule.frequency]} "
                  f"({schedule.frequency} payment{'s' if schedule.frequency > 1 else ''} a "
                  f"year{_dates_text(schedule)})")
    else:
        coupon = "zero coupon: no coupon periods, principal at maturity"
    extra = schedule.calendar.extra_holidays
    calendar = (f"{schedule.calendar.name} ({CALENDARS[schedule.calendar.name]})"
                + (f" + {len(extra)} issuer holiday(s)" if extra else ""))
    first = schedule.periods[0].record_time if schedule.periods else \
        schedule.redemption.record_time
    zone = f"{schedule.timezone} ({first.tzname()})" if first.tzname() else schedule.timezone
    days = schedule.record_days_before
    record = (f"{schedule.record_time_of_day.strftime('%H:%M')} {zone}, "
              + (f"{days} business day{'s' if days > 1 else ''} before the payment date"
                 if days else "on the payment date"))
    payments = sheet.payments
    tax_account = payments.tax_account or ("none yet: the admin sets it (setTaxAccount) before "
                                           "the first remittance")
    rows = [
        ("bond", f"{schedule.code} ({sheet.bond.name})"),
        ("term", f"issued {schedule.issue_date}, matures {schedule.maturity_date}; "
                 f"denomination {_amount(schedule.denomination)} {currency}"),
        ("coupon", coupon),
        ("bank holidays", f"{schedule.business_day}: payment on "
                          f"{BUSINESS_DAY_CONVENTIONS[schedule.business_day]}; same amount, "
                          f"accrual dates unchanged; calendar {calendar}"),
        ("record time", record),
    ]
    if schedule.frequency:
        rows += [
            ("odd periods", f"{schedule.odd_period_day_count}: "
                            f"{ODD_PERIOD_DAY_COUNTS[schedule.odd_period_day_count]}"),
            ("rounding", f"interest per 1 {currency} of face truncated after "
                         f"{schedule.interest_decimals} decimals; each holder's gross (whole "
                         f"holding) floored to {_amount(schedule.rounding_unit)} {currency}"),
        ]
    rows += [
        ("principal", _principal_text(schedule)),
        ("withholding", "on coupons, never on principal, by the holder's tax category (below)"),
        ("tax account", tax_account),
        ("claim window", f"{payments.claim_window} after each payment date; then the issuer may "
                         f"take back what is unclaimed"),
        ("call", f"announced at least {payments.call_notice} before the payment date called; "
                 f"at {_plain(schedule.call_price)}% of the outstanding face"),
    ]
    return rows


def _csv_text(schedule: CouponSchedule) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in schedule.periods:
        outstanding = _hundred(p.outstanding)
        writer.writerow([
            "coupon", p.index, p.kind, p.accrual_start.isoformat(), p.accrual_end.isoformat(),
            p.days, str(p.day_count_fraction), p.record_time.isoformat(), p.record_timestamp,
            p.payment_date_unadjusted.isoformat(), p.payment_date.isoformat(),
            p.payment_timestamp, _plain(p.coupon_percent), str(p.interest_per_unit),
            p.interest_per_unit_scaled, _plain(p.interest_per_denomination), outstanding])
        if p.amortises:
            writer.writerow([
                "amortisation", p.index, "", "", "", "", "", p.record_time.isoformat(),
                p.record_timestamp, p.payment_date_unadjusted.isoformat(),
                p.payment_date.isoformat(), p.payment_timestamp,
                _hundred(p.principal_per_unit), _plain(p.principal_per_unit),
                p.principal_per_unit_scaled, _plain(p.principal_per_denomination), outstanding])
    r = schedule.redemption
    writer.writerow([
        "redemption", "", "", "", "", "", "", r.record_time.isoformat(), r.record_timestamp,
        r.maturity_date.isoformat(), r.payment_date.isoformat(), r.payment_timestamp,
        _hundred(r.amount_per_unit), _plain(r.amount_per_unit), r.amount_per_unit_scaled,
        _plain(r.amount_per_denomination), _hundred(r.outstanding)])
    return buffer.getvalue()


@click.group("coupon", cls=Group)
def coupon() -> None:
    """A bond's coupons: the schedule a term sheet gives, funding, payments (claim and push),
    withholding tax and its remittance, unclaimed funds."""


@coupon.command("schedule")
@click.argument("term_sheet", metavar="TERMSHEET", type=click.Path(dir_okay=False,
                                                                     path_type=Path))
@click.option("--csv", "csv_target", metavar="FILE|-", default=None,
              help="Write CSV (one line per coupon period, each followed by its amortisation "
                   "if any, then the redemption; exact amounts per original face, record and "
                   "payment times as ISO 8601 and unix seconds) to FILE, or to standard output "
                   "with -.")
@verbose_option
@click.pass_context
def schedule(ctx: click.Context, term_sheet: Path, csv_target: str | None) -> None:
    """The coupon schedule of the bond TERMSHEET describes: accrual periods, record times,
    payment dates (moved off bank holidays), the coupon of each period, the principal
    repayments (amortisation, redemption) and the withholding rates. Reads no chain: run it
    before `munibond deploy`.

    \b
    Conventions (term sheet fields under bond.coupon; Japanese municipal bonds by default):
      regular period   rate / frequency, whatever the number of days
      odd period       rate x days / 365, counting one end (odd_period_day_count)
      long first       a full coupon + the stub prorated as an odd period
      bank holiday     paid the previous business day, same amount (business_day,
                       calendar, holidays)
      record time      15:00 JST, 1 business day before payment (record_days_before,
                       record_time_of_day, timezone)
      rounding         interest per 1 unit of face truncated after 13 decimals
                       (interest_decimals); each holder's gross floored to 1 unit of the
                       currency (rounding_unit)
      amortisation     bond.amortisation: percent of the original face repaid on coupon
                       dates; later coupons accrue on the outstanding face
      withholding      payments.withholding: national + local rate per tax category
                       (individual 15.315% + 5%, corporate and non-resident 15.315%)
    """
    from munibond.cli.output import fields_table, table
    from munibond.schedule import coupon_schedule
    from munibond.termsheet import load_term_sheet

    state = state_of(ctx)
    sheet = load_term_sheet(term_sheet)
    plan = coupon_schedule(sheet)
    amortisations = len(plan.amortisations)
    if csv_target is not None:
        text = _csv_text(plan)
        if csv_target == "-":
            click.echo(text, nl=False)
        else:
            with open(csv_target, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
            repaid = f", {amortisations} amortisation(s)" if amortisations else ""
            state.say(f"wrote the coupon schedule of {plan.code} ({len(plan.periods)} period(s)"
                      f"{repaid} and the redemption) to {Path(csv_target).resolve()}")
        return

    currency = plan.currency
    per_bond = f"per {_amount(plan.denomination)} {currency}"
    record_header = "record time"
    state.show(fields_table(f"Coupon schedule of {plan.code}", _summary(plan, sheet)))
    notes = any(p.is_odd for p in plan.periods) or amortisations > 0
    rows: list[list[str]] = []
    for p in plan.periods:
        note = _note(p)
        if p.outstanding != 1:
            note = "; ".join(filter(None, [note, f"on {_hundred(p.outstanding)}% of face"]))
        rows.append([
            str(p.index), p.accrual_start.isoformat(), p.accrual_end.isoformat(), str(p.days),
            _when(p.record_time), _payment(plan, p.payment_date, p.payment_date_unadjusted),
            _percent(p.interest_per_unit), _amount(p.interest_per_denomination),
            "odd" if p.is_odd else "", *([note] if notes else [])])
        if p.amortises:
            rows.append([
                "amortisation", "", p.accrual_end.isoformat(), "", _when(p.record_time),
                _payment(plan, p.payment_date, p.payment_date_unadjusted),
                f"{_hundred(p.principal_per_unit)}%", _amount(p.principal_per_denomination), "",
                f"principal: {_plain(p.principal_percent)}% of face, "
                f"{_hundred(p.outstanding_after)}% left"])
    r = plan.redemption
    if plan.periods:
        rows.append(["total", plan.periods[0].accrual_start.isoformat(),
                     plan.periods[-1].accrual_end.isoformat(),
                     str(sum(p.days for p in plan.periods)), "", "",
                     _percent(plan.total_interest_per_unit),
                     _amount(plan.total_interest_per_denomination), "",
                     *([""] if notes else [])])
    final_note = "principal" if r.outstanding == 1 else (
        f"principal: the {_hundred(r.outstanding)}% left")
    rows.append(["redemption", "", r.maturity_date.isoformat(), "", _when(r.record_time),
                 _payment(plan, r.payment_date, r.maturity_date),
                 f"{_hundred(r.amount_per_unit)}%", _amount(r.amount_per_denomination), "",
                 *([final_note] if notes else [])])
    columns = ["period", "accrual start", "accrual end", "days", record_header, "payment date",
               "coupon % of face", per_bond, "odd", *(["note"] if notes else [])]
    state.show(table(columns, rows, right=["days", "coupon % of face", per_bond]))
    rates = ["national", "local", "total"]
    state.show(table(["tax category", "number", *rates], _withholding_rows(sheet),
                     title="Withholding tax on coupons", right=["number", *rates]))
    moved = sum(p.moved for p in plan.periods) + (0 if plan.periods else int(r.moved))
    odd = sum(p.is_odd for p in plan.periods)
    if plan.periods:
        state.say(f"{len(plan.periods)} coupon period(s), {odd} odd; {moved} payment date(s) "
                  f"moved off a bank holiday ({plan.business_day}). Coupon % of face: the "
                  f"interest per 1 {currency} of face (x 100), truncated after "
                  f"{plan.interest_decimals} decimals as stored on chain; a holder's gross is "
                  f"it x the whole holding, floored to {_amount(plan.rounding_unit)} "
                  f"{currency}.")
        if amortisations:
            state.say(f"{amortisations} amortisation(s) before maturity: amounts are per "
                      f"{currency} of ORIGINAL face (holdings are not reduced); each holder's "
                      f"principal is floored to {_amount(plan.rounding_unit)} {currency} like "
                      f"the coupon.")
    else:
        state.say("zero-coupon bond: no coupon periods; the principal is paid at maturity.")
