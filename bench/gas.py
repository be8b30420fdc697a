"""Gas benchmark: what each bond operation costs, from receipts, on a local anvil chain.

Run with ``make bench``. It deploys the platform (with its mock settlement token) and a plain
OpenZeppelin 5 ERC-20 (the floor: a token with no rules at all, which the bench bonds also pay
their coupons in, so that the coupon figures are what the bond costs; the ``settlement.*`` keys
show what a token with a block list adds to each payment) in the same run, creates the example
bond with its rules switched on (KYC expiry, investor class, country allow list, residents-only
region, trading unit, maximum holding, maximum holders, lock-up passed) and with all its coupon
logic in place (a payment schedule of three periods set before the first mint, the paying agent
role, withholding rates, a tax account), and writes ``bench/results/gas.json``: a flat object,
operation -> gas. It prints a table with what each key measures and the goals of the issues, and
exits non-zero when one is missed. :data:`DESCRIPTIONS` says what every key measures.

Keys ending in ``_per_investor`` measure a second bond that applies the holding cap and the
holder count per investor across all the investor's wallets (``aggregate_wallets: true``): that
costs two more storage reads and writes on every transfer between investors, and only bonds that
ask for it pay it. That bond gets the same coupon set-up; its figures are all taken before its
first record time.

The coupon keys walk the example bond through its schedule on anvil's clock: transfers before
the first record time, the first transfers after it, funding, claims and pushes of the first
period, the second period paid to everyone, then the final period's redemption. Two more bonds
with the same schedule shape and 10 and 1,000 holders measure what passing a record time costs
(``coupon.record_gas_*``): the design does nothing per holder at a record time, so the two must be
equal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from munibond.anvil import start_anvil
from munibond.artifacts import load_artifact
from munibond.bond import Bond
from munibond.chain import Chain
from munibond.contracts import registry_abi
from munibond.errors import transact
from munibond.platform import Platform, deploy_platform_contracts
from munibond.registry import InvestorRecord
from munibond.signers import Signer, dev_accounts, signer_from_key
from munibond.termsheet import TermSheet, load_term_sheet

ROOT = Path(__file__).resolve().parent.parent
TERM_SHEET = ROOT / "examples" / "kobe-resident-bond-2026.yaml"
RESULTS = ROOT / "bench" / "results" / "gas.json"

JAPAN = 392
KOBE_CHUO = 281107  # a ward of Kobe City, Hyogo prefecture (28)
RETAIL = 1
INDIVIDUAL = 1  # tax category: individual (20.315% = 15.315% national + 5% local)
CORPORATE = 2  # tax category: corporation (15.315% national, no local)

DAY = 86_400
# the example bond's schedule: 0.620% a year paid semi-annually = 0.31% of 1 JPY of face per
# period, scaled by 10^13 (interest decimals); redemption at par
COUPON_PER_UNIT = 31_000_000_000
PRINCIPAL_PER_UNIT = 10**13
DIVISOR_EXPONENT = 13  # token decimals 0 + interest decimals 13 + log10(rounding unit 1 JPY)
PAY_EXPONENT = 18  # the settlement token's decimals + log10(rounding unit 1 JPY)
PAY_UNIT = 10**PAY_EXPONENT
CLAIM_WINDOW = 10 * 365 * DAY
PERIODS = 3  # two coupons, then the final period (last coupon + principal)
PERIOD_SPACING = 30 * DAY  # between record times (short: the bench travels across them)
PUSH_BATCH = 100
#: holders in the two bonds that measure the cost of passing a record time
RECORD_HOLDERS = (10, 1_000)
#: wallets per registerWallets / mintBatch transaction when setting up many holders
SETUP_CHUNK = 200


@dataclass(frozen=True)
class Goal:
    """A gas goal: ``key`` must stay at or below ``limit(results)`` (and at or above
    ``at_least(results)`` when given: ``limit`` and ``at_least`` equal make an equality goal)."""

    key: str
    describe: str
    limit: Callable[[dict[str, int]], float]
    at_least: Callable[[dict[str, int]], float] | None = None


GOALS = [
    Goal("bond.transfer_existing", "<= 1.35 x erc20.transfer_existing",
         lambda r: 1.35 * r["erc20.transfer_existing"]),
    Goal("bond.transfer_new", "<= 1.35 x erc20.transfer_new",
         lambda r: 1.35 * r["erc20.transfer_new"]),
    Goal("registry.register_wallet", "<= 60,000", lambda r: 60_000),
    Goal("factory.create_bond", "<= 600,000", lambda r: 600_000),
    Goal("bond.batch_transfer_10_existing", "<= 190,000", lambda r: 190_000),
    Goal("coupon.first_transfer_after_record", "<= 1.35 x erc20.transfer_existing + 25,000",
         lambda r: 1.35 * r["erc20.transfer_existing"] + 25_000),
    Goal("coupon.claim", "<= 65,000", lambda r: 65_000),
    Goal("coupon.push_per_holder", "<= 35,000", lambda r: 35_000),
    Goal("coupon.record_gas_1000_holders", "= coupon.record_gas_10_holders",
         lambda r: r["coupon.record_gas_10_holders"],
         at_least=lambda r: r["coupon.record_gas_10_holders"]),
]

_PER_INVESTOR = " per investor (aggregate_wallets: true)"
#: what each key measures (keys ending in _per_investor: the same on the per-investor bond)
DESCRIPTIONS: dict[str, str] = {
    "erc20.transfer_existing": "plain OpenZeppelin ERC-20: transfer between two holders",
    "erc20.transfer_new": "plain OpenZeppelin ERC-20: transfer to a wallet that never held",
    "platform.deploy_servicing": "deployment of BondServicing",
    "platform.deploy_implementation": "deployment of BondToken (implementation + registry)",
    "platform.deploy_factory": "deployment of BondFactory",
    "registry.register_wallet": "registerWallet, one new wallet",
    "registry.register_batch_100_per_wallet": "registerWallets of 100 new wallets, gasUsed / 100",
    "factory.create_bond": "createBond: the example bond's clone, terms and rules",
    "bond.mint_new": "mint to a registered wallet that never held (schedule set)",
    "bond.mint_existing": "mint to a wallet that holds (schedule set)",
    "bond.transfer_existing": "transfer between two holders, nothing recorded since their last "
                              "balance change (before the first record time; schedule set)",
    "bond.transfer_new": "transfer to a registered wallet that never held",
    "bond.batch_transfer_10_existing": "batchTransfer to 10 holders",
    "bond.forced_transfer": "forcedTransfer by the transfer agent between two holders",
    "settlement.blocklist_transfer_existing": "the platform's mock settlement token (OpenZeppelin "
        "ERC-20 + block list): transfer between two holders; what a claim with such a token "
        "costs more is this minus settlement.transfer_existing",
    "settlement.transfer_existing": "the settlement token the bench bonds pay in (a plain "
        "OpenZeppelin ERC-20 without block list): transfer between two holders, the payment "
        "inside every claim",
    "coupon.first_transfer_after_record":
        "first transaction on the bond after a record time: a transfer between two holders, "
        "neither settled nor paid for that period (counts the record and settles both)",
    "coupon.second_transfer_after_record":
        "the transfer after coupon.first_transfer_after_record, between two other holders not "
        "settled for the period (settles both; the record is already counted)",
    "coupon.transfer_existing_after_record":
        "the same two holders again once both are settled for the period (unpaid): as "
        "bond.transfer_existing, with a record time behind",
    "coupon.fund": "fund() of the first period by the paying agent (the approve before it is "
                   "not counted)",
    "coupon.claim": "claim() of one coupon period with withholding (individual: 15.315% + 5%) "
                    "by a holder that already holds settlement tokens (not the period's first "
                    "payee)",
    "coupon.claim_new_payee": "the same claim by a holder with a zero settlement-token balance",
    "coupon.push_per_holder": "payBatch of 100 holders, one coupon period each (individual tax), "
                              "payees already holding settlement tokens: gasUsed / 100",
    "coupon.push_per_holder_new_payee": "the same payBatch to 100 payees with a zero "
                                        "settlement-token balance: gasUsed / 100",
    "coupon.remit_tax": "remitTax of the first period (after the claims and pushes)",
    "redeem.claim": "redeem() of the final period by a holder paid for every earlier period: "
                    "last coupon (taxed) + principal + burn (not the period's first payee)",
    "redeem.push_per_holder": "payBatch of 100 holders at the final period (last coupon + "
                              "principal + burn each): gasUsed / 100",
    "coupon.record_gas_10_holders":
        "cost of passing a record time on a bond with 10 holders: execution gas of the first "
        "transaction after the record time (a forced transfer between two holders not settled "
        "for the period: it counts the record) minus that of the next, identically shaped one "
        "between two other unsettled holders (calldata cost removed from both)",
    "coupon.record_gas_1000_holders": "as coupon.record_gas_10_holders, on a bond with 1,000 "
                                      "holders (the same schedule and the same four parties)",
}


def describe(key: str) -> str:
    """What ``key`` measures."""
    if key.endswith("_per_investor"):
        base = DESCRIPTIONS.get(key.removesuffix("_per_investor"), "")
        return f"{base}; on a bond whose rules cap{_PER_INVESTOR}"
    return DESCRIPTIONS.get(key, "")


def _gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])


def _record(kyc_until: datetime, investor_id: int) -> InvestorRecord:
    return InvestorRecord(investor_id=investor_id, country=JAPAN, investor_class=RETAIL,
                          tax_category=INDIVIDUAL, region=KOBE_CHUO, kyc_valid_until=kyc_until)


def _key(seed: int, i: int) -> bytes:
    return (seed * 1_000_003 + i + 1).to_bytes(32, "big")


def _fresh_wallets(n: int, seed: int) -> list[str]:
    """``n`` addresses nobody has used (receivers only: they never sign)."""
    return [Account.from_key(_key(seed, i)).address for i in range(n)]


def _fresh_signers(n: int, seed: int) -> list[Signer]:
    """``n`` unused accounts that sign (gas is free on the bench's chain)."""
    return [signer_from_key(_key(seed, i), label=f"bench {seed}/{i}") for i in range(n)]


def _schedule(first_record: int) -> list[tuple[int, int, int, int]]:
    """``PeriodTerms``: record times ``PERIOD_SPACING`` apart, each paid a day after its record
    time; the last period also pays the principal."""
    periods = []
    for i in range(PERIODS):
        record = first_record + i * PERIOD_SPACING
        principal = PRINCIPAL_PER_UNIT if i == PERIODS - 1 else 0
        periods.append((record, record + DAY, COUPON_PER_UNIT, principal))
    return periods


class CouponBond:
    """A bench bond with its payment schedule: the SDK object and the schedule's times."""

    def __init__(self, bond: Bond, periods: list[tuple[int, int, int, int]]) -> None:
        self.bond = bond
        self.contract: Contract = bond.contract
        self.periods = periods

    def record_time(self, p: int) -> int:
        return self.periods[p][0]

    def payment_time(self, p: int) -> int:
        return self.periods[p][1]


class Bench:
    """One benchmark run on one chain."""

    def __init__(self, chain: Chain, admin: Signer, holders: list[Signer]) -> None:
        self.chain = chain
        self.admin = admin
        self.holders = holders
        self.results: dict[str, int] = {}
        self.kyc_until = datetime(2035, 1, 1, tzinfo=UTC)
        self._next_investor = 10_000
        self.tax_account = _fresh_wallets(1, seed=90)[0]
        self.settlement: Contract | None = None
        self.blocklist_token: Contract | None = None

    def investor_id(self) -> int:
        self._next_investor += 1
        return self._next_investor

    def send(self, signer: Signer, tx: Any) -> Any:
        """Send a transaction; a revert raises the decoded error."""
        return transact(self.chain, signer, tx)

    def run(self) -> dict[str, int]:
        addresses = deploy_platform_contracts(self.chain, self.admin,
                                              settlement=("Mock JPY", "MJPY", 18))
        for part in ("servicing", "implementation", "factory"):
            deployed = addresses.deployment(part)
            if deployed is not None and deployed.gas_used is not None:
                self.results[f"platform.deploy_{part}"] = deployed.gas_used
        platform = Platform(self.chain, addresses)
        self.blocklist_token = platform.settlement
        # the bonds pay in a plain OpenZeppelin ERC-20 (a stablecoin without a block list), so
        # that the coupon figures are the bond's cost; settlement.* keys show what a token with
        # a block list (the platform's mock) adds to every payment
        self.settlement = self._deploy_plain_token()
        self._erc20_floor()
        self._registry(platform)
        ts = load_term_sheet(TERM_SHEET)
        if ts.eligibility.aggregate_wallets:
            raise SystemExit("the example term sheet caps per investor: the per-wallet figures "
                             "need aggregate_wallets: false")
        bond, receipt = platform.factory.create_bond(self.admin, ts)
        self.results["factory.create_bond"] = _gas(receipt)
        self._bond(platform, bond, ts, suffix="")
        per_investor = _variant(ts, code=ts.bond.code + "-PI", symbol="KOBE26PI", aggregate=True)
        bond2, _ = platform.factory.create_bond(self.admin, per_investor)
        self._bond(platform, bond2, per_investor, suffix="_per_investor")
        self._record_cost(platform, ts)
        return dict(sorted(self.results.items()))

    # -- the floor and the registry --------------------------------------------------------

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

    def _registry_contract(self, platform: Platform) -> Contract:
        return self.chain.w3.eth.contract(
            address=Web3.to_checksum_address(platform.registry.address), abi=registry_abi())

    def _registry(self, platform: Platform) -> None:
        registry = platform.registry
        wallet = _fresh_wallets(1, seed=2)[0]
        self.results["registry.register_wallet"] = _gas(
            registry.register(self.admin, wallet, _record(self.kyc_until, self.investor_id())))
        wallets = _fresh_wallets(100, seed=3)
        contract = self._registry_contract(platform)
        records = [_record(self.kyc_until, self.investor_id()).to_tuple() for _ in wallets]
        receipt = self.chain.transact(self.admin,
                                      contract.functions.registerWallets(wallets, records))
        self.results["registry.register_batch_100_per_wallet"] = _gas(receipt) // 100

    def _register(self, platform: Platform, wallets: Sequence[str]) -> None:
        """Register many wallets quickly (registerWallets, no per-wallet look-ups)."""
        contract = self._registry_contract(platform)
        for start in range(0, len(wallets), SETUP_CHUNK):
            chunk = list(wallets[start:start + SETUP_CHUNK])
            records = [_record(self.kyc_until, self.investor_id()).to_tuple() for _ in chunk]
            self.send(self.admin, contract.functions.registerWallets(chunk, records))

    def _mint_batch(self, bond: CouponBond, wallets: Sequence[str], units: int) -> None:
        for start in range(0, len(wallets), SETUP_CHUNK):
            chunk = list(wallets[start:start + SETUP_CHUNK])
            self.send(self.admin, bond.contract.functions.mintBatch(chunk, [units] * len(chunk)))

    # -- coupons: setup and helpers --------------------------------------------------------

    def _settlement(self) -> Contract:
        if self.settlement is None:
            raise SystemExit("the platform was deployed without a settlement token")
        return self.settlement

    def _enable_coupons(self, bond: Bond, ts: TermSheet) -> CouponBond:
        """Everything the coupon logic needs, before the first mint: the schedule (record times
        from 10 days after the later of now and the lock-up), the paying agent, withholding rates
        for individuals and corporations, and a tax account."""
        lockup = ts.lockup_timestamp or 0
        first_record = max(self.chain.now(), lockup) + 10 * DAY
        periods = _schedule(first_record)
        maturity = int(bond.contract.functions.maturityDate().call())
        if periods[-1][1] > maturity:
            raise SystemExit(f"the bench's schedule ends after the example bond's maturity "
                             f"({maturity}): move the example's dates")
        functions = bond.contract.functions
        settlement = self._settlement()
        self.send(self.admin, functions.setSchedule(periods, settlement.address, DIVISOR_EXPONENT,
                                                    PAY_EXPONENT, CLAIM_WINDOW,
                                                    (0, 0, 1_000_000, 1_000_000)))
        paying_agent = functions.PAYING_AGENT_ROLE().call()
        self.send(self.admin, functions.grantRole(paying_agent, self.admin.address))
        self.send(self.admin, functions.setTaxRates(INDIVIDUAL, 15_315, 5_000))
        self.send(self.admin, functions.setTaxRates(CORPORATE, 15_315, 0))
        self.send(self.admin, functions.setTaxAccount(self.tax_account))
        return CouponBond(bond, periods)

    def _travel_to(self, timestamp: int) -> None:
        """Mine a block at ``timestamp`` (when the chain's clock is not there yet)."""
        if self.chain.now() < timestamp:
            self.chain.set_next_timestamp(timestamp)
            self.chain.mine()

    def _deploy_plain_token(self) -> Contract:
        art = load_artifact("ReferenceERC20")
        deployer = self.chain.w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = self.chain.transact(self.admin, deployer.constructor(10**40))
        return self.chain.w3.eth.contract(
            address=Web3.to_checksum_address(str(receipt["contractAddress"])), abi=art.abi)

    def _give_settlement(self, wallets: Sequence[str], amount: int) -> None:
        settlement = self._settlement()
        for wallet in wallets:
            self.send(self.admin, settlement.functions.transfer(wallet, amount))

    def _fund(self, bond: CouponBond, period: int) -> Any:
        """Fund a period as the paying agent (minting and approving the amount first)."""
        settlement = self._settlement()
        required = int(bond.contract.functions.requiredFunding(period).call())
        self.send(self.admin, settlement.functions.approve(bond.bond.address, required))
        return self.send(self.admin, bond.contract.functions.fund(period, required))

    def _pay_batch(self, bond: CouponBond, wallets: Sequence[str]) -> Any:
        receipt = self.send(self.admin, bond.contract.functions.payBatch(list(wallets)))
        events = bond.contract.events
        failed = events.PaymentFailed().process_receipt(receipt, errors=DISCARD)
        if failed:
            raise SystemExit(f"payBatch: {len(failed)} payees failed: {failed[0]['args']}")
        paid = events.CouponPaid().process_receipt(receipt, errors=DISCARD)
        if len(paid) != len(wallets):
            raise SystemExit(f"payBatch paid {len(paid)} coupons to {len(wallets)} payees")
        return receipt

    def _execution_gas(self, receipt: Any) -> int:
        """gasUsed without the calldata's cost (4 gas a zero byte, 16 a non-zero byte)."""
        data = bytes(self.chain.w3.eth.get_transaction(receipt["transactionHash"])["input"])
        return _gas(receipt) - sum(16 if byte else 4 for byte in data)

    # -- the example bond --------------------------------------------------------------------

    def _bond(self, platform: Platform, bond: Bond, ts: TermSheet, *, suffix: str) -> None:
        registry = platform.registry
        holders = self.holders
        coupons = self._enable_coupons(bond, ts)
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
        full = not suffix  # the coupon walk-through runs on the example bond only
        if full:
            u, v = _fresh_signers(2, seed=40)
            push_paid = _fresh_wallets(PUSH_BATCH, seed=41)  # hold settlement tokens
            push_new = _fresh_wallets(PUSH_BATCH, seed=42)  # never held settlement tokens
            self._register(platform, [u.address, v.address, *push_paid, *push_new])
            self._mint_batch(coupons, [u.address, v.address], 100_000)
            self._mint_batch(coupons, [*push_paid, *push_new], 10_000)
            self._give_settlement([holders[3].address, *push_paid], PAY_UNIT)
            # what the settlement token itself charges for a payment (inside every claim)
            r["settlement.transfer_existing"] = _gas(self.send(
                holders[3], self._settlement().functions.transfer(push_paid[0], 1)))
            mock = self.blocklist_token
            if mock is not None:
                self.send(self.admin, mock.functions.mint(holders[3].address, PAY_UNIT))
                self.send(self.admin, mock.functions.mint(push_paid[0], PAY_UNIT))
                r["settlement.blocklist_transfer_existing"] = _gas(self.send(
                    holders[3], mock.functions.transfer(push_paid[0], 1)))
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
        if full:
            self._coupons(coupons, u, v, push_paid, push_new)

    def _coupons(self, bond: CouponBond, u: Signer, v: Signer, push_paid: list[str],
                 push_new: list[str]) -> None:
        """The example bond through its schedule (see the module's docstring)."""
        r = self.results
        a, b, c, d, e = self.holders[:5]
        functions = bond.contract.functions
        # -- period 0: the record time passes; the first transfers afterwards
        self._travel_to(bond.record_time(0) + 60)
        r["coupon.first_transfer_after_record"] = _gas(
            bond.bond.transfer(a, b.address, Decimal(12_345)))
        r["coupon.second_transfer_after_record"] = _gas(
            bond.bond.transfer(u, v.address, Decimal(12_345)))
        r["coupon.transfer_existing_after_record"] = _gas(
            bond.bond.transfer(a, b.address, Decimal(12_345)))
        r["coupon.fund"] = _gas(self._fund(bond, 0))
        self._travel_to(bond.payment_time(0) + 60)
        self.send(c, functions.claim())  # the period's first payee (its paid totals go 0 -> x)
        r["coupon.claim"] = _gas(self.send(d, functions.claim()))
        r["coupon.claim_new_payee"] = _gas(self.send(e, functions.claim()))
        r["coupon.push_per_holder"] = _gas(self._pay_batch(bond, push_paid)) // PUSH_BATCH
        r["coupon.push_per_holder_new_payee"] = (
            _gas(self._pay_batch(bond, push_new)) // PUSH_BATCH)
        r["coupon.remit_tax"] = _gas(self.send(self.admin, functions.remitTax(0)))
        # -- period 1: paid to the holders the final period's figures are measured on
        self._travel_to(bond.record_time(1) + 60)
        self._fund(bond, 1)
        self._travel_to(bond.payment_time(1) + 60)
        for holder in (c, d):
            self.send(holder, functions.claim())
        self._pay_batch(bond, push_paid)
        # -- the final period: redemption
        final = PERIODS - 1
        self._travel_to(bond.record_time(final) + 60)
        self._fund(bond, final)
        self._travel_to(bond.payment_time(final) + 60)
        # the first redemption also keeps the supply at each record time passed since the last
        # mint (a one-off for the bond): not the figure a holder pays
        self.send(c, functions.redeem())
        r["redeem.claim"] = _gas(self.send(d, functions.redeem()))
        r["redeem.push_per_holder"] = _gas(self._pay_batch(bond, push_paid)) // PUSH_BATCH
        if int(functions.balanceOf(push_paid[0]).call()) != 0:
            raise SystemExit("payBatch at the final period did not redeem")

    # -- the cost of passing a record time ---------------------------------------------------

    def _record_cost(self, platform: Platform, ts: TermSheet) -> None:
        """Two bonds, the same schedule and parties, 10 and 1,000 holders: the first transaction
        after the first record time against the next one, both forced transfers between two
        holders not yet settled for the period (see DESCRIPTIONS).

        Forced transfers because they always take the full hook: a plain transfer first tries
        the lean path, which gives up at once while a record is uncounted but only after reading
        both parties when it is counted, so two plain transfers differ by more than the record.
        """
        x, y, u, v = _fresh_wallets(4, seed=50)
        self._register(platform, [x, y, u, v])
        bonds = []
        for n in RECORD_HOLDERS:
            variant = _variant(ts, code=f"{ts.bond.code}-H{n}", symbol=f"KOBE26H{n}",
                               aggregate=False)
            bond, _ = platform.factory.create_bond(self.admin, variant)
            coupons = self._enable_coupons(bond, variant)
            others = _fresh_wallets(n - 4, seed=60 + n)
            self._register(platform, others)
            self._mint_batch(coupons, [x, y, u, v], 100_000)
            self._mint_batch(coupons, others, 10_000)
            if bond.holder_count() != n:
                raise SystemExit(f"the record-cost bond has {bond.holder_count()} holders, not {n}")
            bonds.append((n, coupons))
        lockup = ts.lockup_timestamp or 0
        self._travel_to(max(lockup + DAY, *(c.record_time(0) + 60 for _, c in bonds)))
        reason = "Kobe District Court 2027 (wa) 456"
        for n, coupons in bonds:
            bond = coupons.bond
            first = self._execution_gas(
                bond.forced_transfer(self.admin, x, y, Decimal(1_000), reason))
            second = self._execution_gas(
                bond.forced_transfer(self.admin, u, v, Decimal(1_000), reason))
            self.results[f"coupon.record_gas_{n}_holders"] = first - second


def _variant(ts: TermSheet, *, code: str, symbol: str, aggregate: bool) -> TermSheet:
    bond = ts.bond.model_copy(update={"code": code, "symbol": symbol})
    eligibility = ts.eligibility.model_copy(update={"aggregate_wallets": aggregate})
    return ts.model_copy(update={"bond": bond, "eligibility": eligibility})


def measure() -> dict[str, int]:
    """Run the benchmark on a fresh zero-gas anvil and return operation -> gas."""
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
        ok = measured <= limit and (goal.at_least is None or measured >= goal.at_least(results))
        rows.append((goal, measured, limit, ok))
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
    console.print("[bold]what each operation measures[/]")
    for key in results:
        if not key.endswith("_per_investor"):
            console.print(f"  [cyan]{key}[/]: {describe(key)}", highlight=False)
    console.print(f"  [cyan]*_per_investor[/]: the same on a bond whose rules cap{_PER_INVESTOR}",
                  highlight=False)
    goals = Table(title="goals")
    for column in ("operation", "goal", "measured", "limit", ""):
        goals.add_column(column, justify="right" if column in ("measured", "limit") else "left")
    failed = 0
    for goal, measured, limit, ok in check_goals(results):
        failed += not ok
        shown = f"= {limit:,.0f}" if goal.at_least is not None else f"{limit:,.0f}"
        goals.add_row(goal.key, goal.describe, f"{measured:,}", shown,
                      "[green]ok[/]" if ok else "[red]MISSED[/]")
    console.print(goals)
    console.print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DESCRIPTIONS", "GOALS", "check_goals", "describe", "measure"]
