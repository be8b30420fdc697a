"""``munibond chain``: a local anvil with the platform deployed, until Ctrl-C; and on such a local
chain, the auditor's tools to live a bond's whole life from the command line:

* ``munibond chain time`` - the chain's clock (any node);
* ``munibond chain advance DURATION`` - move the clock forward (``30d``, ``12h``, ``1y``,
  ``1d12h``);
* ``munibond chain set-time WHEN`` - move the clock to a date or an instant (naive values are
  Japan time, JST);
* ``munibond chain mint-settlement ADDRESS AMOUNT`` - mint the mock settlement token.

The last three refuse to run on a real node (anything but anvil, hardhat or the in-process chain,
as ``web3_clientVersion`` says) and the clock never goes backwards. A block is mined at the new
time, so every reader sees it at once.
"""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

import click

from munibond.cli.options import (
    ADDRESS,
    AMOUNT,
    connection_options,
    signer_options,
    state_of,
)
from munibond.cli.output import fields_table, table
from munibond.cli.state import DEFAULT_PORT
from munibond.exceptions import ChainError, DeploymentError

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress

    from munibond.anvil import Anvil
    from munibond.chain import Chain
    from munibond.cli.state import State
    from munibond.platform import Platform

__all__ = ["JST", "chain", "parse_duration", "parse_when"]

#: Japan Standard Time: naive dates and times given to ``munibond chain set-time`` are JST
JST = timezone(timedelta(hours=9), "JST")

#: how often the running chain is looked at (seconds)
_POLL = 0.2


def _port_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _check_records(state: State, network: str, chain_id: int) -> None:
    """Refuse to replace the records of a network that is not a local chain."""
    from munibond.deploy import platform_record_path, read_record

    file = platform_record_path(network, state.root)
    if not file.exists():
        return
    recorded = None
    with contextlib.suppress(DeploymentError):  # an unreadable record is replaced
        recorded = read_record(file).get("chain_id")
    if recorded is not None and recorded != chain_id:
        raise DeploymentError(
            f"{file} records a platform on chain id {recorded}, not a local chain "
            f"({chain_id}): `munibond chain` replaces the records of its network, so give it "
            f"another --network (default: local)")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the chain as Ctrl-C does (the main thread only)."""
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. under a test runner)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _show(state: State, node: Anvil, platform: Platform, network: str) -> None:
    from munibond.deploy import platform_record_path, read_record
    from munibond.signers import DEV_MNEMONIC

    say = state.say
    record = read_record(platform_record_path(network, state.root))
    contracts = record.get("contracts") or {}
    token = contracts.get("settlement_token") or {}
    mock = token.get("mock") or {}
    gas = ("free: legacy transactions with gasPrice 0 (munibond's default)" if node.zero_gas
           else "charged: pass --eip1559 (or a --gas-price) to munibond commands")
    say(f"RPC URL: {node.url}")
    say(f"chain id: {node.chain_id}")
    say(f"network: {network} (records in {platform_record_path(network, state.root).parent})")
    say(f"gas: {gas}")
    addresses = platform.addresses
    rows = [
        ("investor registry", f"{addresses.registry} (= the bond implementation)"),
        ("bond implementation", addresses.implementation),
        ("servicing module", addresses.servicing),
        ("bond factory", addresses.factory),
        ("settlement token",
         f"{addresses.settlement_token} (mock {mock.get('name')}, {mock.get('symbol')}, "
         f"{mock.get('decimals')} decimals)" if addresses.settlement_token else "none"),
        ("admin, registrar, creator", f"{record.get('admin')} (test account 0)"),
    ]
    state.show(fields_table("Platform", rows))
    accounts = node.accounts
    state.show(table(
        ["#", "address", "private key (TEST KEY - public, never use it on a real chain)"],
        [[str(i), str(a.address), "0x" + bytes(a.key).hex()] for i, a in enumerate(accounts)],
        title=f"Test accounts: {len(accounts)} funded accounts of the development mnemonic "
              f"\"{DEV_MNEMONIC}\". Their keys are public: for this local chain only.",
        right=["#"]))
    say(f"munibond commands sign with test account 0 by default here; e.g. `munibond deploy "
        f"examples/kobe-resident-bond-2026.yaml` (--rpc-url {node.url} unless it is the "
        f"default http://127.0.0.1:{DEFAULT_PORT}).")
    say("Ready. Press Ctrl-C to stop the chain.")
    sys.stdout.flush()


@click.group("chain", invoke_without_command=True)
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port to listen on (0: any free port; the URL is printed).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--accounts", type=click.IntRange(1, 1000), default=30, show_default=True,
              help="Funded test accounts (the examples' investors are accounts 10 to 27).")
@click.option("--no-zero-gas", is_flag=True,
              help="Charge gas like a public chain (default: free gas, as on a permissioned "
                   "chain).")
@connection_options(records_only=True)
@click.pass_context
def chain(ctx: click.Context, port: int, host: str, accounts: int, no_zero_gas: bool) -> None:
    """Start a local anvil chain with the platform deployed, until Ctrl-C.

    The registry (= bond implementation), the bond factory and a mock settlement token are
    deployed on a fresh chain at every start and recorded under <deployments>/<network>/
    (bond records of an earlier chain there are removed). Prints the RPC URL, the chain id,
    the platform's addresses and the funded test accounts with their (public) keys.
    Ctrl-C stops the chain and exits with code 0.

    \b
    On a local chain (this one, another anvil or hardhat), from another terminal:
      munibond chain time                       the chain's clock
      munibond chain advance 30d                forward by a duration (s m h d w y)
      munibond chain set-time 2027-06-14T15:00  to a date or instant (naive: JST)
      munibond chain mint-settlement 0x... 1000000   settlement tokens for the paying agent
    """
    if ctx.invoked_subcommand is not None:
        return
    from munibond.anvil import start_anvil
    from munibond.deploy import ensure_platform
    from munibond.signers import dev_account

    state = state_of(ctx)
    network = state.network
    _check_records(state, network, 31337)
    if port and not _port_free(host, port):
        raise ChainError(f"port {port} on {host} is in use (another `munibond chain` or node?): "
                         f"stop it, or pass --port N (--port 0 picks a free one)")
    with _sigterm_as_interrupt():
        node = start_anvil(port=port or None, host=host, accounts=accounts,
                           zero_gas=not no_zero_gas)
        try:
            state.note(f"anvil started at {node.url} (chain id {node.chain_id}); deploying the "
                       f"platform")
            connection = node.connect()
            platform = ensure_platform(connection, dev_account(0), network, settlement="auto",
                                       root=state.root, fresh=True, report=state.note)
            _show(state, node, platform, network)
            try:
                while node.process.poll() is None:
                    time.sleep(_POLL)
            except KeyboardInterrupt:
                state.note("stopping the chain")
                node.stop()
                state.note("chain stopped")
                return
            code = node.process.returncode
            if code in (0, -signal.SIGINT, -signal.SIGTERM, 130):
                state.note(f"anvil stopped (exit code {code})")
                return
            raise ChainError(f"anvil stopped unexpectedly with exit code {code}")
        finally:
            node.stop()


# --- the clock and the settlement token of a local chain ------------------------------------

_DURATION_PART = re.compile(r"([0-9]+)\s*(y|w|d|h|m|s)")
_SECONDS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Seconds in a duration such as ``30d``, ``12h``, ``1y`` (365 days) or ``1d12h30m``.
    Units: ``y`` (365 days), ``w``, ``d``, ``h``, ``m`` (minutes), ``s``. ValueError when it is
    not one, or not positive."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty")
    total = 0
    position = 0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != position:
            break
        total += int(match.group(1)) * _SECONDS[match.group(2)]
        position = match.end()
    if position != len(compact):
        raise ValueError(f"{text!r} is not a duration: give a number and a unit, e.g. 30d, 12h, "
                         f"1y or 1d12h (units y w d h m s; y is 365 days)")
    if total <= 0:
        raise ValueError(f"{text!r} is not a positive duration: the clock only moves forward")
    return total


def parse_when(text: str) -> datetime:
    """An instant from ``YYYY-MM-DD`` (00:00 JST that day) or an ISO date and time; without a
    zone it is Japan time (JST, +09:00), with one (``Z``, ``+00:00``, ``+09:00``) as given."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        day_ = date.fromisoformat(value)
        return datetime(day_.year, day_.month, day_.day, tzinfo=JST)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a date or date and time: give e.g. 2027-06-14, "
                         f"2027-06-14T15:00 (JST) or 2027-06-14T06:00Z") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=JST)


if TYPE_CHECKING:
    _IntType = click.ParamType[int]
    _DatetimeType = click.ParamType[datetime]
else:
    _IntType = _DatetimeType = click.ParamType


class _Duration(_IntType):
    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class _When(_DatetimeType):
    name = "WHEN"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


def _shown(timestamp: int) -> str:
    """``2027-06-14T06:00:00Z (2027-06-14 15:00:00 JST)``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return (f"{moment.isoformat().replace('+00:00', 'Z')} "
            f"({moment.astimezone(JST).strftime('%Y-%m-%d %H:%M:%S')} JST)")


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "",
             f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def _local(state: State, what: str) -> Chain:
    """The chain, when it is a local development chain; otherwise a clear refusal."""
    chain_ = state.chain
    if chain_.dev_kind is None:
        raise ChainError(
            f"`munibond chain {what}` works on a local development chain only (anvil, hardhat "
            f"or the in-process chain); the node at {chain_.url} is "
            f"{chain_.client_version or 'not one'} (chain id {chain_.chain_id}): nothing done")
    return chain_


def _move_to(state: State, target: int, asked: str) -> None:
    chain_ = _local(state, asked.split()[0])
    now = chain_.now()
    if target < now:
        raise ChainError(
            f"the chain's clock is at {_shown(now)} and {asked} is {_shown(target)}, "
            f"{_span(now - target)} earlier: a chain's time only moves forward (start a fresh "
            f"`munibond chain` to begin again); nothing done")
    if target == now:
        state.say(f"the chain's clock is already at {_shown(now)}: nothing done")
        return
    chain_.set_next_timestamp(target)
    chain_.mine()
    block = chain_.w3.eth.get_block("latest")
    state.say(f"clock moved forward by {_span(target - now)}: block {block['number']} at "
              f"{_shown(int(block['timestamp']))} (was {_shown(now)})")


@chain.command("time")
@connection_options()
@click.pass_context
def time_(ctx: click.Context) -> None:
    """Show the chain's clock: the latest block's number and time (UTC and JST)."""
    state = state_of(ctx)
    chain_ = state.chain
    block = chain_.w3.eth.get_block("latest")
    kind = chain_.dev_kind
    where = (f"a local {kind} chain: `munibond chain advance` and `set-time` move it" if kind
             else f"{chain_.client_version or 'a node'}: its clock cannot be moved")
    state.say(f"block {block['number']} at {_shown(int(block['timestamp']))}; chain id "
              f"{chain_.chain_id}, {where}")


@chain.command("advance")
@click.argument("duration", type=_Duration())
@connection_options()
@click.pass_context
def advance(ctx: click.Context, duration: int) -> None:
    """Move a local chain's clock forward by DURATION and mine a block there.

    DURATION is a number and a unit, or several: 30d, 12h, 90m, 2w, 1y (365 days), 1d12h.
    Refused on a real node.
    """
    state = state_of(ctx)
    now = _local(state, "advance").now()
    _move_to(state, now + duration, f"advance {_span(duration)}")


@chain.command("set-time")
@click.argument("when", type=_When())
@connection_options()
@click.pass_context
def set_time(ctx: click.Context, when: datetime) -> None:
    """Move a local chain's clock to WHEN and mine a block at exactly that time.

    WHEN is a date (2027-06-14: 00:00 JST that day) or an ISO date and time; without a time
    zone it is Japan time (JST, +09:00), so 2027-06-14T15:00 is a record time; with one
    (2027-06-14T06:00Z, ...+09:00) as given. The clock never goes back: an earlier WHEN is
    refused. Refused on a real node.
    """
    state = state_of(ctx)
    _move_to(state, int(when.timestamp()), f"set-time {when.isoformat()}")


@chain.command("mint-settlement")
@click.argument("address", type=ADDRESS)
@click.argument("amount", type=AMOUNT)
@click.option("--token", type=ADDRESS, default=None,
              help="The mock token [default: the platform's settlement token, from the "
                   "deployment records].")
@connection_options()
@signer_options()
@click.pass_context
def mint_settlement(ctx: click.Context, address: str, amount: Decimal,
                    token: str | None) -> None:
    """Mint AMOUNT of the local mock settlement token to ADDRESS (e.g. the paying agent,
    before `munibond coupon fund`).

    AMOUNT is in currency units (1000000 = one million yen), converted exactly with the
    token's decimals. Signed by the token's owner (the platform's deployer, development
    account 0 by default). Refused on a real node.
    """
    from munibond.contracts import settlement_abi
    from munibond.exceptions import AmountError
    from munibond.units import to_units

    state = state_of(ctx)
    chain_ = _local(state, "mint-settlement")
    if token is None:
        found = state.platform().addresses.settlement_token
        if not found:
            raise DeploymentError(
                f"the platform recorded for network {state.network!r} has no settlement token: "
                f"give --token ADDRESS")
        token = found
    if not chain_.w3.eth.get_code(cast("ChecksumAddress", token)):
        raise ChainError(f"there is no contract at {token} on chain {chain_.chain_id}: check "
                         f"--token")
    contract = chain_.w3.eth.contract(address=cast("ChecksumAddress", token),
                                      abi=list(settlement_abi()))
    try:
        decimals = int(chain_.call(contract.functions.decimals()))
        symbol = str(chain_.call(contract.functions.symbol()))
        owner = str(chain_.call(contract.functions.owner()))
    except ChainError:
        raise
    except Exception as error:
        raise ChainError(f"the contract at {token} does not answer like the mock settlement "
                         f"token ({error})") from None
    try:
        units = to_units(amount, decimals, what="amount")
    except AmountError as error:
        raise click.BadParameter(f"{error} ({symbol} has {decimals} decimals)",
                                 param_hint="'AMOUNT'") from None
    signer = state.signer
    if owner.lower() != signer.address.lower():
        raise ChainError(f"only the token's owner {owner} can mint {symbol}, and the signer is "
                         f"{signer.address}: sign as the owner (the platform's deployer)")
    receipt = chain_.transact(signer, contract.functions.mint(address, units))
    balance = int(chain_.call(contract.functions.balanceOf(address)))
    from munibond.units import from_units

    state.say(f"minted {amount:,} {symbol} to {address} (block {receipt['blockNumber']}); "
              f"balance now {from_units(balance, decimals):,} {symbol}; signer "
              f"{state.signed_by}")
