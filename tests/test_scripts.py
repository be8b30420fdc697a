"""The issuer scripts run as a person runs them: ``python scripts/x.py`` in a subprocess.

Against an anvil started here (deploy, re-run, onboard, allot, status), and with no RPC URL at all,
where the scripts start their own anvil and keep its state between runs.
"""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from munibond.anvil import Anvil, start_anvil
from munibond.deploy import read_record
from munibond.signers import dev_accounts

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
NAMES = ("deploy_bond", "onboard_investors", "allot", "status", "pay_coupon")
#: the example bond's issue (payment) date, when allotments are booked
ISSUE_DATE = calendar.timegm(date(2026, 12, 15).timetuple())


def _to_issue_date(chain: Any) -> None:
    if chain.now() < ISSUE_DATE:
        chain.set_next_timestamp(ISSUE_DATE)
        chain.mine()


def script(name: str, *args: str, cwd: Path, env: dict[str, str] | None = None,
           timeout: float = 180) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MUNIBOND_")}
    clean.update(env or {})
    return subprocess.run([sys.executable, str(SCRIPTS / f"{name}.py"), *args], cwd=cwd,
                          env=clean, capture_output=True, text=True, timeout=timeout,
                          check=False)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with start_anvil(accounts=30) as anvil:
        yield anvil


@pytest.mark.parametrize("name", NAMES)
def test_help(name: str, tmp_path: Path) -> None:
    out = ok(script(name, "--help", cwd=tmp_path))
    assert "--rpc-url" in out and "--network" in out and "--deployments" in out


def test_issuer_flow_against_a_node(node: Anvil, tmp_path: Path) -> None:
    records = tmp_path / "records"
    common = ("--rpc-url", node.url, "--network", "test", "--deployments", str(records))
    chain = node.connect()
    deployer = dev_accounts(1)[0].address

    out = ok(script("deploy_bond", *common, cwd=tmp_path))
    assert "platform deployed on test" in out and "bond KOBE-R-2026-01 created at" in out
    platform = read_record(records / "test" / "platform.json")
    bond = read_record(records / "test" / "KOBE-R-2026-01.json")
    assert platform["chain_id"] == 31337
    assert bytes(chain.w3.eth.get_code(bond["address"]))
    assert bond["term_sheet"]["path"].endswith("examples/kobe-resident-bond-2026.yaml")
    nonce = chain.w3.eth.get_transaction_count(deployer)
    files = {p.name: p.read_bytes() for p in (records / "test").glob("*.json")}

    out = ok(script("deploy_bond", *common, cwd=tmp_path))
    assert "reused from" in out and "deployed" not in out and "created" not in out
    assert chain.w3.eth.get_transaction_count(deployer) == nonce
    assert {p.name: p.read_bytes() for p in (records / "test").glob("*.json")} == files

    out = ok(script("onboard_investors", *common, cwd=tmp_path))
    assert "17 to register" in out
    out = ok(script("onboard_investors", *common, cwd=tmp_path))
    assert "0 to register" in out and "0 transaction(s) sent" in out

    early = script("allot", *common, cwd=tmp_path)
    if chain.now() < ISSUE_DATE:  # book entry on the issue date
        assert early.returncode == 2 and "before the bond's issue date" in early.stdout
        _to_issue_date(chain)
    out = ok(script("allot", *common, cwd=tmp_path))
    assert out.count("REFUSED") == 6
    assert "11 line(s) allotted" in out and "total supply now 18,660,000 JPY" in out
    out = ok(script("allot", *common, cwd=tmp_path))  # a re-run mints nothing twice
    assert "nothing to mint" in out
    assert out.count("already (allotment") == 11

    out = ok(script("status", *common, "--history", cwd=tmp_path))
    assert "issued 18,660,000 of 500,000,000 JPY, 11 holding wallet(s)" in out
    assert "investor   1004" in out and "10,000,000 JPY" in out
    assert "minted 10,000,000 JPY to" in out



def test_errors_are_one_line_without_traceback(node: Anvil, tmp_path: Path) -> None:
    result = script("deploy_bond", "--rpc-url", node.url, "--deployments", str(tmp_path),
                    "--term-sheet", str(tmp_path / "missing.yaml"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    result = script("status", "--rpc-url", node.url, "--network", "nothing-here",
                    "--deployments", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "no platform is recorded for network 'nothing-here'" in result.stderr
    result = script("status", "--rpc-url", node.url, "--network", "../up",
                    "--deployments", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1 and "not a usable network name" in result.stderr


def test_settings_from_the_environment(node: Anvil, tmp_path: Path) -> None:
    env = {"MUNIBOND_RPC_URL": node.url, "MUNIBOND_NETWORK": "envnet",
           "MUNIBOND_DEPLOYMENTS": str(tmp_path / "from-env")}
    out = ok(script("deploy_bond", cwd=tmp_path, env=env))
    assert "on envnet" in out
    assert (tmp_path / "from-env" / "envnet" / "platform.json").is_file()


def test_without_an_rpc_url_the_scripts_start_anvil_and_keep_its_state(tmp_path: Path) -> None:
    records = tmp_path / "deployments"
    out = ok(script("deploy_bond", "--deployments", str(records), cwd=tmp_path))
    assert "no RPC URL given" in out and "started a local anvil" in out
    assert "platform deployed on local" in out
    assert (records / "local" / "platform.json").is_file()
    assert (records / "local" / "anvil-state.json").is_file()

    out = ok(script("deploy_bond", "--deployments", str(records), cwd=tmp_path))
    assert "resumed from" in out and "reused from" in out
    out = ok(script("status", "--deployments", str(records), cwd=tmp_path))
    assert "bond KOBE-R-2026-01" in out and "0 holding wallet(s)" in out


BROWNIE = ROOT / ".venv-brownie" / "bin" / "brownie"


def _port_busy(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(not BROWNIE.exists() or not (ROOT / "build" / "contracts").is_dir(),
                    reason="brownie is not set up: run `make brownie` once")
def test_brownie_run(tmp_path: Path) -> None:
    """`brownie run scripts/deploy_bond.py --network development` calls main() with no arguments;
    brownie's development chain is new on every run, so the second run replaces the records of the
    vanished chain instead of refusing them."""
    if _port_busy(8545):
        pytest.skip("port 8545 is in use: brownie would attach to that node")
    records = tmp_path / "records"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUNIBOND_")}
    env.update(PATH=f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}",
               SOLCX_BINARY_PATH=str(ROOT / ".solc"), MUNIBOND_DEPLOYMENTS=str(records))
    for attempt in range(2):
        # through the wrapper `make brownie` uses: it copes with a project path brownie cannot
        # import scripts from (a folder name with a dot)
        result = subprocess.run([str(ROOT / "scripts" / "brownie-run.sh"),
                                 "scripts/deploy_bond.py", "--network", "development"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                                check=False)
        out = result.stdout + result.stderr
        assert result.returncode == 0, out
        assert "running under brownie: network development" in out
        assert "bond KOBE-R-2026-01 created at" in out
        if attempt:
            assert "is gone" in out  # the first run's chain
    assert read_record(records / "development" / "platform.json")["chain_id"] == 31337


def test_paying_a_coupon(tmp_path: Path) -> None:
    """pay_coupon.py on its own anvil (it moves the chain's clock past the first coupon)."""
    with start_anvil(accounts=30) as anvil:
        records = tmp_path / "records"
        common = ("--rpc-url", anvil.url, "--network", "test", "--deployments", str(records))
        chain = anvil.connect()
        deployer = dev_accounts(1)[0].address
        for name in ("deploy_bond", "onboard_investors", "allot"):
            if name == "allot":
                _to_issue_date(chain)
            ok(script(name, *common, cwd=tmp_path))
        platform = read_record(records / "test" / "platform.json")
        bond = read_record(records / "test" / "KOBE-R-2026-01.json")
        _pay_first_coupon(chain, common, platform, bond, deployer, tmp_path)


def _pay_first_coupon(chain: Any, common: tuple[str, ...], platform: dict[str, Any],
                      bond: dict[str, Any], deployer: str, tmp_path: Path) -> None:
    # nothing due yet; then funded and pushed once the first payment time has passed
    out = ok(script("pay_coupon", *common, "--fund", cwd=tmp_path))
    assert "nothing is due yet" in out
    from munibond.bond import Bond
    from munibond.contracts import settlement_abi

    paying = Bond(chain, bond["address"])
    first = paying.coupons.period(1)
    chain.set_next_timestamp(int(first.payment_time.timestamp()) + 1)
    chain.mine()
    token = chain.w3.eth.contract(address=platform["contracts"]["settlement_token"]["address"],
                                  abi=list(settlement_abi()))
    chain.transact(dev_accounts(1)[0], token.functions.mint(deployer, 10**24))
    report = tmp_path / "coupon-1.csv"
    out = ok(script("pay_coupon", *common, "--fund", "--chunk-size", "4", "--report",
                    str(report), cwd=tmp_path))
    # 18,660,000 JPY outstanding x 0.31% = 57,846 JPY required; the holders' floors sum to less
    assert "period 1 of KOBE-R-2026-01 (coupon): required 57,846" in out
    assert "funded period 1 with 57,846" in out
    assert "done: 11 holder(s) paid in 3 transaction(s)" in out
    rows = report.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("holder,period,gross,national_tax,local_tax,tax,net")
    assert len(rows) == 12 and all(",1," in row and row.endswith(",paid,") for row in rows[1:])
    # each holder's gross: its whole holding x 0.31%, floored to 1 JPY (nothing moved since)
    for row in rows[1:]:
        holder, _, gross = row.split(",")[:3]
        assert int(gross) == int(paying.balance_of(holder)) * 31 // 10_000, row
    assert paying.coupons.paid(1).coupon_gross == sum(int(r.split(",")[2]) for r in rows[1:])
    out = ok(script("pay_coupon", *common, cwd=tmp_path))  # a re-run pays nobody twice
    assert "done: 0 holder(s) paid in 0 transaction(s)" in out
