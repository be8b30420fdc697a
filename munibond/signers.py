"""Who signs: local accounts whose keys never leave this process and never reach a log.

Every transaction munibond sends is signed here, with eth-account, and sent raw; no node ever
holds an unlocked account. A :class:`Signer` is an eth-account ``LocalAccount`` whose ``repr`` and
``str`` show the address only, so a signer can be logged or printed without leaking its key.

Keys come from:

* :func:`dev_accounts` - the well-known development accounts of anvil's default mnemonic
  (``test test ... junk``), funded on every local chain munibond starts. Never use them on a
  chain that matters: their keys are public.
* :func:`signer_from_env` - a hex private key in an environment variable
  (``MUNIBOND_PRIVATE_KEY``).
* :func:`signer_from_keystore` - an encrypted JSON keystore (geth / eth-account V3 format); the
  password comes from ``MUNIBOND_KEYSTORE_PASSWORD`` or, on a terminal only, an interactive prompt.

Error messages name the variable or file and what is wrong with it, never the key itself.
"""

from __future__ import annotations

import functools
import getpass
import json
import os
import re
import sys
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_keys.datatypes import PrivateKey

from munibond.exceptions import ConfigError

__all__ = [
    "DEV_HD_PATH",
    "DEV_MNEMONIC",
    "Signer",
    "as_signer",
    "dev_account",
    "dev_accounts",
    "signer_from_env",
    "signer_from_key",
    "signer_from_keystore",
]

#: anvil's (and hardhat's) default mnemonic: its accounts' keys are public knowledge.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
#: BIP-44 path of Ethereum account ``i`` is ``f"{DEV_HD_PATH}/{i}"`` (what anvil uses).
DEV_HD_PATH = "m/44'/60'/0'/0"

PRIVATE_KEY_ENV = "MUNIBOND_PRIVATE_KEY"
KEYSTORE_PASSWORD_ENV = "MUNIBOND_KEYSTORE_PASSWORD"

_HEX_KEY = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")


class Signer(LocalAccount):
    """A local account that signs in-process; its ``repr``/``str`` show the address, never the key.

    It *is* an eth-account ``LocalAccount`` (``address``, ``sign_transaction``, ``sign_message``,
    ``unsafe_sign_hash``, ``encrypt`` ... all work), so it can be passed wherever one is expected.
    ``label`` says where the key came from (``"dev account 0"``, ``"$MUNIBOND_PRIVATE_KEY"``, a
    keystore path) for messages and logs.
    """

    label: str

    def __init__(self, private_key: PrivateKey, *, label: str = "") -> None:
        super().__init__(private_key, Account())
        self.label = label

    @classmethod
    def from_local_account(cls, account: LocalAccount, *, label: str = "") -> Signer:
        """Wrap an existing eth-account ``LocalAccount``."""
        if isinstance(account, Signer):
            return account
        return cls(PrivateKey(bytes(account.key)), label=label)

    def __repr__(self) -> str:
        if self.label:
            return f"Signer({self.address}, {self.label})"
        return f"Signer({self.address})"

    def __str__(self) -> str:
        return str(self.address)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LocalAccount):
            return bytes(self.key) == bytes(other.key)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.address)

    def __reduce__(self) -> tuple[object, ...]:
        # pickling would write the key somewhere (a cache, another process): refuse
        raise TypeError("a Signer holds a private key and cannot be pickled")


def as_signer(account: LocalAccount) -> Signer:
    """Return ``account`` as a :class:`Signer` (wrapping a plain ``LocalAccount`` if needed)."""
    return Signer.from_local_account(account)


def signer_from_key(private_key: str | bytes, *, label: str = "private key") -> Signer:
    """A signer for a raw private key (32 bytes, or 64 hex digits with or without ``0x``).

    Raises ConfigError naming ``label`` (never the key) when the key is malformed.
    """
    if isinstance(private_key, str):
        text = private_key.strip()
        if not _HEX_KEY.fullmatch(text):
            raise ConfigError(
                f"{label} is not a private key: expected 64 hexadecimal digits (optionally "
                f"prefixed with 0x), got {len(text)} characters")
        raw = bytes.fromhex(text[2:] if text[:2] in ("0x", "0X") else text)
    else:
        raw = bytes(private_key)
        if len(raw) != 32:
            raise ConfigError(f"{label} is not a private key: expected 32 bytes, got {len(raw)}")
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 n
    if not 0 < int.from_bytes(raw, "big") < order:
        raise ConfigError(f"{label} is not a valid secp256k1 private key (out of range)")
    try:
        key = PrivateKey(raw)
    except Exception:
        # never chain the original: its message or traceback locals could show the key
        raise ConfigError(f"{label} is not a valid secp256k1 private key") from None
    return Signer(key, label=label)


def signer_from_env(var: str = PRIVATE_KEY_ENV) -> Signer:
    """A signer for the hex private key in environment variable ``var``."""
    value = os.environ.get(var)
    if value is None or not value.strip():
        raise ConfigError(
            f"environment variable {var} is not set: set it to the signing account's private "
            f"key (64 hex digits), or use an encrypted keystore instead")
    return signer_from_key(value, label=f"${var}")


def signer_from_keystore(path: str | os.PathLike[str], *,
                         password_env: str = KEYSTORE_PASSWORD_ENV) -> Signer:
    """A signer for an encrypted JSON keystore (V3, as written by geth or ``Account.encrypt``).

    The password is read from ``password_env``; only when that is unset and standard input is a
    terminal is it asked for interactively. A wrong password or a damaged file raises ConfigError.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"keystore {file} does not exist") from None
    except OSError as error:
        raise ConfigError(f"cannot read keystore {file}: {error.strerror or error}") from None
    try:
        keystore = json.loads(text)
    except ValueError:
        raise ConfigError(
            f"keystore {file} is not JSON: expected an encrypted V3 key file") from None
    if not isinstance(keystore, dict) or "crypto" not in {k.lower() for k in keystore}:
        raise ConfigError(f"keystore {file} is not an encrypted key file (no 'crypto' section)")

    password = os.environ.get(password_env)
    if password is None:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise ConfigError(
                f"no password for keystore {file}: set {password_env} (standard input is not a "
                f"terminal, so munibond cannot ask for it)")
        password = getpass.getpass(f"Password for keystore {file}: ")
    try:
        raw = bytes(Account.decrypt(keystore, password))
    except ValueError as error:
        if "mac mismatch" in str(error).lower():
            raise ConfigError(f"wrong password for keystore {file} (from {password_env} or the "
                              f"prompt)") from None
        raise ConfigError(f"keystore {file} cannot be decrypted: {error}") from None
    except Exception as error:
        raise ConfigError(
            f"keystore {file} cannot be decrypted: malformed key file "
            f"({type(error).__name__})") from None
    signer = signer_from_key(raw, label=f"keystore {file}")
    declared = keystore.get("address")
    if isinstance(declared, str) and declared.strip() and (
            declared.lower().removeprefix("0x") != signer.address.lower().removeprefix("0x")):
        raise ConfigError(
            f"keystore {file} declares address {declared} but its key belongs to "
            f"{signer.address}: the file is damaged or was edited")
    return signer


@functools.lru_cache(maxsize=8)
def _seed(mnemonic: str) -> bytes:
    try:
        return seed_from_mnemonic(mnemonic, "")
    except Exception:
        # the library's message repeats the words: do not chain it
        raise ConfigError("the mnemonic is not a valid BIP-39 phrase") from None


@functools.lru_cache(maxsize=1024)
def dev_account(index: int, mnemonic: str = DEV_MNEMONIC) -> Signer:
    """Account ``index`` of ``mnemonic``, path m/44'/60'/0'/0/index (cached: derivation is slow)."""
    if index < 0:
        raise ValueError(f"account index must be >= 0, got {index}")
    # Equivalent to Account.from_mnemonic (which needs enable_unaudited_hdwallet_features), but
    # derives the seed once per mnemonic instead of once per account.
    key = key_from_seed(_seed(mnemonic), f"{DEV_HD_PATH}/{index}")
    label = f"dev account {index}" if mnemonic == DEV_MNEMONIC else f"mnemonic account {index}"
    return Signer(PrivateKey(key), label=label)


def dev_accounts(n: int = 10, start: int = 0, *, mnemonic: str = DEV_MNEMONIC) -> list[Signer]:
    """The first ``n`` accounts of ``mnemonic`` from index ``start`` (anvil's, by default)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return [dev_account(i, mnemonic) for i in range(start, start + n)]
