"""What one ``munibond`` invocation knows: its settings, the consoles it writes to, and - made
on first use - the chain connection, the signer, the platform and the bonds it works on.

The connection, record and signer plumbing is :mod:`munibond.scripting`'s (the issuer scripts'):
:class:`~munibond.scripting.Session` for the chain, network and records, and its signer choice
(``MUNIBOND_PRIVATE_KEY``, else development account 0 on a local development chain, else an
error); the CLI adds ``--keystore`` / ``--key-env`` in front of it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click
from rich.console import Console, RenderableType

from munibond.exceptions import DeploymentError
from munibond.times import zone_of_schedule

if TYPE_CHECKING:
    from munibond.bond import Bond
    from munibond.chain import Chain
    from munibond.locations import RecordsRoot
    from munibond.platform import Platform
    from munibond.scripting import Session
    from munibond.signers import Signer

__all__ = ["DEFAULT_RPC_URL", "BondHandle", "Settings", "State"]

#: where ``munibond chain`` listens by default, and so where the other commands look by default
DEFAULT_RPC_URL = "http://127.0.0.1:8545"
DEFAULT_PORT = 8545

SignerSource = tuple[Literal["keystore", "env"], str]


@dataclass
class Settings:
    """The global options, as the group and then the subcommand set them (the subcommand's
    options override the group's; command-line options override environment variables)."""

    rpc_url: str | None = None
    network: str | None = None
    deployments: Path | None = None
    #: where ``deployments`` came from: "option" or "environment"
    deployments_source: str = "option"
    signer: SignerSource | None = None
    gas_price: int | None = None
    eip1559: bool = False
    poa: bool | None = None
    confirmations: int | None = None
    verbose: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class BondHandle:
    """A bond resolved from the command line: the client, how it was named, and the block it was
    created in when a deployment record says so (the ledger then reads events from there)."""

    bond: Bond
    label: str
    created_block: int | None
    #: the bond's deployment record, when it was named by a recorded code
    record: Path | None = None


def _console(*, stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 200  # a file or a pipe: do not squeeze tables into 80 columns
    return console


@dataclass
class State:
    """The object click passes to every command (``ctx.obj``)."""

    settings: Settings = field(default_factory=Settings)
    _out: Console | None = None
    _err: Console | None = None
    _session: Session | None = None
    _signer: Signer | None = None
    _dev_signer: bool = False
    _platform: Platform | None = None
    _zones: dict[str, tzinfo] = field(default_factory=dict)
    _records: RecordsRoot | None = None

    # -- output ------------------------------------------------------------------------------

    @property
    def out(self) -> Console:
        """Results (standard output)."""
        if self._out is None:
            self._out = _console(stderr=False)
        return self._out

    @property
    def err(self) -> Console:
        """Progress and notes (standard error), so that standard output stays parseable."""
        if self._err is None:
            self._err = _console(stderr=True)
        return self._err

    def say(self, text: str) -> None:
        """A line of results on standard output (no rich markup is interpreted)."""
        self.out.print(text, markup=False)

    def show(self, renderable: RenderableType) -> None:
        """A table of results on standard output, after a blank line."""
        self.out.print()
        self.out.print(renderable)

    @property
    def show_progress(self) -> bool:
        """Whether progress is drawn: on a terminal, unless ``--quiet``."""
        return not self.settings.quiet and self.err.is_terminal

    def note(self, text: str) -> None:
        """A progress line or note on standard error."""
        self.err.print(text, markup=False)

    # -- settings ----------------------------------------------------------------------------

    @property
    def network(self) -> str:
        from munibond.deploy import validate_network_name
        from munibond.scripting import DEFAULT_NETWORK

        return validate_network_name(self.settings.network or DEFAULT_NETWORK)

    @property
    def records(self) -> RecordsRoot:
        """The root of the deployment records and how it was found
        (:func:`munibond.locations.find_records_root`)."""
        if self._records is None:
            from munibond.locations import find_records_root

            self._records = find_records_root(self.settings.deployments,
                                              explicit_source=self.settings.deployments_source)
        return self._records

    @property
    def root(self) -> Path:
        """The root of the deployment records (absolute)."""
        return self.records.path

    @property
    def rpc_url(self) -> str:
        return self.settings.rpc_url or DEFAULT_RPC_URL

    # -- the chain ---------------------------------------------------------------------------

    def session(self) -> Session:
        """Connect (once) as the settings say."""
        if self._session is None:
            from munibond.chain import connect
            from munibond.scripting import Session

            settings = self.settings
            network = self.network  # checked before connecting
            if settings.eip1559 and settings.gas_price is not None:
                raise click.UsageError("--gas-price sets the price of legacy transactions; with "
                                       "--eip1559 the fees follow the node's base fee: give one "
                                       "of them")
            chain = connect(self.rpc_url, tx_mode="eip1559" if settings.eip1559 else "legacy",
                            gas_price=settings.gas_price or 0, poa=settings.poa,
                            confirmations=settings.confirmations or 1)
            self._session = Session(chain=chain, network=network, root=self.root, source="rpc",
                                    ephemeral=False, say=self.note)
        return self._session

    @property
    def chain(self) -> Chain:
        return self.session().chain

    # -- who signs ---------------------------------------------------------------------------

    @property
    def signer(self) -> Signer:
        """The signing account: ``--key-env VAR``, ``--keystore FILE`` (or
        ``MUNIBOND_KEYSTORE``), ``MUNIBOND_PRIVATE_KEY``, else development account 0 on a local
        development chain (see :attr:`signed_by`)."""
        if self._signer is None:
            from munibond.scripting import _resolve_signer
            from munibond.signers import signer_from_env, signer_from_keystore

            source = self.settings.signer
            if source is not None and source[0] == "env":
                self._signer = signer_from_env(source[1])
            elif source is not None:
                self._signer = signer_from_keystore(source[1])
            else:
                notes: list[str] = []
                self._signer = _resolve_signer(self.chain, None, notes.append)
                self._dev_signer = bool(notes)
            # who signs, said once on standard error before anything is sent
            self.note(f"signing as {self._signer.address} ({self._signer_source()})")
        return self._signer

    def _signer_source(self) -> str:
        signer = self._signer
        assert signer is not None
        if self._dev_signer:
            kind = self.chain.dev_kind or "local"
            return (f"development account 0 of the local chain ({kind}); its key is public, "
                    f"for local chains only")
        label = signer.label
        if label.startswith("$"):
            return f"key from the environment variable {label[1:]}"
        return label or "the given key"

    @property
    def signed_by(self) -> str:
        """Who signed, for the result lines; says so when it is a public development key."""
        signer = self.signer
        if self._dev_signer:
            return (f"{signer.address} ({signer.label}: the default on a local development "
                    f"chain; its key is public)")
        return f"{signer.address} ({signer.label})" if signer.label else str(signer.address)

    def _known_codes(self, asked: str) -> str:
        """``bonds recorded for local: KOBE-R-2026-01`` (or that there are none)."""
        from munibond.deploy import recorded_bonds

        try:
            codes = recorded_bonds(self.network, self.root)
        except (DeploymentError, OSError):
            codes = []
        if not codes:
            return f"no bond is recorded for {self.network} in {self.root}"
        near = [c for c in codes if c.lower() == asked.lower()]
        hint = f" (did you mean {near[0]}?)" if near else ""
        return f"bonds recorded for {self.network}: {', '.join(codes)}{hint}"

    # -- the bond's time zone ------------------------------------------------------------------

    def zone(self, handle: BondHandle | None = None) -> tzinfo:
        """The time zone times are shown in: the bond's (``bond.coupon.timezone`` of the term
        sheet its deployment record names, else the offset its payment schedule was made in:
        payments are due at 00:00 of the payment date in the bond's zone), else UTC. Without a
        bond: the zone of the bonds recorded for the network, when they agree, else UTC."""
        if handle is None:
            return self._network_zone()
        key = handle.bond.address
        if key not in self._zones:
            found = _zone_of_record(handle.record, self.root) if handle.record else None
            made_in = zone_of_schedule(handle.bond)
            if found is not None and made_in is not None:
                # a term sheet edited since (another zone) must not shift the bond's times
                first = handle.bond.coupons.period(1).payment_time
                if first.astimezone(found).utcoffset() != first.astimezone(made_in).utcoffset():
                    found = None
            self._zones[key] = found or made_in or UTC
            handle.bond.time_zone = self._zones[key]  # the SDK's messages say the same
        return self._zones[key]

    def _network_zone(self) -> tzinfo:
        if "" not in self._zones:
            from munibond.deploy import bond_record_path, recorded_bonds

            zones: dict[str, tzinfo] = {}
            with contextlib.suppress(DeploymentError, OSError):
                for code in recorded_bonds(self.network, self.root):
                    found = _zone_of_record(bond_record_path(self.network, code, self.root),
                                            self.root)
                    if found is not None:
                        zones[str(found)] = found
            self._zones[""] = next(iter(zones.values())) if len(zones) == 1 else UTC
        return self._zones[""]

    # -- the platform and bonds --------------------------------------------------------------

    def platform(self) -> Platform:
        """The platform recorded for the network, verified against the chain (never deploys)."""
        if self._platform is None:
            from munibond.deploy import platform_record_path

            session = self.session()  # a node that does not answer is said first
            if not platform_record_path(self.network, self.root).exists():
                raise DeploymentError(
                    f"no platform is recorded for network {self.network!r}: "
                    f"{platform_record_path(self.network, self.root)} does not exist "
                    f"({self.records.describe()}). Deploy one with `munibond deploy TERMSHEET` "
                    f"(or `munibond chain` for a local chain), or check --network and "
                    f"--deployments")
            self._platform = session.load_platform()
        return self._platform

    def bond(self, reference: str) -> BondHandle:
        """The bond named on the command line: an address (checked to hold a munibond bond), or a
        code looked up in the network's deployment records, else on the platform's factory."""
        from munibond.codes import parse_address

        text = reference.strip()
        handle = (self._bond_at(parse_address(text)) if text.lower().startswith("0x")
                  else self._bond_by_code(text))
        # the SDK's messages (a lock-up's end, a KYC expiry) in the zone the CLI shows times in
        handle.bond.time_zone_from(lambda: self.zone(handle))
        return handle

    def _bond_at(self, address: str) -> BondHandle:
        from munibond.bond import Bond
        from munibond.ledger import bond_facts

        facts = bond_facts(self.chain, address)  # raises when no bond is there
        return BondHandle(Bond(self.chain, address), f"{facts.code} at {address}", None)

    def _bond_by_code(self, code: str) -> BondHandle:
        from munibond.deploy import (
            bond_record_path,
            load_bond,
            platform_record_path,
            read_record,
        )

        network = self.network
        record_file = bond_record_path(network, code, self.root)
        session = self.session()
        if record_file.exists():
            bond = load_bond(session.chain, self.platform(), network, code, root=self.root,
                             report=self.note)
            block = read_record(record_file).get("block")
            return BondHandle(bond, f"{code} at {bond.address}",
                              block if isinstance(block, int) else None, record_file)
        if not platform_record_path(network, self.root).exists():
            raise DeploymentError(
                f"no bond {code!r} is recorded for network {network!r}: {record_file} does not "
                f"exist, nor does a platform record in {record_file.parent} "
                f"({self.records.describe()}). Deploy it with `munibond deploy TERMSHEET`, give "
                f"the bond's address instead of its code, or check --network and --deployments")
        platform = self.platform()
        found = platform.factory.bond_by_code(code)
        if found is None:
            raise DeploymentError(
                f"no bond {code!r} on network {network!r}: {record_file} does not exist "
                f"({self.records.describe()}) and the factory at {platform.addresses.factory} "
                f"has no bond with that code; {self._known_codes(code)}. Deploy it with "
                f"`munibond deploy TERMSHEET`, or give the bond's address")
        return BondHandle(found, f"{code} at {found.address}", None)


def _zone_of_record(record_file: Path, root: Path) -> tzinfo | None:
    """``bond.coupon.timezone`` of the term sheet a bond's deployment record names (None when
    the record or the file is gone, or the file no longer describes that bond)."""
    from zoneinfo import ZoneInfo

    from munibond.deploy import read_record
    from munibond.exceptions import MunibondError
    from munibond.termsheet import load_term_sheet

    try:
        record = read_record(record_file)
        sheet = record.get("term_sheet") or {}
        path = Path(str(sheet.get("path", "")))
        if not str(sheet.get("path", "")):
            return None
        if not path.is_absolute():
            path = root.resolve().parent / path
        if not path.is_file():
            return None
        terms = load_term_sheet(path)
        if terms.bond.code != record.get("code"):
            return None
        return ZoneInfo(terms.bond.coupon.timezone)
    except (MunibondError, OSError, ValueError, KeyError):
        return None

