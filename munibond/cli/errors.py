"""Errors of the CLI itself, exit codes, and the one line an error is reported in."""

from __future__ import annotations

import click

from munibond.exceptions import MunibondError, TransactionReverted, TransferRestricted

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_REFUSED", "EXIT_UNPAID",
           "EXIT_USAGE", "Interrupted", "Refused", "Unpaid", "describe", "one_line"]

#: done (``check``: allowed; a payment command: everything due was paid, or nothing is due yet)
EXIT_OK = 0
#: an error: what is wrong and what to do
EXIT_ERROR = 1
#: a usage error: an unknown option, a missing or malformed argument
EXIT_USAGE = 2
#: refused by the bond's rules (a restriction code, an amount off the trading unit)
EXIT_REFUSED = 3
#: a due payment could not be made: a due period unfunded (a shortfall), a payee that failed and
#: is left owed (payment commands; what a scheduler alerts on)
EXIT_UNPAID = 4
EXIT_INTERRUPTED = 130


class Refused(MunibondError):
    """The bond's rules refuse what was asked (exit code 3)."""


class Unpaid(MunibondError):
    """A payment that is due could not be made: a due period is not (fully) funded, or a payee
    failed and stays owed (exit code 4)."""


class Interrupted(Exception):
    """Ctrl-C (or SIGTERM) while a command ran."""


def one_line(text: str) -> str:
    """``text`` on a single line (line breaks and runs of spaces become one space)."""
    return " ".join(text.split())


def _mined(error: BaseException) -> str | None:
    """The hash of the mined, failed transaction a decoded revert came from (None: the
    pre-check refused it and nothing was sent)."""
    cause = error.__cause__
    if isinstance(cause, TransactionReverted):
        return cause.tx_hash or "?"
    return None


#: the SDK's advice in the CLI's words
_CLI_WORDS = (
    ("connect with tx_mode='eip1559', or a gas_price of at least what it charges",
     "pass --eip1559, or a --gas-price of at least what it charges"),
    (" (accept_term_sheet_edits=True)", ""),
    ("(or run with --fresh, fresh=True)", "(or run `munibond deploy` with --fresh)"),
)


def _in_cli_words(text: str) -> str:
    for sdk, cli in _CLI_WORDS:
        text = text.replace(sdk, cli)
    return text


def describe(error: BaseException) -> tuple[str, int]:
    """The one-line message and the exit code for an error that ended a command."""
    message, code = _describe(error)
    return _in_cli_words(message), code


def _describe(error: BaseException) -> tuple[str, int]:
    mined = _mined(error)
    if isinstance(error, TransferRestricted):
        from munibond.restrictions import restriction

        found = restriction(error.code)
        sent = (f"transaction {mined} was mined and failed" if mined is not None
                else "the transaction was not sent")
        return (f"refused by the bond's rules, restriction code {error.code} ({found.name}): "
                f"{error.explained}; {found.hint}; {sent}", EXIT_REFUSED)
    if isinstance(error, Refused):
        return str(error), EXIT_REFUSED
    if isinstance(error, Unpaid):
        return str(error), EXIT_UNPAID
    if isinstance(error, click.UsageError):
        where = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
        return error.format_message() + where, EXIT_USAGE
    if isinstance(error, click.ClickException):
        return error.format_message(), error.exit_code
    if isinstance(error, Interrupted | click.Abort | KeyboardInterrupt):
        return ("interrupted: a transaction may have been sent; look at the bond (`munibond "
                "status`, `munibond holders`) before sending again (investors import and allot "
                "are safe to re-run)"), EXIT_INTERRUPTED
    if isinstance(error, MunibondError):
        if mined is not None:
            return f"{error} (transaction {mined} was mined and failed)", EXIT_ERROR
        return str(error), EXIT_ERROR
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or error}", EXIT_ERROR
    return (f"unexpected {type(error).__name__}: {error} (run again with -v for the traceback, "
            f"and report it)"), EXIT_ERROR
