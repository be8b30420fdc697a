"""The term sheet: a bond's terms and rules in YAML, validated into a typed model.

``load_term_sheet(path)`` reads a YAML term sheet and returns a :class:`TermSheet`, or raises
:class:`~munibond.exceptions.TermSheetError` whose ``field`` is the dotted path of the offending
field (``bond.maturity_date``, ``documents[0].sha256``) and whose message says what is expected and
where in the file the field is. Unknown keys and duplicate keys are errors, so a typo cannot pass
silently.

YAML is read with YAML 1.2-like rules, stricter than PyYAML's default (YAML 1.1):

* only ``true``/``false`` are booleans (``NO``, Norway's country code, stays a string);
* only plain decimal integers are integers (``011002`` stays the string "011002" instead of becoming
  the octal number 4610; ``1:30`` is not a sexagesimal number);
* floats are kept but refused for money and rates: ``0.45`` is a binary floating-point number that
  cannot hold most decimals exactly, and for a rate it is ambiguous (0.45% or 45%?). Quote amounts
  (``"10000.5"``) and write rates with a percent sign (``"0.450%"``).

Money is ``Decimal`` in the model (face amounts in the bond's currency) with integer base-unit
properties (``issue_size_units`` ...) for the contracts. Dates without a time are 00:00 UTC.

The optional ``payments:`` section (:class:`Payments`) says how the bond pays on chain:
withholding rates per tax category (default: the Japanese rates, individual 15.315% national + 5%
local, corporate and non-resident 15.315%, exempt 0%), the tax account, the claim window (10
years) and the call notice (30 days) and price. ``bond.amortisation`` lists scheduled partial
repayments (:class:`Amortisation`).

Documents are hashed with **SHA-256** (the digest ``sha256sum`` prints), stored on chain as the
ERC-1643 ``bytes32`` document hash. A document given as ``file:`` (relative to the term sheet) is
hashed when the term sheet is loaded; when ``sha256:`` is given as well the two must agree.
"""

from __future__ import annotations

import calendar
import difflib
import hashlib
import os
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal, NoReturn, get_args

import pycountry
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from munibond import codes
from munibond.exceptions import AmountError, TermSheetError
from munibond.units import (
    UINT104_MAX,
    format_rate,
    parse_decimal,
    parse_rate,
    rate_to_micros,
    to_units,
)

__all__ = [
    "CALL_NOTICE_DEFAULT",
    "CLAIM_WINDOW_DEFAULT",
    "COUPON_FREQUENCIES",
    "JAPANESE_WITHHOLDING",
    "MAX_COUPON_RATE",
    "MAX_DURATION_YEARS",
    "MAX_HOLDERS_LIMIT",
    "MAX_INTEREST_DECIMALS",
    "MAX_RECORD_DAYS_BEFORE",
    "MAX_REGION_RULES",
    "MAX_TAX_RATE",
    "ODD_PERIOD_DAY_COUNTS",
    "TAX_RATE_SCALE",
    "Amortisation",
    "Bond",
    "CountryRule",
    "Coupon",
    "Document",
    "Duration",
    "Eligibility",
    "Payments",
    "Roles",
    "TaxRates",
    "TermSheet",
    "TermSheetValidationError",
    "Withholding",
    "load_term_sheet",
    "parse_term_sheet",
    "term_sheet_from_dict",
]

#: At most this many region rules (the contract checks them in a bounded loop).
MAX_REGION_RULES: Final = 8
#: ``max_holders`` must fit a uint32.
MAX_HOLDERS_LIMIT: Final = 2**32 - 1
#: A coupon rate above this is taken for a mistake (a bare "0.45" is 45%, not 0.45%).
MAX_COUPON_RATE: Final = Decimal("0.20")
#: Coupon payments a year that the schedule supports (0: zero coupon).
COUPON_FREQUENCIES: Final = (0, 1, 2, 4, 12)


class TermSheetValidationError(TermSheetError):
    """A term sheet failed validation. ``field``/``detail`` describe the first problem,
    ``problems`` all of them as ``(field, message)`` pairs, in file order."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        field, message = problems[0]
        if len(problems) > 1:
            others = "; ".join(f"{f or '(top level)'}: {m}" for f, m in problems[1:])
            message = f"{message} [and {len(problems) - 1} more: {others}]"
        super().__init__(field, message)
        self.detail = problems[0][1]


# --- validation helpers ----------------------------------------------------------------------

def _fail(message: str) -> NoReturn:
    # The message goes through the context so that braces in it are not format fields.
    raise PydanticCustomError("termsheet", "{detail}", {"detail": message})


class _FieldProblems(ValueError):
    """Raised by model validators to report problems of named sub-fields (dotted, relative)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def _float_text(value: float) -> str:
    return getattr(value, "yaml_text", None) or repr(value)


def _money(value: Any) -> Decimal:
    if isinstance(value, float):
        _fail(f"{_float_text(value)} is a floating-point number, which cannot hold most decimal "
              f"amounts exactly; write the amount as a quoted string, e.g. "
              f"\"{_float_text(value)}\"")
    try:
        return parse_decimal(value, what="amount", positive=True)
    except AmountError as error:
        _fail(f"{error} (amounts are quoted decimals such as \"10000\")")


def _rate(value: Any) -> Decimal:
    if isinstance(value, bool):
        _fail("expected a rate such as \"0.450%\", got a boolean")
    if isinstance(value, float):
        _fail(f"{_float_text(value)} is a floating-point number and ambiguous (0.45 could mean "
              f"0.45% or 45%); write the rate as a quoted string with a percent sign, e.g. "
              f"\"{_float_text(value)}%\"")
    try:
        return parse_rate(value, what="rate")
    except AmountError as error:
        _fail(str(error))


def _percent(value: Any) -> Decimal:
    if isinstance(value, float):
        _fail(f"{_float_text(value)} is a floating-point number; write the percentage as a quoted "
              f"string, e.g. \"100\" or \"100%\"")
    if isinstance(value, str) and value.strip().endswith("%"):
        value = value.strip()[:-1]
    try:
        percent = parse_decimal(value, what="percentage")
    except AmountError as error:
        _fail(f"expected a percentage of face such as \"100\" ({error})")
    if percent <= 0:
        _fail(f"must be more than zero percent of face, got {percent}")
    return percent


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        _fail(f"expected a date (YYYY-MM-DD) without a time, got {value.isoformat()}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            _fail(f"{value!r} is not a valid date ({error})")
    _fail(f"expected a date written YYYY-MM-DD (e.g. 2026-12-15), got {value!r}")


def _instant(value: Any) -> datetime:
    """A date (00:00 UTC) or a date and time with a time zone -> an aware datetime."""
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            value = _date(text)
        else:
            try:
                value = datetime.fromisoformat(text)
            except ValueError:
                _fail(f"expected a date (2027-01-15) or a date and time with a time zone "
                      f"(2027-01-15T00:00:00+09:00), got {value!r}")
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            _fail(f"{value.isoformat()} has no time zone; add one, e.g. "
                  f"{value.isoformat()}+09:00 (JST) or {value.isoformat()}Z (UTC); a plain date "
                  f"means 00:00 UTC")
        if value.microsecond:
            _fail(f"{value.isoformat()}: give whole seconds (the chain counts seconds)")
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    _fail(f"expected a date (2027-01-15) or a date and time with a time zone, got {value!r}")


def _code_checked(parser: Any, value: Any) -> Any:
    try:
        return parser(value)
    except codes.CodeError as error:
        _fail(str(error))


def _yaml_int_as_text(value: Any) -> Any:
    # An unquoted YAML number is the text the author wrote (leading-zero numbers stay strings in
    # our loader), so 281000 and "281000", 28 and "28" mean the same.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _jis_code(value: Any) -> str:
    return f"{_code_checked(codes.parse_region, _yaml_int_as_text(value)):06d}"


def _region_rule(value: Any) -> str:
    rule = _code_checked(codes.parse_region_rule, _yaml_int_as_text(value))
    return f"{rule:02d}" if rule < 100 else f"{rule:06d}"


def _country(value: Any) -> str:
    return codes.country_alpha2(_code_checked(codes.country_numeric, value))


def _investor_class(value: Any) -> str:
    return codes.investor_class_name(_code_checked(codes.investor_class_id, value))


def _address(value: Any) -> str:
    return str(_code_checked(codes.parse_address, value))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        _fail(f"expected text, got {value!r}")
    text = value.strip()
    if not text:
        _fail("must not be empty")
    return text


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"expected a whole number, got {value!r}")
    return value


def _percent_micros(percent: Decimal) -> int:
    """A percentage as a fraction in units of 1e-6 (100 -> 1,000,000), exactly."""
    return rate_to_micros(parse_rate(f"{percent}%"))


def _check_price(value: Decimal) -> Decimal:
    """A redemption or call price in percent of face: at most 200, to 0.0001% of face."""
    if value > 200:
        _fail(f"{value}% of face is implausible; give the percentage of face, e.g. \"100\"")
    try:
        _percent_micros(value)
    except AmountError:
        _fail(f"{value}% is finer than 0.0001% of face")
    return value


def _utc_timestamp(day: date) -> int:
    return calendar.timegm(day.timetuple())


def _unique(values: tuple[Any, ...] | list[Any], what: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            _fail(f"{what} {value!r} is listed twice")
        seen.add(value)


Money = Annotated[Decimal, BeforeValidator(_money)]
Rate = Annotated[Decimal, BeforeValidator(_rate)]
Percent = Annotated[Decimal, BeforeValidator(_percent)]
Day = Annotated[date, BeforeValidator(_date)]
Instant = Annotated[datetime, BeforeValidator(_instant)]
JisCode = Annotated[str, BeforeValidator(_jis_code)]
RegionRule = Annotated[str, BeforeValidator(_region_rule)]
CountryCode = Annotated[str, BeforeValidator(_country)]
InvestorClass = Annotated[str, BeforeValidator(_investor_class)]
Address = Annotated[str, BeforeValidator(_address)]
Text = Annotated[str, BeforeValidator(_text)]
Int = Annotated[StrictInt, BeforeValidator(_strict_int)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the model -------------------------------------------------------------------------------

#: How an odd (short) coupon period's interest is counted: the day count's name and what it means.
ODD_PERIOD_DAY_COUNTS: Final = {
    "actual/365 one end": "actual days / 365, counting one end: from the day after the start "
                          "date through the end date (片端入れ; Japanese bonds)",
    "actual/365 both ends": "actual days / 365, counting both the start and the end date "
                            "(両端入れ)",
}
#: ``record_days_before`` may be 0 to this many business days.
MAX_RECORD_DAYS_BEFORE: Final = 30
#: ``interest_decimals`` may be 1 to this.
MAX_INTEREST_DECIMALS: Final = 18


def _choice(value: Any, choices: Mapping[str, str], what: str) -> str:
    if isinstance(value, str) and value.strip() in choices:
        return value.strip()
    listed = "; ".join(f"{name!r} = {meaning}" for name, meaning in choices.items())
    guess = (difflib.get_close_matches(value.strip(), list(choices), n=1, cutoff=0.5)
             if isinstance(value, str) else [])
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    _fail(f"{value!r} is not a {what}; {hint}expected one of: {listed}")


def _business_day(value: Any) -> str:
    from munibond.calendars import BUSINESS_DAY_CONVENTIONS

    return _choice(value, BUSINESS_DAY_CONVENTIONS, "business-day convention")


def _calendar_name(value: Any) -> str:
    from munibond.calendars import CALENDARS

    return _choice(value, CALENDARS, "calendar")


def _day_count(value: Any) -> str:
    return _choice(value, ODD_PERIOD_DAY_COUNTS, "day count for odd periods")


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
        if match:
            hour, minute, second = (int(part or 0) for part in match.groups())
            if hour < 24 and minute < 60 and second < 60:
                return time(hour, minute, second)
    _fail(f"expected a time of day written HH:MM (24-hour clock, e.g. \"15:00\"), got {value!r}")


def _timezone(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not value.strip():
        _fail(f"expected an IANA time zone name such as Asia/Tokyo, got {value!r}")
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"{value!r} is not a known IANA time zone name; expected e.g. Asia/Tokyo (JST) or "
              f"UTC")
    return value.strip()


BusinessDayName = Annotated[
    Literal["preceding", "following", "modified_following", "none"],
    BeforeValidator(_business_day)]
CalendarChoice = Annotated[Literal["JP", "weekends"], BeforeValidator(_calendar_name)]
OddDayCount = Annotated[Literal["actual/365 one end", "actual/365 both ends"],
                        BeforeValidator(_day_count)]
TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]


class Coupon(_Model):
    """Coupon terms. ``rate`` is an exact annual fraction (``"0.450%"`` -> 0.0045).

    Only ``rate`` and ``frequency`` are required; the other fields shape the coupon schedule
    (:func:`munibond.schedule.coupon_schedule`) and default to the conventions of Japanese
    municipal bonds (docs/conventions.md): payment dates stepped back from maturity every
    12/frequency months, an odd first or last period counted actual/365 one end, payment on the
    previous business day of the JP bank calendar (accrual dates unchanged), holdings recorded at
    15:00 JST on the business day before payment, interest per 1 unit of face truncated after the
    13th decimal, each holder's gross floored to 1 unit of the currency.
    """

    rate: Rate = Field(description='annual coupon rate, e.g. "0.450%" ("0%" for a zero coupon)')
    frequency: Int = Field(description="coupon payments a year: 0 (zero coupon), 1, 2, 4 or 12")
    first_payment_date: Day | None = Field(
        default=None,
        description="first coupon date, YYYY-MM-DD, before business-day adjustment (default: "
                    "the maturity date stepped back by 12/frequency months, the first such date "
                    "after the issue date); later ones follow every 12/frequency months, the "
                    "last is the maturity date")
    odd_period_day_count: OddDayCount = Field(
        default="actual/365 one end",
        description='interest of an odd (short) first or last period: "actual/365 one end" '
                    '(days after the start through the end, / 365) or "actual/365 both ends"')
    business_day: BusinessDayName = Field(
        default="preceding",
        description="payment date on a bank holiday: preceding (municipal bonds), following, "
                    "modified_following or none")
    calendar: CalendarChoice = Field(
        default="JP", description="bank calendar: JP (weekends, national holidays, 31 Dec to "
                                  "3 Jan) or weekends")
    holidays: tuple[Day, ...] = Field(
        default=(), description="extra bank holidays the issuer supplies, YYYY-MM-DD")
    record_days_before: Int = Field(
        default=1, description="holdings are recorded this many business days before the "
                               "(adjusted) payment date, 0 to 30")
    record_time_of_day: TimeOfDay = Field(
        default=time(15, 0), description='time of day of the record, HH:MM, e.g. "15:00"')
    timezone: TimeZoneName = Field(
        default="Asia/Tokyo", description="IANA time zone of the record and payment times")
    interest_decimals: Int = Field(
        default=13, description="interest per 1 unit of face is truncated after this many "
                                "decimals, 1 to 18")
    rounding_unit: Money = Field(
        default=Decimal(1), description='each holder\'s gross is floored to a multiple of this '
                                       'amount of the currency, e.g. "1"')

    @field_validator("frequency")
    @classmethod
    def _check_frequency(cls, value: int) -> int:
        if value not in COUPON_FREQUENCIES:
            _fail(f"expected 0 (zero coupon), 1 (annual), 2 (semi-annual), 4 (quarterly) or 12 "
                  f"(monthly) payments a year, got {value}")
        return value

    @field_validator("rate")
    @classmethod
    def _check_rate(cls, value: Decimal) -> Decimal:
        if value > MAX_COUPON_RATE:
            _fail(f"{format_rate(value)} is above {format_rate(MAX_COUPON_RATE)}, most likely a "
                  f"mistake: write rates with a percent sign (\"0.45%\"); a bare number is a "
                  f"fraction (\"0.0045\" is 0.45%)")
        try:
            rate_to_micros(value)
        except AmountError as error:
            _fail(str(error))
        return value

    @field_validator("holidays")
    @classmethod
    def _check_holidays(cls, value: tuple[date, ...]) -> tuple[date, ...]:
        _unique(tuple(day.isoformat() for day in value), "holiday")
        return tuple(sorted(value))

    @field_validator("record_days_before")
    @classmethod
    def _check_record_days(cls, value: int) -> int:
        if not 0 <= value <= MAX_RECORD_DAYS_BEFORE:
            _fail(f"expected 0 to {MAX_RECORD_DAYS_BEFORE} business days before the payment "
                  f"date, got {value}")
        return value

    @field_validator("interest_decimals")
    @classmethod
    def _check_interest_decimals(cls, value: int) -> int:
        if not 1 <= value <= MAX_INTEREST_DECIMALS:
            _fail(f"expected 1 to {MAX_INTEREST_DECIMALS} decimals (Japanese bonds: 13), got "
                  f"{value}")
        return value

    @model_validator(mode="after")
    def _check_zero_coupon(self) -> Coupon:
        if self.frequency == 0 and self.rate != 0:
            raise _FieldProblems([("frequency", f"frequency 0 means a zero-coupon bond, but the "
                                                f"rate is {format_rate(self.rate)}: give the "
                                                f"number of payments a year (e.g. 2)")])
        if self.frequency != 0 and self.rate == 0:
            raise _FieldProblems([("rate", "the rate is 0% but coupons are paid "
                                           f"{self.frequency} times a year: for a zero-coupon "
                                           f"bond set frequency: 0")])
        if self.frequency == 0 and self.first_payment_date is not None:
            raise _FieldProblems([("first_payment_date", "a zero-coupon bond (frequency 0) pays "
                                                         "no coupons: omit first_payment_date")])
        return self

    @property
    def rate_micros(self) -> int:
        """The rate in hundredths of a basis point (1e-6): 0.450% -> 4500."""
        return rate_to_micros(self.rate)

    @property
    def months_between_payments(self) -> int:
        """12 / frequency (6 for semi-annual); 0 for a zero-coupon bond."""
        return 12 // self.frequency if self.frequency else 0


class Amortisation(_Model):
    """A scheduled partial repayment (定時償還): ``percent`` of the ORIGINAL face repaid on a
    coupon date before maturity, pro rata to every holder (no tokens are burnt: holdings stay in
    original face and later coupons accrue on the outstanding face)."""

    date: Day = Field(description="a coupon date (before holiday adjustment) before maturity, "
                                  "YYYY-MM-DD")
    percent: Percent = Field(description='share of the original face repaid, e.g. "20" or "20%"')


class Bond(_Model):
    """The bond's identity and economic terms. Amounts are face amounts in ``currency``."""

    code: Text = Field(description="bond code, e.g. KOBE-R-2026-01 (letters, digits, . _ -)")
    isin: str | None = Field(default=None,
                             description="ISIN, 12 characters with a valid check digit")
    name: Text = Field(description="bond name (the ERC-20 name)")
    symbol: Text = Field(description="ERC-20 symbol: 1 to 11 characters A-Z and 0-9")
    issuer: Text = Field(description="issuer's name, e.g. City of Kobe")
    issuer_code: JisCode = Field(description='JIS local-government code of the issuer, e.g. '
                                             '"281000"')
    currency: Text = Field(description="ISO 4217 currency code, e.g. JPY")
    decimals: Int = Field(description="token decimals, 0 to 18")
    denomination: Money = Field(description='face value of one bond, e.g. "10000"')
    trading_unit: Money = Field(description='smallest transferable face amount, e.g. "1"')
    issue_size: Money = Field(description='total face issued, a multiple of the denomination')
    issue_date: Day = Field(description="issue date, YYYY-MM-DD")
    maturity_date: Day = Field(description="maturity date, YYYY-MM-DD, after the issue date")
    coupon: Coupon = Field(description='coupon terms, e.g. {rate: "0.450%", frequency: 2}')
    redemption_price: Percent = Field(default=Decimal(100),
                                      description='redemption price in percent of face, e.g. '
                                                  '"100"')
    amortisation: tuple[Amortisation, ...] = Field(
        default=(), description="scheduled partial repayments before maturity: a list of "
                                "{date: a coupon date, percent: of the original face}; the rest "
                                "is repaid at maturity (default: none, a bullet bond)")

    @field_validator("code")
    @classmethod
    def _check_code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", value):
            _fail(f"{value!r}: a bond code is 1 to 32 characters: letters, digits, '.', '_' and "
                  f"'-', starting with a letter or digit")
        return value

    @field_validator("isin", mode="before")
    @classmethod
    def _check_isin(cls, value: Any) -> Any:
        return None if value is None else _code_checked(codes.parse_isin, value)

    @field_validator("symbol")
    @classmethod
    def _check_symbol(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{1,11}", value):
            _fail(f"{value!r}: a symbol is 1 to 11 characters, upper-case letters A-Z and digits")
        return value

    @field_validator("name", "issuer")
    @classmethod
    def _check_length(cls, value: str) -> str:
        if len(value) > 128:
            _fail(f"at most 128 characters, got {len(value)}")
        return value

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", value) or pycountry.currencies.get(alpha_3=value) is None:
            _fail(f"{value!r} is not an ISO 4217 currency code; expected three capital letters "
                  f"such as JPY")
        return value

    @field_validator("decimals")
    @classmethod
    def _check_decimals(cls, value: int) -> int:
        if not 0 <= value <= 18:
            _fail(f"token decimals must be 0 to 18, got {value}")
        return value

    @field_validator("redemption_price")
    @classmethod
    def _check_redemption(cls, value: Decimal) -> Decimal:
        return _check_price(value)

    @field_validator("amortisation", mode="before")
    @classmethod
    def _no_amortisation(cls, value: Any) -> Any:
        return () if value is None else value

    @model_validator(mode="after")
    def _check_amounts_and_dates(self) -> Bond:
        problems: list[tuple[str, str]] = []
        step = None
        try:
            step = to_units(self.trading_unit, self.decimals, what="the trading unit",
                            max_units=UINT104_MAX)
        except AmountError as error:
            problems.append(("trading_unit", f"{error}; use a trading unit that is a multiple "
                                             f"of the token's smallest unit, or more decimals"))
        if step is not None:
            for field, label in (("denomination", "the denomination"),
                                 ("issue_size", "the issue size")):
                try:
                    to_units(getattr(self, field), self.decimals, unit=step, what=label,
                             max_units=UINT104_MAX)
                except AmountError as error:
                    note = (f" (must be a multiple of the trading unit {self.trading_unit})"
                            if "multiple" in str(error) else "")
                    problems.append((field, f"{error}{note}"))
        if not problems:
            denomination = to_units(self.denomination, self.decimals)
            size = to_units(self.issue_size, self.decimals)
            if size % denomination:
                problems.append(("issue_size", f"{self.issue_size} is not a multiple of the "
                                               f"denomination {self.denomination}"))
        if self.maturity_date <= self.issue_date:
            problems.append(("maturity_date", f"{self.maturity_date} must be after the issue "
                                              f"date {self.issue_date}"))
        if problems:
            raise _FieldProblems(problems)
        return self

    @model_validator(mode="after")
    def _check_amortisation(self) -> Bond:
        if not self.amortisation:
            return self
        if self.coupon.frequency == 0:
            raise _FieldProblems([("amortisation", "a zero-coupon bond has no coupon dates to "
                                                   "repay principal on: omit amortisation")])
        problems: list[tuple[str, str]] = []
        previous: date | None = None
        for index, part in enumerate(self.amortisation):
            where = f"amortisation[{index}]"
            if not self.issue_date < part.date < self.maturity_date:
                problems.append((f"{where}.date",
                                 f"{part.date} must be after the issue date {self.issue_date} "
                                 f"and before the maturity date {self.maturity_date} (the rest "
                                 f"of the face is repaid at maturity)"))
            elif previous is not None and part.date <= previous:
                problems.append((f"{where}.date",
                                 f"{part.date} is not after the previous amortisation date "
                                 f"{previous}: list the dates once each, in order"))
            previous = part.date
            try:
                _percent_micros(part.percent)
            except AmountError:
                problems.append((f"{where}.percent", f"{part.percent}% is finer than 0.0001% of "
                                                     f"face"))
        total = sum((part.percent for part in self.amortisation), Decimal(0))
        if not problems and total >= 100:
            problems.append(("amortisation",
                             f"the amortisations repay {total}% of the original face before "
                             f"maturity; they must leave some face to repay at maturity (less "
                             f"than 100% in all)"))
        if problems:
            raise _FieldProblems(problems)
        return self

    # integer views for the contracts

    @property
    def amortised_percent(self) -> Decimal:
        """Percent of the original face repaid before maturity (0 for a bullet bond)."""
        return sum((part.percent for part in self.amortisation), Decimal(0))

    @property
    def trading_unit_units(self) -> int:
        return to_units(self.trading_unit, self.decimals)

    @property
    def denomination_units(self) -> int:
        return to_units(self.denomination, self.decimals)

    @property
    def issue_size_units(self) -> int:
        return to_units(self.issue_size, self.decimals)

    @property
    def issuer_code_int(self) -> int:
        return int(self.issuer_code)

    @property
    def issue_timestamp(self) -> int:
        """00:00 UTC of the issue date, in seconds."""
        return _utc_timestamp(self.issue_date)

    @property
    def maturity_timestamp(self) -> int:
        """00:00 UTC of the maturity date, in seconds."""
        return _utc_timestamp(self.maturity_date)

    @property
    def redemption_price_micros(self) -> int:
        """Redemption price as a fraction of face in units of 1e-6 (100% -> 1,000,000)."""
        return _percent_micros(self.redemption_price)


class CountryRule(_Model):
    """Either ``allow`` (only these countries) or ``deny`` (all but these), never both."""

    allow: tuple[CountryCode, ...] | None = Field(
        default=None, description="countries allowed (ISO 3166-1 codes, e.g. [JP])")
    deny: tuple[CountryCode, ...] | None = Field(
        default=None, description="countries refused (ISO 3166-1 codes)")

    @model_validator(mode="after")
    def _one_of(self) -> CountryRule:
        if self.allow is None and self.deny is None:
            raise _FieldProblems([("", "give either allow: [..] or deny: [..] (or omit "
                                       "countries to accept any country)")])
        if self.allow is not None and self.deny is not None:
            raise _FieldProblems([("deny", "give either allow or deny, not both")])
        listed = self.allow if self.allow is not None else self.deny
        key = "allow" if self.allow is not None else "deny"
        assert listed is not None
        if not listed:
            raise _FieldProblems([(key, "the list is empty; omit countries to accept any "
                                        "country")])
        try:
            _unique(listed, "country")
        except PydanticCustomError as error:
            raise _FieldProblems([(key, error.message())]) from None
        return self

    @property
    def mode(self) -> Literal["allow", "deny"]:
        return "allow" if self.allow is not None else "deny"

    @property
    def numeric_codes(self) -> tuple[int, ...]:
        listed = self.allow if self.allow is not None else self.deny or ()
        return tuple(codes.country_numeric(code) for code in listed)

    def permits(self, country: int) -> bool:
        numerics = self.numeric_codes
        return country in numerics if self.mode == "allow" else country not in numerics


class Eligibility(_Model):
    """Who may hold the bond. Every rule omitted means "no restriction"."""

    investor_classes: tuple[InvestorClass, ...] | None = Field(
        default=None, description="investor classes allowed, e.g. [retail, corporate]")
    countries: CountryRule | None = Field(
        default=None, description="{allow: [JP]} or {deny: [..]}")
    regions: tuple[RegionRule, ...] | None = Field(
        default=None, description='residents-only rule: up to 8 prefecture ("28") or six-digit '
                                  'JIS codes')
    max_holding_per_investor: Money | None = Field(
        default=None, description="cap on face held, a multiple of the trading unit")
    aggregate_wallets: StrictBool = Field(
        default=False, description="apply the cap and holder count per investor (all wallets)")
    max_holders: Int | None = Field(default=None, description="maximum number of holders")
    lockup_until: Instant | None = Field(
        default=None, description="transfers between investors refused before this date "
                                  "(00:00 UTC) or date and time with a time zone")

    @field_validator("investor_classes")
    @classmethod
    def _check_classes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                _fail("the list is empty; omit investor_classes to accept every class")
            _unique(value, "investor class")
        return value

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            if not value:
                _fail("the list is empty; omit regions to accept residents of anywhere")
            if len(value) > MAX_REGION_RULES:
                _fail(f"at most {MAX_REGION_RULES} region rules, got {len(value)}; use prefecture "
                      f"codes to cover more local governments")
            _unique(value, "region")
        return value

    @field_validator("max_holders")
    @classmethod
    def _check_max_holders(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_HOLDERS_LIMIT:
            _fail(f"must be 1 to {MAX_HOLDERS_LIMIT} (omit it for no limit), got {value}")
        return value

    @model_validator(mode="after")
    def _check_regions_in_japan(self) -> Eligibility:
        if self.regions and self.countries is not None \
                and not self.countries.permits(codes.COUNTRY_JAPAN):
            raise _FieldProblems([("regions", "region rules are Japanese local-government codes, "
                                              "but the country rule refuses Japan (JP)")])
        return self

    @property
    def investor_class_ids(self) -> tuple[int, ...]:
        return tuple(codes.investor_class_id(name) for name in self.investor_classes or ())

    @property
    def region_rules(self) -> tuple[int, ...]:
        return tuple(int(rule) for rule in self.regions or ())


class Roles(_Model):
    """Role holders; an omitted role goes to the deployer."""

    admin: Address | None = Field(default=None, description="address of the admin")
    issuer: Address | None = Field(default=None, description="address of the issuer")
    transfer_agent: Address | None = Field(default=None,
                                           description="address of the transfer agent")
    pauser: Address | None = Field(default=None, description="address of the pauser")
    paying_agent: Address | None = Field(default=None, description="address of the paying agent")


class Document(_Model):
    """A document recorded on chain by name, URI and SHA-256 hash (ERC-1643)."""

    name: Text = Field(description="document name, at most 32 bytes (e.g. prospectus)")
    uri: str = Field(default="", description="where the document can be fetched")
    sha256: str | None = Field(default=None,
                               description="SHA-256 of the document, 64 hex digits")
    file: str | None = Field(default=None, description="local file, relative to the term sheet, "
                                                       "hashed at load time")

    @model_validator(mode="before")
    @classmethod
    def _hash_file(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("file"), str):
            return data
        base = (info.context or {}).get("base_dir")
        path = Path(base or Path.cwd()) / data["file"]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as error:
            raise _FieldProblems([("file", f"cannot read {path}: "
                                           f"{error.strerror or error}")]) from None
        given = data.get("sha256")
        if isinstance(given, str) and _normal_hex(given) not in (digest, None):
            raise _FieldProblems([("sha256", f"does not match the file {data['file']}, whose "
                                             f"SHA-256 is {digest}: the file or the hash is not "
                                             f"the one meant")])
        return {**data, "sha256": digest}

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        if len(value.encode()) > 32:
            _fail(f"at most 32 bytes (stored as bytes32), {value!r} has {len(value.encode())}")
        return value

    @field_validator("sha256", mode="before")
    @classmethod
    def _check_sha256(cls, value: Any) -> Any:
        if value is None:
            return None
        digest = _normal_hex(value) if isinstance(value, str) else None
        if digest is None:
            _fail(f"expected 64 hex digits (the output of sha256sum), got {value!r}")
        return digest

    @model_validator(mode="after")
    def _need_hash(self) -> Document:
        if self.sha256 is None:
            raise _FieldProblems([("sha256", "give sha256: (64 hex digits) or file: (a path "
                                             "relative to the term sheet, hashed at load time)")])
        return self

    @property
    def hash_bytes(self) -> bytes:
        """The SHA-256 digest, 32 bytes (the ERC-1643 document hash)."""
        assert self.sha256 is not None
        return bytes.fromhex(self.sha256)

    @property
    def name_bytes32(self) -> bytes:
        """The name as ERC-1643 ``bytes32`` (UTF-8, right-padded with zeros)."""
        return self.name.encode().ljust(32, b"\0")


def _normal_hex(value: str) -> str | None:
    text = value.strip().lower().removeprefix("0x")
    return text if re.fullmatch(r"[0-9a-f]{64}", text) else None


# --- payments on chain ------------------------------------------------------------------------

#: On chain, withholding rates are integers in units of 0.001%: 100% is 100,000.
TAX_RATE_SCALE: Final = 100_000
#: The contract stores each rate as a uint16: at most 65.535%.
MAX_TAX_RATE: Final = 2**16 - 1
#: ``claim_window`` and ``call_notice`` are at most this many years (or the same in days).
MAX_DURATION_YEARS: Final = 100


def _duration(value: Any) -> Any:
    if isinstance(value, Mapping | Duration):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*(days?|years?)\s*", value)
        if match:
            count, unit = int(match.group(1)), match.group(2)
            if count * (365 if unit.startswith("year") else 1) > MAX_DURATION_YEARS * 365:
                _fail(f"{value.strip()} is more than {MAX_DURATION_YEARS} years")
            return {"count": count, "unit": unit if unit.endswith("s") else unit + "s"}
    if isinstance(value, int) and not isinstance(value, bool):
        _fail(f"{value} has no unit; write \"{value} days\" or \"{value} years\"")
    _fail(f"expected a length of time such as \"30 days\" or \"10 years\", got {value!r}")


class Duration(_Model):
    """A length of time written ``"30 days"`` or ``"10 years"`` (dumped the same way).

    On chain it is seconds: days are 86,400 seconds each; years are calendar years counted from
    each payment date (:func:`munibond.schedule.onchain_schedule`)."""

    count: Int = Field(description="how many days or years, 0 or more")
    unit: Literal["days", "years"] = Field(description="days or years")

    @field_validator("count")
    @classmethod
    def _check_count(cls, value: int) -> int:
        if value < 0:
            _fail(f"must be zero or more, got {value}")
        return value

    @model_validator(mode="after")
    def _check_length(self) -> Duration:
        days = self.count if self.unit == "days" else self.count * 365
        if days > MAX_DURATION_YEARS * 365:
            raise _FieldProblems([("count", f"{self} is more than {MAX_DURATION_YEARS} years")])
        return self

    @model_serializer(mode="plain")
    def _as_text(self) -> str:
        return str(self)

    def __str__(self) -> str:
        unit = self.unit if self.count != 1 else self.unit[:-1]
        return f"{self.count} {unit}"


DurationText = Annotated[Duration, BeforeValidator(_duration)]


def _tax_rate(value: Any) -> Decimal:
    rate = _rate(value)
    exact = Fraction(rate) * TAX_RATE_SCALE
    if exact.denominator != 1:
        _fail(f"{format_rate(rate)} is finer than 0.001%, the precision of withholding rates on "
              f"chain")
    if exact > MAX_TAX_RATE:
        _fail(f"{format_rate(rate)} is above {format_rate(Decimal(MAX_TAX_RATE) / TAX_RATE_SCALE)}"
              f", the largest rate the contract stores")
    return rate


TaxRate = Annotated[Decimal, BeforeValidator(_tax_rate)]


class TaxRates(_Model):
    """The withholding tax on coupons of one tax category: a national and a local part.
    Principal is never taxed."""

    national: TaxRate = Field(description='national income tax withheld, e.g. "15.315%" '
                                          '(income tax 15% + special reconstruction income tax '
                                          '0.315%)')
    local: TaxRate = Field(description='local inhabitant tax withheld, e.g. "5%" (利子割)')

    @model_validator(mode="after")
    def _check_total(self) -> TaxRates:
        if self.national + self.local > 1:
            raise _FieldProblems([("local", f"national {format_rate(self.national)} + local "
                                            f"{format_rate(self.local)} is more than 100%")])
        return self

    @property
    def total(self) -> Decimal:
        return self.national + self.local

    @property
    def onchain(self) -> tuple[int, int]:
        """``(national, local)`` in units of 0.001% (15.315% -> 15315), as the contract takes
        them (``setTaxRates``)."""
        return (int(Fraction(self.national) * TAX_RATE_SCALE),
                int(Fraction(self.local) * TAX_RATE_SCALE))


#: The Japanese withholding on interest of public bonds (特定公社債), by tax category.
JAPANESE_WITHHOLDING: Final[Mapping[str, TaxRates]] = MappingProxyType({
    "exempt": TaxRates(national=Decimal(0), local=Decimal(0)),
    "individual": TaxRates(national=Decimal("0.15315"), local=Decimal("0.05")),
    "corporate": TaxRates(national=Decimal("0.15315"), local=Decimal(0)),
    "non_resident": TaxRates(national=Decimal("0.15315"), local=Decimal(0)),
})


class Withholding(_Model):
    """Withholding rates per tax category (the names of :data:`munibond.codes.TAX_CATEGORIES`,
    the category the investor registry stores for each investor). A category omitted keeps the
    Japanese rate (:data:`JAPANESE_WITHHOLDING`); a category given needs both parts."""

    exempt: TaxRates = Field(default=JAPANESE_WITHHOLDING["exempt"],
                             description="tax-exempt investors: 0% + 0%")
    individual: TaxRates = Field(default=JAPANESE_WITHHOLDING["individual"],
                                 description="resident individuals: 15.315% + 5% (20.315%)")
    corporate: TaxRates = Field(default=JAPANESE_WITHHOLDING["corporate"],
                                description="resident companies: 15.315% + 0% (the local part "
                                            "for companies was abolished in 2016)")
    non_resident: TaxRates = Field(default=JAPANESE_WITHHOLDING["non_resident"],
                                   description="non-residents: 15.315% + 0% (before any treaty "
                                               "relief)")

    def by_category(self) -> dict[str, TaxRates]:
        """The rates by category name, in category-number order."""
        return {name: getattr(self, name)
                for name, _ in sorted(codes.TAX_CATEGORIES.items(), key=lambda item: item[1])}

    def onchain(self) -> dict[int, tuple[int, int]]:
        """Category number -> ``(national, local)`` in units of 0.001%."""
        return {codes.tax_category_id(name): rates.onchain
                for name, rates in self.by_category().items()}


#: ``payments.claim_window`` by default: 10 years, the prescription of bond principal in Japan.
CLAIM_WINDOW_DEFAULT: Final = Duration(count=10, unit="years")
#: ``payments.call_notice`` by default: 30 days.
CALL_NOTICE_DEFAULT: Final = Duration(count=30, unit="days")


class Payments(_Model):
    """How the bond pays on chain: withholding, the tax account, the claim window and calls.
    Every field is optional; the defaults are the Japanese conventions."""

    withholding: Withholding = Field(default=Withholding(),
                                     description="withholding rates per tax category: "
                                                 "{individual: {national: \"15.315%\", local: "
                                                 "\"5%\"}, ...}")
    tax_account: Address | None = Field(
        default=None, description="address the withheld tax is remitted to (default: none; the "
                                  "admin sets it with setTaxAccount before the first remittance)")
    claim_window: DurationText = Field(
        default=CLAIM_WINDOW_DEFAULT,
        description='how long after each payment date holders can claim before the issuer may '
                    'take back what is unclaimed, e.g. "10 years" (the prescription of bond '
                    'principal in Japan) or "3650 days"')
    call_notice: DurationText = Field(
        default=CALL_NOTICE_DEFAULT,
        description='minimum notice of an issuer call before the payment date of the period '
                    'called, e.g. "30 days"')
    call_price: Percent | None = Field(
        default=None, description='call price in percent of the outstanding face, e.g. "100" '
                                  '(default: the redemption price); the contract refuses a '
                                  'call below it')
    callable: bool = Field(
        default=True, description="whether the issuer may call the bond before maturity (false: "
                                  "the contract refuses every call)")
    first_call_date: date | None = Field(
        default=None, description="the earliest payment date a call may take effect at, in the "
                                  "coupon's time zone (default: any payment date)")

    @field_validator("withholding", mode="before")
    @classmethod
    def _empty_withholding(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("claim_window")
    @classmethod
    def _check_claim_window(cls, value: Duration) -> Duration:
        if value.count == 0:
            _fail("the claim window must be positive, e.g. \"10 years\"")
        return value

    @field_validator("call_price")
    @classmethod
    def _check_call_price(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else _check_price(value)


class TermSheet(_Model):
    """A bond's term sheet. Build it with :func:`load_term_sheet`."""

    bond: Bond = Field(description="the bond's identity and terms")
    eligibility: Eligibility = Field(default=Eligibility(), description="who may hold the bond")
    roles: Roles = Field(default=Roles(), description="role holders (omitted: the deployer)")
    documents: tuple[Document, ...] = Field(default=(),
                                            description="documents: name, uri, sha256 or file")
    payments: Payments = Field(default=Payments(),
                               description="on-chain payments: withholding, tax_account, "
                                           "claim_window, call_notice, call_price")

    @field_validator("eligibility", "roles", "documents", "payments", mode="before")
    @classmethod
    def _empty_section(cls, value: Any, info: ValidationInfo) -> Any:
        # "eligibility:" with every rule commented out reads as null: the same as omitting it.
        if value is None:
            return () if info.field_name == "documents" else {}
        return value

    @model_validator(mode="after")
    def _check_cross_fields(self) -> TermSheet:
        problems: list[tuple[str, str]] = []
        bond, rules = self.bond, self.eligibility
        cap = rules.max_holding_per_investor
        if cap is not None:
            try:
                units = to_units(cap, bond.decimals, unit=bond.trading_unit_units,
                                 what="the cap", max_units=UINT104_MAX)
                if units < bond.denomination_units:
                    problems.append(("eligibility.max_holding_per_investor",
                                     f"{cap} is below the denomination {bond.denomination}: "
                                     f"nobody could buy a single bond"))
            except AmountError as error:
                note = (f" (must be a multiple of the trading unit {bond.trading_unit})"
                        if "multiple" in str(error) else "")
                problems.append(("eligibility.max_holding_per_investor", f"{error}{note}"))
        if rules.lockup_until is not None:
            issue = datetime(bond.issue_date.year, bond.issue_date.month, bond.issue_date.day,
                             tzinfo=UTC)
            maturity = issue + timedelta(days=(bond.maturity_date - bond.issue_date).days)
            if not issue < rules.lockup_until < maturity:
                problems.append(("eligibility.lockup_until",
                                 f"{rules.lockup_until.isoformat()} must be after the issue date "
                                 f"{bond.issue_date} and before the maturity date "
                                 f"{bond.maturity_date} (omit it for no lock-up)"))
        seen: dict[str, int] = {}
        for index, document in enumerate(self.documents):
            if document.name in seen:
                first = seen[document.name]
                problems.append((f"documents[{index}].name",
                                 f"{document.name!r} is also the name of documents[{first}]; "
                                 f"names must be unique"))
            seen.setdefault(document.name, index)
        if problems:
            raise _FieldProblems(problems)
        return self

    # --- integer views for the contracts ---------------------------------------------------

    @property
    def decimals(self) -> int:
        return self.bond.decimals

    @property
    def issue_size_units(self) -> int:
        """Total face in token base units."""
        return self.bond.issue_size_units

    @property
    def denomination_units(self) -> int:
        return self.bond.denomination_units

    @property
    def trading_unit_units(self) -> int:
        return self.bond.trading_unit_units

    @property
    def max_holding_units(self) -> int | None:
        """Cap per investor (or wallet) in base units; None when there is no cap."""
        cap = self.eligibility.max_holding_per_investor
        return None if cap is None else to_units(cap, self.bond.decimals)

    @property
    def coupon_rate_micros(self) -> int:
        """Annual coupon rate in hundredths of a basis point (0.450% -> 4500)."""
        return self.bond.coupon.rate_micros

    @property
    def redemption_price_micros(self) -> int:
        return self.bond.redemption_price_micros

    @property
    def investor_class_ids(self) -> tuple[int, ...]:
        """Allowed class ids (codes.INVESTOR_CLASSES); empty means any class."""
        return self.eligibility.investor_class_ids

    @property
    def investor_class_mask(self) -> int:
        """Bit ``id`` set for every allowed class; 0 means any class."""
        return codes.investor_class_mask(self.investor_class_ids)

    @property
    def country_mode(self) -> Literal["any", "allow", "deny"]:
        rule = self.eligibility.countries
        return "any" if rule is None else rule.mode

    @property
    def country_codes(self) -> tuple[int, ...]:
        """ISO 3166-1 numeric codes of the allow or deny list (see ``country_mode``)."""
        rule = self.eligibility.countries
        return () if rule is None else rule.numeric_codes

    @property
    def region_rules(self) -> tuple[int, ...]:
        """Region rules: six-digit JIS codes, or prefecture numbers (< 100); empty: anyone."""
        return self.eligibility.region_rules

    @property
    def max_holders(self) -> int | None:
        return self.eligibility.max_holders

    @property
    def issue_timestamp(self) -> int:
        return self.bond.issue_timestamp

    @property
    def maturity_timestamp(self) -> int:
        return self.bond.maturity_timestamp

    @property
    def lockup_timestamp(self) -> int | None:
        """End of the lock-up in seconds (UTC); None when there is none."""
        lockup = self.eligibility.lockup_until
        return None if lockup is None else int(lockup.timestamp())

    def withholding_rates(self) -> dict[int, tuple[int, int]]:
        """The withholding rates as the contract takes them (``setTaxRates(category, national,
        local)``): tax category number (:data:`munibond.codes.TAX_CATEGORIES`) ->
        ``(national, local)`` in units of 0.001% (individual: ``(15315, 5000)``)."""
        return self.payments.withholding.onchain()

    @property
    def call_price(self) -> Decimal:
        """The call price in percent of the outstanding face (default: the redemption price)."""
        price = self.payments.call_price
        return self.bond.redemption_price if price is None else price

    @property
    def tax_account(self) -> str | None:
        """Where withheld tax is remitted; None: the admin sets it later."""
        return self.payments.tax_account


# --- YAML ------------------------------------------------------------------------------------

class _YamlFloat(float):
    """A YAML float that remembers how it was written (for error messages)."""

    yaml_text: str


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-like scalars (see the module docstring)."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL_TAG, _INT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    _INT_TAG, re.compile(r"^[-+]?(?:0|[1-9](?:_?[0-9])*)$"), list("-+0123456789"))


def _construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    assert isinstance(node, yaml.ScalarNode)
    value = _YamlFloat(loader.construct_yaml_float(node))
    value.yaml_text = str(node.value)
    return value


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    assert isinstance(node, yaml.ScalarNode)
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:  # e.g. 2026-13-01: let the model say what is wrong with it
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

_Path = tuple[str | int, ...]


def _dotted(loc: _Path) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _index_nodes(node: yaml.Node, path: _Path, marks: dict[_Path, tuple[int, int]],
                 source: str) -> None:
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in lines and key != "<<":
                raise TermSheetError(_dotted((*path, key)),
                                     f"the key {key!r} appears twice ({source}, lines "
                                     f"{lines[key]} and {line}); keep one")
            lines[key] = line
            marks[(*path, key)] = (line, key_node.start_mark.column + 1)
            _index_nodes(value_node, (*path, key), marks, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            marks[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _index_nodes(item, (*path, index), marks, source)


def _load_yaml(text: str, source: str) -> tuple[Any, dict[_Path, tuple[int, int]]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise TermSheetError("", f"{source} is empty; expected a mapping with a bond: section")
        marks: dict[_Path, tuple[int, int]] = {}
        _index_nodes(node, (), marks, source)
        return loader.construct_document(node), marks
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise TermSheetError("", f"{source}: YAML syntax error{where}: {problem}") from None
    except yaml.YAMLError as error:
        raise TermSheetError("", f"{source}: cannot read YAML: {error}") from None
    finally:
        loader.dispose()


# --- errors ----------------------------------------------------------------------------------

def _model_at(loc: _Path) -> type[BaseModel] | None:
    """The model class that the (string) parts of ``loc`` lead to from TermSheet."""
    model: type[BaseModel] | None = TermSheet
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        model = _find_model(model.model_fields[part].annotation)
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def _short(value: Any) -> str:
    text = repr(_float_text(value) if isinstance(value, float) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse_path(field: str) -> _Path:
    """``"documents[1].name"`` -> ``("documents", 1, "name")``."""
    return tuple(int(part[1:-1]) if part.startswith("[") else part
                 for part in re.findall(r"\[\d+\]|[^.\[\]]+", field))


def _describe(error: Mapping[str, Any]) -> list[tuple[_Path, str]]:
    loc: _Path = tuple(error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "value_error" and isinstance(ctx.get("error"), _FieldProblems):
        return [(loc + _parse_path(field), message) for field, message in ctx["error"].problems]
    if kind == "termsheet":
        return [(loc, str(ctx.get("detail", error["msg"])))]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        key = str(loc[-1])
        guess = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {guess[0]!r}?" if guess else ""
        return [(loc, f"unknown field {key!r}{hint} Allowed here: {', '.join(allowed)}"
                 if allowed else f"unknown field {key!r}")]
    if kind == "missing":
        model = _model_at(loc[:-1])
        info = model.model_fields.get(str(loc[-1])) if model else None
        expected = f": {info.description}" if info and info.description else ""
        return [(loc, f"required field is missing{expected}")]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(loc)
        fields = f" ({', '.join(model.model_fields)})" if model else ""
        return [(loc, f"expected a mapping of fields{fields}, got {_short(error.get('input'))}")]
    if kind in ("tuple_type", "list_type"):
        return [(loc, f"expected a list ([a, b] or one '- item' a line), got "
                      f"{_short(error.get('input'))}")]
    message = str(error["msg"]).removeprefix("Value error, ")
    return [(loc, f"{message}, got {_short(error.get('input'))}")]


def _translate(error: ValidationError, marks: Mapping[_Path, tuple[int, int]],
               source: str | None) -> TermSheetValidationError:
    problems: list[tuple[tuple[bool, int, int], str, str]] = []
    for item in error.errors():
        missing = item["type"] == "missing"  # listed after the others: a typo explains it
        for loc, message in _describe(item):
            where = ""
            mark = (0, 0)
            for depth in range(len(loc), -1, -1):
                if loc[:depth] in marks:
                    mark = marks[loc[:depth]]
                    break
            if source is not None and mark != (0, 0):
                where = f" ({source}, line {mark[0]})"
            problems.append(((missing, *mark), _dotted(loc), message + where))
    problems.sort(key=lambda problem: problem[0])
    return TermSheetValidationError([(field, message) for _, field, message in problems])


# --- entry points ----------------------------------------------------------------------------

def term_sheet_from_dict(data: Any, *, base_dir: str | os.PathLike[str] | None = None,
                         _marks: Mapping[_Path, tuple[int, int]] | None = None,
                         _source: str | None = None) -> TermSheet:
    """Validate already-parsed data (a mapping as from YAML or JSON) into a :class:`TermSheet`.

    ``base_dir`` is where ``documents[].file`` paths are resolved (default: the working
    directory). Raises :class:`TermSheetValidationError` (a :class:`TermSheetError`).
    """
    if not isinstance(data, Mapping):
        raise TermSheetError("", f"{_source or 'the term sheet'}: expected a mapping with a "
                                 f"bond: section at the top level, got {type(data).__name__}")
    context = {"base_dir": Path(base_dir) if base_dir is not None else None}
    try:
        sheet = TermSheet.model_validate(data, context=context)
    except ValidationError as error:
        raise _translate(error, _marks or {}, _source) from None
    # the coupon schedule's own checks (dates against issue and maturity, business days,
    # record times) refuse a malformed schedule when the file is loaded, not at deployment
    from munibond.schedule import coupon_schedule

    try:
        coupon_schedule(sheet)
    except TermSheetError as error:
        where = ""
        if _source:
            path = _parse_path(error.field)
            marks = _marks or {}
            line = next((marks[path[:depth]][0] for depth in range(len(path), 0, -1)
                         if path[:depth] in marks), None)
            where = f" ({_source}, line {line})" if line else f" ({_source})"
        raise TermSheetError(error.field, f"{error.detail}{where}") from None
    return sheet


def parse_term_sheet(text: str, *, source: str = "<term sheet>",
                     base_dir: str | os.PathLike[str] | None = None) -> TermSheet:
    """Parse and validate a term sheet given as YAML text."""
    data, marks = _load_yaml(text, source)
    return term_sheet_from_dict(data, base_dir=base_dir, _marks=marks, _source=source)


def load_term_sheet(path: str | os.PathLike[str]) -> TermSheet:
    """Read, parse and validate a YAML term sheet file.

    Raises :class:`~munibond.exceptions.TermSheetError` for a missing or unreadable file, a YAML
    syntax error (with line and column) and every validation problem (with the dotted field path
    and the line).
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise TermSheetError("", f"term sheet file {file} not found") from None
    except IsADirectoryError:
        raise TermSheetError("", f"{file} is a directory, not a term sheet file") from None
    except OSError as error:
        raise TermSheetError("", f"cannot read {file}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise TermSheetError("", f"{file}: line {line} is not valid UTF-8; save the file as "
                                 f"UTF-8") from None
    return parse_term_sheet(text, source=str(file), base_dir=file.parent)
