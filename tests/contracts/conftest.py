"""Fixtures of the contract-level tests: one platform deployed per session on the in-process
chain (BondServicing, BondToken as registry + implementation, BondFactory), investors of every
kind registered, a default resident bond, and snapshot/revert isolation around every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3.contract import Contract

from munibond.artifacts import load_artifact
from munibond.chain import Chain, in_process_chain
from munibond.signers import dev_accounts

from .helpers import (
    AMAGASAKI,
    CORPORATE,
    DEPLOY_GAS,
    HIMEJI,
    KOBE,
    QII,
    TOKYO_CHIYODA,
    USA,
    YEAR,
    Investor,
    Platform,
)

ROLE_NAMES = ("admin", "registrar", "creator", "issuer", "agent", "pauser", "stranger")
#: registered wallets (name -> record factory taking t0); "outsider", "new1".. are unregistered
WALLETS = ("a1", "a2", "bob", "carol", "dave", "erin", "frank", "grace", "tokyo", "us",
           "expired", "suspended", "qii", "outsider", "new1", "new2", "new3")
ELIGIBLE = ("a1", "a2", "bob", "carol", "dave", "erin", "frank", "grace")
INELIGIBLE = ("tokyo", "us", "expired", "suspended", "qii", "outsider")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "finding: a contract defect these tests found (fails until the contract is "
        "fixed; deselect with -m 'not finding')")


def investor_records(t0: int) -> dict[str, Investor]:
    valid = t0 + 10 * YEAR
    return {
        # investor 1 has two wallets (per-investor rules and recovery)
        "a1": Investor(1, region=KOBE, kycValidUntil=valid),
        "a2": Investor(1, region=KOBE, kycValidUntil=valid),
        "bob": Investor(2, region=HIMEJI, kycValidUntil=valid),
        "carol": Investor(3, region=AMAGASAKI, kycValidUntil=valid),
        "dave": Investor(4, region=KOBE, kycValidUntil=valid),
        "erin": Investor(5, region=HIMEJI, kycValidUntil=valid),
        "frank": Investor(6, region=KOBE, kycValidUntil=valid),
        "grace": Investor(7, investorClass=CORPORATE, taxCategory=2, region=KOBE,
                          kycValidUntil=valid),
        # not eligible for a Hyogo resident bond, each for one reason
        "tokyo": Investor(8, region=TOKYO_CHIYODA, kycValidUntil=valid),
        "us": Investor(9, country=USA, taxCategory=3, region=0, kycValidUntil=valid),
        "expired": Investor(10, region=KOBE, kycValidUntil=t0 - 1),
        "suspended": Investor(11, region=KOBE, kycValidUntil=valid, flags=1),
        "qii": Investor(12, investorClass=QII, taxCategory=0, region=KOBE, kycValidUntil=valid),
    }


def deploy(chain: Chain, signer, name: str, *args) -> Contract:  # type: ignore[no-untyped-def]
    artifact = load_artifact(name)
    factory = chain.w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
    receipt = chain.transact(signer, factory.constructor(*args), gas=DEPLOY_GAS)
    return chain.w3.eth.contract(address=receipt["contractAddress"], abi=list(artifact.abi))


def deploy_platform(chain: Chain) -> Platform:
    signers = dev_accounts(len(ROLE_NAMES) + len(WALLETS))
    roles = dict(zip(ROLE_NAMES, signers, strict=False))
    wallets = dict(zip(WALLETS, signers[len(ROLE_NAMES):], strict=True))
    admin = roles["admin"]
    servicing = deploy(chain, admin, "BondServicing")
    registry = deploy(chain, admin, "BondToken", admin.address, roles["registrar"].address,
                      servicing.address)
    factory = deploy(chain, admin, "BondFactory", admin.address, roles["creator"].address,
                     registry.address)
    t0 = chain.now()
    records = investor_records(t0)
    platform = Platform(chain=chain, servicing=servicing, registry=registry, factory=factory,
                        wallets=wallets, records=records, t0=t0, **roles)
    names = list(records)
    platform.send(platform.registrar, registry.functions.registerWallets(
        [wallets[n].address for n in names], [records[n].as_tuple() for n in names]))
    return platform


@pytest.fixture(scope="session")
def chain() -> Chain:
    chain = in_process_chain(accounts=len(ROLE_NAMES) + len(WALLETS))
    # blocks one second apart unless a test sets the time: a slow machine or an old snapshot
    # never moves the chain's clock past a margin a test derived from chain.now()
    chain.freeze_clock()
    return chain


@pytest.fixture(scope="session")
def platform_session(chain: Chain) -> tuple[Platform, Contract]:
    platform = deploy_platform(chain)
    bond = platform.make_bond()
    return platform, bond


@pytest.fixture
def p(platform_session: tuple[Platform, Contract]) -> Iterator[Platform]:
    """The platform, with the chain reverted to its session state after the test."""
    platform = platform_session[0]
    snapshot = platform.chain.snapshot()
    try:
        yield platform
    finally:
        platform.chain.revert(snapshot)


@pytest.fixture
def bond(p: Platform, platform_session: tuple[Platform, Contract]) -> Contract:
    """The default resident bond (every rule on; lock-up passed), nothing minted yet."""
    return platform_session[1]
