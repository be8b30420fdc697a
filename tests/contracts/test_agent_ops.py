"""Transfer-agent, pauser, issuer and admin operations: forced transfers, recovery, pause,
freezes, documents (ERC-1643), terms and rules amendments."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from eth_utils.crypto import keccak
from web3.contract import Contract

from munibond.signers import Signer

from .helpers import (
    AMOUNT_FROZEN,
    BOND_CLOSED,
    BOND_MATURED,
    CLASS_NOT_ALLOWED,
    COUNTRY_NOT_ALLOWED,
    INSUFFICIENT_BALANCE,
    INVALID_RECIPIENT,
    KOBE,
    LOCKED_UP,
    MAX_BALANCE,
    MAX_BALANCE_EXCEEDED,
    MAX_HOLDERS_REACHED,
    NOT_TRADING_UNIT_MULTIPLE,
    PAUSED,
    RECIPIENT_FROZEN,
    RECIPIENT_KYC_EXPIRED,
    RECIPIENT_NOT_REGISTERED,
    RECIPIENT_SUSPENDED,
    REGION_NOT_ALLOWED,
    SENDER_FROZEN,
    SENDER_KYC_EXPIRED,
    SENDER_NOT_REGISTERED,
    SENDER_SUSPENDED,
    UNIT,
    YEAR,
    ZERO,
    Investor,
    Platform,
    Rules,
    account_slot,
    close_bond,
    countries_bitmap,
    events,
    expect_revert,
    raw_storage,
)

REASON = "Kobe District Court order 2025(ワ)123"


def fund(p: Platform, bond: Contract, **amounts: int) -> None:
    for name, amount in amounts.items():
        p.mint(bond, p[name], amount)


def forced(p: Platform, bond: Contract, frm: Signer | str, to: Signer | str, amount: int,
           reason: str = REASON) -> Any:
    f = frm if isinstance(frm, str) else frm.address
    t = to if isinstance(to, str) else to.address
    return p.send(p.agent, bond.functions.forcedTransfer(f, t, amount, reason))


def recover(p: Platform, bond: Contract, lost: Signer, new: Signer | str,
            reason: str = "lost key, identity re-verified") -> Any:
    n = new if isinstance(new, str) else new.address
    return p.send(p.agent, bond.functions.recoverWallet(lost.address, n, reason))


# ---------------------------------------------------------------------------------------------
# forced transfer: what it passes over (NatSpec of _checkForced), one rule at a time.
# Each case sets up a situation in which a normal transfer a1 -> recipient is refused with the
# code, then shows the forced transfer goes through and moves the units.


def _pause(p: Platform, bond: Contract) -> Contract:
    p.send(p.pauser, bond.functions.pause())
    return bond


def _mature(p: Platform, bond: Contract) -> Contract:
    p.warp_to(bond.functions.maturityDate().call())
    return bond


def _remove_sender(p: Platform, bond: Contract) -> Contract:
    p.send(p.registrar, p.registry.functions.removeWallet(p["a1"].address))
    return bond


def _expire_sender(p: Platform, bond: Contract) -> Contract:
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["a1"].address, 1))
    return bond


def _suspend_sender(p: Platform, bond: Contract) -> Contract:
    p.send(p.registrar, p.registry.functions.setSuspended(p["a1"].address, True))
    return bond


def _freeze_sender_wallet(p: Platform, bond: Contract) -> Contract:
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    return bond


def _freeze_all_units(p: Platform, bond: Contract) -> Contract:
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 10_000))
    return bond


def _fill_recipient(p: Platform, bond: Contract) -> Contract:
    p.mint(bond, p["bob"], MAX_BALANCE)
    return bond


def _fill_holders(p: Platform, bond: Contract) -> Contract:
    fund(p, bond, carol=UNIT, dave=UNIT, erin=UNIT, frank=UNIT)  # a1 + 4 = 5 = cap
    return bond


PASSED_OVER: dict[str, tuple[Callable[[Platform, Contract], Contract], int, str]] = {
    "pause": (_pause, PAUSED, "bob"),
    "maturity": (_mature, BOND_MATURED, "bob"),
    "sender not registered": (_remove_sender, SENDER_NOT_REGISTERED, "bob"),
    "sender KYC expired": (_expire_sender, SENDER_KYC_EXPIRED, "bob"),
    "sender suspended": (_suspend_sender, SENDER_SUSPENDED, "bob"),
    "sender wallet frozen": (_freeze_sender_wallet, SENDER_FROZEN, "bob"),
    "frozen units": (_freeze_all_units, AMOUNT_FROZEN, "bob"),
    "max balance": (_fill_recipient, MAX_BALANCE_EXCEEDED, "bob"),
    "max holders": (_fill_holders, MAX_HOLDERS_REACHED, "grace"),
}


@pytest.mark.parametrize("case", list(PASSED_OVER))
def test_forced_transfer_passes_over(p: Platform, bond: Contract, case: str) -> None:
    setup, code, recipient = PASSED_OVER[case]
    fund(p, bond, a1=10_000)
    bond = setup(p, bond)
    to = p[recipient]
    assert p.detect(bond, p["a1"], to, 2_000) == code
    expect_revert(lambda: p.transfer(bond, p["a1"], to, 2_000), "TransferRestricted", code)
    holders = p.holders(bond)
    before = p.balance(bond, to)
    forced(p, bond, p["a1"], to, 2_000)
    assert p.balance(bond, p["a1"]) == 8_000
    assert p.balance(bond, to) == before + 2_000
    assert p.total(bond) == 10_000 + (MAX_BALANCE if case == "max balance" else 0) + (
        4 * UNIT if case == "max holders" else 0)
    assert p.holders(bond) == holders + (1 if before == 0 else 0)


def test_forced_transfer_passes_over_lockup(p: Platform) -> None:
    bond = p.make_bond(p.rules(lockupUntil=p.chain.now() + 10_000))
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["bob"], 2_000, LOCKED_UP)
    forced(p, bond, p["a1"], p["bob"], 2_000)
    assert p.balance(bond, p["bob"]) == 2_000


def test_forced_transfer_over_the_holder_cap_is_counted(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000, bob=UNIT, carol=UNIT, dave=UNIT, erin=UNIT)
    forced(p, bond, p["a1"], p["frank"], UNIT)
    assert p.holders(bond) == 6  # above the cap of 5: the forced transfer passed over it
    p.assert_refused(bond, None, p["grace"], UNIT, MAX_HOLDERS_REACHED)


# ---------------------------------------------------------------------------------------------
# forced transfer: what it still enforces


def _refuse_forced(p: Platform, bond: Contract, to: str, amount: int, code: int) -> None:
    fn = bond.functions.forcedTransfer(p["a1"].address, to, amount, REASON)
    expect_revert(lambda: p.send(p.agent, fn), "TransferRestricted", code, p["a1"], to, amount)
    assert p.balance(bond, p["a1"]) == 10_000


ENFORCED: dict[str, tuple[Callable[[Platform, Contract], str], int]] = {
    "zero address": (lambda p, b: ZERO, INVALID_RECIPIENT),
    "the bond itself": (lambda p, b: b.address, INVALID_RECIPIENT),
    "recipient not registered": (lambda p, b: p["outsider"].address, RECIPIENT_NOT_REGISTERED),
    "recipient suspended": (lambda p, b: p["suspended"].address, RECIPIENT_SUSPENDED),
    "recipient KYC expired": (lambda p, b: p["expired"].address, RECIPIENT_KYC_EXPIRED),
    "recipient class": (lambda p, b: p["qii"].address, CLASS_NOT_ALLOWED),
    "recipient country": (lambda p, b: p["us"].address, COUNTRY_NOT_ALLOWED),
    "recipient region": (lambda p, b: p["tokyo"].address, REGION_NOT_ALLOWED),
}


@pytest.mark.parametrize("case", list(ENFORCED))
def test_forced_transfer_still_enforces(p: Platform, bond: Contract, case: str) -> None:
    recipient, code = ENFORCED[case]
    fund(p, bond, a1=10_000)
    _refuse_forced(p, bond, recipient(p, bond), 2_000, code)
    forced(p, bond, p["a1"], p["bob"], 2_000)  # the same forced transfer to an eligible investor


def test_forced_transfer_enforces_recipient_wallet_freeze(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.setWalletFrozen(p["bob"].address, True))
    _refuse_forced(p, bond, p["bob"].address, 2_000, RECIPIENT_FROZEN)
    p.send(p.agent, bond.functions.setWalletFrozen(p["bob"].address, False))
    forced(p, bond, p["a1"], p["bob"], 2_000)


def test_forced_transfer_enforces_trading_unit_and_balance(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    _refuse_forced(p, bond, p["bob"].address, 1_500, NOT_TRADING_UNIT_MULTIPLE)
    _refuse_forced(p, bond, p["bob"].address, 11_000, INSUFFICIENT_BALANCE)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 10_000))
    forced(p, bond, p["a1"], p["bob"], 10_000)  # the whole balance, frozen units included


def test_forced_transfer_enforces_closed(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    close_bond(p.chain, bond)
    _refuse_forced(p, bond, p["bob"].address, 2_000, BOND_CLOSED)


def test_forced_transfer_checks_recipient_kyc_at_block_time(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    expiry = p.pinned_now() + 100  # the next block is at pinned_now()
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["bob"].address, expiry))
    fn = bond.functions.forcedTransfer(p["a1"].address, p["bob"].address, UNIT, REASON)
    p.at(expiry)
    expect_revert(lambda: p.chain.call(fn, "pending", sender=p.agent), "TransferRestricted",
                  RECIPIENT_KYC_EXPIRED)


# ---------------------------------------------------------------------------------------------
# forced transfer: frozen units move last, events, reason


def test_forced_transfer_consumes_frozen_units_last(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 4_000))
    steps = [(5_000, 0, 4_000), (3_000, 2_000, 2_000), (2_000, 2_000, 0)]
    balance = 10_000
    for amount, frozen_moved, frozen_left in steps:
        receipt = forced(p, bond, p["a1"], p["bob"], amount)
        balance -= amount
        assert events(bond, receipt, "ForcedTransfer") == [{
            "from": p["a1"].address, "to": p["bob"].address, "amount": amount,
            "frozenMoved": frozen_moved, "agent": p.agent.address, "reason": REASON}]
        assert events(bond, receipt, "Transfer") == [{
            "from": p["a1"].address, "to": p["bob"].address, "value": amount}]
        assert p.account(bond, p["a1"]) == (balance, frozen_left, False)
    assert p.account(bond, p["bob"]) == (10_000, 0, False)  # frozen units arrive free
    assert p.holders(bond) == 1


def test_forced_transfer_keeps_the_wallet_freeze(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 6_000))
    forced(p, bond, p["a1"], p["bob"], 7_000)
    assert p.account(bond, p["a1"]) == (3_000, 3_000, True)


def test_forced_transfer_requires_a_reason(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    expect_revert(lambda: forced(p, bond, p["a1"], p["bob"], UNIT, reason=""), "ReasonRequired")
    fn = bond.functions.forcedTransferBatch([p["a1"].address], [p["bob"].address], [UNIT], "")
    expect_revert(lambda: p.send(p.agent, fn), "ReasonRequired")
    expect_revert(lambda: recover(p, bond, p["a1"], p["a2"], reason=""), "ReasonRequired")


def test_forced_transfer_batch(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000, bob=10_000)
    frm = [p["a1"].address, p["bob"].address]
    to = [p["carol"].address, p["dave"].address]
    receipt = p.send(p.agent, bond.functions.forcedTransferBatch(frm, to, [1_000, 2_000],
                                                                  "inheritance"))
    logged = events(bond, receipt, "ForcedTransfer")
    assert [(e["from"], e["to"], e["amount"], e["reason"]) for e in logged] == [
        (frm[0], to[0], 1_000, "inheritance"), (frm[1], to[1], 2_000, "inheritance")]
    assert [p.balance(bond, w) for w in to] == [1_000, 2_000]
    # all or nothing
    bad = bond.functions.forcedTransferBatch(frm, [to[0], p["tokyo"].address], [1_000, 1_000],
                                             "x")
    expect_revert(lambda: p.send(p.agent, bad), "TransferRestricted", REGION_NOT_ALLOWED,
                  p["bob"], p["tokyo"], 1_000)
    assert p.balance(bond, to[0]) == 1_000
    expect_revert(lambda: p.send(p.agent, bond.functions.forcedTransferBatch(
        frm, to[:1], [1, 1], "x")), "LengthMismatch", 2, 1)
    expect_revert(lambda: p.send(p.agent, bond.functions.forcedTransferBatch(
        frm, to, [1], "x")), "LengthMismatch", 2, 1)


# ---------------------------------------------------------------------------------------------
# recovery


def test_recovery_moves_balance_frozen_amount_and_wallet_freeze(p: Platform,
                                                               bond: Contract) -> None:
    fund(p, bond, a1=10_000, bob=5_000)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 3_000))
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    assert p.holders(bond) == 2
    receipt = recover(p, bond, p["a1"], p["a2"])
    assert events(bond, receipt, "WalletRecovered") == [{
        "lostWallet": p["a1"].address, "newWallet": p["a2"].address, "investorId": 1,
        "amount": 10_000, "frozenAmount": 3_000, "agent": p.agent.address,
        "reason": "lost key, identity re-verified"}]
    assert events(bond, receipt, "Transfer") == [{
        "from": p["a1"].address, "to": p["a2"].address, "value": 10_000}]
    assert p.account(bond, p["a1"]) == (0, 0, False)
    assert p.account(bond, p["a2"]) == (10_000, 3_000, True)
    assert p.holders(bond) == 2 and p.total(bond) == 15_000


def test_recovery_into_a_wallet_that_already_holds(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000, a2=4_000)
    p.send(p.agent, bond.functions.freezeTokens(p["a2"].address, 1_000))
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 2_000))
    assert p.holders(bond) == 2
    recover(p, bond, p["a1"], p["a2"])
    assert p.account(bond, p["a2"]) == (14_000, 3_000, False)
    assert p.holders(bond) == 1


def test_recovery_passes_over_pause_lockup_caps_and_freezes(p: Platform) -> None:
    bond = p.make_bond(p.rules(lockupUntil=p.chain.now() + 10_000, maxHolders=1,
                               maxBalance=10_000))
    fund(p, bond, a1=10_000)
    p.send(p.pauser, bond.functions.pause())
    p.send(p.agent, bond.functions.setWalletFrozen(p["a2"].address, True))
    p.send(p.registrar, p.registry.functions.setKycValidUntil(p["a1"].address, 1))
    p.send(p.registrar, p.registry.functions.setSuspended(p["a1"].address, True))
    recover(p, bond, p["a1"], p["a2"])
    assert p.account(bond, p["a2"]) == (10_000, 0, True)
    assert p.holders(bond) == 1


@pytest.mark.parametrize("issued", [False, True])
def test_recovery_of_an_empty_wallet_moves_its_freeze(p: Platform, bond: Contract,
                                                      issued: bool) -> None:
    if issued:
        fund(p, bond, bob=1_000)
    p.send(p.agent, bond.functions.setWalletFrozen(p["a1"].address, True))
    receipt = recover(p, bond, p["a1"], p["a2"])
    assert events(bond, receipt, "WalletRecovered")[0]["amount"] == 0
    assert p.account(bond, p["a2"]) == (0, 0, True)
    assert p.account(bond, p["a1"]) == (0, 0, False)
    assert p.holders(bond) == (1 if issued else 0)
    if not issued:  # before issue nothing but the freeze flag is written (issue 7 A.3)
        assert raw_storage(p.chain, bond.address, account_slot(p["a2"].address)) == \
            ACCOUNT_WALLET_FROZEN_BIT
        assert raw_storage(p.chain, bond.address, account_slot(p["a1"].address)) == 0


def test_recovery_refuses_another_investor_or_unregistered_wallets(p: Platform,
                                                                    bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    expect_revert(lambda: recover(p, bond, p["a1"], p["bob"]), "NotSameInvestor",
                  p["a1"], p["bob"])
    expect_revert(lambda: recover(p, bond, p["a1"], p["outsider"]), "NotSameInvestor",
                  p["a1"], p["outsider"])
    # the lost wallet must still be registered (to prove whose it was)
    p.send(p.registrar, p.registry.functions.removeWallet(p["a1"].address))
    expect_revert(lambda: recover(p, bond, p["a1"], p["a2"]), "NotSameInvestor",
                  p["a1"], p["a2"])
    assert p.balance(bond, p["a1"]) == 10_000


def test_recovery_requires_a_verified_new_wallet(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    valid = p.t0 + YEAR
    p.register(p["new1"], Investor(1, region=KOBE, kycValidUntil=valid, flags=1))
    p.register(p["new2"], Investor(1, region=KOBE, kycValidUntil=1))
    expect_revert(lambda: recover(p, bond, p["a1"], p["new1"]), "TransferRestricted",
                  RECIPIENT_SUSPENDED, p["a1"], p["new1"], 10_000)
    expect_revert(lambda: recover(p, bond, p["a1"], p["new2"]), "TransferRestricted",
                  RECIPIENT_KYC_EXPIRED, p["a1"], p["new2"], 10_000)
    expect_revert(lambda: recover(p, bond, p["a1"], p["a1"]), "TransferRestricted",
                  INVALID_RECIPIENT, p["a1"], p["a1"], 10_000)
    # the new wallet must be one the bond allows as a recipient (class, country, region)
    p.register(p["new3"], Investor(1, region=0, kycValidUntil=valid))
    expect_revert(lambda: recover(p, bond, p["a1"], p["new3"]), "TransferRestricted",
                  REGION_NOT_ALLOWED, p["a1"], p["new3"], 10_000)
    assert p.balance(bond, p["a1"]) == 10_000


def test_recovery_still_works_when_closed(p: Platform, bond: Contract) -> None:
    """What a lost wallet is owed stays recoverable after the bond closes (A.4)."""
    fund(p, bond, a1=10_000)
    close_bond(p.chain, bond)
    recover(p, bond, p["a1"], p["a2"])
    assert p.balance(bond, p["a2"]) == 10_000


def test_recovery_per_investor_keeps_totals_and_holders(p: Platform) -> None:
    bond = p.make_bond(p.rules(perInvestor=True))
    fund(p, bond, a1=10_000, a2=2_000, bob=1_000)
    assert p.holders(bond) == 2
    recover(p, bond, p["a1"], p["a2"])
    assert bond.functions.investorBalance(1).call() == 12_000
    assert p.holders(bond) == 2
    assert p.balance(bond, p["a2"]) == 12_000


# ---------------------------------------------------------------------------------------------
# pause, wallet freeze, partial freeze


def test_pause_and_unpause(p: Platform, bond: Contract) -> None:
    assert bond.functions.paused().call() is False
    expect_revert(lambda: p.send(p.pauser, bond.functions.unpause()), "AlreadyInState")
    receipt = p.send(p.pauser, bond.functions.pause())
    assert events(bond, receipt, "Paused") == [{"account": p.pauser.address}]
    assert bond.functions.paused().call() is True
    expect_revert(lambda: p.send(p.pauser, bond.functions.pause()), "AlreadyInState")
    receipt = p.send(p.pauser, bond.functions.unpause())
    assert events(bond, receipt, "Unpaused") == [{"account": p.pauser.address}]
    assert bond.functions.paused().call() is False


def test_agent_operations_work_while_paused(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.send(p.pauser, bond.functions.pause())
    p.send(p.agent, bond.functions.setWalletFrozen(p["bob"].address, True))
    p.send(p.agent, bond.functions.setWalletFrozen(p["bob"].address, False))
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 1_000))
    p.send(p.agent, bond.functions.unfreezeTokens(p["a1"].address, 1_000))
    forced(p, bond, p["a1"], p["bob"], 1_000)
    recover(p, bond, p["a1"], p["a2"])
    assert p.balance(bond, p["a2"]) == 9_000


def test_wallet_freeze(p: Platform, bond: Contract) -> None:
    w = p["a1"].address
    expect_revert(lambda: p.send(p.agent, bond.functions.setWalletFrozen(w, False)),
                  "AlreadyInState")
    receipt = p.send(p.agent, bond.functions.setWalletFrozen(w, True))
    assert events(bond, receipt, "WalletFrozen") == [{"wallet": w, "frozen": True,
                                                       "agent": p.agent.address}]
    assert p.account(bond, w) == (0, 0, True)
    expect_revert(lambda: p.send(p.agent, bond.functions.setWalletFrozen(w, True)),
                  "AlreadyInState")
    receipt = p.send(p.agent, bond.functions.setWalletFrozen(w, False))
    assert events(bond, receipt, "WalletFrozen") == [{"wallet": w, "frozen": False,
                                                       "agent": p.agent.address}]
    assert p.account(bond, w) == (0, 0, False)


def test_freeze_and_unfreeze_bounds(p: Platform, bond: Contract) -> None:
    w = p["a1"].address
    agent = p.agent

    def freeze(n: int) -> Any:
        return p.send(agent, bond.functions.freezeTokens(w, n))

    def unfreeze(n: int) -> Any:
        return p.send(agent, bond.functions.unfreezeTokens(w, n))

    expect_revert(lambda: freeze(1), "FreezeAmountInvalid", w, 1, 0)  # nothing to freeze
    fund(p, bond, a1=10_000)
    expect_revert(lambda: freeze(0), "FreezeAmountInvalid", w, 0, 10_000)
    expect_revert(lambda: freeze(10_001), "FreezeAmountInvalid", w, 10_001, 10_000)
    receipt = freeze(4_000)
    assert events(bond, receipt, "TokensFrozen") == [
        {"wallet": w, "amount": 4_000, "totalFrozen": 4_000, "agent": agent.address}]
    expect_revert(lambda: freeze(6_001), "FreezeAmountInvalid", w, 6_001, 6_000)
    receipt = freeze(6_000)  # exactly the free part; any amount, not only trading units
    assert events(bond, receipt, "TokensFrozen")[0]["totalFrozen"] == 10_000
    expect_revert(lambda: freeze(1), "FreezeAmountInvalid", w, 1, 0)
    expect_revert(lambda: unfreeze(0), "FreezeAmountInvalid", w, 0, 10_000)
    expect_revert(lambda: unfreeze(10_001), "FreezeAmountInvalid", w, 10_001, 10_000)
    receipt = unfreeze(1)
    assert events(bond, receipt, "TokensUnfrozen") == [
        {"wallet": w, "amount": 1, "totalFrozen": 9_999, "agent": agent.address}]
    unfreeze(9_999)
    assert p.account(bond, w) == (10_000, 0, False)
    expect_revert(lambda: unfreeze(1), "FreezeAmountInvalid", w, 1, 0)


# ---------------------------------------------------------------------------------------------
# documents (ERC-1643)


def _name(text: str) -> bytes:
    return text.encode().ljust(32, b"\x00")


def test_documents(p: Platform, bond: Contract) -> None:
    issuer = p.issuer
    names = [_name("prospectus"), _name("terms"), _name("notice-1")]
    hashes = [keccak(text=f"doc {i}") for i in range(3)]
    assert bond.functions.getAllDocuments().call() == []
    for i, n in enumerate(names):
        receipt = p.send(issuer, bond.functions.setDocument(n, f"ipfs://doc{i}", hashes[i]))
        assert events(bond, receipt, "DocumentUpdated") == [
            {"name": n, "uri": f"ipfs://doc{i}", "documentHash": hashes[i]}]
        stamp = p.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        assert bond.functions.getDocument(n).call() == [f"ipfs://doc{i}", hashes[i], stamp]
    assert bond.functions.getAllDocuments().call() == names
    # replace: same position, new URI/hash/time
    new_hash = keccak(text="terms v2")
    receipt = p.send(issuer, bond.functions.setDocument(names[1], "ipfs://terms-v2", new_hash))
    assert events(bond, receipt, "DocumentUpdated")[0]["uri"] == "ipfs://terms-v2"
    assert bond.functions.getAllDocuments().call() == names
    assert bond.functions.getDocument(names[1]).call()[:2] == ["ipfs://terms-v2", new_hash]
    # remove the first: the last moves into its place
    receipt = p.send(issuer, bond.functions.removeDocument(names[0]))
    assert events(bond, receipt, "DocumentRemoved") == [
        {"name": names[0], "uri": "ipfs://doc0", "documentHash": hashes[0]}]
    assert bond.functions.getAllDocuments().call() == [names[2], names[1]]
    expect_revert(lambda: p.chain.call(bond.functions.getDocument(names[0])),
                  "DocumentNotFound", names[0])
    expect_revert(lambda: p.send(issuer, bond.functions.removeDocument(names[0])),
                  "DocumentNotFound", names[0])
    # remove the last, then the rest; re-adding works
    p.send(issuer, bond.functions.removeDocument(names[1]))
    assert bond.functions.getAllDocuments().call() == [names[2]]
    p.send(issuer, bond.functions.removeDocument(names[2]))
    assert bond.functions.getAllDocuments().call() == []
    p.send(issuer, bond.functions.setDocument(names[0], "ipfs://again", hashes[0]))
    assert bond.functions.getAllDocuments().call() == [names[0]]
    assert bond.functions.getDocument(names[0]).call()[0] == "ipfs://again"


def test_document_needs_name_and_uri(p: Platform, bond: Contract) -> None:
    expect_revert(lambda: p.send(p.issuer, bond.functions.setDocument(
        b"\x00" * 32, "ipfs://x", b"\x01" * 32)), "InvalidDocument")
    expect_revert(lambda: p.send(p.issuer, bond.functions.setDocument(
        _name("x"), "", b"\x01" * 32)), "InvalidDocument")


# ---------------------------------------------------------------------------------------------
# terms


def test_terms_amendable_before_issue_fixed_after(p: Platform, bond: Contract) -> None:
    code = bond.functions.bondCode().call()
    new = p.terms(code=code, name="Kobe City Bond (amended)", couponRate=5_000,
                  maturityDate=p.t0 + 7 * YEAR, issueVolume=20_000_000)
    receipt = p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(new)))
    logged = events(bond, receipt, "TermsSet")
    assert len(logged) == 1 and logged[0]["by"] == p.admin.address
    assert tuple(logged[0]["terms"].values()) == Platform.terms_tuple(new)
    assert tuple(bond.functions.terms().call()) == Platform.terms_tuple(new)
    assert bond.functions.couponRate().call() == 5_000
    assert bond.functions.maturityDate().call() == p.t0 + 7 * YEAR
    assert bond.functions.issueVolume().call() == 20_000_000
    assert bond.functions.issued().call() is False
    p.mint(bond, p["a1"], UNIT)
    assert bond.functions.issued().call() is True
    expect_revert(lambda: p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(new))),
                  "TermsFixedAfterIssue")


def test_amended_terms_are_validated(p: Platform, bond: Contract) -> None:
    bad = p.terms(code=bond.functions.bondCode().call(), couponFrequency=3)
    expect_revert(lambda: p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(bad))),
                  "InvalidTerms", "couponFrequency")


def test_amended_maturity_and_volume_take_effect(p: Platform, bond: Contract) -> None:
    maturity = p.chain.now() + 500
    new = p.terms(code=bond.functions.bondCode().call(), maturityDate=maturity,
                  issueVolume=20_000)
    p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(new)))
    p.assert_refused(bond, None, p["a1"], 21_000, 22)
    p.allowed_at(maturity - 1, bond, None, p["a1"], 20_000)
    p.refused_at(maturity, bond, p["a1"], p["bob"], UNIT, BOND_MATURED)


# ---------------------------------------------------------------------------------------------
# rules


def test_amend_rules_takes_effect_immediately(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=10_000)
    p.assert_refused(bond, p["a1"], p["tokyo"], UNIT, REGION_NOT_ALLOWED)
    tokyo_rules = p.rules(regions=[13], maxBalance=5_000, tradingUnit=500)
    receipt = p.send(p.admin, bond.functions.amendRules(tokyo_rules.as_tuple()))
    logged = events(bond, receipt, "RulesAmended")
    assert len(logged) == 1 and logged[0]["admin"] == p.admin.address
    assert tuple(logged[0]["rules"].values()) == tokyo_rules.as_tuple()
    assert tuple(bond.functions.rules().call()) == tokyo_rules.as_tuple()
    # the rules now come from storage
    assert p.state_word(bond) & (1 << 202)
    for i, word in enumerate(tokyo_rules.words()):
        assert int.from_bytes(p.chain.w3.eth.get_storage_at(bond.address, 4 + i), "big") == word
    p.assert_allowed(bond, p["a1"], p["tokyo"], 500)  # new unit, new region
    p.assert_refused(bond, p["a1"], p["bob"], UNIT, REGION_NOT_ALLOWED)
    p.assert_refused(bond, p["a1"], p["tokyo"], 5_000, MAX_BALANCE_EXCEEDED)
    # a second amendment replaces the first
    p.send(p.admin, bond.functions.amendRules(p.rules().as_tuple()))
    p.assert_allowed(bond, p["a1"], p["bob"], UNIT)
    p.assert_refused(bond, p["a1"], p["tokyo"], UNIT, REGION_NOT_ALLOWED)
    assert tuple(bond.functions.rules().call()) == p.rules().as_tuple()


def test_amend_rules_validates(p: Platform, bond: Contract) -> None:
    for bad, reason in [
        (p.rules(tradingUnit=0), "tradingUnit must be at least 1"),
        (p.rules(maxBalance=1_500), "maxBalance must be a multiple of tradingUnit"),
        (p.rules(countryMode=3), "countryMode must be 0, 1 or 2"),
        (p.rules(regions=[48]), "regions must be prefectures 1-47 or 6-digit JIS codes"),
    ]:
        expect_revert(lambda b=bad: p.send(p.admin, bond.functions.amendRules(b.as_tuple())),
                      "InvalidRules", reason)


def test_per_investor_fixed_after_issue(p: Platform, bond: Contract) -> None:
    # before issue it may change (and then applies)
    p.send(p.admin, bond.functions.amendRules(p.rules(perInvestor=True).as_tuple()))
    fund(p, bond, a1=UNIT, a2=UNIT)
    assert p.holders(bond) == 1
    assert bond.functions.investorBalance(1).call() == 2 * UNIT
    expect_revert(lambda: p.send(p.admin, bond.functions.amendRules(
        p.rules(perInvestor=False).as_tuple())), "InvalidRules",
        "perInvestor cannot change after issue")
    # other rules may still change
    p.send(p.admin, bond.functions.amendRules(p.rules(perInvestor=True, maxHolders=1).as_tuple()))
    p.assert_refused(bond, None, p["bob"], UNIT, MAX_HOLDERS_REACHED)


def test_per_investor_cannot_be_switched_on_after_issue(p: Platform, bond: Contract) -> None:
    fund(p, bond, a1=UNIT)
    expect_revert(lambda: p.send(p.admin, bond.functions.amendRules(
        p.rules(perInvestor=True).as_tuple())), "InvalidRules",
        "perInvestor cannot change after issue")


def test_amend_rules_country_deny_list(p: Platform, bond: Contract) -> None:
    rules = Rules(lockupUntil=0, countryMode=2, countries=countries_bitmap([840]), regions=[])
    p.send(p.admin, bond.functions.amendRules(rules.as_tuple()))
    p.assert_allowed(bond, None, p["tokyo"], UNIT)
    p.assert_refused(bond, None, p["us"], UNIT, COUNTRY_NOT_ALLOWED)


# ---------------------------------------------------------------------------------------------
# defects these tests found, fixed: kept as regression tests


def test_forced_transfer_from_a_deregistered_wallet_keeps_per_investor_totals(
        p: Platform) -> None:
    """Forced transfer passes over the sender's registration (NatSpec of _checkForced). In a
    per-investor bond, a sender no longer in the registry reads as investor 0, so
    BondLedger._updateInvestorUnits skips the sender side: the old investor keeps the units in
    `_investorUnits` and stays counted as a holder, while the recipient is credited. After it, the
    per-investor totals sum to more than the supply and holderCount is one too high (which
    then refuses a legitimate newcomer with MAX_HOLDERS_REACHED)."""
    bond = p.make_bond(p.rules(perInvestor=True, maxHolders=3))
    fund(p, bond, a1=5_000, bob=1_000)
    p.send(p.registrar, p.registry.functions.removeWallet(p["a1"].address))
    forced(p, bond, p["a1"], p["carol"], 5_000)  # the estate of an investor who died, say
    assert bond.functions.investorBalance(3).call() == 5_000
    assert bond.functions.investorBalance(1).call() == 0, "investor 1 still holds on paper"
    assert p.holders(bond) == 2  # bob and carol


def test_forced_self_transfer_reports_frozen_units_it_did_not_move(p: Platform,
                                                                    bond: Contract) -> None:
    """ForcedTransfer.frozenMoved is documented as "how many of them were frozen units (the
    sender's frozen amount shrank by this)". A forced transfer with from == to is accepted
    (_checkForced has no from != to check, unlike _checkRecovery), the hook returns early and the
    frozen amount does not change, yet the event reports frozenMoved > 0."""
    fund(p, bond, a1=10_000)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, 10_000))
    try:
        receipt = forced(p, bond, p["a1"], p["a1"], 4_000)
    except Exception:
        return
    moved = events(bond, receipt, "ForcedTransfer")[0]["frozenMoved"]
    frozen_after = p.account(bond, p["a1"])[1]
    assert 10_000 - frozen_after == moved


def test_amend_terms_keeps_bond_codes_unique(p: Platform, bond: Contract) -> None:
    """IBondTerms: "code the bond code (platform-unique)"; the factory enforces it at creation
    (BondCodeTaken). amendTerms may change the code before issue, so a bond can take another
    bond's code (and the factory's bondByCode no longer finds it under its own code)."""
    other = p.make_bond()
    taken = other.functions.bondCode().call()
    # refusing the new code is a fine answer
    with contextlib.suppress(Exception):
        p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(p.terms(code=taken))))
    for b in (bond, other):
        assert p.factory.functions.bondByCode(b.functions.bondCode().call()).call() == b.address


def test_amend_rules_keeps_denomination_a_multiple_of_the_trading_unit(
        p: Platform, bond: Contract) -> None:
    """initialize() refuses a denomination that is not a multiple of the trading unit
    (InvalidRules), but amendRules does not re-check it: a trading unit of 3,000 on a 10,000
    denomination is accepted after creation."""
    expect_revert(lambda: p.send(p.admin, bond.functions.amendRules(
        p.rules(tradingUnit=3_000, maxBalance=99_000).as_tuple())), "InvalidRules")


def test_amend_terms_keeps_denomination_a_multiple_of_the_trading_unit(
        p: Platform, bond: Contract) -> None:
    """Same invariant from the other side: amendTerms accepts a denomination of 2,500 on a bond
    whose trading unit is 1,000."""
    new = p.terms(code=bond.functions.bondCode().call(), denomination=2_500,
                  issueVolume=10_000_000)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        p.send(p.admin, bond.functions.amendTerms(Platform.terms_tuple(new)))


ACCOUNT_WALLET_FROZEN_BIT = 1 << 208
