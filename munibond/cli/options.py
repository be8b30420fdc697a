"""Parameter types and the shared options of the ``munibond`` commands.

The connection, record and signer options are accepted both before the command (``munibond
--network x status BOND``) and after it (``munibond status BOND --network x``); the later one
wins. Only the options before the command read environment variables, so that an explicit option
always overrides the environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import click
from click.core import ParameterSource

from munibond.cli.state import State
from munibond.scripting import DEPLOYMENTS_ENV, KEYSTORE_ENV, NETWORK_ENV, RPC_URL_ENV

__all__ = [
    "ADDRESS",
    "AMOUNT",
    "BOND",
    "DAY",
    "GAS_PRICE",
    "INSTANT",
    "Command",
    "Group",
    "connection_options",
    "signer_options",
    "state_of",
    "verbose_option",
]

F = TypeVar("F", bound=Callable[..., Any])


# --- parameter types -------------------------------------------------------------------------

# click >= 8.3 types ParamType by the value it converts to; older click's is not generic
if TYPE_CHECKING:
    _StrType = click.ParamType[str]
    _DecimalType = click.ParamType[Decimal]
    _DateType = click.ParamType[date]
    _DatetimeType = click.ParamType[datetime]
    _IntType = click.ParamType[int]
else:
    _StrType = _DecimalType = _DateType = _DatetimeType = _IntType = click.ParamType


class AddressType(_StrType):
    """An Ethereum address: checksummed (EIP-55) or all-lowercase; returned checksummed."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        from munibond.codes import CodeError, parse_address

        try:
            return parse_address(str(value))
        except CodeError as error:
            self.fail(str(error), param, ctx)


class BondType(_StrType):
    """A bond: its address, or its code (looked up in the deployment records / the factory)."""

    name = "bond"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        from munibond.codes import CodeError, parse_address

        text = str(value).strip()
        if not text:
            self.fail("empty; give a bond code (e.g. KOBE-R-2026-01) or a bond address", param,
                      ctx)
        if text.lower().startswith("0x"):
            try:
                return parse_address(text)
            except CodeError as error:
                self.fail(f"{error} (give a bond code, or the bond's address)", param, ctx)
        return text


class AmountType(_DecimalType):
    """A positive face amount in the bond's currency, as an exact Decimal ("10000", "1234.5")."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        from munibond.exceptions import AmountError
        from munibond.units import parse_decimal

        if isinstance(value, Decimal):
            return value
        try:
            return parse_decimal(str(value), what="amount", positive=True)
        except AmountError as error:
            self.fail(str(error), param, ctx)


class DayType(_DateType):
    """A calendar date, YYYY-MM-DD."""

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            self.fail(f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2031-12-31", param, ctx)
        try:
            return date.fromisoformat(text)
        except ValueError as error:
            self.fail(f"{text!r} is not a valid date ({error})", param, ctx)


class InstantType(_DatetimeType):
    """A date (00:00 UTC of that day) or an ISO date and time with a time zone."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not an ISO date or date and time (e.g. 2027-06-15 or "
                      f"2027-06-15T15:00+09:00)", param, ctx)
        if when.tzinfo is None:
            if len(text) > 10:
                self.fail(f"{text!r} has no time zone: add one (e.g. +09:00 or Z)", param, ctx)
            when = when.replace(tzinfo=UTC)
        return when


class GasPriceType(_IntType):
    """A gas price in wei, or with a unit: ``0``, ``1000000000``, ``1gwei``, ``2.5 gwei``."""

    name = "price"
    _UNITS: ClassVar[dict[str, int]] = {"wei": 0, "kwei": 3, "mwei": 6, "gwei": 9, "ether": 18,
                                        "eth": 18}

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower().replace("_", "")
        match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)", text)
        if not match or match.group(2) not in ("", *self._UNITS):
            self.fail(f"{value!r} is not a gas price: give wei (e.g. 0) or a number with a unit "
                      f"(e.g. 1gwei)", param, ctx)
        amount = Decimal(match.group(1)).scaleb(self._UNITS.get(match.group(2), 0))
        if amount != amount.to_integral_value():
            self.fail(f"{value!r} is not a whole number of wei", param, ctx)
        return int(amount)


ADDRESS = AddressType()
BOND = BondType()
AMOUNT = AmountType()
DAY = DayType()
INSTANT = InstantType()
GAS_PRICE = GasPriceType()


# --- commands whose arguments may look negative ---------------------------------------------

#: "-100", "-0.5", "-" then full-width digits: a negative number, not an option (no option
#: of munibond is a digit)
_NEGATIVE_NUMBER = re.compile(r"-[0-9.\uff10-\uff19]")


class Command(click.Command):
    """A command whose arguments may be negative numbers: ``munibond transfer BOND -100`` hands
    ``-100`` to the amount's type, which says "amount must be positive", instead of click's
    "No such option: -1". (An option's value, ``--amount -5``, reaches its type anyway.)"""

    def make_parser(self, ctx: click.Context) -> Any:
        parser = super().make_parser(ctx)
        process_opts = parser._process_opts

        def process(arg: str, state: Any) -> None:
            if _NEGATIVE_NUMBER.match(arg):
                state.largs.append(arg)  # a positional argument, in its place
                return
            process_opts(arg, state)

        setattr(parser, "_process_opts", process)  # noqa: B010 - click has no public hook
        return parser


class Group(click.Group):
    """A group whose subcommands are :class:`Command` s."""

    command_class = Command


# --- shared options --------------------------------------------------------------------------

def state_of(ctx: click.Context) -> State:
    """The invocation's :class:`State` (made on first use)."""
    return ctx.ensure_object(State)


def _from_environment(ctx: click.Context, param: click.Parameter) -> bool:
    return param.name is not None and \
        ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT


def _set(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None or value is False or value == ():
            return
        setattr(state_of(ctx).settings, field, value)

    return callback


def _set_deployments(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is None:
        return
    settings = state_of(ctx).settings
    settings.deployments = value
    settings.deployments_source = "environment" if _from_environment(ctx, param) else "option"


def _set_signer(kind: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is None:
            return
        settings = state_of(ctx).settings
        from_env = _from_environment(ctx, param)
        if from_env and settings.signer is not None:
            return  # an explicit option, processed first, wins over the environment
        given: set[str] = ctx.meta.setdefault(f"munibond.signer-options.{id(ctx)}", set())
        if not from_env:
            given.add(kind)
            if len(given) > 1:
                raise click.UsageError("give either --keystore or --key-env, not both", ctx)
        settings.signer = ("keystore" if kind == "keystore" else "env", str(value))

    return callback


def verbose_option(func: F) -> F:
    func = click.option("-q", "--quiet", is_flag=True, expose_value=False,
                        callback=_set("quiet"),
                        help="No progress bars (they are drawn on a terminal only).")(func)
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, is_eager=True,
                        callback=_set("verbose"),
                        help="Show the full traceback of an error.")(func)


def connection_options(*, top: bool = False, records_only: bool = False) -> Callable[[F], F]:
    """``--rpc-url``, ``--network``, ``--deployments``, transaction settings and ``-v``.

    ``top``: the group's copy, which also reads the environment. ``records_only``: only
    ``--network``/``--deployments`` (and ``-v``), for ``munibond chain``.
    """

    def env(name: str) -> dict[str, Any]:
        return {"envvar": name, "show_envvar": True} if top else {}

    def decorate(func: F) -> F:
        options: list[Callable[[F], F]] = []
        if not records_only:
            options.append(click.option(
                "--rpc-url", metavar="URL", expose_value=False, callback=_set("rpc_url"),
                help="RPC URL of the node [default: http://127.0.0.1:8545, where `munibond "
                     "chain` listens].", **env(RPC_URL_ENV)))
        options += [
            click.option("--network", metavar="NAME", expose_value=False,
                         callback=_set("network"),
                         help="Network name: its deployment records are in "
                              "<deployments>/<NAME>/ [default: local].", **env(NETWORK_ENV)),
            click.option("--deployments", metavar="DIR", expose_value=False,
                         type=click.Path(file_okay=False, path_type=Path),
                         callback=_set_deployments,
                         help="Root of the deployment records [default: "
                              "$MUNIBOND_DEPLOYMENTS, else the deployments/ folder of the "
                              "project found above the current directory, else "
                              "./deployments].",
                         **env(DEPLOYMENTS_ENV)),
        ]
        if not records_only:
            options += [
                click.option("--gas-price", type=GAS_PRICE, expose_value=False,
                             callback=_set("gas_price"),
                             help="Gas price of legacy transactions, in wei or with a unit "
                                  "(1gwei) [default: 0, a free-gas permissioned chain]."),
                click.option("--eip1559", is_flag=True, expose_value=False,
                             callback=_set("eip1559"),
                             help="Send EIP-1559 transactions with the node's fees (chains that "
                                  "charge gas)."),
                click.option("--poa/--no-poa", default=None, expose_value=False,
                             callback=_set("poa"),
                             help="Proof-of-authority block headers (Clique, IBFT, QBFT) "
                                  "[default: detected from the latest block]."),
                click.option("--confirmations", type=click.IntRange(min=1), expose_value=False,
                             callback=_set("confirmations"),
                             help="Blocks to wait for, counting the transaction's own "
                                  "[default: 1]."),
            ]
        options.append(verbose_option)
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def signer_options(*, top: bool = False) -> Callable[[F], F]:
    """``--keystore FILE`` and ``--key-env VAR`` (alias ``--from-key-env``)."""

    def decorate(func: F) -> F:
        keystore_env: dict[str, Any] = (
            {"envvar": KEYSTORE_ENV, "show_envvar": True} if top else {})
        func = click.option(
            "--key-env", "--from-key-env", metavar="VAR", expose_value=False,
            callback=_set_signer("env"),
            help="Sign with the hex private key in environment variable VAR.")(func)
        func = click.option(
            "--keystore", metavar="FILE", expose_value=False,
            callback=_set_signer("keystore"),
            help="Sign with an encrypted JSON keystore (password from "
                 "MUNIBOND_KEYSTORE_PASSWORD).", **keystore_env)(func)
        return func

    return decorate
