#!/usr/bin/env python3
"""Pay what a bond owes its holders now: fund the due period if asked, push the payments in
batches, and write the payment report.

    python scripts/pay_coupon.py --fund                  # the only bond recorded on the network
    python scripts/pay_coupon.py --bond KOBE-R-2026-01 --period 3 --fund --report p3.csv
    brownie run scripts/pay_coupon.py --network development

The period to fund is ``--period`` (1-based, as ``munibond coupon schedule`` numbers them) or,
by default, the latest period whose payment time has passed. Funding takes exactly what the
period needs from the signer's settlement tokens (approving them first) and is skipped when it
is funded already. The push pays every holder owed something payable (coupons net of tax,
principal; at maturity the redemption, burning the units), and is safe to re-run: nobody is paid
twice. A payee that cannot be paid is listed and stays owed, and a due period not funded is
reported (SHORTFALL); the exit code is then 4, as `munibond coupon pay`'s. The signer
needs the bond's PAYING_AGENT_ROLE. Settings without options (under brownie): MUNIBOND_BOND,
MUNIBOND_PERIOD, MUNIBOND_FUND=1, MUNIBOND_REPORT and those of munibond.scripting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from munibond.deploy import load_bond
from munibond.exceptions import InvalidArgument
from munibond.scripting import add_common_arguments, open_session, parse_arguments, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pay_coupon.py", description=__doc__.split("\n\n")[0],
        epilog="Environment: MUNIBOND_BOND, MUNIBOND_PERIOD, MUNIBOND_FUND, MUNIBOND_REPORT, "
               "MUNIBOND_RPC_URL, MUNIBOND_NETWORK, MUNIBOND_DEPLOYMENTS, MUNIBOND_PRIVATE_KEY, "
               "MUNIBOND_KEYSTORE.")
    parser.add_argument("--bond", default=None,
                        help="bond code (env MUNIBOND_BOND; default: the only bond recorded on "
                             "the network)")
    parser.add_argument("--period", type=int, default=None,
                        help="period to fund, from 1 (env MUNIBOND_PERIOD; default: the latest "
                             "period due)")
    parser.add_argument("--fund", action="store_true", default=None,
                        help="fund the period first when it is not funded (env MUNIBOND_FUND=1)")
    parser.add_argument("--report", type=Path, default=None,
                        help="write the payment report CSV here (env MUNIBOND_REPORT)")
    parser.add_argument("--chunk-size", type=int, default=100,
                        help="holders per transaction (default 100)")
    add_common_arguments(parser)
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(_parser(), argv)
    env_period = os.environ.get("MUNIBOND_PERIOD")
    period_number = args.period if args.period is not None else (
        int(env_period) if env_period else None)
    fund = bool(args.fund) or os.environ.get("MUNIBOND_FUND", "") in ("1", "true", "yes")
    report_path = args.report or (Path(os.environ["MUNIBOND_REPORT"])
                                  if os.environ.get("MUNIBOND_REPORT") else None)
    with open_session(args) as session:
        platform = session.load_platform()
        bond = load_bond(session.chain, platform, session.network,
                         args.bond or os.environ.get("MUNIBOND_BOND") or None,
                         root=session.root, report=session.say)
        coupons = bond.coupons
        schedule = coupons.schedule()
        now = session.chain.now()
        if period_number is not None:
            if not 1 <= period_number <= len(schedule):
                raise InvalidArgument(f"--period must be 1 to {len(schedule)} for bond "
                                      f"{bond.code}, not {period_number}")
            period = schedule[period_number - 1]
        else:
            due = [p for p in schedule if p.payment_time.timestamp() <= now]
            if not due:
                first = schedule[0]
                session.say(f"nothing is due yet: period 1 of {bond.code} is paid from "
                            f"{first.payment_time.isoformat()}; nothing sent")
                return 0
            period = due[-1]
        status = coupons.funding(period)
        session.say(f"period {period.number} of {bond.code} ({period.kind}): required "
                    f"{status.required:,}, funded {status.funded:,}, payable "
                    f"{'yes' if status.payable else 'no'}")
        if fund and not period.funded:
            coupons.fund(session.signer, period)
            session.say(f"funded period {period.number} with {status.shortfall:,}")

        def progress(done: int, total: int) -> None:
            session.say(f"  paid {done}/{total} holders")

        report = coupons.pay(session.signer, chunk_size=args.chunk_size, progress=progress)
        if report_path is not None:
            report_path.write_text(report.to_csv(), encoding="utf-8")
            session.say(f"payment report: {report_path}")
        session.say(f"done: {len(report.holders_paid)} holder(s) paid in "
                    f"{len(report.tx_hashes)} transaction(s): gross {report.total('gross'):,}, "
                    f"tax {report.total('tax'):,}, principal {report.total('principal'):,}, "
                    f"net {report.total('net'):,}")
        for line in report.failed:
            session.say(f"  FAILED {line.holder}: {line.reason} (still owed: run again later)")
        for short in report.shortfalls:
            session.say(f"  SHORTFALL period {short.period}: due, funded {short.funded:,} of "
                        f"{short.required:,} (missing {short.shortfall:,}); its holders wait")
        # as `munibond coupon pay`: 4 when a due payment could not be made (cron alerts on it)
        return 4 if report.failed or report.shortfalls else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python scripts/pay_coupon.py`` and ``brownie run``."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
