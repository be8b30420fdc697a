"""Decoded events, typed transaction results, and a subscription to a bond's events.

Every SDK method that sends a transaction returns a :class:`TxResult`::

    result = bond.transfer(alice, bob.address, Decimal("12345"))
    result.tx_hash, result.block_number, result.gas_used, result.status   # "0x..", 42, 46361, 1
    [(e.name, e.args["value"]) for e in result.events]                   # [("Transfer", 12345)]
    result.receipt                                                        # web3's raw receipt

A :class:`TxResult` still answers ``result["gasUsed"]`` and the other receipt keys as the raw
receipt did, so code written against receipts keeps working.

:func:`watch` (``bond.events(...)``) follows a contract's events as the chain grows::

    for event in bond.events(from_block=0, confirmations=2, until_block=head):
        print(event.block_number, event.name, event.args)

It yields each decoded event once, in chain order, as soon as its block is ``confirmations``
deep (1: the head block itself), then waits for new blocks; it ends at ``until_block`` or when
``stop()`` returns true. Event arguments are plain values: integers exact (amounts in token or
settlement-token base units, **periods as the contract's 0-based index**), addresses
checksummed, bytes as ``0x`` hex, structs as dicts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3._utils.events import get_event_data

from munibond.exceptions import InvalidArgument

if TYPE_CHECKING:
    from eth_typing import ABIEvent
    from web3.types import LogReceipt, TxReceipt

    from munibond.chain import Chain

__all__ = ["Event", "TxResult", "decode_log", "decode_logs", "tx_result", "watch"]


@dataclass(frozen=True, slots=True)
class Event:
    """One event log, decoded: ``name`` and ``args`` (plain values, see the module docstring),
    and where it is (emitting contract, block, transaction, index in the block)."""

    name: str
    args: Mapping[str, Any]
    address: str
    block_number: int
    tx_hash: str
    log_index: int

    def __iter__(self) -> Iterator[Any]:
        """``name, args = event``."""
        return iter((self.name, self.args))


@functools.cache
def _events_by_topic() -> Mapping[bytes, ABIEvent]:
    """Every event of the platform's contracts (bond, registry, factory, settlement token), by
    its topic 0 (events with one signature decode alike, e.g. ERC-20 ``Transfer``)."""
    from munibond.contracts import abi_signature, bond_abi, factory_abi, settlement_abi

    found: dict[bytes, ABIEvent] = {}
    for abi in (bond_abi(), factory_abi(), settlement_abi()):
        for entry in abi:
            if entry.get("type") == "event" and not entry.get("anonymous"):
                found.setdefault(keccak(text=abi_signature(entry)), cast("ABIEvent", entry))
    return MappingProxyType(found)


def decode_log(chain: Chain, log: LogReceipt) -> Event | None:
    """``log`` decoded, or None when it is no event of the platform's contracts."""
    from munibond.ledger import _plain, _struct

    topics = log["topics"]
    if not topics:
        return None
    abi = _events_by_topic().get(bytes(HexBytes(topics[0])))
    if abi is None:
        return None
    try:
        data = get_event_data(chain.w3.codec, abi, log)
    except Exception:  # same topic, other indexing: not ours
        return None
    args: dict[str, Any] = {}
    for param in abi.get("inputs", ()):
        name = str(param["name"])
        value = data["args"][name]
        components = param.get("components")
        if components and str(param["type"]) == "tuple":
            value = _struct(value, cast("list[Mapping[str, Any]]", components))
        args[name] = _plain(value)
    return Event(name=str(abi["name"]), args=MappingProxyType(args),
                 address=to_checksum_address(str(log["address"])),
                 block_number=int(log["blockNumber"]),
                 tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                 log_index=int(log["logIndex"]))


def decode_logs(chain: Chain, logs: Iterable[LogReceipt]) -> tuple[Event, ...]:
    """The logs that are events of the platform's contracts, decoded, in order."""
    return tuple(e for e in (decode_log(chain, log) for log in logs) if e is not None)


@dataclass(frozen=True, eq=False)
class TxResult(Mapping[str, Any]):
    """What a mined transaction did: hash, block, gas used, status (1 success; a reverted
    transaction raises instead of returning), and its events decoded, in log order.

    The raw web3 receipt is ``receipt``; the result also reads like it (``result["gasUsed"]``,
    ``result["logs"]``), for code written against receipts."""

    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    events: tuple[Event, ...]
    receipt: TxReceipt = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.receipt[key]  # type: ignore[literal-required]

    def __iter__(self) -> Iterator[str]:
        return iter(self.receipt)

    def __len__(self) -> int:
        return len(self.receipt)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TxResult):
            return self.tx_hash == other.tx_hash
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.tx_hash)

    @property
    def ok(self) -> bool:
        return self.status == 1

    def named(self, name: str) -> list[Event]:
        """The events called ``name`` (``result.named("Transfer")``)."""
        return [e for e in self.events if e.name == name]


def tx_result(chain: Chain, receipt: TxReceipt | TxResult) -> TxResult:
    """A receipt as a :class:`TxResult` (a result is returned as it is)."""
    if isinstance(receipt, TxResult):
        return receipt
    return TxResult(tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
                    block_number=int(receipt["blockNumber"]),
                    gas_used=int(receipt["gasUsed"]),
                    status=int(receipt.get("status", 1)),
                    events=decode_logs(chain, receipt["logs"]),
                    receipt=receipt)


def watch(chain: Chain, address: str, *, from_block: int = 0, confirmations: int = 1,
          poll_interval: float = 1.0, until_block: int | None = None,
          stop: Callable[[], bool] | None = None, names: Iterable[str] | None = None,
          chunk_size: int | None = None,
          sleep: Callable[[float], None] = time.sleep) -> Iterator[Event]:
    """Decoded events of the contract at ``address`` from ``from_block`` on, each once, in chain
    order, as their blocks become ``confirmations`` deep (1: the head block itself; 2: one block
    on top of it; ...).

    When every confirmed block is read, the generator waits ``poll_interval`` seconds (with
    ``sleep``) for the chain to grow, then reads on. It ends after ``until_block`` is read
    (once that block is confirmed), or when ``stop()`` returns true (asked before each wait and
    before each block range); without either it runs until the caller stops iterating.
    ``names`` keeps only those events. Logs are fetched in ranges of ``chunk_size`` blocks
    (:func:`munibond.ledger.fetch_logs`, which halves a range a node refuses)."""
    from munibond.ledger import DEFAULT_LOG_CHUNK, fetch_logs

    if confirmations < 1:
        raise InvalidArgument(f"confirmations must be at least 1 (1 = the head block), not "
                              f"{confirmations}")
    if from_block < 0 or (until_block is not None and until_block < from_block):
        raise InvalidArgument(f"blocks {from_block} to {until_block}: give 0 <= from_block <= "
                              f"until_block")
    if poll_interval < 0:
        raise InvalidArgument(f"poll_interval cannot be negative, not {poll_interval}")
    wanted = None if names is None else frozenset(names)
    target = to_checksum_address(address)
    chunk = chunk_size or DEFAULT_LOG_CHUNK
    next_block = from_block
    while True:
        if stop is not None and stop():
            return
        confirmed = chain.block_number() - (confirmations - 1)
        if until_block is not None:
            confirmed = min(confirmed, until_block)
        if confirmed >= next_block:
            logs = fetch_logs(chain, target, from_block=next_block, to_block=confirmed,
                              chunk_size=chunk)
            for log in logs:
                event = decode_log(chain, log)
                if event is not None and (wanted is None or event.name in wanted):
                    yield event
            next_block = confirmed + 1
        if until_block is not None and next_block > until_block:
            return
        if stop is not None and stop():
            return
        sleep(poll_interval)
