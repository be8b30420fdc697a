"""Revert data -> typed exceptions with the reason in words.

:func:`decode_revert` turns the raw bytes a reverted call returns into:

* :class:`~munibond.exceptions.TransferRestricted` for ``TransferRestricted(code, from, to,
  value)``: ``.code``, ``.reason`` (the contract's message for the code), and ``from``/``to``/
  ``value`` in ``.error_args``; the hint for people is ``munibond.restrictions.restriction(code)
  .hint``;
* :class:`~munibond.exceptions.MissingRole` for OpenZeppelin's
  ``AccessControlUnauthorizedAccount(account, role)``, with the role's name
  (``"ISSUER_ROLE"``) rather than its hash;
* :class:`~munibond.exceptions.ContractRevert` for everything else: ``Error(string)`` (the reason),
  ``Panic(uint256)`` (what the panic code means), every custom error declared by the contracts
  (its name, its arguments in words, and the NatSpec sentence that explains it, e.g.
  ``FreezeAmountInvalid: wallet 0xAb.. requested 5 available 3 (Freezing more than the balance,
  or releasing more than is frozen)``), and unknown data shown as hex.

:func:`decoded_reverts` is the context manager the SDK's clients wrap chain calls in, so that a
:class:`~munibond.exceptions.RevertError` (a pre-check or call that would revert) or a
:class:`~munibond.exceptions.TransactionReverted` (a mined transaction that failed) comes out as
the decoded exception, with the original kept as ``__cause__``. :func:`transact` and :func:`call`
are the one-line forms.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from munibond.chain import PANIC_CODES
from munibond.contracts import ROLE_NAMES, abi_signature, canonical_type, error_abis, error_docs
from munibond.exceptions import (
    ContractRevert,
    MissingRole,
    MunibondError,
    RevertError,
    TransferRestricted,
)
from munibond.restrictions import restriction

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.types import TxReceipt

    from munibond.chain import Chain, TxSource

__all__ = [
    "ERROR_STRING_SELECTOR",
    "PANIC_SELECTOR",
    "call",
    "contract_error",
    "decode_revert",
    "decoded_reverts",
    "describe_value",
    "transact",
]

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_TRANSFER_RESTRICTED = keccak(text="TransferRestricted(uint8,address,address,uint256)")[:4]
_UNAUTHORIZED = keccak(text="AccessControlUnauthorizedAccount(address,bytes32)")[:4]


def _bytes32_text(raw: bytes) -> str | None:
    """A ``bytes32`` that holds short UTF-8 text (a document name), or None."""
    text_bytes = raw.rstrip(b"\0")
    if not text_bytes or b"\0" in text_bytes:
        return None
    try:
        text = text_bytes.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def describe_value(kind: str, value: Any) -> str:
    """An ABI value in words: checksummed addresses, role names for role hashes, text for
    ``bytes32`` that hold text, quoted strings, hex for other bytes."""
    if kind == "address":
        return str(to_checksum_address(value))
    if kind == "string":
        return f'"{value}"'
    if kind == "bytes32" and isinstance(value, bytes):
        if value in ROLE_NAMES:
            return ROLE_NAMES[value]
        text = _bytes32_text(value)
        return f'"{text}"' if text is not None else "0x" + value.hex()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _python_value(kind: str, value: Any) -> Any:
    if kind == "address":
        return str(to_checksum_address(value))
    return value


@functools.cache
def _by_name() -> Mapping[str, Mapping[str, Any]]:
    return {str(entry["name"]): entry for entry in error_abis().values()}


def _doc_phrase(signature: str) -> str:
    doc = error_docs().get(signature, "")
    return doc.rstrip(".").strip()


def _words(name: str, kind: str, value: Any) -> str:
    """An error argument in words; a payment period is shown by its number (1-based, as the
    SDK and the CLI take it) with the contract's 0-based index."""
    if name == "period" and kind.startswith("uint"):
        return f"period {int(value) + 1} (on-chain index {int(value)})"
    return f"{name} {describe_value(kind, value)}"


def _decode_custom(data: bytes, entry: Mapping[str, Any]) -> MunibondError:
    name = str(entry["name"])
    inputs = list(entry.get("inputs", ()))
    types = [canonical_type(p) for p in inputs]
    values = abi_decode(types, data[4:]) if types else ()
    names = [str(p.get("name") or f"arg{i}") for i, p in enumerate(inputs)]
    args = {n: _python_value(t, v) for n, t, v in zip(names, types, values, strict=True)}
    signature = abi_signature(entry)
    if signature == "TransferRestricted(uint8,address,address,uint256)":
        code = int(args["code"])
        return TransferRestricted(code, restriction(code).message, data=data,
                                  args={"from": args["from"], "to": args["to"],
                                        "value": int(args["value"])})
    if signature == "AccessControlUnauthorizedAccount(address,bytes32)":
        role = describe_value("bytes32", args["neededRole"])
        return MissingRole(role, str(args["account"]), data=data)
    words = " ".join(_words(n, t, v) for n, t, v in zip(names, types, values, strict=True))
    doc = _doc_phrase(signature)
    if words and doc:
        message = f"{name}: {words} ({doc})"
    elif words:
        message = f"{name}: {words}"
    elif doc:
        message = f"{name}: {doc}"
    else:
        message = name
    return ContractRevert(message, error=name, args=args, data=data)


def decode_revert(data: bytes, *, original: BaseException | None = None) -> MunibondError:
    """The exception that revert ``data`` stands for (see the module docstring).

    ``original`` (the error the data came from) supplies the message when there is no data at
    all (out of gas, a revert without a reason), so that nothing it said is lost.
    """
    data = bytes(data)
    if not data:
        said = str(original) if original is not None else "the call reverted without a reason"
        return ContractRevert(said, error=None, data=data)
    selector = data[:4]
    try:
        if selector == ERROR_STRING_SELECTOR:
            (reason,) = abi_decode(["string"], data[4:])
            return ContractRevert(f"reverted: {reason}", error="Error", args={"reason": reason},
                                  data=data)
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], data[4:])
            meaning = PANIC_CODES.get(code, "unknown panic code")
            return ContractRevert(
                f"Panic 0x{code:02x}: {meaning} (the contract hit a check the compiler inserted: "
                f"an input it does not guard against, or a bug)",
                error="Panic", args={"code": code, "meaning": meaning}, data=data)
        entry = error_abis().get(selector)
        if entry is not None:
            return _decode_custom(data, entry)
    except (DecodingError, ValueError, OverflowError, TypeError):
        pass  # malformed for its selector: show it raw below
    shown = "0x" + data.hex()
    if len(shown) > 10 + 2 * 4 * 32:
        shown = shown[: 10 + 2 * 4 * 32] + "..."
    what = (f"unknown error 0x{selector.hex()}" if len(data) >= 4
            else "data too short for an error selector")
    return ContractRevert(f"the call reverted with {what} (data {shown}); it is not one of "
                          f"munibond's contract errors", error=None, data=data)


def contract_error(name: str, *values: Any) -> MunibondError:
    """The exception that the contract error ``name`` with ``values`` would decode to, for
    checks the SDK makes before sending (so that both read alike)::

        raise contract_error("FreezeAmountInvalid", wallet, requested, available)
    """
    entry = _by_name().get(name)
    if entry is None:
        raise KeyError(f"no contract declares an error named {name!r}")
    types = [canonical_type(p) for p in entry.get("inputs", ())]
    selector = keccak(text=abi_signature(entry))[:4]
    return decode_revert(selector + abi_encode(types, list(values)))


@contextmanager
def decoded_reverts() -> Iterator[None]:
    """Re-raise a :class:`~munibond.exceptions.RevertError` (and so a
    :class:`~munibond.exceptions.TransactionReverted`) from the block as the decoded exception;
    the original, with its transaction hash and receipt if it was mined, is the ``__cause__``."""
    try:
        yield
    except RevertError as error:
        decoded = decode_revert(error.data, original=error)
        if isinstance(decoded, ContractRevert):
            # a mined transaction's hash and receipt travel with the decoded error too
            decoded.tx_hash = getattr(error, "tx_hash", None)
            decoded.receipt = getattr(error, "receipt", None)
        raise decoded from error


def transact(chain: Chain, signer: LocalAccount, tx: TxSource, *, gas: int | None = None,
             precheck: bool = True) -> TxReceipt:
    """``chain.transact`` with reverts decoded (see :func:`decoded_reverts`)."""
    with decoded_reverts():
        return chain.transact(signer, tx, gas=gas, precheck=precheck)


def call(chain: Chain, function: Any, *, sender: str | None = None) -> Any:
    """``chain.call`` with reverts decoded (see :func:`decoded_reverts`)."""
    with decoded_reverts():
        return chain.call(function, sender=sender)
