"""Exact conversion between amounts of money (``Decimal``) and integer base units, and rates.

Money is ``Decimal`` at the edges and ``int`` inside, never ``float``: a binary float cannot hold
most decimal fractions (``0.1 + 0.2 != 0.3``), so every function here refuses floats and says how to
write the amount instead. All arithmetic is exact (rational), independent of the ``decimal``
context's precision.

Rates are exact ``Decimal`` fractions (``"0.450%"`` is ``Decimal("0.00450")``). On chain a rate
is an integer number of *hundredths of a basis point* (units of 10^-6): ``"0.450%"`` is ``4500``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Final

from munibond.exceptions import AmountError

__all__ = [
    "AMOUNT_GRAMMAR",
    "RATE_SCALE",
    "UINT104_MAX",
    "UINT256_MAX",
    "amount_text",
    "currency_minor_units",
    "format_amount",
    "format_rate",
    "from_units",
    "micros_to_rate",
    "parse_decimal",
    "parse_rate",
    "parse_rate_micros",
    "rate_to_micros",
    "to_units",
]

#: On-chain rates are integers in units of 1e-6 (a hundredth of a basis point): 0.450% -> 4500.
RATE_SCALE: Final = 1_000_000
#: Largest amount, in base units, that a bond's balances and supply may hold (uint104).
UINT104_MAX: Final = 2**104 - 1
UINT256_MAX: Final = 2**256 - 1

# The one amount grammar (CLI arguments and options, CSV cells, YAML term sheets, SDK strings):
# ASCII digits with an optional fraction - "100", "0.5", "10000.25". No sign, no exponent, no
# separators, no whitespace inside, no NaN or infinity.
_AMOUNT_RE: Final = re.compile(r"[0-9]+(?:\.[0-9]+)?")
#: what an amount looks like, for messages
AMOUNT_GRAMMAR: Final = "ASCII digits with an optional fraction, such as \"10000\" or \"0.5\""
_NOT_FINITE: Final = frozenset({"nan", "snan", "qnan", "inf", "infinity"})

# ISO 4217 minor units that differ from 2 (used only to format amounts for people).
_MINOR_UNITS: Final[dict[str, int]] = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}

_FLOAT_HINT = (
    "floating-point numbers cannot hold most decimal amounts exactly; pass a string or a "
    "Decimal instead (in YAML, quote the number: \"0.45\" rather than 0.45)"
)


def _full_width(text: str) -> bool:
    """Full-width forms (U+FF01..U+FF5E: digits, comma, point, signs) or any other non-ASCII
    digit."""
    return any("\uff01" <= ch <= "\uff5e" or (ch.isdigit() and not ch.isascii()) for ch in text)


def _plain_text(text: str) -> str | None:
    """``text`` written without exponent when it is a finite number (for hints), else None."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    if not value.is_finite() or abs(value.adjusted()) > 30:
        return None
    return f"{value:f}"


def _text_problem(text: str, what: str, original: str, *, positive: bool) -> str | None:
    """Why ``text`` (stripped) is not an amount of the grammar, or None when it is one."""
    if _AMOUNT_RE.fullmatch(text):
        return None
    shown = repr(original)
    if not text:
        return f"{what}: empty; expected {AMOUNT_GRAMMAR}"
    if _full_width(text):
        return (f"{what}: {shown}: full-width digits are not accepted; type ASCII digits "
                f"(0-9), e.g. \"10000\"")
    if text.lower().lstrip("+-") in _NOT_FINITE:
        return f"{what}: {shown} is not a finite number; expected {AMOUNT_GRAMMAR}"
    if text[0] == "-":
        bare = text[1:].strip()
        example = repr(bare) if _AMOUNT_RE.fullmatch(bare) else "\"10000\""
        if positive:
            return (f"{what} must be positive (more than zero), got {shown}; write the amount "
                    f"without a sign, e.g. {example}")
        return (f"{what} must not be negative, got {shown}; amounts are written without a "
                f"sign, e.g. {example}")
    if text[0] == "+":
        return (f"{what}: {shown} has a sign; write the amount without one, e.g. "
                f"{text[1:].strip()!r}")
    if any(ch.isspace() for ch in text) and _AMOUNT_RE.fullmatch("".join(text.split())):
        return (f"{what}: {shown} contains whitespace; write the amount as one run of digits, "
                f"e.g. {''.join(text.split())!r}")
    for separator, name in ((",", "a comma"), ("_", "an underscore"), ("'", "an apostrophe")):
        if separator in text:
            bare = text.replace(separator, "")
            if _AMOUNT_RE.fullmatch(bare):
                return (f"{what}: {shown} contains {name}; write the number without thousands "
                        f"separators, e.g. {bare!r}")
    if "e" in text.lower():
        plain = _plain_text(text)
        if plain is not None:
            return (f"{what}: {shown} is in exponent notation, which is not accepted; write "
                    f"all the digits, e.g. {plain!r}")
    if text.startswith("."):
        return f"{what}: {shown} needs a digit before the point, e.g. {'0' + text!r}"
    if text.endswith(".") and _AMOUNT_RE.fullmatch(text[:-1]):
        return f"{what}: {shown} ends with a point; write {text[:-1]!r}"
    return f"{what}: {shown} is not a number; expected {AMOUNT_GRAMMAR}"


def parse_decimal(value: Decimal | str | int, *, what: str = "amount",
                  positive: bool = False) -> Decimal:
    """Read ``value`` as an exact, finite, non-negative ``Decimal``: the one parser of amounts.

    A string must follow the one amount grammar: ASCII digits with an optional fraction
    (``"100"``, ``"0.5"``, ``"10000.25"``), optionally surrounded by whitespace. Refused, each
    with its reason: signs, exponents (``"1e3"``), thousands separators (``"1,000"``,
    ``"1_000"``), full-width digits, whitespace inside, NaN and infinities. A ``Decimal`` or an
    ``int`` is taken as it is, unless negative, NaN or infinite. ``float`` and ``bool`` are
    refused (with the reason). ``positive``: zero is refused too. ``what`` names the field in
    the message.
    """
    if isinstance(value, bool):
        raise AmountError(f"{what}: {value!r} is a boolean, not a number")
    if isinstance(value, float):
        raise AmountError(f"{what}: got the float {value!r}; {_FLOAT_HINT}")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError(f"{what}: {value} is not a finite number")
        amount = value
    elif isinstance(value, str):
        problem = _text_problem(value.strip(), what, value, positive=positive)
        if problem is not None:
            raise AmountError(problem)
        amount = Decimal(value.strip())
    else:
        raise AmountError(f"{what}: expected a decimal string, Decimal or int, got "
                          f"{type(value).__name__}")
    if amount < 0:
        if positive:
            raise AmountError(f"{what} must be positive (more than zero), got {value}")
        raise AmountError(f"{what} must not be negative, got {value}")
    if positive and amount == 0:
        raise AmountError(f"{what} must be positive (more than zero), got {value}")
    return amount


def _shift(value: Decimal, places: int) -> Decimal:
    """``value * 10**places``, exactly (``Decimal.scaleb`` rounds to the context's precision)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    return Decimal((sign, digits, exponent + places))


def _fraction_digits(value: Decimal) -> int:
    """How many digits ``value`` has after the decimal point, trailing zeros not counted (exact;
    ``Decimal.normalize`` would round to the context's precision)."""
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + trailing)) if any(digits) else 0


def _check_decimals(decimals: int) -> None:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 77:
        raise AmountError(f"decimals must be an integer from 0 to 77, got {decimals!r}")


def from_units(units: int, decimals: int) -> Decimal:
    """The amount of money that ``units`` base units are, exactly (``from_units(150, 2)`` is 1.50).

    The result's exponent is ``-decimals``, so it shows the token's precision; it compares equal to
    any other ``Decimal`` of the same value.
    """
    if isinstance(units, bool) or not isinstance(units, int):
        raise AmountError(f"units must be an integer, got {units!r}")
    _check_decimals(decimals)
    sign, digits, _ = Decimal(units).as_tuple()
    return Decimal((sign, digits, -decimals))


def _step_text(unit: int, decimals: int) -> str:
    value = from_units(unit, decimals)
    return f"{value:.{_fraction_digits(value)}f}"


def to_units(
    amount: Decimal | str | int,
    decimals: int,
    *,
    unit: int = 1,
    what: str = "amount",
    max_units: int | None = None,
) -> int:
    """Convert an amount of money to integer base units (``amount * 10**decimals``), exactly.

    ``unit`` is the step, in base units, the result must be a multiple of (a trading unit or a
    denomination). Raises :class:`AmountError`, naming ``what``, the amount and the allowed step,
    when the amount is finer than the token's precision or not a multiple of ``unit``, when it is
    negative, above ``max_units``, or not a number (floats and booleans are refused).
    """
    _check_decimals(decimals)
    if isinstance(unit, bool) or not isinstance(unit, int) or unit < 1:
        raise AmountError(f"unit must be a positive integer number of base units, got {unit!r}")
    value = parse_decimal(amount, what=what)
    scale: int = 10**decimals
    exact = Fraction(value) * scale
    if exact.denominator != 1:
        raise AmountError(
            f"{what} {value} is finer than the token allows: with {decimals} decimals the "
            f"smallest step is {_step_text(1, decimals)}"
        )
    units = exact.numerator
    if units % unit:
        raise AmountError(
            f"{what} {value} is not a multiple of {_step_text(unit, decimals)} (the allowed step); "
            f"nearest allowed amounts: {_step_text(units - units % unit, decimals)} and "
            f"{_step_text(units - units % unit + unit, decimals)}"
        )
    if max_units is not None and units > max_units:
        raise AmountError(
            f"{what} {value} is too large: at most {_step_text(max_units, decimals)} "
            f"({max_units} base units) fits"
        )
    return units


def amount_text(amount: Decimal | int) -> str:
    """An amount as the one grammar writes it, for files a person or a program reads back:
    ``Decimal("0E-18")`` -> ``"0.000000000000000000"``, ``Decimal("1E+3")`` -> ``"1000"``."""
    return f"{Decimal(amount):f}"


def currency_minor_units(currency: str) -> int:
    """ISO 4217 minor units of ``currency`` (JPY 0, USD 2, BHD 3); 2 when unknown."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def format_amount(amount: Decimal | int, currency: str) -> str:
    """An amount for people: ``format_amount(Decimal(1234567), "JPY")`` is ``"JPY 1,234,567"``.

    Shows at least the currency's minor units (``"USD 1,234.50"``) and never hides digits the
    amount has beyond them (``"JPY 0.5"`` stays visible).
    """
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int) or (
            isinstance(amount, Decimal) and not amount.is_finite()):
        raise AmountError(f"cannot format {amount!r} as an amount")
    value = Decimal(amount)
    places = max(currency_minor_units(currency), _fraction_digits(value))
    return f"{currency.upper()} {value:,.{places}f}"


def parse_rate(value: Decimal | str | int, *, what: str = "rate") -> Decimal:
    """Read a rate as an exact fraction: ``"0.450%"`` -> ``Decimal("0.00450")``.

    A string may end in ``%`` (percent) or ``bp`` (basis points); without a suffix it is a plain
    fraction (``"0.0045"``). Decimals and ints are fractions too. Floats are refused (``0.45`` would
    be ambiguous as well as inexact: 0.45% or 45%?); negative rates are refused.
    """
    if isinstance(value, float):
        raise AmountError(
            f"{what}: got the float {value!r}; write the rate as a quoted string with a percent "
            f"sign, e.g. \"0.450%\" (a bare number would be read as a fraction: 0.45 is 45%)"
        )
    if isinstance(value, str):
        text = value.strip()
        shift = 0
        for suffix, places in (("%", -2), ("bps", -4), ("bp", -4)):
            if text.lower().endswith(suffix):
                text, shift = text[: -len(suffix)].rstrip(), places
                break
        if text.startswith("-"):
            raise AmountError(f"{what}: {value!r} is negative; rates must be zero or more")
        try:
            rate = _shift(parse_decimal(text, what=what), shift)
        except AmountError as error:
            hint = "e.g. \"0.450%\", \"45bp\" or \"0.0045\" (a fraction)"
            if "is not a number" in str(error) or not text:
                raise AmountError(f"{what}: {value!r} is not a rate; expected {hint}") from None
            raise AmountError(f"{error}; a rate is written {hint}") from None
    else:
        rate = parse_decimal(value, what=what)
    if rate < 0:
        raise AmountError(f"{what}: {value!r} is negative; rates must be zero or more")
    return rate


def rate_to_micros(rate: Decimal | str | int, *, what: str = "rate") -> int:
    """A rate as integer hundredths of a basis point (units of 1e-6): ``"0.450%"`` -> ``4500``.

    Raises :class:`AmountError` when the rate is finer than 0.0001% (one hundredth of a basis
    point).
    """
    fraction = parse_rate(rate, what=what) if isinstance(rate, str) else parse_decimal(rate,
                                                                                      what=what)
    if fraction < 0:
        raise AmountError(f"{what}: {rate!r} is negative; rates must be zero or more")
    exact = Fraction(fraction) * RATE_SCALE
    if exact.denominator != 1:
        raise AmountError(
            f"{what}: {format_rate(fraction)} is finer than 0.0001% (a hundredth of a basis "
            f"point), the precision rates are stored with"
        )
    return exact.numerator


def parse_rate_micros(value: Decimal | str | int, *, what: str = "rate") -> int:
    """:func:`parse_rate` then :func:`rate_to_micros`: ``"0.450%"`` -> ``4500``."""
    return rate_to_micros(parse_rate(value, what=what), what=what)


def micros_to_rate(micros: int) -> Decimal:
    """The exact fraction of an on-chain rate: ``4500`` -> ``Decimal("0.004500")``."""
    return from_units(micros, 6)


def format_rate(rate: Decimal) -> str:
    """A fraction as a percentage for people: ``Decimal("0.0045")`` -> ``"0.450%"``.

    At least three decimal places of a percent, more when the rate has them.
    """
    percent = _shift(parse_decimal(rate, what="rate"), 2)
    places = max(3, _fraction_digits(percent))
    return f"{percent:.{places}f}%"
