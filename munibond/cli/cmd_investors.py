"""``munibond investors import|add|show``: the platform's investor registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from munibond.cli.options import (
    ADDRESS,
    DAY,
    Group,
    connection_options,
    signer_options,
    state_of,
)
from munibond.cli.output import (
    fields_table,
    local_time,
    phase_progress,
    progress_bar,
    region_text,
    yes_no,
)

if TYPE_CHECKING:
    from munibond.cli.state import State
    from munibond.registry import InvestorRecord

__all__ = ["investors"]

DEFAULT_CHUNK = 50


@click.group("investors", cls=Group)
def investors() -> None:
    """Register investor wallets (KYC) in the platform's registry, and look them up."""


def _register(state: State, items: list[tuple[str, InvestorRecord]], chunk_size: int,
              what: str) -> None:
    """Register the wallets whose record on chain differs; say what was done."""
    from munibond._client import address_arg
    from munibond.contracts import REGISTRAR_ROLE

    registry = state.platform().registry
    with phase_progress(state.err, show=state.show_progress) as progress:
        found = registry.investors(
            [wallet for wallet, _ in items],
            progress=lambda done, total: progress("checking the registry", done, total))
    pending = [(wallet, record) for wallet, record in items
               if found[address_arg(wallet, "wallet")] != record]
    if not pending:
        state.say(f"{what}: nothing to send, every wallet is registered as given (registry "
                  f"{registry.address})")
        return
    registry.require_role(REGISTRAR_ROLE, state.signer.address)
    state.note(f"{len(pending)} of {len(items)} wallet(s) to register or update in the registry "
               f"at {registry.address}")
    with progress_bar(state.err, "registering", len(pending),
                      show=state.show_progress) as bar:
        bar(0, len(pending))
        receipts = registry.register_many(state.signer, pending, chunk_size=chunk_size,
                                          progress=bar)
    state.say(f"{what}: registered {len(pending)} wallet(s) in {len(receipts)} transaction(s) "
              f"(registry {registry.address}); signer {state.signed_by}")


@investors.command("import")
@click.argument("csv_file", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--chunk-size", type=click.IntRange(1, 500), default=DEFAULT_CHUNK,
              show_default=True, help="Wallets per transaction.")
@connection_options()
@signer_options()
@click.pass_context
def import_(ctx: click.Context, csv_file: Path, chunk_size: int) -> None:
    """Register the wallets of an investors CSV file.

    \b
    Columns: wallet, investor_id, name (optional), country, investor_class, tax_category,
    region, kyc_valid_until (the last valid day). Safe to re-run: wallets already registered
    as the file says are skipped, so an interrupted import sends only what is missing. The
    signer needs the registry's REGISTRAR_ROLE.
    """
    from munibond.investor_files import read_investors
    from munibond.registry import InvestorRecord

    state = state_of(ctx)
    rows = read_investors(csv_file)  # a malformed file stops here, naming line and column
    items = [(row.wallet, InvestorRecord.from_csv(row)) for row in rows]
    what = (f"{csv_file} ({len(rows)} wallet(s) of {len({r.investor_id for r in rows})} "
            f"investor(s))")
    _register(state, items, chunk_size, what)


@investors.command("add")
@click.option("--wallet", type=ADDRESS, required=True, help="The investor's wallet.")
@click.option("--investor-id", type=click.IntRange(1, 2**64 - 1), required=True,
              help="The investor's id (shared by all wallets of one investor).")
@click.option("--country", required=True, help="ISO 3166-1 country: JP, JPN or 392.")
@click.option("--class", "investor_class", required=True,
              help="Investor class: retail, corporate, professional, qualified_institutional, "
                   "public_entity.")
@click.option("--tax", "tax_category", required=True,
              help="Tax category: exempt, individual, corporate, non_resident.")
@click.option("--region", default="", help="JIS local-government code of residence (six "
                                           "digits); none outside Japan.")
@click.option("--kyc-valid-until", type=DAY, required=True,
              help="The last day the KYC check is valid.")
@connection_options()
@signer_options()
@click.pass_context
def add(ctx: click.Context, wallet: str, investor_id: int, country: str, investor_class: str,
        tax_category: str, region: str, kyc_valid_until: date) -> None:
    """Register one wallet (or update its record). Sends nothing when the wallet is already
    registered with exactly this record. The signer needs the registry's REGISTRAR_ROLE."""
    from munibond import codes
    from munibond.investor_files import Investor
    from munibond.registry import InvestorRecord

    def parsed(option: str, parse: Callable[[str], int], value: str) -> int:
        try:
            return parse(value)
        except codes.CodeError as error:
            raise click.BadParameter(str(error), param_hint=f"'{option}'") from None

    country_id = parsed("--country", codes.country_numeric, country)
    region_id = parsed("--region", codes.parse_region, region) if region.strip() else 0
    if region_id and country_id != codes.COUNTRY_JAPAN:
        raise click.BadParameter(
            f"a JIS region is given but the country is {codes.country_alpha2(country_id)}: "
            f"leave --region out for residents outside Japan", param_hint="'--region'")
    investor = Investor(
        wallet=wallet, investor_id=investor_id, name="", country=country_id,
        investor_class=parsed("--class", codes.investor_class_id, investor_class),
        tax_category=parsed("--tax", codes.tax_category_id, tax_category),
        region=region_id, kyc_valid_until=kyc_valid_until, line=0)
    _register(state_of(ctx), [(wallet, InvestorRecord.from_csv(investor))], DEFAULT_CHUNK,
              wallet)


@investors.command("show")
@click.argument("wallet", type=ADDRESS)
@connection_options()
@click.pass_context
def show(ctx: click.Context, wallet: str) -> None:
    """Show the registry's record of WALLET in words (exit code 1 when it is not registered)."""
    from munibond import codes
    from munibond.exceptions import MunibondError

    state = state_of(ctx)
    registry = state.platform().registry
    record = registry.investor(wallet)
    if record is None:
        raise MunibondError(
            f"{wallet} is not registered in the investor registry at {registry.address}: "
            f"register it with `munibond investors add` or `munibond investors import`")
    verified = registry.is_verified(wallet)
    last_day = (record.kyc_valid_until - timedelta(days=1)).date()
    now = datetime.fromtimestamp(state.chain.now(), UTC)
    zone = state.zone()  # the zone of the network's bonds (the registry has none of its own)

    def name(lookup: Callable[[int], str], value: int) -> str:
        try:
            return f"{lookup(value)} ({value})"
        except codes.CodeError:
            return f"unknown ({value})"

    rows = [
        ("wallet", wallet),
        ("investor id", str(record.investor_id)),
        ("country", name(codes.country_alpha2, record.country)),
        ("investor class", name(codes.investor_class_name, record.investor_class)),
        ("tax category", name(codes.tax_category_name, record.tax_category)),
        ("region", region_text(record.region) if record.region else "none (outside Japan)"),
        ("KYC valid", f"through {last_day.isoformat()} (expires "
                      f"{local_time(record.kyc_valid_until, zone)})"
                      + ("" if record.kyc_valid_until > now else ": EXPIRED")),
        ("suspended", yes_no(record.suspended)),
        ("verified now", yes_no(verified)
         + f" (at the chain's time {local_time(now, zone)})"),
    ]
    state.show(fields_table(f"Investor {record.investor_id}", rows))
    state.say(f"registry {registry.address}")
