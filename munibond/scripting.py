"""What the issuer scripts in ``scripts/`` share: where the chain is, who signs, where records go.

Every script runs three ways:

* ``python scripts/x.py --rpc-url URL ...`` (or ``MUNIBOND_RPC_URL``): against that node;
* ``python scripts/x.py`` with no URL: munibond starts a local anvil itself, with its state kept in
  ``deployments/<network>/anvil-state.json`` (anvil's ``--state``), so that the next script finds
  the same chain (deploy, then onboard, then allot, then status), and stops it at the end;
* ``brownie run scripts/x.py --network development``: brownie calls ``main()`` with no arguments.
  The script then takes brownie's RPC URL (``brownie.web3.provider.endpoint_uri``) and network
  name, reads its settings from environment variables only (brownie's own command line is not the
  script's), and signs with the development accounts. brownie starts its ``development`` chain
  afresh on every run, so records of an earlier, vanished chain are replaced rather than refused.

Settings, as options or environment variables (options win):

====================  ===========================  =============================================
option                variable                     meaning
====================  ===========================  =============================================
``--rpc-url``         ``MUNIBOND_RPC_URL``         the node (none: start a local anvil)
``--network``         ``MUNIBOND_NETWORK``         record directory name (default ``local``;
                                                   brownie: its network's name)
``--deployments``     ``MUNIBOND_DEPLOYMENTS``     records root (default: the project's
                                                   ``deployments/`` found above the current
                                                   directory, else ``./deployments``; see
                                                   :mod:`munibond.locations`)
``--keystore``        ``MUNIBOND_KEYSTORE``        encrypted key file (password:
                                                   ``MUNIBOND_KEYSTORE_PASSWORD``)
(none)                ``MUNIBOND_PRIVATE_KEY``     a hex private key
====================  ===========================  =============================================

With neither a keystore nor a private key, a local development chain (anvil, hardhat, the
in-process chain) is signed for with development account 0, whose key is public; any other chain
refuses to run without a key.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from munibond.exceptions import ConfigError, DeploymentError, MunibondError

if TYPE_CHECKING:
    from munibond.anvil import Anvil
    from munibond.chain import Chain
    from munibond.platform import Platform
    from munibond.signers import Signer

__all__ = [
    "DEFAULT_NETWORK",
    "PROJECT_ROOT",
    "Session",
    "add_common_arguments",
    "brownie_connection",
    "open_session",
    "parse_arguments",
    "run",
]

#: the repository root (scripts default to its ``examples/``)
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NETWORK = "local"
ANVIL_STATE_FILE = "anvil-state.json"

RPC_URL_ENV = "MUNIBOND_RPC_URL"
NETWORK_ENV = "MUNIBOND_NETWORK"
DEPLOYMENTS_ENV = "MUNIBOND_DEPLOYMENTS"
KEYSTORE_ENV = "MUNIBOND_KEYSTORE"
PRIVATE_KEY_ENV = "MUNIBOND_PRIVATE_KEY"


@dataclass
class BrownieConnection:
    """The chain a running brownie is connected to."""

    url: str
    network: str
    launched: bool  # brownie started the node itself (a throw-away development chain)


def brownie_connection() -> BrownieConnection | None:
    """brownie's connection when this code runs inside ``brownie run`` (brownie already imported
    and connected); None otherwise. brownie is never imported here when it is not loaded yet."""
    if "brownie" not in sys.modules:
        return None
    try:
        import brownie
        from brownie import network

        if not network.is_connected():
            return None
        url = str(brownie.web3.provider.endpoint_uri)
        name = str(network.show_active() or "development")
        launched = bool(network.rpc.is_child())
    except Exception:
        return None
    return BrownieConnection(url=url, network=name, launched=launched)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The connection, record and signer options every script takes."""
    group = parser.add_argument_group("chain and records")
    group.add_argument("--rpc-url", default=None,
                       help=f"RPC URL of the node (env {RPC_URL_ENV}; none: start a local anvil "
                            f"whose state is kept under the network's deployments directory)")
    group.add_argument("--network", default=None,
                       help=f"network name: the records go to <deployments>/<network>/ (env "
                            f"{NETWORK_ENV}; default {DEFAULT_NETWORK})")
    group.add_argument("--deployments", default=None, type=Path,
                       help=f"root of the deployment records (env {DEPLOYMENTS_ENV}; default: "
                            f"the project's deployments/ found above the current directory, "
                            f"else ./deployments)")
    group.add_argument("--keystore", default=None,
                       help=f"encrypted JSON key file of the signer (env {KEYSTORE_ENV}; the "
                            f"password comes from MUNIBOND_KEYSTORE_PASSWORD); or set "
                            f"{PRIVATE_KEY_ENV}; neither: development account 0 on a local "
                            f"chain")


def parse_arguments(parser: argparse.ArgumentParser,
                    argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; under ``brownie run`` with ``argv`` None, parse nothing (brownie's command
    line is not the script's: settings come from the environment)."""
    if argv is None and brownie_connection() is not None:
        return parser.parse_args([])
    return parser.parse_args(argv)


@dataclass
class Session:
    """A chain to work on, the network name and records root, and who signs."""

    chain: Chain
    network: str
    root: Path
    source: str  # "brownie", "rpc" or "anvil"
    ephemeral: bool  # a chain that vanishes after the run (brownie's development network)
    anvil: Anvil | None = None
    keystore: str | None = None
    say: Callable[[str], None] = print
    _signer: Signer | None = field(default=None, repr=False)

    @property
    def signer(self) -> Signer:
        """The signing account (resolved on first use)."""
        if self._signer is None:
            self._signer = _resolve_signer(self.chain, self.keystore, self.say)
        return self._signer

    def load_platform(self) -> Platform:
        """The platform recorded for this session's network, verified (never deploys)."""
        from munibond.deploy import load_platform

        try:
            return load_platform(self.chain, self.network, root=self.root, report=self.say)
        except DeploymentError as error:
            if not self.ephemeral:
                raise
            raise DeploymentError(
                f"{error}\nbrownie started the {self.network} network afresh for this run, so "
                f"nothing an earlier `brownie run` deployed is on it. Start a node first (e.g. "
                f"`anvil --port 8545`: brownie then attaches to it instead of launching its "
                f"own), and run scripts/deploy_bond.py and this script against it") from None

    def close(self) -> None:
        """Stop the anvil this session started (its state is written to the state file)."""
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resolve_signer(chain: Chain, keystore: str | None, say: Callable[[str], None]) -> Signer:
    from munibond.signers import dev_accounts, signer_from_env, signer_from_keystore

    if keystore:
        return signer_from_keystore(keystore)
    if os.environ.get(PRIVATE_KEY_ENV, "").strip():
        return signer_from_env(PRIVATE_KEY_ENV)
    if chain.dev_kind is not None:
        signer = dev_accounts(1)[0]
        say(f"signing with development account 0 ({signer.address}): its key is public, for "
            f"local chains only")
        return signer
    raise ConfigError(
        f"no signer: the node at {chain.url} is not a local development chain, so set "
        f"{PRIVATE_KEY_ENV} or give --keystore (or {KEYSTORE_ENV})")


def open_session(args: argparse.Namespace, *, say: Callable[[str], None] = print,
                 start_anvil_if_needed: bool = True) -> Session:
    """Connect as the options, the environment and brownie say (see the module docstring)."""
    from munibond.chain import connect
    from munibond.deploy import network_dir, validate_network_name
    from munibond.locations import find_records_root

    root = find_records_root(args.deployments).path  # absolute; see munibond.locations
    keystore = args.keystore or os.environ.get(KEYSTORE_ENV) or None
    url = args.rpc_url or os.environ.get(RPC_URL_ENV) or None
    network = args.network or os.environ.get(NETWORK_ENV) or None
    brownie = brownie_connection() if url is None else None
    if brownie is not None:
        name = validate_network_name(network or brownie.network)
        say(f"running under brownie: network {brownie.network} at {brownie.url}")
        return Session(chain=connect(brownie.url), network=name, root=root, source="brownie",
                       ephemeral=brownie.launched, keystore=keystore, say=say)
    name = validate_network_name(network or DEFAULT_NETWORK)
    if url is not None:
        return Session(chain=connect(url), network=name, root=root, source="rpc",
                       ephemeral=False, keystore=keystore, say=say)
    if not start_anvil_if_needed:
        raise ConfigError(f"no RPC URL: give --rpc-url or set {RPC_URL_ENV}")
    from munibond.anvil import start_anvil

    directory = network_dir(name, root)
    directory.mkdir(parents=True, exist_ok=True)
    state = directory / ANVIL_STATE_FILE
    node = start_anvil(extra_args=["--state", str(state)])
    resumed = "resumed from" if state.exists() and state.stat().st_size else "kept in"
    say(f"no RPC URL given ({RPC_URL_ENV} or --rpc-url): started a local anvil at {node.url} "
        f"(chain id {node.chain_id}); its state is {resumed} {state}")
    try:
        chain = node.connect()
    except BaseException:
        node.stop()
        raise
    return Session(chain=chain, network=name, root=root, source="anvil", ephemeral=False,
                   anvil=node, keystore=keystore, say=say)


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run a script's ``main``: a munibond error prints ``error: <message>`` on stderr and gives
    exit code 1 (no traceback); under brownie a failure raises SystemExit so brownie fails too."""
    try:
        code = main(argv)
    except MunibondError as error:
        print(f"error: {error}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    if code and argv is None and brownie_connection() is not None:
        raise SystemExit(code)
    return code
