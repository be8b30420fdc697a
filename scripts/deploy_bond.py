#!/usr/bin/env python3
"""Deploy the platform (once per network) and a bond from a term sheet, and record both.

    python scripts/deploy_bond.py                      # local anvil, the example term sheet
    python scripts/deploy_bond.py --rpc-url http://127.0.0.1:8545 --term-sheet bond.yaml
    brownie run scripts/deploy_bond.py --network development

Records go to deployments/<network>/platform.json and deployments/<network>/<bond code>.json.
Running it again sends nothing: the records are checked against the chain and reused. A term
sheet changed after its bond was created is refused (a bond's terms are fixed on chain). Settings
without options (under brownie): MUNIBOND_TERM_SHEET, MUNIBOND_SETTLEMENT, MUNIBOND_FRESH=1 and
those of munibond.scripting.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from munibond.deploy import (
    ensure_bond,
    ensure_platform,
    parse_settlement,
    publish_documents,
    summary_lines,
)
from munibond.payment_setup import ensure_payments
from munibond.scripting import (
    PROJECT_ROOT,
    add_common_arguments,
    open_session,
    parse_arguments,
    run,
)
from munibond.termsheet import load_term_sheet

DEFAULT_TERM_SHEET = PROJECT_ROOT / "examples" / "kobe-resident-bond-2026.yaml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deploy_bond.py", description=__doc__.split("\n\n")[0],
        epilog="Environment: MUNIBOND_TERM_SHEET, MUNIBOND_SETTLEMENT, MUNIBOND_FRESH, "
               "MUNIBOND_RPC_URL, MUNIBOND_NETWORK, MUNIBOND_DEPLOYMENTS, MUNIBOND_PRIVATE_KEY, "
               "MUNIBOND_KEYSTORE.")
    parser.add_argument("--term-sheet", type=Path, default=None,
                        help=f"the bond's term sheet (env MUNIBOND_TERM_SHEET; default "
                             f"{DEFAULT_TERM_SHEET.relative_to(PROJECT_ROOT)})")
    parser.add_argument("--settlement", default=None,
                        help="settlement token: 'auto' (a local mock on a development chain, "
                             "none elsewhere; the default), 'none', or the address of an "
                             "existing token (env MUNIBOND_SETTLEMENT)")
    parser.add_argument("--fresh", action="store_true", default=None,
                        help="deploy a new platform even if one is recorded (the network's bond "
                             "records are removed) (env MUNIBOND_FRESH=1)")
    parser.add_argument("--accept-term-sheet-edits", action="store_true",
                        help="accept an edited term sheet whose terms and rules still equal the "
                             "bond's on chain (comments, documents), and record its new hash")
    add_common_arguments(parser)
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = parse_arguments(_parser(), argv)
    term_sheet = Path(args.term_sheet or os.environ.get("MUNIBOND_TERM_SHEET")
                      or DEFAULT_TERM_SHEET)
    settlement = parse_settlement(args.settlement or os.environ.get("MUNIBOND_SETTLEMENT")
                                  or "auto")
    fresh = bool(args.fresh) or os.environ.get("MUNIBOND_FRESH", "") in ("1", "true", "yes")
    with open_session(args) as session:
        platform = ensure_platform(session.chain, session.signer, session.network,
                                   settlement=settlement, root=session.root, fresh=fresh,
                                   replace_if_reset=session.ephemeral, report=session.say)
        bond = ensure_bond(session.chain, session.signer, platform, term_sheet, session.network,
                           root=session.root,
                           accept_term_sheet_edits=args.accept_term_sheet_edits,
                           report=session.say)
        sheet = load_term_sheet(term_sheet)
        ensure_payments(bond, session.signer, sheet, token=bond.terms().settlement_token,
                        say=session.say)
        documents = publish_documents(bond, session.signer, sheet)
        if documents.published:
            session.say(f"documents published on the bond: {', '.join(documents.published)}")
        if documents.not_issuer:
            session.say(f"documents not published (the signer is not the bond's issuer): "
                        f"{', '.join(documents.not_issuer)}")
        terms = bond.terms()
        session.say(f"bond {terms.code} ({terms.name}) at {bond.address}: issue volume "
                    f"{terms.issue_volume:,} {terms.currency_code}, maturity "
                    f"{terms.maturity_date.date()}")
        for line in summary_lines(session.network, session.root):
            session.say(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``python scripts/deploy_bond.py`` and ``brownie run``."""
    return run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
