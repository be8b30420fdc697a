"""Gas benchmark: what each bond operation costs, from receipts, on a local anvil chain.

Run with ``make bench``. It deploys the platform and a plain OpenZeppelin 5 ERC-20 (the floor: a
token with no rules at all) in the same run, creates the example bond with its rules switched on
(KYC expiry, investor class, country allow list, residents-only region, trading unit, maximum
holding, maximum holders, lock-up passed), and writes ``bench/results/gas.json``: a flat object,
operation -> gasUsed. It prints a table with the goals of the issue and exits non-zero when one
is missed.

Keys ending in ``_per_investor`` measure a second bond that applies the holding cap and the
holder count per investor across all the investor's wallets (``aggregate_wallets: true``): that
costs two more storage reads and writes on every transfer between investors, and only bonds that
ask for it pay it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from munibond.anvil import start_anvil
from munibond.artifacts import load_artifact
from munibond.bond import Bond
from munibond.chain import Chain
from munibond.contracts import registry_abi
from munibond.platform import Platform, deploy_platform_contracts
from munibond.registry import InvestorRecord
from munibond.signers import Signer, dev_accounts
from munibond.termsheet import TermSheet, load_term_sheet

ROOT = Path(__file__).resolve().parent.parent
TERM_SHEET = ROOT / "examples" / "kobe-resident-bond-2026.yaml"
RESULTS = ROOT / "bench" / "results" / "gas.json"

JAPAN = 392
KOBE_CHUO = 281107  # a ward of Kobe City, Hyogo prefecture (28)
RETAIL = 1
INDIVIDUAL = 1


@dataclass(frozen=True)
class Goal:
    """A gas goal: ``key`` must stay at or below ``limit(results)``."""

    key: str
    describe: str
    limit: Callable[[dict[str, int]], float]


GOALS = [
    Goal("bond.transfer_existing", "<= 1.35 x erc20.transfer_existing",
         lambda r: 1.35 * r["erc20.transfer_existing"]),
    Goal("bond.transfer_new", "<= 1.35 x erc20.transfer_new",
         lambda r: 1.35 * r["erc20.transfer_new"]),
    Goal("registry.register_wallet", "<= 60,000", lambda r: 60_000),
    Goal("factory.create_bond", "<= 600,000", lambda r: 600_000),
    Goal("bond.batch_transfer_10_existing", "<= 190,000", lambda r: 190_000),
]


def _gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])


def _record(kyc_until: datetime, investor_id: int) -> InvestorRecord:
    return InvestorRecord(investor_id=investor_id, country=JAPAN, investor_class=RETAIL,
                          tax_category=INDIVIDUAL, region=KOBE_CHUO, kyc_valid_until=kyc_until)


def _fresh_wallets(n: int, seed: int) -> list[str]:
    """``n`` addresses nobody has used (receivers only: they never sign)."""
    return [Account.from_key((seed * 1_000_003 + i + 1).to_bytes(32, "big")).address
            for i in range(n)]


class Bench:
    """One benchmark run on one chain."""

    def __init__(self, chain: Chain, admin: Signer, holders: list[Signer]) -> None:
        self.chain = chain
        self.admin = admin
        self.holders = holders
        self.results: dict[str, int] = {}
        self.kyc_until = datetime(2035, 1, 1, tzinfo=UTC)
        self._next_investor = 10_000

    def investor_id(self) -> int:
        self._next_investor += 1
        return self._next_investor

    def run(self) -> dict[str, int]:
        addresses = deploy_platform_contracts(self.chain, self.admin,
                                              settlement=("Mock JPY", "MJPY", 18))
        for part in ("servicing", "implementation", "factory"):
            deployed = addresses.deployment(part)
            if deployed is not None and deployed.gas_used is not None:
                self.results[f"platform.deploy_{part}"] = deployed.gas_used
        platform = Platform(self.chain, addresses)
        self._erc20_floor()
        self._registry(platform)
        ts = load_term_sheet(TERM_SHEET)
        if ts.eligibility.aggregate_wallets:
            raise SystemExit("the example term sheet caps per investor: the per-wallet figures "
                             "need aggregate_wallets: false")
        bond, receipt = platform.factory.create_bond(self.admin, ts)
        self.results["factory.create_bond"] = _gas(receipt)
        self._bond(platform, bond, ts, suffix="")
        per_investor = _variant(ts, code=ts.bond.code + "-PI", aggregate=True)
        bond2, _ = platform.factory.create_bond(self.admin, per_investor)
        self._bond(platform, bond2, per_investor, suffix="_per_investor")
        return dict(sorted(self.results.items()))

    def _erc20_floor(self) -> None:
        art = load_artifact("ReferenceERC20")
        contract = self.chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = self.chain.transact(self.admin, contract.constructor(10**30))
        token = self.chain.w3.eth.contract(address=receipt["contractAddress"], abi=art.abi)
        a, b = self.holders[0], self.holders[1]
        self.chain.transact(self.admin, token.functions.transfer(a.address, 10**24))
        self.chain.transact(self.admin, token.functions.transfer(b.address, 10**24))
        self.results["erc20.transfer_existing"] = _gas(
            self.chain.transact(a, token.functions.transfer(b.address, 12_345)))
        new = _fresh_wallets(1, seed=1)[0]
        self.results["erc20.transfer_new"] = _gas(
            self.chain.transact(a, token.functions.transfer(new, 12_345)))

    def _registry(self, platform: Platform) -> None:
        registry = platform.registry
        wallet = _fresh_wallets(1, seed=2)[0]
        self.results["registry.register_wallet"] = _gas(
            registry.register(self.admin, wallet, _record(self.kyc_until, self.investor_id())))
        wallets = _fresh_wallets(100, seed=3)
        contract = self.chain.w3.eth.contract(address=Web3.to_checksum_address(registry.address),
                                              abi=registry_abi())
        records = [_record(self.kyc_until, self.investor_id()).to_tuple() for _ in wallets]
        receipt = self.chain.transact(self.admin,
                                      contract.functions.registerWallets(wallets, records))
        self.results["registry.register_batch_100_per_wallet"] = _gas(receipt) // 100

    def _bond(self, platform: Platform, bond: Bond, ts: TermSheet, *, suffix: str) -> None:
        registry = platform.registry
        holders = self.holders
        receivers = _fresh_wallets(12, seed=10 + len(suffix))
        registry.register_many(self.admin, [(h.address, _record(self.kyc_until, self.investor_id()))
                                            for h in holders])
        registry.register_many(self.admin, [(w, _record(self.kyc_until, self.investor_id()))
                                            for w in receivers])
        r = self.results
        r[f"bond.mint_new{suffix}"] = _gas(bond.mint(self.admin, holders[0].address, 1_000_000))
        r[f"bond.mint_existing{suffix}"] = _gas(
            bond.mint(self.admin, holders[0].address, 1_000_000))
        for h in holders[1:]:
            bond.mint(self.admin, h.address, 100_000)
        for w in receivers[1:11]:
            bond.mint(self.admin, w, 10_000)
        lockup = ts.lockup_timestamp or 0
        if self.chain.now() <= lockup:
            self.chain.advance_time(lockup - self.chain.now() + 86_400)
        a, b, c = holders[0], holders[1], holders[2]
        # warm-up so that both holders have touched their slots before (a steady-state transfer)
        bond.transfer(a, b.address, Decimal(1))
        r[f"bond.transfer_existing{suffix}"] = _gas(bond.transfer(a, b.address, Decimal(12_345)))
        r[f"bond.transfer_new{suffix}"] = _gas(bond.transfer(a, receivers[0], Decimal(12_345)))
        r[f"bond.batch_transfer_10_existing{suffix}"] = _gas(
            bond.transfer_many(a, [(w, Decimal(1_000)) for w in receivers[1:11]])[0])
        r[f"bond.forced_transfer{suffix}"] = _gas(bond.forced_transfer(
            self.admin, c.address, b.address, Decimal(5_000), "Kobe District Court 2027 (wa) 123"))


def _variant(ts: TermSheet, *, code: str, aggregate: bool) -> TermSheet:
    bond = ts.bond.model_copy(update={"code": code, "symbol": "KOBE26PI"})
    eligibility = ts.eligibility.model_copy(update={"aggregate_wallets": aggregate})
    return ts.model_copy(update={"bond": bond, "eligibility": eligibility})


def measure() -> dict[str, int]:
    """Run the benchmark on a fresh zero-gas anvil and return operation -> gasUsed."""
    accounts = dev_accounts(6)
    with start_anvil(zero_gas=True, accounts=10) as anvil:
        chain = anvil.connect()
        return Bench(chain, accounts[0], accounts[1:6]).run()


def check_goals(results: dict[str, int]) -> list[tuple[Goal, int, float, bool]]:
    """Each goal with the measured gas, the limit and whether it holds."""
    rows = []
    for goal in GOALS:
        measured = results[goal.key]
        limit = goal.limit(results)
        rows.append((goal, measured, limit, measured <= limit))
    return rows


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    results = measure()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    console = Console()
    floor = results["erc20.transfer_existing"]
    table = Table(title=f"munibond gas (anvil, {datetime.now(UTC):%Y-%m-%d})")
    table.add_column("operation")
    table.add_column("gas used", justify="right")
    table.add_column("x ERC-20 transfer", justify="right")
    for key, gas in results.items():
        table.add_row(key, f"{gas:,}", f"{gas / floor:.2f}")
    console.print(table)
    goals = Table(title="goals")
    for column in ("operation", "goal", "measured", "limit", ""):
        goals.add_column(column, justify="right" if column in ("measured", "limit") else "left")
    failed = 0
    for goal, measured, limit, ok in check_goals(results):
        failed += not ok
        goals.add_row(goal.key, goal.describe, f"{measured:,}", f"{limit:,.0f}",
                      "[green]ok[/]" if ok else "[red]MISSED[/]")
    console.print(goals)
    console.print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["GOALS", "check_goals", "measure"]
