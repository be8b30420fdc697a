"""How the CLI shows things: key/value tables of terms and rules, amounts, progress bars."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from munibond.bond import Bond
    from munibond.onchain import BondRules, BondTerms

__all__ = [
    "bond_summary",
    "day",
    "face",
    "fields_table",
    "instant",
    "local_time",
    "phase_progress",
    "progress_bar",
    "region_text",
    "rules_rows",
    "table",
    "terms_rows",
    "yes_no",
]

Row = tuple[str, str]


def face(amount: Decimal, currency: str) -> str:
    """``1,000,000 JPY``."""
    return f"{amount:,} {currency}".strip()


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def instant(when: datetime) -> str:
    """An instant in UTC, ISO 8601 with ``Z``."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_time(when: datetime | int, zone: tzinfo) -> str:
    """``2027-06-15 00:00 JST``: :func:`munibond.times.format_time`, the one format of times."""
    from munibond.times import format_time

    return format_time(when, zone)


def day(when: datetime) -> str:
    """A date of the bond (stored as 00:00 UTC of the day): the day alone, or the full instant
    when it is not midnight UTC."""
    utc = when.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second) == (0, 0, 0):
        return utc.date().isoformat()
    return instant(utc)


def region_text(region: int) -> str:
    """A JIS local-government code or a prefecture rule, with the prefecture's name."""
    from munibond import codes

    if region < 100:
        name = codes.PREFECTURES.get(region)
        return f"{region:02d} ({name} prefecture)" if name else f"{region:02d}"
    name = codes.PREFECTURES.get(region // 10_000)
    return f"{region:06d} ({name})" if name else f"{region:06d}"


def _country(numeric: int) -> str:
    from munibond import codes

    try:
        return f"{codes.country_alpha2(numeric)} ({numeric})"
    except codes.CodeError:
        return str(numeric)


def _class_name(class_id: int) -> str:
    from munibond import codes

    try:
        return codes.investor_class_name(class_id)
    except codes.CodeError:
        return str(class_id)


def terms_rows(terms: BondTerms, *, address: str | None = None) -> list[Row]:
    """The bond's terms, one ``(field, value)`` per line."""
    from munibond.units import format_rate

    currency = terms.currency_code
    if terms.coupon_frequency:
        coupon = (f"{format_rate(terms.coupon_rate)} a year, paid {terms.coupon_frequency} "
                  f"time{'s' if terms.coupon_frequency > 1 else ''} a year")
    else:
        coupon = "zero coupon"
    rows: list[Row] = []
    if address is not None:
        rows.append(("address", address))
    rows += [
        ("code", terms.code),
        ("ISIN", terms.isin or "-"),
        ("name", terms.name),
        ("symbol", terms.symbol),
        ("issuer", terms.issuer),
        ("currency", currency),
        ("settlement token", terms.settlement_token or "none"),
        ("token decimals", str(terms.decimals)),
        ("denomination", face(terms.denomination, currency)),
        ("issue volume", face(terms.issue_volume, currency)),
        ("issue date", day(terms.issue_date)),
        ("maturity date", day(terms.maturity_date)),
        ("coupon", coupon),
        ("redemption price", f"{terms.redemption_price}% of face"),
    ]
    return rows


def rules_rows(rules: BondRules, currency: str, zone: tzinfo = UTC) -> list[Row]:
    """The bond's transfer rules, one ``(rule, value)`` per line."""
    scope = "per investor (all wallets)" if rules.per_investor else "per wallet"
    if rules.country_mode == "any":
        countries = "any"
    else:
        listed = ", ".join(_country(c) for c in rules.countries) or "none"
        countries = f"{'only' if rules.country_mode == 'allow' else 'all but'} {listed}"
    return [
        ("trading unit", face(rules.trading_unit, currency)),
        ("maximum holding",
         f"{face(rules.max_balance, currency)} {scope}" if rules.max_balance is not None
         else "no cap"),
        ("investor classes",
         ", ".join(_class_name(c) for c in rules.allowed_classes) or "any"),
        ("countries", countries),
        ("regions", ", ".join(region_text(r) for r in rules.regions) or "anywhere"),
        ("maximum holders",
         f"{rules.max_holders:,} {'investors' if rules.per_investor else 'wallets'}"
         if rules.max_holders else "no limit"),
        ("lock-up until",
         local_time(rules.lockup_until, zone) if rules.lockup_until else "none"),
    ]


def fields_table(title: str, rows: Sequence[Row]) -> Table:
    """A two-column table of ``(field, value)`` rows."""
    grid = Table(title=Text(title, style="bold"), title_justify="left", show_header=False,
                 box=box.SIMPLE, pad_edge=False, show_edge=False)
    grid.add_column("field", style="bold", no_wrap=True)
    grid.add_column("value", overflow="fold")
    for name, value in rows:
        grid.add_row(Text(name), Text(value))
    return grid


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None,
          right: Sequence[str] = ()) -> Table:
    """A table with a header; ``right`` names the columns aligned right (numbers)."""
    grid = Table(title=Text(title, style="bold") if title else None, title_justify="left",
                 box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in columns:
        grid.add_column(column, justify="right" if column in right else "left",
                        overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid


def bond_summary(bond: Bond, zone: tzinfo = UTC) -> tuple[Table, Table]:
    """The terms and rules tables of a bond (times in ``zone``, the bond's)."""
    terms = bond.terms()
    return (fields_table(f"Bond {terms.code}", terms_rows(terms, address=bond.address)),
            fields_table("Transfer rules", rules_rows(bond.rules(), terms.currency_code, zone)))


def _bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


@contextlib.contextmanager
def phase_progress(console: Console, *, show: bool = True
                   ) -> Iterator[Callable[[str, int, int], None]]:
    """Rich progress on ``console`` for an operation in phases; yields the
    ``progress(phase, done, total)`` callback of the SDK's long operations (a bar per phase,
    added when the phase first reports, so a phase shows while it runs, from 0). ``show=False``
    (not a terminal, or ``--quiet``) yields a callback that draws nothing."""
    if not show:
        yield lambda phase, done, total: None
        return
    bar = _bar(console)
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, of: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=max(of, 1))
        bar.update(tasks[phase], completed=done, total=max(of, 1))

    with bar:
        yield update


@contextlib.contextmanager
def progress_bar(console: Console, label: str, total: int, *, show: bool = True
                 ) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on ``console`` for a batch of ``total`` items; yields the
    ``progress(done, total)`` callback the SDK's batch methods take. ``show=False`` (a short
    batch, not a terminal, or ``--quiet``) yields a callback that draws nothing."""
    if not show:
        yield lambda done, total: None
        return
    bar = _bar(console)
    task = bar.add_task(label, total=total)

    def update(done: int, of: int) -> None:
        bar.update(task, completed=done, total=of)

    with bar:
        yield update
