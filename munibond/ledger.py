"""The holder register and the bond's history, rebuilt from events.

What an auditor or a paying agent needs from the chain itself, without trusting an off-chain
database:

* :func:`holders` - the register at a block: every wallet with a non-zero balance, its investor id
  (from the platform's registry at that block), its balance and frozen amount as face amounts
  (``Decimal`` in the bond's currency) and whether the wallet is frozen. Balances are summed from
  the bond's ``Transfer`` events (fetched in chunks of blocks, so that a node that limits
  ``eth_getLogs`` ranges still answers) and then cross-checked, wallet by wallet, against the
  contract's own ``accountOf`` at the same block, and their total against ``totalSupply``. A
  difference raises :class:`LedgerMismatch`: it would mean a bug in the contracts or in this
  module, never something to round away.
* :func:`holders_at` - the register at a date and time: the last block at or before that instant
  (binary search on block timestamps, :func:`block_at`).
* :func:`history` - every event the bond emitted, decoded, in order, with block, timestamp,
  transaction hash and a sentence in words: mints and transfers, forced transfers with their
  reason, wallet recoveries, freezes, pauses, documents, terms and rules, roles.

Reading state at a past block needs a node that keeps that state (an archive node; anvil and the
in-process chain do). A node that does not answer for the block raises :class:`LedgerError` saying
so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Protocol, cast

from eth_hash.auto import keccak as _keccak256
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.types import FilterParams, LogReceipt

from munibond import codes
from munibond.chain import Chain, view_calls
from munibond.contracts import bond_abi, registry_abi, role_name
from munibond.exceptions import ConfigError, MunibondError, NodeUnreachable
from munibond.units import format_rate, from_units, micros_to_rate

__all__ = [
    "DEFAULT_LOG_CHUNK",
    "BondFacts",
    "Holding",
    "LedgerError",
    "LedgerEvent",
    "LedgerMismatch",
    "PhaseProgress",
    "block_at",
    "bond_facts",
    "creation_block",
    "fetch_logs",
    "history",
    "holders",
    "holders_at",
    "minted_per_wallet",
    "transfer_balances",
    "wallets_ever",
]

#: blocks per ``eth_getLogs`` request (halved automatically when a node refuses a range)
DEFAULT_LOG_CHUNK = 10_000

_ZERO = "0x" + "00" * 20
_ID_MASK = (1 << 64) - 1


#: ``progress(phase, done, total)``: a long read reports each phase as it goes
PhaseProgress = Callable[[str, int, int], None]


def _phase(progress: PhaseProgress | None, name: str) -> Callable[[int, int], None] | None:
    """``progress`` bound to one phase (None when there is no progress to report)."""
    if progress is None:
        return None
    report = progress
    return lambda done, total: report(name, done, total)


class LedgerError(MunibondError):
    """The register or history cannot be built (no such bond, a node without the needed state)."""


class LedgerMismatch(LedgerError):
    """Balances summed from events disagree with the contract's own state: a bug, never rounding."""


class _HasAddress(Protocol):
    @property
    def address(self) -> str: ...


BondRef = str | _HasAddress


@dataclass(frozen=True)
class Holding:
    """One wallet of the register at a block.

    ``balance`` and ``frozen`` are face amounts in the bond's currency (``units`` and
    ``frozen_units`` the same in token base units); ``investor_id`` is 0 when the wallet is no
    longer in the registry at that block.
    """

    wallet: str
    investor_id: int
    balance: Decimal
    units: int
    frozen: Decimal
    frozen_units: int
    wallet_frozen: bool


@dataclass(frozen=True)
class LedgerEvent:
    """One event of the bond, decoded.

    ``args`` holds the event's arguments as plain values: addresses checksummed, ``bytes32`` and
    other bytes as ``0x`` hex, structs as dicts, amounts as integer token units (exact);
    ``summary`` says what happened in words, amounts as face.
    """

    block: int
    timestamp: datetime
    tx_hash: str
    log_index: int
    event: str
    args: Mapping[str, Any]
    summary: str


@dataclass(frozen=True)
class BondFacts:
    """What the ledger needs to know about a bond to read and describe it."""

    address: str
    code: str
    decimals: int
    currency_code: str
    registry: str


# --- contracts and small helpers ---------------------------------------------------------------

def _address(bond: BondRef) -> str:
    raw = bond if isinstance(bond, str) else bond.address
    if not isinstance(raw, str) or not is_address(raw):
        raise ConfigError(f"{raw!r} is not an address")
    return to_checksum_address(raw)


def _bond_contract(chain: Chain, address: str) -> Any:
    return chain.w3.eth.contract(address=to_checksum_address(address), abi=bond_abi())


def _registry_contract(chain: Chain, address: str) -> Any:
    return chain.w3.eth.contract(address=to_checksum_address(address), abi=registry_abi())


def _call(chain: Chain, function: Any, block: int, what: str) -> Any:
    """``chain.call`` at ``block``, with a message that names the block when the node has no state
    for it (a pruned node)."""
    try:
        return chain.call(function, block)
    except NodeUnreachable:
        raise
    except MunibondError as error:
        raise LedgerError(
            f"cannot read {what} at block {block} from {chain.url}: {error}") from None
    except Exception as error:  # a node without the state of that block answers with an error
        raise LedgerError(
            f"cannot read {what} at block {block} from {chain.url} ({error}): the node may not "
            f"keep the state of past blocks; use an archive node or a later block") from None


def _has_code(chain: Chain, address: str, block: int) -> bool:
    """Whether ``address`` has code at ``block``; LedgerError when the node cannot say (no state
    for that block)."""
    try:
        return len(chain.w3.eth.get_code(to_checksum_address(address), block)) > 0
    except NodeUnreachable:
        raise
    except Exception as error:
        raise LedgerError(
            f"cannot read the code at {address} at block {block} from {chain.url} ({error}): the "
            f"node may not keep the state of past blocks; use an archive node or a later "
            f"block") from None


def _latest(chain: Chain) -> int:
    return chain.block_number()


def _check_block(chain: Chain, block: int, latest: int) -> int:
    if block < 0 or block > latest:
        raise LedgerError(f"block {block} does not exist on {chain.url} (latest is {latest})")
    return block


def bond_facts(chain: Chain, bond: BondRef, *, block: int | None = None) -> BondFacts:
    """Code, decimals, currency and registry of the bond at ``bond`` (raises LedgerError when the
    address holds no bond)."""
    address = _address(bond)
    at = _latest(chain) if block is None else block
    if not _has_code(chain, address, at):
        raise LedgerError(f"there is no contract at {address} on chain {chain.chain_id} "
                          f"(block {at}): check the bond address and the network")
    contract = _bond_contract(chain, address)
    try:
        code = str(chain.call(contract.functions.bondCode(), at))
        decimals = int(chain.call(contract.functions.decimals(), at))
        currency_code = str(chain.call(contract.functions.currencyCode(), at))
        registry = to_checksum_address(chain.call(contract.functions.registry(), at))
    except NodeUnreachable:
        raise
    except Exception as error:
        raise LedgerError(f"the contract at {address} does not answer like a munibond bond "
                          f"({error}): check the address") from None
    return BondFacts(address=address, code=code, decimals=decimals, currency_code=currency_code,
                     registry=registry)


# --- logs ----------------------------------------------------------------------------------------

_RANGE_HINTS = ("range", "too many", "limit", "exceed", "10000 results", "response size",
                "query timeout", "block range")


def fetch_logs(chain: Chain, address: str, *, from_block: int, to_block: int,
               topics: Sequence[Any] | None = None,
               chunk_size: int = DEFAULT_LOG_CHUNK,
               progress: Callable[[int, int], None] | None = None,
               raw: bool = False) -> list[LogReceipt]:
    """Logs of ``address`` in ``[from_block, to_block]``, in chain order, fetched ``chunk_size``
    blocks at a time; a chunk the node refuses as too large is split in halves and retried.
    ``progress(blocks_done, blocks_total)`` is called after each chunk. ``raw``: the node's
    answer as it is (hex strings), without web3's formatting of every field - about a
    millisecond per log, which shows on 10,000 holders."""
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be at least 1, not {chunk_size}")
    target = to_checksum_address(address)
    found: list[LogReceipt] = []
    low = from_block
    size = chunk_size
    while low <= to_block:
        high = min(to_block, low + size - 1)
        params: dict[str, Any] = {"address": target, "fromBlock": low, "toBlock": high}
        if topics is not None:  # as 0x hex: eth-tester ignores bytes topics
            params["topics"] = [None if t is None else HexBytes(t).to_0x_hex() for t in topics]
        try:
            logs = _raw_logs(chain, params) if raw and chain.tester is None \
                else chain.w3.eth.get_logs(cast(FilterParams, params))
        except NodeUnreachable:
            raise
        except Exception as error:
            text = str(error).lower()
            if high > low and any(hint in text for hint in _RANGE_HINTS):
                size = max(1, (high - low + 1) // 2)
                continue
            raise LedgerError(f"eth_getLogs for {target}, blocks {low} to {high}, failed on "
                              f"{chain.url}: {error}") from None
        found.extend(logs)
        low = high + 1
        if progress is not None:
            progress(low - from_block, to_block - from_block + 1)
        size = chunk_size if size == chunk_size else min(chunk_size, size * 2)
    found.sort(key=lambda log: (_int(log["blockNumber"]), _int(log["logIndex"])))
    return found


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _raw_logs(chain: Chain, params: Mapping[str, Any]) -> list[LogReceipt]:
    """``eth_getLogs`` straight from the provider (hex strings, no formatting)."""
    from web3.types import RPCEndpoint

    query = {**params, "fromBlock": hex(params["fromBlock"]), "toBlock": hex(params["toBlock"])}
    response = chain.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [query])
    error = response.get("error")
    if error is not None:
        message = error.get("message", error) if isinstance(error, Mapping) else error
        raise LedgerError(str(message))
    return cast(list[LogReceipt], response.get("result") or [])


def creation_block(chain: Chain, bond: BondRef, *, latest: int | None = None) -> int:
    """The block in which the contract at ``bond`` was created (binary search on ``eth_getCode``);
    0 when the node cannot answer for past blocks (the logs are then read from genesis)."""
    address = _address(bond)
    high = _latest(chain) if latest is None else latest
    if not _has_code(chain, address, high):
        raise LedgerError(f"there is no contract at {address} on chain {chain.chain_id} at "
                          f"block {high}")
    try:
        low = 0
        if _has_code(chain, address, 0):
            return 0
        while high - low > 1:  # no code at low, code at high
            middle = (low + high) // 2
            if _has_code(chain, address, middle):
                high = middle
            else:
                low = middle
        return high
    except LedgerError:  # no state for past blocks: read the logs from genesis
        return 0


# --- the register --------------------------------------------------------------------------------

_TRANSFER_TOPIC = HexBytes(keccak(text="Transfer(address,address,uint256)"))
_ZERO_TOPIC = HexBytes(b"\0" * 32)


def _topic_address(topic: Any) -> str:
    return to_checksum_address(HexBytes(topic)[-20:])


@functools.lru_cache(maxsize=65536)
def _checksum(hex40: str) -> str:
    """EIP-55 of a lowercase 40-digit hex address (eth-utils' validation costs ten times as much,
    which shows on 10,000 holders)."""
    digest = _keccak256(hex40.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if d in "89abcdef" else c
                          for c, d in zip(hex40, digest[:40], strict=True))


_ZERO_HEX = "00" * 20


def _raw(value: Any) -> bytes:
    """A topic or data field as bytes (web3 gives HexBytes; some providers hex strings)."""
    return value if isinstance(value, bytes) else bytes(HexBytes(value))


def transfer_balances(logs: Iterable[LogReceipt]) -> dict[str, int]:
    """Units per wallet from ``Transfer`` logs (mints come from, burns go to, the zero address);
    wallets that end at zero are left out."""
    balances: dict[str, int] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) != 3 or _raw(topics[0]) != _TRANSFER_TOPIC:
            continue
        sender, recipient = _raw(topics[1])[-20:].hex(), _raw(topics[2])[-20:].hex()
        value = int.from_bytes(_raw(log["data"])[:32], "big")
        if sender != _ZERO_HEX:
            balances[sender] = balances.get(sender, 0) - value
        if recipient != _ZERO_HEX:
            balances[recipient] = balances.get(recipient, 0) + value
    negative = {_checksum(w): units for w, units in balances.items() if units < 0}
    if negative:
        raise LedgerMismatch(f"Transfer events leave negative balances {negative}: the logs are "
                             f"incomplete (a chunk missing?) or the contract is broken")
    return {_checksum(w): units for w, units in balances.items() if units}


def minted_per_wallet(chain: Chain, bond: BondRef, *, from_block: int | None = None,
                      to_block: int | None = None, chunk_size: int = DEFAULT_LOG_CHUNK,
                      progress: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Units ever minted to each wallet: the sum of the bond's ``Transfer`` events from the zero
    address, whatever the wallet did with them since (sold, frozen, recovered, redeemed).

    This is what an allotment re-run counts against (:meth:`munibond.bond.Bond.allot`): a
    wallet's balance says nothing about what it was allotted once it has traded.
    ``from_block`` defaults to the bond's creation block (:func:`creation_block`), ``to_block``
    to the latest block.
    """
    address = _address(bond)
    latest = _latest(chain) if to_block is None else to_block
    start = creation_block(chain, address, latest=latest) if from_block is None else from_block
    logs = fetch_logs(chain, address, from_block=start, to_block=latest,
                      topics=[_TRANSFER_TOPIC, _ZERO_TOPIC], chunk_size=chunk_size,
                      progress=progress, raw=True)
    minted: dict[str, int] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) != 3 or HexBytes(topics[0]) != _TRANSFER_TOPIC \
                or HexBytes(topics[1]) != _ZERO_TOPIC:
            continue
        recipient = _checksum(_raw(topics[2])[-20:].hex())
        minted[recipient] = minted.get(recipient, 0) + int.from_bytes(
            _raw(log["data"])[:32], "big")
    return minted


def wallets_ever(chain: Chain, bond: BondRef, *, from_block: int | None = None,
                 chunk_size: int = DEFAULT_LOG_CHUNK) -> list[str]:
    """Every wallet that ever received units of the bond (from its ``Transfer`` events), in the
    order of first receipt: whoever may be owed a coupon or a redemption."""
    address = _address(bond)
    latest = _latest(chain)
    start = creation_block(chain, address, latest=latest) if from_block is None else from_block
    logs = fetch_logs(chain, address, from_block=start, to_block=latest,
                      topics=[_TRANSFER_TOPIC], chunk_size=chunk_size, raw=True)
    seen: dict[str, None] = {}
    for log in logs:
        topics = log["topics"]
        if len(topics) == 3 and _raw(topics[0]) == _TRANSFER_TOPIC:
            recipient = _raw(topics[2])[-20:].hex()
            if recipient != _ZERO_HEX:
                seen.setdefault(recipient, None)
    return [_checksum(wallet) for wallet in seen]


def holders(chain: Chain, bond_address: BondRef, *, at_block: int | None = None,
            from_block: int | None = None, chunk_size: int = DEFAULT_LOG_CHUNK,
            progress: PhaseProgress | None = None) -> list[Holding]:
    """The register of the bond at ``at_block`` (default: the latest block), sorted by investor id
    then wallet.

    Balances are summed from ``Transfer`` events from ``from_block`` (default: the bond's creation
    block, found by :func:`creation_block`; pass the block from the deployment record to save the
    search) and checked against the contract's ``accountOf`` and ``totalSupply`` at ``at_block``;
    any difference raises :class:`LedgerMismatch`.

    The contract's state is read in JSON-RPC batches (:meth:`Chain.call_many`), so 10,000
    holders take seconds. ``progress(phase, done, total)`` reports the two phases that take
    time: ``"reading transfer events"`` (blocks) and ``"checking balances"`` (wallets).
    """
    address = _address(bond_address)
    latest = _latest(chain)
    at = latest if at_block is None else _check_block(chain, at_block, latest)
    if not _has_code(chain, address, at):
        if _has_code(chain, address, latest):
            return []  # the bond did not exist yet at that block
        raise LedgerError(f"there is no contract at {address} on chain {chain.chain_id}: check "
                          f"the bond address and the network")
    facts = bond_facts(chain, address, block=at)
    start = creation_block(chain, address, latest=at) if from_block is None else from_block
    if start > at:
        raise LedgerError(f"from_block {start} is after the register's block {at}")
    logs = fetch_logs(chain, address, from_block=start, to_block=at, topics=[_TRANSFER_TOPIC],
                      chunk_size=chunk_size, progress=_phase(progress, "reading transfer events"),
                      raw=True)
    balances = transfer_balances(logs)

    bond = _bond_contract(chain, address)
    registry = _registry_contract(chain, facts.registry)
    supply = int(_call(chain, bond.functions.totalSupply(), at, "totalSupply"))
    summed = sum(balances.values())
    if summed != supply:
        raise LedgerMismatch(
            f"bond {facts.code} at {address}, block {at}: Transfer events sum to {summed} units "
            f"but totalSupply is {supply}" + (
                f" (did the logs start too late? from_block is {start})" if summed < supply
                else ""))
    result: list[Holding] = []
    problems: list[str] = []
    wallets = list(balances)
    accounts = view_calls(bond, "accountOf", [(w,) for w in wallets])
    records = view_calls(registry, "recordOf", [(w,) for w in wallets])
    calls = [call for pair in zip(accounts, records, strict=True) for call in pair]
    checking = _phase(progress, "checking balances")
    if checking is not None:
        checking(0, len(wallets))
    try:
        answers = chain.call_many(
            calls, at, progress=None if checking is None
            else lambda done, total: checking(done // 2, total // 2))
    except NodeUnreachable:
        raise
    except Exception as error:
        raise LedgerError(
            f"cannot read the accounts of bond {facts.code} at block {at} from {chain.url} "
            f"({error}): the node may not keep the state of past blocks; use an archive node or "
            f"a later block") from None
    for index, wallet in enumerate(wallets):
        units = balances[wallet]
        balance, frozen, wallet_frozen = answers[2 * index]
        if int(balance) != units:
            problems.append(f"{wallet}: events say {units} units, accountOf says {int(balance)}")
            continue
        record = int(answers[2 * index + 1])
        result.append(Holding(
            wallet=wallet, investor_id=record & _ID_MASK,
            balance=from_units(units, facts.decimals), units=units,
            frozen=from_units(int(frozen), facts.decimals), frozen_units=int(frozen),
            wallet_frozen=bool(wallet_frozen)))
    if problems:
        raise LedgerMismatch(f"bond {facts.code} at {address}, block {at}: balances from events "
                             f"disagree with the contract: " + "; ".join(problems))
    result.sort(key=lambda h: (h.investor_id, h.wallet.lower()))
    return result


def _timestamp(chain: Chain, block: int) -> int:
    return int(chain.w3.eth.get_block(block)["timestamp"])


def block_at(chain: Chain, when: datetime) -> int:
    """The last block whose timestamp is at or before ``when`` (a timezone-aware datetime).

    Raises LedgerError when ``when`` is before the chain's first block.
    """
    if when.tzinfo is None or when.utcoffset() is None:
        raise ConfigError(f"{when.isoformat()} has no time zone: give an aware datetime (e.g. "
                          f"datetime(2027, 6, 15, 15, tzinfo=ZoneInfo('Asia/Tokyo')))")
    target = when.timestamp()
    high = _latest(chain)
    low = 0
    # anvil restarted on a saved --state makes itself a new block 0, younger than block 1
    if high >= 1 and _timestamp(chain, 0) > _timestamp(chain, 1):
        low = 1
    if _timestamp(chain, low) > target:
        raise LedgerError(f"{when.isoformat()} is before the first block of chain "
                          f"{chain.chain_id}")
    if _timestamp(chain, high) <= target:
        return high
    while high - low > 1:  # timestamp(low) <= target < timestamp(high)
        middle = (low + high) // 2
        if _timestamp(chain, middle) <= target:
            low = middle
        else:
            high = middle
    return low


def holders_at(chain: Chain, bond: BondRef, when: datetime, *, from_block: int | None = None,
               chunk_size: int = DEFAULT_LOG_CHUNK,
               progress: PhaseProgress | None = None) -> list[Holding]:
    """The register as it stood at ``when``: :func:`holders` at the last block at or before it
    (empty when the bond did not exist yet)."""
    return holders(chain, bond, at_block=block_at(chain, when), from_block=from_block,
                   chunk_size=chunk_size, progress=progress)


# --- history -------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return to_checksum_address(value) if is_address(value) and value.startswith("0x") \
            else value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _struct(value: Any, components: Sequence[Mapping[str, Any]]) -> Any:
    """A decoded tuple as a dict keyed by the ABI's component names (recursively)."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list | tuple) and len(value) == len(components):
        out: dict[str, Any] = {}
        for item, comp in zip(value, components, strict=True):
            sub = comp.get("components")
            out[str(comp["name"])] = _struct(item, sub) if sub and \
                not str(comp["type"]).endswith("]") else item
        return out
    return value


def _role(value: Any) -> str:
    name = role_name(str(value))
    return name.removesuffix("_ROLE").lower().replace("default_admin", "admin") \
        if not name.startswith("0x") else name


def _day(timestamp: Any) -> str:
    return datetime.fromtimestamp(int(timestamp), UTC).isoformat().replace("+00:00", "Z")


def _rules_text(rules: Mapping[str, Any], face: Callable[[Any], str]) -> str:
    """A Rules struct in words."""
    from munibond.onchain import countries_from_bitmap

    parts = [f"trading unit {face(rules.get('tradingUnit', 0))}"]
    if int(rules.get("maxBalance", 0)):
        scope = "investor" if rules.get("perInvestor") else "wallet"
        parts.append(f"cap {face(rules['maxBalance'])} per {scope}")
    classes = int(rules.get("allowedClasses", 0))
    if classes:
        names = []
        for bit in range(32):
            if classes >> bit & 1:
                try:
                    names.append(codes.investor_class_name(bit))
                except Exception:
                    names.append(str(bit))
        parts.append(f"classes {', '.join(names)}")
    mode = int(rules.get("countryMode", 0))
    if mode:
        listed = []
        for numeric in countries_from_bitmap([int(w) for w in rules.get("countries", ())]):
            try:
                listed.append(codes.country_alpha2(numeric))
            except Exception:
                listed.append(str(numeric))
        parts.append(f"countries {'allowed' if mode == 1 else 'refused'}: {', '.join(listed)}")
    regions = [str(r) for r in rules.get("regions", ()) if int(r)]
    if regions:
        parts.append(f"regions {', '.join(regions)}")
    if int(rules.get("maxHolders", 0)):
        parts.append(f"at most {rules['maxHolders']} holders")
    if int(rules.get("lockupUntil", 0)):
        parts.append(f"lock-up until {_day(rules['lockupUntil'])}")
    return "; ".join(parts)


def _summarise(event: str, args: Mapping[str, Any], facts: BondFacts) -> str:
    def face(units: Any) -> str:
        return f"{from_units(int(units), facts.decimals):,} {facts.currency_code}".strip()

    if event == "Transfer":
        sender, recipient, value = args["from"], args["to"], args["value"]
        if sender == _ZERO:
            return f"minted {face(value)} to {recipient}"
        if recipient == _ZERO:
            return f"redeemed (burned) {face(value)} from {sender}"
        return f"transferred {face(value)} from {sender} to {recipient}"
    if event == "ForcedTransfer":
        frozen = int(args["frozenMoved"])
        extra = f" ({face(frozen)} of it frozen)" if frozen else ""
        return (f"forced transfer of {face(args['amount'])}{extra} from {args['from']} to "
                f"{args['to']} by transfer agent {args['agent']}, reason: {args['reason']!r}")
    if event == "WalletRecovered":
        frozen = int(args["frozenAmount"])
        extra = f" ({face(frozen)} of it frozen)" if frozen else ""
        return (f"lost wallet {args['lostWallet']} of investor {args['investorId']} recovered to "
                f"{args['newWallet']}: {face(args['amount'])}{extra} moved by transfer agent "
                f"{args['agent']}, reason: {args['reason']!r}")
    if event == "WalletFrozen":
        state = "frozen" if args["frozen"] else "unfrozen"
        return f"wallet {args['wallet']} {state} by transfer agent {args['agent']}"
    if event == "TokensFrozen":
        return (f"{face(args['amount'])} of {args['wallet']} frozen by transfer agent "
                f"{args['agent']} (now frozen: {face(args['totalFrozen'])})")
    if event == "TokensUnfrozen":
        return (f"{face(args['amount'])} of {args['wallet']} released by transfer agent "
                f"{args['agent']} (still frozen: {face(args['totalFrozen'])})")
    if event == "Paused":
        return f"transfers and mints paused by {args['account']}"
    if event == "Unpaused":
        return f"transfers and mints resumed by {args['account']}"
    if event in ("DocumentUpdated", "DocumentRemoved"):
        raw = bytes.fromhex(str(args["name"])[2:]).rstrip(b"\0")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = str(args["name"])
        verb = "set" if event == "DocumentUpdated" else "removed"
        return (f"document {name!r} {verb}: {args['uri']} (hash {args['documentHash']})")
    if event == "TermsSet":
        terms = args["terms"]
        rate = format_rate(micros_to_rate(int(terms.get("couponRate", 0))))
        return (f"terms set by {args['by']}: {terms.get('code')} {terms.get('name')!r}, "
                f"issue volume {face(terms.get('issueVolume', 0))}, denomination "
                f"{face(terms.get('denomination', 0))}, issued {_day(terms.get('issueDate', 0))}, "
                f"maturing {_day(terms.get('maturityDate', 0))}, coupon {rate} "
                f"{terms.get('couponFrequency')} times a year, redemption at "
                f"{from_units(int(terms.get('redemptionPrice', 0)), 2)}% of face")
    if event == "BondInitialized":
        return (f"bond initialised, registry {args['registry']}, rules: "
                f"{_rules_text(args['rules'], face)}")
    if event == "RulesAmended":
        return f"transfer rules amended by {args['admin']}: {_rules_text(args['rules'], face)}"
    if event == "RoleGranted":
        return f"role {_role(args['role'])} granted to {args['account']} by {args['sender']}"
    if event == "RoleRevoked":
        return f"role {_role(args['role'])} revoked from {args['account']} by {args['sender']}"
    if event == "RoleAdminChanged":
        return (f"admin role of {_role(args['role'])} changed from "
                f"{_role(args['previousAdminRole'])} to {_role(args['newAdminRole'])}")
    if event == "Approval":
        return f"{args['owner']} allowed {args['spender']} to move {face(args['value'])}"
    if event == "Initialized":
        return f"initialised (version {args['version']})"
    shown = ", ".join(f"{k}={v}" for k, v in args.items())
    return f"{event}({shown})"


def _mark_admin_transfer(found: list[LedgerEvent], name: str, args: Mapping[str, Any],
                         tx_hash: HexBytes) -> None:
    """Say on the Transfer event that goes with a forced transfer or recovery what it was (the
    contract emits Transfer first, then the event with the reason)."""
    sender = args.get("from", args.get("lostWallet"))
    recipient = args.get("to", args.get("newWallet"))
    shown = tx_hash.to_0x_hex()
    for index in range(len(found) - 1, -1, -1):
        event = found[index]
        if event.tx_hash != shown:
            break
        if event.event == "Transfer" and event.args.get("from") == sender \
                and event.args.get("to") == recipient \
                and event.args.get("value") == args.get("amount") and "(" not in event.summary:
            what = "forced transfer" if name == "ForcedTransfer" else "wallet recovery"
            found[index] = LedgerEvent(
                block=event.block, timestamp=event.timestamp, tx_hash=event.tx_hash,
                log_index=event.log_index, event=event.event, args=event.args,
                summary=f"{event.summary} ({what}: see the next event)")
            return


def history(chain: Chain, bond_address: BondRef, *, from_block: int | None = None,
            to_block: int | None = None, chunk_size: int = DEFAULT_LOG_CHUNK,
            events: Iterable[str] | None = None) -> list[LedgerEvent]:
    """Every event of the bond in ``[from_block, to_block]`` (default: creation to latest),
    decoded, in chain order; ``events`` limits it to those names (e.g. ``{"ForcedTransfer"}``).

    Logs the bond's ABI does not know are listed as ``event="unknown"`` with their raw topics and
    data, so that nothing the bond emitted is silently left out.
    """
    from munibond.events import decode_log  # events imports ledger's helpers

    address = _address(bond_address)
    latest = _latest(chain)
    end = latest if to_block is None else _check_block(chain, to_block, latest)
    facts = bond_facts(chain, address, block=latest)
    start = creation_block(chain, address, latest=latest) if from_block is None else from_block
    wanted = None if events is None else set(events)
    timestamps: dict[int, datetime] = {}

    def when(block: int) -> datetime:
        if block not in timestamps:
            timestamps[block] = datetime.fromtimestamp(_timestamp(chain, block), UTC)
        return timestamps[block]

    result: list[LedgerEvent] = []
    for log in fetch_logs(chain, address, from_block=start, to_block=end, chunk_size=chunk_size):
        decoded = decode_log(chain, log)
        if decoded is None:
            name = "unknown"
            args: dict[str, Any] = {"topics": [HexBytes(t).to_0x_hex() for t in log["topics"]],
                                    "data": HexBytes(log["data"]).to_0x_hex()}
            summary = f"an event this version of munibond does not know: {args}"
        else:
            name, args = decoded.name, dict(decoded.args)
            summary = _summarise(name, args, facts)
        if wanted is not None and name not in wanted:
            continue
        block = int(log["blockNumber"])
        if name in ("ForcedTransfer", "WalletRecovered"):
            _mark_admin_transfer(result, name, args, HexBytes(log["transactionHash"]))
        result.append(LedgerEvent(
            block=block, timestamp=when(block),
            tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            log_index=int(log["logIndex"]), event=name, args=MappingProxyType(args),
            summary=summary))
    return result
