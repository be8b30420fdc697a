"""munibond: municipal bonds as security tokens on permissioned EVM chains.

The SDK's main names are importable from here. An integrator opens what is deployed::

    import munibond

    bond = munibond.open_bond("http://127.0.0.1:8545", "KOBE-R-2026-01", deployments="deployments")
    bond.balance_of("0x..."), bond.coupons.entitlements("0x...")

and a test or a local chain builds its own::

    from munibond import in_process_chain, deploy_platform_contracts, Platform, load_term_sheet

Imports are lazy: ``import munibond`` loads only the exceptions; web3 and the clients are loaded
when one of their names is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from munibond.exceptions import (
    AmountError,
    BondExists,
    BuildError,
    ChainError,
    ConfigError,
    ContractRevert,
    DeploymentError,
    InputFileError,
    InvalidArgument,
    MissingRole,
    MunibondError,
    NodeUnreachable,
    RevertError,
    TermSheetError,
    ToolNotFound,
    TransactionFailed,
    TransactionReverted,
    TransferRestricted,
)

if TYPE_CHECKING:
    from munibond.anvil import start_anvil
    from munibond.bond import Bond
    from munibond.chain import Chain, connect, in_process_chain
    from munibond.errors import decode_revert
    from munibond.events import Event, TxResult
    from munibond.factory import Factory
    from munibond.opening import open_bond, open_platform
    from munibond.payment_setup import ensure_payments
    from munibond.platform import Platform, PlatformAddresses, deploy_platform_contracts
    from munibond.registry import InvestorRecord, Registry
    from munibond.restrictions import Restriction
    from munibond.signers import dev_accounts
    from munibond.termsheet import TermSheet, load_term_sheet

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Bond": "munibond.bond",
    "Chain": "munibond.chain",
    "connect": "munibond.chain",
    "in_process_chain": "munibond.chain",
    "start_anvil": "munibond.anvil",
    "dev_accounts": "munibond.signers",
    "decode_revert": "munibond.errors",
    "Event": "munibond.events",
    "TxResult": "munibond.events",
    "open_bond": "munibond.opening",
    "open_platform": "munibond.opening",
    "Factory": "munibond.factory",
    "Platform": "munibond.platform",
    "PlatformAddresses": "munibond.platform",
    "deploy_platform_contracts": "munibond.platform",
    "InvestorRecord": "munibond.registry",
    "Registry": "munibond.registry",
    "Restriction": "munibond.restrictions",
    "TermSheet": "munibond.termsheet",
    "load_term_sheet": "munibond.termsheet",
    "ensure_payments": "munibond.payment_setup",
}

__all__ = [
    "AmountError",
    "Bond",
    "BondExists",
    "BuildError",
    "Chain",
    "ChainError",
    "ConfigError",
    "ContractRevert",
    "DeploymentError",
    "Event",
    "Factory",
    "InputFileError",
    "InvalidArgument",
    "InvestorRecord",
    "MissingRole",
    "MunibondError",
    "NodeUnreachable",
    "Platform",
    "PlatformAddresses",
    "Registry",
    "Restriction",
    "RevertError",
    "TermSheet",
    "TermSheetError",
    "ToolNotFound",
    "TransactionFailed",
    "TransactionReverted",
    "TransferRestricted",
    "TxResult",
    "__version__",
    "connect",
    "decode_revert",
    "deploy_platform_contracts",
    "dev_accounts",
    "ensure_payments",
    "in_process_chain",
    "load_term_sheet",
    "open_bond",
    "open_platform",
    "start_anvil",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'munibond' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
