"""``scripts/demo.py`` run as ``make demo`` runs it: plain python in a subprocess, output to a pipe.

The demo starts its own anvil, so these tests need only the project's node_modules. Its output
is checked for what a new user must see: the six refused allotment lines with their ERC-1404
codes, the refusals of the secondary market, the forced transfer's recorded reason, the holder
register, the bond's life to maturity (the on-chain schedule and withholding rates, the record
date, funding, claims, batch payments, a failing payee, tax remittance, dust, the redemption and
the closed bond), the payment report CSV, and a one-line summary; and for what a CI log needs:
no colour codes, no trailing spaces, nothing wider than 100 columns.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
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


CSV_HEADER = ["holder", "period", "gross", "national_tax", "local_tax", "tax", "net",
              "principal", "tx_hash", "status", "reason"]
YAMADA = "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
NAKAMURA = "0xdD2FD4581271e230360230F9337D5c0430Bf44C0"
WATANABE = "0xbDA5747bFD65F08deb54cb465eB87D40e51B197E"
TAKAHASHI_2 = "0xcd3B766CCDd6AE721141F452C550Ca635964ce71"


def run_demo(cwd: Path, env: dict[str, str] | None = None,
             args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("MUNIBOND_") and k not in ("COLUMNS", "FORCE_COLOR")}
    clean.update(env or {})
    return subprocess.run([sys.executable, str(DEMO), *args], cwd=cwd, env=clean,
                          capture_output=True, text=True, encoding="utf-8", timeout=180,
                          check=False)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests' runs write the payment report (not the project's reports/)."""
    return tmp_path_factory.mktemp("demo-reports")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory,
         reports: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    cwd = tmp_path_factory.mktemp("demo-cwd")
    return cwd, run_demo(cwd, args=("--payments-csv", str(reports / "payments.csv")))


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


def test_payment_schedule_and_withholding_rates(output: str, flat: str) -> None:
    assert "ensure_payments): the schedule of 10 periods, PAYING_AGENT_ROLE to account 3" in flat
    schedule = output.split("Payment schedule", 1)[1].split("Withholding on coupons", 1)[0]
    rows = re.findall(r"^\s+(\d+)\s+(\d{4}-\d\d-\d\d) 15:00 JST\s+(\d{4}-\d\d-\d\d)\s+"
                      r"0\.0031000000000\s+31\s+(.+)$", schedule, re.M)
    assert [int(r[0]) for r in rows] == list(range(1, 11))
    assert rows[0][1:3] == ("2027-06-14", "2027-06-15")
    assert rows[5][1:3] == ("2029-12-13", "2029-12-14")  # 2029-12-15 is a Saturday
    assert rows[-1][1:] == ("2031-12-12", "2031-12-15", "100% of face")
    assert [r[3] for r in rows[:-1]] == ["-"] * 9
    rates = output.split("Withholding on coupons", 1)[1].split("Step 9/12", 1)[0]
    assert re.search(r"1\s+individual\s+15\.315%\s+5\.000%\s+20\.315%\s+9$", rates, re.M)
    assert re.search(r"2\s+corporate\s+15\.315%\s+0\.000%\s+15\.315%\s+2$", rates, re.M)
    assert "names the tax account (setTaxAccount): account 4" in flat


def test_record_time_decides_who_is_paid(output: str, flat: str) -> None:
    assert re.search(r"2027-06-14 14:59:59\s+Yamada Taro -> Ito Daisuke\s+100,000\s+the buyer",
                     output)
    assert re.search(r"2027-06-14 15:00:00\s+Suzuki Hanako -> Yamamoto Aoi\s+12,345\s+"
                     r"the seller \(recorded\)", output)
    # holds now, held at the record time, coupon 1 owed
    assert re.search(r"Ito Daisuke \(1006\)\s+150,000\s+150,000\s+465 JPY", output)
    assert re.search(r"Suzuki Hanako \(1002\)\s+500,000\s+512,345\s+1,588 JPY", output)
    assert re.search(r"Yamamoto Aoi \(1015\)\s+22,345\s+10,000\s+31 JPY", output)
    assert "Suzuki Hanako is owed it on 512,345 JPY while holding 500,000" in flat


def test_first_coupon_funding_claim_and_push(output: str, flat: str) -> None:
    assert "claims before the period is funded: PeriodNotFunded, nothing sent" in flat
    assert "funding 57,845 JPY: WrongFundingAmount, nothing sent" in flat
    assert "funds coupon 1 with exactly floor(18,660,000 x 0.0031) = 57,846 JPY" in flat
    assert ("Yamada Taro claims (claim()): gross 2,751 = floor(887,655 x 0.0031), tax 421 + 137, "
            "2,193 JPY received") in flat
    assert re.search(r"push to the others \(payBatch, 4 holders a transaction\): 4/10 8/10 10/10 "
                     r"holders, 3 transactions", output)
    assert "Nakamura Sho (1008): PaymentFailed event, reason SettlementTransferFailed" in flat
    assert "the next push pays Nakamura Sho 1,483 JPY net and asks nobody else" in flat


def test_first_coupon_withholding_per_holder(output: str, flat: str) -> None:
    table = output.split("Coupon 1, holder by holder", 1)[1].split("Each row checked", 1)[0]
    rows = {m.group(1).strip(): m.groups()[1:] for m in re.finditer(
        r"^\s+(\S.*?)\s+(\d+\.\d+%)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)"
        r"\s+(claim|push, later|push)$", table, re.M)}
    assert len(rows) == 11
    assert rows["Yamada Taro"] == ("20.315%", "887,655", "2,751", "421", "137", "2,193", "claim")
    assert rows["Kobe Harbor Logistics KK"] == ("15.315%", "10,000,000", "31,000", "4,747", "0",
                                                "26,253", "push")
    assert rows["Nakamura Sho"][-1] == "push, later"
    for rate, held, gross, national, local, net, _ in rows.values():
        units = int(held.replace(",", ""))
        g = units * 31 // 10_000
        n = g * 15_315 // 100_000
        lo = g * 5_000 // 100_000 if rate == "20.315%" else 0
        assert [int(v.replace(",", "")) for v in (gross, national, local, net)] == [
            g, n, lo, g - n - lo]
    assert re.search(r"total\s+18,660,000\s+57,844\s+8,854\s+873\s+48,117", table)
    assert "remitTax): 9,727 JPY (national 8,854 + local 873) to the tax account" in flat
    assert "dust: funded 57,846 - gross paid 57,844 = 2 JPY" in flat


def test_coupons_two_to_nine(output: str) -> None:
    table = output.split("Coupons 2 to 9 (JPY)", 1)[1].split("Each period:", 1)[0]
    rows = re.findall(r"^\s+(\d)\s+\d{4}-\d\d-\d\d\s+11\s+57,846\s+57,844\s+9,727\s+48,117\s+2"
                      r"\s+8$", table, re.M)
    assert rows == [str(n) for n in range(2, 10)]
    assert re.search(r"total\s+462,768\s+462,752\s+77,816\s+384,936\s+16", table)


def test_maturity_redemption_and_close(output: str, flat: str) -> None:
    assert "the final record time: a transfer of 10,000 JPY is refused, code 3 BOND_MATURED" in flat
    assert ("last coupon 57,846 + principal 18,660,000 = 18,717,846 JPY") in flat
    assert ("Yamada Taro redeems (redeem()): coupon 2,751 - tax 558 + principal 887,655 = "
            "889,848 JPY received; 887,655 units burned in the same transaction") in flat
    assert re.search(r"push the redemption \(payBatch, 4 holders a transaction\): 4/10 8/10 10/10",
                     output)
    assert flat.count(": RedemptionWaitsForUnfreeze, ") == 2
    assert "the next push redeems both" in flat
    assert "a transfer after the close: code 2 BOND_CLOSED" in flat
    state = output.split("after maturity (read from the chain)", 1)[1]
    assert re.search(r"total supply / holder count\s+0 JPY / 0$", state, re.M)
    assert "check_mint says code 2 BOND_CLOSED" in state
    assert re.search(r"stablecoin left in the bond\s+20 JPY", state)


def test_payment_report_csv(output: str, flat: str, reports: Path) -> None:
    path = reports / "payments.csv"
    assert f"failed attempts (paid later) in {path}" in flat
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        assert next(reader) == CSV_HEADER
        rows = [dict(zip(CSV_HEADER, row, strict=True)) for row in reader]
    assert "columns: " + ", ".join(CSV_HEADER) in flat
    paid = [r for r in rows if r["status"] == "paid"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(paid) == 110 and len(failed) == 3
    assert Counter(r["period"] for r in paid) == {str(p): 11 for p in range(1, 11)}
    assert sorted((r["holder"], r["period"]) for r in failed) == sorted(
        [(NAKAMURA, "1"), (WATANABE, "10"), (TAKAHASHI_2, "10")])
    assert "SettlementTransferFailed" in next(r for r in failed if r["period"] == "1")["reason"]
    for row in rows:
        assert re.fullmatch(r"0x[0-9a-f]{64}", row["tx_hash"])
        for column in ("gross", "national_tax", "local_tax", "tax", "net", "principal"):
            assert re.fullmatch(r"\d+", row[column]), row  # whole yen
        if row["status"] == "paid":
            gross, tax, net, principal = (Decimal(row[c]) for c in
                                          ("gross", "tax", "net", "principal"))
            assert net == gross - tax + principal
            assert tax == Decimal(row["national_tax"]) + Decimal(row["local_tax"])
    first = next(r for r in paid if r["holder"] == YAMADA and r["period"] == "1")
    assert [first[c] for c in ("gross", "national_tax", "local_tax", "net", "principal")] == [
        "2751", "421", "137", "2193", "0"]
    for period in range(1, 11):
        assert sum(Decimal(r["gross"]) for r in paid if r["period"] == str(period)) == 57_844
    assert sum(Decimal(r["principal"]) for r in paid) == 18_660_000
    assert sum(Decimal(r["tax"]) for r in paid) == 97_270


def test_register_at_record_dates_agrees_with_payments(output: str, flat: str) -> None:
    table = output.split("Register at each record date", 1)[1].split("over the life", 1)[0]
    rows = re.findall(r"^\s+(\d+)\s+\d{4}-\d\d-\d\d 15:00\s+11\s+18,660,000\s+57,844\s+57,844"
                      r"\s+(-|18,660,000)\s+✔$", table, re.M)
    assert rows == [(str(n), "-") for n in range(1, 10)] + [("10", "18,660,000")]
    assert ("over the life: 578,440 JPY of coupons (97,270 withheld and remitted), 18,660,000 "
            "JPY of principal repaid; 20 JPY of rounding dust left") in flat


def test_summary_is_the_last_line(output: str) -> None:
    last = output.rstrip("\n").splitlines()[-1]
    assert last.startswith("munibond demo OK in ")
    assert "refusals explained" in last
    assert last.endswith("18,660,000 JPY redeemed")


def test_help_names_the_report_option(tmp_path: Path) -> None:
    result = run_demo(tmp_path, args=("--help",))
    assert result.returncode == 0
    assert "--payments-csv PATH" in result.stdout
    assert "reports/demo-payments.csv" in " ".join(result.stdout.split())


def test_output_fits_a_plain_log(output: str) -> None:
    assert "\x1b[" not in output
    for line in output.splitlines():
        assert line == line.rstrip(), f"trailing spaces: {line!r}"
        assert cell_len(line) <= 100, f"wider than 100 columns: {line!r}"


def test_runs_again_and_leaves_nothing_behind(
        demo: tuple[Path, subprocess.CompletedProcess[str]], output: str, tmp_path: Path) -> None:
    cwd, _ = demo
    report = tmp_path / "nested" / "again.csv"
    again = run_demo(cwd, args=("--payments-csv", str(report)))
    assert again.returncode == 0, f"{again.stdout}\n{again.stderr}"
    assert "munibond demo OK" in again.stdout
    assert list(cwd.iterdir()) == []  # records went to a temporary directory
    assert report.read_text(encoding="utf-8").startswith(",".join(CSV_HEADER) + "\n")


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
