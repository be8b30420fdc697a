"""Readers for the investor and allotment CSV files.

Investors (one line per wallet)::

    wallet,investor_id,name,country,investor_class,tax_category,region,kyc_valid_until
    0xBcd4...4096,1001,Yamada Taro,JP,retail,individual,281107,2031-12-31

* ``wallet``: checksummed or all-lowercase address; a wallet may appear only once;
* ``investor_id``: positive integer below 2^64; an investor's wallets share it (and must then
  share country, class, tax category and region: they are one person or company);
* ``name``: an off-chain label, optional (the column may be left out);
* ``country``: ISO 3166-1 alpha-2, alpha-3 or numeric (JP, JPN, 392);
* ``investor_class`` and ``tax_category``: names or numbers from :mod:`munibond.codes`;
* ``region``: JIS local-government code of residence (six digits, or five without the check
  digit); empty for "none", which is the only value allowed for residents outside Japan;
* ``kyc_valid_until``: YYYY-MM-DD, the last day the KYC check is valid.

Allotments::

    wallet,amount
    0xBcd4...4096,1000000

``amount`` is face in the bond's currency, a decimal string; a wallet may appear only once.

Columns may come in any order; unknown columns are errors. A UTF-8 byte-order mark, blank lines,
CRLF line ends and trailing empty cells (as spreadsheets write them) are tolerated. Every problem
raises :class:`~munibond.exceptions.InputFileError` naming the file, the line and the column.
"""

from __future__ import annotations

import calendar
import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final, TypeVar

from munibond import codes
from munibond.exceptions import AmountError, InputFileError
from munibond.units import parse_decimal, to_units

__all__ = [
    "ALLOTMENT_COLUMNS",
    "INVESTOR_COLUMNS",
    "MAX_INVESTOR_ID",
    "Allotment",
    "Investor",
    "read_allotments",
    "read_investors",
]

INVESTOR_COLUMNS: Final = ("wallet", "investor_id", "name", "country", "investor_class",
                           "tax_category", "region", "kyc_valid_until")
_INVESTOR_OPTIONAL: Final = frozenset({"name"})
ALLOTMENT_COLUMNS: Final = ("wallet", "amount")
#: Investor ids are uint64 and non-zero.
MAX_INVESTOR_ID: Final = 2**64 - 1

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Investor:
    """One wallet of an investor, as the registry stores it (codes as numbers)."""

    wallet: str                 #: checksummed address
    investor_id: int            #: shared by the investor's wallets, 1 .. 2^64-1
    name: str                   #: off-chain label ("" when not given)
    country: int                #: ISO 3166-1 numeric (392 = Japan)
    investor_class: int         #: codes.INVESTOR_CLASSES
    tax_category: int           #: codes.TAX_CATEGORIES
    region: int                 #: six-digit JIS code of residence, 0 when none
    kyc_valid_until: date       #: last day the KYC check is valid
    line: int                   #: line of the file it was read from

    @property
    def country_code(self) -> str:
        """ISO 3166-1 alpha-2 (``"JP"``)."""
        return codes.country_alpha2(self.country)

    @property
    def investor_class_name(self) -> str:
        return codes.investor_class_name(self.investor_class)

    @property
    def tax_category_name(self) -> str:
        return codes.tax_category_name(self.tax_category)

    @property
    def kyc_expiry(self) -> int:
        """The first second (UTC) at which the KYC check is no longer valid: 00:00 UTC of the
        day after ``kyc_valid_until``. Valid while ``block.timestamp < kyc_expiry``."""
        return calendar.timegm((self.kyc_valid_until + timedelta(days=1)).timetuple())


@dataclass(frozen=True, slots=True)
class Allotment:
    """A primary allotment: ``amount`` of face (in the bond's currency) to ``wallet``."""

    wallet: str                 #: checksummed address
    amount: Decimal             #: face amount in the bond's currency
    line: int                   #: line of the file it was read from

    def units(self, decimals: int, *, unit: int = 1) -> int:
        """The amount in token base units; :class:`AmountError` if not a multiple of ``unit``."""
        return to_units(self.amount, decimals, unit=unit, what="allotment")


# --- reading ---------------------------------------------------------------------------------

class _Row:
    """One data row with its line number and access to its cells by column name."""

    def __init__(self, path: str, line: int, cells: dict[str, str]) -> None:
        self.path = path
        self.line = line
        self.cells = cells

    def error(self, column: str, message: str) -> InputFileError:
        return InputFileError(self.path, self.line, f"column {column!r}: {message}")

    def get(self, column: str, parser: Callable[[str], _T], *, required: bool = True,
            expected: str = "") -> _T:
        text = self.cells.get(column, "").strip()
        if not text and required:
            raise self.error(column, f"empty; expected {expected or 'a value'}")
        try:
            return parser(text)
        except (codes.CodeError, AmountError, ValueError) as error:
            raise self.error(column, str(error)) from None


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(str(path), None, "file not found") from None
    except IsADirectoryError:
        raise InputFileError(str(path), None, "is a directory, not a CSV file") from None
    except OSError as error:
        raise InputFileError(str(path), None, f"cannot read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputFileError(
            str(path), line,
            "not valid UTF-8 (a file saved as Shift_JIS?); save it as UTF-8 (in Excel: "
            "\"CSV UTF-8\")") from None


def _rows(path: str | os.PathLike[str], columns: tuple[str, ...],
          optional: frozenset[str] = frozenset()) -> Iterator[_Row]:
    file = Path(path)
    name = str(file)
    reader = csv.reader(io.StringIO(_read_text(file), newline=""), strict=True)
    expected = ",".join(columns)
    header: list[str] | None = None
    last_line = 0
    try:
        for fields in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue  # blank line (or only empty cells)
            if header is None:
                header = _check_header(name, line, fields, columns, optional, expected)
                continue
            while len(fields) > len(header) and not fields[-1].strip():
                fields = fields[:-1]  # trailing empty cells, as spreadsheets write them
            if len(fields) != len(header):
                raise InputFileError(
                    name, line,
                    f"{len(fields)} fields, the header has {len(header)} ({','.join(header)}); "
                    f"a comma inside a value splits it: quote text that contains commas and "
                    f"write amounts without thousands separators")
            yield _Row(name, line, dict(zip(header, fields, strict=True)))
    except csv.Error as error:
        raise InputFileError(name, reader.line_num or None, f"malformed CSV: {error}") from None
    if header is None:
        raise InputFileError(name, None, f"the file is empty; expected the header {expected}")


def _check_header(path: str, line: int, fields: list[str], columns: tuple[str, ...],
                  optional: frozenset[str], expected: str) -> list[str]:
    header = [field.strip().lower() for field in fields]
    while header and not header[-1]:
        header.pop()
    if header and header[0].startswith("0x"):
        raise InputFileError(path, line, f"the first line must be the header {expected}, "
                                         f"found data instead")
    for index, column in enumerate(header):
        if column not in columns:
            raise InputFileError(path, line, f"header: unknown column {column!r} (column "
                                             f"{index + 1}); expected the columns {expected}")
        if header.index(column) != index:
            raise InputFileError(path, line, f"header: column {column!r} appears twice")
    missing = [column for column in columns if column not in header and column not in optional]
    if missing:
        raise InputFileError(path, line, f"header: missing column{'s' if len(missing) > 1 else ''}"
                                         f" {', '.join(missing)}; expected {expected}")
    return header


def _positive_id(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise ValueError(f"{text!r} is not a whole number; expected an investor id from 1 to "
                         f"{MAX_INVESTOR_ID}")
    value = int(text)
    if not 1 <= value <= MAX_INVESTOR_ID:
        raise ValueError(f"{value} is out of range; investor ids are 1 to {MAX_INVESTOR_ID} "
                         f"(2^64 - 1)")
    return value


def _day(text: str) -> date:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2031-12-31")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a valid date ({error})") from None


def _region(text: str) -> int:
    return codes.parse_region(text) if text else 0


def _amount(text: str) -> Decimal:
    return parse_decimal(text, what="amount", positive=True)


def _check_unique_wallet(row: _Row, wallet: str, seen: dict[str, int]) -> None:
    if wallet in seen:
        raise row.error("wallet", f"{wallet} is already on line {seen[wallet]}; a wallet may "
                                  f"appear only once")
    seen[wallet] = row.line


def read_investors(path: str | os.PathLike[str]) -> list[Investor]:
    """Read an investors CSV (see the module docstring) into :class:`Investor` records, in file
    order. Raises :class:`InputFileError` naming the line and column of the first problem."""
    investors: list[Investor] = []
    wallets: dict[str, int] = {}
    by_id: dict[int, Investor] = {}
    for row in _rows(path, INVESTOR_COLUMNS, _INVESTOR_OPTIONAL):
        wallet = row.get("wallet", codes.parse_address, expected="an address 0x...")
        _check_unique_wallet(row, wallet, wallets)
        country = row.get("country", codes.country_numeric,
                          expected="an ISO 3166-1 country code such as JP")
        region = row.get("region", _region, required=False)
        if region and country != codes.COUNTRY_JAPAN:
            raise row.error("region", f"a JIS region is given but the country is "
                                      f"{codes.country_alpha2(country)}: leave the region empty "
                                      f"for residents outside Japan")
        investor = Investor(
            wallet=wallet,
            investor_id=row.get("investor_id", _positive_id, expected="an investor id"),
            name=row.cells.get("name", "").strip(),
            country=country,
            investor_class=row.get("investor_class", codes.investor_class_id,
                                   expected="an investor class such as retail"),
            tax_category=row.get("tax_category", codes.tax_category_id,
                                 expected="a tax category such as individual"),
            region=region,
            kyc_valid_until=row.get("kyc_valid_until", _day, expected="a date YYYY-MM-DD"),
            line=row.line,
        )
        first = by_id.setdefault(investor.investor_id, investor)
        for column in ("country", "investor_class", "tax_category", "region"):
            if getattr(first, column) != getattr(investor, column):
                raise row.error(
                    column,
                    f"investor {investor.investor_id} has {column} {getattr(first, column)} on "
                    f"line {first.line} but {getattr(investor, column)} here; the wallets of one "
                    f"investor must share country, investor class, tax category and region")
        investors.append(investor)
    return investors


def read_allotments(path: str | os.PathLike[str], *, decimals: int | None = None,
                    unit: int = 1) -> list[Allotment]:
    """Read an allotments CSV (``wallet,amount``) into :class:`Allotment` records, in file order.

    With ``decimals`` (the bond's token decimals) every amount is also checked to convert exactly
    to base units that are a multiple of ``unit`` (e.g. the trading unit or the denomination in
    base units), so the error names the line. Raises :class:`InputFileError`.
    """
    allotments: list[Allotment] = []
    wallets: dict[str, int] = {}
    for row in _rows(path, ALLOTMENT_COLUMNS):
        wallet = row.get("wallet", codes.parse_address, expected="an address 0x...")
        _check_unique_wallet(row, wallet, wallets)
        amount = row.get("amount", _amount, expected="a face amount such as 10000")
        allotment = Allotment(wallet=wallet, amount=amount, line=row.line)
        if decimals is not None:
            try:
                allotment.units(decimals, unit=unit)
            except AmountError as error:
                raise row.error("amount", str(error)) from None
        allotments.append(allotment)
    return allotments
