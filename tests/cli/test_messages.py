"""Who signs and what failed, with numbers (issue 7, B6): the signer is named on standard error by
every command that signs; refusals carry their numbers in the bond's currency and time zone, the
same from the SDK's pre-check as from the CLI; an unknown bond code lists the recorded ones."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from munibond.bond import Bond, BondAccount
from munibond.exceptions import ContractRevert, TransferRestricted
from munibond.signers import Signer

from .conftest import ACCOUNTS, CODE, Issue, key_hex, one_error_line, signing_lines, wallet

HOLDER = ("--key-env", "HOLDER")


def as_holder(index: int) -> dict[str, str]:
    return {"HOLDER": key_hex(index)}


def test_the_signer_is_named_once_on_standard_error(fresh: Issue) -> None:
    result = fresh.run("pause", CODE)
    assert result.exit_code == 0, result.stderr
    assert signing_lines(result) == [
        f"signing as {wallet(0)} (development account 0 of the local chain (anvil); its key is "
        f"public, for local chains only)"]
    assert "signing as" not in result.stdout
    result = fresh.run("unpause", CODE, *HOLDER, env=as_holder(0))
    assert signing_lines(result) == [
        f"signing as {wallet(0)} (key from the environment variable HOLDER)"]
    # a command that only reads names nobody
    status = fresh.run("status", CODE)
    assert status.exit_code == 0 and signing_lines(status) == []


def test_locked_up_gives_the_end_of_the_lock_up_in_the_bond_s_zone(issue: Issue) -> None:
    # `check` during the lock-up, run by the session fixture before the clock moved
    result = issue.locked_check
    assert result.exit_code == 3, result.stderr
    assert result.stdout.splitlines()[0] == (
        "code 15 (LOCKED_UP): Transfers are locked up until the lock-up date: locked up until "
        "2027-01-15 09:00 JST")


def test_max_balance_says_how_much_still_fits(issue: Issue) -> None:
    result = issue.run("check", CODE, "--from", wallet(13), "--to", wallet(10), "9500000")
    assert result.exit_code == 3
    line = result.stdout.splitlines()[0]
    assert line == (
        "code 13 (MAX_BALANCE_EXCEEDED): Recipient would exceed the maximum holding: the "
        "recipient wallet holds 1,000,000 JPY of the maximum holding 10,000,000 JPY: at most "
        "9,000,000 JPY more fits, not 9,500,000 JPY")
    # the SDK's pre-check says the same, and raises it before sending
    bond = Bond(issue.chain, issue.bond_address())
    bond.time_zone = ZoneInfo("Asia/Tokyo")
    assert str(bond.check_transfer(wallet(13), wallet(10), "9500000")) == line
    before = issue.nonce(13)
    with pytest.raises(TransferRestricted) as info:
        bond.transfer(Signer.from_local_account(ACCOUNTS[13]), wallet(10), "9500000")
    assert info.value.code == 13 and "at most 9,000,000 JPY more fits" in str(info.value)
    assert issue.nonce(13) == before
    # and a transfer through the CLI, refused by the pre-check (exit code 3)
    refused = issue.run("transfer", CODE, "--to", wallet(10), "9500000", *HOLDER,
                        env=as_holder(13))
    assert refused.exit_code == 3
    assert "restriction code 13 (MAX_BALANCE_EXCEEDED): Recipient would exceed the maximum " \
           "holding: the recipient wallet holds 1,000,000 JPY of the maximum holding " \
           "10,000,000 JPY: at most 9,000,000 JPY more fits" in one_error_line(refused)


def test_amount_frozen_says_how_much_is_transferable(fresh: Issue) -> None:
    assert fresh.run("freeze", CODE, wallet(10), "--amount", "5000").exit_code == 0
    result = fresh.run("check", CODE, "--from", wallet(10), "--to", wallet(11), "999000")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == (
        "code 19 (AMOUNT_FROZEN): Amount exceeds the sender's unfrozen balance: the sender holds "
        "1,000,000 JPY, of which 5,000 JPY frozen: at most 995,000 JPY is transferable, not "
        "999,000 JPY")


def test_freeze_amount_invalid_is_in_jpy(fresh: Issue) -> None:
    before = fresh.nonce()
    result = fresh.run("freeze", CODE, wallet(10), "--amount", "2000000")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"FreezeAmountInvalid: cannot freeze 2,000,000 JPY of {wallet(10)}: its balance is " \
           f"1,000,000 JPY, of which 0 JPY is frozen already, so at most 1,000,000 JPY can be " \
           f"frozen" in line
    line = one_error_line(fresh.run("freeze", CODE, wallet(10), "--amount", "10", "--unfreeze"))
    assert f"FreezeAmountInvalid: cannot release 10 JPY of {wallet(10)}: only 0 JPY of it is " \
           f"frozen" in line
    assert fresh.nonce() == before
    bond = Bond(fresh.chain, fresh.bond_address())
    with pytest.raises(ContractRevert, match="at most 1,000,000 JPY can be frozen") as info:
        bond.freeze_amount(ACCOUNTS[0], wallet(10), "2000000")
    assert info.value.error == "FreezeAmountInvalid"


def test_an_unknown_bond_code_lists_the_recorded_ones(issue: Issue) -> None:
    line = one_error_line(issue.run("status", "KOBE-R-2026-02"))
    assert "no bond 'KOBE-R-2026-02'" in line and f"bonds recorded for local: {CODE}" in line
    line = one_error_line(issue.run("status", CODE.lower()))
    assert f"(did you mean {CODE}?)" in line


def test_freeze_amount_invalid_from_the_chain_is_in_jpy_too(
        fresh: Issue, monkeypatch: pytest.MonkeyPatch) -> None:
    """The balance changed after the SDK's check: the chain's FreezeAmountInvalid (raw units in
    its arguments) is told in the currency as well."""
    bond = Bond(fresh.chain, fresh.bond_address())
    real = bond.account(wallet(10))
    monkeypatch.setattr(Bond, "account", lambda self, who: BondAccount(
        real.wallet, real.balance * 3, real.frozen, False, real.balance_units * 3,
        real.frozen_units))
    before = fresh.nonce()
    with pytest.raises(ContractRevert) as info:
        bond.freeze_amount(ACCOUNTS[0], wallet(10), "2000000")
    assert info.value.error == "FreezeAmountInvalid"
    assert str(info.value) == (f"FreezeAmountInvalid: cannot freeze 2,000,000 JPY of "
                               f"{wallet(10)}: only 1,000,000 JPY can be")
    assert fresh.nonce() == before
