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
    "RATE_SCALE",
    "UINT104_MAX",
    "UINT256_MAX",
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

# ASCII digits only (Decimal() would accept full-width digits, U+FF10..U+FF19), optional sign,
# underscores between digits (as in Python literals: "500_000_000"), optional exponent.
_DIGITS = r"[0-9](?:_?[0-9])*"
_DECIMAL_RE: Final = re.compile(
    rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
)

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


def parse_decimal(value: Decimal | str | int, *, what: str = "amount") -> Decimal:
    """Read ``value`` as an exact, finite ``Decimal``.

    Accepts a ``Decimal``, an ``int`` or a string of ASCII digits with an optional sign, decimal
    point, exponent and ``_`` digit separators. Refuses ``float`` and ``bool`` (with the reason),
    NaN and infinities, thousands separators and anything else.
    """
    if isinstance(value, bool):
        raise AmountError(f"{what}: {value!r} is a boolean, not a number")
    if isinstance(value, float):
        raise AmountError(f"{what}: got the float {value!r}; {_FLOAT_HINT}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise AmountError(f"{what}: {value} is not a finite number")
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise AmountError(f"{what}: empty; expected a decimal number such as \"10000\"")
        if "," in text and _DECIMAL_RE.fullmatch(text.replace(",", "")):
            raise AmountError(
                f"{what}: {value!r} contains a comma; write the number without thousands "
                f"separators, e.g. {text.replace(',', '')!r}"
            )
        if not _DECIMAL_RE.fullmatch(text):
            raise AmountError(
                f"{what}: {value!r} is not a decimal number; expected digits with an optional "
                f"decimal point, such as \"10000\" or \"0.5\""
            )
        return Decimal(text.replace("_", ""))
    raise AmountError(f"{what}: expected a decimal string, Decimal or int, got "
                      f"{type(value).__name__}")


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
    if value < 0:
        raise AmountError(f"{what} {value} is negative; amounts must be zero or more")
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


def currency_minor_units(currency: str) -> int:
    """ISO 4217 minor units of ``currency`` (JPY 0, USD 2, BHD 3); 2 when unknown."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def format_amount(amount: Decimal | int, currency: str) -> str:
    """An amount for people: ``format_amount(Decimal(1234567), "JPY")`` is ``"JPY 1,234,567"``.

    Shows at least the currency's minor units (``"USD 1,234.50"``) and never hides digits the
    amount has beyond them (``"JPY 0.5"`` stays visible).
    """
    value = parse_decimal(amount)
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
        try:
            rate = _shift(parse_decimal(text, what=what), shift)
        except AmountError:
            raise AmountError(
                f"{what}: {value!r} is not a rate; expected e.g. \"0.450%\", \"45bp\" or "
                f"\"0.0045\" (a fraction)"
            ) from None
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
