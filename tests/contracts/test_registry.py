"""The investor registry (BondToken at its own address): records packed into one word, events,
errors, and the verification boundary."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from web3.contract import Contract

from munibond.exceptions import RevertError

from .helpers import (
    HIMEJI,
    KOBE,
    ZERO,
    Investor,
    Platform,
    events,
    expect_revert,
)


def test_register_packs_one_word_and_emits(p: Platform) -> None:
    reg = p.registry
    w = p["outsider"].address
    inv = Investor(2**64 - 1, country=2**16 - 1, investorClass=255, taxCategory=255,
                   region=2**32 - 1, kycValidUntil=2**40 - 1, flags=2**16 - 1)
    receipt = p.send(p.registrar, reg.functions.registerWallet(w, inv.as_tuple()))
    assert events(reg, receipt, "WalletRegistered") == [{
        "wallet": w, "investorId": 2**64 - 1, "record": inv.packed(),
        "registrar": p.registrar.address}]
    assert reg.functions.recordOf(w).call() == inv.packed()
    assert inv.packed() < 2**184  # bits 184-255 unused
    assert tuple(reg.functions.investorOf(w).call()) == inv.as_tuple()
    assert tuple(reg.functions.unpack(inv.packed()).call()) == inv.as_tuple()
    assert reg.functions.isVerified(w).call() is False  # suspended flag set
    # re-registering replaces the whole record
    plain = Investor(42, region=KOBE, kycValidUntil=p.t0 + 1_000_000)
    p.register(w, plain)
    assert reg.functions.recordOf(w).call() == plain.packed()
    assert reg.functions.isVerified(w).call() is True
    assert tuple(reg.functions.recordsOf(w, p["a1"].address).call()) == (
        plain.packed(), p.records["a1"].packed())
    # unregistered wallets read as zero
    assert reg.functions.recordOf(p["new1"].address).call() == 0
    assert tuple(reg.functions.investorOf(p["new1"].address).call()) == (0,) * 7
    assert reg.functions.isVerified(p["new1"].address).call() is False


def test_register_refuses_zero_wallet_and_zero_id(p: Platform) -> None:
    reg = p.registry
    expect_revert(lambda: p.send(p.registrar, reg.functions.registerWallet(
        ZERO, Investor(1).as_tuple())), "InvalidWallet")
    expect_revert(lambda: p.send(p.registrar, reg.functions.registerWallet(
        p["new1"].address, Investor(0).as_tuple())), "InvalidInvestorId", p["new1"])


def test_register_wallets_batch(p: Platform) -> None:
    reg = p.registry
    wallets = [p["new1"].address, p["new2"].address]
    records = [Investor(31, region=KOBE, kycValidUntil=p.t0 + 10**6),
               Investor(32, region=HIMEJI, kycValidUntil=p.t0 + 10**6)]
    expect_revert(lambda: p.send(p.registrar, reg.functions.registerWallets(
        wallets, [records[0].as_tuple()])), "RecordsLengthMismatch", 2, 1)
    # all or nothing: the second record is invalid
    bad = [records[0].as_tuple(), Investor(0).as_tuple()]
    expect_revert(lambda: p.send(p.registrar, reg.functions.registerWallets(wallets, bad)),
                  "InvalidInvestorId", wallets[1])
    assert reg.functions.recordOf(wallets[0]).call() == 0
    receipt = p.send(p.registrar, reg.functions.registerWallets(
        wallets, [r.as_tuple() for r in records]))
    assert [e["wallet"] for e in events(reg, receipt, "WalletRegistered")] == wallets
    assert [reg.functions.recordOf(w).call() for w in wallets] == [r.packed() for r in records]


def test_suspend_and_kyc_change_only_their_bits(p: Platform) -> None:
    reg = p.registry
    w = p["bob"].address
    rec = p.records["bob"]
    receipt = p.send(p.registrar, reg.functions.setSuspended(w, True))
    suspended = Investor(**{**vars(rec), "flags": 1})
    assert events(reg, receipt, "WalletRegistered")[0]["record"] == suspended.packed()
    assert reg.functions.recordOf(w).call() == suspended.packed()
    assert reg.functions.isVerified(w).call() is False
    p.send(p.registrar, reg.functions.setSuspended(w, True))  # idempotent
    p.send(p.registrar, reg.functions.setSuspended(w, False))
    assert reg.functions.recordOf(w).call() == rec.packed()
    receipt = p.send(p.registrar, reg.functions.setKycValidUntil(w, 12345))
    changed = Investor(**{**vars(rec), "kycValidUntil": 12345})
    assert events(reg, receipt, "WalletRegistered")[0]["record"] == changed.packed()
    assert reg.functions.recordOf(w).call() == changed.packed()
    for fn in (reg.functions.setSuspended(p["new1"].address, True),
               reg.functions.setKycValidUntil(p["new1"].address, 1),
               reg.functions.removeWallet(p["new1"].address)):
        expect_revert(lambda f=fn: p.send(p.registrar, f), "WalletNotRegistered", p["new1"])


def test_kyc_boundary(p: Platform) -> None:
    reg = p.registry
    w = p["bob"].address
    t = p.pinned_now() + 100  # the next block is at pinned_now()
    p.send(p.registrar, reg.functions.setKycValidUntil(w, t))
    p.warp_to(t - 1)
    assert reg.functions.isVerified(w).call() is True
    p.warp_to(t)
    assert reg.functions.isVerified(w).call() is False


def test_remove_wallets(p: Platform) -> None:
    reg = p.registry
    receipt = p.send(p.registrar, reg.functions.removeWallet(p["bob"].address))
    assert events(reg, receipt, "WalletRemoved") == [{
        "wallet": p["bob"].address, "investorId": 2, "registrar": p.registrar.address}]
    assert reg.functions.recordOf(p["bob"].address).call() == 0
    # a batch with an unregistered wallet is refused as a whole
    batch = [p["carol"].address, p["bob"].address]
    expect_revert(lambda: p.send(p.registrar, reg.functions.removeWallets(batch)),
                  "WalletNotRegistered", p["bob"])
    assert reg.functions.recordOf(p["carol"].address).call() == p.records["carol"].packed()
    batch = [p["carol"].address, p["dave"].address]
    receipt = p.send(p.registrar, reg.functions.removeWallets(batch))
    assert [to_checksum_address(e["wallet"]) for e in events(reg, receipt, "WalletRemoved")] == \
        batch
    assert [reg.functions.recordOf(w).call() for w in batch] == [0, 0]


def test_raw_records_query(p: Platform, bond: Contract) -> None:
    """Bonds read both parties' records with a 64-byte call (two left-padded addresses, no
    selector), and a mint's recipient with a 32-byte one, that the registry answers in its
    fallback; anything else there is NotABond."""
    def word(address: str) -> bytes:
        return bytes.fromhex(address[2:]).rjust(32, b"\x00")

    query = {"to": p.registry.address, "data": word(p["a1"].address) + word(p["bob"].address)}
    out = p.chain.call(query)
    assert p.chain.call({"to": p.registry.address, "data": word(p["bob"].address)}) == \
        p.records["bob"].packed().to_bytes(32, "big")
    assert out == (p.records["a1"].packed().to_bytes(32, "big")
                   + p.records["bob"].packed().to_bytes(32, "big"))
    assert p.chain.call({"to": p.registry.address,
                         "data": word(p["outsider"].address) * 2}) == bytes(64)
    for data in (bytes(31), bytes(33), bytes(63), bytes(65), bytes(4), bytes(96)):
        expect_revert(lambda d=data: p.chain.call({"to": p.registry.address, "data": d}),
                      "NotABond")
    # a bond gives no such answer
    with pytest.raises(RevertError):
        p.chain.call({"to": bond.address, "data": query["data"]})
