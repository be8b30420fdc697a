"""Fixtures of the SDK tests: one platform per session on the in-process chain, deployed with the
SDK itself, the example bond (examples/kobe-resident-bond-2026.yaml) created from its term sheet
and the example investors (examples/investors.csv) registered; the chain is reverted to that state
after every test.

Accounts (the development mnemonic's): 0 deployer (admin, creator, every bond role), 1 registrar,
9 a stranger with no role; 10 to 27 are the example investors' wallets (see examples/README.md).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from munibond.bond import Bond
from munibond.chain import Chain, in_process_chain
from munibond.investor_files import Allotment, Investor, read_allotments, read_investors
from munibond.payment_setup import ensure_payments
from munibond.platform import Platform, PlatformAddresses, deploy_platform_contracts
from munibond.registry import InvestorRecord
from munibond.signers import Signer, dev_accounts
from munibond.termsheet import TermSheet, load_term_sheet, parse_term_sheet

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TERM_SHEET = EXAMPLES / "kobe-resident-bond-2026.yaml"
#: a moment after the example bond's lock-up (2027-01-15) and before its maturity (2031-12-15)
AFTER_LOCKUP = calendar.timegm(date(2027, 2, 1).timetuple())


@dataclass
class Env:
    chain: Chain
    accounts: list[Signer]
    deployer: Signer
    registrar: Signer
    stranger: Signer
    addresses: PlatformAddresses
    platform: Platform
    term_sheet: TermSheet
    bond: Bond
    investors: list[Investor]
    allotments: list[Allotment]
    #: the allotment lines the example means to be minted (the first eleven)
    eligible: list[Allotment]

    def signer(self, wallet: str) -> Signer:
        """The development account whose address is ``wallet``."""
        for account in self.accounts:
            if account.address.lower() == wallet.lower():
                return account
        raise KeyError(wallet)

    def wallet(self, investor_id: int, index: int = 0) -> str:
        return [i.wallet for i in self.investors if i.investor_id == investor_id][index]

    def nonce(self, account: Signer) -> int:
        return int(self.chain.w3.eth.get_transaction_count(account.address))

    def after_lockup(self) -> None:
        """Move the chain's clock past the lock-up (skip the test when it is already past
        maturity)."""
        now = self.chain.now()
        if now >= self.bond.terms().maturity_date.timestamp():
            pytest.skip("the system clock is past the example bond's maturity")
        if now < AFTER_LOCKUP:
            self.chain.set_next_timestamp(AFTER_LOCKUP)
            self.chain.mine()

    def mint_eligible(self) -> None:
        self.bond.mint_many(self.deployer, [(a.wallet, a.amount) for a in self.eligible])


@pytest.fixture(scope="session")
def env_session() -> Env:
    chain = in_process_chain(accounts=30)
    chain.freeze_clock()  # the chain's time moves only when a test moves it
    accounts = dev_accounts(30)
    deployer, registrar, stranger = accounts[0], accounts[1], accounts[9]
    addresses = deploy_platform_contracts(chain, deployer, registrar=registrar.address,
                                          settlement=("Mock JPY", "MJPY", 18))
    platform = Platform(chain, addresses)
    ts = load_term_sheet(TERM_SHEET)
    bond, _ = platform.factory.create_bond(deployer, ts,
                                           settlement_token=addresses.settlement_token)
    # the payment terms as munibond deploy writes them: schedule, paying agent, tax rates
    ensure_payments(bond, deployer, ts, token=addresses.settlement_token)
    investors = read_investors(EXAMPLES / "investors.csv")
    platform.registry.register_many(
        registrar, [(i.wallet, InvestorRecord.from_csv(i)) for i in investors])
    allotments = read_allotments(EXAMPLES / "allotments.csv", decimals=ts.decimals)
    return Env(chain=chain, accounts=accounts, deployer=deployer, registrar=registrar,
               stranger=stranger, addresses=addresses, platform=platform, term_sheet=ts,
               bond=bond, investors=investors, allotments=allotments,
               eligible=allotments[:11])


@pytest.fixture
def env(env_session: Env) -> Iterator[Env]:
    """The session's platform, reverted to its initial state after the test."""
    snapshot = env_session.chain.snapshot()
    try:
        yield env_session
    finally:
        env_session.chain.revert(snapshot)
        env_session.bond.refresh()


@pytest.fixture
def minted(env: Env) -> Env:
    """The example allotment's eligible lines minted and the lock-up passed."""
    env.mint_eligible()
    env.after_lockup()
    return env


def face(value: str | int) -> Decimal:
    return Decimal(value)


def term_sheet_variant(**replacements: str) -> TermSheet:
    """The example term sheet with lines replaced: ``key=(old, new)`` pairs given as
    ``"old => new"`` strings; each ``old`` must occur in the file."""
    text = TERM_SHEET.read_text(encoding="utf-8")
    for name, change in replacements.items():
        old, new = change.split(" => ")
        assert old in text, f"{name}: {old!r} is not in the example term sheet"
        text = text.replace(old, new)
    return parse_term_sheet(text, source=f"variant of {TERM_SHEET.name}")


def create_variant(env: Env, **replacements: str) -> Bond:
    """A second bond from a variant of the example term sheet (give it another code), with its
    payment terms on chain as `munibond deploy` writes them (a bond with a coupon mints nothing
    before its schedule)."""
    ts = term_sheet_variant(**replacements)
    token = env.addresses.settlement_token
    bond, _ = env.platform.factory.create_bond(env.deployer, ts, settlement_token=token)
    ensure_payments(bond, env.deployer, ts, token=token)
    return bond
