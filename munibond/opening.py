"""Opening what is already deployed: the integrator's entry points.

::

    import munibond

    bond = munibond.open_bond("http://127.0.0.1:8545", "KOBE-R-2026-01", deployments="deployments")
    platform = munibond.open_platform("http://127.0.0.1:8545", deployments="deployments")

Both connect (or take a :class:`~munibond.chain.Chain` you already have), find the deployment
records of the chain they are on under ``deployments/<network>/`` (the network whose recorded
chain id and genesis block are the node's; or the one named with ``network=``), verify the
records against the chain as every munibond command does (code hashes, the factory's mapping of
the code to the address) and return the SDK objects. Nothing is sent and no key is needed:
reading works with none, and each method that sends takes its signer as the first argument
(``bond.transfer(signer, to, amount)``; see :mod:`munibond.signers` for keys from the
environment or a keystore).

A bond is named by its code (looked up in the records, else on the platform's factory) or by its
address (checked to hold a munibond bond; no records needed then).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from munibond.exceptions import DeploymentError

if TYPE_CHECKING:
    from munibond.bond import Bond
    from munibond.chain import Chain
    from munibond.platform import Platform

__all__ = ["find_network", "open_bond", "open_platform"]

#: where the records are unless told otherwise (relative to the working directory)
DEFAULT_DEPLOYMENTS = Path("deployments")


def _chain(node: str | Chain, options: dict[str, Any]) -> Chain:
    from munibond.chain import Chain, connect

    if isinstance(node, Chain):
        if options:
            raise TypeError(f"connection options ({', '.join(sorted(options))}) apply to a URL, "
                            f"not to a Chain that is already connected")
        return node
    return connect(node, **options)


def find_network(chain: Chain, deployments: str | os.PathLike[str] = DEFAULT_DEPLOYMENTS) -> str:
    """The network directory under ``deployments`` whose platform record was written on
    ``chain`` (same chain id and genesis block). DeploymentError when none or several are."""
    from munibond.deploy import PLATFORM_FILE, genesis_hash, read_record

    root = Path(deployments)
    if not root.is_dir():
        raise DeploymentError(f"{root} is not a directory of deployment records: pass "
                              f"deployments= the folder that holds <network>/platform.json")
    genesis = genesis_hash(chain)
    matches: list[str] = []
    recorded: list[str] = []
    for directory in sorted(p for p in root.iterdir() if (p / PLATFORM_FILE).is_file()):
        with contextlib.suppress(DeploymentError):
            record = read_record(directory / PLATFORM_FILE)
            recorded.append(f"{directory.name} (chain id {record.get('chain_id')})")
            if record.get("chain_id") == chain.chain_id and record.get("genesis_hash") == genesis:
                matches.append(directory.name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DeploymentError(f"several networks under {root} were recorded on this chain "
                              f"({', '.join(matches)}): pass network= one of them")
    raise DeploymentError(
        f"no platform under {root} was recorded on the chain at {chain.url} (chain id "
        f"{chain.chain_id}, genesis {genesis}); recorded: {', '.join(recorded) or 'none'}. Check "
        f"the URL and deployments=, or deploy first (munibond deploy TERMSHEET)")


def open_platform(node: str | Chain, *, deployments: str | os.PathLike[str] = DEFAULT_DEPLOYMENTS,
                  network: str | None = None, **connect_options: Any) -> Platform:
    """The platform deployed on the chain at ``node`` (a URL, or a :class:`Chain`), from its
    records under ``deployments``, verified against the chain; never deploys.

    ``network`` names the records' directory (default: the one recorded on this chain).
    ``connect_options`` go to :func:`munibond.chain.connect` (``poa``, ``expected_chain_id``,
    ``confirmations``, ``gas_price``, ``tx_mode``, ...)."""
    from munibond.deploy import load_platform

    chain = _chain(node, connect_options)
    name = network or find_network(chain, deployments)
    return load_platform(chain, name, root=deployments)


def open_bond(node: str | Chain, bond: str, *,
              deployments: str | os.PathLike[str] = DEFAULT_DEPLOYMENTS,
              network: str | None = None, **connect_options: Any) -> Bond:
    """The bond ``bond`` (its code, or its address) on the chain at ``node`` (a URL, or a
    :class:`Chain`), ready to read (``bond.balance_of(...)``, ``bond.coupons.entitlements(...)``,
    ``bond.events(...)``) and, given a signer per call, to send.

    A code is looked up in the records under ``deployments`` (``<network>/<code>.json``, verified
    against the chain), else on the recorded platform's factory. An address needs no records: it
    is checked to hold a munibond bond. ``network`` and ``connect_options`` as for
    :func:`open_platform`."""
    from munibond.bond import Bond
    from munibond.codes import parse_address
    from munibond.deploy import bond_record_path, load_bond, load_platform
    from munibond.ledger import bond_facts

    chain = _chain(node, connect_options)
    text = bond.strip()
    if text.lower().startswith("0x"):
        address = parse_address(text)
        bond_facts(chain, address)  # raises when there is no bond at the address
        return Bond(chain, address)
    name = network or find_network(chain, deployments)
    platform = load_platform(chain, name, root=deployments)
    if bond_record_path(name, text, deployments).exists():
        return load_bond(chain, platform, name, text, root=deployments)
    found = platform.factory.bond_by_code(text)
    if found is None:
        raise DeploymentError(
            f"no bond {text!r} on network {name!r}: no record "
            f"{bond_record_path(name, text, deployments)} and the factory at "
            f"{platform.addresses.factory} has no bond with that code; check the code, or give "
            f"the bond's address")
    return found
