"""The chain: a node connection that signs locally, pre-checks every transaction, and says why.

:class:`Chain` wraps a ``web3.Web3``. Every transaction it sends is

1. pre-checked with ``eth_call`` (a revert raises :class:`~munibond.exceptions.RevertError` with
   the raw revert data in ``.data`` before anything is signed: some permissioned nodes answer
   ``eth_estimateGas`` for a reverting call with a number, so gas estimation alone proves nothing),
2. given a gas limit (the estimate plus a margin, unless the caller passes one), a nonce from a
   per-signer counter (initialised from ``eth_getTransactionCount(pending)``), the chain id and the
   fee fields of the chain's transaction mode - legacy ``gasPrice`` (default 0: permissioned
   free-gas chains) or EIP-1559,
3. signed in this process with eth-account (never by an unlocked node account), sent raw, and
4. waited for (receipts are polled every 2 ms at first, backing off to 0.25 s; web3's default of
   0.1 s caps a local chain at about 10 tx/s), for ``confirmations`` blocks if asked; a mined
   transaction with status 0 raises :class:`~munibond.exceptions.TransactionReverted` with the
   revert data recovered by replaying the transaction with ``eth_call`` on the parent block.

Where the chain is a local development chain (anvil, hardhat, or the in-process eth-tester chain of
:func:`in_process_chain`) a Chain can also move time (:meth:`Chain.advance_time`,
:meth:`Chain.set_next_timestamp`, :meth:`Chain.mine`), credit ether (:meth:`Chain.fund`) and take
snapshots.

If the node does not answer - not there at all, or gone in the middle of a run - every call raises
:class:`~munibond.exceptions.NodeUnreachable` naming the URL and what to do, instead of a
``requests`` traceback: the HTTP provider that :func:`connect` builds translates transport errors
centrally, so this also holds for contract calls made directly through ``chain.w3``.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import requests
from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BadFunctionCallOutput,
    ContractLogicError,
    TransactionIndexingInProgress,
    TransactionNotFound,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.providers.rpc import HTTPProvider
from web3.providers.rpc.utils import ExceptionRetryConfiguration
from web3.types import BlockIdentifier, RPCEndpoint, RPCResponse, TxParams, TxReceipt

from munibond.exceptions import (
    ChainError,
    ConfigError,
    NodeUnreachable,
    RevertError,
    ToolNotFound,
    TransactionFailed,
    TransactionReverted,
)
from munibond.signers import DEV_MNEMONIC, Signer, as_signer, dev_accounts

if TYPE_CHECKING:
    from web3.contract import Contract
    from web3.contract.contract import ContractConstructor, ContractFunction

    #: what :meth:`Chain.transact` sends: a contract function call, a deployment, or a dict with
    #: ``to``/``data``/``value`` (and optionally ``gas``)
    TxSource = Mapping[str, Any] | ContractFunction | ContractConstructor

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "Chain",
    "TxMode",
    "ViewCall",
    "connect",
    "describe_revert",
    "in_process_chain",
    "inject_poa_middleware",
    "needs_poa_middleware",
    "revert_data",
    "view_calls",
]

TxMode = Literal["legacy", "eip1559"]

#: first receipt poll interval (seconds); it doubles up to ``max_poll_interval``
DEFAULT_POLL_INTERVAL = 0.002
DEFAULT_MAX_POLL_INTERVAL = 0.25
DEFAULT_TIMEOUT = 10.0
DEFAULT_RECEIPT_TIMEOUT = 120.0
#: the estimate is multiplied by this (the state can change between estimate and mining)
DEFAULT_GAS_MARGIN = 1.2
#: view calls per JSON-RPC batch request (:meth:`Chain.call_many`)
DEFAULT_BATCH_SIZE = 500
#: gas added to every estimate: the chain can move between the estimate and the block that mines
#: the transaction, and a bond's first balance change after a record time also settles each
#: party's coupon periods (cold reads and writes the estimate did not see). Unused gas is not
#: charged, and on a zero-gas permissioned chain it costs nothing at all.
GAS_HEADROOM = 100_000

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
PANIC_CODES = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an uninitialised function pointer",
}
_START_A_NODE = "is the node running? start one with `munibond chain`"
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
# the in-process chain's faucet (used by Chain.fund); its key is public, like the dev accounts'
_FAUCET_KEY = keccak(b"munibond in-process chain faucet")
_FAUCET_BALANCE = 10**30


# ----------------------------------------------------------------------------------------------
# revert data


def _hex_to_bytes(text: str) -> bytes | None:
    text = text.strip()
    if _HEX.fullmatch(text):
        return bytes.fromhex(text[2:])
    return None


def _data_from_error_field(value: Any) -> bytes | None:
    """Revert data from a JSON-RPC ``error.data`` (a hex string, or a dict nesting one)."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        if value.startswith("Reverted "):  # eth-tester / old ganache: "Reverted 0x..."
            value = value[len("Reverted "):]
        return _hex_to_bytes(value)
    if isinstance(value, Mapping):
        for key in ("data", "result", "return", "returnData", "revertData"):
            if key in value:
                found = _data_from_error_field(value[key])
                if found is not None:
                    return found
        for nested in value.values():  # ganache 6: {"0x<txhash>": {"return": "0x..."}}
            if isinstance(nested, Mapping):
                found = _data_from_error_field(nested)
                if found is not None:
                    return found
    return None


def _eth_tester_revert_data(message: str, *, exact: bool) -> bytes:
    """Revert data from eth-tester's ``TransactionFailed("execution reverted: ...")``.

    eth-tester puts the revert data in the message as a Python bytes literal (``b'...'``), except
    that for ``Error(string)`` it puts the decoded reason string. With ``exact`` (munibond's
    in-process backend, which never decodes) a message that is not a bytes literal is an error
    without revert data (out of gas, invalid opcode); otherwise it is taken as an ``Error(string)``
    reason and re-encoded.
    """
    text = message
    prefix = "execution reverted"
    if text.startswith(prefix):
        text = text[len(prefix):].lstrip(": ")
    if text[:2] in ("b'", 'b"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = None
        if isinstance(value, bytes):
            return value
    as_hex = _hex_to_bytes(text)
    if as_hex is not None:
        return as_hex
    if exact or not text:
        return b""
    return ERROR_STRING_SELECTOR + abi_encode(["string"], [text])


def _is_eth_tester_failure(error: BaseException) -> bool:
    kind = type(error)
    return kind.__name__ == "TransactionFailed" and kind.__module__.startswith("eth_tester")


def revert_data(error: BaseException, *, exact_eth_tester: bool = False) -> bytes | None:
    """The raw revert data ``error`` carries: bytes (``b""`` for a revert without data), or
    ``None`` when ``error`` is not a revert at all.

    Understands web3's ``ContractLogicError`` family (``.data`` as hex, ``"Reverted 0x..."`` or a
    dict), ``Web3RPCError`` whose JSON-RPC error is a revert (code 3 or a message mentioning
    "revert"), eth-tester's ``TransactionFailed`` (bytes literals in the message) and, failing
    those, any exception whose message mentions a revert and carries a ``0x`` hex blob.
    """
    if isinstance(error, RevertError):
        return error.data
    if isinstance(error, ContractLogicError):
        found = _data_from_error_field(error.data)
        if found is not None:
            return found
        if isinstance(error.message, str) and error.message.startswith("execution reverted"):
            return _eth_tester_revert_data(error.message, exact=True)
        return b""
    if isinstance(error, Web3RPCError):
        response = error.rpc_response or {}
        rpc_error = response.get("error") if isinstance(response, Mapping) else None
        if isinstance(rpc_error, Mapping):
            message = str(rpc_error.get("message", ""))
            data = _data_from_error_field(rpc_error.get("data"))
            if rpc_error.get("code") == 3 or "revert" in message.lower():
                return data if data is not None else b""
            return None
        if "revert" in str(error.message).lower():
            return b""
        return None
    if _is_eth_tester_failure(error):
        first = error.args[0] if error.args else ""
        if isinstance(first, bytes):
            return first
        return _eth_tester_revert_data(str(first), exact=exact_eth_tester)
    text = " ".join(str(arg) for arg in error.args if isinstance(arg, str))
    if "revert" in text.lower():
        blobs = [bytes.fromhex(m[2:]) for m in _HEX.findall(text) if len(m) >= 10]
        return max(blobs, key=len) if blobs else b""
    return None


def describe_revert(data: bytes) -> str:
    """What raw revert data says, as a phrase for "reverted with ...": the reason string, the
    panic code, or the custom error's selector and data."""
    if not data:
        return "no reason given"
    if data[:4] == ERROR_STRING_SELECTOR:
        try:
            (reason,) = abi_decode(["string"], data[4:])
            return f"reason {reason!r}"
        except Exception:
            pass
    if data[:4] == PANIC_SELECTOR and len(data) == 36:
        code = int.from_bytes(data[4:], "big")
        return f"panic 0x{code:02x} ({PANIC_CODES.get(code, 'unknown panic code')})"
    shown = "0x" + data.hex() if len(data) <= 68 else "0x" + data[:68].hex() + "..."
    if len(data) >= 4:
        return f"custom error 0x{data[:4].hex()} (data {shown})"
    return f"data {shown}"


def _error_text(error: BaseException) -> str:
    if isinstance(error, Web3RPCError):
        response = error.rpc_response or {}
        rpc_error = response.get("error") if isinstance(response, Mapping) else None
        if isinstance(rpc_error, Mapping) and rpc_error.get("message"):
            return str(rpc_error["message"])
        return str(error.message)
    if error.args and isinstance(error.args[0], str):
        return error.args[0]
    return str(error) or type(error).__name__


# ----------------------------------------------------------------------------------------------
# transport: connection errors become NodeUnreachable, centrally


def _redact_url(url: str) -> str:
    """``url`` without a password (``https://user:***@host``)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _unreachable(url: str, reason: str, *, method: str | None = None) -> NodeUnreachable:
    during = f" (during {method})" if method else ""
    return NodeUnreachable(f"no Ethereum node answers at {url}{during}: {reason}; {_START_A_NODE}")


def _transport_reason(error: BaseException) -> str:
    if isinstance(error, requests.exceptions.HTTPError) and error.response is not None:
        status = error.response.status_code
        if status in (401, 403):
            return f"HTTP {status}: the node refused the request (check the URL's credentials)"
        return f"HTTP {status} {error.response.reason or ''}".strip()
    if isinstance(error, requests.exceptions.Timeout):
        return "the request timed out"
    if isinstance(error, requests.exceptions.ConnectionError):
        text = str(error)
        for marker in ("Connection refused", "Name or service not known", "No route to host",
                       "Connection reset", "Remote end closed connection",
                       "Temporary failure in name resolution", "Network is unreachable"):
            if marker in text:
                return marker.lower()
        return "connection failed"
    if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
        return "the answer is not JSON-RPC (is this the node's RPC endpoint?)"
    return f"{type(error).__name__}: {error}"


_TRANSPORT_ERRORS = (requests.exceptions.RequestException, OSError, json.JSONDecodeError,
                     UnicodeDecodeError)


class _HTTPProvider(HTTPProvider):
    """web3's HTTPProvider, raising NodeUnreachable (naming the URL) for transport failures."""

    def __init__(self, url: str, *, timeout: float) -> None:
        super().__init__(
            url,
            request_kwargs={"timeout": (min(timeout, 5.0), timeout)},
            exception_retry_configuration=None,
            # eth_chainId is asked before every eth_call/eth_estimateGas by web3's validation
            # middleware: answer it from memory
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId"), RPCEndpoint("net_version")},
            request_cache_validation_threshold=None,
        )
        self.display_url = _redact_url(url)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        try:
            return super().make_request(method, params)
        except _TRANSPORT_ERRORS as error:
            raise _unreachable(self.display_url, _transport_reason(error),
                               method=str(method)) from None

    def make_batch_request(
        self, batch_requests: list[tuple[RPCEndpoint, Any]]
    ) -> list[RPCResponse] | RPCResponse:
        try:
            return super().make_batch_request(batch_requests)
        except _TRANSPORT_ERRORS as error:
            raise _unreachable(self.display_url, _transport_reason(error),
                               method="batch request") from None

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            return super().is_connected(show_traceback)
        except NodeUnreachable:
            if show_traceback:
                raise
            return False


# retry briefly when the connection fails (a restarting node); a timeout is not retried
_RETRY = ExceptionRetryConfiguration(errors=(requests.exceptions.ConnectionError,), retries=3,
                                     backoff_factor=0.1)


# ----------------------------------------------------------------------------------------------
# proof of authority


def needs_poa_middleware(extra_data: bytes | str) -> bool:
    """Whether blocks with this ``extraData`` need web3's ``ExtraDataToPOAMiddleware``.

    Clique, IBFT 2.0 and QBFT put signer or validator data in ``extraData`` and make it longer
    than the 32 bytes that Ethereum mainnet allows and web3 validates.
    """
    if isinstance(extra_data, str):
        text = extra_data.strip()
        text = text[2:] if text[:2] in ("0x", "0X") else text
        return len(text) // 2 > 32
    return len(extra_data) > 32


def inject_poa_middleware(w3: Web3) -> None:
    """Add ``ExtraDataToPOAMiddleware`` to ``w3`` (once)."""
    if "extradata_to_poa" not in w3.middleware_onion:
        w3.middleware_onion.inject(ExtraDataToPOAMiddleware, name="extradata_to_poa", layer=0)


def _latest_extra_data(w3: Web3) -> str:
    # raw request: web3's block formatter would reject a long extraData before we could see it
    response = w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), ["latest", False])
    result = response.get("result") if isinstance(response, Mapping) else None
    if isinstance(result, Mapping):
        value = result.get("extraData")
        if isinstance(value, str):
            return value
    return "0x"


# ----------------------------------------------------------------------------------------------
# the chain


def _as_int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
    raise TypeError(f"expected an integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class ViewCall:
    """One view call for :meth:`Chain.call_many`: the contract, the calldata, the output types."""

    to: str
    data: bytes
    output_types: tuple[str, ...]
    name: str = "call"


def view_calls(contract: Contract, name: str,
               arguments: Sequence[Sequence[Any]]) -> list[ViewCall]:
    """``name(*args)`` on ``contract`` for each ``args`` of ``arguments``, as :class:`ViewCall`
    (the ABI read once, arguments encoded with eth-abi directly: web3 builds a contract-function
    object per call, about a millisecond each)."""
    from eth_utils.abi import get_abi_input_types, get_abi_output_types

    entries: list[Any] = [e for e in contract.abi
                          if e.get("type") == "function" and e.get("name") == name]
    if not entries:
        raise ConfigError(f"the contract at {contract.address} has no function {name!r}")
    by_arity = {len(e.get("inputs", ())): e for e in entries}
    to = str(contract.address)
    calls: list[ViewCall] = []
    codec = abi_codec()
    cache: dict[int, tuple[bytes, list[str], tuple[str, ...]]] = {}
    for args in arguments:
        arity = len(args)
        if arity not in cache:
            entry = by_arity.get(arity)
            if entry is None:
                raise ConfigError(f"{name} takes no {arity} argument(s)")
            inputs = list(get_abi_input_types(entry))
            selector = keccak(text=f"{name}({','.join(inputs)})")[:4]
            cache[arity] = (selector, inputs,
                            tuple(get_abi_output_types(entry)))
        selector, inputs, outputs = cache[arity]
        data = _encode_static(inputs, args)
        if data is None:
            data = codec.encode(inputs, list(args))
        calls.append(ViewCall(to, selector + data, outputs, name))
    return calls


_STATIC = re.compile(r"uint(8|16|32|40|64|96|128|160|256)?|address|bool")


def _encode_static(types: Sequence[str], args: Sequence[Any]) -> bytes | None:
    """ABI encoding of addresses, unsigned integers and booleans (None for anything else, or a
    value out of range: eth-abi then encodes it, or says what is wrong)."""
    parts: list[bytes] = []
    for kind, value in zip(types, args, strict=True):
        if not _STATIC.fullmatch(kind):
            return None
        if kind == "address":
            if not isinstance(value, str) or len(value) != 42 or value[:2] != "0x":
                return None
            try:
                parts.append(bytes(12) + bytes.fromhex(value[2:]))
            except ValueError:
                return None
        elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
            if kind != "bool" or not isinstance(value, bool):
                return None
            parts.append(int(value).to_bytes(32, "big"))
        else:
            bits = 256 if kind == "uint" else int(kind[4:]) if kind.startswith("uint") else 1
            if value >= 1 << bits:
                return None
            parts.append(value.to_bytes(32, "big"))
    return b"".join(parts)


def _decode_static(types: Sequence[str], data: bytes) -> tuple[Any, ...] | None:
    """The reverse for results made only of unsigned integers and booleans."""
    if len(data) != 32 * len(types) or not all(
            t == "bool" or t.startswith("uint") for t in types):
        return None
    words = [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]
    for kind, word in zip(types, words, strict=True):
        if (kind == "bool" and word > 1) or (kind != "bool" and kind != "uint" and kind != "uint256"
                                             and word >> int(kind[4:])):
            return None  # not a clean encoding: let eth-abi say so
    return tuple(bool(w) if t == "bool" else w for t, w in zip(types, words, strict=True))


@functools.cache
def abi_codec() -> Any:
    """An eth-abi codec (web3's default registry)."""
    from eth_abi.codec import ABICodec
    from eth_abi.registry import registry

    return ABICodec(registry)


class Chain:
    """A connection to one chain that sends locally signed, pre-checked transactions.

    Create one with :func:`connect`, :func:`in_process_chain`, or ``Anvil.connect()``; or wrap an
    existing ``Web3`` (for eth-tester's ``EthereumTesterProvider`` the time and funding helpers
    work too).

    ``tx_mode="legacy"`` sends type-0 transactions with ``gas_price`` (default 0, for
    permissioned free-gas chains; it is always set explicitly because nodes such as anvil report
    1 gwei from ``eth_gasPrice`` even when gas is free). ``tx_mode="eip1559"`` sends type-2
    transactions with ``priority_fee`` (default: the node's ``eth_maxPriorityFeePerGas``, else 0)
    and ``max_fee`` (default: twice the latest base fee plus the priority fee).
    ``confirmations`` is the number of blocks, counting the one with the transaction, that must
    exist before :meth:`transact` returns (1 = mined).
    """

    def __init__(self, w3: Web3, *, tx_mode: TxMode = "legacy", gas_price: int = 0,
                 priority_fee: int | None = None, max_fee: int | None = None,
                 confirmations: int = 1, poll_interval: float = DEFAULT_POLL_INTERVAL,
                 max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
                 receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
                 gas_margin: float = DEFAULT_GAS_MARGIN, chain_id: int | None = None,
                 url: str | None = None) -> None:
        if tx_mode not in ("legacy", "eip1559"):
            raise ConfigError(f"tx_mode must be 'legacy' or 'eip1559', not {tx_mode!r}")
        if gas_price < 0 or (priority_fee is not None and priority_fee < 0) or (
                max_fee is not None and max_fee < 0):
            raise ConfigError("gas prices and fees cannot be negative")
        if confirmations < 1:
            raise ConfigError(f"confirmations must be at least 1 (1 = mined), not {confirmations}")
        if poll_interval <= 0 or max_poll_interval < poll_interval:
            raise ConfigError("poll_interval must be > 0 and <= max_poll_interval")
        if gas_margin < 1:
            raise ConfigError(f"gas_margin must be >= 1, not {gas_margin}")
        self.w3 = w3
        self.tx_mode: TxMode = tx_mode
        self.gas_price = gas_price
        self.priority_fee = priority_fee
        self.max_fee = max_fee
        self.confirmations = confirmations
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.receipt_timeout = receipt_timeout
        self.gas_margin = gas_margin
        self.url = _redact_url(url) if url else _provider_label(w3)
        self.tester: Any = _eth_tester_of(w3)
        self.chain_id: int = chain_id if chain_id is not None else int(w3.eth.chain_id)
        self._lock = threading.RLock()
        self._nonces: dict[str, int] = {}
        self._block_gas_limit: int | None = None
        self._batches = True  # JSON-RPC batch requests work (until a node says otherwise)

    def __repr__(self) -> str:
        fees = (f"gasPrice {self.gas_price}" if self.tx_mode == "legacy" else "EIP-1559")
        return f"Chain({self.url}, chain id {self.chain_id}, {fees})"

    # -- what kind of node -----------------------------------------------------------------

    @functools.cached_property
    def client_version(self) -> str:
        """The node's ``web3_clientVersion`` ("" if it does not say)."""
        try:
            return str(self.w3.client_version)
        except NodeUnreachable:
            raise
        except Exception:
            return ""

    @property
    def dev_kind(self) -> Literal["eth-tester", "anvil", "hardhat"] | None:
        """Which local development chain this is, or None for a real node."""
        if self.tester is not None:
            return "eth-tester"
        version = self.client_version.lower()
        if version.startswith("anvil"):
            return "anvil"
        if version.startswith("hardhat"):
            return "hardhat"
        return None

    def _require_dev(self, what: str) -> Literal["eth-tester", "anvil", "hardhat"]:
        kind = self.dev_kind
        if kind is None:
            raise ChainError(
                f"{what} only works on a local development chain (anvil, hardhat or the in-process "
                f"chain); the node at {self.url} is {self.client_version or 'something else'}")
        return kind

    def _dev_rpc(self, method: str, params: list[Any]) -> Any:
        try:
            return self.w3.manager.request_blocking(RPCEndpoint(method), params)
        except Web3RPCError as error:
            raise ChainError(f"{method} failed on {self.url}: {_error_text(error)}") from None

    # -- reading ---------------------------------------------------------------------------

    def now(self) -> int:
        """The latest block's timestamp (the chain's clock, in Unix seconds)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def balance(self, address: str) -> int:
        """Ether balance of ``address`` in wei."""
        return int(self.w3.eth.get_balance(to_checksum_address(address)))

    def call(self, function: ContractFunction | Mapping[str, Any],
             block: BlockIdentifier = "latest", *,
             sender: str | LocalAccount | None = None) -> Any:
        """Run a contract function (or a raw ``{"to", "data"}`` call) with ``eth_call``.

        Returns the decoded result (raw bytes for a raw call). A revert raises RevertError with the
        raw revert data in ``.data``.
        """
        address = _address_of(sender) if sender is not None else None
        try:
            if isinstance(function, Mapping):
                params = dict(function)
                if address is not None:
                    params["from"] = address
                return bytes(self.w3.eth.call(cast(TxParams, params), block))
            return function.call({"from": address} if address else None,
                                 block_identifier=block)
        except (NodeUnreachable, RevertError):
            raise
        except BadFunctionCallOutput as error:
            raise ChainError(f"cannot decode the call's result ({error}); is the contract "
                             f"deployed at that address on chain {self.chain_id}?") from None
        except Exception as error:
            data = revert_data(error, exact_eth_tester=self._exact_eth_tester)
            if data is None:
                raise
            raise RevertError(f"call reverted with {describe_revert(data)}", data=data) from None

    def call_many(self, calls: Sequence[ViewCall], block: BlockIdentifier = "latest", *,
                  batch_size: int = DEFAULT_BATCH_SIZE,
                  progress: Callable[[int, int], None] | None = None) -> list[Any]:
        """Run many view calls (:func:`view_calls` makes them) at one block; the results in
        order, decoded (one output: the value; several: a list).

        Over HTTP the calls go ``batch_size`` at a time in one JSON-RPC batch request each (one
        round trip instead of ``batch_size``), encoded and decoded without web3's per-call
        machinery: reading 10,000 balances takes seconds, not minutes. A node that refuses batch
        requests is asked one call at a time from then on; so is the in-process chain. A revert
        raises RevertError as :meth:`call` does. ``progress(done, total)`` after each batch.
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
        results: list[Any] = []
        total = len(calls)
        at = block if isinstance(block, str) else hex(int(block))
        for start in range(0, total, batch_size):
            part = calls[start:start + batch_size]
            raw = self._batch_call(part, at) if self._batches and self.tester is None else None
            if raw is None:
                raw = [self.call({"to": c.to, "data": HexBytes(c.data).to_0x_hex()}, block)
                       for c in part]
            results.extend(self._decode_view(c, data) for c, data in zip(part, raw, strict=True))
            if progress is not None:
                progress(len(results), total)
        return results

    def _decode_view(self, call: ViewCall, data: bytes) -> Any:
        fast = _decode_static(call.output_types, data)
        if fast is not None:
            return fast[0] if len(fast) == 1 else list(fast)
        try:
            decoded = self.w3.codec.decode(call.output_types, data)
        except Exception as error:
            raise ChainError(f"cannot decode the result of {call.name} ({error}); is the "
                             f"contract deployed at {call.to} on chain {self.chain_id}?") from None
        if "address" in call.output_types:
            decoded = tuple(to_checksum_address(v) if t == "address" else v
                            for t, v in zip(call.output_types, decoded, strict=True))
        return decoded[0] if len(call.output_types) == 1 else list(decoded)

    def _batch_call(self, calls: Sequence[ViewCall], block: str) -> list[bytes] | None:
        """One JSON-RPC batch of ``eth_call``: the raw results; None when the node does not do
        batches."""
        batch: list[tuple[RPCEndpoint, Any]] = [
            (RPCEndpoint("eth_call"), [{"to": c.to, "data": "0x" + c.data.hex()}, block])
            for c in calls]
        try:
            answers = self.w3.provider.make_batch_request(batch)  # type: ignore[attr-defined]
        except NodeUnreachable:
            raise
        except Exception:
            self._batches = False
            return None
        if not isinstance(answers, list) or len(answers) != len(calls):
            self._batches = False  # e.g. {"error": "batch requests are disabled"}
            return None
        results: list[bytes] = []
        for call, answer in zip(calls, answers, strict=True):
            error = answer.get("error")
            if error is not None:
                message = str(error.get("message", error)) if isinstance(error, Mapping) \
                    else str(error)
                data = _data_from_error_field(error.get("data")) if isinstance(error, Mapping) \
                    else None
                if data is not None or "revert" in message.lower():
                    raise RevertError(f"call reverted with {describe_revert(data or b'')}",
                                      data=data or b"")
                raise ChainError(f"eth_call of {call.name} on {call.to} failed on {self.url}: "
                                 f"{message}")
            results.append(bytes(HexBytes(str(answer.get("result") or "0x"))))
        return results

    # -- sending ---------------------------------------------------------------------------

    def transact(self, signer: LocalAccount, tx: TxSource, *, gas: int | None = None,
                 value: int | None = None, precheck: bool = True) -> TxReceipt:
        """Sign and send ``tx`` as ``signer``, wait for it, and return the receipt.

        ``tx`` is a contract function (``contract.functions.f(args)``), a constructor
        (``Contract.constructor(args)``), or a dict with ``to``/``data``/``value``. The call is
        pre-checked with ``eth_call`` unless ``precheck`` is False: a revert raises RevertError
        (``.data`` = raw revert data) before anything is sent. Gas is estimated (times
        ``gas_margin``) unless given. A mined transaction that failed (status 0) raises
        TransactionReverted (``.tx_hash``, ``.receipt``, ``.data``).
        """
        tx_hash = self.send(signer, tx, gas=gas, value=value, precheck=precheck)
        return self.wait(tx_hash)

    def send(self, signer: LocalAccount, tx: TxSource, *, gas: int | None = None,
             value: int | None = None, precheck: bool = True) -> HexBytes:
        """Like :meth:`transact` but return the transaction hash once the node has accepted it.

        Use :meth:`wait` for the receipt. Nonces are assigned locally, so several transactions
        from one signer can be in flight.
        """
        account = as_signer(signer)
        sender = account.address
        fields = self._fields(sender, tx, value)
        if gas is None and "gas" in fields:
            gas = _as_int(fields["gas"])
        fields.pop("gas", None)
        request: dict[str, Any] = {"from": sender, **fields}
        if precheck:
            self._precheck(request, gas)
        if gas is None:
            gas = self._estimate(request)
        fees = self._fees()
        for attempt in range(2):
            with self._lock:
                nonce = self._next_nonce(sender)
                unsigned: dict[str, Any] = {**fields, "gas": gas, "nonce": nonce,
                                            "chainId": self.chain_id, **fees}
                signed = account.sign_transaction(unsigned)
                tx_hash = HexBytes(signed.hash)
                try:
                    self.w3.eth.send_raw_transaction(signed.raw_transaction)
                except NodeUnreachable as error:
                    self._nonces.pop(sender, None)
                    raise NodeUnreachable(
                        f"{error}\n(transaction {tx_hash.to_0x_hex()} from {sender} may or may not "
                        f"have reached the node: look it up before sending again)") from None
                except Exception as error:
                    self._nonces.pop(sender, None)
                    text = _error_text(error)
                    lowered = text.lower()
                    if any(m in lowered for m in ("already known", "known transaction",
                                                  "already imported", "already in the pool")):
                        # our own earlier attempt got through (a retried request)
                        self._nonces[sender] = nonce + 1
                        return tx_hash
                    if attempt == 0 and ("nonce too low" in lowered
                                         or "invalid transaction nonce" in lowered):
                        if self._known(tx_hash):
                            self._nonces[sender] = nonce + 1
                            return tx_hash
                        continue  # someone else used the nonce: re-read it and sign again
                    raise TransactionFailed(
                        f"the node at {self.url} refused the transaction from {sender}: "
                        f"{text}{self._fee_hint(lowered)}",
                        tx_hash=tx_hash.to_0x_hex()) from None
                self._nonces[sender] = nonce + 1
                return tx_hash
        raise AssertionError("unreachable")  # pragma: no cover

    def wait(self, tx_hash: HexBytes | bytes | str, *, timeout: float | None = None) -> TxReceipt:
        """Wait for ``tx_hash``'s receipt (and ``confirmations``); raise if it failed."""
        tx_hash = HexBytes(tx_hash)
        shown = tx_hash.to_0x_hex()
        limit = self.receipt_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        delay = self.poll_interval
        receipt: TxReceipt | None = None
        try:
            while True:
                if receipt is None:
                    try:
                        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
                    except (TransactionNotFound, TransactionIndexingInProgress):
                        receipt = None
                if receipt is not None:
                    if self.confirmations <= 1:
                        break
                    if self.block_number() >= receipt["blockNumber"] + self.confirmations - 1:
                        try:  # still there, in the same block? (a reorganisation may move it)
                            again = self.w3.eth.get_transaction_receipt(tx_hash)
                        except TransactionNotFound:
                            again = None
                        if again is not None and again["blockHash"] == receipt["blockHash"]:
                            break
                        receipt = again
                        continue
                if time.monotonic() > deadline:
                    state = ("not mined" if receipt is None
                             else f"mined in block {receipt['blockNumber']} but not yet "
                                  f"{self.confirmations} blocks deep")
                    raise TransactionFailed(
                        f"transaction {shown} was {state} within {limit:g} s; it may still be "
                        f"mined: look it up before sending it again", tx_hash=shown,
                        receipt=receipt)
                time.sleep(delay)
                delay = min(delay * 2, self.max_poll_interval)
        except NodeUnreachable as error:
            raise NodeUnreachable(f"{error}\n(transaction {shown} was sent: look up its receipt "
                                  f"when the node is back, before sending it again)") from None
        if receipt["status"] == 0:
            raise self._reverted(receipt)
        return receipt

    def forget_nonces(self, address: str | None = None) -> None:
        """Drop cached nonces (all, or one address's) so they are re-read from the node."""
        with self._lock:
            if address is None:
                self._nonces.clear()
            else:
                self._nonces.pop(to_checksum_address(address), None)

    # -- local development chains ----------------------------------------------------------

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks (local chains only)."""
        if blocks < 1:
            raise ValueError(f"blocks must be >= 1, not {blocks}")
        kind = self._require_dev("mining on demand")
        if kind == "eth-tester":
            self.tester.mine_blocks(blocks)
        elif blocks == 1:
            self._dev_rpc("evm_mine", [])
        else:
            self._dev_rpc("anvil_mine" if kind == "anvil" else "hardhat_mine", [hex(blocks)])

    def set_next_timestamp(self, timestamp: int) -> None:
        """Make the next block's timestamp exactly ``timestamp`` (local chains only).

        Nothing is mined: the next transaction (or :meth:`mine`) makes that block. The timestamp
        must be later than the latest block's.
        """
        kind = self._require_dev("setting the time")
        latest = self.now()
        if timestamp <= latest:
            raise ChainError(f"the chain's clock cannot go back or stand still: the latest block "
                             f"is at {latest}, asked for {timestamp}")
        if kind == "eth-tester":
            # what eth-tester's own time_travel does, without mining
            chain = self.tester.backend.chain
            chain.header = chain.header.copy(timestamp=timestamp)
        else:
            self._dev_rpc("evm_setNextBlockTimestamp", [timestamp])

    def freeze_clock(self) -> None:
        """Stop the wall clock from moving the chain's clock (local chains only; for tests).

        From now on every new block is exactly one second after its parent unless
        :meth:`set_next_timestamp` (or :meth:`advance_time`) says otherwise, also after
        :meth:`revert`. Without it a local chain stamps blocks with the machine's time, so a
        test that reads the chain's time, sends something and then travels to "that time plus a
        margin" fails when the machine is slow (or a snapshot is old) and the margin has already
        passed. Frozen, times derived from :meth:`now` hold however slow the machine is.
        """
        kind = self._require_dev("freezing the clock")
        if kind == "eth-tester":
            chain = self.tester.backend.chain
            cls = type(chain)
            if not getattr(cls, "_munibond_frozen_clock", False):
                original = cls.create_header_from_parent

                def create_header_from_parent(self_: Any, parent_header: Any,
                                              **header_params: Any) -> Any:
                    header_params.setdefault("timestamp", parent_header.timestamp + 1)
                    return original(self_, parent_header, **header_params)

                # a class of its own per backend (see in_process_chain), so only this chain
                if cls.__module__.startswith("eth.") and cls.__name__ in ("MiningChain", "Chain"):
                    raise ChainError("this eth-tester chain shares py-evm's own chain class; "
                                     "create it with munibond.in_process_chain()")
                cls.create_header_from_parent = create_header_from_parent
                cls._munibond_frozen_clock = True
            # the block being built was stamped with the wall clock: restamp it
            parent = chain.get_canonical_head()
            if chain.header.timestamp != parent.timestamp + 1:
                chain.header = chain.header.copy(timestamp=parent.timestamp + 1)
        else:
            method = "anvil_setBlockTimestampInterval" if kind == "anvil" \
                else "evm_setBlockTimestampInterval"
            self._dev_rpc(method, [1])

    def advance_time(self, seconds: int) -> int:
        """Mine a block exactly ``seconds`` after the latest one; return its timestamp."""
        if seconds < 1:
            raise ValueError(f"seconds must be >= 1, not {seconds}")
        target = self.now() + seconds
        self.set_next_timestamp(target)
        self.mine()
        return target

    def fund(self, address: str, wei: int) -> None:
        """Credit ``wei`` to ``address`` (local chains only).

        On anvil and hardhat the balance is set directly (``anvil_setBalance``); on the in-process
        chain a faucet account transfers it (so a contract without a ``receive`` function cannot be
        funded there).
        """
        if wei < 0:
            raise ValueError(f"wei must be >= 0, not {wei}")
        kind = self._require_dev("funding accounts")
        target = to_checksum_address(address)
        if wei == 0:
            return
        if kind == "eth-tester":
            self.transact(self._faucet(), {"to": target, "value": wei})
        else:
            method = "anvil_setBalance" if kind == "anvil" else "hardhat_setBalance"
            self._dev_rpc(method, [target, hex(self.balance(target) + wei)])

    def snapshot(self) -> Any:
        """Save the chain state (local chains only); returns an id for :meth:`revert`."""
        kind = self._require_dev("snapshots")
        if kind == "eth-tester":
            return self.tester.take_snapshot()
        return self._dev_rpc("evm_snapshot", [])

    def revert(self, snapshot_id: Any) -> None:
        """Return to a state saved with :meth:`snapshot` (local chains only)."""
        kind = self._require_dev("snapshots")
        if kind == "eth-tester":
            self.tester.revert_to_snapshot(snapshot_id)
        elif not self._dev_rpc("evm_revert", [snapshot_id]):
            raise ChainError(f"snapshot {snapshot_id} does not exist (each can be reverted once)")
        self.forget_nonces()

    # -- internals -------------------------------------------------------------------------

    @property
    def _exact_eth_tester(self) -> bool:
        return self.tester is not None and getattr(self.tester.backend, "_munibond_exact", False)

    def _fields(self, sender: str, tx: TxSource, value: int | None) -> dict[str, Any]:
        """``to``/``data``/``value`` (and ``gas`` if given) of a transaction source."""
        if isinstance(tx, Mapping):
            unknown = set(tx) - {"to", "data", "input", "value", "gas", "from"}
            if unknown:
                raise ValueError(f"transact() sets {', '.join(sorted(unknown))} itself: pass only "
                                 f"to, data, value and gas")
            if "from" in tx and to_checksum_address(tx["from"]) != sender:
                raise ValueError(f"the transaction's from ({tx['from']}) is not the signer "
                                 f"({sender})")
            fields: dict[str, Any] = {}
            if tx.get("to"):
                fields["to"] = to_checksum_address(tx["to"])
            data = tx.get("data", tx.get("input", b""))
            fields["data"] = HexBytes(data).to_0x_hex() if data else "0x"
            fields["value"] = _as_int(tx.get("value", 0)) if value is None else value
            if "gas" in tx:
                fields["gas"] = _as_int(tx["gas"])
            return fields
        if hasattr(tx, "build_transaction"):
            # every field given, so web3 asks the node nothing; we keep only to/data/value
            placeholders = cast(TxParams, {"from": sender, "gas": 1, "nonce": 0, "gasPrice": 0,
                                           "chainId": self.chain_id, "value": value or 0})
            built = tx.build_transaction(placeholders)
            fields = {"data": HexBytes(built.get("data", b"")).to_0x_hex(),
                      "value": _as_int(built.get("value", 0))}
            if built.get("to"):
                fields["to"] = to_checksum_address(built["to"])
            return fields
        raise TypeError(f"cannot send {tx!r}: pass a contract function, a constructor, or a dict "
                        f"with to/data/value")

    def _precheck(self, request: Mapping[str, Any], gas: int | None) -> None:
        params = dict(request)
        if gas is not None:
            params["gas"] = gas
        try:
            self.w3.eth.call(cast(TxParams, params), "latest")
        except NodeUnreachable:
            raise
        except Exception as error:
            data = revert_data(error, exact_eth_tester=self._exact_eth_tester)
            if data is None:
                raise ChainError(f"the node at {self.url} rejected the pre-check call: "
                                 f"{_error_text(error)}") from None
            raise RevertError(f"{_what(request)} would revert with {describe_revert(data)}",
                              data=data) from None

    def _estimate(self, request: Mapping[str, Any]) -> int:
        try:
            estimate = int(self.w3.eth.estimate_gas(cast(TxParams, dict(request))))
        except NodeUnreachable:
            raise
        except Exception as error:
            data = revert_data(error, exact_eth_tester=self._exact_eth_tester)
            if data is not None:
                raise RevertError(f"{_what(request)} would revert with {describe_revert(data)} "
                                  f"(found by gas estimation)", data=data) from None
            raise ChainError(f"the node at {self.url} could not estimate gas for "
                             f"{_what(request)}: {_error_text(error)}") from None
        gas = int(estimate * self.gas_margin) + GAS_HEADROOM
        if self._block_gas_limit is None:
            self._block_gas_limit = int(self.w3.eth.get_block("latest")["gasLimit"])
        return max(estimate, min(gas, self._block_gas_limit))

    def _fees(self) -> dict[str, int]:
        if self.tx_mode == "legacy":
            return {"gasPrice": self.gas_price}
        priority = self.priority_fee
        if priority is None:
            try:
                priority = int(self.w3.eth.max_priority_fee)
            except NodeUnreachable:
                raise
            except Exception:
                priority = 0
        max_fee = self.max_fee
        if max_fee is None:
            base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
            max_fee = 2 * base + priority
        return {"maxFeePerGas": max(max_fee, priority), "maxPriorityFeePerGas": priority,
                "type": 2}

    def _fee_hint(self, lowered_message: str) -> str:
        if self.tx_mode == "legacy" and any(word in lowered_message for word in (
                "fee", "underpriced", "gas price", "gasprice")):
            return (f" (this chain may charge a base fee or a minimum gas price: connect with "
                    f"tx_mode='eip1559', or a gas_price of at least what it charges; now "
                    f"{self.gas_price})")
        if "insufficient funds" in lowered_message:
            return " (the signer cannot pay for gas: fund it, or use a free-gas chain)"
        return ""

    def _next_nonce(self, sender: str) -> int:
        nonce = self._nonces.get(sender)
        if nonce is None:
            nonce = int(self.w3.eth.get_transaction_count(to_checksum_address(sender), "pending"))
            self._nonces[sender] = nonce
        return nonce

    def _known(self, tx_hash: HexBytes) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            return False
        except NodeUnreachable:
            raise
        except Exception:
            return False
        return True

    def _reverted(self, receipt: TxReceipt) -> TransactionReverted:
        tx_hash = HexBytes(receipt["transactionHash"])
        shown = tx_hash.to_0x_hex()
        data: bytes | None = None
        gas_limit: int | None = None
        try:
            sent = self.w3.eth.get_transaction(tx_hash)
            gas_limit = int(sent["gas"])
            replay: dict[str, Any] = {"from": sent["from"], "data": HexBytes(sent["input"]),
                                      "value": sent["value"], "gas": sent["gas"]}
            if sent.get("to"):
                replay["to"] = sent["to"]
            block = max(int(receipt["blockNumber"]) - 1, 0)
            self.w3.eth.call(cast(TxParams, replay), block)
        except NodeUnreachable:
            raise
        except Exception as error:
            data = revert_data(error, exact_eth_tester=self._exact_eth_tester)
        used = int(receipt["gasUsed"])
        if data:
            why = f"reverted with {describe_revert(data)}"
        elif gas_limit is not None and used >= gas_limit:
            why = f"ran out of gas (used all {used} gas it was given)"
        elif data is not None:
            why = "reverted without a reason"
        else:
            why = ("failed, but replaying it on the block before succeeds (it depended on state "
                   "that changed within its block)")
        return TransactionReverted(
            f"transaction {shown} failed in block {receipt['blockNumber']}: {why}",
            tx_hash=shown, receipt=receipt, data=data or b"")

    def _faucet(self) -> Signer:
        # munibond's in-process chain puts its faucet last; a stock eth-tester's accounts are all
        # prefunded with a million ether
        key = self.tester.backend.account_keys[-1]
        return Signer(PrivateKey(bytes(key.to_bytes())), label="eth-tester faucet")


def _what(request: Mapping[str, Any]) -> str:
    data = str(request.get("data", "0x"))
    to = request.get("to")
    if not to:
        return "deployment"
    if len(data) >= 10:
        return f"call of 0x{data[2:10]} on {to}"
    return f"transfer to {to}"


def _address_of(who: str | LocalAccount) -> str:
    if isinstance(who, LocalAccount):
        return str(who.address)
    return to_checksum_address(who)


def _provider_label(w3: Web3) -> str:
    provider = w3.provider
    for attribute in ("display_url", "endpoint_uri"):
        value = getattr(provider, attribute, None)
        if value:
            return _redact_url(str(value))
    if _eth_tester_of(w3) is not None:
        return "in-process chain"
    return type(provider).__name__


def _eth_tester_of(w3: Web3) -> Any:
    provider = w3.provider
    if type(provider).__name__ in ("EthereumTesterProvider",):
        return getattr(provider, "ethereum_tester", None)
    return None


# ----------------------------------------------------------------------------------------------
# connecting


def connect(url: str, *, tx_mode: TxMode = "legacy", gas_price: int = 0,
            priority_fee: int | None = None, max_fee: int | None = None,
            expected_chain_id: int | None = None, poa: bool | None = None,
            timeout: float = DEFAULT_TIMEOUT, confirmations: int = 1,
            poll_interval: float = DEFAULT_POLL_INTERVAL,
            max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
            receipt_timeout: float = DEFAULT_RECEIPT_TIMEOUT,
            gas_margin: float = DEFAULT_GAS_MARGIN) -> Chain:
    """Connect to the node at ``url`` (``http://`` or ``https://``) and return a :class:`Chain`.

    Fails fast with NodeUnreachable when nothing answers, and with ConfigError when the node's
    chain id is not ``expected_chain_id``. ``poa=None`` injects web3's ``ExtraDataToPOAMiddleware``
    when the latest block's ``extraData`` is longer than 32 bytes (Clique, IBFT, QBFT); ``True`` or
    ``False`` force it on or off. ``timeout`` (seconds) applies to every request.
    """
    shown = _redact_url(url)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme in ("ws", "wss"):
        raise ConfigError(
            f"{shown}: WebSocket endpoints are not supported (web3's synchronous API has no "
            f"WebSocket provider): use the node's HTTP RPC endpoint")
    if scheme not in ("http", "https"):
        raise ConfigError(f"{shown} is not an http:// or https:// RPC URL")
    provider = _HTTPProvider(url, timeout=timeout)
    # first contact without retries, so that a dead URL fails at once
    response = provider.make_request(RPCEndpoint("eth_chainId"), [])
    if "error" in response or not isinstance(response.get("result"), str):
        error = response.get("error")
        message = error.get("message") if isinstance(error, Mapping) else error
        raise NodeUnreachable(f"the server at {shown} does not answer eth_chainId like an "
                              f"Ethereum node ({message or response!r}); {_START_A_NODE}")
    chain_id = int(response["result"], 16)
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ConfigError(f"the node at {shown} is on chain id {chain_id}, not the expected "
                          f"{expected_chain_id}: check the RPC URL and the configured chain id")
    provider.exception_retry_configuration = _RETRY
    w3 = Web3(provider)
    if poa is None:
        poa = needs_poa_middleware(_latest_extra_data(w3))
    if poa:
        inject_poa_middleware(w3)
    return Chain(w3, tx_mode=tx_mode, gas_price=gas_price, priority_fee=priority_fee,
                 max_fee=max_fee, confirmations=confirmations, poll_interval=poll_interval,
                 max_poll_interval=max_poll_interval, receipt_timeout=receipt_timeout,
                 gas_margin=gas_margin, chain_id=chain_id, url=url)


# ----------------------------------------------------------------------------------------------
# the in-process chain


@functools.lru_cache(maxsize=1)
def _exact_backend_class() -> type[Any]:
    from eth_tester import PyEVMBackend

    class ExactRevertPyEVMBackend(PyEVMBackend):  # type: ignore[misc]
        """PyEVMBackend that reports ``Error(string)`` reverts as raw bytes like all others.

        Stock eth-tester decodes ``Error(string)`` revert data to its reason and drops the rest,
        so an out-of-gas message and a revert reason look alike; raw bytes keep the revert data
        exact.
        """

        _munibond_exact = True

        def is_eip838_error(self, error: Any) -> bool:
            return False

    return ExactRevertPyEVMBackend


def in_process_chain(*, accounts: int = 10, balance_eth: int = 10_000,
                     mnemonic: str = DEV_MNEMONIC, chain_id: int | None = None,
                     tx_mode: TxMode = "legacy", gas_price: int = 0,
                     priority_fee: int | None = None, max_fee: int | None = None,
                     poll_interval: float = DEFAULT_POLL_INTERVAL,
                     gas_margin: float = DEFAULT_GAS_MARGIN) -> Chain:
    """A fresh chain inside this process (eth-tester + py-evm, Prague rules): no node, no Node.js.

    The same development accounts as :func:`munibond.anvil.start_anvil` are funded with
    ``balance_eth`` each, and the genesis base fee is 0, so legacy ``gasPrice=0`` transactions
    work as on a free-gas permissioned chain (the default here too). The base fee only rises if a
    block uses more than half the block gas limit (15 million gas); it then stays at 1 wei and
    gasPrice 0 transactions are refused, so keep single transactions below that or use
    ``tx_mode="eip1559"``. Every transaction is mined in its own block at once. ``chain_id``
    defaults to eth-tester's fixed 131277322940537. Time travel, :meth:`Chain.fund` and snapshots
    work as on anvil.

    Needs the ``local`` extra: ``pip install 'munibond[local]'``.
    """
    try:
        from eth_tester import EthereumTester, PyEVMBackend
        from eth_tester.backends.pyevm.main import get_default_account_state
        from web3.providers.eth_tester import EthereumTesterProvider
        from web3.providers.eth_tester.defaults import API_ENDPOINTS, static_return
    except ImportError as error:
        raise ToolNotFound(f"the in-process chain needs eth-tester with py-evm ({error}): "
                           f"pip install 'munibond[local]'") from None
    signers = dev_accounts(accounts, mnemonic=mnemonic)
    faucet = PrivateKey(_FAUCET_KEY)
    state: dict[bytes, Any] = {
        to_canonical_address(s.address):
            get_default_account_state(overrides={"balance": balance_eth * 10**18})
        for s in signers
    }
    state[faucet.public_key.to_canonical_address()] = get_default_account_state(
        overrides={"balance": _FAUCET_BALANCE})
    params = dict(PyEVMBackend.generate_genesis_params())
    # eth-tester's override check does not know this field; py-evm accepts it for the genesis
    params["base_fee_per_gas"] = 0
    backend = _exact_backend_class()(genesis_parameters=params, genesis_state=state)
    # eth-tester made keys 1..n for the state; the accounts are really these (faucet last)
    backend.account_keys = (*(PrivateKey(bytes(s.key)) for s in signers), faucet)
    endpoints: Any = None
    if chain_id is not None:
        type(backend.chain).chain_id = chain_id  # a class made for this backend alone
        endpoints = {**API_ENDPOINTS, "eth": {**API_ENDPOINTS["eth"],
                                              "chainId": static_return(chain_id)}}
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester, api_endpoints=endpoints))
    return Chain(w3, tx_mode=tx_mode, gas_price=gas_price, priority_fee=priority_fee,
                 max_fee=max_fee, poll_interval=poll_interval, gas_margin=gas_margin,
                 url="in-process chain")
