"""The ``munibond`` command group, its global options, and how errors end a run.

Exit codes
==========

===  ==========================================================================================
0    done (``check``: the transfer is allowed; ``coupon pay``, ``redeem pay``: everything due
     was paid, or nothing is due yet)
1    an error: what is wrong and what to do, on one line on standard error (``error: ...``)
2    a usage error: an unknown option, a missing or malformed argument (an address, an amount,
     a date), also on one line
3    refused by the bond's rules: ``check`` of a transfer the bond refuses, a transfer or forced
     transfer the pre-check refuses (ERC-1404 code and message), an amount off the trading unit
     (code 16; ``check``, ``transfer``, ``force-transfer``, ``freeze``, ``allot``), ``allot
     --strict`` with refused lines
4    a due payment could not be made (``coupon pay|claim``, ``redeem pay|claim``): a due period
     not (fully) funded, a payee that failed and stays owed; what a scheduler alerts on
130  interrupted (Ctrl-C) - except ``munibond chain``, where Ctrl-C is the way to stop (0)
===  ==========================================================================================

No traceback is shown unless ``-v`` is given.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from munibond import __version__
from munibond.cli.errors import EXIT_ERROR, EXIT_OK, Interrupted, describe, one_line
from munibond.cli.options import connection_options, signer_options, state_of
from munibond.cli.state import State

__all__ = ["MunibondGroup", "cli", "main"]

class MunibondGroup(click.Group):
    """A group whose standalone ``main`` reports every error on one line (see the module
    docstring for the exit codes)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # click would echo a blank line and turn it into Abort: keep the report one line
            raise Interrupted() from None

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        state = extra.setdefault("obj", State())
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        try:
            result = super().main(args, prog_name or "munibond", complete_var,
                                  standalone_mode=False,
                                  windows_expand_args=windows_expand_args, **extra)
        except click.exceptions.Exit as done:  # pragma: no cover - returned, not raised
            sys.exit(done.exit_code)
        except (Exception, KeyboardInterrupt) as error:
            _fail(error, verbose=isinstance(state, State) and state.settings.verbose)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def _fail(error: BaseException, *, verbose: bool) -> NoReturn:
    if isinstance(error, BrokenPipeError):  # `munibond holders X --csv - | head`: not an error
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_ERROR)
    message, code = describe(error)
    if verbose:
        traceback.print_exception(error, file=sys.stderr)
    click.echo(f"error: {one_line(message)}", err=True)
    sys.exit(code)


@click.group("munibond", cls=MunibondGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                  "max_content_width": 100})
@connection_options(top=True)
@signer_options(top=True)
@click.version_option(__version__, "--version", prog_name="munibond")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """munibond: municipal bonds as security tokens on permissioned EVM chains.

    \b
    Start a local chain, then issue and service a bond:
      munibond chain                                   (in its own terminal)
      munibond deploy examples/kobe-resident-bond-2026.yaml
      munibond investors import examples/investors.csv
      munibond allot KOBE-R-2026-01 examples/allotments.csv
      munibond holders KOBE-R-2026-01

    BOND is a bond code (looked up in the network's deployment records, else on the
    platform's factory) or a bond address. Amounts are face amounts in the bond's currency
    ("10000", "1234.5"), multiples of the bond's trading unit.

    Who signs: --key-env VAR (a hex key in that variable), --keystore FILE (password
    from MUNIBOND_KEYSTORE_PASSWORD), or MUNIBOND_PRIVATE_KEY; with none of them, a
    local development chain (anvil, hardhat) is signed for with development account 0,
    whose key is public. Connection, record and signer options may also follow the
    command.

    \b
    Exit codes:
      0    done (check: the transfer is allowed)
      1    error (one line on standard error: what is wrong and what to do)
      2    usage error (unknown option, malformed address, amount or date)
      3    refused by the bond's rules (check, transfer, force-transfer,
           allot --strict; an amount off the trading unit)
      4    a due payment could not be made (coupon pay|claim, redeem
           pay|claim: a due period unfunded, a payee left owed)
      130  interrupted (Ctrl-C; munibond chain stops with 0)
    """
    state_of(ctx)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script ``munibond``."""
    cli.main(args=argv, prog_name="munibond")
    raise AssertionError("unreachable")  # pragma: no cover


def _register() -> None:
    from munibond.cli import (
        cmd_bond,
        cmd_build,
        cmd_chain,
        cmd_coupon,
        cmd_deploy,
        cmd_investors,
        cmd_payments,
        cmd_read,
    )

    for command in (cmd_build.build, cmd_chain.chain, cmd_deploy.deploy, cmd_investors.investors,
                    cmd_bond.allot, cmd_bond.transfer, cmd_bond.check, cmd_bond.pause,
                    cmd_bond.unpause, cmd_bond.freeze, cmd_bond.force_transfer,
                    cmd_bond.recover, cmd_read.holders, cmd_read.status, cmd_coupon.coupon,
                    cmd_payments.redeem):
        cli.add_command(command)
    for command in cmd_payments.COUPON_COMMANDS:  # paying on chain, next to `coupon schedule`
        cmd_coupon.coupon.add_command(command)


_register()
