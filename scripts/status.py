#!/usr/bin/env python3
"""Show what is deployed on a network, checked against the chain, and a bond's holder register.

    python scripts/status.py                                  # every recorded bond
    python scripts/status.py --bond KOBE-R-2026-01 --history
    python scripts/status.py --at 2027-06-15T15:00+09:00      # the register at a date and time
    brownie run scripts/status.py --network development

The register is rebuilt from the bond's Transfer events and cross-checked against the contract's
balances (munibond.ledger). Sends nothing. Settings without options (under brownie):
MUNIBOND_BOND, MUNIBOND_AT, MUNIBOND_HISTORY=1 and those of munibond.scripting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from munibond.deploy import (
    bond_record_path,
    load_bond,
    read_record,
    recorded_bonds,
    summary_lines,
)
from munibond.exceptions import ConfigError
from munibond.ledger import block_at, history, holders
from munibond.scripting import add_common_arguments, open_session, parse_arguments, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="status.py", description=__doc__.split("\n\n")[0],
        epilog="Environment: MUNIBOND_BOND, MUNIBOND_AT, MUNIBOND_HISTORY, MUNIBOND_RPC_URL, "
               "MUNIBOND_NETWORK, MUNIBOND_DEPLOYMENTS.")
    parser.add_argument("--bond", default=None,
                        help="bond code (env MUNIBOND_BOND; default: every recorded bond)")
    parser.add_argument("--at", default=None,
                        help="show the register as it stood at this ISO date and time (a time "
                             "zone is required unless it is a date: 2027-06-15 means 00:00 UTC) "
                             "(env MUNIBOND_AT)")
    parser.add_argument("--history", action="store_true", default=None,
                        help="list every event of the bond (env MUNIBOND_HISTORY=1)")
    add_common_arguments(parser)
    return parser


def _instant(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--at {text!r} is not an ISO date or date and time (e.g. 2027-06-15 "
                          f"or 2027-06-15T15:00+09:00)") from None
    if when.tzinfo is None:
        if len(text.strip()) > 10:
            raise ConfigError(f"--at {text!r} has no time zone: add one (e.g. +09:00 or Z)")
        when = when.replace(tzinfo=UTC)
    return when


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(_parser(), argv)
    code = args.bond or os.environ.get("MUNIBOND_BOND") or None
    at_text = args.at or os.environ.get("MUNIBOND_AT") or None
    show_history = bool(args.history) or os.environ.get("MUNIBOND_HISTORY", "") in ("1", "true")
    with open_session(args) as session:
        say = session.say
        platform = session.load_platform()
        for line in summary_lines(session.network, session.root):
            say(line)
        say(f"records checked against chain {session.chain.chain_id} at block "
            f"{session.chain.block_number()}: they match")
        codes = [code] if code else recorded_bonds(session.network, session.root)
        for bond_code in codes:
            bond = load_bond(session.chain, platform, session.network, bond_code,
                             root=session.root, report=say)
            terms = bond.terms()
            currency = terms.currency_code
            at_block = None
            when = ""
            if at_text:
                at_block = block_at(session.chain, _instant(at_text))
                when = f" at {at_text} (block {at_block})"
            created = read_record(bond_record_path(session.network, bond_code, session.root))
            start = created.get("block") if isinstance(created.get("block"), int) else None
            register = holders(session.chain, bond, at_block=at_block, from_block=start)
            total = sum((h.balance for h in register), start=terms.issue_volume * 0)
            say("")
            say(f"bond {terms.code} ({terms.name}) at {bond.address}")
            say(f"  issued {total:,} of {terms.issue_volume:,} {currency}, "
                f"{len(register)} holding wallet(s){when}; paused: {bond.paused()}")
            for h in register:
                flags = []
                if h.frozen:
                    flags.append(f"{h.frozen:,} frozen")
                if h.wallet_frozen:
                    flags.append("wallet frozen")
                extra = f"  ({', '.join(flags)})" if flags else ""
                say(f"  investor {h.investor_id:>6}  {h.wallet}  {h.balance:>16,} "
                    f"{currency}{extra}")
            if show_history:
                say(f"  history of {terms.code}:")
                for event in history(session.chain, bond, from_block=start):
                    say(f"  block {event.block} {event.timestamp.isoformat()} {event.event}: "
                        f"{event.summary}  [{event.tx_hash}]")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python scripts/status.py`` and ``brownie run``."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
