"""Commands that read a bond and send nothing: ``holders`` and ``status``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from munibond.cli.options import BOND, INSTANT, Command, connection_options, state_of
from munibond.cli.output import (
    bond_summary,
    face,
    fields_table,
    local_time,
    phase_progress,
    table,
    yes_no,
)

if TYPE_CHECKING:
    from munibond.ledger import Holding

__all__ = ["holders", "status"]

_SHARE_PLACES = Decimal("1e-10")


def _share(units: int, total: int) -> Decimal:
    """``units / total`` as a fraction rounded to 10 places (0 when nothing is issued)."""
    if not total:
        return Decimal(0)
    return (Decimal(units) / Decimal(total)).quantize(_SHARE_PLACES, rounding=ROUND_HALF_EVEN)


def _csv_text(register: list[Holding], total: int) -> str:
    from munibond.units import amount_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["wallet", "investor_id", "balance", "frozen", "wallet_frozen",
                     "share_of_supply"])
    for h in register:
        writer.writerow([h.wallet, h.investor_id, amount_text(h.balance), amount_text(h.frozen),
                         "true" if h.wallet_frozen else "false", str(_share(h.units, total))])
    return buffer.getvalue()


@click.command("holders", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.option("--at", "when", type=INSTANT, default=None,
              help="The register as it stood at this date (00:00 UTC) or ISO date and time "
                   "with a time zone (2027-06-15T15:00+09:00) [default: now].")
@click.option("--csv", "csv_target", metavar="FILE|-", default=None,
              help="Write CSV (wallet, investor_id, balance, frozen, wallet_frozen, "
                   "share_of_supply as a fraction) to FILE, or to standard output with -.")
@connection_options()
@click.pass_context
def holders(ctx: click.Context, bond_ref: str, when: datetime | None,
            csv_target: str | None) -> None:
    """The holder register of BOND: every wallet with a balance, its investor id, balance,
    frozen part, wallet freeze and share of the supply.

    Rebuilt from the bond's Transfer events and checked, wallet by wallet, against the
    contract's own balances. Sends nothing.
    """
    from munibond.ledger import block_at
    from munibond.ledger import holders as register_at

    state = state_of(ctx)
    handle = state.bond(bond_ref)
    bond, chain = handle.bond, state.chain
    block = block_at(chain, when) if when is not None else chain.block_number()
    with phase_progress(state.err, show=state.show_progress) as progress:
        register = register_at(chain, bond.address, at_block=block,
                               from_block=handle.created_block, progress=progress)
    total = sum(h.units for h in register)
    terms = bond.terms()
    currency = terms.currency_code
    moment = local_time(int(chain.w3.eth.get_block(block)["timestamp"]), state.zone(handle))
    heading = (f"register of {terms.code} at block {block} ({moment}): {len(register)} "
               f"wallet(s), {face(bond.from_units(total), currency)}")
    if csv_target is not None:
        text = _csv_text(register, total)
        if csv_target == "-":
            click.echo(text, nl=False)
        else:
            with open(csv_target, "w", encoding="utf-8", newline="") as handle_out:
                handle_out.write(text)
            state.say(f"wrote the {heading} to {Path(csv_target).resolve()}")
        return
    rows = [[h.wallet, str(h.investor_id) if h.investor_id else "-", f"{h.balance:,}",
             f"{h.frozen:,}", yes_no(h.wallet_frozen),
             f"{_share(h.units, total) * 100:.4f}%"] for h in register]
    state.show(table(
        ["wallet", "investor id", f"balance ({currency})", f"frozen ({currency})",
         "wallet frozen", "share of supply"],
        rows, title=heading[0].upper() + heading[1:],
        right=["investor id", f"balance ({currency})", f"frozen ({currency})",
               "share of supply"]))


def _payment_rows(bond: Any, now: datetime, zone: tzinfo) -> list[tuple[str, str]]:
    """The payment side in two lines: the schedule's progress and the next payment."""
    from munibond.exceptions import InvalidArgument

    try:
        periods = bond.coupons.schedule()
    except InvalidArgument:
        return [("payments", "no payment schedule on chain (set by `munibond deploy`)")]
    recorded = sum(1 for p in periods if p.record_time <= now)
    rows = [("payments", f"{len(periods)} period(s) on chain, {recorded} recorded; closed: "
                         f"{yes_no(bond.redemption.closed())}")]
    upcoming = [p for p in periods if p.payment_time > now or not p.funded]
    if upcoming:
        p = upcoming[0]
        funding = bond.coupons.funding(p)
        rows.append(("next payment", f"period {p.number} ({p.kind}) paid from "
                                     f"{local_time(p.payment_time, zone)}; required "
                                     f"{funding.required:,}, funded {funding.funded:,}"))
    return rows


@click.command("status", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@connection_options()
@click.pass_context
def status(ctx: click.Context, bond_ref: str) -> None:
    """Terms, rules, supply, holders, pause, issuance and documents of BOND. Sends nothing."""
    state = state_of(ctx)
    handle = state.bond(bond_ref)
    bond = handle.bond
    zone = state.zone(handle)
    chain = state.chain
    terms = bond.terms()
    currency = terms.currency_code
    terms_table, rules_table = bond_summary(bond, zone)
    state.show(terms_table)
    state.show(rules_table)
    supply = bond.total_supply()
    share = (supply / terms.issue_volume * 100) if terms.issue_volume else Decimal(0)
    counted = "investors" if bond.rules().per_investor else "wallets"
    now = datetime.fromtimestamp(chain.now(), UTC)
    rows = [
        ("issued so far", f"{face(supply, currency)} of {face(terms.issue_volume, currency)} "
                          f"({share:.3f}%)"),
        ("holders", f"{bond.holder_count():,} (counted as {counted})"),
        ("paused", yes_no(bond.paused())),
        ("issued", yes_no(bond.issued()) + (" (terms fixed)" if bond.issued() else "")),
        ("matured", yes_no(now >= terms.maturity_date)),
        *_payment_rows(bond, now, zone),
        ("chain", f"chain id {chain.chain_id}, block {chain.block_number()}, time "
                  f"{local_time(now, zone)}"),
    ]
    state.show(fields_table("State", rows))
    documents = bond.documents()
    if documents:
        state.show(table(
            ["document", "URI", "SHA-256", "last changed"],
            [[d.name, d.uri, d.sha256_hex, local_time(d.last_modified, zone)]
             for d in documents],
            title="Documents"))
    else:
        state.say("Documents: none")
