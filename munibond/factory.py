"""The bond factory: creates a bond from a term sheet in one transaction.

:meth:`Factory.create_bond` maps the term sheet to the contracts' structs
(:mod:`munibond.onchain`), checks that the signer may create bonds and that the bond code is
free, and sends ``createBond``; the new bond's address comes from the ``BondCreated`` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from web3.logs import DISCARD

from munibond._client import ContractClient, address_arg, signer_address
from munibond.bond import Bond
from munibond.contracts import CREATOR_ROLE, factory_abi
from munibond.errors import contract_error
from munibond.exceptions import BondExists, ChainError
from munibond.onchain import roles_tuple, rules_tuple, terms_tuple

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from munibond.chain import Chain
    from munibond.events import TxResult
    from munibond.termsheet import TermSheet

__all__ = ["Factory"]


class Factory(ContractClient):
    """The platform's ``BondFactory`` at ``address``."""

    def __init__(self, chain: Chain, address: str) -> None:
        super().__init__(chain, address, factory_abi(), what="factory")

    @property
    def implementation(self) -> str:
        """The bond implementation every clone delegates to (also the investor registry)."""
        return str(self._call("implementation"))

    def bond_by_code(self, code: str) -> Bond | None:
        """The bond created with ``code``, or None."""
        address = str(self._call("bondByCode", code))
        return None if int(address, 16) == 0 else Bond(self.chain, address)

    def create_bond(self, signer: LocalAccount, ts: TermSheet, *,
                    settlement_token: str | None = None,
                    roles_default: str | None = None) -> tuple[Bond, TxResult]:
        """Create the bond that term sheet ``ts`` describes (the signer needs CREATOR_ROLE).

        ``settlement_token`` is the address of the settlement money token (None: set later).
        Roles the term sheet leaves out go to ``roles_default`` (default: the signer). Raises
        :class:`~munibond.exceptions.BondExists` naming the existing bond when the code is taken,
        before anything is sent. Returns the bond and the receipt.
        """
        default = address_arg(roles_default, "roles_default") if roles_default is not None \
            else signer_address(signer)
        terms = terms_tuple(ts, settlement_token=settlement_token)
        rules = rules_tuple(ts)
        roles = roles_tuple(ts, default)
        self.require_role(CREATOR_ROLE, signer_address(signer))
        existing = self.bond_by_code(ts.bond.code)
        if existing is not None:
            raise BondExists(ts.bond.code, existing.address)
        receipt = self._transact(signer, "createBond", terms, rules, roles)
        events = self.contract.events.BondCreated().process_receipt(receipt, errors=DISCARD)
        addresses = [str(e["args"]["bond"]) for e in events
                     if str(e["address"]).lower() == self.address.lower()]
        if not addresses:
            created = self.bond_by_code(ts.bond.code)
            if created is None:
                raise ChainError(f"createBond succeeded but no bond has code {ts.bond.code!r} "
                                 f"(transaction 0x{bytes(receipt['transactionHash']).hex()})")
            return created, receipt
        return Bond(self.chain, addresses[0]), receipt

    def release_code(self, signer: LocalAccount, code: str) -> TxResult:
        """Free the code of a bond that its admin retired before it issued anything
        (``Bond.retire``), so that a corrected bond can be created with it (CREATOR_ROLE)."""
        self.require_role(CREATOR_ROLE, signer_address(signer))
        existing = self.bond_by_code(code)
        if existing is None:
            raise contract_error("NoSuchBond", code)
        if existing.issued() or not existing.closed():
            raise contract_error("BondNotRetired", code, existing.address)
        return self._transact(signer, "releaseCode", code)

    def grant_creator(self, signer: LocalAccount, account: str) -> TxResult:
        """Let ``account`` create bonds (the signer must be the factory's admin)."""
        return self.grant_role(signer, CREATOR_ROLE, account)
