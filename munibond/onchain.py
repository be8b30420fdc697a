"""A term sheet as the contracts' structs, and the structs the chain returns as Python values.

:func:`terms_tuple`, :func:`rules_tuple` and :func:`roles_tuple` map a
:class:`~munibond.termsheet.TermSheet` to ``IBondTerms.Terms``, ``Rules`` and ``Roles`` (see
``contracts/interfaces/IBondTerms.sol``) field for field, as web3 encodes them (tuples in the
structs' field order):

* amounts are token base units (``issue_size`` -> ``issueVolume``, the cap -> ``maxBalance``);
* ``couponRate`` is in millionths (0.620% -> 6200), ``redemptionPrice`` in basis points of face
  (100% -> 10000; a term-sheet price finer than 0.01% cannot be represented and is refused);
* ``countries`` is the 1024-bit map ``uint256[4]`` (bit ``c & 255`` of word ``c >> 8`` for ISO
  numeric country ``c``), ``countryMode`` 0 any / 1 allow / 2 deny;
* ``regions`` is ``uint32[8]``, the rules first and zeros after (as the bond's ``rules()`` returns
  them); ``allowedClasses`` has bit ``i`` set for class id ``i``;
* ``perInvestor`` is the term sheet's ``aggregate_wallets``: the cap and the holder count then apply
  per investor (all wallets) rather than per wallet.

:class:`BondTerms` and :class:`BondRules` decode what a bond's ``terms()`` and ``rules()`` return:
face amounts as ``Decimal`` in the bond's currency, dates as aware UTC ``datetime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal

from munibond import codes
from munibond.exceptions import TermSheetError
from munibond.termsheet import TermSheet
from munibond.units import from_units, micros_to_rate

__all__ = [
    "COUNTRY_MODES",
    "ZERO_ADDRESS",
    "BondRules",
    "BondTerms",
    "countries_bitmap",
    "countries_from_bitmap",
    "redemption_price_bps",
    "roles_tuple",
    "rules_tuple",
    "terms_tuple",
]

ZERO_ADDRESS: Final = "0x" + "00" * 20
#: ``Rules.countryMode`` values.
COUNTRY_MODES: Final[dict[str, int]] = {"any": 0, "allow": 1, "deny": 2}
_COUNTRY_MODE_NAMES: Final[dict[int, Literal["any", "allow", "deny"]]] = {
    0: "any", 1: "allow", 2: "deny"}
_REGION_SLOTS: Final = 8
_MAX_CLASS_BIT: Final = 31


# --- term sheet -> structs --------------------------------------------------------------------

def redemption_price_bps(ts: TermSheet) -> int:
    """The redemption price in basis points of face (100% -> 10000).

    ``TermSheet.redemption_price_micros`` is the price as a fraction of face in millionths
    (100% -> 1,000,000), so one basis point is 100 of them; a price finer than 0.01% of face
    raises :class:`~munibond.exceptions.TermSheetError`.
    """
    micros = ts.redemption_price_micros
    bps, rest = divmod(micros, 100)
    if rest:
        raise TermSheetError("bond.redemption_price",
                             f"{ts.bond.redemption_price}% of face is finer than the 0.01% "
                             f"(one basis point) the contract stores; round it to two decimals")
    if bps >= 2**32:
        raise TermSheetError("bond.redemption_price", "too large for the contract (uint32)")
    return bps


def countries_bitmap(numeric_codes: tuple[int, ...] | list[int]) -> tuple[int, int, int, int]:
    """The 1024-bit country map as four words: bit ``c & 255`` of word ``c >> 8`` per country."""
    words = [0, 0, 0, 0]
    for country in numeric_codes:
        if not 0 <= country < 1024:
            raise ValueError(f"country code {country} does not fit the 1024-bit map")
        words[country >> 8] |= 1 << (country & 255)
    return (words[0], words[1], words[2], words[3])


def countries_from_bitmap(words: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """The ISO numeric codes set in a country map, ascending."""
    found: list[int] = []
    for index, word in enumerate(words):
        bit = 0
        while word:
            if word & 1:
                found.append(index * 256 + bit)
            word >>= 1
            bit += 1
    return tuple(found)


def terms_tuple(ts: TermSheet, *, settlement_token: str | None) -> tuple[Any, ...]:
    """``IBondTerms.Terms`` for ``ts``; ``settlement_token`` is the ``currency`` address (None: not
    set yet, the zero address)."""
    bond = ts.bond
    currency = ZERO_ADDRESS if settlement_token is None \
        else codes.parse_address(settlement_token)
    return (
        bond.code,
        bond.isin or "",
        bond.name,
        bond.symbol,
        bond.issuer,
        bond.currency,
        currency,
        bond.decimals,
        ts.denomination_units,
        ts.issue_size_units,
        ts.issue_timestamp,
        ts.maturity_timestamp,
        ts.coupon_rate_micros,
        bond.coupon.frequency,
        redemption_price_bps(ts),
    )


def rules_tuple(ts: TermSheet) -> tuple[Any, ...]:
    """``IBondTerms.Rules`` for ``ts`` (see the module docstring for each field)."""
    regions = list(ts.region_rules)
    if len(regions) > _REGION_SLOTS:
        raise TermSheetError("eligibility.regions", f"at most {_REGION_SLOTS} region rules")
    regions += [0] * (_REGION_SLOTS - len(regions))
    mode = ts.country_mode
    countries = countries_bitmap(ts.country_codes) if mode != "any" else (0, 0, 0, 0)
    return (
        ts.trading_unit_units,
        ts.max_holding_units or 0,
        ts.investor_class_mask,
        ts.lockup_timestamp or 0,
        ts.max_holders or 0,
        COUNTRY_MODES[mode],
        bool(ts.eligibility.aggregate_wallets),
        countries,
        tuple(regions),
    )


def roles_tuple(ts: TermSheet, default: str) -> tuple[str, str, str, str]:
    """``IBondTerms.Roles`` (admin, issuer, transfer agent, pauser): the term sheet's holders, or
    ``default`` for a role the term sheet leaves out."""
    fallback = codes.parse_address(default)
    roles = ts.roles
    return (
        roles.admin or fallback,
        roles.issuer or fallback,
        roles.transfer_agent or fallback,
        roles.pauser or fallback,
    )


# --- structs -> Python ------------------------------------------------------------------------

def _instant(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@dataclass(frozen=True, slots=True)
class BondTerms:
    """A bond's terms as its ``terms()`` returns them, in Python values.

    Face amounts are ``Decimal`` in the bond's currency (``currency_code``); the ``*_units``
    fields keep the integers. ``coupon_rate`` is an exact annual fraction (0.620% ->
    ``Decimal("0.006200")``), ``redemption_price`` a percentage of face (``Decimal("100.00")``).
    """

    code: str
    isin: str | None
    name: str
    symbol: str
    issuer: str
    currency_code: str
    settlement_token: str | None
    decimals: int
    denomination: Decimal
    issue_volume: Decimal
    issue_date: datetime
    maturity_date: datetime
    coupon_rate: Decimal
    coupon_frequency: int
    redemption_price: Decimal
    denomination_units: int
    issue_volume_units: int
    coupon_rate_micros: int
    redemption_price_bps: int

    @classmethod
    def from_tuple(cls, raw: tuple[Any, ...] | list[Any]) -> BondTerms:
        """Decode ``IBondTerms.Terms`` as web3 returns it (a tuple in field order)."""
        (code, isin, name, symbol, issuer, currency_code, currency, decimals, denomination,
         issue_volume, issue_date, maturity_date, coupon_rate, frequency, redemption) = raw
        token = None if int(str(currency), 16) == 0 else codes.parse_address(str(currency))
        return cls(
            code=str(code),
            isin=str(isin) or None,
            name=str(name),
            symbol=str(symbol),
            issuer=str(issuer),
            currency_code=str(currency_code),
            settlement_token=token,
            decimals=int(decimals),
            denomination=from_units(int(denomination), int(decimals)),
            issue_volume=from_units(int(issue_volume), int(decimals)),
            issue_date=_instant(int(issue_date)),
            maturity_date=_instant(int(maturity_date)),
            coupon_rate=micros_to_rate(int(coupon_rate)),
            coupon_frequency=int(frequency),
            redemption_price=from_units(int(redemption), 2),
            denomination_units=int(denomination),
            issue_volume_units=int(issue_volume),
            coupon_rate_micros=int(coupon_rate),
            redemption_price_bps=int(redemption),
        )


@dataclass(frozen=True, slots=True)
class BondRules:
    """A bond's transfer rules as its ``rules()`` returns them, in Python values.

    ``trading_unit`` and ``max_balance`` are face amounts (``max_balance`` None: no cap; the
    ``*_units`` fields keep the integers). ``allowed_classes`` are class ids (empty: any class),
    ``countries`` ISO numeric codes of the allow or deny list per ``country_mode``, ``regions`` the
    residents-only rules (six-digit JIS codes, or prefecture numbers below 100; empty: anyone).
    ``lockup_until`` and ``max_holders`` are None when there is none. ``per_investor``: the cap and
    the holder count apply per investor (all wallets).
    """

    trading_unit: Decimal
    max_balance: Decimal | None
    allowed_classes: tuple[int, ...]
    lockup_until: datetime | None
    max_holders: int | None
    country_mode: Literal["any", "allow", "deny"]
    per_investor: bool
    countries: tuple[int, ...]
    regions: tuple[int, ...]
    trading_unit_units: int
    max_balance_units: int
    allowed_class_mask: int

    @classmethod
    def from_tuple(cls, raw: tuple[Any, ...] | list[Any], decimals: int) -> BondRules:
        """Decode ``IBondTerms.Rules`` as web3 returns it; ``decimals`` are the bond's."""
        (unit, max_balance, classes, lockup, max_holders, mode, per_investor, countries,
         regions) = raw
        mode_name = _COUNTRY_MODE_NAMES.get(int(mode))
        if mode_name is None:
            raise ValueError(f"unknown country mode {mode}")
        return cls(
            trading_unit=from_units(int(unit), decimals),
            max_balance=from_units(int(max_balance), decimals) if int(max_balance) else None,
            allowed_classes=tuple(i for i in range(_MAX_CLASS_BIT + 1) if int(classes) >> i & 1),
            lockup_until=_instant(int(lockup)) if int(lockup) else None,
            max_holders=int(max_holders) or None,
            country_mode=mode_name,
            per_investor=bool(per_investor),
            countries=countries_from_bitmap([int(w) for w in countries]),
            regions=tuple(int(r) for r in regions if int(r)),
            trading_unit_units=int(unit),
            max_balance_units=int(max_balance),
            allowed_class_mask=int(classes),
        )
