"""The platform's investor registry: who may hold the platform's bonds.

A registrar (KYC agent, ``REGISTRAR_ROLE``) registers investor wallets with an
:class:`InvestorRecord`: investor id (several wallets may share one), country, investor class, tax
category, region of residence, KYC expiry and a suspended flag. Every bond of the platform reads
these records on each transfer and mint.

The registry lives at the address of the ``BondToken`` implementation (see
``contracts/token/BondToken.sol``)::

    registry = Registry(chain, platform.implementation)
    registry.register_many(registrar, [(i.wallet, InvestorRecord.from_csv(i))
                                       for i in read_investors("investors.csv")])

Every state-changing method takes the signer first, checks before sending (the signer's role, the
arguments) and raises the decoded contract error if the chain's pre-check refuses; nothing is sent
then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from munibond._client import (
    ContractClient,
    Progress,
    address_arg,
    check_chunk_size,
    chunks,
    signer_address,
)
from munibond.contracts import REGISTRAR_ROLE, registry_abi
from munibond.errors import contract_error
from munibond.exceptions import InvalidArgument

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from munibond.chain import Chain
    from munibond.events import TxResult
    from munibond.investor_files import Investor

__all__ = ["FLAG_SUSPENDED", "InvestorRecord", "Registry"]

#: ``Investor.flags`` bit 0: the registrar suspended the investor.
FLAG_SUSPENDED: Final = 1
_LIMITS: Final = {
    "investor_id": (1, 2**64 - 1),
    "country": (0, 2**16 - 1),
    "investor_class": (0, 2**8 - 1),
    "tax_category": (0, 2**8 - 1),
    "region": (0, 2**32 - 1),
}
_KYC_MAX: Final = 2**40 - 1


def _timestamp(value: datetime | int, what: str) -> int:
    if isinstance(value, bool):
        raise InvalidArgument(f"{what}: expected a datetime or Unix seconds, got {value!r}")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidArgument(f"{what}: {value.isoformat()} has no time zone; give an aware "
                                  f"datetime (e.g. tzinfo=datetime.UTC)")
        if value.microsecond:
            raise InvalidArgument(f"{what}: {value.isoformat()}: the chain counts whole seconds")
        seconds = int(value.timestamp())
    else:
        raise InvalidArgument(f"{what}: expected a datetime or Unix seconds, got "
                              f"{type(value).__name__}")
    if not 0 <= seconds <= _KYC_MAX:
        raise InvalidArgument(f"{what}: {seconds} is outside 0 .. 2^40-1 seconds")
    return seconds


@dataclass(frozen=True, slots=True)
class InvestorRecord:
    """What the registry stores for one wallet.

    ``country`` is ISO 3166-1 numeric (392 = Japan), ``investor_class`` and ``tax_category`` are
    the ids of :mod:`munibond.codes`, ``region`` the six-digit JIS code of residence (0: none).
    ``kyc_valid_until`` is the *exclusive* end of the KYC check's validity, an aware UTC datetime:
    the wallet is verified while the block time is before it.
    """

    investor_id: int
    country: int
    investor_class: int
    tax_category: int
    region: int
    kyc_valid_until: datetime
    suspended: bool = False

    def __post_init__(self) -> None:
        for name, (low, high) in _LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidArgument(f"investor record: {name} must be a whole number from "
                                      f"{low} to {high}, got {value!r}")
        seconds = _timestamp(self.kyc_valid_until, "investor record: kyc_valid_until")
        # normalise to UTC, so that records compare equal whatever zone they were given in
        object.__setattr__(self, "kyc_valid_until", datetime.fromtimestamp(seconds, UTC))
        if not isinstance(self.suspended, bool):
            raise InvalidArgument(f"investor record: suspended must be True or False, got "
                                  f"{self.suspended!r}")

    @classmethod
    def from_csv(cls, investor: Investor) -> InvestorRecord:
        """The record for a line of an investors CSV (:mod:`munibond.investor_files`); its
        ``kyc_valid_until`` date is the last valid day, so the record's exclusive end is 00:00
        UTC of the next day (``Investor.kyc_expiry``)."""
        return cls(
            investor_id=investor.investor_id,
            country=investor.country,
            investor_class=investor.investor_class,
            tax_category=investor.tax_category,
            region=investor.region,
            kyc_valid_until=datetime.fromtimestamp(investor.kyc_expiry, UTC),
        )

    @classmethod
    def from_tuple(cls, raw: tuple[Any, ...] | list[Any]) -> InvestorRecord:
        """Decode ``IInvestorRegistry.Investor`` as web3 returns it."""
        investor_id, country, investor_class, tax_category, region, kyc, flags = raw
        return cls(
            investor_id=int(investor_id),
            country=int(country),
            investor_class=int(investor_class),
            tax_category=int(tax_category),
            region=int(region),
            kyc_valid_until=datetime.fromtimestamp(int(kyc), UTC),
            suspended=bool(int(flags) & FLAG_SUSPENDED),
        )

    @property
    def kyc_timestamp(self) -> int:
        """``kyc_valid_until`` in Unix seconds."""
        return int(self.kyc_valid_until.timestamp())

    @property
    def flags(self) -> int:
        return FLAG_SUSPENDED if self.suspended else 0

    def to_tuple(self) -> tuple[int, int, int, int, int, int, int]:
        """``IInvestorRegistry.Investor`` for web3."""
        return (self.investor_id, self.country, self.investor_class, self.tax_category,
                self.region, self.kyc_timestamp, self.flags)

    def packed(self) -> int:
        """The packed 256-bit word the registry stores (``recordOf``)."""
        return (self.investor_id | self.country << 64 | self.investor_class << 80
                | self.tax_category << 88 | self.region << 96 | self.kyc_timestamp << 128
                | self.flags << 168)

    def verified_at(self, timestamp: int) -> bool:
        """Whether the registry calls the wallet verified at ``timestamp`` (not suspended and KYC
        still valid)."""
        return not self.suspended and timestamp < self.kyc_timestamp

    def with_changes(self, **changes: Any) -> InvestorRecord:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)


class Registry(ContractClient):
    """The platform's investor registry at ``address`` (the ``BondToken`` implementation's)."""

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address, registry_abi(), what="registry")

    # -- reading -----------------------------------------------------------------------------

    def investor(self, wallet: str) -> InvestorRecord | None:
        """The record of ``wallet``, or None when it is not registered."""
        raw = self._call("investorOf", address_arg(wallet, "wallet"))
        return None if int(raw[0]) == 0 else InvestorRecord.from_tuple(raw)

    def investors(self, wallets: Sequence[str], *,
                  progress: Progress | None = None) -> dict[str, InvestorRecord | None]:
        """The records of several wallets (checksummed address -> record or None), read in
        JSON-RPC batches (:meth:`Chain.call_many`); ``progress(done, total)`` after each."""
        unique = list(dict.fromkeys(address_arg(w, "wallet") for w in wallets))
        from munibond.chain import view_calls

        raw = self.chain.call_many(view_calls(self.contract, "investorOf", [(w,) for w in unique]),
                                   progress=progress)
        return {w: None if int(r[0]) == 0 else InvestorRecord.from_tuple(r)
                for w, r in zip(unique, raw, strict=True)}

    def is_verified(self, wallet: str) -> bool:
        """Whether ``wallet`` is registered, not suspended and its KYC is valid now."""
        return bool(self._call("isVerified", address_arg(wallet, "wallet")))

    def record_of(self, wallet: str) -> int:
        """The packed record of ``wallet`` (0 when not registered)."""
        return int(self._call("recordOf", address_arg(wallet, "wallet")))

    # -- registrar operations ----------------------------------------------------------------

    def _registered(self, wallet: str) -> InvestorRecord:
        record = self.investor(wallet)
        if record is None:
            raise contract_error("WalletNotRegistered", wallet)
        return record

    def register(self, signer: LocalAccount, wallet: str, record: InvestorRecord) -> TxResult:
        """Register ``wallet`` with ``record``, or replace its record."""
        who = address_arg(wallet, "wallet")
        _check_record(record)
        self.require_role(REGISTRAR_ROLE, signer_address(signer))
        return self._transact(signer, "registerWallet", who, record.to_tuple())

    def register_many(self, signer: LocalAccount, items: Sequence[tuple[str, InvestorRecord]],
                      *, chunk_size: int = 50,
                      progress: Progress | None = None) -> list[TxResult]:
        """Register many wallets, ``chunk_size`` per transaction (``registerWallets``).

        Idempotent: wallets whose on-chain record already equals the wanted one are skipped, so a
        re-run after a crash or a dropped connection sends only what is missing (and a re-run of
        a finished batch sends nothing). A wallet listed twice with different records is an
        error. ``progress(done, total)`` is called after each transaction with the number of
        wallets sent so far and the number that needed sending. Returns the receipts, one per
        transaction sent.
        """
        wanted: dict[str, InvestorRecord] = {}
        for index, (wallet, record) in enumerate(items):
            who = address_arg(wallet, f"items[{index}] wallet")
            _check_record(record)
            if who in wanted and wanted[who] != record:
                raise InvalidArgument(f"items[{index}]: wallet {who} is listed twice with "
                                      f"different records")
            wanted[who] = record
        batch_size = check_chunk_size(chunk_size)
        self.require_role(REGISTRAR_ROLE, signer_address(signer))
        found = self.investors(list(wanted))
        pending = [(w, r) for w, r in wanted.items() if found[w] != r]
        receipts: list[TxResult] = []
        done = 0
        for chunk in chunks(pending, batch_size):
            receipts.append(self._transact(signer, "registerWallets", [w for w, _ in chunk],
                                           [r.to_tuple() for _, r in chunk]))
            done += len(chunk)
            if progress is not None:
                progress(done, len(pending))
        return receipts

    def remove(self, signer: LocalAccount, wallet: str) -> TxResult:
        """Remove ``wallet`` from the register (it must be registered)."""
        who = address_arg(wallet, "wallet")
        self.require_role(REGISTRAR_ROLE, signer_address(signer))
        self._registered(who)
        return self._transact(signer, "removeWallet", who)

    def remove_many(self, signer: LocalAccount, wallets: Sequence[str], *, chunk_size: int = 50,
                    progress: Progress | None = None) -> list[TxResult]:
        """Remove many wallets, ``chunk_size`` per transaction; idempotent (wallets that are not
        registered are skipped)."""
        unique = list(dict.fromkeys(address_arg(w, "wallet") for w in wallets))
        check_chunk_size(chunk_size)
        self.require_role(REGISTRAR_ROLE, signer_address(signer))
        pending = [w for w in unique if self.investor(w) is not None]
        receipts: list[TxResult] = []
        done = 0
        for chunk in chunks(pending, chunk_size):
            receipts.append(self._transact(signer, "removeWallets", list(chunk)))
            done += len(chunk)
            if progress is not None:
                progress(done, len(pending))
        return receipts

    def set_suspended(self, signer: LocalAccount, wallet: str,
                      suspended: bool = True) -> TxResult:
        """Suspend (or, with ``suspended=False``, reinstate) a registered wallet."""
        who = address_arg(wallet, "wallet")
        self.require_role(REGISTRAR_ROLE, signer_address(signer))
        self._registered(who)
        return self._transact(signer, "setSuspended", who, bool(suspended))

    def set_kyc_valid_until(self, signer: LocalAccount, wallet: str,
                            until: datetime | int) -> TxResult:
        """Set the exclusive end of a registered wallet's KYC validity (aware datetime or Unix
        seconds)."""
        who = address_arg(wallet, "wallet")
        seconds = _timestamp(until, "kyc_valid_until")
        self.require_role(REGISTRAR_ROLE, signer_address(signer))
        self._registered(who)
        return self._transact(signer, "setKycValidUntil", who, seconds)

    def grant_registrar(self, signer: LocalAccount, account: str) -> TxResult:
        """Make ``account`` a registrar (the signer must be the registry's admin)."""
        return self.grant_role(signer, REGISTRAR_ROLE, account)


def _check_record(record: object) -> None:
    if not isinstance(record, InvestorRecord):
        raise InvalidArgument(f"expected an InvestorRecord, got {type(record).__name__} (convert "
                              f"a CSV line with InvestorRecord.from_csv)")
