"""``scripts/demo.py`` run as ``make demo`` runs it: plain python in a subprocess, output to a pipe.

The demo starts its own anvil, so these tests need only the project's node_modules. Its output
is checked for what a new user must see: the six refused allotment lines with their ERC-1404
codes, the refusals of the secondary market, the forced transfer's recorded reason, the holder
register, and a one-line summary; and for what a CI log needs: no colour codes, no trailing
spaces, nothing wider than 100 columns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "scripts" / "demo.py"
ALLOTMENT_REFUSALS = (
    "REFUSED code 12 REGION_NOT_ALLOWED",
    "REFUSED code 11 COUNTRY_NOT_ALLOWED",
    "REFUSED code 7 RECIPIENT_KYC_EXPIRED",
    "REFUSED code 10 CLASS_NOT_ALLOWED",
    "REFUSED code 13 MAX_BALANCE_EXCEEDED",
    "REFUSED code 5 RECIPIENT_NOT_REGISTERED",
)


def run_demo(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MUNIBOND_") and k not in ("COLUMNS", "FORCE_COLOR")}
    clean.update(env or {})
    return subprocess.run([sys.executable, str(DEMO)], cwd=cwd, env=clean, capture_output=True,
                          text=True, encoding="utf-8", timeout=180, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    cwd = tmp_path_factory.mktemp("demo-cwd")
    return cwd, run_demo(cwd)


@pytest.fixture(scope="module")
def output(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> str:
    _, result = demo
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert result.stderr == ""
    return result.stdout


@pytest.fixture(scope="module")
def flat(output: str) -> str:
    """The output with every run of white space as one space (sentences wrap at 100 columns)."""
    return " ".join(output.split())


def test_allotment_refusals_have_their_codes(output: str, flat: str) -> None:
    for line in ALLOTMENT_REFUSALS:
        assert line in output
    assert output.count("REFUSED code") == len(ALLOTMENT_REFUSALS)
    assert "messageForTransferRestriction" in output
    assert "Recipient does not live in the bond's region" in flat
    assert "11 lines minted (18,660,000 JPY)" in flat


def test_secondary_market_refusals(output: str, flat: str) -> None:
    assert "code 15 LOCKED_UP" in flat
    assert "0.5 JPY, finer than the trading unit: AmountError from the SDK, nothing sent" in flat
    assert "11 COUNTRY_NOT_ALLOWED" in output and "12 REGION_NOT_ALLOWED" in output
    # the same code from the pre-check and from the contract's revert of a mined transaction
    assert "with status 0" in flat
    assert "reverted with TransferRestricted code 11 COUNTRY_NOT_ALLOWED" in flat
    assert "code 19 AMOUNT_FROZEN" in flat
    # 12,345 JPY of face moved: not a whole number of 10,000 JPY bonds
    assert re.search(r"Yamada Taro \(1001\)\s+Suzuki Hanako \(1002\)\s+12,345", output)


def test_forced_transfer_and_recovery(output: str, flat: str) -> None:
    assert "ForcedTransfer event" in output
    assert "Kobe District Court attachment order 2027 (ru) No. 118" in flat
    # the audit trail's summary of the event, with the reason
    assert "forced transfer of 1,000,000 JPY" in flat
    assert "reason: 'Kobe District Court attachment order" in flat
    assert "after recoverWallet" in output
    assert "WalletRecovered" in output
    assert "balance, frozen part and wallet freeze moved together" in flat


def test_holder_register(output: str, flat: str) -> None:
    assert "Holder register" in output
    register = output.split("Holder register", 1)[1].split("Audit trail", 1)[0]
    rows = {m.group(1): m.group(2) for m in re.finditer(
        r"^\s+(\d{4})\s.*?0x[0-9A-Fa-f]{4}…[0-9A-Fa-f]{4}\s+([\d,]+)", register, re.M)}
    assert rows["1001"] == "987,655"
    assert rows["1002"] == "512,345"
    assert rows["1005"] == "300,000"  # on the investor's second wallet, after the recovery
    assert rows["1007"] == "500,000"
    assert len(rows) == 11
    assert "total supply 18,660,000 JPY = the register's sum" in flat
    assert "Audit trail" in output


def test_summary_is_the_last_line(output: str) -> None:
    last = output.rstrip("\n").splitlines()[-1]
    assert last.startswith("munibond demo OK in ")
    assert "18,660,000 JPY" in last


def test_output_fits_a_plain_log(output: str) -> None:
    assert "\x1b[" not in output
    for line in output.splitlines():
        assert line == line.rstrip(), f"trailing spaces: {line!r}"
        assert cell_len(line) <= 100, f"wider than 100 columns: {line!r}"


def test_runs_again_and_leaves_nothing_behind(
        demo: tuple[Path, subprocess.CompletedProcess[str]], output: str) -> None:
    cwd, _ = demo
    again = run_demo(cwd)
    assert again.returncode == 0, f"{again.stdout}\n{again.stderr}"
    assert "munibond demo OK" in again.stdout
    assert list(cwd.iterdir()) == []  # records went to a temporary directory


def test_failure_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run_demo(tmp_path, {"MUNIBOND_ANVIL": str(tmp_path / "no-anvil")})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("demo failed in step 1 (")
    assert "MUNIBOND_ANVIL" in lines[0] and "Traceback" not in result.stderr

    debug = run_demo(tmp_path, {"MUNIBOND_ANVIL": str(tmp_path / "no-anvil"),
                                "MUNIBOND_DEBUG": "1"})
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
