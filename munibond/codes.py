"""Code tables shared by the SDK, the CLI and the contracts.

* investor classes and tax categories: names <-> the ``uint8`` the registry stores;
* countries: ISO 3166-1 alpha-2, alpha-3 or numeric -> the numeric code (``uint16``) the registry
  stores (Japan is 392);
* JIS local-government codes (全国地方公共団体コード): six digits, the sixth a check digit; the
  first two are the prefecture (01 Hokkaido ... 47 Okinawa). An investor's residence is a six-digit
  code; a bond's *region rule* is a six-digit code (that exact local government) or a two-digit
  prefecture (every code of that prefecture);
* Ethereum addresses: checksummed (EIP-55) or all-lowercase in, checksummed out.

Every lookup failure raises :class:`CodeError` (a :class:`ValueError`) whose message lists what is
accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import pycountry
from eth_utils.address import is_checksum_address, to_checksum_address

from munibond.exceptions import MunibondError

__all__ = [
    "COUNTRY_JAPAN",
    "INVESTOR_CLASSES",
    "INVESTOR_CLASS_NAMES",
    "PREFECTURES",
    "TAX_CATEGORIES",
    "TAX_CATEGORY_NAMES",
    "CodeError",
    "country_alpha2",
    "country_numeric",
    "investor_class_id",
    "investor_class_mask",
    "investor_class_name",
    "isin_check_digit",
    "jis_check_digit",
    "parse_address",
    "parse_isin",
    "parse_region",
    "parse_region_rule",
    "prefecture_of",
    "region_rule_matches",
    "tax_category_id",
    "tax_category_name",
]


class CodeError(MunibondError, ValueError):
    """A code (investor class, tax category, country, local-government code, address) is unknown
    or malformed."""


#: Investor classes as stored in the registry (``uint8``); 0 means "not set".
INVESTOR_CLASSES: Final[Mapping[str, int]] = MappingProxyType({
    "retail": 1,
    "corporate": 2,
    "professional": 3,
    "qualified_institutional": 4,
    "public_entity": 5,
})
INVESTOR_CLASS_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {v: k for k, v in INVESTOR_CLASSES.items()})

#: Tax categories as stored in the registry (``uint8``); they select the withholding rate.
TAX_CATEGORIES: Final[Mapping[str, int]] = MappingProxyType({
    "exempt": 0,
    "individual": 1,
    "corporate": 2,
    "non_resident": 3,
})
TAX_CATEGORY_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {v: k for k, v in TAX_CATEGORIES.items()})

#: ISO 3166-1 numeric code of Japan.
COUNTRY_JAPAN: Final = 392

#: Prefecture numbers (the first two digits of a JIS local-government code).
PREFECTURES: Final[Mapping[int, str]] = MappingProxyType({
    1: "Hokkaido", 2: "Aomori", 3: "Iwate", 4: "Miyagi", 5: "Akita", 6: "Yamagata",
    7: "Fukushima", 8: "Ibaraki", 9: "Tochigi", 10: "Gunma", 11: "Saitama", 12: "Chiba",
    13: "Tokyo", 14: "Kanagawa", 15: "Niigata", 16: "Toyama", 17: "Ishikawa", 18: "Fukui",
    19: "Yamanashi", 20: "Nagano", 21: "Gifu", 22: "Shizuoka", 23: "Aichi", 24: "Mie",
    25: "Shiga", 26: "Kyoto", 27: "Osaka", 28: "Hyogo", 29: "Nara", 30: "Wakayama",
    31: "Tottori", 32: "Shimane", 33: "Okayama", 34: "Hiroshima", 35: "Yamaguchi",
    36: "Tokushima", 37: "Kagawa", 38: "Ehime", 39: "Kochi", 40: "Fukuoka", 41: "Saga",
    42: "Nagasaki", 43: "Kumamoto", 44: "Oita", 45: "Miyazaki", 46: "Kagoshima", 47: "Okinawa",
})


def _normalise_name(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _lookup(value: str | int, table: Mapping[str, int], names: Mapping[int, str],
            what: str) -> int:
    if isinstance(value, bool):
        raise CodeError(f"{what}: {value!r} is not a {what}")
    if isinstance(value, int):
        if value in names:
            return value
    elif isinstance(value, str):
        key = _normalise_name(value)
        if key in table:
            return table[key]
        if key.isdigit() and int(key) in names:
            return int(key)
    choices = ", ".join(f"{name} ({number})" for name, number in table.items())
    raise CodeError(f"unknown {what} {value!r}; expected one of: {choices}")


def investor_class_id(value: str | int) -> int:
    """``"retail"`` -> 1. Accepts the name (case, ``-`` and spaces ignored) or the number."""
    return _lookup(value, INVESTOR_CLASSES, INVESTOR_CLASS_NAMES, "investor class")


def investor_class_name(class_id: int) -> str:
    """1 -> ``"retail"``."""
    if class_id not in INVESTOR_CLASS_NAMES or isinstance(class_id, bool):
        raise CodeError(f"unknown investor class number {class_id!r}; expected 1 to "
                        f"{max(INVESTOR_CLASS_NAMES)}")
    return INVESTOR_CLASS_NAMES[class_id]


def investor_class_mask(classes: list[int] | tuple[int, ...]) -> int:
    """A bit mask with bit ``id`` set for every class id (retail and corporate -> 0b110)."""
    mask = 0
    for class_id in classes:
        mask |= 1 << investor_class_id(class_id)
    return mask


def tax_category_id(value: str | int) -> int:
    """``"individual"`` -> 1. Accepts the name (case, ``-`` and spaces ignored) or the number."""
    return _lookup(value, TAX_CATEGORIES, TAX_CATEGORY_NAMES, "tax category")


def tax_category_name(category: int) -> str:
    """1 -> ``"individual"``."""
    if category not in TAX_CATEGORY_NAMES or isinstance(category, bool):
        raise CodeError(f"unknown tax category number {category!r}; expected 0 to "
                        f"{max(TAX_CATEGORY_NAMES)}")
    return TAX_CATEGORY_NAMES[category]


# --- countries -------------------------------------------------------------------------------

_COUNTRY_HINT = "use an ISO 3166-1 alpha-2 (JP), alpha-3 (JPN) or numeric (392) country code"


def country_numeric(code: str | int) -> int:
    """ISO 3166-1 alpha-2, alpha-3 or numeric -> the numeric code: ``"JP"``, ``"jpn"``, ``"392"``
    and ``392`` all give 392."""
    if isinstance(code, bool):
        raise CodeError(f"country {code!r} is a boolean (in YAML, quote codes such as \"NO\"); "
                        f"{_COUNTRY_HINT}")
    country = None
    if isinstance(code, int):
        if 0 < code < 1000:
            country = pycountry.countries.get(numeric=f"{code:03d}")
    elif isinstance(code, str):
        text = code.strip()
        if text.isascii() and text.isdigit() and len(text) <= 3:
            country = pycountry.countries.get(numeric=text.zfill(3))
        elif text.isascii() and text.isalpha() and len(text) == 2:
            country = pycountry.countries.get(alpha_2=text.upper())
        elif text.isascii() and text.isalpha() and len(text) == 3:
            country = pycountry.countries.get(alpha_3=text.upper())
    else:
        raise CodeError(f"country: expected a string or an integer, got {type(code).__name__}")
    if country is None:
        raise CodeError(f"unknown country code {code!r}; {_COUNTRY_HINT}")
    return int(country.numeric)


def country_alpha2(numeric: int) -> str:
    """392 -> ``"JP"``."""
    country = None
    if not isinstance(numeric, bool) and isinstance(numeric, int) and 0 < numeric < 1000:
        country = pycountry.countries.get(numeric=f"{numeric:03d}")
    if country is None:
        raise CodeError(f"unknown ISO 3166-1 numeric country code {numeric!r}")
    return str(country.alpha_2)


# --- JIS local-government codes --------------------------------------------------------------

_JIS_WEIGHTS: Final = (6, 5, 4, 3, 2)


def jis_check_digit(code5: str | int) -> int:
    """The check digit of a five-digit JIS local-government code.

    The digits are weighted 6, 5, 4, 3, 2; the check digit is ``(11 - sum % 11) % 10``.
    ``jis_check_digit("13101")`` is 6 (Chiyoda, 131016).
    """
    text = f"{code5:05d}" if isinstance(code5, int) and not isinstance(code5, bool) else code5
    if not isinstance(text, str) or len(text) != 5 or not (text.isascii() and text.isdigit()):
        raise CodeError(f"a JIS check digit is computed from five digits, got {code5!r}")
    total = sum(int(digit) * weight for digit, weight in zip(text, _JIS_WEIGHTS, strict=True))
    return (11 - total % 11) % 10


def _prefecture_number(text: str, original: str | int) -> int:
    prefecture = int(text[:2])
    if prefecture not in PREFECTURES:
        raise CodeError(f"local-government code {original!r}: {text[:2]} is not a prefecture "
                        f"number; the first two digits must be 01 (Hokkaido) to 47 (Okinawa)")
    return prefecture


def _parse_jis(value: str | int, *, allow_prefecture: bool) -> int:
    accepted = ("a six-digit JIS local-government code with its check digit (e.g. 131016 for "
                "Chiyoda, Tokyo) or the first five digits (13101)")
    if allow_prefecture:
        accepted += ", or a two-digit prefecture number (\"13\" for all of Tokyo)"
    if isinstance(value, bool):
        raise CodeError(f"local-government code {value!r} is a boolean; expected {accepted}")
    if isinstance(value, int):
        # An int is the value as stored on chain: the six-digit code, leading zero implied
        # (11002 is 011002, Sapporo), or a prefecture number below 100 for a region rule.
        if allow_prefecture and 0 < value < 100:
            text = f"{value:02d}"
        elif 0 <= value <= 999_999:
            text = f"{value:06d}"
        else:
            raise CodeError(f"local-government code {value!r} is out of range; expected {accepted}")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise CodeError(f"local-government code: expected a string, got {type(value).__name__}")
    if not (text.isascii() and text.isdigit()):
        raise CodeError(f"local-government code {value!r} is not a number; expected {accepted}")
    if len(text) == 2 and allow_prefecture:
        return _prefecture_number(text, value)
    if len(text) == 5:
        _prefecture_number(text, value)
        return int(text + str(jis_check_digit(text)))
    if len(text) == 6:
        _prefecture_number(text, value)
        expected = jis_check_digit(text[:5])
        if int(text[5]) != expected:
            raise CodeError(
                f"local-government code {value!r} has a wrong check digit: for {text[:5]} it is "
                f"{expected} ({text[:5]}{expected}); the code may be mistyped"
            )
        return int(text)
    digits = f"{len(text)} digit" + ("s" if len(text) != 1 else "")
    raise CodeError(f"local-government code {value!r} has {digits}; expected {accepted}")


def parse_region(value: str | int) -> int:
    """An investor's region of residence: a JIS local-government code as a six-digit int.

    Accepts the six-digit code (check digit verified) or its first five digits (check digit
    added). An ``int`` is read as the six-digit code with leading zeros implied (as stored on
    chain). ``parse_region("011002")`` is 11002 (Sapporo).
    """
    return _parse_jis(value, allow_prefecture=False)


def parse_region_rule(value: str | int) -> int:
    """One entry of a bond's residents-only rule.

    Returns the six-digit code as an int (a rule matching that local government only), or, for a
    two-digit prefecture number ``"01"`` to ``"47"``, that number (< 100: a rule matching every
    code of the prefecture).
    """
    return _parse_jis(value, allow_prefecture=True)


def prefecture_of(region: int) -> int:
    """The prefecture number of a six-digit code (131016 -> 13)."""
    return region // 10_000


def region_rule_matches(rule: int, region: int) -> bool:
    """Whether a residence code satisfies one region rule entry (as the contract checks it):
    a prefecture rule (< 100) matches every code of that prefecture, a six-digit rule only the
    identical code."""
    if region <= 0:
        return False
    return prefecture_of(region) == rule if rule < 100 else rule == region


# --- addresses -------------------------------------------------------------------------------

_ADDRESS_RE: Final = re.compile(r"0x[0-9a-fA-F]{40}")


def parse_address(value: str, *, allow_zero: bool = False) -> str:
    """An Ethereum address, checksummed (EIP-55).

    Accepts a checksummed or an all-lowercase (or all-uppercase) hex address. A mixed-case address
    whose checksum does not match is refused: it is likely mistyped.
    """
    if not isinstance(value, str):
        raise CodeError(f"address: expected a string such as \"0xAbC...\", got "
                        f"{type(value).__name__} (in YAML, quote addresses)")
    text = value.strip()
    if not _ADDRESS_RE.fullmatch(text):
        detail = ("must start with 0x" if not text.startswith("0x") else
                  f"has {len(text) - 2} hex digits after 0x" if len(text) != 42 else
                  "contains a character that is not a hex digit")
        raise CodeError(f"{value!r} is not an address: an address is 0x followed by 40 hex "
                        f"digits; this one {detail}")
    body = text[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(text):
        raise CodeError(f"address {text} has a wrong EIP-55 checksum (the mix of upper and lower "
                        f"case): it may be mistyped; copy it again, or write it all in lowercase "
                        f"to skip the check")
    checksummed = str(to_checksum_address(text.lower()))
    if not allow_zero and int(body, 16) == 0:
        raise CodeError("the zero address 0x000...000 is not allowed here")
    return checksummed


# --- ISIN ------------------------------------------------------------------------------------

_ISIN_RE: Final = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")


def isin_check_digit(first11: str) -> int:
    """The ISO 6166 check digit of the first eleven characters of an ISIN (Luhn over the digits
    obtained by replacing A..Z with 10..35)."""
    text = first11.upper()
    if len(text) != 11 or not text.isascii() or not text.isalnum():
        raise CodeError(f"an ISIN check digit is computed from 11 letters and digits, got "
                        f"{first11!r}")
    digits = "".join(str(int(char, 36)) for char in text)
    total = 0
    # Luhn: double every second digit counting from the right of the payload (the check digit
    # will be appended to its right).
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def parse_isin(value: str) -> str:
    """Validate an ISIN (two letters, nine letters or digits, a Luhn check digit); returns it in
    upper case."""
    if not isinstance(value, str):
        raise CodeError(f"ISIN: expected a string, got {type(value).__name__}")
    text = value.strip().upper()
    if not _ISIN_RE.fullmatch(text):
        raise CodeError(f"{value!r} is not an ISIN: expected 12 characters, two letters (the "
                        f"country, e.g. JP), nine letters or digits and a check digit")
    expected = isin_check_digit(text[:11])
    if int(text[11]) != expected:
        raise CodeError(f"ISIN {text} has a wrong check digit: for {text[:11]} it is {expected}; "
                        f"the ISIN may be mistyped")
    return text
