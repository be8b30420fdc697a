"""``munibond deploy TERMSHEET``: the platform (once per network) and a bond from a term sheet."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from munibond.cli.options import Command, connection_options, signer_options, state_of

if TYPE_CHECKING:
    from munibond.bond import Bond
    from munibond.cli.state import State
    from munibond.deploy import SettlementSpec
    from munibond.termsheet import TermSheet

__all__ = ["deploy"]


def _settlement(text: str) -> SettlementSpec:
    from munibond.codes import CodeError
    from munibond.deploy import parse_settlement

    try:
        return parse_settlement(text)
    except CodeError as error:
        raise click.BadParameter(f"{error}; expected auto, none or a token address",
                                 param_hint="'--settlement'") from None


def _publish_documents(state: State, bond: Bond, sheet: TermSheet) -> str:
    """Put the term sheet's documents on the bond (see deploy.publish_documents); a summary."""
    from munibond.deploy import publish_documents

    outcome = publish_documents(bond, state.signer, sheet)
    note = f" ({', '.join(outcome.without_uri)} left out: no uri)" if outcome.without_uri else ""
    if outcome.not_issuer:
        state.note(f"note: {state.signer.address} does not hold the bond's ISSUER_ROLE, so the "
                   f"term sheet's documents ({', '.join(outcome.not_issuer)}) were not put on "
                   f"chain: run `munibond deploy` again signed by the issuer")
        return f"documents: {len(outcome.not_issuer)} not published (the signer is not the " \
               f"issuer){note}"
    if not outcome.published:
        return f"documents: {len(outcome.unchanged)} on chain as the term sheet says{note}"
    return (f"documents: published {', '.join(outcome.published)} "
            f"({len(outcome.published)} transaction(s)){note}")


@click.command("deploy", cls=Command)
@click.argument("term_sheet", metavar="TERMSHEET",
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--settlement", default="auto", show_default=True, metavar="auto|none|ADDRESS",
              help="Settlement token of a new platform: a local mock on a development chain "
                   "(auto), none, or the address of an existing token.")
@click.option("--fresh", is_flag=True,
              help="Deploy a new platform even if one is recorded (the network's bond records "
                   "are removed).")
@click.option("--no-documents", is_flag=True,
              help="Do not put the term sheet's documents on the bond.")
@click.option("--accept-term-sheet-edits", is_flag=True,
              help="Accept an edited term sheet whose terms and rules still equal the bond's on "
                   "chain (comments, documents), and record its new hash.")
@connection_options()
@signer_options()
@click.pass_context
def deploy(ctx: click.Context, term_sheet: Path, settlement: str, fresh: bool,
           no_documents: bool, accept_term_sheet_edits: bool) -> None:
    """Create the bond TERMSHEET describes (and the platform, if the network has none).

    The term sheet is validated first: a malformed one is refused, naming the field, before
    anything is sent. Records go to <deployments>/<network>/platform.json and
    <deployments>/<network>/<bond code>.json; running it again sends nothing (the records are
    checked against the chain and reused). The payment terms are then written on the bond
    where the chain differs (schedule of coupons and redemption, paying agent, withholding
    rates, tax account), and the term sheet's documents (name, URI, SHA-256) put on it where it
    lacks them. The signer needs the factory's CREATOR_ROLE and the bond's admin and issuer
    roles (the default: the deployer holds every role).
    """
    from munibond.cli.output import bond_summary
    from munibond.deploy import bond_record_path, ensure_bond, ensure_platform
    from munibond.payment_setup import ensure_payments
    from munibond.termsheet import load_term_sheet

    state = state_of(ctx)
    spec = _settlement(settlement)
    sheet = load_term_sheet(term_sheet)  # a malformed term sheet stops here, nothing sent
    network = state.network
    chain = state.chain
    signer = state.signer
    platform = ensure_platform(chain, signer, network, settlement=spec, root=state.root,
                               fresh=fresh, replace_if_reset=chain.dev_kind is not None,
                               report=state.note)
    bond = ensure_bond(chain, signer, platform, term_sheet, network, root=state.root,
                       accept_term_sheet_edits=accept_term_sheet_edits, report=state.note)
    ensure_payments(bond, signer, sheet, token=bond.terms().settlement_token, say=state.note)
    documents = None if no_documents else _publish_documents(state, bond, sheet)
    from zoneinfo import ZoneInfo

    terms_table, rules_table = bond_summary(bond, ZoneInfo(sheet.bond.coupon.timezone))
    state.say(f"bond {sheet.bond.code} at {bond.address}")
    state.show(terms_table)
    state.show(rules_table)
    if documents is not None:
        state.say(documents)
    state.say(f"recorded in {bond_record_path(network, sheet.bond.code, state.root)}; signer "
              f"{state.signed_by}")
