"""The ERC-1404 restriction codes of a munibond bond, in Python.

``contracts/token/RestrictionCodes.sol`` is the source: the codes, their constant names and the
messages here are the contract's, word for word (a test compares every message with the bond's
``messageForTransferRestriction``). Each code also carries a short *hint*: what the people involved
can do about it, for the CLI and for integrators' user interfaces.

A bond's pre-check (``detectTransferRestriction``) returns one of these codes and a refused
transfer or mint reverts with ``TransferRestricted(code, from, to, value)`` carrying the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "MAX_CODE",
    "RESTRICTIONS",
    "SUCCESS",
    "UNKNOWN_MESSAGE",
    "Restriction",
    "restriction",
]


@dataclass(frozen=True, slots=True)
class Restriction:
    """One restriction code: ``code`` (0 = allowed), the contract's constant ``name``, its
    ``message`` (identical to ``messageForTransferRestriction``) and a ``hint`` for people.
    ``detail``: the numbers of one refusal, when a bond's pre-check knows them (``"locked up
    until 2027-01-15 09:00 JST"``, ``"at most 10,000 JPY more fits"``); empty otherwise."""

    code: int
    name: str
    message: str
    hint: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the code allows the transfer (code 0)."""
        return self.code == SUCCESS

    @property
    def explained(self) -> str:
        """The message with the refusal's numbers: ``"Recipient would exceed the maximum
        holding: ... at most 10,000 JPY more fits"``."""
        return f"{self.message}: {self.detail}" if self.detail else self.message

    def __str__(self) -> str:
        return self.message if self.ok else f"code {self.code} ({self.name}): {self.explained}"


SUCCESS: Final = 0
#: The highest code a bond returns.
MAX_CODE: Final = 23
#: What the contract says for a code it does not know.
UNKNOWN_MESSAGE: Final = "Unknown restriction code"

_TABLE: Final = (
    (0, "SUCCESS", "Transfer allowed", "nothing to do: the transfer passes every rule"),
    (1, "PAUSED", "Transfers are paused",
     "wait until the pauser resumes transfers (the issuer announces why the bond is paused)"),
    (2, "BOND_CLOSED", "The bond is closed",
     "the bond has been redeemed and closed: nothing can move any more"),
    (3, "BOND_MATURED", "The bond has matured: transfers have stopped",
     "at maturity holdings are frozen for redemption: claim the principal instead"),
    (4, "SENDER_NOT_REGISTERED", "Sender is not a registered investor",
     "the sending wallet must be registered by the registrar (KYC) before it can transfer"),
    (5, "RECIPIENT_NOT_REGISTERED", "Recipient is not a registered investor",
     "ask the recipient to complete KYC with the registrar so the wallet is registered"),
    (6, "SENDER_KYC_EXPIRED", "Sender's KYC has expired",
     "renew the sender's KYC with the registrar, who then extends its validity"),
    (7, "RECIPIENT_KYC_EXPIRED", "Recipient's KYC has expired",
     "the recipient must renew KYC with the registrar before receiving"),
    (8, "SENDER_SUSPENDED", "Sender is suspended by the registrar",
     "the registrar suspended the sender: contact the registrar"),
    (9, "RECIPIENT_SUSPENDED", "Recipient is suspended by the registrar",
     "the registrar suspended the recipient: contact the registrar"),
    (10, "CLASS_NOT_ALLOWED", "Recipient's investor class may not hold this bond",
     "the bond's terms restrict who may hold it by investor class: choose an eligible recipient"),
    (11, "COUNTRY_NOT_ALLOWED", "Recipient's country may not hold this bond",
     "the bond's terms restrict holders by country: choose an eligible recipient"),
    (12, "REGION_NOT_ALLOWED", "Recipient does not live in the bond's region",
     "the bond is for residents of its region only; if the recipient moved there, the registrar "
     "updates the registered region"),
    (13, "MAX_BALANCE_EXCEEDED", "Recipient would exceed the maximum holding",
     "send less: the recipient's holding (over all its wallets, if the bond counts per investor) "
     "may not exceed the bond's cap"),
    (14, "MAX_HOLDERS_REACHED", "The maximum number of holders is reached",
     "the bond has as many holders as it allows: only existing holders can receive, or a sender "
     "who transfers the whole holding"),
    (15, "LOCKED_UP", "Transfers are locked up until the lock-up date",
     "transfers between investors open at the lock-up date in the bond's terms: try again then"),
    (16, "NOT_TRADING_UNIT_MULTIPLE", "Amount is not a multiple of the trading unit",
     "round the amount to a multiple of the bond's trading unit"),
    (17, "SENDER_FROZEN", "Sender's wallet is frozen",
     "the transfer agent froze the sending wallet: contact the transfer agent"),
    (18, "RECIPIENT_FROZEN", "Recipient's wallet is frozen",
     "the transfer agent froze the receiving wallet: choose another wallet or contact the "
     "transfer agent"),
    (19, "AMOUNT_FROZEN", "Amount exceeds the sender's unfrozen balance",
     "part of the balance is frozen by the transfer agent: send at most the unfrozen part"),
    (20, "INSUFFICIENT_BALANCE", "Amount exceeds the sender's balance",
     "send at most the sender's balance"),
    (21, "INVALID_RECIPIENT", "Recipient address is invalid",
     "check the recipient address: it may not be the zero address or the bond itself"),
    (22, "ISSUE_VOLUME_EXCEEDED", "Mint would exceed the issue volume",
     "allot less: the total issued may not exceed the bond's issue volume"),
    (23, "NO_PAYMENT_SCHEDULE", "The bond pays coupons but has no payment schedule yet",
     "write the payment schedule first: re-run `munibond deploy` with the term sheet (it sets "
     "the schedule, or completes a half-made bond from a corrected term sheet)"),
)

#: code -> :class:`Restriction`, for every code a bond can return.
RESTRICTIONS: Final = MappingProxyType({
    code: Restriction(code, name, message, hint) for code, name, message, hint in _TABLE
})


def restriction(code: int) -> Restriction:
    """The :class:`Restriction` of ``code``; an unknown code gives the contract's "Unknown
    restriction code" message (a bond newer than this SDK may know more codes)."""
    found = RESTRICTIONS.get(code)
    if found is not None:
        return found
    return Restriction(code, "UNKNOWN", UNKNOWN_MESSAGE,
                       "this SDK does not know the code: update munibond, or ask the bond's "
                       "messageForTransferRestriction")
