"""One bond: its terms and rules, balances, pre-checks, and what its role holders can do.

A bond is an EIP-1167 clone created by the platform's factory; :class:`Bond` talks to it with the
merged ABI of ``BondToken`` and ``BondServicing`` (:func:`munibond.contracts.bond_abi`)::

    bond = Bond(chain, address)
    bond.terms().maturity_date, bond.trading_unit          # decoded, cached
    bond.check_transfer(alice, bob, "10000")               # Restriction(code, message, hint, ok)
    bond.transfer(alice_signer, bob, "10000")              # pre-checked; raises before sending

Amounts are face amounts in the bond's currency (``Decimal``, or a decimal string, or an int) at
this API's edge and exact integers on chain; an amount finer than the bond's trading unit raises
:class:`~munibond.exceptions.AmountError` before anything is sent.

Every state-changing method takes the signer first and checks before it sends: the signer's role
(:class:`~munibond.exceptions.MissingRole`), the transfer rules for transfers and mints
(:class:`~munibond.exceptions.TransferRestricted` with the ERC-1404 code), freeze amounts against
the balance, wallet recovery between wallets of one investor; then the chain pre-checks the exact
call with ``eth_call``. A refusal at any of these steps raises the decoded contract error and sends
nothing. They return a :class:`~munibond.events.TxResult` (hash, block, gas used, status, the
decoded events; the raw receipt as ``.receipt``), a list of them for the batch operations.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from munibond._client import (
    ContractClient,
    Progress,
    address_arg,
    check_chunk_size,
    chunks,
    signer_address,
)
from munibond.contracts import (
    DEFAULT_ADMIN_ROLE,
    ISSUER_ROLE,
    PAUSER_ROLE,
    TRANSFER_AGENT_ROLE,
    bond_abi,
)
from munibond.errors import contract_error
from munibond.events import Event, watch
from munibond.exceptions import (
    AmountError,
    BeforeIssueDate,
    InvalidArgument,
    MunibondError,
    TransferRestricted,
)
from munibond.onchain import ZERO_ADDRESS, BondRules, BondTerms
from munibond.registry import Registry
from munibond.restrictions import Restriction, restriction
from munibond.units import from_units, to_units

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from munibond.chain import Chain
    from munibond.events import TxResult
    from munibond.payments import Coupons, Redemption

__all__ = ["AllotmentLine", "AllotmentPlan", "AlreadyMintedPolicy", "Amount", "Bond",
           "BondAccount", "Document", "PhaseProgress"]

#: An amount of face: a ``Decimal``, a decimal string (``"10000.5"``) or an int. Never a float.
Amount = Decimal | str | int

#: How :meth:`Bond.mint_many` treats wallets that already hold units (see there).
AlreadyMintedPolicy = Literal["top_up", "skip_holders", "none"]

#: ``progress(phase, done, total)``: a long operation reports each phase as it goes
PhaseProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class AllotmentLine:
    """One line of an allotment, as :meth:`Bond.plan_allotment` found it on chain.

    ``amount`` is what the line allots to ``wallet``; ``minted`` what the bond's mint events
    (``Transfer`` from the zero address) have already given the wallet, whatever it did with the
    units since; ``to_mint`` the rest (never negative). ``verdict`` is the bond's pre-check of
    minting ``to_mint`` now (None when there is nothing to mint). Amounts are face;
    ``*_units`` the integers.
    """

    index: int
    wallet: str
    amount: Decimal
    minted: Decimal
    to_mint: Decimal
    amount_units: int
    minted_units: int
    to_mint_units: int
    verdict: Restriction | None

    @property
    def done(self) -> bool:
        """Already minted in full: nothing to send for this line."""
        return self.to_mint_units == 0

    @property
    def refused(self) -> bool:
        """The bond would refuse minting the rest now."""
        return self.verdict is not None and not self.verdict.ok


@dataclass(frozen=True, slots=True)
class AllotmentPlan:
    """What an allotment still needs, line by line, and when it is asked for (see
    :meth:`Bond.plan_allotment`)."""

    lines: tuple[AllotmentLine, ...]
    issue_date: datetime
    #: the chain's latest block time when the plan was made
    chain_time: datetime

    @property
    def pending(self) -> list[AllotmentLine]:
        """Lines with something to mint that the bond allows."""
        return [line for line in self.lines if not line.done and not line.refused]

    @property
    def refused(self) -> list[AllotmentLine]:
        return [line for line in self.lines if line.refused]

    @property
    def done(self) -> list[AllotmentLine]:
        """Lines already minted in full."""
        return [line for line in self.lines if line.done]

    @property
    def to_mint(self) -> Decimal:
        """Face the pending lines would mint."""
        return sum((line.to_mint for line in self.pending), Decimal(0))

    @property
    def before_issue_date(self) -> bool:
        """Whether the chain's clock is still before the bond's issue date."""
        return self.chain_time < self.issue_date


@dataclass(frozen=True, slots=True)
class BondAccount:
    """A wallet's state in one bond: balance, the frozen part of it, and the whole-wallet
    freeze. Amounts are face in the bond's currency; ``*_units`` keep the integers."""

    wallet: str
    balance: Decimal
    frozen: Decimal
    wallet_frozen: bool
    balance_units: int
    frozen_units: int

    @property
    def free(self) -> Decimal:
        """The part of the balance that is not frozen (what the wallet may send, unless frozen
        as a whole)."""
        return self.balance - self.frozen

    @property
    def free_units(self) -> int:
        return self.balance_units - self.frozen_units


@dataclass(frozen=True, slots=True)
class Document:
    """An ERC-1643 document of the bond: name, URI, SHA-256 of the content, last change."""

    name: str
    uri: str
    sha256: bytes
    last_modified: datetime

    @property
    def sha256_hex(self) -> str:
        return self.sha256.hex()


def _document_name(name: str | bytes) -> bytes:
    """A document name as ``bytes32`` (UTF-8, right-padded with zeros)."""
    raw = name.encode() if isinstance(name, str) else bytes(name)
    raw = raw.rstrip(b"\0") if isinstance(name, bytes) else raw
    if not raw or len(raw) > 32:
        raise InvalidArgument(f"document name {name!r}: 1 to 32 bytes of UTF-8 (stored as "
                              f"bytes32), got {len(raw)}")
    return raw.ljust(32, b"\0")


def _sha256(value: bytes | str) -> bytes:
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("0x")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = b""
    else:
        raw = bytes(value)
    if len(raw) != 32:
        raise InvalidArgument(f"document hash: expected the 32-byte SHA-256 digest (64 hex "
                              f"digits), got {value!r}")
    return raw


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise contract_error("ReasonRequired")
    return reason


class Bond(ContractClient):
    """The bond at ``address`` on ``chain``.

    ``terms()``, ``rules()`` and what derives from them (``decimals``, ``trading_unit``) are read
    once and cached; call :meth:`refresh` after the admin amends terms or rules. Everything else
    is read from the chain on each call.
    """

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address, bond_abi(), what="bond")
        self._zone: tzinfo | Callable[[], tzinfo] | None = None

    # -- terms and rules (cached) ------------------------------------------------------------

    @functools.cached_property
    def _terms(self) -> BondTerms:
        return BondTerms.from_tuple(self._call("terms"))

    @functools.cached_property
    def _rules(self) -> BondRules:
        return BondRules.from_tuple(self._call("rules"), self._terms.decimals)

    @functools.cached_property
    def _registry(self) -> Registry:
        return Registry(self.chain, str(self._call("registry")))

    @functools.cached_property
    def coupons(self) -> Coupons:
        """Coupons: schedule, funding, claims, batch payments, withholding tax
        (:class:`munibond.payments.Coupons`)."""
        from munibond.payments import Coupons

        return Coupons(self)

    @functools.cached_property
    def redemption(self) -> Redemption:
        """Principal: the final redemption, amortisation and the issuer's call
        (:class:`munibond.payments.Redemption`)."""
        from munibond.payments import Redemption

        return Redemption(self)

    def refresh(self) -> None:
        """Forget the cached terms and rules (after an amendment)."""
        for name in ("_terms", "_rules", "coupons", "redemption"):
            self.__dict__.pop(name, None)

    def terms(self) -> BondTerms:
        """The bond's terms, decoded (cached)."""
        return self._terms

    def rules(self) -> BondRules:
        """The bond's transfer rules, decoded (cached)."""
        return self._rules

    @property
    def code(self) -> str:
        return self._terms.code

    @property
    def decimals(self) -> int:
        """Token decimals: one base unit is ``10**-decimals`` of the currency's face."""
        return self._terms.decimals

    @property
    def trading_unit(self) -> Decimal:
        """The smallest transferable face amount (every amount is a multiple of it)."""
        return self._rules.trading_unit

    @property
    def registry(self) -> Registry:
        """The investor registry the bond reads."""
        return self._registry

    # -- amounts -----------------------------------------------------------------------------

    def to_units(self, amount: Amount, *, what: str = "amount") -> int:
        """``amount`` of face in base units. Raises :class:`AmountError` naming the trading unit
        when it is finer than the trading unit (or negative, or not a number)."""
        try:
            return to_units(amount, self.decimals, unit=self._rules.trading_unit_units,
                            what=what)
        except AmountError as error:
            unit = f"{self.trading_unit} {self._terms.currency_code}"
            raise AmountError(f"{error}; amounts of this bond are multiples of its trading unit, "
                              f"{unit}") from None

    def from_units(self, units: int) -> Decimal:
        """Base units as face in the bond's currency."""
        return from_units(units, self.decimals)

    # -- state -------------------------------------------------------------------------------

    def balance_of(self, wallet: str) -> Decimal:
        """Face held by ``wallet`` (frozen part included)."""
        return self.from_units(int(self._call("balanceOf", address_arg(wallet, "wallet"))))

    def account(self, wallet: str) -> BondAccount:
        """Balance, frozen part and wallet freeze of ``wallet``."""
        who = address_arg(wallet, "wallet")
        balance, frozen, wallet_frozen = self._call("accountOf", who)
        return BondAccount(who, self.from_units(int(balance)), self.from_units(int(frozen)),
                           bool(wallet_frozen), int(balance), int(frozen))

    def total_supply(self) -> Decimal:
        """Face issued and outstanding."""
        return self.from_units(int(self._call("totalSupply")))

    def holder_count(self) -> int:
        """Number of holders (wallets, or investors when the rules count per investor)."""
        return int(self._call("holderCount"))

    def investor_balance(self, investor_id: int) -> Decimal:
        """Face held by all wallets of ``investor_id`` (kept only when the rules count per
        investor)."""
        return self.from_units(int(self._call("investorBalance", investor_id)))

    def paused(self) -> bool:
        """Whether transfers and mints are paused."""
        return bool(self._call("paused"))

    def closed(self) -> bool:
        """True once the bond is closed: every unit redeemed, or retired before issue."""
        return bool(self._call("closed"))

    def retire(self, signer: LocalAccount) -> TxResult:
        """Retire a bond that never issued a unit (admin): closed for good, so that the factory
        can free its code for a corrected bond (``Factory.release_code``)."""
        self.require_role(DEFAULT_ADMIN_ROLE, signer_address(signer))
        if self.issued():
            raise contract_error("TermsFixedAfterIssue")
        if self.closed():
            raise contract_error("AlreadyInState")
        return self._transact(signer, "retire")

    def issued(self) -> bool:
        """Whether any unit has been issued (the terms are fixed from then on)."""
        return bool(self._call("issued"))

    # -- pre-checks --------------------------------------------------------------------------

    def _detect(self, sender: str, to: str, units: int) -> Restriction:
        found = restriction(int(self._call("detectTransferRestriction", sender, to, units)))
        if found.ok:
            return found
        try:
            detail = self._detail(found.code, sender, to, units)
        except MunibondError:
            detail = ""  # the numbers are a courtesy: never hide the refusal behind them
        return dataclasses.replace(found, detail=detail) if detail else found

    @property
    def time_zone(self) -> tzinfo:
        """The zone times of this bond are shown in: set it (the CLI sets the term sheet's,
        e.g. ``ZoneInfo("Asia/Tokyo")``); by default the offset its payment schedule was made in,
        else UTC."""
        if self._zone is None:
            from munibond.times import zone_of_schedule

            self._zone = zone_of_schedule(self) or UTC
        elif not isinstance(self._zone, tzinfo):
            self._zone = self._zone()
        return self._zone

    @time_zone.setter
    def time_zone(self, zone: tzinfo) -> None:
        self._zone = zone

    def time_zone_from(self, provider: Callable[[], tzinfo]) -> None:
        """Take :attr:`time_zone` from ``provider`` when it is first needed (reading a term
        sheet to find it costs time that most calls do not need to spend)."""
        self._zone = provider
    def _money(self, amount: Decimal) -> str:
        return f"{amount:,} {self._terms.currency_code}"

    def _detail(self, code: int, sender: str, to: str, units: int) -> str:
        """The numbers behind restriction ``code`` for this transfer or mint, in the bond's
        currency and time zone ("" when there is nothing to add)."""
        from munibond.times import format_time

        rules = self.rules()
        amount = self.from_units(units)
        if code == 15 and rules.lockup_until is not None:  # LOCKED_UP
            return f"locked up until {format_time(rules.lockup_until, self.time_zone)}"
        if code == 13 and rules.max_balance is not None:  # MAX_BALANCE_EXCEEDED
            held, whose = self.balance_of(to), "the recipient wallet holds"
            if rules.per_investor:
                record = self.registry.investor(to)
                if record is not None:
                    held = self.investor_balance(record.investor_id)
                    whose = f"investor {record.investor_id} holds (all wallets)"
            unit = rules.trading_unit
            room = max(rules.max_balance - held, Decimal(0))
            room -= room % unit if unit else 0
            return (f"{whose} {self._money(held)} of the maximum holding "
                    f"{self._money(rules.max_balance)}: at most {self._money(room)} more fits, "
                    f"not {self._money(amount)}")
        if code in (19, 20):  # AMOUNT_FROZEN, INSUFFICIENT_BALANCE
            account = self.account(sender)
            free = account.balance - account.frozen
            if code == 20:
                return (f"the sender holds {self._money(account.balance)}, not "
                        f"{self._money(amount)}")
            return (f"the sender holds {self._money(account.balance)}, of which "
                    f"{self._money(account.frozen)} frozen: at most {self._money(free)} is "
                    f"transferable, not {self._money(amount)}")
        if code in (6, 7):  # SENDER_KYC_EXPIRED, RECIPIENT_KYC_EXPIRED
            wallet = sender if code == 6 else to
            record = self.registry.investor(wallet)
            if record is not None:
                return (f"the KYC of {wallet} expired at "
                        f"{format_time(record.kyc_valid_until, self.time_zone)}")
        if code == 14 and rules.max_holders:  # MAX_HOLDERS_REACHED
            return f"{self.holder_count():,} of at most {rules.max_holders:,} holders"
        if code == 16:  # NOT_TRADING_UNIT_MULTIPLE
            return f"the trading unit is {self._money(rules.trading_unit)}"
        if code == 22:  # ISSUE_VOLUME_EXCEEDED
            supply, volume = self.total_supply(), self._terms.issue_volume
            return (f"issued {self._money(supply)} of {self._money(volume)}: at most "
                    f"{self._money(max(volume - supply, Decimal(0)))} more can be minted, not "
                    f"{self._money(amount)}")
        return ""

    def check_transfer(self, sender: str, to: str, amount: Amount) -> Restriction:
        """What the bond would say to a transfer of ``amount`` from ``sender`` to ``to`` now
        (``.ok``, ``.code``, ``.message``, ``.hint``)."""
        return self._detect(address_arg(sender, "sender"), address_arg(to, "recipient"),
                            self.to_units(amount))

    def message_for(self, code: int) -> str:
        """The bond's own ERC-1404 message for restriction ``code``
        (``messageForTransferRestriction``)."""
        return str(self._call("messageForTransferRestriction", code))

    def check_mint(self, to: str, amount: Amount) -> Restriction:
        """What the bond would say to minting ``amount`` to ``to`` now."""
        return self._detect(ZERO_ADDRESS, address_arg(to, "recipient"), self.to_units(amount))

    def check_mint_many(self, allotments: Sequence[tuple[str, Amount]]) -> list[Restriction]:
        """:meth:`check_mint` for each allotment, each against the current state (the lines'
        effects on each other, such as two wallets of one investor under a per-investor cap,
        are not included)."""
        return [self.check_mint(wallet, amount) for wallet, amount in allotments]

    def _refuse(self, found: Restriction, sender: str, to: str, units: int) -> None:
        if not found.ok:
            raise TransferRestricted(found.code, found.message,
                                     args={"from": sender, "to": to, "value": units},
                                     detail=found.detail)

    # -- issuer ------------------------------------------------------------------------------

    def mint(self, signer: LocalAccount, to: str, amount: Amount) -> TxResult:
        """Mint (allot) ``amount`` to ``to`` (issuer only)."""
        who = address_arg(to, "recipient")
        units = self.to_units(amount)
        self.require_role(ISSUER_ROLE, signer_address(signer))
        self._refuse(self._detect(ZERO_ADDRESS, who, units), ZERO_ADDRESS, who, units)
        return self._transact(signer, "mint", who, units)

    def mint_many(self, signer: LocalAccount, allotments: Sequence[tuple[str, Amount]], *,
                  chunk_size: int = 50, progress: Progress | None = None,
                  already_minted: AlreadyMintedPolicy = "top_up") -> list[TxResult]:
        """Mint an allotment, ``chunk_size`` lines per transaction (``mintBatch``, all or nothing
        per transaction).

        For a primary allotment use :meth:`allot`: it counts each line against what was already
        minted to the wallet (mint events), so a re-run after trading mints nothing, and it
        refuses to allot before the issue date. Here ``already_minted`` says what a wallet's
        current *balance* means (which stops meaning anything once holders trade):

        * ``"top_up"`` (default): each amount is the wallet's *target* holding; only the
          difference between the target and the current balance is minted, and nothing when the
          wallet holds the target or more. A re-run after a crash mints exactly what is missing.
          A wallet that already holds units from elsewhere (an earlier allotment, a transfer)
          gets only the rest: allot once per bond, or compute targets including earlier
          allotments.
        * ``"skip_holders"``: wallets holding anything are skipped; the others get the full
          amount.
        * ``"none"``: mint every amount in full (not safe to re-run).

        Every line is checked before anything is sent: the amounts (multiples of the trading
        unit), the signer's ISSUER_ROLE, and each line's mint restriction against the current
        state; the first refused line raises :class:`TransferRestricted` (use
        :meth:`check_mint_many` to list them all). A wallet listed twice is an error.
        ``progress(done, total)`` is called after each transaction with the lines minted so far
        and the number of lines to mint. Returns one receipt per transaction sent.
        """
        if already_minted not in ("top_up", "skip_holders", "none"):
            raise InvalidArgument(f"already_minted must be 'top_up', 'skip_holders' or 'none', "
                                  f"not {already_minted!r}")
        check_chunk_size(chunk_size)
        targets = self._allotment_targets(allotments)
        self.require_role(ISSUER_ROLE, signer_address(signer))
        pending: list[tuple[str, int]] = []
        for who, target in targets.items():
            if already_minted == "none":
                units = target
            else:
                held = int(self._call("balanceOf", who))
                # top_up: mint what is missing; skip_holders: nothing for a wallet that holds
                units = target - held if already_minted == "top_up" else (0 if held else target)
            if units > 0:
                pending.append((who, units))
        return self._checked_batches(signer, "mintBatch", ZERO_ADDRESS, pending, chunk_size,
                                     progress)

    def _allotment_targets(self, allotments: Sequence[tuple[str, Amount]]) -> dict[str, int]:
        """wallet -> units of each allotment line, in order; a wallet listed twice, a bad
        address or an amount finer than the trading unit raises before anything is read."""
        targets: dict[str, int] = {}
        for index, (wallet, amount) in enumerate(allotments):
            who = address_arg(wallet, f"allotments[{index}] wallet")
            if who in targets:
                raise InvalidArgument(f"allotments[{index}]: wallet {who} is listed twice; give "
                                      f"each wallet one line (its whole allotment)")
            targets[who] = self.to_units(amount, what=f"allotments[{index}] amount")
        return targets

    def plan_allotment(self, allotments: Sequence[tuple[str, Amount]], *,
                       from_block: int | None = None,
                       progress: PhaseProgress | None = None) -> AllotmentPlan:
        """What minting ``allotments`` (wallet, face amount) would still do; sends nothing.

        A line's amount counts against what the bond has already minted to its wallet (the sum
        of its mint events), never against its balance: a holder who sold part of an allotment
        is not topped up again, and a re-run after a crash, or of a finished allotment, mints
        only what is missing. So a wallet's amount is its whole allotment from the bond: list a
        wallet's total in a later allotment file, not only the new part. Each remainder is
        pre-checked against the bond's rules now (in JSON-RPC batches). ``from_block`` is where
        the mint events start (default: the bond's creation block, found by a search).
        ``progress(phase, done, total)`` reports ``"reading mints"`` (blocks) and
        ``"pre-checking"`` (lines). A wallet listed twice, or an amount finer than the trading
        unit, raises before anything is read.
        """
        from munibond.chain import view_calls
        from munibond.ledger import minted_per_wallet

        targets = self._allotment_targets(allotments)
        order = list(enumerate(targets))  # (line index, wallet), in the lines' order
        reading = None if progress is None else (
            lambda done, total: progress("reading mints", done, total))
        latest = self.chain.block_number()
        minted = minted_per_wallet(self.chain, self.address, from_block=from_block,
                                   to_block=latest, progress=reading)
        rest = {who: max(0, target - minted.get(who, 0)) for who, target in targets.items()}
        asked = [who for who in targets if rest[who] > 0]
        if progress is not None:
            progress("pre-checking", 0, len(asked))
        codes = self.chain.call_many(
            view_calls(self.contract, "detectTransferRestriction",
                       [(ZERO_ADDRESS, who, rest[who]) for who in asked]),
            latest, progress=None if progress is None
            else lambda done, total: progress("pre-checking", done, total))
        verdicts = {who: restriction(int(code)) for who, code in zip(asked, codes, strict=True)}
        lines = tuple(AllotmentLine(
            index=index, wallet=who, amount=self.from_units(targets[who]),
            minted=self.from_units(minted.get(who, 0)), to_mint=self.from_units(rest[who]),
            amount_units=targets[who], minted_units=minted.get(who, 0), to_mint_units=rest[who],
            verdict=verdicts.get(who)) for index, who in order)
        block_time = int(self.chain.w3.eth.get_block(latest)["timestamp"])
        return AllotmentPlan(lines=lines, issue_date=self._terms.issue_date,
                             chain_time=datetime.fromtimestamp(block_time, UTC))

    def allot(self, signer: LocalAccount,
              allotments: Sequence[tuple[str, Amount]] | AllotmentPlan, *,
              before_issue_date: bool = False, skip_refused: bool = False,
              chunk_size: int = 50, from_block: int | None = None,
              progress: PhaseProgress | None = None) -> list[TxResult]:
        """Allot: mint to each wallet what its line still lacks (see :meth:`plan_allotment`),
        ``chunk_size`` lines per ``mintBatch`` transaction. Safe to re-run at any time, also
        after trading: what was minted is never minted again.

        Book entry happens on the issue (payment) date: before the bond's ``issueDate`` on the
        chain's clock this raises :class:`~munibond.exceptions.BeforeIssueDate` unless
        ``before_issue_date=True``. A line the bond refuses raises
        :class:`TransferRestricted` before anything is sent, unless ``skip_refused`` (then it is
        left out). ``allotments`` may be a plan made just before (it is not read again).
        ``progress(phase, done, total)`` reports the reading phases and ``"minting"`` (lines).
        The signer needs the bond's ISSUER_ROLE. Returns one receipt per transaction.
        """
        check_chunk_size(chunk_size)
        plan = allotments if isinstance(allotments, AllotmentPlan) else \
            self.plan_allotment(allotments, from_block=from_block, progress=progress)
        if plan.before_issue_date and not before_issue_date:
            raise BeforeIssueDate(
                f"bond {self.code} is issued on {plan.issue_date.isoformat()} and the chain's "
                f"clock is at {plan.chain_time.isoformat()}: allotments are booked on the issue "
                f"(payment) date; allot from then, or pass before_issue_date=True to allot now "
                f"anyway", issue_date=plan.issue_date, chain_time=plan.chain_time)
        self.require_role(ISSUER_ROLE, signer_address(signer))
        if plan.refused and not skip_refused:
            first = plan.refused[0]
            assert first.verdict is not None
            raise TransferRestricted(first.verdict.code, first.verdict.message,
                                     args={"from": ZERO_ADDRESS, "to": first.wallet,
                                           "value": first.to_mint_units})
        pending = [(line.wallet, line.to_mint_units) for line in plan.pending]
        receipts: list[TxResult] = []
        done = 0
        if progress is not None and pending:
            progress("minting", 0, len(pending))
        for chunk in chunks(pending, chunk_size):
            receipts.append(self._transact(signer, "mintBatch", [w for w, _ in chunk],
                                           [u for _, u in chunk]))
            done += len(chunk)
            if progress is not None:
                progress("minting", done, len(pending))
        return receipts

    # -- holders -----------------------------------------------------------------------------

    def transfer(self, signer: LocalAccount, to: str, amount: Amount) -> TxResult:
        """Transfer ``amount`` from the signer's wallet to ``to``, under the bond's rules."""
        sender = signer_address(signer)
        who = address_arg(to, "recipient")
        units = self.to_units(amount)
        self._refuse(self._detect(sender, who, units), sender, who, units)
        return self._transact(signer, "transfer", who, units)

    def transfer_many(self, signer: LocalAccount, transfers: Sequence[tuple[str, Amount]], *,
                      chunk_size: int = 50,
                      progress: Progress | None = None) -> list[TxResult]:
        """Transfer from the signer's wallet to many recipients, ``chunk_size`` per transaction
        (``batchTransfer``, all or nothing per transaction).

        Each line is checked first against the current state (the first refused one raises
        :class:`TransferRestricted`). Transfers are not idempotent: after a crash, look at the
        balances before sending again. ``progress(done, total)`` counts lines.
        """
        check_chunk_size(chunk_size)
        sender = signer_address(signer)
        lines = [(address_arg(wallet, f"transfers[{i}] wallet"),
                  self.to_units(amount, what=f"transfers[{i}] amount"))
                 for i, (wallet, amount) in enumerate(transfers)]
        return self._checked_batches(signer, "batchTransfer", sender, lines, chunk_size, progress)

    def _checked_batches(self, signer: LocalAccount, function: str, sender: str,
                         lines: Sequence[tuple[str, int]], chunk_size: int,
                         progress: Progress | None) -> list[TxResult]:
        """Check every line from ``sender`` (the zero address for mints) first, then send them
        ``chunk_size`` per call of ``function(wallets, units)``, reporting progress by lines."""
        for who, units in lines:
            self._refuse(self._detect(sender, who, units), sender, who, units)
        receipts: list[TxResult] = []
        done = 0
        for chunk in chunks(lines, chunk_size):
            receipts.append(self._transact(signer, function, [w for w, _ in chunk],
                                           [u for _, u in chunk]))
            done += len(chunk)
            if progress is not None:
                progress(done, len(lines))
        return receipts

    # -- pauser ------------------------------------------------------------------------------

    def pause(self, signer: LocalAccount) -> TxResult:
        """Pause transfers and mints (pauser only)."""
        self.require_role(PAUSER_ROLE, signer_address(signer))
        if self.paused():
            raise contract_error("AlreadyInState")
        return self._transact(signer, "pause")

    def unpause(self, signer: LocalAccount) -> TxResult:
        """Resume transfers and mints (pauser only)."""
        self.require_role(PAUSER_ROLE, signer_address(signer))
        if not self.paused():
            raise contract_error("AlreadyInState")
        return self._transact(signer, "unpause")

    # -- transfer agent ----------------------------------------------------------------------

    def _set_wallet_frozen(self, signer: LocalAccount, wallet: str, frozen: bool) -> TxResult:
        who = address_arg(wallet, "wallet")
        self.require_role(TRANSFER_AGENT_ROLE, signer_address(signer))
        if self.account(who).wallet_frozen == frozen:
            raise contract_error("AlreadyInState")
        return self._transact(signer, "setWalletFrozen", who, frozen)

    def freeze_wallet(self, signer: LocalAccount, wallet: str) -> TxResult:
        """Freeze ``wallet`` as a whole: it neither sends nor receives (transfer agent only)."""
        return self._set_wallet_frozen(signer, wallet, True)

    def unfreeze_wallet(self, signer: LocalAccount, wallet: str) -> TxResult:
        """Lift a whole-wallet freeze (transfer agent only)."""
        return self._set_wallet_frozen(signer, wallet, False)

    def freeze_amount(self, signer: LocalAccount, wallet: str, amount: Amount) -> TxResult:
        """Freeze ``amount`` more of ``wallet``'s balance (at most its unfrozen part)."""
        who = address_arg(wallet, "wallet")
        units = self.to_units(amount)
        self.require_role(TRANSFER_AGENT_ROLE, signer_address(signer))
        account = self.account(who)
        free = account.free_units
        if units == 0 or units > free:
            raise self._freeze_refused(
                who, units, free, f"cannot freeze {self._money(self.from_units(units))} of {who}: "
                f"its balance is {self._money(account.balance)}, of which "
                f"{self._money(account.frozen)} is frozen already, so at most "
                f"{self._money(self.from_units(free))} can be frozen")
        return self._freeze_send(signer, "freezeTokens", who, units)

    def unfreeze_amount(self, signer: LocalAccount, wallet: str, amount: Amount) -> TxResult:
        """Release ``amount`` of ``wallet``'s frozen units (at most what is frozen)."""
        who = address_arg(wallet, "wallet")
        units = self.to_units(amount)
        self.require_role(TRANSFER_AGENT_ROLE, signer_address(signer))
        frozen = self.account(who).frozen_units
        if units == 0 or units > frozen:
            raise self._freeze_refused(
                who, units, frozen, f"cannot release {self._money(self.from_units(units))} of "
                f"{who}: only {self._money(self.from_units(frozen))} of it is frozen")
        return self._freeze_send(signer, "unfreezeTokens", who, units)

    def _freeze_send(self, signer: LocalAccount, function: str, wallet: str,
                     units: int) -> TxResult:
        """Send a freeze or release; ``FreezeAmountInvalid`` from the chain (the balance changed
        since the check) comes out with its amounts in the bond's currency too."""
        from munibond.exceptions import ContractRevert

        try:
            return self._transact(signer, function, wallet, units)
        except ContractRevert as error:
            if error.error != "FreezeAmountInvalid":
                raise
            available = int(error.error_args.get("available", 0))
            verb = "freeze" if function == "freezeTokens" else "release"
            refused = self._freeze_refused(
                wallet, units, available, f"cannot {verb} "
                f"{self._money(self.from_units(units))} of {wallet}: only "
                f"{self._money(self.from_units(available))} can be")
            if isinstance(refused, ContractRevert):
                refused.tx_hash, refused.receipt = error.tx_hash, error.receipt
            raise refused from error.__cause__

    def _freeze_refused(self, wallet: str, units: int, available: int,
                        text: str) -> MunibondError:
        """``FreezeAmountInvalid`` as the contract would raise it, with the amounts in the
        bond's currency rather than base units."""
        from munibond.exceptions import ContractRevert

        decoded = contract_error("FreezeAmountInvalid", wallet, units, available)
        if not isinstance(decoded, ContractRevert):  # pragma: no cover - the ABI declares it
            return decoded
        return ContractRevert(f"FreezeAmountInvalid: {text}", error=decoded.error,
                              args=decoded.error_args, data=decoded.data)

    def forced_transfer(self, signer: LocalAccount, from_wallet: str, to: str, amount: Amount,
                        reason: str) -> TxResult:
        """Move ``amount`` from ``from_wallet`` to ``to`` without the holder's consent (court
        order, inheritance), with ``reason`` recorded on chain (transfer agent only). It passes
        over pause, lock-up, freezes and limits but not the recipient's eligibility; the chain's
        pre-check refuses with :class:`TransferRestricted` what the contract would refuse."""
        source = address_arg(from_wallet, "from wallet")
        who = address_arg(to, "recipient")
        units = self.to_units(amount)
        text = _reason(reason)
        self.require_role(TRANSFER_AGENT_ROLE, signer_address(signer))
        return self._transact(signer, "forcedTransfer", source, who, units, text)

    def recover_wallet(self, signer: LocalAccount, lost: str, new: str,
                       reason: str) -> TxResult:
        """Move the whole holding of a lost wallet (with its frozen units and freeze) to another
        registered wallet of the same investor, with ``reason`` recorded (transfer agent only)."""
        lost_wallet = address_arg(lost, "lost wallet")
        new_wallet = address_arg(new, "new wallet")
        text = _reason(reason)
        self.require_role(TRANSFER_AGENT_ROLE, signer_address(signer))
        lost_record = self.registry.investor(lost_wallet)
        new_record = self.registry.investor(new_wallet)
        if lost_record is None or new_record is None \
                or lost_record.investor_id != new_record.investor_id:
            raise contract_error("NotSameInvestor", lost_wallet, new_wallet)
        return self._transact(signer, "recoverWallet", lost_wallet, new_wallet, text)

    # -- events ------------------------------------------------------------------------------

    def events(self, *, from_block: int = 0, confirmations: int = 1,
               poll_interval: float = 1.0, until_block: int | None = None,
               stop: Callable[[], bool] | None = None, names: Iterable[str] | None = None,
               chunk_size: int | None = None,
               sleep: Callable[[float], None] = time.sleep) -> Iterator[Event]:
        """The bond's events, decoded, from ``from_block`` on, as a generator that follows the
        chain: each event once, in chain order, once its block is ``confirmations`` deep (1: the
        head block itself), then it waits ``poll_interval`` seconds for new blocks. It ends
        after ``until_block`` or when ``stop()`` returns true; ``names`` keeps only those events.
        Arguments are the contract's raw values (amounts in base units, periods as the 0-based
        index). See :func:`munibond.events.watch`::

            for event in bond.events(from_block=created, confirmations=2):
                print(event.block_number, event.name, dict(event.args))
        """
        return watch(self.chain, self.address, from_block=from_block,
                     confirmations=confirmations, poll_interval=poll_interval,
                     until_block=until_block, stop=stop, names=names, chunk_size=chunk_size,
                     sleep=sleep)

    # -- documents ---------------------------------------------------------------------------

    def set_document(self, signer: LocalAccount, name: str | bytes, uri: str,
                     sha256: bytes | str) -> TxResult:
        """Add or replace the document ``name`` (at most 32 bytes) with its URI and SHA-256
        digest (issuer only)."""
        key = _document_name(name)
        digest = _sha256(sha256)
        if not isinstance(uri, str) or not uri.strip():
            raise contract_error("InvalidDocument")
        self.require_role(ISSUER_ROLE, signer_address(signer))
        return self._transact(signer, "setDocument", key, uri, digest)

    def remove_document(self, signer: LocalAccount, name: str | bytes) -> TxResult:
        """Remove the document ``name`` (issuer only)."""
        key = _document_name(name)
        self.require_role(ISSUER_ROLE, signer_address(signer))
        if key not in self._document_names():
            raise contract_error("DocumentNotFound", key)
        return self._transact(signer, "removeDocument", key)

    def _document_names(self) -> list[bytes]:
        return [bytes(n) for n in self._call("getAllDocuments")]

    def document(self, name: str | bytes) -> Document | None:
        """The document ``name``, or None when the bond has none by that name."""
        key = _document_name(name)
        if key not in self._document_names():
            return None
        return self._document(key)

    def _document(self, key: bytes) -> Document:
        uri, digest, modified = self._call("getDocument", key)
        return Document(key.rstrip(b"\0").decode("utf-8", errors="replace"), str(uri),
                        bytes(digest), datetime.fromtimestamp(int(modified), UTC))

    def documents(self) -> list[Document]:
        """Every document of the bond."""
        return [self._document(key) for key in self._document_names()]
