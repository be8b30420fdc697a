"""Revert data -> typed exceptions; restriction messages equal the contract's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from eth_abi.abi import encode
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak

from munibond.contracts import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    abi_signature,
    canonical_type,
    error_abis,
    role_hash,
    role_name,
)
from munibond.errors import (
    ERROR_STRING_SELECTOR,
    PANIC_SELECTOR,
    call,
    contract_error,
    decode_revert,
    decoded_reverts,
    transact,
)
from munibond.exceptions import (
    ContractRevert,
    MissingRole,
    RevertError,
    TransactionReverted,
    TransferRestricted,
)
from munibond.restrictions import MAX_CODE, RESTRICTIONS, UNKNOWN_MESSAGE, restriction

from .conftest import Env

ROOT = Path(__file__).resolve().parents[2]
ALICE = "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
BOB = "0x71bE63f3384f5fb98995898A86B02Fb2426c5788"


def error_data(signature: str, *values: Any) -> bytes:
    _, _, rest = signature.partition("(")
    types = [t for t in rest[:-1].split(",") if t]
    return keccak(text=signature)[:4] + encode(types, list(values))


# --- the restriction table ----------------------------------------------------------------------

def test_restriction_table_matches_the_solidity_library() -> None:
    source = (ROOT / "contracts/token/RestrictionCodes.sol").read_text()
    constants = dict(re.findall(r"uint8 internal constant (\w+) = (\d+);", source))
    declared = {int(v): k for k, v in constants.items() if k != "MAX_CODE"}
    assert int(constants["MAX_CODE"]) == MAX_CODE
    assert {c: r.name for c, r in RESTRICTIONS.items()} == declared
    messages = re.findall(r"if \(code == (\w+)\) return \"([^\"]+)\";", source)
    assert {int(constants[name]): text for name, text in messages} == {
        c: r.message for c, r in RESTRICTIONS.items()}
    assert all(r.hint for r in RESTRICTIONS.values())


def test_restriction_messages_equal_the_on_chain_ones(env: Env) -> None:
    functions = env.bond.contract.functions
    for code in range(MAX_CODE + 3):
        assert restriction(code).message == functions.messageForTransferRestriction(code).call()
    assert restriction(MAX_CODE + 1).message == UNKNOWN_MESSAGE
    assert restriction(0).ok and not restriction(1).ok
    assert env.bond.message_for(13) == restriction(13).message


# --- decoding, kind by kind ---------------------------------------------------------------------

def test_transfer_restricted() -> None:
    data = error_data("TransferRestricted(uint8,address,address,uint256)", 13, ALICE, BOB, 5)
    error = decode_revert(data)
    assert isinstance(error, TransferRestricted)
    assert error.code == 13
    assert error.reason == "Recipient would exceed the maximum holding"
    assert error.error_args == {"from": ALICE, "to": BOB, "value": 5}
    assert error.data == data
    assert "code 13" in str(error) and error.reason in str(error)


def test_missing_role_names_the_role() -> None:
    data = error_data("AccessControlUnauthorizedAccount(address,bytes32)", ALICE, ISSUER_ROLE)
    error = decode_revert(data)
    assert isinstance(error, MissingRole)
    assert (error.role, error.account) == ("ISSUER_ROLE", ALICE)
    assert "ISSUER_ROLE" in str(error) and ALICE in str(error)
    admin = decode_revert(error_data("AccessControlUnauthorizedAccount(address,bytes32)",
                                     ALICE, DEFAULT_ADMIN_ROLE))
    assert isinstance(admin, MissingRole) and admin.role == "DEFAULT_ADMIN_ROLE"
    other = decode_revert(error_data("AccessControlUnauthorizedAccount(address,bytes32)",
                                     ALICE, b"\x07" * 32))
    assert isinstance(other, MissingRole) and other.role == "0x" + "07" * 32


def test_error_string() -> None:
    error = decode_revert(ERROR_STRING_SELECTOR + encode(["string"], ["nope"]))
    assert type(error) is ContractRevert
    assert error.error == "Error" and error.error_args == {"reason": "nope"}
    assert str(error) == "reverted: nope"


def test_panic() -> None:
    error = decode_revert(PANIC_SELECTOR + encode(["uint256"], [0x11]))
    assert isinstance(error, ContractRevert) and error.error == "Panic"
    assert error.error_args["code"] == 0x11
    assert "0x11" in str(error) and "arithmetic overflow or underflow" in str(error)
    unknown = decode_revert(PANIC_SELECTOR + encode(["uint256"], [0x99]))
    assert "unknown panic code" in str(unknown)


def test_custom_error_in_words() -> None:
    error = decode_revert(error_data("FreezeAmountInvalid(address,uint256,uint256)",
                                     ALICE, 5, 3))
    assert type(error) is ContractRevert
    assert error.error == "FreezeAmountInvalid"
    assert error.error_args == {"wallet": ALICE, "requested": 5, "available": 3}
    assert str(error) == (f"FreezeAmountInvalid: wallet {ALICE} requested 5 available 3 "
                          f"(Freezing more than the balance, or releasing more than is frozen)")


def test_custom_errors_with_strings_and_bytes32() -> None:
    taken = decode_revert(error_data("BondCodeTaken(string,address)", "KOBE-1", ALICE))
    assert taken.error == "BondCodeTaken"  # type: ignore[attr-defined]
    assert 'code "KOBE-1"' in str(taken) and ALICE in str(taken)
    missing = decode_revert(error_data("DocumentNotFound(bytes32)",
                                       b"prospectus".ljust(32, b"\0")))
    assert str(missing).startswith('DocumentNotFound: name "prospectus"')
    rules = decode_revert(error_data("InvalidRules(string)", "countryMode must be 0, 1 or 2"))
    assert 'reason "countryMode must be 0, 1 or 2"' in str(rules)
    holder = decode_revert(error_data("InvalidRoleHolder(bytes32)", ISSUER_ROLE))
    assert "role ISSUER_ROLE" in str(holder)


def test_custom_error_without_arguments_says_what_it_means() -> None:
    error = decode_revert(error_data("ReasonRequired()"))
    assert str(error) == "ReasonRequired: A forced transfer or recovery needs a reason"
    assert decode_revert(error_data("NotABond()")).error == "NotABond"  # type: ignore[attr-defined]


def _sample(kind: str) -> Any:
    if kind == "address":
        return ALICE
    if kind == "string":
        return "text"
    if kind == "bool":
        return True
    if kind.startswith("bytes") and kind != "bytes":
        return b"\x01" * int(kind[5:])
    if kind == "bytes":
        return b"\x01\x02"
    return 7


@pytest.mark.parametrize("entry", list(error_abis().values()), ids=abi_signature)
def test_every_declared_error_decodes(entry: Any) -> None:
    types = [canonical_type(p) for p in entry["inputs"]]
    data = keccak(text=abi_signature(entry))[:4] + encode(types, [_sample(t) for t in types])
    error = decode_revert(data)
    assert isinstance(error, ContractRevert)
    assert error.error == entry["name"]
    assert error.data == data
    if not isinstance(error, TransferRestricted | MissingRole):
        assert str(error).startswith(entry["name"])
        assert set(error.error_args) == {p["name"] for p in entry["inputs"]}


def test_errors_are_collected_from_every_artifact() -> None:
    names = {entry["name"] for entry in error_abis().values()}
    for expected in ("TransferRestricted", "InvalidTerms", "InvalidRules", "FreezeAmountInvalid",
                     "NotSameInvestor", "ReasonRequired", "AlreadyInState", "LengthMismatch",
                     "NotABond", "NotTheRegistry", "WalletNotRegistered", "InvalidInvestorId",
                     "BondCodeTaken", "DocumentNotFound", "TermsFixedAfterIssue",
                     "AccessControlUnauthorizedAccount", "ERC20InsufficientAllowance",
                     "InvalidInitialization", "AccountBlocked", "OwnableUnauthorizedAccount"):
        assert expected in names


def test_unknown_and_malformed_data_show_the_hex() -> None:
    unknown = decode_revert(bytes.fromhex("deadbeef") + b"\x00" * 32)
    assert type(unknown) is ContractRevert and unknown.error is None
    assert "0xdeadbeef" in str(unknown)
    short = decode_revert(b"\x01\x02")
    assert "0x0102" in str(short)
    # a known selector with truncated arguments cannot be decoded: shown raw, not a crash
    truncated = keccak(text="FreezeAmountInvalid(address,uint256,uint256)")[:4] + b"\x00" * 8
    error = decode_revert(truncated)
    assert error.error is None and "0x" + truncated.hex() in str(error)  # type: ignore[attr-defined]


def test_no_data_keeps_the_original_message() -> None:
    assert "without a reason" in str(decode_revert(b""))
    original = RevertError("transaction 0xab ran out of gas", data=b"")
    assert str(decode_revert(b"", original=original)) == "transaction 0xab ran out of gas"


def test_contract_error_reads_like_the_decoded_one() -> None:
    made = contract_error("FreezeAmountInvalid", ALICE, 5, 3)
    decoded = decode_revert(error_data("FreezeAmountInvalid(address,uint256,uint256)",
                                       ALICE, 5, 3))
    assert str(made) == str(decoded)
    with pytest.raises(KeyError):
        contract_error("NoSuchError")


def test_roles_table() -> None:
    assert role_hash("issuer") == role_hash("ISSUER_ROLE") == keccak(text="ISSUER_ROLE")
    assert role_hash("transfer-agent") == keccak(text="TRANSFER_AGENT_ROLE")
    assert role_hash("admin") == bytes(32)
    assert role_name(keccak(text="REGISTRAR_ROLE")) == "REGISTRAR_ROLE"
    assert role_name("0x" + "00" * 32) == "DEFAULT_ADMIN_ROLE"
    with pytest.raises(ValueError, match="unknown role"):
        role_hash("mayor")


# --- on a real chain ---------------------------------------------------------------------------

def test_decoded_reverts_keeps_the_original_as_cause(env: Env) -> None:
    with pytest.raises(TransferRestricted) as caught, decoded_reverts():
        raise RevertError("x", data=error_data(
            "TransferRestricted(uint8,address,address,uint256)", 5, ALICE, BOB, 1))
    assert isinstance(caught.value.__cause__, RevertError)


def test_pre_check_revert_is_decoded(env: Env) -> None:
    bond = env.bond.contract
    unregistered = env.accounts[28].address
    nonce = env.nonce(env.deployer)
    with pytest.raises(TransferRestricted) as caught:
        transact(env.chain, env.deployer, bond.functions.mint(unregistered, 10_000))
    assert caught.value.code == 5
    assert caught.value.error_args == {"from": "0x" + "00" * 20, "to": unregistered,
                                       "value": 10_000}
    assert isinstance(caught.value.__cause__, RevertError)
    assert env.nonce(env.deployer) == nonce


def test_mined_revert_is_decoded(env: Env) -> None:
    """A transaction sent without the pre-check fails in a block: the receipt's revert data is
    decoded the same way, and the original (with the transaction hash) is the cause."""
    bond = env.bond.contract
    with pytest.raises(MissingRole) as caught:
        transact(env.chain, env.stranger, bond.functions.pause(), gas=200_000, precheck=False)
    assert caught.value.role == "PAUSER_ROLE" and caught.value.account == env.stranger.address
    cause = caught.value.__cause__
    assert isinstance(cause, TransactionReverted) and cause.tx_hash
    # the decoded error carries the transaction too
    assert caught.value.tx_hash == cause.tx_hash and caught.value.receipt["status"] == 0


def test_calls_on_the_wrong_contract_are_decoded(env: Env) -> None:
    registry_as_bond = env.chain.w3.eth.contract(
        address=cast(ChecksumAddress, env.addresses.registry), abi=env.bond.contract.abi)
    with pytest.raises(ContractRevert, match="NotABond"):
        call(env.chain, registry_as_bond.functions.rules())
    with pytest.raises(ContractRevert, match="NotTheRegistry"):
        call(env.chain, env.bond.contract.functions.isVerified(ALICE))
