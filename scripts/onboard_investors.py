#!/usr/bin/env python3
"""Register investor wallets in the platform's registry from a CSV file.

    python scripts/onboard_investors.py                       # examples/investors.csv
    python scripts/onboard_investors.py --investors kyc.csv --rpc-url http://node:8545
    brownie run scripts/onboard_investors.py --network development

The platform must be deployed and recorded first (scripts/deploy_bond.py). Re-running is safe:
wallets whose record on chain already equals the file's are skipped, so a run interrupted half
way sends only what is missing. The signer needs the registry's REGISTRAR_ROLE. Settings without
options (under brownie): MUNIBOND_INVESTORS and those of munibond.scripting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from munibond.investor_files import read_investors
from munibond.registry import InvestorRecord
from munibond.scripting import (
    PROJECT_ROOT,
    add_common_arguments,
    open_session,
    parse_arguments,
    run,
)

DEFAULT_INVESTORS = PROJECT_ROOT / "examples" / "investors.csv"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onboard_investors.py", description=__doc__.split("\n\n")[0],
        epilog="Environment: MUNIBOND_INVESTORS, MUNIBOND_RPC_URL, MUNIBOND_NETWORK, "
               "MUNIBOND_DEPLOYMENTS, MUNIBOND_PRIVATE_KEY, MUNIBOND_KEYSTORE.")
    parser.add_argument("--investors", type=Path, default=None,
                        help=f"investors CSV (env MUNIBOND_INVESTORS; default "
                             f"{DEFAULT_INVESTORS.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--chunk-size", type=int, default=50,
                        help="wallets per transaction (default 50)")
    add_common_arguments(parser)
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(_parser(), argv)
    path = Path(args.investors or os.environ.get("MUNIBOND_INVESTORS") or DEFAULT_INVESTORS)
    investors = read_investors(path)
    items = [(investor.wallet, InvestorRecord.from_csv(investor)) for investor in investors]
    with open_session(args) as session:
        platform = session.load_platform()
        registry = platform.registry
        pending = sum(1 for wallet, record in items if registry.investor(wallet) != record)
        session.say(f"{path}: {len(items)} wallets of "
                    f"{len({i.investor_id for i in investors})} investors; {pending} to register "
                    f"or update in the registry at {registry.address}")

        def progress(done: int, total: int) -> None:
            session.say(f"  registered {done}/{total}")

        receipts = registry.register_many(session.signer, items, chunk_size=args.chunk_size,
                                          progress=progress)
        session.say(f"done: {len(receipts)} transaction(s) sent; every wallet of {path.name} is "
                    f"registered as the file says")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python scripts/onboard_investors.py`` and ``brownie run``."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
