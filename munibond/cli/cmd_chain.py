"""``munibond chain``: a local anvil with the platform deployed, until Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import time
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

import click

from munibond.cli.options import connection_options, state_of
from munibond.cli.output import fields_table, table
from munibond.cli.state import DEFAULT_PORT
from munibond.exceptions import ChainError, DeploymentError

if TYPE_CHECKING:
    from munibond.anvil import Anvil
    from munibond.cli.state import State
    from munibond.platform import Platform

__all__ = ["chain"]

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


@click.command("chain")
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
    """
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
