"""The exceptions munibond raises.

Every error carries a message a person can act on: what is wrong and what to do about it. The CLI
prints ``str(error)`` on one line, without a traceback.
"""

from __future__ import annotations

from typing import Any


class MunibondError(Exception):
    """Base class of every error munibond raises on purpose."""


class ConfigError(MunibondError):
    """A setting, file or environment variable is missing or wrong."""


class TermSheetError(MunibondError):
    """A term sheet is malformed; ``field`` names the offending field (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"term sheet: {field}: {message}" if field else f"term sheet: {message}")


class InputFileError(MunibondError):
    """A CSV or other input file is malformed; names the file, line and column."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class AmountError(MunibondError, ValueError):
    """An amount cannot be represented exactly (finer than the unit allows, negative, too large)."""


class BeforeIssueDate(MunibondError):
    """An allotment before the bond's issue (payment) date, not asked for explicitly."""

    def __init__(self, message: str, *, issue_date: Any = None, chain_time: Any = None) -> None:
        self.issue_date = issue_date
        self.chain_time = chain_time
        super().__init__(message)


class ChainError(MunibondError):
    """Talking to the chain failed."""


class NodeUnreachable(ChainError):
    """No node answers at the given RPC endpoint."""


class ToolNotFound(ChainError):
    """A needed program (anvil, solc, node) is not installed."""


class TransactionFailed(ChainError):
    """A transaction was mined but reverted, or could not be sent."""

    def __init__(self, message: str, *, tx_hash: str | None = None, receipt: Any = None) -> None:
        self.tx_hash = tx_hash
        self.receipt = receipt
        super().__init__(message)


class ContractRevert(ChainError):
    """A contract call reverted; ``error`` is the custom error's name, ``args`` its arguments.

    When the revert happened in a mined transaction, ``tx_hash`` and ``receipt`` say which.
    """

    tx_hash: str | None = None
    receipt: Any = None

    def __init__(self, message: str, *, error: str | None = None,
                 args: dict[str, Any] | None = None, data: bytes | None = None) -> None:
        self.error = error
        self.error_args = args or {}
        self.data = data
        super().__init__(message)


class TransferRestricted(ContractRevert):
    """A transfer or mint is refused by the bond's rules (ERC-1404 restriction code)."""

    def __init__(self, code: int, message: str, *, data: bytes | None = None,
                 args: dict[str, Any] | None = None, detail: str = "") -> None:
        self.code = code
        #: the contract's message (``messageForTransferRestriction``)
        self.reason = message
        #: the refusal's numbers, when the pre-check knows them ("at most 10,000 JPY more fits")
        self.detail = detail
        super().__init__(f"transfer refused (code {code}): {self.explained}",
                         error="TransferRestricted", args=args, data=data)

    @property
    def explained(self) -> str:
        """The contract's message with the refusal's numbers, when known."""
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


class MissingRole(ContractRevert):
    """The signing account lacks the role a call needs."""

    def __init__(self, role: str, account: str, *, data: bytes | None = None) -> None:
        self.role = role
        self.account = account
        super().__init__(
            f"{account} does not hold the {role} role on this contract: sign with an account that "
            f"does, or have the admin grant it",
            error="AccessControlUnauthorizedAccount", args={"role": role, "account": account},
            data=data)


class DeploymentError(MunibondError):
    """A deployment record disagrees with the chain, or a deployment cannot proceed."""


class BuildError(MunibondError):
    """Compiling the contracts failed, or the artifacts are out of date."""


class RevertError(ChainError):
    """A call or transaction reverted; ``data`` is the raw revert data (``b""`` if there was none).

    A higher layer decodes ``data`` into a custom error (``ContractRevert`` and its subclasses).
    """

    def __init__(self, message: str, *, data: bytes = b"") -> None:
        self.data = data
        super().__init__(message)


class TransactionReverted(TransactionFailed, RevertError):
    """A transaction was mined and failed (status 0); ``data`` is its revert data if recoverable."""

    def __init__(self, message: str, *, tx_hash: str | None = None, receipt: Any = None,
                 data: bytes = b"") -> None:
        super().__init__(message, tx_hash=tx_hash, receipt=receipt)
        self.data = data


class InvalidArgument(MunibondError, ValueError):
    """An argument to an SDK call is malformed or out of range; nothing was sent."""


class BondExists(DeploymentError):
    """A bond with this code already exists on the factory (``address`` is the existing bond)."""

    def __init__(self, code: str, address: str) -> None:
        self.code = code
        self.address = address
        super().__init__(
            f"a bond with code {code!r} already exists at {address}: bond codes are unique on a "
            f"platform; use that bond, or give the new one another code")
