"""The set-up the scale benchmarks share: on a fresh chain, the platform and the example bond
(its holder limit raised to fit the run) with its payment terms written as `munibond deploy`
writes them, and many wallets registered as retail residents of Kobe."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from munibond.bond import Bond
from munibond.chain import Chain
from munibond.payment_setup import ensure_payments
from munibond.platform import Platform, PlatformAddresses, deploy_platform_contracts
from munibond.registry import InvestorRecord
from munibond.termsheet import TermSheet, parse_term_sheet

ROOT = Path(__file__).resolve().parent.parent
TERM_SHEET = ROOT / "examples" / "kobe-resident-bond-2026.yaml"
JAPAN, KOBE_CHUO, RETAIL, INDIVIDUAL = 392, 281107, 1, 1


def example_term_sheet(holders: int) -> TermSheet:
    """The example term sheet with room for ``holders`` holders."""
    text = TERM_SHEET.read_text(encoding="utf-8")
    assert "max_holders: 5000" in text
    return parse_term_sheet(text.replace("max_holders: 5000", f"max_holders: {holders + 100}"),
                            source="the example term sheet, holder limit raised for the run")


def example_bond(chain: Chain, deployer: LocalAccount, registrar: LocalAccount,
                 holders: int) -> tuple[Platform, PlatformAddresses, Bond]:
    """The platform (mock JPY settlement token) and the example bond with its payment terms."""
    addresses = deploy_platform_contracts(chain, deployer, registrar=registrar.address,
                                          settlement=("Mock JPY", "MJPY", 18))
    platform = Platform(chain, addresses)
    ts = example_term_sheet(holders)
    bond, _ = platform.factory.create_bond(deployer, ts,
                                           settlement_token=addresses.settlement_token)
    ensure_payments(bond, deployer, ts, token=addresses.settlement_token)
    return platform, addresses, bond


def register_residents(platform: Platform, registrar: LocalAccount, wallets: Sequence[str], *,
                       chunk_size: int) -> Any:
    """Register ``wallets`` as retail residents of Kobe (investor ids from 1,000)."""
    kyc = datetime(2040, 1, 1, tzinfo=UTC)
    return platform.registry.register_many(
        registrar, [(w, InvestorRecord(investor_id=1_000 + i, country=JAPAN,
                                       investor_class=RETAIL, tax_category=INDIVIDUAL,
                                       region=KOBE_CHUO, kyc_valid_until=kyc))
                    for i, w in enumerate(wallets)], chunk_size=chunk_size)
