#!/usr/bin/env python3
"""Allot (mint) a bond to investors from a CSV file of wallets and face amounts.

    python scripts/allot.py                                  # examples/allotments.csv
    python scripts/allot.py --bond KOBE-R-2026-01 --allotments primary.csv --strict
    brownie run scripts/allot.py --network development

Each amount is the wallet's whole allotment of the bond: what the bond has already minted to the
wallet (its mint events, whatever the holder did with the units since) counts against it, so a
re-run (after a crash, after trading, or of a finished allotment) mints only what was never
minted, and never twice. Allotting before the bond's issue date (on the chain's clock) is refused
unless ``--before-issue-date`` is given. Every line is pre-checked against the bond's rules first;
refused lines are listed with the reason and left out (``--strict``: mint nothing when any line is
refused, exit code 2). The signer needs the bond's ISSUER_ROLE. This is what ``munibond allot``
does (both use ``Bond.plan_allotment`` and ``Bond.allot``). Settings without options (under
brownie): MUNIBOND_ALLOTMENTS, MUNIBOND_BOND, MUNIBOND_STRICT=1, MUNIBOND_BEFORE_ISSUE_DATE=1 and
those of munibond.scripting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
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
               "MUNIBOND_BEFORE_ISSUE_DATE, "
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
    parser.add_argument("--before-issue-date", action="store_true", default=None,
                        help="allot although the chain's clock is before the bond's issue date "
                             "(env MUNIBOND_BEFORE_ISSUE_DATE=1)")
    parser.add_argument("--chunk-size", type=int, default=50,
                        help="lines per transaction (default 50)")
    add_common_arguments(parser)
    return parser


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(_parser(), argv)
    path = Path(args.allotments or os.environ.get("MUNIBOND_ALLOTMENTS") or DEFAULT_ALLOTMENTS)
    strict = bool(args.strict) or _flag("MUNIBOND_STRICT")
    early = bool(args.before_issue_date) or _flag("MUNIBOND_BEFORE_ISSUE_DATE")
    with open_session(args) as session:
        platform = session.load_platform()
        bond = load_bond(session.chain, platform, session.network,
                         args.bond or os.environ.get("MUNIBOND_BOND") or None,
                         root=session.root, report=session.say)
        terms = bond.terms()
        lines = read_allotments(path, decimals=bond.decimals,
                                unit=bond.rules().trading_unit_units)
        currency = terms.currency_code
        session.say(f"{path.resolve()}: {len(lines)} lines, {sum(a.amount for a in lines):,} "
                    f"{currency} for bond {terms.code} at {bond.address}")
        last: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            step = max(1, total // 10)  # about ten lines per phase
            if done == total or done - last.get(phase, 0) >= step:
                last[phase] = done
                session.say(f"  {phase}: {done}/{total}")

        plan = bond.plan_allotment([(a.wallet, a.amount) for a in lines], progress=progress)
        if plan.before_issue_date and not early:
            session.say(f"the chain's clock ({plan.chain_time.isoformat()}) is before the "
                        f"bond's issue date ({plan.issue_date.isoformat()}): allotments are "
                        f"booked on the issue (payment) date; run again from then, or pass "
                        f"--before-issue-date; nothing minted")
            return 2
        numbers = {a.wallet.lower(): a.line for a in lines}
        for item in plan.lines:
            number = numbers[item.wallet.lower()]
            if item.done:
                session.say(f"  line {number}: {item.wallet} was minted {item.minted:,} "
                            f"{currency} already (allotment {item.amount:,}): nothing to mint")
            elif item.refused and item.verdict is not None:
                hint = f" ({item.verdict.hint})" if item.verdict.hint else ""
                session.say(f"  line {number}: REFUSED {item.to_mint:,} {currency} to "
                            f"{item.wallet}: {item.verdict.message}{hint}")
        refused = len(plan.refused)
        if refused and strict:
            session.say(f"{refused} line(s) refused and --strict given: nothing minted")
            return 2
        if not plan.pending:
            session.say("nothing to mint")
            return 0
        receipts = bond.allot(session.signer, plan, before_issue_date=True, skip_refused=True,
                              chunk_size=args.chunk_size, progress=progress)
        session.say(f"done: {len(plan.pending)} line(s) allotted ({plan.to_mint:,} {currency}) "
                    f"in {len(receipts)} transaction(s); {refused} refused; total supply now "
                    f"{bond.total_supply():,} {currency}, {bond.holder_count()} holders")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python scripts/allot.py`` and ``brownie run``."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
