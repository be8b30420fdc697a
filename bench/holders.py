"""Holder register at scale: ``munibond holders`` on a bond with 10,000 holders, on anvil.

    .venv/bin/python bench/holders.py [--holders 10000] [--chunk-size 200] [--no-sequential]

Not part of CI (``make bench-holders``; about a minute). On a fresh zero-gas anvil it deploys the
platform and the example bond (its holder limit raised to fit), registers and allots ``--holders``
wallets, has a few of them trade, then times

* ``munibond.ledger.holders`` (the SDK: Transfer events in chunks, then the contract's
  ``accountOf`` and the registry's ``recordOf`` for every wallet, in JSON-RPC batches);
* the console script ``munibond holders BOND --csv FILE`` end to end, in its own process
  (start-up, bond look-up, creation-block search, the register, the CSV);
* for comparison, the same per-wallet reads one ``eth_call`` at a time (how the register was read
  before the batches), timed on 1,000 wallets and scaled, unless ``--no-sequential``.

It checks that the register has every holder with the right balance, and writes
``bench/results/holders.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform as host
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale_setup import example_bond, register_residents  # noqa: E402
from munibond.anvil import start_anvil  # noqa: E402
from munibond.bond import Bond  # noqa: E402
from munibond.chain import DEFAULT_BATCH_SIZE, Chain  # noqa: E402
from munibond.ledger import holders as register_of  # noqa: E402
from munibond.signers import dev_accounts  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "holders.json"
HOLDING = 10_000  # JPY of face per holder
TRADES = 20  # holders who sell part of their holding to another holder
SEQUENTIAL_SAMPLE = 1_000


def _wallets(n: int) -> list[Any]:
    return [Account.create(f"holders-{i}") for i in range(n)]


def _sequential(chain: Chain, bond: Bond, wallets: list[str]) -> float:
    """Seconds to read accountOf and recordOf of every wallet one call at a time."""
    registry = bond.registry.contract
    started = time.monotonic()
    for wallet in wallets:
        chain.call(bond.contract.functions.accountOf(wallet))
        chain.call(registry.functions.recordOf(wallet))
    return time.monotonic() - started


def run(holders: int, chunk_size: int, sequential: bool) -> dict[str, Any]:
    deployer, registrar = dev_accounts(2)
    started = time.monotonic()
    with start_anvil(zero_gas=True, accounts=2) as anvil:
        chain = anvil.connect()
        platform, _, bond = example_bond(chain, deployer, registrar, holders)
        accounts = _wallets(holders)
        wallets: list[str] = [str(Web3.to_checksum_address(a.address)) for a in accounts]
        register_residents(platform, registrar, wallets, chunk_size=chunk_size)
        issue = int(bond.terms().issue_date.timestamp())  # book entry on the issue date
        if chain.now() < issue:
            chain.set_next_timestamp(issue)
            chain.mine()
        bond.allot(deployer, [(w, HOLDING) for w in wallets], chunk_size=chunk_size)
        lockup = bond.rules().lockup_until
        if lockup is not None and chain.now() <= lockup.timestamp():
            chain.set_next_timestamp(int(lockup.timestamp()) + 60)
            chain.mine()
        for i in range(min(TRADES, holders // 2)):  # a few trades: the register is not all mints
            seller = accounts[i]
            chain.fund(seller.address, 10**18)
            bond.transfer(seller, wallets[-1 - i], 4_000)
        setup_s = time.monotonic() - started

        block = chain.block_number()
        began = time.monotonic()
        register = register_of(chain, bond.address, at_block=block)
        sdk_s = time.monotonic() - began
        assert len(register) == holders, (len(register), holders)
        expected = {w: HOLDING for w in wallets}
        for i in range(min(TRADES, holders // 2)):
            expected[wallets[i]] -= 4_000
            expected[wallets[-1 - i]] += 4_000
        assert all(h.units == expected[h.wallet] for h in register)

        target = ROOT / "bench" / "results" / "holders-register.csv"
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUNIBOND_")}
        began = time.monotonic()
        done = subprocess.run(
            [str(Path(sys.executable).parent / "munibond"), "holders", bond.address,
             "--rpc-url", anvil.url, "--csv", str(target), "--quiet"],
            env=env, capture_output=True, text=True, check=False, timeout=600)
        cli_s = time.monotonic() - began
        if done.returncode != 0:
            raise SystemExit(f"munibond holders failed: {done.stderr.strip()}")
        with target.open(encoding="utf-8") as rows:
            assert sum(1 for _ in csv.DictReader(rows)) == holders
        target.unlink()

        sample = wallets[:SEQUENTIAL_SAMPLE]
        sequential_s = (_sequential(chain, bond, sample) * holders / len(sample)
                        if sequential else None)
        version = chain.client_version
    return {
        "holders": holders,
        "trades": min(TRADES, holders // 2),
        "sdk_register_s": round(sdk_s, 2),
        "cli_holders_s": round(cli_s, 2),
        # the per-wallet reads one eth_call at a time (as before the batches), timed on a sample
        # of SEQUENTIAL_SAMPLE wallets and scaled to every holder
        "sequential_reads_estimate_s": None if sequential_s is None else round(sequential_s, 1),
        "sequential_sample": min(SEQUENTIAL_SAMPLE, holders) if sequential else None,
        "batch_size": DEFAULT_BATCH_SIZE,
        "setup_s": round(setup_s, 1),
        "node": version,
        "python": host.python_version(),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--no-sequential", action="store_true",
                        help="skip the one-call-at-a-time comparison")
    args = parser.parse_args(argv)
    result = run(args.holders, args.chunk_size, not args.no_sequential)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, sort_keys=True))
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
