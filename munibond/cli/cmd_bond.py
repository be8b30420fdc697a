"""Commands on one bond that send transactions (and ``check``, their pre-check)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from munibond.cli.errors import Refused
from munibond.cli.options import (
    ADDRESS,
    AMOUNT,
    BOND,
    Command,
    connection_options,
    signer_options,
    state_of,
)
from munibond.cli.output import face, table, yes_no

if TYPE_CHECKING:
    from munibond.bond import Bond
    from munibond.cli.state import State

__all__ = ["allot", "check", "force_transfer", "freeze", "pause", "recover", "transfer",
           "unpause"]

DEFAULT_CHUNK = 50


def _tx(receipt: Any) -> str:
    """``transaction 0x... (block N)`` of a receipt."""
    from hexbytes import HexBytes

    return (f"transaction {HexBytes(receipt['transactionHash']).to_0x_hex()} (block "
            f"{receipt['blockNumber']})")


def _units(bond: Bond, amount: Decimal) -> int:
    """Check ``amount`` against the bond's trading unit before anything else: an amount off it
    is refused by the bond's rules (restriction code 16, exit code 3), naming the unit."""
    from munibond.exceptions import AmountError
    from munibond.restrictions import restriction

    try:
        return bond.to_units(amount)
    except AmountError as error:
        found = restriction(16)
        raise Refused(f"refused by the bond's rules, restriction code 16 ({found.name}): "
                      f"{error}; the transaction was not sent") from None


def _reason(value: str, option: str = "'--reason'") -> str:
    if not value.strip():
        raise click.BadParameter("empty; say why (a court order, an inheritance, ...): the "
                                 "reason is recorded on chain", param_hint=option)
    return value.strip()


def _account_line(state: State, bond: Bond, wallet: str) -> None:
    account = bond.account(wallet)
    currency = bond.terms().currency_code
    state.say(f"{wallet}: balance {face(account.balance, currency)}, frozen "
              f"{face(account.frozen, currency)}, wallet frozen: {yes_no(account.wallet_frozen)}")


# --- allot -----------------------------------------------------------------------------------

@click.command("allot", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.argument("csv_file", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--strict", is_flag=True,
              help="Mint nothing when any line is refused (exit code 3).")
@click.option("--dry-run", is_flag=True, help="Pre-check and list, send nothing.")
@click.option("--before-issue-date", is_flag=True,
              help="Allot although the chain's clock is before the bond's issue date (book "
                   "entry normally happens on the issue, i.e. payment, date).")
@click.option("--chunk-size", type=click.IntRange(1, 500), default=DEFAULT_CHUNK,
              show_default=True, help="Lines per transaction.")
@connection_options()
@signer_options()
@click.pass_context
def allot(ctx: click.Context, bond_ref: str, csv_file: Path, strict: bool, dry_run: bool,
          before_issue_date: bool, chunk_size: int) -> None:
    """Allot (mint) BOND to the wallets of a CSV file (columns wallet, amount).

    Each amount is the wallet's whole allotment of the bond. What the bond has already minted
    to the wallet (its mint events, whatever the holder did with the units since) counts
    against it, so a re-run - after a crash, or after holders have traded - mints only what
    was never minted, and never twice. Allotting before the bond's issue date (on the chain's
    clock) is refused unless --before-issue-date is given. Every line is pre-checked first:
    refused lines are listed with the restriction code, the reason and what to do, and left
    out (--strict: nothing is minted, exit code 3). The rest is minted in chunks. The signer
    needs the bond's ISSUER_ROLE.
    """
    from munibond.cli.output import day, local_time, phase_progress
    from munibond.contracts import ISSUER_ROLE
    from munibond.exceptions import AmountError, BeforeIssueDate, InputFileError, MunibondError
    from munibond.investor_files import read_allotments

    state = state_of(ctx)
    lines = read_allotments(csv_file)  # a malformed file stops here, naming line and column
    handle = state.bond(bond_ref)
    bond = handle.bond
    terms = bond.terms()
    currency = terms.currency_code
    for line in lines:
        try:
            bond.to_units(line.amount)
        except AmountError as error:
            # off the trading unit: refused by the bond's rules (exit code 3), naming the line
            raise Refused(str(InputFileError(str(csv_file), line.line,
                                             f"column 'amount': {error}"))) from None
    if not dry_run:
        bond.require_role(ISSUER_ROLE, state.signer.address)

    with phase_progress(state.err, show=state.show_progress) as progress:
        plan = bond.plan_allotment([(line.wallet, line.amount) for line in lines],
                                   from_block=handle.created_block, progress=progress)
    if plan.before_issue_date and not before_issue_date and dry_run:
        clock = local_time(plan.chain_time, state.zone(handle))
        state.note(f"note: the chain's clock ({clock}) is before the issue date "
                   f"{day(plan.issue_date)}: a real run is refused without --before-issue-date")
    elif plan.before_issue_date and not before_issue_date:
        raise BeforeIssueDate(
            f"{terms.code} is issued on {day(plan.issue_date)} and the chain's clock is at "
            f"{local_time(plan.chain_time, state.zone(handle))}: allotments are booked on the "
            f"issue (payment) date. "
            f"Run this again from then, or pass --before-issue-date to allot now anyway; "
            f"nothing sent", issue_date=plan.issue_date, chain_time=plan.chain_time)
    file_line = {line.wallet.lower(): line.line for line in lines}
    refused = [[str(file_line[item.wallet.lower()]), item.wallet, f"{item.to_mint:,}",
                str(item.verdict.code), item.verdict.explained, item.verdict.hint]
               for item in plan.refused if item.verdict is not None]
    pending = plan.pending
    total = plan.to_mint
    partly = [item for item in plan.lines if item.minted_units and not item.done]
    if refused:
        state.show(table(
            ["line", "wallet", f"amount ({currency})", "code", "refused because", "what to do"],
            refused, title=f"{len(refused)} line(s) refused by the bond's rules",
            right=["line", f"amount ({currency})", "code"]))
    if plan.done:
        state.say(f"{len(plan.done)} line(s) already minted in full: nothing to mint for them")
    if partly:
        state.say(f"{len(partly)} line(s) partly minted before: only the rest is minted "
                  f"({face(sum((i.minted for i in partly), Decimal(0)), currency)} already "
                  f"minted to them)")
    if refused and strict:
        raise Refused(f"{len(refused)} line(s) of {csv_file.resolve()} refused and --strict "
                      f"given: nothing minted")
    if dry_run:
        state.say(f"dry run: {len(pending)} line(s), {face(total, currency)}, would be minted in "
                  f"{-(-len(pending) // chunk_size)} transaction(s); nothing sent")
        return
    if not pending:
        state.say(f"nothing to mint; total supply {face(bond.total_supply(), currency)}, "
                  f"{bond.holder_count()} holder(s)")
        return
    if plan.before_issue_date:
        state.note(f"note: allotting before the issue date {day(plan.issue_date)} "
                   f"(--before-issue-date)")
    state.note(f"minting {len(pending)} line(s) of {csv_file.resolve()} ({face(total, currency)} "
               f"of {terms.code} at {bond.address})")
    minted = [0]

    def counted(progress: Callable[[str, int, int], None]) -> Callable[[str, int, int], None]:
        def update(phase: str, done: int, of: int) -> None:
            minted[0] = done
            progress(phase, done, of)

        return update

    try:
        with phase_progress(state.err, show=state.show_progress) as progress:
            receipts = bond.allot(state.signer, plan, before_issue_date=True, skip_refused=True,
                                  chunk_size=chunk_size, progress=counted(progress))
    except (MunibondError, KeyboardInterrupt):
        if minted[0]:
            state.note(f"{minted[0]} of {len(pending)} line(s) were minted before this stopped; "
                       f"running the same allotment again mints only what is missing")
        raise
    state.say(f"allotted {len(pending)} line(s), {face(total, currency)}, in {len(receipts)} "
              f"transaction(s); {len(refused)} refused, {len(plan.done)} already minted; total "
              f"supply now {face(bond.total_supply(), currency)}, {bond.holder_count()} "
              f"holder(s); signer {state.signed_by}")


# --- transfers -------------------------------------------------------------------------------

@click.command("transfer", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.argument("amount", type=AMOUNT)
@click.option("--to", "recipient", type=ADDRESS, required=True, help="The receiving wallet.")
@connection_options()
@signer_options()
@click.pass_context
def transfer(ctx: click.Context, bond_ref: str, amount: Decimal, recipient: str) -> None:
    """Transfer AMOUNT of BOND from the signer's wallet to --to.

    Sign as the holder with --from-key-env VAR or --keystore FILE. The transfer is pre-checked
    against the bond's rules: a refusal prints the restriction code, the reason and what to do,
    sends nothing and exits with code 3.
    """
    state = state_of(ctx)
    bond = state.bond(bond_ref).bond
    _units(bond, amount)
    signer = state.signer
    receipt = bond.transfer(signer, recipient, amount)
    currency = bond.terms().currency_code
    state.say(f"transferred {face(amount, currency)} of {bond.code} from {signer.address} to "
              f"{recipient}: {_tx(receipt)}; signer {state.signed_by}")


@click.command("check", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.argument("amount", type=AMOUNT)
@click.option("--from", "sender", type=ADDRESS, required=True, help="The sending wallet.")
@click.option("--to", "recipient", type=ADDRESS, required=True, help="The receiving wallet.")
@connection_options()
@click.pass_context
def check(ctx: click.Context, bond_ref: str, amount: Decimal, sender: str,
          recipient: str) -> None:
    """Would BOND allow a transfer of AMOUNT from --from to --to now?

    Prints the ERC-1404 restriction code and its message (and, when refused, what to do).
    Exit code 0 when allowed, 3 when refused. Sends nothing.
    """
    from munibond.exceptions import AmountError
    from munibond.restrictions import restriction

    state = state_of(ctx)
    bond = state.bond(bond_ref).bond
    try:
        bond.to_units(amount)
    except AmountError as error:  # the bond's code 16, with the unit and the nearest amounts
        found = restriction(16)
        state.say(f"code 16 ({found.name}): {error}")
        state.say(f"what to do: {found.hint}")
        ctx.exit(3)
    verdict = bond.check_transfer(sender, recipient, amount)
    state.say(f"code {verdict.code} ({verdict.name}): {verdict.explained}")
    if not verdict.ok:
        state.say(f"what to do: {verdict.hint}")
        ctx.exit(3)


@click.command("force-transfer", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.argument("amount", type=AMOUNT)
@click.option("--from", "sender", type=ADDRESS, required=True, help="The wallet to take from.")
@click.option("--to", "recipient", type=ADDRESS, required=True, help="The receiving wallet.")
@click.option("--reason", required=True, help="Why (recorded on chain): a court order, ...")
@connection_options()
@signer_options()
@click.pass_context
def force_transfer(ctx: click.Context, bond_ref: str, amount: Decimal, sender: str,
                   recipient: str, reason: str) -> None:
    """Move AMOUNT of BOND from --from to --to without the holder (transfer agent only).

    For a court order or an inheritance: the reason is recorded on chain. Pause, lock-up,
    freezes and limits are passed over; the recipient must still be an eligible investor.
    """
    state = state_of(ctx)
    why = _reason(reason)
    bond = state.bond(bond_ref).bond
    _units(bond, amount)
    receipt = bond.forced_transfer(state.signer, sender, recipient, amount, why)
    currency = bond.terms().currency_code
    state.say(f"forced transfer of {face(amount, currency)} of {bond.code} from {sender} to "
              f"{recipient}, reason {why!r}: {_tx(receipt)}; signer {state.signed_by}")


@click.command("recover", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.option("--lost", type=ADDRESS, required=True, help="The lost wallet.")
@click.option("--new", "new", type=ADDRESS, required=True,
              help="The investor's new wallet (registered, same investor id).")
@click.option("--reason", required=True, help="Why (recorded on chain).")
@connection_options()
@signer_options()
@click.pass_context
def recover(ctx: click.Context, bond_ref: str, lost: str, new: str, reason: str) -> None:
    """Move the whole holding of a lost wallet of BOND to the investor's new wallet
    (transfer agent only; frozen units and a wallet freeze move with it)."""
    state = state_of(ctx)
    why = _reason(reason)
    bond = state.bond(bond_ref).bond
    holding = bond.account(lost)
    receipt = bond.recover_wallet(state.signer, lost, new, why)
    currency = bond.terms().currency_code
    state.say(f"recovered {face(holding.balance, currency)} of {bond.code} from lost wallet "
              f"{lost} to {new}, reason {why!r}: {_tx(receipt)}; signer {state.signed_by}")
    _account_line(state, bond, new)


# --- pause and freeze ------------------------------------------------------------------------

def _pause(ctx: click.Context, bond_ref: str, paused: bool) -> None:
    state = state_of(ctx)
    bond = state.bond(bond_ref).bond
    word = "paused" if paused else "running (not paused)"
    if bond.paused() == paused:
        state.say(f"bond {bond.code} is already {word}: nothing sent")
        return
    receipt = bond.pause(state.signer) if paused else bond.unpause(state.signer)
    state.say(f"bond {bond.code} is now {word}: {_tx(receipt)}; signer {state.signed_by}")


@click.command("pause", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@connection_options()
@signer_options()
@click.pass_context
def pause(ctx: click.Context, bond_ref: str) -> None:
    """Pause transfers and mints of BOND (pauser only; nothing is sent if already paused)."""
    _pause(ctx, bond_ref, True)


@click.command("unpause", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@connection_options()
@signer_options()
@click.pass_context
def unpause(ctx: click.Context, bond_ref: str) -> None:
    """Resume transfers and mints of BOND (pauser only; nothing is sent if not paused)."""
    _pause(ctx, bond_ref, False)


@click.command("freeze", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.argument("wallet", type=ADDRESS)
@click.option("--amount", type=AMOUNT, default=None,
              help="Freeze (or with --unfreeze release) this much of the wallet's balance.")
@click.option("--wallet-level", is_flag=True,
              help="Freeze (or unfreeze) the wallet as a whole: it neither sends nor receives.")
@click.option("--unfreeze", is_flag=True, help="Release instead of freezing.")
@connection_options()
@signer_options()
@click.pass_context
def freeze(ctx: click.Context, bond_ref: str, wallet: str, amount: Decimal | None,
           wallet_level: bool, unfreeze: bool) -> None:
    """Freeze part of WALLET's balance of BOND (--amount X) or the whole wallet
    (--wallet-level); --unfreeze releases. Transfer agent only."""
    if (amount is None) == (not wallet_level):
        raise click.UsageError("give either --amount X or --wallet-level", ctx)
    state = state_of(ctx)
    bond = state.bond(bond_ref).bond
    currency = bond.terms().currency_code
    if amount is not None:
        _units(bond, amount)
        if unfreeze:
            receipt = bond.unfreeze_amount(state.signer, wallet, amount)
            done = f"released {face(amount, currency)} of {wallet}"
        else:
            receipt = bond.freeze_amount(state.signer, wallet, amount)
            done = f"froze {face(amount, currency)} of {wallet}"
    else:
        target = not unfreeze
        word = "frozen" if target else "not frozen"
        if bond.account(wallet).wallet_frozen == target:
            state.say(f"wallet {wallet} is already {word} in {bond.code}: nothing sent")
            _account_line(state, bond, wallet)
            return
        receipt = (bond.freeze_wallet(state.signer, wallet) if target
                   else bond.unfreeze_wallet(state.signer, wallet))
        done = f"wallet {wallet} is now {word}"
    state.say(f"{bond.code}: {done}: {_tx(receipt)}; signer {state.signed_by}")
    _account_line(state, bond, wallet)
