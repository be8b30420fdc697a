"""Scale run: one coupon paid by push to 10,000 holders through the SDK, interrupted half way.

    .venv/bin/python bench/coupon_scale.py [--holders 10000] [--chunk-size 200]

Not part of CI (it takes a few minutes). On a fresh zero-gas anvil it deploys the platform and
the example bond (its holder limit raised to fit), registers and allots ``--holders`` wallets,
travels past the first coupon's record and payment times, funds the coupon, and pays it by push
(``bond.coupons.pay``) in a **separate process that is killed with SIGKILL** once about half the
holders are paid, as a crashed paying-agent script would be. It then runs the same payment again
and checks, from the chain's ``CouponPaid`` events, that every holder was paid exactly once and
exactly the gross the terms give, and that the bond's escrow holds only the withheld tax and the
rounding dust. It writes ``bench/results/coupon_scale.json``: holders, transactions, total gas,
gas per holder and wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scale_setup import example_bond, register_residents  # noqa: E402
from munibond.anvil import start_anvil  # noqa: E402
from munibond.bond import Bond  # noqa: E402
from munibond.chain import Chain, connect  # noqa: E402
from munibond.signers import dev_accounts  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "coupon_scale.json"
HOLDING = 10_000  # JPY of face per holder: one bond each


def _wallets(n: int) -> list[str]:
    """``n`` distinct addresses (holders never sign here: they are only paid)."""
    return [Web3.to_checksum_address(Account.create(f"scale-{i}").address) for i in range(n)]


def _coupon_paid(chain: Chain, bond: Bond, period: int) -> Counter[str]:
    """Holder -> number of CouponPaid events for ``period``, from the chain's logs."""
    event = bond.contract.events.CouponPaid()
    logs = event.get_logs(from_block=0, to_block="latest",
                          argument_filters={"period": period})
    return Counter(str(log["args"]["holder"]) for log in logs)


def pay_only(rpc: str, bond_address: str, chunk_size: int) -> int:
    """The paying agent's process: pay everything payable, printing progress (killed midway)."""
    chain = connect(rpc, poll_interval=0.002)
    bond = Bond(chain, bond_address)
    agent = dev_accounts(1)[0]

    def progress(done: int, total: int) -> None:
        print(f"paid {done} {total}", flush=True)

    bond.coupons.pay(agent, chunk_size=chunk_size, progress=progress)
    print("done", flush=True)
    return 0


def run(holders: int, chunk_size: int) -> dict[str, Any]:
    accounts = dev_accounts(2)
    deployer, registrar = accounts
    started = time.monotonic()
    with start_anvil(zero_gas=True, accounts=2) as anvil:
        chain = anvil.connect()
        platform, _, bond = example_bond(chain, deployer, registrar, holders)
        wallets = _wallets(holders)
        register_residents(platform, registrar, wallets, chunk_size=chunk_size)
        bond.mint_many(deployer, [(w, HOLDING) for w in wallets], chunk_size=chunk_size,
                       already_minted="none")
        setup_s = time.monotonic() - started

        period = bond.coupons.period(1)
        chain.set_next_timestamp(int(period.payment_time.timestamp()) + 60)
        chain.mine()
        token = platform.settlement
        assert token is not None
        need = bond.coupons.funding(1).required_units
        chain.transact(deployer, token.functions.mint(deployer.address, need))
        bond.coupons.fund(deployer, 1)
        start_block = chain.w3.eth.block_number

        # the paying agent's script, killed with SIGKILL about half way
        pay_started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, __file__, "--pay-only", "--rpc", anvil.url, "--bond", bond.address,
             "--chunk-size", str(chunk_size)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert child.stdout is not None
        killed_after = 0
        for line in child.stdout:
            parts = line.split()
            if parts[:1] == ["paid"] and int(parts[1]) >= holders // 2:
                child.send_signal(signal.SIGKILL)
                killed_after = int(parts[1])
                break
        child.wait()
        paid_before_rerun = sum(_coupon_paid(chain, bond, 0).values())

        # the same payment again: pays the rest, nobody twice
        report = bond.coupons.pay(deployer, chunk_size=chunk_size)
        pay_s = time.monotonic() - pay_started

        counts = _coupon_paid(chain, bond, 0)
        paid_twice = [w for w, n in counts.items() if n > 1]
        missing = [w for w in wallets if counts.get(w, 0) == 0]
        expected_gross = HOLDING * period.coupon_per_unit_scaled // 10**13 * 10**18
        grosses = {int(log["args"]["gross"]) for log in bond.contract.events.CouponPaid()
                   .get_logs(from_block=start_block, to_block="latest")}
        end_block = chain.w3.eth.block_number
        txs = gas = 0
        for number in range(start_block + 1, end_block + 1):
            block = chain.w3.eth.get_block(number, full_transactions=False)
            for tx_hash in block["transactions"]:
                receipt = chain.w3.eth.get_transaction_receipt(cast(HexBytes, tx_hash))
                if receipt["to"] == bond.address:
                    txs += 1
                    gas += int(receipt["gasUsed"])
        paid = bond.coupons.paid(1)
        escrow = int(token.functions.balanceOf(bond.address).call())
        funded = bond.coupons.funding(1).funded_units
        withheld = bond.coupons.settlement_units(paid.withheld)
        gross_paid = bond.coupons.settlement_units(paid.coupon_gross)
        result = {
            "holders": holders,
            "chunk_size": chunk_size,
            "transactions": txs,
            "total_gas": gas,
            "gas_per_holder": gas // holders,
            "setup_wall_time_s": round(setup_s, 1),
            "pay_wall_time_s": round(pay_s, 1),
            "killed_after_holders": killed_after,
            "paid_before_rerun": paid_before_rerun,
            "paid_by_rerun": len(report.paid),
            "holders_paid": len(counts),
            "holders_paid_twice": len(paid_twice),
            "holders_missing": len(missing),
            "gross_per_holder_jpy": expected_gross // 10**18,
            "all_gross_exact": grosses == {expected_gross},
            "escrow_equals_withheld_plus_dust": escrow == withheld + (funded - gross_paid),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if paid_twice or missing or grosses != {expected_gross}:
            raise SystemExit(f"coupon scale run FAILED: {json.dumps(result, indent=2)}")
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--holders", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=200)
    parser.add_argument("--pay-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rpc", help=argparse.SUPPRESS)
    parser.add_argument("--bond", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pay_only:
        return pay_only(args.rpc, args.bond, args.chunk_size)
    result = run(args.holders, args.chunk_size)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, sort_keys=True))
    print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
