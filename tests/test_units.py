"""munibond.units: exact money and rate conversions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from munibond.exceptions import AmountError
from munibond.units import (
    RATE_SCALE,
    UINT104_MAX,
    format_amount,
    format_rate,
    from_units,
    micros_to_rate,
    parse_decimal,
    parse_rate,
    parse_rate_micros,
    rate_to_micros,
    to_units,
)

# --- to_units / from_units -------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "decimals", "units"), [
    ("10000", 0, 10000),
    (10000, 0, 10000),
    (Decimal("10000"), 0, 10000),
    ("1.23", 2, 123),
    ("1.5", 18, 1_500_000_000_000_000_000),
    ("0", 6, 0),
    (" 42 ", 0, 42),
    ("1.2300", 2, 123),  # trailing zeros are not extra precision
])
def test_to_units(amount: Decimal | str | int, decimals: int, units: int) -> None:
    assert to_units(amount, decimals) == units


def test_to_units_is_exact_beyond_decimal_context_precision() -> None:
    # 40 significant digits: more than the default decimal context's 28.
    amount = "1234567890123456789012.345678901234567891"
    assert to_units(amount, 18) == 1234567890123456789012345678901234567891
    assert from_units(1234567890123456789012345678901234567891, 18) == Decimal(amount)


def test_too_fine_names_amount_and_step() -> None:
    with pytest.raises(AmountError) as info:
        to_units("1.005", 2, what="allotment")
    message = str(info.value)
    assert "allotment" in message and "1.005" in message and "0.01" in message


def test_not_a_multiple_names_step_and_neighbours() -> None:
    with pytest.raises(AmountError) as info:
        to_units("15000", 0, unit=10000, what="allotment")
    message = str(info.value)
    assert "15000" in message and "10000" in message and "20000" in message


def test_unit_with_decimals() -> None:
    assert to_units("2.50", 2, unit=50) == 250
    with pytest.raises(AmountError, match=r"0\.5"):
        to_units("2.25", 2, unit=50)


@pytest.mark.parametrize("amount", [1.5, 0.1, float("nan"), True, False])
def test_float_and_bool_refused(amount: object) -> None:
    with pytest.raises(AmountError):
        to_units(amount, 2)  # type: ignore[arg-type]


def test_float_error_explains() -> None:
    with pytest.raises(AmountError, match="string or a Decimal"):
        to_units(0.45, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [
    "-1", -1, Decimal("-0.01"), "abc", "", "  ", "1,000", "NaN", "Infinity", Decimal("NaN"),
    Decimal("Infinity"), "\uff11\uff10\uff10",  # full-width digits
    "1.2.3", "0x10", "1__0", "_1",
])
def test_malformed_refused(amount: Decimal | str | int) -> None:
    with pytest.raises(AmountError):
        to_units(amount, 0)


@pytest.mark.parametrize(("text", "reason"), [
    ("1e3", "exponent notation, which is not accepted; write all the digits, e.g. '1000'"),
    ("1E-2", "exponent notation"),
    ("1,000", "without thousands separators, e.g. '1000'"),
    ("500_000_000", "without thousands separators, e.g. '500000000'"),
    ("\uff11\uff10\uff10", "full-width digits are not accepted; type ASCII digits"),
    ("\uff11\uff0c\uff10\uff10\uff10", "full-width digits are not accepted"),
    ("+5", "has a sign"),
    ("-100", "must not be negative, got '-100'"),
    ("1 000", "contains whitespace"),
    ("1\t0", "contains whitespace"),
    ("NaN", "not a finite number"),
    ("-Infinity", "not a finite number"),
    ("+inf", "not a finite number"),
    ("inf", "not a finite number"),
    (".5", "needs a digit before the point, e.g. '0.5'"),
    ("5.", "ends with a point"),
    ("0x10", "not a number"),
])
def test_one_amount_grammar_refuses_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(AmountError) as info:
        parse_decimal(text, what="line 7 amount")
    message = str(info.value)
    assert reason in message, message
    assert message.startswith("line 7 amount") and (repr(text) in message or text in message)


@pytest.mark.parametrize("text", ["100", "0.5", "10000.25", " 42 ", "0", "007", "1.2300"])
def test_one_amount_grammar_accepts(text: str) -> None:
    assert parse_decimal(text) == Decimal(text.strip())


@pytest.mark.parametrize("value", [Decimal("-1"), Decimal("NaN"), Decimal("sNaN"),
                                   Decimal("Infinity"), Decimal("-Infinity"), -5])
def test_sdk_decimals_and_ints_negative_or_not_finite_refused(value: Decimal | int) -> None:
    with pytest.raises(AmountError):
        parse_decimal(value)
    with pytest.raises(AmountError):
        to_units(value, 0)


def test_sdk_decimals_and_ints_accepted() -> None:
    assert parse_decimal(Decimal("1E+3")) == 1000
    assert to_units(Decimal("1E+3"), 0) == 1000
    assert to_units(12, 0) == 12


def test_positive_refuses_zero_and_says_positive() -> None:
    with pytest.raises(AmountError,
                       match=r"amount must be positive \(more than zero\), got '-100'"):
        parse_decimal("-100", positive=True)
    with pytest.raises(AmountError, match="must be positive"):
        parse_decimal("0", positive=True)


def test_comma_hint() -> None:
    with pytest.raises(AmountError, match="thousands separators"):
        parse_decimal("10,000")


def test_max_units() -> None:
    assert to_units(str(UINT104_MAX), 0, max_units=UINT104_MAX) == UINT104_MAX
    with pytest.raises(AmountError, match="too large"):
        to_units(str(UINT104_MAX + 1), 0, max_units=UINT104_MAX)


@pytest.mark.parametrize("decimals", [-1, 78, True])
def test_bad_decimals(decimals: int) -> None:
    with pytest.raises(AmountError):
        to_units("1", decimals)


@pytest.mark.parametrize("unit", [0, -5, True])
def test_bad_unit(unit: int) -> None:
    with pytest.raises(AmountError):
        to_units("1", 0, unit=unit)


def test_from_units_keeps_precision_in_exponent() -> None:
    assert str(from_units(150, 2)) == "1.50"
    assert from_units(150, 2) == Decimal("1.5")
    assert from_units(0, 18) == 0
    assert str(from_units(10000, 0)) == "10000"


@given(units=st.integers(min_value=0, max_value=2**256), decimals=st.integers(0, 30))
def test_round_trip_units(units: int, decimals: int) -> None:
    amount = from_units(units, decimals)
    assert to_units(amount, decimals) == units
    assert to_units(f"{amount:f}", decimals) == units


@given(amount=st.decimals(min_value=0, max_value=10**30, places=6, allow_nan=False,
                          allow_infinity=False),
       extra=st.integers(0, 12))
def test_round_trip_amounts(amount: Decimal, extra: int) -> None:
    decimals = 6 + extra
    assert from_units(to_units(amount, decimals), decimals) == amount


@given(units=st.integers(min_value=1, max_value=10**24), unit=st.integers(1, 10**6))
def test_multiples_of_unit(units: int, unit: int) -> None:
    amount = from_units(units, 3)
    if units % unit:
        with pytest.raises(AmountError):
            to_units(amount, 3, unit=unit)
    else:
        assert to_units(amount, 3, unit=unit) == units


# --- format_amount ---------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "currency", "text"), [
    (Decimal(1234567), "JPY", "JPY 1,234,567"),
    (Decimal("1234.5"), "USD", "USD 1,234.50"),
    (Decimal("0.5"), "JPY", "JPY 0.5"),
    (Decimal("1.000"), "JPY", "JPY 1"),
    (Decimal("1.234"), "BHD", "BHD 1.234"),
    (0, "jpy", "JPY 0"),
    (Decimal("123456789012345678901234567890.000000000000000001"), "JPY",
     "JPY 123,456,789,012,345,678,901,234,567,890.000000000000000001"),
])
def test_format_amount(amount: Decimal | int, currency: str, text: str) -> None:
    assert format_amount(amount, currency) == text


# --- rates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fraction", "micros"), [
    ("0.450%", Decimal("0.0045"), 4500),
    ("0.45 %", Decimal("0.0045"), 4500),
    ("0.0045", Decimal("0.0045"), 4500),
    ("45bp", Decimal("0.0045"), 4500),
    ("45 bps", Decimal("0.0045"), 4500),
    ("0%", Decimal(0), 0),
    ("0.0001%", Decimal("0.000001"), 1),
    ("20.315%", Decimal("0.20315"), 203150),
    ("100%", Decimal(1), RATE_SCALE),
    (Decimal("0.0045"), Decimal("0.0045"), 4500),
    (0, Decimal(0), 0),
])
def test_parse_rate(text: str | Decimal | int, fraction: Decimal, micros: int) -> None:
    assert parse_rate(text) == fraction
    assert parse_rate_micros(text) == micros


def test_rate_finer_than_hundredth_bp() -> None:
    assert parse_rate("0.00005%") == Decimal("0.0000005")  # parsing is exact ...
    with pytest.raises(AmountError, match="hundredth of a basis point"):
        parse_rate_micros("0.00005%")  # ... storing it is not possible


@pytest.mark.parametrize("bad", [0.45, "abc", "%", "-0.1%", "0.45%%", "", True, "1,5%"])
def test_bad_rates(bad: object) -> None:
    with pytest.raises(AmountError):
        parse_rate(bad)  # type: ignore[arg-type]


def test_float_rate_error_explains() -> None:
    with pytest.raises(AmountError, match="percent sign"):
        parse_rate(0.45)  # type: ignore[arg-type]


def test_rate_helpers() -> None:
    assert micros_to_rate(4500) == Decimal("0.0045")
    assert format_rate(Decimal("0.0045")) == "0.450%"
    assert format_rate(Decimal("0.20315")) == "20.315%"
    assert format_rate(Decimal("0.0000005")) == "0.00005%"
    assert rate_to_micros("0.450%") == 4500


@given(micros=st.integers(min_value=0, max_value=10**12))
def test_rate_round_trip(micros: int) -> None:
    rate = micros_to_rate(micros)
    assert rate_to_micros(rate) == micros
    assert parse_rate_micros(format_rate(rate)) == micros
