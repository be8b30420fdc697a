"""Tests of munibond.ledger: the register from events, at any date, and the bond's history.

One scenario on the in-process chain (the example bond, its investors and allotment, then
transfers, a forced transfer, a freeze, a wallet recovery, a pause and a document), read back from
events; and a shorter one on anvil.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from munibond.anvil import start_anvil
from munibond.bond import Bond
from munibond.chain import Chain, in_process_chain
from munibond.deploy import ensure_bond, ensure_platform, read_record
from munibond.exceptions import ConfigError
from munibond.investor_files import read_allotments, read_investors
from munibond.ledger import (
    LedgerError,
    LedgerMismatch,
    block_at,
    history,
    holders,
    holders_at,
    transfer_balances,
)
from munibond.payment_setup import ensure_payments
from munibond.registry import InvestorRecord
from munibond.signers import dev_account
from munibond.termsheet import load_term_sheet

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TERM_SHEET = EXAMPLES / "kobe-resident-bond-2026.yaml"

ISSUER = dev_account(0)
YAMADA = dev_account(10)  # investor 1001
SUZUKI = dev_account(11)  # investor 1002
TAKAHASHI = dev_account(14)  # investor 1005, first wallet
TAKAHASHI_2 = dev_account(15)  # investor 1005, second wallet
COURT_ORDER = "Kobe District Court order 2027(ワ)123"
LOST_KEY = "lost key, identity re-verified, ticket 42"


@dataclass
class Scenario:
    chain: Chain
    bond: Bond
    creation_block: int
    minted_at: datetime
    minted_block: int
    allotted: dict[str, Decimal]
    wallets: list[str]


def _setup(chain: Chain, root: Path) -> Scenario:
    platform = ensure_platform(chain, ISSUER, "test", root=root)
    bond = ensure_bond(chain, ISSUER, platform, TERM_SHEET, "test", root=root)
    # the payment terms, as `munibond deploy` writes them (a coupon bond mints nothing before)
    ensure_payments(bond, ISSUER, load_term_sheet(TERM_SHEET),
                    token=platform.addresses.settlement_token)
    investors = read_investors(EXAMPLES / "investors.csv")
    platform.registry.register_many(
        ISSUER, [(i.wallet, InvestorRecord.from_csv(i)) for i in investors])
    lines = read_allotments(EXAMPLES / "allotments.csv", decimals=0)
    eligible = [(a.wallet, a.amount) for a in lines if bond.check_mint(a.wallet, a.amount).ok]
    bond.mint_many(ISSUER, eligible)
    minted_block = chain.block_number()
    return Scenario(
        chain=chain, bond=bond,
        creation_block=int(read_record(root / "test" / "KOBE-R-2026-01.json")["block"]),
        minted_at=datetime.fromtimestamp(chain.now(), UTC), minted_block=minted_block,
        allotted=dict(eligible), wallets=[i.wallet for i in investors])


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    chain = in_process_chain(accounts=30)
    s = _setup(chain, tmp_path_factory.mktemp("deployments"))
    chain.advance_time(60 * 86400)  # past the lock-up (2027-01-15)
    bond = s.bond
    bond.transfer(YAMADA, SUZUKI.address, Decimal(1000))
    bond.forced_transfer(ISSUER, SUZUKI.address, YAMADA.address, Decimal(500), COURT_ORDER)
    bond.freeze_amount(ISSUER, TAKAHASHI.address, Decimal(1000))
    bond.recover_wallet(ISSUER, TAKAHASHI.address, TAKAHASHI_2.address, LOST_KEY)
    bond.freeze_wallet(ISSUER, SUZUKI.address)
    bond.pause(ISSUER)
    bond.unpause(ISSUER)
    bond.set_document(ISSUER, "notice_2027_01", "https://example.jp/notice.pdf", b"\x11" * 32)
    return s


# -- the register ----------------------------------------------------------------------------------


def test_holders_from_events_equal_the_balances(scenario: Scenario) -> None:
    bond, chain = scenario.bond, scenario.chain
    register = holders(chain, bond)
    by_wallet = {h.wallet: h for h in register}
    holding_wallets = {w for w in scenario.wallets if bond.balance_of(w) > 0}
    assert set(by_wallet) == holding_wallets
    for wallet, h in by_wallet.items():
        account = bond.account(wallet)
        assert h.balance == account.balance == bond.balance_of(wallet)
        assert h.units == account.balance_units
        assert h.frozen == account.frozen
        assert h.wallet_frozen == account.wallet_frozen
        assert h.investor_id == bond.registry.record_of(wallet) & (2**64 - 1)
    assert sum(h.balance for h in register) == bond.total_supply() == Decimal(18_660_000)
    # what the scenario did
    assert by_wallet[YAMADA.address].balance == Decimal(1_000_000 - 1000 + 500)
    assert by_wallet[SUZUKI.address].balance == Decimal(500_000 + 1000 - 500)
    assert by_wallet[SUZUKI.address].wallet_frozen
    assert TAKAHASHI.address not in by_wallet  # recovered to the second wallet
    moved = by_wallet[TAKAHASHI_2.address]
    assert (moved.investor_id, moved.balance, moved.frozen) == (1005, Decimal(300_000),
                                                                Decimal(1000))
    # sorted by investor id, then wallet
    assert [h.investor_id for h in register] == sorted(h.investor_id for h in register)


def test_holders_read_in_small_chunks_are_the_same(scenario: Scenario) -> None:
    chain, bond = scenario.chain, scenario.bond
    assert holders(chain, bond, chunk_size=1) == holders(chain, bond)
    assert holders(chain, bond, from_block=scenario.creation_block) == holders(chain, bond)


def test_holders_at_a_past_date(scenario: Scenario) -> None:
    chain, bond = scenario.chain, scenario.bond
    at_mint = holders_at(chain, bond, scenario.minted_at)
    assert {h.wallet: h.balance for h in at_mint} == scenario.allotted
    assert all(not h.frozen and not h.wallet_frozen for h in at_mint)
    # the same instant in Tokyo time is the same register
    tokyo = scenario.minted_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert holders_at(chain, bond, tokyo) == at_mint
    assert block_at(chain, scenario.minted_at) >= scenario.minted_block
    # before the bond existed: nobody held it
    created = chain.w3.eth.get_block(scenario.creation_block)["timestamp"]
    before = datetime.fromtimestamp(int(created), UTC) - timedelta(seconds=1)
    assert holders_at(chain, bond, before) == []
    # now
    assert holders_at(chain, bond, datetime.now(UTC) + timedelta(days=3650)) == \
        holders(chain, bond)


def test_block_at_finds_the_last_block_at_or_before(scenario: Scenario) -> None:
    chain = scenario.chain
    for number in (1, scenario.creation_block, scenario.minted_block, chain.block_number()):
        stamp = int(chain.w3.eth.get_block(number)["timestamp"])
        found = block_at(chain, datetime.fromtimestamp(stamp, UTC))
        assert int(chain.w3.eth.get_block(found)["timestamp"]) <= stamp
        if found < chain.block_number():
            assert int(chain.w3.eth.get_block(found + 1)["timestamp"]) > stamp
    genesis = int(chain.w3.eth.get_block(0)["timestamp"])
    with pytest.raises(LedgerError, match="before the first block"):
        block_at(chain, datetime.fromtimestamp(genesis - 10, UTC))
    with pytest.raises(ConfigError, match="no time zone"):
        block_at(chain, datetime(2027, 1, 1))


def test_events_that_do_not_add_up_are_a_mismatch(scenario: Scenario) -> None:
    chain, bond = scenario.chain, scenario.bond
    # logs read from too late a block: the mints are missing
    with pytest.raises(LedgerMismatch, match="Transfer events"):
        holders(chain, bond, from_block=scenario.minted_block + 1)
    transfer = "0x" + HexBytes(keccak(text="Transfer(address,address,uint256)")).hex()
    log: Any = {"topics": [transfer, "0x" + "00" * 12 + "11" * 20, "0x" + "00" * 12 + "22" * 20],
                "data": (5).to_bytes(32, "big")}
    with pytest.raises(LedgerMismatch, match="negative balances"):
        transfer_balances([log])


def test_not_a_bond(scenario: Scenario) -> None:
    with pytest.raises(LedgerError, match="no contract at"):
        holders(scenario.chain, "0x" + "42" * 20)
    with pytest.raises(ConfigError, match="not an address"):
        holders(scenario.chain, "0x1234")


# -- history ---------------------------------------------------------------------------------------


def test_history_tells_what_happened(scenario: Scenario) -> None:
    chain, bond = scenario.chain, scenario.bond
    events = history(chain, bond)
    names = [e.event for e in events]
    for expected in ("TermsSet", "BondInitialized", "RoleGranted", "Transfer", "ForcedTransfer",
                     "TokensFrozen", "WalletRecovered", "WalletFrozen", "Paused", "Unpaused",
                     "DocumentUpdated"):
        assert expected in names, expected
    assert "unknown" not in names
    # in chain order, with timestamps and transaction hashes
    assert [(e.block, e.log_index) for e in events] == sorted((e.block, e.log_index)
                                                              for e in events)
    for e in events:
        receipt = chain.w3.eth.get_transaction_receipt(HexBytes(e.tx_hash))
        assert receipt["blockNumber"] == e.block
        stamp = chain.w3.eth.get_block(e.block)["timestamp"]
        assert e.timestamp == datetime.fromtimestamp(int(stamp), UTC)

    forced = next(e for e in events if e.event == "ForcedTransfer")
    assert forced.args["reason"] == COURT_ORDER
    assert forced.args["from"] == SUZUKI.address and forced.args["to"] == YAMADA.address
    assert forced.args["amount"] == 500 and forced.args["agent"] == ISSUER.address
    assert COURT_ORDER in forced.summary and "forced transfer of 500 JPY" in forced.summary
    paired = [e for e in events if e.tx_hash == forced.tx_hash and e.event == "Transfer"]
    assert len(paired) == 1 and "(forced transfer: see the next event)" in paired[0].summary

    recovered = next(e for e in events if e.event == "WalletRecovered")
    assert recovered.args["reason"] == LOST_KEY
    assert recovered.args["investorId"] == 1005
    assert recovered.args["frozenAmount"] == 1000
    assert LOST_KEY in recovered.summary and "1,000 JPY of it frozen" in recovered.summary

    terms = next(e for e in events if e.event == "TermsSet")
    assert terms.args["terms"]["code"] == "KOBE-R-2026-01"
    assert "coupon 0.620%" in terms.summary and "2031-12-15" in terms.summary
    rules = next(e for e in events if e.event == "BondInitialized")
    assert "countries allowed: JP" in rules.summary and "regions 28" in rules.summary
    document = next(e for e in events if e.event == "DocumentUpdated")
    assert "'notice_2027_01' set" in document.summary
    assert document.args["documentHash"] == "0x" + "11" * 32
    mints = [e for e in events if e.event == "Transfer" and e.summary.startswith("minted")]
    assert len(mints) == len(scenario.allotted)

    only = history(chain, bond, events={"ForcedTransfer", "WalletRecovered"})
    assert [e.event for e in only] == ["ForcedTransfer", "WalletRecovered"]
    assert history(chain, bond, to_block=scenario.minted_block, chunk_size=2) == \
        [e for e in events if e.block <= scenario.minted_block]


# -- on anvil --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anvil_scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with start_anvil(accounts=30) as node:
        chain = node.connect()
        s = _setup(chain, tmp_path_factory.mktemp("deployments"))
        chain.advance_time(60 * 86400)
        s.bond.transfer(YAMADA, SUZUKI.address, Decimal(2500))
        yield s


def test_register_on_anvil_now_and_in_the_past(anvil_scenario: Scenario) -> None:
    chain, bond = anvil_scenario.chain, anvil_scenario.bond
    now = {h.wallet: h.balance for h in holders(chain, bond)}
    assert now[YAMADA.address] == Decimal(1_000_000 - 2500)
    assert now[SUZUKI.address] == Decimal(500_000 + 2500)
    past = holders(chain, bond, at_block=anvil_scenario.minted_block)
    assert {h.wallet: h.balance for h in past} == anvil_scenario.allotted
    assert holders_at(chain, bond, anvil_scenario.minted_at) == past
    transfers = [e for e in history(chain, bond) if e.event == "Transfer"]
    assert transfers[-1].summary.startswith("transferred 2,500 JPY from")
