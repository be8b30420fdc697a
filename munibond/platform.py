"""The platform: the contracts every bond of one platform shares, deployed once.

In order: ``BondServicing`` (the servicing half of every bond), ``BondToken(admin, registrar,
servicing)`` (the bond implementation *and* the investor registry, at one address), and
``BondFactory(admin, creator, implementation)``; on local and test chains also a
``MockSettlementToken`` standing in for the settlement money::

    addresses = deploy_platform_contracts(chain, deployer, settlement=("Mock JPY", "MJPY", 18))
    platform = Platform(chain, addresses)
    bond, receipt = platform.factory.create_bond(deployer, load_term_sheet("bond.yaml"))

:class:`PlatformAddresses` keeps, for each contract deployed, its transaction hash, block number
and gas used, for deployment records.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from eth_typing import ChecksumAddress

from munibond import codes
from munibond._client import address_arg, signer_address
from munibond.artifacts import load_artifact
from munibond.bond import Bond
from munibond.contracts import settlement_abi
from munibond.errors import transact
from munibond.exceptions import ChainError, InvalidArgument
from munibond.factory import Factory
from munibond.registry import Registry

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.contract import Contract
    from web3.types import TxReceipt

    from munibond.chain import Chain

__all__ = ["DeployedContract", "Platform", "PlatformAddresses", "deploy_platform_contracts"]

@dataclass(frozen=True, slots=True)
class DeployedContract:
    """One contract deployment: which part of the platform (``"servicing"``,
    ``"implementation"``, ``"factory"``, ``"settlement_token"``), the contract's name, where it
    is, and the transaction that created it."""

    part: str
    contract: str
    address: str
    tx_hash: str
    block_number: int
    gas_used: int

    def as_dict(self) -> dict[str, Any]:
        return {"part": self.part, "contract": self.contract, "address": self.address,
                "tx_hash": self.tx_hash, "block_number": self.block_number,
                "gas_used": self.gas_used}


@dataclass(frozen=True, slots=True)
class PlatformAddresses:
    """Where the platform's contracts are. ``implementation`` is also the investor registry
    (``registry``). ``deployments`` holds the deployment transactions when this process deployed
    them (empty for addresses read from elsewhere)."""

    servicing: str
    implementation: str
    factory: str
    settlement_token: str | None = None
    deployments: tuple[DeployedContract, ...] = ()

    @property
    def registry(self) -> str:
        """The investor registry's address (the implementation's)."""
        return self.implementation

    @property
    def tx_hashes(self) -> dict[str, str]:
        """Part -> hash of the transaction that deployed it (for the recorded deployments)."""
        return {d.part: d.tx_hash for d in self.deployments}

    @property
    def blocks(self) -> dict[str, int]:
        """Part -> number of the block the deployment is in (for the recorded deployments)."""
        return {d.part: d.block_number for d in self.deployments}

    def deployment(self, part: str) -> DeployedContract | None:
        """The deployment of ``part`` (``"servicing"``, ``"implementation"``, ``"factory"``,
        ``"settlement_token"``), if recorded."""
        return next((d for d in self.deployments if d.part == part), None)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON records)."""
        return {"servicing": self.servicing, "implementation": self.implementation,
                "registry": self.registry, "factory": self.factory,
                "settlement_token": self.settlement_token,
                "deployments": [d.as_dict() for d in self.deployments]}


def _deploy(chain: Chain, signer: LocalAccount, part: str, name: str,
            *args: Any) -> DeployedContract:
    artifact = load_artifact(name)
    factory = chain.w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
    receipt: TxReceipt = transact(chain, signer, factory.constructor(*args))
    address = receipt.get("contractAddress")
    if not address:
        raise ChainError(f"deploying {name} returned no contract address "
                         f"(transaction 0x{bytes(receipt['transactionHash']).hex()})")
    return DeployedContract(part=part, contract=name, address=str(address),
                            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
                            block_number=int(receipt["blockNumber"]),
                            gas_used=int(receipt["gasUsed"]))


def _holder(value: str | None, what: str, default: str) -> str:
    if value is None:
        return default
    try:
        return codes.parse_address(value, allow_zero=True)
    except codes.CodeError as error:
        raise codes.CodeError(f"{what}: {error}") from None


def deploy_platform_contracts(chain: Chain, signer: LocalAccount, *, admin: str | None = None,
                              registrar: str | None = None, creator: str | None = None,
                              settlement: tuple[str, str, int] | None = None
                              ) -> PlatformAddresses:
    """Deploy the platform's contracts, signed by ``signer``.

    ``admin`` (default: the signer) holds DEFAULT_ADMIN_ROLE of the registry and the factory and
    owns the mock settlement token; ``registrar`` (default: the admin) gets REGISTRAR_ROLE and
    ``creator`` (default: the admin) CREATOR_ROLE; pass the zero address to grant them later.
    ``settlement`` = ``(name, symbol, decimals)`` also deploys a ``MockSettlementToken`` (local and
    test chains only: on a real chain the settlement token already exists).
    """
    owner = address_arg(admin, "admin") if admin is not None else signer_address(signer)
    registrar_address = _holder(registrar, "registrar", owner)
    creator_address = _holder(creator, "creator", owner)
    if settlement is not None:
        name, symbol, decimals = settlement
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 77:
            raise InvalidArgument(f"settlement token decimals must be 0 to 77, got {decimals!r}")
    servicing = _deploy(chain, signer, "servicing", "BondServicing")
    implementation = _deploy(chain, signer, "implementation", "BondToken", owner,
                             registrar_address, servicing.address)
    factory = _deploy(chain, signer, "factory", "BondFactory", owner, creator_address,
                      implementation.address)
    deployments = [servicing, implementation, factory]
    token: str | None = None
    if settlement is not None:
        name, symbol, decimals = settlement
        mock = _deploy(chain, signer, "settlement_token", "MockSettlementToken", name, symbol,
                       decimals, owner)
        deployments.append(mock)
        token = mock.address
    return PlatformAddresses(servicing=servicing.address, implementation=implementation.address,
                             factory=factory.address, settlement_token=token,
                             deployments=tuple(deployments))


class Platform:
    """The deployed platform on ``chain``: its registry, factory and settlement token."""

    def __init__(self, chain: Chain, addresses: PlatformAddresses) -> None:
        self.chain = chain
        self.addresses = addresses

    def __repr__(self) -> str:
        return f"Platform(factory {self.addresses.factory}, registry {self.addresses.registry})"

    @functools.cached_property
    def registry(self) -> Registry:
        """The investor registry."""
        return Registry(self.chain, self.addresses.registry)

    @functools.cached_property
    def factory(self) -> Factory:
        """The bond factory."""
        return Factory(self.chain, self.addresses.factory)

    @functools.cached_property
    def settlement(self) -> Contract | None:
        """The settlement token as a web3 contract (ERC-20; on local chains the mock's ``mint``
        and ``setBlocked`` too), or None when the platform has none recorded."""
        if self.addresses.settlement_token is None:
            return None
        address = cast(ChecksumAddress, address_arg(self.addresses.settlement_token))
        contract: Contract = self.chain.w3.eth.contract(address=address,
                                                        abi=list(settlement_abi()))
        return contract

    def bond(self, code_or_address: str) -> Bond:
        """A bond by its code or its address."""
        text = code_or_address.strip()
        if text.startswith("0x") and len(text) == 42:
            return Bond(self.chain, text)
        found = self.factory.bond_by_code(text)
        if found is None:
            raise InvalidArgument(f"no bond with code {text!r} on the factory at "
                                  f"{self.addresses.factory}")
        return found
