#!/usr/bin/env python3
"""Allot (mint) a bond to investors from a CSV file of wallets and face amounts.

    python scripts/allot.py                                  # examples/allotments.csv
    python scripts/allot.py --bond KOBE-R-2026-01 --allotments primary.csv --strict
    brownie run scripts/allot.py --network development

Each amount is the wallet's target holding from this allotment: a re-run (after a crash, or of a
finished allotment) mints only what is missing and never twice. Every line is pre-checked against
the bond's rules first; refused lines are listed with the reason and left out (``--strict``: mint
nothing when any line is refused, exit code 2). The signer needs the bond's ISSUER_ROLE. Settings
without options (under brownie): MUNIBOND_ALLOTMENTS, MUNIBOND_BOND, MUNIBOND_STRICT=1 and those
of munibond.scripting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from munibond.deploy import load_bond
from munibond.investor_files import read_allotments
from munibond.scripting import (
    PROJECT_ROOT,
    add_common_arguments,
    open_session,
    parse_arguments,
    run,
)

DEFAULT_ALLOTMENTS = PROJECT_ROOT / "examples" / "allotments.csv"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allot.py", description=__doc__.split("\n\n")[0],
        epilog="Environment: MUNIBOND_ALLOTMENTS, MUNIBOND_BOND, MUNIBOND_STRICT, "
               "MUNIBOND_RPC_URL, MUNIBOND_NETWORK, MUNIBOND_DEPLOYMENTS, MUNIBOND_PRIVATE_KEY, "
               "MUNIBOND_KEYSTORE.")
    parser.add_argument("--allotments", type=Path, default=None,
                        help=f"allotments CSV: wallet,amount (env MUNIBOND_ALLOTMENTS; default "
                             f"{DEFAULT_ALLOTMENTS.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--bond", default=None,
                        help="bond code (env MUNIBOND_BOND; default: the only bond recorded on "
                             "the network)")
    parser.add_argument("--strict", action="store_true", default=None,
                        help="mint nothing if any line is refused (exit code 2)")
    parser.add_argument("--chunk-size", type=int, default=50,
                        help="lines per transaction (default 50)")
    add_common_arguments(parser)
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(_parser(), argv)
    path = Path(args.allotments or os.environ.get("MUNIBOND_ALLOTMENTS") or DEFAULT_ALLOTMENTS)
    strict = bool(args.strict) or os.environ.get("MUNIBOND_STRICT", "") in ("1", "true", "yes")
    with open_session(args) as session:
        platform = session.load_platform()
        bond = load_bond(session.chain, platform, session.network,
                         args.bond or os.environ.get("MUNIBOND_BOND") or None,
                         root=session.root, report=session.say)
        terms = bond.terms()
        lines = read_allotments(path, decimals=bond.decimals,
                                unit=bond.rules().trading_unit_units)
        currency = terms.currency_code
        session.say(f"{path}: {len(lines)} lines, {sum(a.amount for a in lines):,} {currency} "
                    f"for bond {terms.code} at {bond.address}")
        to_mint: list[tuple[str, Decimal]] = []
        refused = 0
        for line in lines:
            held = bond.balance_of(line.wallet)
            missing = line.amount - held
            if missing <= 0:
                session.say(f"  line {line.line}: {line.wallet} already holds {held:,} "
                            f"{currency} (target {line.amount:,}): nothing to mint")
                continue
            verdict = bond.check_mint(line.wallet, missing)
            if not verdict.ok:
                refused += 1
                hint = f" ({verdict.hint})" if verdict.hint else ""
                session.say(f"  line {line.line}: REFUSED {missing:,} {currency} to "
                            f"{line.wallet}: {verdict.message}{hint}")
                continue
            to_mint.append((line.wallet, line.amount))
        if refused and strict:
            session.say(f"{refused} line(s) refused and --strict given: nothing minted")
            return 2
        if not to_mint:
            session.say("nothing to mint")
            return 0

        def progress(done: int, total: int) -> None:
            session.say(f"  minted {done}/{total} lines")

        receipts = bond.mint_many(session.signer, to_mint, chunk_size=args.chunk_size,
                                  progress=progress, already_minted="top_up")
        session.say(f"done: {len(to_mint)} line(s) allotted in {len(receipts)} transaction(s); "
                    f"{refused} refused; total supply now {bond.total_supply():,} {currency}, "
                    f"{bond.holder_count()} holders")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python scripts/allot.py`` and ``brownie run``."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
