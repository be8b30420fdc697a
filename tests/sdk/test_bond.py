"""The bond client: amounts, pre-checks that agree with the chain, refusals before sending,
idempotent allotment, and the role holders' operations."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from munibond.codes import CodeError
from munibond.exceptions import (
    AmountError,
    ContractRevert,
    InvalidArgument,
    MissingRole,
    TransferRestricted,
)
from munibond.onchain import ZERO_ADDRESS

from .conftest import AFTER_LOCKUP, Env, create_variant

D = Decimal


def detect(env: Env, sender: str, to: str, units: int) -> int:
    return int(env.bond.contract.functions.detectTransferRestriction(sender, to, units).call())


# --- amounts ------------------------------------------------------------------------------------

def test_amounts_convert_exactly(env: Env) -> None:
    bond = env.bond
    assert bond.decimals == 0 and bond.trading_unit == D(1)
    assert bond.to_units("10000") == 10_000 == bond.to_units(D("10000.000"))
    assert bond.from_units(10_000) == D(10_000)
    for bad in ("0.5", D("1.5"), "-1", "1e-1"):
        with pytest.raises(AmountError, match="trading unit, 1 JPY"):
            bond.to_units(bad)
    with pytest.raises(AmountError, match="float"):
        bond.to_units(1.5)  # type: ignore[arg-type]


def test_amount_finer_than_the_trading_unit_sends_nothing(minted: Env) -> None:
    env = minted
    holder = env.signer(env.wallet(1001))
    nonces = (env.nonce(holder), env.nonce(env.deployer))
    with pytest.raises(AmountError):
        env.bond.transfer(holder, env.wallet(1002), "0.5")
    with pytest.raises(AmountError):
        env.bond.mint(env.deployer, env.wallet(1002), "10000.5")
    with pytest.raises(AmountError):
        env.bond.mint_many(env.deployer, [(env.wallet(1002), "1"), (env.wallet(1003), "0.1")])
    with pytest.raises(AmountError):
        env.bond.freeze_amount(env.deployer, env.wallet(1001), "0.5")
    assert (env.nonce(holder), env.nonce(env.deployer)) == nonces


def test_a_coarse_trading_unit_is_named(env: Env) -> None:
    bond = create_variant(env, code="code: KOBE-R-2026-01 => code: KOBE-T-1",
                          unit='trading_unit: "1"  => trading_unit: "10000"',
                          cap='max_holding_per_investor: "10000000" => '
                              'max_holding_per_investor: "10000000"')
    assert bond.trading_unit == D(10_000)
    assert bond.to_units("20000") == 20_000
    nonce = env.nonce(env.deployer)
    with pytest.raises(AmountError, match=r"not a multiple of 10000.*trading unit, 10000 JPY"):
        bond.mint(env.deployer, env.wallet(1001), "15000")
    assert env.nonce(env.deployer) == nonce


# --- reading ------------------------------------------------------------------------------------

def test_state_after_the_allotment(minted: Env) -> None:
    env, bond = minted, minted.bond
    assert bond.total_supply() == D(18_660_000)
    assert bond.holder_count() == 11
    assert bond.issued() and not bond.paused()
    for line in env.eligible:
        assert bond.balance_of(line.wallet) == line.amount
    account = bond.account(env.wallet(1001).lower())
    assert account.wallet == env.wallet(1001)
    assert (account.balance, account.frozen, account.wallet_frozen) == (D(1_000_000), D(0), False)
    assert account.free == D(1_000_000) and account.balance_units == 1_000_000
    assert bond.investor_balance(1005) == D(0)  # the example caps per wallet: no totals kept
    assert bond.registry.address == env.addresses.registry
    with pytest.raises(CodeError, match="wallet"):
        bond.balance_of("0xnot-an-address")


# --- pre-checks ---------------------------------------------------------------------------------

def test_check_mint_explains_the_refused_allotment_lines(env: Env) -> None:
    expected = {1010: 12, 1011: 11, 1012: 7, 1013: 10, 1014: 13}
    bond = env.bond
    refused = env.allotments[11:]
    codes = [bond.check_mint(line.wallet, line.amount).code for line in refused]
    ids = {i.wallet: i.investor_id for i in env.investors}
    assert codes == [expected.get(ids.get(line.wallet, 0), 5) for line in refused]
    assert codes == [12, 11, 7, 10, 13, 5]
    for line in refused:
        units = bond.to_units(line.amount)
        assert bond.check_mint(line.wallet, line.amount).code == detect(env, ZERO_ADDRESS,
                                                                        line.wallet, units)
    results = bond.check_mint_many([(a.wallet, a.amount) for a in env.allotments])
    assert [r.ok for r in results] == [True] * 11 + [False] * 6
    assert results[-1].message == "Recipient is not a registered investor"
    assert results[-1].hint


def test_check_transfer_matches_the_chain_and_transfers_refuse_before_sending(
        env: Env) -> None:
    env.mint_eligible()
    bond = env.bond
    alice = env.signer(env.wallet(1001))      # holds 1,000,000
    bob = env.wallet(1002)
    if env.chain.now() < AFTER_LOCKUP:
        assert bond.check_transfer(alice.address, bob, "1000").code == 15  # locked up
    env.after_lockup()
    cases = [
        (bob, "1000", 0),
        (bob, "2000000", 20),                                   # more than the balance
        (env.wallet(1004), "1000", 13),                         # 1004 holds the cap
        (env.wallet(1010), "1000", 12),                         # Osaka
        (env.wallet(1011), "1000", 11),                         # US
        (env.wallet(1012), "1000", 7),                          # KYC expired
        (env.wallet(1013), "1000", 10),                         # qualified institutional
        (env.accounts[28].address, "1000", 5),                  # not registered
        (env.bond.address, "1000", 21),                         # the bond itself
    ]
    for to, amount, code in cases:
        found = bond.check_transfer(alice.address, to, amount)
        assert found.code == code, (to, amount, found)
        assert found.code == detect(env, alice.address, to, bond.to_units(amount))
        assert found.ok == (code == 0)
        if code:
            nonce = env.nonce(alice)
            with pytest.raises(TransferRestricted) as caught:
                bond.transfer(alice, to, amount)
            assert caught.value.code == code
            assert caught.value.reason == found.message
            assert caught.value.detail == found.detail  # the same numbers as the pre-check
            assert caught.value.error_args == {"from": alice.address, "to": to,
                                               "value": bond.to_units(amount)}
            assert env.nonce(alice) == nonce
    with pytest.raises(CodeError, match="recipient: the zero address"):
        bond.transfer(alice, ZERO_ADDRESS, "1000")
    receipt = bond.transfer(alice, bob.lower(), "1000")
    assert receipt["status"] == 1
    assert bond.balance_of(alice.address) == D(999_000)
    assert bond.balance_of(bob) == D(501_000)


def test_transfer_many(minted: Env) -> None:
    env, bond = minted, minted.bond
    alice = env.signer(env.wallet(1001))
    lines = [(env.wallet(1002), "100"), (env.wallet(1003), "200"), (env.wallet(1006), "300")]
    calls: list[tuple[int, int]] = []
    receipts = bond.transfer_many(alice, lines, chunk_size=2,
                                  progress=lambda d, t: calls.append((d, t)))
    assert len(receipts) == 2 and calls == [(2, 3), (3, 3)]
    assert bond.balance_of(alice.address) == D(1_000_000 - 600)
    nonce = env.nonce(alice)
    with pytest.raises(TransferRestricted) as caught:
        bond.transfer_many(alice, [(env.wallet(1002), "1"), (env.wallet(1010), "1")])
    assert caught.value.code == 12
    assert env.nonce(alice) == nonce


# --- minting ------------------------------------------------------------------------------------

def test_mint_many_is_idempotent_after_a_crash(env: Env) -> None:
    bond = env.bond
    lines = [(a.wallet, a.amount) for a in env.eligible]
    # the first run "crashes" after five lines
    assert len(bond.mint_many(env.deployer, lines[:5], chunk_size=3)) == 2
    nonce = env.nonce(env.deployer)
    calls: list[tuple[int, int]] = []
    receipts = bond.mint_many(env.deployer, lines, chunk_size=3,
                              progress=lambda d, t: calls.append((d, t)))
    assert len(receipts) == 2 and calls == [(3, 6), (6, 6)]
    assert env.nonce(env.deployer) == nonce + 2
    for wallet, amount in lines:
        assert bond.balance_of(wallet) == amount
    assert bond.total_supply() == sum(a for _, a in lines) == D(18_660_000)
    # a finished allotment sends nothing
    assert bond.mint_many(env.deployer, lines) == []
    assert env.nonce(env.deployer) == nonce + 2


def test_mint_many_top_up_mints_only_the_difference(env: Env) -> None:
    bond = env.bond
    wallet = env.wallet(1001)
    bond.mint(env.deployer, wallet, "400000")
    bond.mint_many(env.deployer, [(wallet, "1000000")])
    assert bond.balance_of(wallet) == D(1_000_000)


def test_mint_many_other_policies(env: Env) -> None:
    bond = env.bond
    a, b = env.wallet(1001), env.wallet(1002)
    bond.mint(env.deployer, a, "10000")
    bond.mint_many(env.deployer, [(a, "50000"), (b, "50000")], already_minted="skip_holders")
    assert (bond.balance_of(a), bond.balance_of(b)) == (D(10_000), D(50_000))
    bond.mint_many(env.deployer, [(a, "50000")], already_minted="none")
    assert bond.balance_of(a) == D(60_000)
    with pytest.raises(InvalidArgument, match="already_minted"):
        bond.mint_many(env.deployer, [(a, "1")], already_minted="maybe")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="listed twice"):
        bond.mint_many(env.deployer, [(a, "1"), (a.lower(), "2")])


def test_mint_many_with_a_refused_line_sends_nothing(env: Env) -> None:
    nonce = env.nonce(env.deployer)
    with pytest.raises(TransferRestricted) as caught:
        env.bond.mint_many(env.deployer, [(a.wallet, a.amount) for a in env.allotments])
    assert caught.value.code == 12          # the first refused line: a resident of Osaka
    assert caught.value.error_args["to"] == env.allotments[11].wallet
    assert env.nonce(env.deployer) == nonce
    assert env.bond.total_supply() == 0


def test_batch_effects_are_caught_by_the_chain_pre_check(env: Env) -> None:
    """Two wallets of one investor, each under the per-investor cap alone but not together: the
    per-line check passes, the chain's pre-check of the whole batch refuses, nothing is sent."""
    bond = create_variant(env, code="code: KOBE-R-2026-01 => code: KOBE-PI-1",
                          aggregate="aggregate_wallets: false => aggregate_wallets: true")
    first, second = env.wallet(1005, 0), env.wallet(1005, 1)
    nonce = env.nonce(env.deployer)
    with pytest.raises(TransferRestricted) as caught:
        bond.mint_many(env.deployer, [(first, "6000000"), (second, "6000000")])
    assert caught.value.code == 13
    assert env.nonce(env.deployer) == nonce


def test_missing_role_is_raised_before_sending(minted: Env) -> None:
    env, bond = minted, minted.bond
    stranger = env.stranger
    wallet = env.wallet(1001)
    nonce = env.nonce(stranger)
    attempts: dict[str, list[Callable[[], object]]] = {
        "ISSUER_ROLE": [lambda: bond.mint(stranger, wallet, "10000"),
                        lambda: bond.mint_many(stranger, [(wallet, "2000000")]),
                        lambda: bond.set_document(stranger, "x", "https://x", b"\0" * 32)],
        "PAUSER_ROLE": [lambda: bond.pause(stranger)],
        "TRANSFER_AGENT_ROLE": [
            lambda: bond.freeze_wallet(stranger, wallet),
            lambda: bond.freeze_amount(stranger, wallet, "1"),
            lambda: bond.forced_transfer(stranger, wallet, env.wallet(1002), "1", "court order"),
            lambda: bond.recover_wallet(stranger, env.wallet(1005, 0), env.wallet(1005, 1),
                                        "lost key")],
        "DEFAULT_ADMIN_ROLE": [lambda: bond.grant_role(stranger, "issuer", stranger.address)],
    }
    for role, calls in attempts.items():
        for attempt in calls:
            with pytest.raises(MissingRole) as caught:
                attempt()
            assert caught.value.role == role
            assert caught.value.account == stranger.address
    assert env.nonce(stranger) == nonce


# --- pauser and transfer agent ------------------------------------------------------------------

def test_pause_and_unpause(minted: Env) -> None:
    env, bond = minted, minted.bond
    alice = env.wallet(1001)
    bond.pause(env.deployer)
    assert bond.paused()
    assert bond.check_transfer(alice, env.wallet(1002), "1").code == 1
    nonce = env.nonce(env.deployer)
    with pytest.raises(ContractRevert, match="AlreadyInState"):
        bond.pause(env.deployer)
    assert env.nonce(env.deployer) == nonce
    bond.unpause(env.deployer)
    assert not bond.paused()
    assert bond.check_transfer(alice, env.wallet(1002), "1").ok


def test_freezes(minted: Env) -> None:
    env, bond = minted, minted.bond
    wallet = env.wallet(1002)                    # holds 500,000
    holder = env.signer(wallet)
    nonce = env.nonce(env.deployer)
    with pytest.raises(ContractRevert) as caught:
        bond.freeze_amount(env.deployer, wallet, "500001")
    assert caught.value.error == "FreezeAmountInvalid"
    assert caught.value.error_args == {"wallet": wallet, "requested": 500001,
                                       "available": 500000}
    assert str(caught.value) == (  # amounts in the currency, not base units
        f"FreezeAmountInvalid: cannot freeze 500,001 JPY of {wallet}: its balance is 500,000 "
        f"JPY, of which 0 JPY is frozen already, so at most 500,000 JPY can be frozen")
    with pytest.raises(ContractRevert, match="FreezeAmountInvalid"):
        bond.unfreeze_amount(env.deployer, wallet, "1")
    assert env.nonce(env.deployer) == nonce

    bond.freeze_amount(env.deployer, wallet, "300000")
    account = bond.account(wallet)
    assert (account.frozen, account.free) == (D(300_000), D(200_000))
    assert bond.check_transfer(wallet, env.wallet(1003), "200001").code == 19
    assert bond.check_transfer(wallet, env.wallet(1003), "200000").ok
    bond.unfreeze_amount(env.deployer, wallet, "300000")
    assert bond.account(wallet).frozen == 0

    bond.freeze_wallet(env.deployer, wallet)
    assert bond.account(wallet).wallet_frozen
    with pytest.raises(TransferRestricted) as refused:
        bond.transfer(holder, env.wallet(1003), "1")
    assert refused.value.code == 17
    assert bond.check_transfer(env.wallet(1001), wallet, "1").code == 18
    with pytest.raises(ContractRevert, match="AlreadyInState"):
        bond.freeze_wallet(env.deployer, wallet)
    bond.unfreeze_wallet(env.deployer, wallet)
    assert not bond.account(wallet).wallet_frozen


def test_forced_transfer(minted: Env) -> None:
    env, bond = minted, minted.bond
    source, target = env.wallet(1002), env.wallet(1003)
    nonce = env.nonce(env.deployer)
    with pytest.raises(ContractRevert, match="ReasonRequired"):
        bond.forced_transfer(env.deployer, source, target, "1000", "  ")
    # the recipient must still be eligible: the chain's pre-check refuses, nothing is sent
    with pytest.raises(TransferRestricted) as caught:
        bond.forced_transfer(env.deployer, source, env.wallet(1010), "1000", "court order 12")
    assert caught.value.code == 12
    assert env.nonce(env.deployer) == nonce
    bond.freeze_wallet(env.deployer, source)
    bond.forced_transfer(env.deployer, source, target, "1000", "court order 12")
    assert bond.balance_of(source) == D(499_000)
    assert bond.balance_of(target) == D(201_000)


def test_recover_wallet(minted: Env) -> None:
    env, bond = minted, minted.bond
    lost, new = env.wallet(1005, 0), env.wallet(1005, 1)
    nonce = env.nonce(env.deployer)
    with pytest.raises(ContractRevert) as caught:
        bond.recover_wallet(env.deployer, lost, env.wallet(1001), "lost key")
    assert caught.value.error == "NotSameInvestor"
    assert lost in str(caught.value) and env.wallet(1001) in str(caught.value)
    with pytest.raises(ContractRevert, match="NotSameInvestor"):
        bond.recover_wallet(env.deployer, env.accounts[28].address, new, "lost key")
    with pytest.raises(ContractRevert, match="ReasonRequired"):
        bond.recover_wallet(env.deployer, lost, new, "")
    assert env.nonce(env.deployer) == nonce
    bond.recover_wallet(env.deployer, lost, new, "lost key, ticket 42")
    assert bond.balance_of(lost) == 0
    assert bond.balance_of(new) == D(300_000)


# --- documents and roles ------------------------------------------------------------------------

def test_documents(env: Env) -> None:
    bond = env.bond
    assert bond.documents() == []
    for document in env.term_sheet.documents:
        bond.set_document(env.deployer, document.name, document.uri, document.hash_bytes)
    found = bond.documents()
    assert [(d.name, d.uri, d.sha256) for d in found] == [
        (d.name, d.uri, d.hash_bytes) for d in env.term_sheet.documents]
    assert found[0].sha256_hex == env.term_sheet.documents[0].sha256
    assert found[0].last_modified.timestamp() <= env.chain.now()
    assert bond.document("offering_circular") == found[0]
    assert bond.document("nothing") is None
    nonce = env.nonce(env.deployer)
    with pytest.raises(InvalidArgument, match="32 bytes"):
        bond.set_document(env.deployer, "x" * 33, "https://x", b"\0" * 32)
    with pytest.raises(InvalidArgument, match="SHA-256"):
        bond.set_document(env.deployer, "x", "https://x", "abc")
    with pytest.raises(ContractRevert, match="InvalidDocument"):
        bond.set_document(env.deployer, "x", "", b"\0" * 32)
    with pytest.raises(ContractRevert, match='DocumentNotFound: name "nothing"'):
        bond.remove_document(env.deployer, "nothing")
    assert env.nonce(env.deployer) == nonce
    bond.remove_document(env.deployer, "offering_circular")
    assert [d.name for d in bond.documents()] == ["terms_and_conditions"]


def test_grant_role_and_has_role(env: Env) -> None:
    bond = env.bond
    helper = env.accounts[4]
    assert bond.has_role("issuer", env.deployer.address)
    assert not bond.has_role("ISSUER_ROLE", helper.address)
    bond.grant_role(env.deployer, "issuer", helper.address.lower())
    assert bond.has_role("issuer", helper.address)
    bond.mint(helper, env.wallet(1001), "10000")
    assert bond.balance_of(env.wallet(1001)) == D(10_000)
    bond.revoke_role(env.deployer, "issuer", helper.address)
    with pytest.raises(MissingRole):
        bond.mint(helper, env.wallet(1001), "10000")


def test_publish_documents_puts_the_term_sheet_documents_on_chain_once(env: Env) -> None:
    from munibond.deploy import publish_documents

    stranger = publish_documents(env.bond, env.stranger, env.term_sheet)
    assert stranger.published == () and set(stranger.not_issuer) == {
        d.name for d in env.term_sheet.documents}
    first = publish_documents(env.bond, env.deployer, env.term_sheet)
    assert set(first.published) == {d.name for d in env.term_sheet.documents}
    for document in env.term_sheet.documents:
        on_chain = env.bond.document(document.name)
        assert on_chain is not None and on_chain.uri == document.uri
        assert on_chain.sha256 == document.hash_bytes
    nonce = env.nonce(env.deployer)
    again = publish_documents(env.bond, env.deployer, env.term_sheet)
    assert again.published == () and set(again.unchanged) == set(first.published)
    assert env.nonce(env.deployer) == nonce


def test_admin_hand_over_in_two_steps(env: Env) -> None:
    """Issue 7 A.8 through the SDK: the admin role of a bond, the registry and the factory is
    never granted; it is handed over, accepted after the delay, and checked before sending."""
    new = env.accounts[8]
    for client in (env.bond, env.platform.registry, env.platform.factory):
        with pytest.raises(InvalidArgument, match="two-step hand-over"):
            client.grant_role(env.deployer, "DEFAULT_ADMIN_ROLE", new.address)
        before = env.nonce(new)
        with pytest.raises(MissingRole):
            client.begin_admin_transfer(new, env.stranger.address)
        client.begin_admin_transfer(env.deployer, new.address)
        handover = client.admin_handover()
        assert handover.pending == new.address and handover.delay == 3 * 86_400
        assert handover.accept_after is not None
        # too early: refused before anything is sent
        with pytest.raises(ContractRevert, match="AdminHandoverNotAcceptable"):
            client.accept_admin_transfer(new)
        assert env.nonce(new) == before
        env.chain.set_next_timestamp(handover.accept_after + 1)
        env.chain.mine()
        client.accept_admin_transfer(new)
        assert client.has_role("DEFAULT_ADMIN_ROLE", new.address)
        assert not client.has_role("DEFAULT_ADMIN_ROLE", env.deployer.address)
        assert client.admin_handover().pending is None
