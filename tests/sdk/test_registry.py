"""The investor registry client."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from munibond.codes import CodeError
from munibond.exceptions import ContractRevert, InvalidArgument, MissingRole
from munibond.investor_files import Investor
from munibond.registry import InvestorRecord

from .conftest import Env

KYC_END = datetime(2032, 4, 1, tzinfo=UTC)


def record(investor_id: int, **changes: object) -> InvestorRecord:
    base = InvestorRecord(investor_id=investor_id, country=392, investor_class=1, tax_category=1,
                          region=281107, kyc_valid_until=KYC_END)
    return base.with_changes(**changes) if changes else base


def fresh_wallets(n: int, tag: str = "w") -> list[str]:
    return [to_checksum_address(keccak(text=f"{tag}{i}")[-20:]) for i in range(n)]


# --- records ------------------------------------------------------------------------------------

def test_from_csv_uses_the_exclusive_end_of_kyc() -> None:
    investor = Investor(wallet="0xBcd4042DE499D14e55001CcbB24a551F3b954096", investor_id=1001,
                        name="Yamada Taro", country=392, investor_class=1, tax_category=1,
                        region=281107, kyc_valid_until=date(2031, 12, 31), line=2)
    converted = InvestorRecord.from_csv(investor)
    assert converted == InvestorRecord(1001, 392, 1, 1, 281107, datetime(2032, 1, 1, tzinfo=UTC))
    assert converted.kyc_timestamp == investor.kyc_expiry
    assert converted.suspended is False
    assert converted.to_tuple() == (1001, 392, 1, 1, 281107, investor.kyc_expiry, 0)


def test_records_validate_and_normalise() -> None:
    jst = timezone(timedelta(hours=9))
    assert record(1, kyc_valid_until=datetime(2032, 4, 1, 9, tzinfo=jst)) == record(1)
    with pytest.raises(InvalidArgument, match="investor_id"):
        record(0)
    with pytest.raises(InvalidArgument, match="country"):
        record(1, country=70_000)
    with pytest.raises(InvalidArgument, match="time zone"):
        record(1, kyc_valid_until=datetime(2032, 4, 1))
    with pytest.raises(InvalidArgument, match="suspended"):
        record(1, suspended=1)


def test_packed_matches_the_contract(env: Env) -> None:
    wanted = record(77, suspended=True, region=11002)
    functions = env.platform.registry.contract.functions
    assert InvestorRecord.from_tuple(functions.unpack(wanted.packed()).call()) == wanted


# --- reading ------------------------------------------------------------------------------------

def test_session_investors_are_registered_as_in_the_csv(env: Env) -> None:
    registry = env.platform.registry
    for investor in env.investors:
        assert registry.investor(investor.wallet) == InvestorRecord.from_csv(investor)
        assert registry.record_of(investor.wallet) == InvestorRecord.from_csv(investor).packed()
    assert registry.investor(env.accounts[28].address) is None
    assert registry.is_verified(env.wallet(1001))
    assert not registry.is_verified(env.wallet(1012))  # KYC ended 2025-09-30
    assert not registry.is_verified(env.accounts[28].address)


def test_addresses_in_any_case_and_clear_errors_for_malformed_ones(env: Env) -> None:
    registry = env.platform.registry
    wallet = env.wallet(1001)
    assert registry.investor(wallet.lower()) == registry.investor(wallet)
    with pytest.raises(CodeError, match="wallet: '0x1234' is not an address"):
        registry.investor("0x1234")
    mixed = wallet[:2] + wallet[2:].swapcase()
    with pytest.raises(CodeError, match="checksum"):
        registry.investor(mixed)


# --- registering --------------------------------------------------------------------------------

def test_register_and_update(env: Env) -> None:
    registry = env.platform.registry
    wallet = fresh_wallets(1)[0]
    registry.register(env.registrar, wallet, record(500))
    assert registry.investor(wallet) == record(500)
    assert registry.is_verified(wallet)
    registry.register(env.registrar, wallet, record(500, region=282014))
    assert registry.investor(wallet) == record(500, region=282014)


def test_register_many_is_idempotent_after_a_crash(env: Env) -> None:
    registry = env.platform.registry
    wallets = fresh_wallets(7)
    items = [(w, record(600 + i)) for i, w in enumerate(wallets)]
    # the first run "crashes" after the first half
    first = registry.register_many(env.registrar, items[:3], chunk_size=2)
    assert len(first) == 2
    calls: list[tuple[int, int]] = []
    nonce = env.nonce(env.registrar)
    again = registry.register_many(env.registrar, items, chunk_size=2,
                                   progress=lambda done, total: calls.append((done, total)))
    assert len(again) == 2                              # 4 missing wallets, 2 per transaction
    assert env.nonce(env.registrar) == nonce + 2
    assert calls == [(2, 4), (4, 4)]
    for wallet, wanted in items:
        assert registry.investor(wallet) == wanted
    # a finished batch sends nothing
    assert registry.register_many(env.registrar, items) == []
    assert env.nonce(env.registrar) == nonce + 2
    # a changed record is the only one sent
    changed = [*items[:-1], (items[-1][0], record(606, suspended=True))]
    assert len(registry.register_many(env.registrar, changed)) == 1
    assert registry.investor(items[-1][0]) == record(606, suspended=True)


def test_register_many_refuses_conflicting_duplicates(env: Env) -> None:
    wallet = fresh_wallets(1)[0]
    registry = env.platform.registry
    with pytest.raises(InvalidArgument, match="listed twice"):
        registry.register_many(env.registrar, [(wallet, record(1)), (wallet.lower(), record(2))])
    with pytest.raises(InvalidArgument, match="chunk_size"):
        registry.register_many(env.registrar, [(wallet, record(1))], chunk_size=0)
    # the same record twice is one registration
    assert len(registry.register_many(env.registrar,
                                      [(wallet, record(1)), (wallet.lower(), record(1))])) == 1


def test_a_stranger_is_refused_before_sending(env: Env) -> None:
    registry = env.platform.registry
    wallet = fresh_wallets(1)[0]
    nonce = env.nonce(env.stranger)
    with pytest.raises(MissingRole) as caught:
        registry.register(env.stranger, wallet, record(1))
    assert caught.value.role == "REGISTRAR_ROLE"
    assert caught.value.account == env.stranger.address
    for attempt in (lambda: registry.register_many(env.stranger, [(wallet, record(1))]),
                    lambda: registry.set_suspended(env.stranger, env.wallet(1001)),
                    lambda: registry.remove(env.stranger, env.wallet(1001)),
                    lambda: registry.grant_registrar(env.stranger, env.stranger.address)):
        with pytest.raises(MissingRole):
            attempt()
    assert env.nonce(env.stranger) == nonce
    assert registry.investor(wallet) is None


def test_suspend_kyc_and_remove(env: Env) -> None:
    registry = env.platform.registry
    wallet = env.wallet(1002)
    registry.set_suspended(env.registrar, wallet)
    current = registry.investor(wallet)
    assert current is not None and current.suspended
    assert not registry.is_verified(wallet)
    registry.set_suspended(env.registrar, wallet, False)
    assert registry.is_verified(wallet)

    past = datetime.fromtimestamp(env.chain.now(), UTC) - timedelta(days=1)
    registry.set_kyc_valid_until(env.registrar, wallet, past)
    current = registry.investor(wallet)
    assert current is not None and current.kyc_valid_until == past.replace(microsecond=0)
    assert not registry.is_verified(wallet)
    registry.set_kyc_valid_until(env.registrar, wallet, KYC_END)
    assert registry.is_verified(wallet)

    registry.remove(env.registrar, wallet)
    assert registry.investor(wallet) is None
    nonce = env.nonce(env.registrar)
    with pytest.raises(ContractRevert, match=f"WalletNotRegistered: wallet {wallet}"):
        registry.remove(env.registrar, wallet)
    with pytest.raises(ContractRevert, match="WalletNotRegistered"):
        registry.set_suspended(env.registrar, wallet)
    assert env.nonce(env.registrar) == nonce


def test_remove_many_skips_what_is_gone(env: Env) -> None:
    registry = env.platform.registry
    wallets = [env.wallet(1001), env.wallet(1002), env.wallet(1003)]
    assert len(registry.remove_many(env.registrar, wallets[:1])) == 1
    assert len(registry.remove_many(env.registrar, wallets, chunk_size=5)) == 1
    assert all(registry.investor(w) is None for w in wallets)
    assert registry.remove_many(env.registrar, wallets) == []


def test_grant_registrar(env: Env) -> None:
    registry = env.platform.registry
    helper = env.accounts[5]
    assert not registry.has_role("registrar", helper.address)
    registry.grant_registrar(env.deployer, helper.address)
    assert registry.has_role("REGISTRAR_ROLE", helper.address)
    wallet = fresh_wallets(1)[0]
    registry.register(helper, wallet, record(9))
    assert registry.investor(wallet) == record(9)
    # the registrar is not the admin: granting needs DEFAULT_ADMIN_ROLE
    with pytest.raises(MissingRole) as caught:
        registry.grant_registrar(env.registrar, env.stranger.address)
    assert caught.value.role == "DEFAULT_ADMIN_ROLE"
