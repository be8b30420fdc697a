"""Paying a bond on chain (:mod:`munibond.payments`).

``munibond coupon fund|pay|claim|status|remit-tax|return-unclaimed|report-shortfall|tax-rates``
(attached to the ``coupon`` group of :mod:`munibond.cli.cmd_coupon`) and ``munibond redeem
fund|pay|claim|call|status``.

Periods are numbered from 1, as ``munibond coupon schedule`` and the payment report number them
(the contract counts from 0). Amounts are in the settlement currency (the bond's currency: JPY).
Every command checks before it sends: a wrong period, amount, token, role or time is one line on
standard error, a non-zero exit code, and nothing sent. A payment that is due and cannot be made
(a due period not funded, a payee left owed) is exit code 4 (:data:`munibond.cli.errors.
EXIT_UNPAID`), so that a scheduler can tell it from an error (1).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from munibond.cli.errors import Unpaid
from munibond.cli.options import (
    ADDRESS,
    AMOUNT,
    BOND,
    Command,
    Group,
    connection_options,
    signer_options,
    state_of,
)
from munibond.cli.output import (
    face,
    fields_table,
    local_time,
    phase_progress,
    table,
    yes_no,
)
from munibond.exceptions import ContractRevert, MissingRole, MunibondError, TransactionReverted

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress
    from web3.types import EventData

    from munibond.bond import Bond
    from munibond.cli.state import BondHandle, State
    from munibond.payments import (
        Coupons,
        PaymentPeriod,
        PaymentReport,
        PaymentTerms,
        Redemption,
    )

__all__ = ["COUPON_COMMANDS", "PaymentRefused", "redeem"]

DEFAULT_CHUNK = 100
#: the columns a holders file may name its wallets in (the first one present is used)
HOLDER_COLUMNS = ("wallet", "holder", "address")


class PaymentRefused(MunibondError):
    """A payment command refused what was asked (or stopped part way): exit code 1. (A due
    payment that could not be made is :class:`~munibond.cli.errors.Unpaid`, exit code 4.)"""


# --- formatting ------------------------------------------------------------------------------

def _num(value: Decimal) -> str:
    """``57846``, ``1,234.5``: a Decimal without exponent nor trailing zeros, grouped."""
    sign = "-" if value < 0 else ""
    text = f"{abs(value):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def _plain(value: Decimal) -> str:
    """``57846`` (as an option value: no grouping)."""
    return _num(value).replace(",", "")


def _tx(receipt: Any) -> str:
    from hexbytes import HexBytes

    return HexBytes(receipt["transactionHash"]).to_0x_hex()


def _duration(seconds: int) -> str:
    """``30 days``, ``3,653 days (about 10 years)``."""
    days, rest = divmod(int(seconds), 86_400)
    if rest:
        return f"{seconds:,} seconds"
    years = round(days / 365.25)
    about = f" (about {years} year{'s' if years > 1 else ''})" \
        if years and abs(days - years * 365.25) <= 1 else ""
    return f"{days:,} day{'s' if days != 1 else ''}{about}"


# --- the bond, its payments and what the CLI says about them --------------------------------

@dataclass
class _View:
    """A bond's payments as the commands show them."""

    state: State
    handle: BondHandle
    payments: Coupons | Redemption
    terms: PaymentTerms
    currency: str
    zone: tzinfo

    def when(self, moment: datetime | int) -> str:
        """A time in the bond's zone, with the zone: ``2027-06-15 00:00 JST``."""
        return local_time(moment, self.zone)

    @property
    def bond(self) -> Bond:
        return self.handle.bond

    @property
    def code(self) -> str:
        return self.bond.code

    @property
    def coupons(self) -> Coupons:
        return self.bond.coupons

    @property
    def redemption(self) -> Redemption:
        return self.bond.redemption

    def money(self, amount: Decimal) -> str:
        return f"{_num(amount)} {self.currency}"

    def units_money(self, settlement_units: int) -> str:
        return self.money(self.payments.money(settlement_units))

    def face_of(self, units: int) -> str:
        return face(self.bond.from_units(units), self.currency)

    def now(self) -> int:
        return self.state.chain.now()

    @property
    def final_index(self) -> int:
        return self.terms.period_count - 1

    def label(self, index: int) -> str:
        """``period 3``; ``period 10 (the redemption)`` for the final one."""
        return f"period {index + 1}" + (" (the redemption)" if index == self.final_index else "")

    def period(self, number: int) -> PaymentPeriod:
        """Period ``number`` (1-based); an unknown one is a usage error naming the range."""
        count = self.terms.period_count
        if not 1 <= number <= count:
            raise click.BadParameter(
                f"bond {self.code} has {count} payment period(s), numbered 1 to {count} (see "
                f"`munibond coupon status {self.code}`); there is no period {number}",
                ctx=click.get_current_context(silent=True), param_hint="'PERIOD'")
        return self.payments.period(number, terms=self.terms)

    def schedule(self) -> list[PaymentPeriod]:
        return self.payments.schedule(terms=self.terms)


def _open(ctx: click.Context, bond_ref: str, *, redemption: bool = False) -> _View:
    state = state_of(ctx)
    handle = state.bond(bond_ref)
    bond = handle.bond
    payments: Coupons | Redemption = bond.redemption if redemption else bond.coupons
    terms = payments.terms()  # a bond without a schedule stops here, saying so
    return _View(state=state, handle=handle, payments=payments, terms=terms,
                 currency=bond.terms().currency_code, zone=state.zone(handle))


def _sent(error: BaseException) -> str:
    if isinstance(error.__cause__, TransactionReverted):
        return ""  # describe() says which transaction was mined and failed
    return "; nothing sent"


def _explain(view: _View, error: ContractRevert) -> str | None:
    """The contract error in the CLI's words (periods from 1, amounts in the currency, times as
    dates), or None to keep the decoded message."""
    args = error.error_args
    code = view.code
    name = error.error
    if "period" in args:
        index = int(args["period"])
        label = view.label(index) if 0 <= index < view.terms.period_count else \
            f"period {index + 1}"
    else:
        index, label = -1, ""
    if name == "NotYetPayable":
        return (f"nothing payable yet: {label} of {code} is paid from "
                f"{view.when(args['paymentTime'])} (its payment time; the chain's time is "
                f"{view.when(view.now())})")
    if name == "PeriodNotFunded":
        status = view.payments.funding(index + 1)
        return (f"{label} of {code} is due but not funded (required "
                f"{view.money(status.required)}, funded {view.money(status.funded)}, shortfall "
                f"{view.money(status.shortfall)}): the paying agent funds it with `munibond "
                f"coupon fund {code} {index + 1}`")
    if name == "NothingOwed":
        now = view.now()
        upcoming = [p for p in view.schedule() if now < p.record_time.timestamp()]
        later = (f"; the next period, {view.label(upcoming[0].index)}, is recorded at "
                 f"{view.when(upcoming[0].record_time)} and paid from "
                 f"{view.when(upcoming[0].payment_time)}" if upcoming else "")
        return (f"{args['holder']} is owed nothing by {code} now: it held no units at a record "
                f"time that passed, or has been paid for every period recorded{later} (see "
                f"`munibond coupon status {code} --holder {args['holder']}`)")
    if name == "WrongFundingAmount":
        status = view.payments.funding(index + 1)
        return (f"{label} of {code} needs exactly {view.units_money(int(args['expected']))} "
                f"more (required {view.money(status.required)}, funded "
                f"{view.money(status.funded)}), not {view.units_money(int(args['given']))}: give "
                f"--amount {_plain(view.payments.money(int(args['expected'])))} or leave "
                f"--amount out")
    if name == "AlreadyFunded":
        return f"{label} of {code} is already funded"
    if name == "PeriodSwept":
        return (f"{label} of {code} is closed: its unclaimed funds went back to the issuer "
                f"after the claim window; it takes no funding and pays nothing more")
    if name == "RedemptionNotDue":
        final = view.payments.final_period()
        now = view.now()
        if now < final.payment_time.timestamp():
            why = (f"the bond matures at {view.when(final.payment_time)} (period "
                   f"{final.number}; the chain's time is {view.when(now)}); until then "
                   f"`munibond coupon claim {code}` pays the coupons due")
        elif not final.funded:
            why = (f"{view.label(final.index)} is not funded yet: the paying agent funds it with "
                   f"`munibond redeem fund {code}`")
        else:
            why = (f"an earlier period owed to {args['holder']} is not payable (see `munibond "
                   f"coupon status {code} --holder {args['holder']}`)")
        return f"the redemption of {args['holder']}'s units of {code} is not due: {why}"
    if name == "PaymentWaitsForUnfreeze":
        return (f"wallet {args['holder']} is frozen in {code}: its payments wait until the "
                f"transfer agent unfreezes it (`munibond freeze {code} {args['holder']} "
                f"--wallet-level --unfreeze`)")
    if name == "RedemptionWaitsForUnfreeze":
        return (f"{view.face_of(int(args['frozenUnits']))} of {args['holder']}'s units of {code} "
                f"are frozen: the redemption waits until the transfer agent releases them "
                f"(`munibond freeze {code} {args['holder']} --amount X --unfreeze`)")
    if name == "ClaimWindowOpen":
        period = view.payments.period(index + 1, terms=view.terms)
        return (f"the claim window of {label} of {code} is open until "
                f"{view.when(args['closesAt'])} ({_duration(view.terms.claim_window)} after its "
                f"payment time {view.when(period.payment_time)}; the chain's time is "
                f"{view.when(view.now())}): "
                f"unclaimed funds can go back to the issuer only after that")
    if name == "CallNoticeTooShort":
        period = view.payments.period(index + 1, terms=view.terms)
        if period.final:
            return f"{label} of {code} is already the final redemption: there is nothing to call"
        return (f"too late to call {label} of {code}: a call is announced at least "
                f"{_duration(view.terms.call_notice)} before the period's payment time "
                f"{view.when(period.payment_time)} and before its record time "
                f"{view.when(period.record_time)}, so by {view.when(args['announceBy'])} at the "
                f"latest; the chain's time is {view.when(view.now())}")
    if name == "NoShortfall":
        period = view.payments.period(index + 1, terms=view.terms)
        if period.swept:
            why = "it is closed (unclaimed funds returned)"
        elif period.funded:
            why = "it is fully funded"
        else:
            why = f"it is not due before its payment time {view.when(period.payment_time)}"
        return f"{label} of {code} has no funding shortfall to report: {why}"
    if name == "NoTaxAccount":
        return (f"bond {code} has no tax account to remit to: the admin sets it with `munibond "
                f"coupon tax-rates {code} --tax-account ADDRESS`")
    if name == "SettlementTransferFailed":
        return (f"the settlement token refused to pay {view.units_money(int(args['amount']))} "
                f"to {args['holder']} (a wallet the token blocks?)")
    if name == "TaxRatesNotSet":
        return (f"bond {code} has no withholding rates for any tax category, so the coupon of "
                f"{args['holder']} cannot be paid (the entitlement waits): the admin sets them "
                f"with `munibond coupon tax-rates {code} --set CATEGORY NATIONAL% LOCAL%`")
    if name == "NotCallable":
        return (f"bond {code} cannot be called: its terms on chain give the issuer no call right "
                f"(payments.callable is false in its term sheet)")
    if name == "CallPriceBelowTerms":
        return (f"the call price is below the bond's terms: {code} must pay at least "
                f"{int(args['minPrice']):,} per unit of face (scaled), the term sheet's call price "
                f"of the outstanding face; offered {int(args['price']):,}")
    if name == "CallBeforeFirstCallDate":
        return (f"period {int(args['period']) + 1} of {code} is paid at "
                f"{view.when(args['paymentTime'])}, before the first call date "
                f"{view.when(args['firstCallTime'])} of its terms: call a later period")
    return None


@contextlib.contextmanager
def _explained(view: _View) -> Iterator[None]:
    """Contract errors raised inside, in the CLI's words (see :func:`_explain`)."""
    try:
        yield
    except ContractRevert as error:
        if isinstance(error, MissingRole):
            raise
        message = _explain(view, error)
        if message is None:
            raise
        if _unpaid(view, error):
            raise Unpaid(message + _sent(error)) from error.__cause__
        raise PaymentRefused(message + _sent(error)) from error.__cause__


def _unpaid(view: _View, error: ContractRevert) -> bool:
    """Whether a contract error means a payment that is due could not be made (exit code 4): a
    due period not funded, a payee the settlement token refused."""
    if error.error in ("PeriodNotFunded", "SettlementTransferFailed"):
        return True
    if error.error == "RedemptionNotDue":
        final = view.payments.final_period()
        return view.now() >= final.payment_time.timestamp() and not final.funded
    return False


def _require_funder(view: _View, account: str) -> None:
    from munibond.contracts import ISSUER_ROLE, PAYING_AGENT_ROLE

    if not (view.bond.has_role(PAYING_AGENT_ROLE, account)
            or view.bond.has_role(ISSUER_ROLE, account)):
        raise PaymentRefused(
            f"{account} holds neither the PAYING_AGENT_ROLE nor the ISSUER_ROLE of {view.code}: "
            f"funding needs one of them; sign as the paying agent or the issuer, or have the "
            f"admin grant the role; nothing sent")


# --- holders files ---------------------------------------------------------------------------

def read_holders(path: Path) -> list[str]:
    """The wallets of a holders CSV: a header naming a ``wallet`` column (as ``munibond holders
    --csv`` writes), a ``holder`` column (as a payment report) or an ``address`` column; other
    columns are ignored, repeated wallets counted once. Raises InputFileError naming the line."""
    from munibond.codes import CodeError, parse_address
    from munibond.exceptions import InputFileError
    from munibond.investor_files import _read_text

    name = str(path)
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), strict=True)
    column: int | None = None
    column_name = ""
    wallets: dict[str, None] = {}
    line = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not any(field.strip() for field in fields):
                continue
            if column is None:
                header = [field.strip().lower() for field in fields]
                if header[0].startswith("0x"):
                    raise InputFileError(name, line, "the first line must be a header naming "
                                                     "the wallet column (wallet), found an "
                                                     "address instead")
                found = [c for c in HOLDER_COLUMNS if c in header]
                if not found:
                    raise InputFileError(
                        name, line, f"header: no wallet column among {','.join(header)}; "
                                    f"expected a column named wallet (as `munibond holders "
                                    f"--csv` writes it), holder or address")
                column_name = found[0]
                column = header.index(column_name)
                continue
            cell = fields[column].strip() if column < len(fields) else ""
            if not cell:
                raise InputFileError(name, line, f"column {column_name!r}: empty; expected an "
                                                 f"address 0x...")
            try:
                wallets.setdefault(parse_address(cell), None)
            except CodeError as error:
                raise InputFileError(name, line, f"column {column_name!r}: {error}") from None
    except csv.Error as error:
        raise InputFileError(name, reader.line_num or None, f"malformed CSV: {error}") from None
    if column is None:
        raise InputFileError(name, None, "the file is empty; expected a header with a wallet "
                                         "column, then one wallet per line")
    if not wallets:
        raise InputFileError(name, None, "no wallets listed under the header")
    return list(wallets)


def _check_report_target(path: Path | None) -> None:
    """A report file that cannot be written is refused before anything is sent."""
    if path is None:
        return
    parent = path.parent if str(path.parent) else Path(".")
    problem = None
    if path.is_dir():
        problem = "is a directory"
    elif not parent.is_dir():
        problem = f"its directory {parent} does not exist"
    elif not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        problem = "is not writable"
    if problem:
        raise click.BadParameter(f"{path} {problem}; nothing sent",
                                 ctx=click.get_current_context(silent=True),
                                 param_hint="'--report'")


def _write_report(view: _View, path: Path, report: PaymentReport) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(report.to_csv())
    view.state.note(f"wrote the payment report ({len(report.lines)} line(s): holder, period, "
                    f"gross, national_tax, local_tax, tax, net, principal, tx_hash, status, "
                    f"reason) to {path.resolve()}")


# --- shared bodies of coupon and redeem ------------------------------------------------------

def _fund(ctx: click.Context, view: _View, index: int, amount: Decimal | None,
          token: str | None) -> None:
    state = view.state
    label, code = view.label(index), view.code
    if amount is not None:
        view.payments.settlement_units(amount, what="--amount")  # finer than the token: refused
    if token is not None and token != view.terms.settlement_token:
        raise PaymentRefused(f"bond {code} is paid in the settlement token "
                             f"{view.terms.settlement_token}, not {token}: fund it with that "
                             f"token (leave --token out); nothing sent")
    period = view.payments.period(index + 1, terms=view.terms)
    status = view.payments.funding(index + 1)
    if period.swept:
        raise PaymentRefused(f"{label} of {code} is closed (its unclaimed funds went back to the "
                             f"issuer): it takes no funding; nothing sent")
    if status.shortfall_units == 0:
        if status.required_units == 0:
            raise PaymentRefused(f"{label} of {code} needs no funding: no units are outstanding; "
                                 f"nothing sent")
        state.say(f"{label} of {code} is already funded: required "
                  f"{view.money(status.required)}, funded {view.money(status.funded)}; "
                  f"nothing sent")
        return
    _require_funder(view, state.signer.address)
    held = _settlement_balance(view, state.signer.address)
    if held < status.shortfall_units:
        raise PaymentRefused(
            f"{state.signer.address} holds {view.units_money(held)} of the settlement token "
            f"{view.terms.settlement_token}; {label} of {code} needs {view.money(status.shortfall)}"
            f": fund from an account that holds it; nothing sent")
    with _explained(view):
        receipts = view.coupons.fund(state.signer, index + 1, amount, token=token)
    after = view.payments.funding(index + 1)
    due = ("payable now" if after.payable
           else f"payable from {view.when(period.payment_time)}")
    sent = ", ".join(_tx(r) for r in receipts)
    state.say(f"funded {label} of {code} with {view.money(status.shortfall)}: required "
              f"{view.money(after.required)}, funded {view.money(after.funded)}, shortfall "
              f"{view.money(after.shortfall)}; {due}; transaction(s) {sent}; signer "
              f"{state.signed_by}")


def _settlement_balance(view: _View, account: str) -> int:
    from munibond.contracts import settlement_abi

    token = view.state.chain.w3.eth.contract(
        address=cast("ChecksumAddress", view.terms.settlement_token), abi=list(settlement_abi()))
    return int(token.functions.balanceOf(account).call())


def _blocker(view: _View, periods: Sequence[PaymentPeriod]) -> tuple[str, bool] | None:
    """Why nothing of ``periods`` can be paid now, and whether that is a due period not funded
    (True) rather than nothing due yet (False); None when one is payable (or closed, which a
    payment settles as lapsed)."""
    now = view.now()
    code = view.code
    recorded = [p for p in periods if now >= p.record_time.timestamp()]
    if not recorded:
        first = periods[0]
        return (f"nothing payable yet: no record time of {code} has passed; "
                f"{view.label(first.index)} is recorded at {view.when(first.record_time)} and "
                f"paid from {view.when(first.payment_time)} (the chain's time is {view.when(now)})",
                False)
    for p in recorded:
        if p.swept or (p.funded and now >= p.payment_time.timestamp()):
            return None
    first = recorded[0]
    if now < first.payment_time.timestamp():
        return (f"nothing payable yet: {view.label(first.index)} of {code} is paid from "
                f"{view.when(first.payment_time)} (its payment time; the chain's time is "
                f"{view.when(now)})", False)
    status = view.payments.funding(first)
    return (f"{view.label(first.index)} of {code} is due but not funded (required "
            f"{view.money(status.required)}, funded {view.money(status.funded)}, shortfall "
            f"{view.money(status.shortfall)}): the paying agent funds it with `munibond coupon "
            f"fund {code} {first.index + 1}`", True)


def _held_back(view: _View) -> tuple[str, bool] | None:
    """The first period recorded that is not payable (periods are paid in order, so it holds
    back the later ones), and whether it is due (and so not funded), or None."""
    now = view.now()
    for p in view.schedule():
        if now < p.record_time.timestamp():
            return None
        if p.swept or (p.funded and now >= p.payment_time.timestamp()):
            continue
        if now < p.payment_time.timestamp():
            return f"{view.label(p.index)} is paid from {view.when(p.payment_time)}", False
        status = view.payments.funding(p)
        return (f"{view.label(p.index)} of {view.code} is due but not funded (required "
                f"{view.money(status.required)}, funded {view.money(status.funded)}, shortfall "
                f"{view.money(status.shortfall)}), which holds back the periods after it: "
                f"`munibond coupon fund {view.code} {p.number}`", True)
    return None


def _period_rows(view: _View, report: PaymentReport) -> list[list[str]]:
    by_period: dict[int, list[Any]] = {}
    for line in report.paid:
        row = by_period.setdefault(line.period or 0, [set(), Decimal(0), Decimal(0), Decimal(0),
                                                      Decimal(0), Decimal(0)])
        row[0].add(line.holder)
        row[1] += line.gross
        row[2] += line.national_tax
        row[3] += line.local_tax
        row[4] += line.principal
        row[5] += line.net
    return [[str(p), str(len(r[0])), _num(r[1]), _num(r[2]), _num(r[3]), _num(r[4]),
             _num(r[5])] for p, r in sorted(by_period.items())]


_AMOUNT_COLUMNS = ("gross", "national tax", "local tax", "principal", "net paid")


def _show_report(view: _View, report: PaymentReport, *, checked: int | None = None) -> None:
    state = view.state
    currency = view.currency
    rows = _period_rows(view, report)
    if rows:
        columns = ["period", "holders", *(f"{c} ({currency})" for c in _AMOUNT_COLUMNS)]
        state.show(table(columns, rows, title=f"Paid by {view.code}", right=columns))
    failed = report.failed
    if failed:
        state.show(table(["holder", "reason"], [[f.holder, f.reason] for f in failed],
                         title=f"{len(failed)} payee(s) not paid (they stay owed)"))
    for short in report.shortfalls:
        state.say(f"SHORTFALL: {view.label(short.period_index)} is due but funded "
                  f"{view.money(short.funded)} of {view.money(short.required)} (missing "
                  f"{view.money(short.shortfall)}); its holders wait, and so do later periods. "
                  f"Recorded on chain as a FundingShortfall event")
    national = sum((line.national_tax for line in report.paid), Decimal(0))
    local = sum((line.local_tax for line in report.paid), Decimal(0))
    checked_text = "" if checked is None else f" of {checked} wallet(s) checked"
    state.say(
        f"holders paid: {len(report.holders_paid)}{checked_text}; gross "
        f"{view.money(report.total('gross'))}, national tax {view.money(national)}, local tax "
        f"{view.money(local)}, principal {view.money(report.total('principal'))}, net paid "
        f"{view.money(report.total('net'))}; failed payees: {len({f.holder for f in failed})}; "
        f"{len(report.tx_hashes)} transaction(s)")


def _pay(ctx: click.Context, bond_ref: str, holders_file: Path | None, all_holders: bool,
         chunk_size: int, report_file: Path | None, *, redemption: bool) -> None:
    from munibond.contracts import PAYING_AGENT_ROLE
    from munibond.payments import PaymentInterrupted

    group = "redeem" if redemption else "coupon"
    if holders_file is not None and all_holders:
        raise click.UsageError("give either --holders FILE or --all, not both", ctx)
    _check_report_target(report_file)
    listed = read_holders(holders_file) if holders_file is not None else None
    view = _open(ctx, bond_ref, redemption=redemption)
    state, code = view.state, view.code
    agent = state.signer.address
    if not view.bond.has_role(PAYING_AGENT_ROLE, agent):
        raise MissingRole("PAYING_AGENT_ROLE", agent)
    if redemption:
        final = view.redemption.final_period()
        if view.now() < final.payment_time.timestamp():
            # nothing is due yet: done (exit 0), so that a scheduler may run this every day
            state.say(f"the redemption of {code} is not due: the bond matures at "
                      f"{view.when(final.payment_time)} (period {final.number}; the chain's time "
                      f"is {view.when(view.now())}); nothing sent")
            return
        blocked = _blocker(view, [final])
    else:
        blocked = _blocker(view, view.schedule())
    if blocked:
        reason, due = blocked
        if due:
            raise Unpaid(reason + "; nothing sent")
        state.say(reason + "; nothing sent")  # nothing due yet: done (exit 0)
        return
    candidates = listed if listed is not None else view.payments.bond_holders_ever()
    where = f"listed in {holders_file}" if listed is not None else "that ever held the bond"
    state.note(f"paying {code}: checking what the {len(candidates)} wallet(s) {where} are owed, "
               f"then paying in batches of {chunk_size}")
    try:
        with phase_progress(state.err, show=state.show_progress) as progress:
            report = view.payments.pay(
                state.signer, candidates, chunk_size=chunk_size,
                progress=lambda done, total: progress("paying holders", done, total),
                checking=lambda done, total: progress("checking who is owed", done, total))
    except PaymentInterrupted as stop:
        _show_report(view, stop.report, checked=len(candidates))
        written = ""
        if report_file is not None:
            _write_report(view, report_file, stop.report)
            written = f"; the report of what was paid is in {report_file.resolve()}"
        message = str(stop).replace(
            "run the same payment again", f"run the same `munibond {group} pay` again")
        raise PaymentRefused(message + written) from None
    except KeyboardInterrupt:
        state.note(f"interrupted: batches sent are final; running the same `munibond {group} "
                   f"pay` again pays the rest and nobody twice")
        raise
    if report_file is not None:
        _write_report(view, report_file, report)
    if not report.tx_hashes:
        whom = (f"none of the {len(candidates)} wallet(s) listed in {holders_file} is"
                if listed is not None else "no holder is")
        held = _held_back(view)
        line = (f"{whom} owed anything payable now by {code}: nothing sent"
                + (f"; {held[0]}" if held else ""))
        if held is not None and held[1]:
            raise Unpaid(line)
        state.say(line)
        return
    _show_report(view, report, checked=len(candidates))
    state.say(f"signer {state.signed_by}")
    failed = report.failed
    held = _held_back(view)
    unpaid: list[str] = []
    if failed:
        unpaid.append(
            f"{len({f.holder for f in failed})} payee(s) could not be paid (reasons above"
            f"{f' and in {report_file}' if report_file else ''}): they stay owed; once what the "
            f"reasons say is fixed (a frozen wallet unfrozen, ...), run the same `munibond {group} "
            f"pay` again, which pays only them")
    if report.shortfalls:
        labels = ", ".join(view.label(s.period_index) for s in report.shortfalls)
        funds = ", ".join(f"`munibond coupon fund {code} {s.period}`"
                          for s in report.shortfalls)
        unpaid.append(f"due but not fully funded (SHORTFALL above): {labels}; its holders wait: "
                      f"fund with {funds}, then run the same `munibond {group} pay` again")
    elif held is not None and held[1]:
        unpaid.append(held[0])
    if unpaid:
        raise Unpaid("; ".join(unpaid))


def _claim(ctx: click.Context, bond_ref: str, *, redemption: bool) -> None:
    view = _open(ctx, bond_ref, redemption=redemption)
    state = view.state
    signer = state.signer
    with _explained(view):
        report = (view.redemption.claim(signer) if redemption
                  else view.coupons.claim(signer))
    currency = view.currency
    rows = [[str(line.period), _num(line.gross), _num(line.national_tax),
             _num(line.local_tax), _num(line.principal), _num(line.net)] for line in report.paid]
    columns = ["period", *(f"{c} ({currency})" for c in _AMOUNT_COLUMNS)]
    state.show(table(columns, rows, title=f"Paid to {signer.address}", right=columns))
    what = "redeemed" if redemption or any(
        line.period_index == view.final_index for line in report.paid) else "claimed"
    state.say(f"{what}: {view.money(report.total('net'))} paid to {signer.address} for "
              f"{len(report.paid)} period(s) of {view.code} (gross "
              f"{view.money(report.total('gross'))}, tax {view.money(report.total('tax'))}, "
              f"principal {view.money(report.total('principal'))}): transaction "
              f"{', '.join(report.tx_hashes)}; signer {state.signed_by}")


# --- the coupon commands ---------------------------------------------------------------------

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _pay_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators: list[Decorator] = [
        click.argument("bond_ref", metavar="BOND", type=BOND),
        click.option("--holders", "holders_file", metavar="FILE.csv",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Pay only the wallets of this CSV (a wallet column, as `munibond "
                          "holders --csv` writes; or holder, or address)."),
        click.option("--all", "all_holders", is_flag=True,
                     help="Pay every wallet that ever held the bond and is owed something "
                          "payable [the default]."),
        click.option("--chunk-size", type=click.IntRange(1, 500), default=DEFAULT_CHUNK,
                     show_default=True, help="Holders per transaction."),
        click.option("--report", "report_file", metavar="FILE.csv",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the payment report (holder, period, gross, national_tax, "
                          "local_tax, tax, net, principal, tx_hash, status, reason) to this "
                          "file, also when the run stops part way."),
        connection_options(),
        signer_options(),
        click.pass_context,
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def _bond_action(func: Callable[..., Any]) -> Callable[..., Any]:
    """The BOND argument, connection and signer options (the commands that send)."""
    decorators: list[Decorator] = [
        click.argument("bond_ref", metavar="BOND", type=BOND),
        connection_options(),
        signer_options(),
        click.pass_context,
    ]
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def _period_action(func: Callable[..., Any]) -> Callable[..., Any]:
    """BOND and PERIOD arguments, connection and signer options (the period commands)."""
    return _bond_action(click.argument("number", metavar="PERIOD",
                                       type=click.IntRange(min=1))(func))


@click.command("fund", cls=Command)
@_period_action
@click.option("--amount", type=AMOUNT, default=None,
              help="The amount to fund, in the settlement currency: must be exactly what the "
                   "period still needs [default: that amount].")
@click.option("--token", type=ADDRESS, default=None,
              help="The settlement token, to check it is the bond's [default: the bond's].")
def fund(ctx: click.Context, bond_ref: str, number: int, amount: Decimal | None,
         token: str | None) -> None:
    """Fund coupon PERIOD (from 1) of BOND with exactly what it needs.

    Approves the bond to take the amount from the signer's settlement tokens, then funds. The
    signer needs the bond's PAYING_AGENT_ROLE or ISSUER_ROLE. A period already funded sends
    nothing; a wrong --amount is refused, naming the amount required.
    """
    view = _open(ctx, bond_ref)
    period = view.period(number)
    _fund(ctx, view, period.index, amount, token)


@click.command("pay", cls=Command)
@_pay_options
def pay(ctx: click.Context, bond_ref: str, holders_file: Path | None, all_holders: bool,
        chunk_size: int, report_file: Path | None) -> None:
    """Pay BOND's holders everything payable now (paying agent), in batches.

    Every period funded and past its payment time is paid to the holders of record, coupons net
    of withholding tax (and principal where due; at maturity the redemption, burning the units).
    Idempotent: holders already paid are skipped, so after an interruption the same command pays
    the rest. A payee that cannot be paid (a frozen wallet) is listed with the reason and stays
    owed.

    \b
    Exit codes, for a scheduler that runs it every day:
      0  everything due was paid, or nothing is due yet
      4  a due payment could not be made: a due period not (fully) funded, a payee
         left owed
      1  an error (the node, the role, ...)
    """
    _pay(ctx, bond_ref, holders_file, all_holders, chunk_size, report_file, redemption=False)


@click.command("claim", cls=Command)
@_bond_action
def claim(ctx: click.Context, bond_ref: str) -> None:
    """Claim everything BOND owes the signer (a holder) and is payable now.

    Coupons net of withholding tax, principal where due; at maturity the redemption, burning the
    signer's units. Sign as the holder (--key-env VAR or --keystore FILE). Refused before the
    payment time (naming it, exit code 1) or while a due period is not funded (exit code 4).
    """
    _claim(ctx, bond_ref, redemption=False)


def _state_of_period(p: PaymentPeriod, payable: bool, now: int) -> str:
    if p.swept:
        return "closed"
    if payable:
        return "payable"
    if p.funded:
        return "funded"
    if now >= p.payment_time.timestamp():
        return "due, not funded"
    if now >= p.record_time.timestamp():
        return "recorded"
    return "scheduled"


def _kind(p: PaymentPeriod) -> str:
    """``coupon 0.310%``, ``redemption 100% + coupon 0.310%``, ``coupon 0.310% + principal
    20%`` (of the original face)."""
    from munibond.units import format_rate

    coupon = f"coupon {format_rate(p.coupon_per_unit)}" if p.coupon_per_unit_scaled else ""
    principal = _num(p.principal_per_unit * 100) + "%"
    if p.final:
        return " + ".join(filter(None, [f"redemption {principal}", coupon]))
    if p.principal_per_unit_scaled:
        return " + ".join(filter(None, [coupon, f"principal {principal}"]))
    return coupon or "nothing"


def _schedule_status(view: _View) -> None:
    state = view.state
    currency = view.currency
    now = view.now()
    terms = view.terms
    account = view.coupons.tax_account()
    state.show(fields_table(f"Payments of {view.code}", [
        ("settlement token", f"{terms.settlement_token} ({terms.settlement_decimals} decimals)"),
        ("periods", f"{terms.period_count} ({terms.periods_recorded} recorded)"),
        ("claim window", f"{_duration(terms.claim_window)} after each payment time"),
        ("call notice", _duration(terms.call_notice)),
        ("tax account", account or "none (set with `munibond coupon tax-rates BOND "
                                   "--tax-account ADDRESS`)"),
        ("chain time", view.when(now)),
    ]))
    rows: list[list[str]] = []
    for p in view.schedule():
        status = view.payments.funding(p)
        paid = view.payments.paid(p)
        rows.append([str(p.number), _kind(p), view.when(p.record_time), view.when(p.payment_time),
                     _state_of_period(p, status.payable, now), _num(status.required),
                     _num(status.funded), _num(status.shortfall), _num(paid.coupon_gross),
                     _num(paid.withheld), _num(paid.net), _num(paid.tax_remitted)])
    columns = ["period", "pays (of face)", "record time", "payment time", "state", "required",
               "funded", "shortfall", "gross paid", "tax withheld", "net paid", "tax remitted"]
    state.show(table(columns, rows, title=f"Periods (amounts in {currency})",
                     right=["period", *columns[5:]]))


def _period_status(view: _View, p: PaymentPeriod) -> None:
    now = view.now()
    status = view.payments.funding(p)
    paid = view.payments.paid(p)
    escrow = status.funded - paid.coupon_gross - paid.principal - paid.returned
    closes = int(p.payment_time.timestamp()) + view.terms.claim_window
    rows = [
        ("pays (of face)", _kind(p)),
        ("record time", view.when(p.record_time)
         + (" (passed)" if now >= p.record_time.timestamp() else "")),
        ("payment time", view.when(p.payment_time)),
        ("claim window", f"until {view.when(closes)}"),
        ("state", _state_of_period(p, status.payable, now)),
        ("funding", f"required {view.money(status.required)}, funded "
                    f"{view.money(status.funded)}, shortfall {view.money(status.shortfall)}"),
        ("paid", f"gross {view.money(paid.coupon_gross)}, national tax "
                 f"{view.money(paid.national_tax)}, local tax {view.money(paid.local_tax)}, "
                 f"principal {view.money(paid.principal)}, net to holders "
                 f"{view.money(paid.net)}"),
        ("tax", f"withheld {view.money(paid.withheld)}, remitted "
                f"{view.money(paid.tax_remitted)}, to remit "
                f"{view.money(paid.withheld - paid.tax_remitted)}"),
        ("unclaimed", f"returned {view.money(paid.returned)}; left in the bond for holders "
                      f"still owed and rounding {view.money(max(escrow, Decimal(0)))}"),
    ]
    view.state.show(fields_table(f"{view.label(p.index).capitalize()} of {view.code}", rows))


def _holder_status(view: _View, holder: str, only: PaymentPeriod | None) -> None:
    state = view.state
    currency = view.currency
    entitlements = view.payments.entitlements(holder)
    if only is not None:
        entitlements = [e for e in entitlements if e.period_index == only.index]
    account = view.bond.account(holder)
    state.say(f"{holder}: balance {face(account.balance, currency)}, frozen "
              f"{face(account.frozen, currency)}, wallet frozen: {yes_no(account.wallet_frozen)}")
    if entitlements:
        waits = " (waits: wallet frozen)" if account.wallet_frozen else ""
        rows = [[str(e.period), view.face_of(e.units), _num(e.gross), _num(e.national_tax),
                 _num(e.local_tax), _num(e.net), _num(e.principal),
                 e.status + (waits if e.status == "payable" else "")] for e in entitlements]
        columns = ["period", "held at record", f"gross ({currency})",
                   f"national tax ({currency})", f"local tax ({currency})",
                   f"net ({currency})", f"principal ({currency})", "status"]
        state.show(table(columns, rows, title=f"Owed to {holder} (tax category "
                                              f"{entitlements[0].tax_category})",
                         right=columns[:7]))
    else:
        state.say(f"owed to {holder}: nothing for the periods recorded")
    paid = _paid_to(view, holder, only)
    if paid:
        columns = ["period", *(f"{c} ({currency})" for c in _AMOUNT_COLUMNS), "transaction"]
        state.show(table(columns, paid, title=f"Paid to {holder}", right=columns[:-1]))
    else:
        state.say(f"paid to {holder}: nothing yet")


def _topic(value: int | str) -> bytes:
    if isinstance(value, str):
        return bytes(12) + bytes.fromhex(value[2:])
    return value.to_bytes(32, "big")


def _events(view: _View, name: str, *filters: int | str | None, from_block: int | None = None,
            to_block: int | None = None) -> list[EventData]:
    """The bond's ``name`` events, filtered on their indexed arguments (None: any)."""
    from munibond.ledger import creation_block, fetch_logs

    chain = view.state.chain
    event = getattr(view.bond.contract.events, name)()
    start = from_block if from_block is not None else (
        view.handle.created_block if view.handle.created_block is not None
        else creation_block(chain, view.bond.address))
    end = chain.block_number() if to_block is None else to_block
    if start > end:
        return []
    topics: list[Any] = [event.topic, *(None if f is None else _topic(f) for f in filters)]
    while topics and topics[-1] is None:
        topics.pop()
    logs = fetch_logs(chain, view.bond.address, from_block=start, to_block=end, topics=topics)
    return [cast("EventData", event.process_log(log)) for log in logs]


def _paid_to(view: _View, holder: str, only: PaymentPeriod | None) -> list[list[str]]:
    period = None if only is None else only.index
    lines: dict[tuple[int, str], list[Any]] = {}
    for name in ("CouponPaid", "PrincipalPaid"):
        for event in _events(view, name, holder, period):
            a = event["args"]
            key = (int(a["period"]), "0x" + bytes(event["transactionHash"]).hex())
            line = lines.setdefault(key, [Decimal(0)] * 5)
            if name == "CouponPaid":
                line[0] += view.payments.money(int(a["gross"]))
                line[1] += view.payments.money(int(a["nationalTax"]))
                line[2] += view.payments.money(int(a["localTax"]))
                line[4] += view.payments.money(int(a["net"]))
            else:
                line[3] += view.payments.money(int(a["amount"]))
                line[4] += view.payments.money(int(a["amount"]))
    return [[str(p + 1), *(_num(v) for v in values), tx]
            for (p, tx), values in sorted(lines.items())]


# --- reconciliation --------------------------------------------------------------------------

def _reconcile(view: _View, p: PaymentPeriod) -> bool:
    """The register at the record time x the period's amounts, floored per holder, against what
    the contract owes (entitlementsOf) and paid (CouponPaid, PrincipalPaid) or let lapse
    (EntitlementForfeited); wallets recovered since the record are compared as one. True when
    every holder matches."""
    from munibond.ledger import block_at, holders, wallets_ever

    state = view.state
    chain = state.chain
    record = int(p.record_time.timestamp())
    label = view.label(p.index)
    if chain.now() < record:
        state.say(f"reconciliation: {label} is recorded at {view.when(p.record_time)}; nothing "
                  f"to reconcile before")
        return True
    # the record is taken by the first block at or after the record time: the register is the
    # state after the last block before it
    block = block_at(chain, datetime.fromtimestamp(record - 1, UTC))
    latest = chain.block_number()
    register = holders(chain, view.bond.address, at_block=block,
                       from_block=view.handle.created_block)
    units_at = {h.wallet: h.units for h in register}
    expected = {w: view.payments.amounts(p, u, view.terms) for w, u in units_at.items()}

    paid: dict[str, list[Decimal]] = {}
    created = view.handle.created_block
    for name in ("CouponPaid", "PrincipalPaid", "EntitlementForfeited"):
        for event in _events(view, name, None, p.index, from_block=created, to_block=latest):
            a = event["args"]
            entry = paid.setdefault(str(a["holder"]), [Decimal(0)] * 4)
            if name == "CouponPaid":
                entry[0] += view.payments.money(int(a["gross"]))
            elif name == "PrincipalPaid":
                entry[1] += view.payments.money(int(a["amount"]))
            else:
                gross, principal = view.payments.amounts(p, int(a["units"]), view.terms)
                entry[2] += gross
                entry[3] += principal
    # recoveries after the record move what is owed to the new wallet: compare them as one
    group: dict[str, str] = {}

    def root(wallet: str) -> str:
        while group.get(wallet, wallet) != wallet:
            wallet = group[wallet]
        return wallet

    # every wallet that ever held units: none but the holders of record may be owed the period
    wallets = set(units_at) | set(paid) | set(
        wallets_ever(chain, view.bond.address, from_block=created))
    for event in _events(view, "WalletRecovered", from_block=block + 1, to_block=latest):
        a = event["args"]
        lost, new = str(a["lostWallet"]), str(a["newWallet"])
        wallets |= {lost, new}
        if root(lost) != root(new):
            group[root(lost)] = root(new)

    owed: dict[str, tuple[Decimal, Decimal]] = {}
    contract = view.bond.contract
    for wallet in sorted(wallets):
        periods, units = chain.call(contract.functions.entitlementsOf(wallet), latest)
        held = sum(int(u) for q, u in zip(periods, units, strict=True) if int(q) == p.index)
        if held:
            owed[wallet] = view.payments.amounts(p, held, view.terms)

    zero = (Decimal(0), Decimal(0))
    members: dict[str, list[str]] = {}
    for wallet in wallets:
        members.setdefault(root(wallet), []).append(wallet)
    rows: list[list[str]] = []
    totals = [Decimal(0)] * 5
    for wallets_of in members.values():
        want = [sum((expected.get(w, zero)[i] for w in wallets_of), Decimal(0)) for i in (0, 1)]
        got_paid = [sum((paid.get(w, [Decimal(0)] * 4)[i] for w in wallets_of), Decimal(0))
                    for i in range(4)]
        got_owed = [sum((owed.get(w, zero)[i] for w in wallets_of), Decimal(0)) for i in (0, 1)]
        have = [got_paid[0] + got_owed[0] + got_paid[2], got_paid[1] + got_owed[1] + got_paid[3]]
        totals[0] += want[0]
        totals[1] += got_paid[0]
        totals[2] += got_owed[0]
        totals[3] += got_paid[2]
        totals[4] += want[1]
        if want != have:
            rows.append([" + ".join(sorted(wallets_of)),
                         view.face_of(sum(units_at.get(w, 0) for w in wallets_of)),
                         _num(want[0]), _num(have[0]), _num(want[1]), _num(have[1])])
    supply = sum(units_at.values())
    moment = view.when(int(chain.w3.eth.get_block(block)["timestamp"]))
    status = view.payments.funding(p)
    dust = status.required - totals[0] - totals[4]
    state.say(
        f"reconciliation of {label} with the register at its record time (block {block}, "
        f"{moment}, the last block before {view.when(p.record_time)}): {len(register)} holder(s) "
        f"of {view.face_of(supply)}; expected gross {view.money(totals[0])} (each holding x "
        f"{_num(p.coupon_per_unit)} per 1 {view.currency} of face, floored) = paid "
        f"{view.money(totals[1])} + owed {view.money(totals[2])} + lapsed "
        f"{view.money(totals[3])}; principal expected {view.money(totals[4])}; rounding left in "
        f"the funding {view.money(dust)}: "
        + ("every holder matches" if not rows else f"{len(rows)} holder(s) DIFFER"))
    if rows:
        columns = ["wallet(s)", "held at record", f"expected gross ({view.currency})",
                   f"contract gross ({view.currency})", f"expected principal ({view.currency})",
                   f"contract principal ({view.currency})"]
        state.show(table(columns, rows, title="Holders whose payments differ from the register",
                         right=columns[1:]))
    return not rows


@click.command("status", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.argument("number", metavar="[PERIOD]", type=click.IntRange(min=1), required=False)
@click.option("--holder", type=ADDRESS, default=None,
              help="What this wallet is owed (with each period's status) and was paid.")
@click.option("--reconcile", is_flag=True,
              help="With PERIOD: rebuild the register at the period's record time from the "
                   "bond's events and check, holder by holder, that the contract owes or paid "
                   "each exactly its holding x the coupon, floored (exit 1 if not).")
@connection_options()
@click.pass_context
def status(ctx: click.Context, bond_ref: str, number: int | None, holder: str | None,
           reconcile: bool) -> None:
    """BOND's payment schedule with each period's funding and payments, or one PERIOD in
    detail; --holder: a wallet's entitlements and payments. Sends nothing.
    """
    if reconcile and number is None:
        raise click.UsageError("--reconcile needs a PERIOD", ctx)
    view = _open(ctx, bond_ref)
    period = view.period(number) if number is not None else None
    if period is None:
        if holder is None:
            _schedule_status(view)
    else:
        _period_status(view, period)
    if holder is not None:
        _holder_status(view, holder, period)
    if period is not None and reconcile and not _reconcile(view, period):
        raise PaymentRefused(f"the payments of {view.label(period.index)} of {view.code} do not "
                             f"match the register at its record time (table above)")
    if period is not None and not reconcile and holder is None:
        view.state.note(f"check every holder's payment against the register at the record "
                        f"time with `munibond coupon status {view.code} {number} --reconcile`")


@click.command("remit-tax", cls=Command)
@_period_action
def remit_tax(ctx: click.Context, bond_ref: str, number: int) -> None:
    """Send the tax withheld from PERIOD's coupons, not yet remitted, to BOND's tax account
    (paying agent). Sends nothing when there is nothing to remit."""
    from munibond.contracts import PAYING_AGENT_ROLE

    view = _open(ctx, bond_ref)
    p = view.period(number)
    state = view.state
    view.bond.require_role(PAYING_AGENT_ROLE, state.signer.address)
    paid = view.coupons.paid(p)
    label = view.label(p.index)
    account = view.coupons.tax_account()
    if account is not None and paid.withheld == paid.tax_remitted:
        state.say(f"nothing to remit for {label} of {view.code}: withheld "
                  f"{view.money(paid.withheld)}, remitted {view.money(paid.tax_remitted)}; "
                  f"nothing sent")
        return
    with _explained(view):
        receipt = view.coupons.remit_tax(state.signer, p)
    after = view.coupons.paid(p)
    state.say(f"remitted {view.money(after.tax_remitted - paid.tax_remitted)} of tax withheld "
              f"for {label} of {view.code} (national {view.money(after.national_tax)}, local "
              f"{view.money(after.local_tax)} withheld in all) to the tax account {account}: "
              f"transaction {_tx(receipt)}; signer {state.signed_by}")


@click.command("return-unclaimed", cls=Command)
@_period_action
@click.option("--to", "recipient", type=ADDRESS, required=True,
              help="Where the unclaimed funds go (the issuer's account).")
def return_unclaimed(ctx: click.Context, bond_ref: str, number: int, recipient: str) -> None:
    """After PERIOD's claim window, return what is left of its funding (unclaimed payments and
    rounding) to --to (issuer). The period then pays nothing more; what holders were still owed
    for it lapses."""
    from munibond.contracts import ISSUER_ROLE

    view = _open(ctx, bond_ref)
    p = view.period(number)
    state = view.state
    label = view.label(p.index)
    view.bond.require_role(ISSUER_ROLE, state.signer.address)
    if p.swept:
        paid = view.coupons.paid(p)
        state.say(f"{label} of {view.code} is already closed: {view.money(paid.returned)} "
                  f"returned; nothing sent")
        return
    with _explained(view):
        receipt = view.coupons.return_unclaimed(state.signer, p, recipient)
    paid = view.coupons.paid(p)
    state.say(f"returned {view.money(paid.returned)} unclaimed of {label} of {view.code} to "
              f"{recipient}; the period is closed: it pays nothing more: transaction "
              f"{_tx(receipt)}; signer {state.signed_by}")


@click.command("report-shortfall", cls=Command)
@_period_action
def report_shortfall(ctx: click.Context, bond_ref: str, number: int) -> None:
    """Record on chain (event FundingShortfall) that PERIOD of BOND is due and not fully
    funded. Anyone may; refused when there is no shortfall."""
    view = _open(ctx, bond_ref)
    p = view.period(number)
    state = view.state
    with _explained(view):
        receipt = view.coupons.report_shortfall(state.signer, p)
    status = view.payments.funding(p)
    state.say(f"reported the funding shortfall of {view.label(p.index)} of {view.code} on "
              f"chain: required {view.money(status.required)}, funded "
              f"{view.money(status.funded)}, shortfall {view.money(status.shortfall)}, due since "
              f"{view.when(p.payment_time)}: transaction {_tx(receipt)}; signer {state.signed_by}")


def _category(text: str) -> int:
    from munibond import codes
    from munibond.payments import MAX_TAX_CATEGORY

    value = text.strip()
    if value.isdigit():
        if int(value) > MAX_TAX_CATEGORY:
            raise click.BadParameter(f"tax category {value} is out of range: 0 to "
                                     f"{MAX_TAX_CATEGORY}", param_hint="'--set'")
        return int(value)
    try:
        return codes.tax_category_id(value)
    except codes.CodeError as error:
        raise click.BadParameter(str(error), param_hint="'--set'") from None


def _rate(text: str, what: str) -> int:
    from munibond.exceptions import AmountError
    from munibond.payments import percent_to_rate

    try:
        return percent_to_rate(text, what)
    except AmountError as error:
        raise click.BadParameter(str(error), param_hint="'--set'") from None


@click.command("tax-rates", cls=Command)
@click.argument("bond_ref", metavar="BOND", type=BOND)
@click.option("--set", "new_rates", nargs=3, type=str, default=None,
              metavar="CATEGORY NATIONAL% LOCAL%",
              help="Set a tax category's withholding rates (admin), e.g. --set individual "
                   "15.315% 5%; periods already payable keep theirs.")
@click.option("--tax-account", type=ADDRESS, default=None,
              help="Set the account withheld tax is remitted to (admin).")
@connection_options()
@signer_options()
@click.pass_context
def tax_rates(ctx: click.Context, bond_ref: str, new_rates: tuple[str, str, str] | None,
              tax_account: str | None) -> None:
    """BOND's withholding rates by tax category and its tax account; --set and --tax-account
    change them (admin; nothing is sent for what already is so)."""
    from munibond import codes
    from munibond.contracts import DEFAULT_ADMIN_ROLE
    from munibond.payments import MAX_TAX_CATEGORY, RATE_UNIT

    wanted = None
    if new_rates is not None:
        category = _category(new_rates[0])
        national, local = _rate(new_rates[1], "national rate"), _rate(new_rates[2], "local rate")
        if national + local > 100_000:
            raise click.BadParameter(f"national {new_rates[1]} + local {new_rates[2]} exceed "
                                     f"100%", param_hint="'--set'")
        wanted = (category, national, local)
    view = _open(ctx, bond_ref)
    state = view.state
    coupons = view.coupons
    if wanted is not None or tax_account is not None:
        view.bond.require_role(DEFAULT_ADMIN_ROLE, state.signer.address)
    if wanted is not None:
        category, national, local = wanted
        now = coupons.tax_rates(category)
        percent = (Decimal(national) * RATE_UNIT, Decimal(local) * RATE_UNIT)
        if (now.national, now.local) == percent:
            state.say(f"tax category {category} already has national {_num(percent[0])}% and "
                      f"local {_num(percent[1])}%: nothing sent")
        else:
            receipt = coupons.set_tax_rates(state.signer, category, percent[0], percent[1])
            state.say(f"tax category {category}: national {_num(percent[0])}%, local "
                      f"{_num(percent[1])}% (was {_num(now.national)}% + {_num(now.local)}%): "
                      f"transaction {_tx(receipt)}; signer {state.signed_by}")
    if tax_account is not None:
        if coupons.tax_account() == tax_account:
            state.say(f"the tax account already is {tax_account}: nothing sent")
        else:
            receipt = coupons.set_tax_account(state.signer, tax_account)
            state.say(f"tax account of {view.code}: {tax_account}: transaction {_tx(receipt)}; "
                      f"signer {state.signed_by}")
    rows: list[list[str]] = []
    for category in range(MAX_TAX_CATEGORY + 1):
        rates = coupons.tax_rates(category)
        name = codes.TAX_CATEGORY_NAMES.get(category)
        if name is None and not rates.total:
            continue
        rows.append([str(category), name or "-", f"{_num(rates.national)}%",
                     f"{_num(rates.local)}%", f"{_num(rates.total)}%"])
    columns = ["category", "name", "national", "local", "total"]
    state.show(table(columns, rows, title=f"Withholding tax on the coupons of {view.code}",
                     right=["category", "national", "local", "total"]))
    state.say(f"tax account: {coupons.tax_account() or 'none'}")


COUPON_COMMANDS = (fund, pay, claim, status, remit_tax, return_unclaimed, report_shortfall,
                   tax_rates)


# --- redeem ----------------------------------------------------------------------------------

@click.group("redeem", cls=Group)
def redeem() -> None:
    """A bond's principal: fund and pay the redemption at maturity, holders' redemption
    claims, and the issuer's call."""


@redeem.command("fund")
@_bond_action
@click.option("--amount", type=AMOUNT, default=None,
              help="The amount to fund: must be exactly what the final period still needs "
                   "[default: that amount].")
@click.option("--token", type=ADDRESS, default=None,
              help="The settlement token, to check it is the bond's [default: the bond's].")
def redeem_fund(ctx: click.Context, bond_ref: str, amount: Decimal | None,
                token: str | None) -> None:
    """Fund BOND's final period (the principal of every unit outstanding and the last coupon)
    with exactly what it needs (paying agent or issuer)."""
    view = _open(ctx, bond_ref, redemption=True)
    _fund(ctx, view, view.final_index, amount, token)


@redeem.command("pay")
@_pay_options
def redeem_pay(ctx: click.Context, bond_ref: str, holders_file: Path | None, all_holders: bool,
               chunk_size: int, report_file: Path | None) -> None:
    """Redeem BOND's holders at maturity (paying agent), in batches: the principal and every
    payment still owed, units burned. Before maturity nothing is due: exit code 0, nothing sent.
    Idempotent, and the exit codes of `coupon pay` (4: the redemption is due and not funded,
    or a payee is left owed)."""
    _pay(ctx, bond_ref, holders_file, all_holders, chunk_size, report_file, redemption=True)


@redeem.command("claim")
@_bond_action
def redeem_claim(ctx: click.Context, bond_ref: str) -> None:
    """Redeem the signer's units of BOND at maturity: the principal and every payment still
    owed, the units burned in the same transaction. Refused before maturity (naming it)."""
    _claim(ctx, bond_ref, redemption=True)


@redeem.command("call")
@_period_action
@click.option("--price", required=True, metavar="PERCENT",
              help="The call price, in percent of the outstanding face (e.g. 101%).")
def redeem_call(ctx: click.Context, bond_ref: str, number: int, price: str) -> None:
    """Call BOND (issuer): PERIOD becomes the final redemption at --price percent of the
    outstanding face, paid at its payment time; later periods are cancelled. Announced at least
    the call notice before the period's payment time, and before its record time."""
    from munibond.exceptions import AmountError
    from munibond.payments import parse_percent

    try:
        parse_percent(price, "call price", positive=True)
    except AmountError as error:
        raise click.BadParameter(str(error), param_hint="'--price'") from None
    view = _open(ctx, bond_ref, redemption=True)
    p = view.period(number)
    state = view.state
    later = view.terms.period_count - number
    with _explained(view):
        receipt = view.redemption.call(state.signer, p, price.strip().rstrip("%").strip())
    view.bond.refresh()
    after = view.bond.redemption.final_period()
    cancelled = f"periods {number + 1} to {number + later} are cancelled" if later > 1 else \
        f"period {number + 1} is cancelled" if later == 1 else "no later period"
    state.say(f"called {view.code}: period {number} becomes the final redemption at "
              f"{_num(after.principal_per_unit * 100)}% of the original face plus its coupon, "
              f"paid from {view.when(after.payment_time)} (recorded at "
              f"{view.when(after.record_time)}); {cancelled}; fund it with `munibond redeem fund "
              f"{view.code}`: transaction {_tx(receipt)}; signer {state.signed_by}")


@redeem.command("status")
@click.argument("bond_ref", metavar="BOND", type=BOND)
@connection_options()
@click.pass_context
def redeem_status(ctx: click.Context, bond_ref: str) -> None:
    """BOND's redemption: the final period, its funding, what is still outstanding and whether
    the bond is closed. Sends nothing."""
    view = _open(ctx, bond_ref, redemption=True)
    bond = view.bond
    final = view.redemption.final_period()
    status = view.redemption.funding(final)
    paid = view.redemption.paid(final)
    now = view.now()
    supply = bond.total_supply()
    closed = view.redemption.closed()
    due = now >= final.payment_time.timestamp()
    view.state.show(fields_table(f"Redemption of {view.code}", [
        ("final period", f"{final.number} of {view.terms.period_count}: {_kind(final)}"),
        ("record time", f"{view.when(final.record_time)} (transfers and mints stop there)"),
        ("maturity", f"{view.when(final.payment_time)} ({'due' if due else 'not yet due'}; chain "
                     f"time {view.when(now)})"),
        ("funding", f"required {view.money(status.required)}, funded "
                    f"{view.money(status.funded)}, shortfall {view.money(status.shortfall)}; "
                    f"payable: {yes_no(status.payable)}"),
        ("redeemed", f"principal {view.money(paid.principal)} paid, last coupon gross "
                     f"{view.money(paid.coupon_gross)}"),
        ("outstanding", f"{face(supply, view.currency)}, {bond.holder_count():,} holder(s)"),
        ("closed", yes_no(closed) + (" (every unit redeemed: no transfers, no mints)"
                                     if closed else "")),
    ]))
