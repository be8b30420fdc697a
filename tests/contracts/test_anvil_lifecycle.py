"""The whole contract lifecycle on anvil (a real node, zero-gas legacy transactions, EVM target
newer than the contracts' paris): deploy, register, create a bond, allot, transfer, a refused
transfer mined and decoded, pause, forced transfer, recovery, maturity, and a closed bond."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3.contract import Contract

from munibond.anvil import start_anvil
from munibond.exceptions import TransactionReverted

from .conftest import ROLE_NAMES, WALLETS, deploy_platform
from .helpers import (
    BOND_CLOSED,
    BOND_MATURED,
    REGION_NOT_ALLOWED,
    UNIT,
    Platform,
    close_bond,
    decode_error,
    events,
    expect_revert,
)


@pytest.fixture(scope="module")
def anvil_platform() -> Iterator[tuple[Platform, Contract]]:
    node = start_anvil(accounts=len(ROLE_NAMES) + len(WALLETS))
    try:
        chain = node.connect()
        chain.freeze_clock()  # blocks one second apart: margins from chain.now() hold under load
        platform = deploy_platform(chain)
        yield platform, platform.make_bond()
    finally:
        node.stop()


def test_lifecycle_on_anvil(anvil_platform: tuple[Platform, Contract]) -> None:
    p, bond = anvil_platform
    chain = p.chain
    assert chain.dev_kind == "anvil"
    assert chain.w3.eth.get_block("latest")["baseFeePerGas"] == 0
    # the registry answers
    assert p.registry.functions.isVerified(p["a1"].address).call()
    assert not p.registry.functions.isVerified(p["expired"].address).call()
    # allotment
    to = [p[n].address for n in ("a1", "bob", "carol")]
    receipt = p.send(p.issuer, bond.functions.mintBatch(to, [30_000, 20_000, 10_000]))
    assert receipt["effectiveGasPrice"] == 0
    assert len(events(bond, receipt, "Transfer")) == 3
    assert p.total(bond) == 60_000 and p.holders(bond) == 3
    # secondary market
    receipt = p.transfer(bond, p["a1"], p["dave"], 5_000)
    assert events(bond, receipt, "Transfer") == [
        {"from": p["a1"].address, "to": p["dave"].address, "value": 5_000}]
    assert p.holders(bond) == 4
    # a refused transfer, pre-checked and mined: the node gives the same reason
    p.assert_refused(bond, p["a1"], p["tokyo"], UNIT, REGION_NOT_ALLOWED)
    # pause stops transfers, not the transfer agent
    p.send(p.pauser, bond.functions.pause())
    expect_revert(lambda: p.transfer(bond, p["a1"], p["bob"], UNIT), "TransferRestricted", 1)
    p.send(p.agent, bond.functions.freezeTokens(p["bob"].address, 5_000))
    receipt = p.send(p.agent, bond.functions.forcedTransfer(
        p["bob"].address, p["erin"].address, 18_000, "inheritance, family court ref. 12"))
    assert events(bond, receipt, "ForcedTransfer")[0]["frozenMoved"] == 3_000
    assert p.account(bond, p["bob"]) == (2_000, 2_000, False)
    receipt = p.send(p.agent, bond.functions.recoverWallet(p["a1"].address, p["a2"].address,
                                                           "lost phone"))
    assert events(bond, receipt, "WalletRecovered")[0]["amount"] == 25_000
    assert p.balance(bond, p["a2"]) == 25_000 and p.balance(bond, p["a1"]) == 0
    p.send(p.pauser, bond.functions.unpause())
    p.transfer(bond, p["a2"], p["bob"], UNIT)
    assert p.holders(bond) == 5  # a2, bob, carol, dave, erin
    assert p.total(bond) == 60_000
    assert sum(p.balance(bond, p[n]) for n in WALLETS) == 60_000


def test_maturity_and_closed_on_anvil(anvil_platform: tuple[Platform, Contract]) -> None:
    p, _ = anvil_platform
    chain = p.chain
    snapshot = chain.snapshot()
    try:
        bond = p.make_bond(maturityDate=chain.now() + 1_000)
        p.mint(bond, p["a1"], 10_000)
        p.warp_to(bond.functions.maturityDate().call())
        p.assert_refused(bond, p["a1"], p["bob"], UNIT, BOND_MATURED)
        p.assert_refused(bond, None, p["bob"], UNIT, BOND_MATURED)
        close_bond(chain, bond)
        p.assert_refused(bond, p["a1"], p["bob"], UNIT, BOND_CLOSED)
        p.assert_refused(bond, None, p["bob"], UNIT, BOND_CLOSED)
        with pytest.raises(TransactionReverted) as info:
            p.mined(p.agent, bond.functions.forcedTransfer(p["a1"].address, p["bob"].address,
                                                           UNIT, "x"))
        decoded = decode_error(info.value.data)
        assert (decoded.name, decoded["code"]) == ("TransferRestricted", BOND_CLOSED)
        # a lost wallet stays recoverable after the close (what it is owed moves with it)
        p.mined(p.agent, bond.functions.recoverWallet(p["a1"].address, p["a2"].address, "x"))
        assert bond.functions.balanceOf(p["a2"].address).call() == 10_000
    finally:
        chain.revert(snapshot)
