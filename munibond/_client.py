"""What every SDK client shares: a contract at an address on a chain, calls and transactions with
reverts decoded, role checks before sending, address and chunking helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from eth_typing import ChecksumAddress

from munibond import codes
from munibond.contracts import ABI, role_hash, role_name
from munibond.errors import call as decoded_call
from munibond.errors import transact as decoded_transact
from munibond.events import TxResult, tx_result
from munibond.exceptions import InvalidArgument, MissingRole

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3.contract import Contract

    from munibond.chain import Chain, TxSource

_T = TypeVar("_T")

#: ``progress(done, total)``: called after each chunk of a batch operation.
Progress = Callable[[int, int], None]


def address_arg(value: str, what: str = "address") -> str:
    """``value`` as a checksummed address; a malformed one raises
    :class:`~munibond.codes.CodeError` naming ``what``."""
    try:
        return codes.parse_address(value)
    except codes.CodeError as error:
        raise codes.CodeError(f"{what}: {error}") from None


def check_chunk_size(size: int) -> int:
    """``size`` if it is a usable chunk size (a positive whole number), else InvalidArgument."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidArgument(f"chunk_size must be a positive whole number, got {size!r}")
    return size


def chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """``items`` in consecutive slices of at most ``size``."""
    check_chunk_size(size)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def signer_address(signer: LocalAccount) -> str:
    return str(signer.address)


class ContractClient:
    """A contract of the platform at ``address`` on ``chain``, with the given ABI."""

    def __init__(self, chain: Chain, address: str, abi: ABI, *, what: str = "contract") -> None:
        self.chain = chain
        self.address = address_arg(address, f"{what} address")
        self.contract: Contract = chain.w3.eth.contract(address=cast(ChecksumAddress, self.address),
                                                        abi=list(abi))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and isinstance(other, ContractClient)
                and other.address == self.address and other.chain is self.chain)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.address))

    # -- plumbing ----------------------------------------------------------------------------

    def _fn(self, name: str, *args: Any) -> Any:
        return getattr(self.contract.functions, name)(*args)

    def _call(self, name: str, *args: Any) -> Any:
        """Call a view function; a revert raises the decoded exception."""
        return decoded_call(self.chain, self._fn(name, *args))

    def _send(self, signer: LocalAccount, tx: TxSource, *, gas: int | None = None) -> TxResult:
        """Send a transaction (pre-checked by the chain); a revert raises the decoded exception.
        Every SDK method that sends returns this :class:`~munibond.events.TxResult`."""
        return tx_result(self.chain, decoded_transact(self.chain, signer, tx, gas=gas))

    def _transact(self, signer: LocalAccount, name: str, *args: Any) -> TxResult:
        return self._send(signer, self._fn(name, *args))

    # -- roles -------------------------------------------------------------------------------

    def has_role(self, role: str | bytes, account: str) -> bool:
        """Whether ``account`` holds ``role`` (a name such as ``"issuer"`` or a hash)."""
        return bool(self._call("hasRole", role_hash(role), address_arg(account, "account")))

    def require_role(self, role: str | bytes, account: str) -> None:
        """Raise :class:`~munibond.exceptions.MissingRole` unless ``account`` holds ``role``."""
        if not self.has_role(role, account):
            raise MissingRole(role_name(role_hash(role)), address_arg(account, "account"))

    def grant_role(self, signer: LocalAccount, role: str | bytes, account: str) -> TxResult:
        """Grant ``role`` to ``account`` (the signer must hold the role's admin role). The admin
        role itself moves only by :meth:`begin_admin_transfer`."""
        needed = role_hash(role)
        _not_the_admin_role(needed)
        who = address_arg(account, "account")
        admin_role = bytes(self._call("getRoleAdmin", needed))
        self.require_role(admin_role, signer_address(signer))
        return self._transact(signer, "grantRole", needed, who)

    def revoke_role(self, signer: LocalAccount, role: str | bytes, account: str) -> TxResult:
        """Revoke ``role`` from ``account`` (the signer must hold the role's admin role)."""
        needed = role_hash(role)
        _not_the_admin_role(needed)
        who = address_arg(account, "account")
        admin_role = bytes(self._call("getRoleAdmin", needed))
        self.require_role(admin_role, signer_address(signer))
        return self._transact(signer, "revokeRole", needed, who)

    # -- the admin hand-over -----------------------------------------------------------------

    def admin_handover(self) -> AdminHandover:
        """The admin hand-over in progress (if any) and the delay in force."""
        pending, accept_after = self._call("pendingDefaultAdmin")
        delay = int(self._call("defaultAdminDelay"))
        who = None if int(str(pending), 16) == 0 else str(pending)
        return AdminHandover(pending=who, accept_after=int(accept_after) if who else None,
                             delay=delay)

    def begin_admin_transfer(self, signer: LocalAccount, new_admin: str) -> TxResult:
        """Start handing the admin role to ``new_admin`` (the admin signs); ``new_admin``
        accepts with :meth:`accept_admin_transfer` once the delay has passed."""
        from munibond.contracts import DEFAULT_ADMIN_ROLE

        who = address_arg(new_admin, "new admin")
        self.require_role(DEFAULT_ADMIN_ROLE, signer_address(signer))
        if who == signer_address(signer):
            raise InvalidArgument(f"{who} is the admin already: name the new admin's address")
        return self._transact(signer, "beginDefaultAdminTransfer", who)

    def accept_admin_transfer(self, signer: LocalAccount) -> TxResult:
        """Accept the admin role (the pending admin signs, once the delay has passed)."""
        from munibond.errors import contract_error

        handover = self.admin_handover()
        me = signer_address(signer)
        now = self.chain.now()
        # accepted strictly after accept_after (as OpenZeppelin's AccessControlDefaultAdminRules)
        if handover.pending != me or now <= (handover.accept_after or 0):
            raise contract_error("AdminHandoverNotAcceptable", me,
                                 handover.pending or "0x" + "00" * 20,
                                 handover.accept_after or 0)
        return self._transact(signer, "acceptDefaultAdminTransfer")

    def cancel_admin_transfer(self, signer: LocalAccount) -> TxResult:
        """Cancel the admin hand-over in progress (the admin signs)."""
        from munibond.contracts import DEFAULT_ADMIN_ROLE
        from munibond.errors import contract_error

        self.require_role(DEFAULT_ADMIN_ROLE, signer_address(signer))
        if self.admin_handover().pending is None:
            raise contract_error("NoAdminHandover")
        return self._transact(signer, "cancelDefaultAdminTransfer")


@dataclass(frozen=True)
class AdminHandover:
    """An admin hand-over: the admin-to-be and the time after which it may accept (None: none
    in progress), and the delay in force (seconds)."""

    pending: str | None
    accept_after: int | None
    delay: int


def _not_the_admin_role(role: bytes) -> None:
    if role == b"\x00" * 32:
        raise InvalidArgument(
            "the admin role (DEFAULT_ADMIN_ROLE) is not granted or revoked: it moves only by a "
            "two-step hand-over with a delay (begin_admin_transfer, then accept_admin_transfer "
            "by the new admin)")
