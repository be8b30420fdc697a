"""Helpers for the contract-level tests: ABI merging, custom-error decoding, rule packing, a
deployed platform with registered investors, and a factory for bonds.

Everything here talks to the contracts directly through web3 and :class:`munibond.chain.Chain`;
nothing depends on the SDK's domain clients (other tests cover those).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.logs import DISCARD

from munibond.artifacts import load_artifact
from munibond.chain import Chain
from munibond.exceptions import RevertError, TransactionReverted
from munibond.signers import Signer

ZERO = "0x" + "00" * 20
#: gas given to every transaction (skips eth_estimateGas, which costs more than the transaction)
GAS = 3_000_000
DEPLOY_GAS = 8_000_000
YEAR = 365 * 86_400

JAPAN = 392
USA = 840
# investor classes
RETAIL, CORPORATE, PROFESSIONAL, QII, PUBLIC = 1, 2, 3, 4, 5
# JIS X 0402 codes (6 digits with check digit); the prefecture is the first two digits
KOBE = 281000  # Kobe city, Hyogo (28)
AMAGASAKI = 282022  # Amagasaki, Hyogo (28)
HIMEJI = 282014  # Himeji, Hyogo (28)
TOKYO_CHIYODA = 131016  # Chiyoda, Tokyo (13)
SAPPORO = 11002  # 011002: Sapporo, Hokkaido (01) - a leading zero, so 5 digits as an integer

# restriction codes (contracts/token/RestrictionCodes.sol)
SUCCESS = 0
PAUSED = 1
BOND_CLOSED = 2
BOND_MATURED = 3
SENDER_NOT_REGISTERED = 4
RECIPIENT_NOT_REGISTERED = 5
SENDER_KYC_EXPIRED = 6
RECIPIENT_KYC_EXPIRED = 7
SENDER_SUSPENDED = 8
RECIPIENT_SUSPENDED = 9
CLASS_NOT_ALLOWED = 10
COUNTRY_NOT_ALLOWED = 11
REGION_NOT_ALLOWED = 12
MAX_BALANCE_EXCEEDED = 13
MAX_HOLDERS_REACHED = 14
LOCKED_UP = 15
NOT_TRADING_UNIT_MULTIPLE = 16
SENDER_FROZEN = 17
RECIPIENT_FROZEN = 18
AMOUNT_FROZEN = 19
INSUFFICIENT_BALANCE = 20
INVALID_RECIPIENT = 21
ISSUE_VOLUME_EXCEEDED = 22

# the default resident bond (see Platform.rules)
UNIT = 1_000  # trading unit
DENOMINATION = 10_000
MAX_BALANCE = 100_000
MAX_HOLDERS = 5
ISSUE_VOLUME = 10_000_000


def role_id(name: str) -> bytes:
    return b"\x00" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


# ----------------------------------------------------------------------------------------------
# ABIs


def _key(entry: Mapping[str, Any]) -> tuple[Any, ...]:
    return (entry["type"], entry.get("name"),
            tuple(_canonical_type(i) for i in entry.get("inputs", [])))


def _canonical_type(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


def merged_abi(*names: str) -> list[dict[str, Any]]:
    """The ABI of the named artifacts, deduplicated by (type, name, input types), without
    constructor/fallback/receive (a bond answers BondToken's ABI and BondServicing's)."""
    seen: set[tuple[Any, ...]] = set()
    out: list[dict[str, Any]] = []
    for name in names:
        for entry in load_artifact(name).abi:
            if entry["type"] in ("constructor", "fallback", "receive"):
                continue
            key = _key(entry)
            if key in seen:
                continue
            seen.add(key)
            out.append(dict(entry))
    return out


BOND_ABI = merged_abi("BondToken", "BondServicing", "BondCoupons")


def signature(entry: Mapping[str, Any]) -> str:
    return f"{entry['name']}({','.join(_canonical_type(i) for i in entry['inputs'])})"


def _collect_errors() -> dict[bytes, dict[str, Any]]:
    errors: dict[bytes, dict[str, Any]] = {}
    for name in ("BondToken", "BondServicing", "BondCoupons", "BondFactory", "MockSettlementToken"):
        for entry in load_artifact(name).abi:
            if entry["type"] == "error":
                errors[keccak(text=signature(entry))[:4]] = dict(entry)
    return errors


ERRORS = _collect_errors()


def error_selector(sig: str) -> bytes:
    return keccak(text=sig)[:4]


@dataclass(frozen=True)
class DecodedError:
    name: str
    args: dict[str, Any]
    values: tuple[Any, ...]

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


def decode_error(data: bytes) -> DecodedError:
    """A custom error (or Error(string) / Panic(uint256)) from raw revert data."""
    if len(data) < 4:
        raise AssertionError(f"revert without an error selector (data 0x{data.hex()})")
    sel = data[:4]
    if sel == bytes.fromhex("08c379a0"):
        (reason,) = abi_decode(["string"], data[4:])
        return DecodedError("Error", {"reason": reason}, (reason,))
    if sel == bytes.fromhex("4e487b71"):
        (code,) = abi_decode(["uint256"], data[4:])
        return DecodedError("Panic", {"code": code}, (code,))
    entry = ERRORS.get(sel)
    if entry is None:
        raise AssertionError(f"unknown error selector 0x{sel.hex()} (data 0x{data.hex()})")
    types = [_canonical_type(i) for i in entry["inputs"]]
    values = tuple(_normalise(v) for v in abi_decode(types, data[4:]))
    names = [i["name"] or f"arg{n}" for n, i in enumerate(entry["inputs"])]
    return DecodedError(entry["name"], dict(zip(names, values, strict=True)), values)


def _normalise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return to_checksum_address(value)
    return value


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and expected.startswith("0x") and len(expected) == 42:
        return isinstance(actual, str) and expected.lower() == actual.lower()
    if isinstance(expected, Signer):
        return isinstance(actual, str) and expected.address.lower() == actual.lower()
    return bool(expected == actual)


def expect_revert(action: Callable[[], Any], error: str, *args: Any, **kwargs: Any) -> DecodedError:
    """Run ``action`` and check that it reverts with custom error ``error``; positional ``args``
    are compared with the error's parameters in order, keyword ones by parameter name (addresses
    and Signers compare as addresses)."""
    with pytest.raises(RevertError) as info:
        action()
    decoded = decode_error(info.value.data)
    assert decoded.name == error, f"expected {error}, got {decoded.name}{decoded.args}"
    for n, value in enumerate(args):
        assert _same(value, decoded.values[n]), (
            f"{error} parameter {n}: expected {value!r}, got {decoded.values[n]!r}")
    for name, value in kwargs.items():
        assert name in decoded.args, f"{error} has no parameter {name!r}: {decoded.args}"
        assert _same(value, decoded.args[name]), (
            f"{error}.{name}: expected {value!r}, got {decoded.args[name]!r}")
    return decoded


def addr(who: Signer | str) -> str:
    return who.address if isinstance(who, Signer) else to_checksum_address(who)


# ----------------------------------------------------------------------------------------------
# rules and records, packed as the contracts pack them


def countries_bitmap(codes: Iterable[int]) -> list[int]:
    words = [0, 0, 0, 0]
    for code in codes:
        words[code >> 8] |= 1 << (code & 255)
    return words


@dataclass
class Rules:
    tradingUnit: int = UNIT
    maxBalance: int = MAX_BALANCE
    allowedClasses: int = (1 << RETAIL) | (1 << CORPORATE)
    lockupUntil: int = 0
    maxHolders: int = MAX_HOLDERS
    countryMode: int = 1
    perInvestor: bool = False
    countries: list[int] = field(default_factory=lambda: countries_bitmap([JAPAN]))
    regions: list[int] = field(default_factory=lambda: [28, 0, 0, 0, 0, 0, 0, 0])

    def as_tuple(self) -> tuple[Any, ...]:
        regions = list(self.regions) + [0] * (8 - len(self.regions))
        return (self.tradingUnit, self.maxBalance, self.allowedClasses, self.lockupUntil,
                self.maxHolders, self.countryMode, self.perInvestor, list(self.countries),
                regions)

    def words(self) -> list[int]:
        """The seven words RulesCodec.pack makes (the clone's immutable args)."""
        regions = [r for r in self.regions if r]
        w6 = 0
        for i, r in enumerate(regions):
            w6 |= r << (32 * i)
        w1 = (self.allowedClasses | (self.lockupUntil << 32) | (self.maxHolders << 72)
              | (self.countryMode << 104) | (int(self.perInvestor) << 112)
              | (len(regions) << 120))
        return [self.tradingUnit | (self.maxBalance << 128), w1, *self.countries, w6]


@dataclass
class Investor:
    investorId: int
    country: int = JAPAN
    investorClass: int = RETAIL
    taxCategory: int = 1
    region: int = KOBE
    kycValidUntil: int = 0
    flags: int = 0

    def as_tuple(self) -> tuple[int, ...]:
        return (self.investorId, self.country, self.investorClass, self.taxCategory, self.region,
                self.kycValidUntil, self.flags)

    def packed(self) -> int:
        return (self.investorId | (self.country << 64) | (self.investorClass << 80)
                | (self.taxCategory << 88) | (self.region << 96) | (self.kycValidUntil << 128)
                | (self.flags << 168))


# ----------------------------------------------------------------------------------------------
# the platform


_codes = itertools.count(1)


@dataclass
class Platform:
    chain: Chain
    admin: Signer
    registrar: Signer
    creator: Signer
    issuer: Signer
    agent: Signer
    pauser: Signer
    stranger: Signer
    servicing: Contract
    registry: Contract  # BondToken at its own address (registry + implementation)
    factory: Contract
    wallets: dict[str, Signer]
    records: dict[str, Investor]
    t0: int

    # -- sending -------------------------------------------------------------------------------

    def send(self, signer: Signer, fn: Any, *, gas: int = GAS, precheck: bool = True) -> Any:
        return self.chain.transact(signer, fn, gas=gas, precheck=precheck)

    def mined(self, signer: Signer, fn: Any, *, gas: int = GAS) -> Any:
        """Send without the eth_call pre-check (the transaction is mined whatever happens)."""
        return self.chain.transact(signer, fn, gas=gas, precheck=False)

    def __getitem__(self, name: str) -> Signer:
        return self.wallets[name]

    # -- bonds ---------------------------------------------------------------------------------

    def terms(self, **overrides: Any) -> dict[str, Any]:
        n = next(_codes)
        t: dict[str, Any] = {
            "code": f"KOBE-{n:04d}", "isin": f"JP{n:010d}", "name": f"Kobe City Bond {n}",
            "symbol": f"KOBE{n}", "issuerName": "Kobe City", "currencyCode": "JPY",
            "currency": ZERO, "decimals": 0, "denomination": DENOMINATION,
            "issueVolume": ISSUE_VOLUME, "issueDate": self.t0,
            # no coupon: a bond with one mints nothing before its payment schedule is on chain,
            # and the payment tests (payment_helpers.setup_payments) give theirs one
            "maturityDate": self.t0 + 5 * YEAR, "couponRate": 0, "couponFrequency": 0,
            "redemptionPrice": 10_000,
        }
        t.update(overrides)
        return t

    @staticmethod
    def terms_tuple(t: Mapping[str, Any]) -> tuple[Any, ...]:
        return (t["code"], t["isin"], t["name"], t["symbol"], t["issuerName"],
                t["currencyCode"], t["currency"], t["decimals"], t["denomination"],
                t["issueVolume"], t["issueDate"], t["maturityDate"], t["couponRate"],
                t["couponFrequency"], t["redemptionPrice"])

    def roles(self) -> tuple[str, str, str, str]:
        return (self.admin.address, self.issuer.address, self.agent.address, self.pauser.address)

    def rules(self, **overrides: Any) -> Rules:
        """A realistic resident bond: every rule on (lock-up already passed)."""
        base = Rules(lockupUntil=self.t0 - 1)
        for k, v in overrides.items():
            if not hasattr(base, k):
                raise TypeError(f"no rule {k}")
            setattr(base, k, v)
        return base

    def create_bond_fn(self, rules: Rules, terms: Mapping[str, Any],
                       roles: Sequence[str] | None = None) -> Any:
        return self.factory.functions.createBond(self.terms_tuple(terms), rules.as_tuple(),
                                                 tuple(roles or self.roles()))

    def make_bond(self, rules: Rules | None = None, **term_overrides: Any) -> Contract:
        rules = rules or self.rules()
        terms = self.terms(**term_overrides)
        self.send(self.creator, self.create_bond_fn(rules, terms))
        address = self.factory.functions.bondByCode(terms["code"]).call()
        return self.bond_at(address)

    def bond_at(self, address: str) -> Contract:
        return self.chain.w3.eth.contract(address=to_checksum_address(address), abi=BOND_ABI)

    # -- registry ------------------------------------------------------------------------------

    def register(self, wallet: Signer | str, investor: Investor) -> None:
        self.send(self.registrar, self.registry.functions.registerWallet(addr(wallet),
                                                                         investor.as_tuple()))

    # -- bond operations -----------------------------------------------------------------------

    def mint(self, bond: Contract, to: Signer | str, amount: int) -> Any:
        return self.send(self.issuer, bond.functions.mint(addr(to), amount))

    def transfer(self, bond: Contract, sender: Signer, to: Signer | str, amount: int,
                 **kw: Any) -> Any:
        return self.send(sender, bond.functions.transfer(addr(to), amount), **kw)

    def detect(self, bond: Contract, sender: Signer | str | None, to: Signer | str,
               amount: int, block: Any = "latest") -> int:
        frm = ZERO if sender is None else addr(sender)
        fn = bond.functions.detectTransferRestriction(frm, addr(to), amount)
        return int(self.chain.call(fn, block))

    def account(self, bond: Contract, wallet: Signer | str) -> tuple[int, int, bool]:
        balance, frozen, wallet_frozen = bond.functions.accountOf(addr(wallet)).call()
        return int(balance), int(frozen), bool(wallet_frozen)

    def balance(self, bond: Contract, wallet: Signer | str) -> int:
        return int(bond.functions.balanceOf(addr(wallet)).call())

    def state_word(self, bond: Contract) -> int:
        return int.from_bytes(self.chain.w3.eth.get_storage_at(bond.address, 0), "big")

    # -- refusals --------------------------------------------------------------------------------

    def assert_refused(self, bond: Contract, sender: Signer | None, to: Signer | str,
                       value: int, code: int, *, via: str = "transfer") -> None:
        """``detectTransferRestriction`` says ``code``, and the transfer (or mint when ``sender``
        is None) reverts with ``TransferRestricted(code, from, to, value)`` both in the pre-check
        and when mined, leaving the balances as they were."""
        assert 1 <= code <= 22
        frm = ZERO if sender is None else sender.address
        assert self.detect(bond, sender, to, value) == code
        signer, fn = self._action(bond, sender, to, value, via)
        before = (self.balance(bond, frm), self.balance(bond, to), self.total(bond))
        expect_revert(lambda: self.send(signer, fn), "TransferRestricted",
                      code=code, **{"from": frm}, to=addr(to), value=value)
        with pytest.raises(TransactionReverted) as info:
            self.mined(signer, fn)
        decoded = decode_error(info.value.data)
        assert decoded.name == "TransferRestricted"
        assert decoded.values == (code, to_checksum_address(frm), addr(to), value)
        assert (self.balance(bond, frm), self.balance(bond, to), self.total(bond)) == before

    def assert_allowed(self, bond: Contract, sender: Signer | None, to: Signer | str,
                       value: int, *, via: str = "transfer") -> Any:
        """``detectTransferRestriction`` says 0 and the transfer (or mint) goes through and moves
        exactly ``value``."""
        frm = ZERO if sender is None else sender.address
        assert self.detect(bond, sender, to, value) == SUCCESS
        before_from, before_to = self.balance(bond, frm), self.balance(bond, to)
        total = self.total(bond)
        signer, fn = self._action(bond, sender, to, value, via)
        receipt = self.send(signer, fn)
        if sender is None:
            assert self.balance(bond, to) == before_to + value
            assert self.total(bond) == total + value
        elif addr(to) == frm:
            assert self.balance(bond, to) == before_to
        else:
            assert self.balance(bond, frm) == before_from - value
            assert self.balance(bond, to) == before_to + value
            assert self.total(bond) == total
        return receipt

    def refused_at(self, timestamp: int, bond: Contract, sender: Signer | None,
                   to: Signer | str, value: int, code: int) -> None:
        """At exactly ``timestamp`` (the next block): detect says ``code``, the call reverts with
        TransferRestricted(code, ...), and the mined transaction (in a block at ``timestamp``)
        fails without moving anything."""
        frm = ZERO if sender is None else sender.address
        self.at(timestamp)
        assert self.detect(bond, sender, to, value, block="pending") == code
        signer, fn = self._action(bond, sender, to, value, "transfer")
        expect_revert(lambda: self.chain.call(fn, block="pending", sender=signer),
                      "TransferRestricted", code, frm, addr(to), value)
        before = (self.balance(bond, frm), self.balance(bond, to))
        with pytest.raises(TransactionReverted) as info:
            self.mined(signer, fn)
        block = self.chain.w3.eth.get_block(info.value.receipt["blockNumber"])
        assert block["timestamp"] == timestamp
        assert (self.balance(bond, frm), self.balance(bond, to)) == before

    def allowed_at(self, timestamp: int, bond: Contract, sender: Signer | None,
                   to: Signer | str, value: int) -> None:
        """At exactly ``timestamp`` (the next block): detect says 0 and the transaction, mined in
        a block at ``timestamp``, moves ``value``."""
        self.at(timestamp)
        assert self.detect(bond, sender, to, value, block="pending") == SUCCESS
        before_to = self.balance(bond, to)
        signer, fn = self._action(bond, sender, to, value, "transfer")
        receipt = self.mined(signer, fn)
        assert self.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == timestamp
        assert self.balance(bond, to) == before_to + value

    def _action(self, bond: Contract, sender: Signer | None, to: Signer | str, value: int,
                via: str) -> tuple[Signer, Any]:
        if sender is None:
            return self.issuer, bond.functions.mint(addr(to), value)
        if via == "transfer":
            return sender, bond.functions.transfer(addr(to), value)
        raise ValueError(via)

    def total(self, bond: Contract) -> int:
        return int(bond.functions.totalSupply().call())

    def holders(self, bond: Contract) -> int:
        return int(bond.functions.holderCount().call())

    # -- time ----------------------------------------------------------------------------------

    def pinned_now(self) -> int:
        """Pin the next block at one second after the latest and return that time: a margin
        added to it is measured from a block whose time is known, not from the machine's clock
        (the chain fixture also freezes the clock, see ``Chain.freeze_clock``)."""
        timestamp = self.chain.now() + 1
        self.chain.set_next_timestamp(timestamp)
        return timestamp

    def at(self, timestamp: int) -> None:
        """Make the next block (and calls at "pending") run at exactly ``timestamp``."""
        self.chain.set_next_timestamp(timestamp)

    def warp_to(self, timestamp: int) -> None:
        """Mine an empty block at exactly ``timestamp`` (calls at "latest" then run at it)."""
        self.chain.set_next_timestamp(timestamp)
        self.chain.mine()


def events(contract: Contract, receipt: Any, name: str) -> list[dict[str, Any]]:
    """The decoded ``name`` events that ``contract`` emitted in ``receipt`` (args as dicts)."""
    found = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return [dict(e["args"]) for e in found if e["address"] == contract.address]


def raw_storage(chain: Chain, address: str, slot: int) -> int:
    """A storage word read straight from the in-process chain's latest state (fast)."""
    state = chain.tester.backend.chain.get_vm().state
    return int(state.get_storage(to_canonical_address(address), slot))


def mapping_slot(key: bytes, slot: int) -> int:
    return int.from_bytes(keccak(key.rjust(32, b"\x00") + slot.to_bytes(32, "big")), "big")


def account_slot(wallet: str) -> int:
    """Slot of ``_accounts[wallet]`` (BondStorage: mapping at slot 1)."""
    return mapping_slot(to_canonical_address(wallet), 1)


def investor_units_slot(investor_id: int) -> int:
    """Slot of ``_investorUnits[id]`` (BondStorage: mapping at slot 3)."""
    return mapping_slot(investor_id.to_bytes(8, "big"), 3)


BALANCE_MASK = (1 << 104) - 1


def unpack_account(word: int) -> tuple[int, int, bool]:
    return word & BALANCE_MASK, (word >> 104) & BALANCE_MASK, bool((word >> 208) & 1)


def interface_id(selectors: Iterable[str]) -> bytes:
    value = 0
    for sig in selectors:
        value ^= int.from_bytes(keccak(text=sig)[:4], "big")
    return value.to_bytes(4, "big")


STATE_PAUSED = 1 << 200
STATE_CLOSED = 1 << 201
STATE_RULES_AMENDED = 1 << 202
STATE_ISSUED = 1 << 203


def set_storage(chain: Chain, address: str, slot: int, value: int) -> None:
    """Write a storage word and mine a block (local chains only). No contract function closes a
    bond yet (redemption is future work), so tests of the CLOSED flag set it this way."""
    if chain.tester is not None:
        evm_chain = chain.tester.backend.chain
        state = evm_chain.get_vm(evm_chain.header).state
        state.set_storage(to_canonical_address(address), slot, value)
        state.persist()
        evm_chain.header = evm_chain.header.copy(state_root=state.state_root)
    else:
        chain.w3.manager.request_blocking(
            "anvil_setStorageAt", [address, hex(slot), "0x" + value.to_bytes(32, "big").hex()])
    chain.mine()


def close_bond(chain: Chain, bond: Contract) -> None:
    word = int.from_bytes(chain.w3.eth.get_storage_at(bond.address, 0), "big")
    set_storage(chain, bond.address, 0, word | STATE_CLOSED)


def fast_call(chain: Chain, fn: Any, block: str = "latest") -> Any:
    """``fn.call()`` straight through the in-process chain's eth-tester (no web3 middleware:
    several times faster; for the property tests' many reads). Reverts raise eth-tester's
    TransactionFailed. A single output is returned bare, several as a tuple."""
    data = fn._encode_transaction_data()
    raw = chain.tester.call({"from": ZERO, "to": fn.address, "data": data, "gas": GAS,
                             "gas_price": 0}, block)
    types = [_canonical_type(o) for o in fn.abi["outputs"]]
    out = bytes.fromhex(raw[2:]) if isinstance(raw, str) else bytes(raw)
    values = abi_decode(types, out)
    return values[0] if len(values) == 1 else tuple(values)
