"""The example issue through the CLI: deploy, onboard, allot, then the servicing commands."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from click.testing import Result
from eth_account import Account

from munibond.deploy import read_record

from .conftest import ALLOTMENTS, CODE, Issue, invoke, key_hex, one_error_line, wallet


def ok(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result.stdout


# --- set-up (done by the session fixture through the CLI) --------------------------------------

def test_deploy_prints_the_bond_and_its_terms(issue: Issue) -> None:
    out = ok(issue.deploy)
    address = issue.bond_address()
    assert f"bond {CODE} at {address}" in out
    for text in ("issue volume", "500,000,000 JPY", "0.620% a year", "trading unit", "1 JPY",
                 "retail, corporate", "only JP (392)", "28 (Hyogo prefecture)",
                 "2027-01-15 09:00 JST", "dev account 0"):
        assert text in out, text
    assert "documents: published offering_circular, terms_and_conditions" in out
    assert (issue.records / "local" / "platform.json").is_file()
    assert "platform deployed on local" in issue.deploy.stderr


def test_deploy_again_sends_nothing(issue: Issue) -> None:
    out = ok(issue.redeploy)
    assert f"bond {CODE} at {issue.bond_address()}" in out
    assert "reused from" in issue.redeploy.stderr
    assert "created" not in issue.redeploy.stderr and "deployed" not in issue.redeploy.stderr
    assert "documents: 2 on chain as the term sheet says" in out
    assert issue.nonces["redeploy"] == issue.nonces["deploy"]


def test_investors_import_is_idempotent(issue: Issue) -> None:
    assert "registered 17 wallet(s) in 1 transaction(s)" in ok(issue.imported)
    assert "(17 wallet(s) of 16 investor(s))" in issue.imported.stdout
    assert "nothing to send" in ok(issue.reimported)
    assert issue.nonces["reimported"] == issue.nonces["imported"]


def test_allot_refuses_six_lines_with_code_and_reason_and_mints_the_rest(issue: Issue) -> None:
    out = ok(issue.allotted)
    assert "6 line(s) refused by the bond's rules" in out
    refused = {line.split()[0]: line.split()[3] for line in out.splitlines()
               if line.strip()[:2].isdigit() and "0x" in line}
    # line -> restriction code: Osaka resident, US, KYC expired, class, over the cap, unregistered
    assert refused == {"13": "12", "14": "11", "15": "7", "16": "10", "17": "13", "18": "5"}
    for text in ("Recipient does not live in the bond's region", "Recipient's KYC has expired",
                 "ask the recipient to complete KYC"):
        assert text in out
    assert "allotted 11 line(s), 18,660,000 JPY, in 1 transaction(s); 6 refused" in out
    assert "total supply now 18,660,000 JPY, 11 holder(s)" in out


def test_allot_again_mints_nothing(issue: Issue) -> None:
    out = ok(issue.reallotted)
    assert "11 line(s) already minted in full" in out and "nothing to mint" in out
    assert "6 line(s) refused" in out
    assert issue.nonces["reallotted"] == issue.nonces["allotted"]


def test_check_before_the_lockup_is_refused_with_code_15(issue: Issue) -> None:
    assert issue.locked_check.exit_code == 3
    assert "code 15 (LOCKED_UP): Transfers are locked up" in issue.locked_check.stdout
    assert "what to do:" in issue.locked_check.stdout


def test_allot_strict_and_dry_run_send_nothing(issue: Issue, tmp_path: Path) -> None:
    before = issue.nonce()
    strict = issue.run("allot", CODE, str(ALLOTMENTS), "--strict")
    assert strict.exit_code == 3
    assert "refused and --strict given: nothing minted" in strict.stderr
    extra = tmp_path / "more.csv"
    extra.write_text(f"wallet,amount\n{wallet(12)},300000\n{wallet(20)},100000\n")
    dry = issue.run("allot", CODE, str(extra), "--dry-run")
    assert "dry run: 1 line(s), 100,000 JPY, would be minted" in ok(dry)
    assert "1 line(s) refused" in dry.stdout
    assert issue.nonce() == before


# --- transfers and checks --------------------------------------------------------------------

def test_check_allowed_and_refused(issue: Issue) -> None:
    allowed = issue.run("check", CODE, "--from", wallet(10), "--to", wallet(11), "10000")
    assert allowed.exit_code == 0 and "code 0 (SUCCESS): Transfer allowed" in allowed.stdout
    refused = issue.run("check", issue.bond_address(), "--from", wallet(10), "--to", wallet(20),
                        "10000")
    assert refused.exit_code == 3
    assert "code 12 (REGION_NOT_ALLOWED)" in refused.stdout


def test_transfer_with_a_key_from_the_environment(fresh: Issue) -> None:
    result = fresh.run("transfer", CODE, "--to", wallet(11), "10000", "--from-key-env", "HOLDER",
                       env={"HOLDER": key_hex(10)})
    out = ok(result)
    assert f"transferred 10,000 JPY of {CODE} from {wallet(10)} to {wallet(11)}" in out
    assert "($HOLDER)" in out
    holders = fresh.run("holders", CODE, "--csv", "-")
    rows = {row["wallet"]: row for row in csv.DictReader(io.StringIO(ok(holders)))}
    assert rows[wallet(10)]["balance"] == "990000" and rows[wallet(11)]["balance"] == "510000"
    # the register as it stood before the transfer (after the allotment, before the lock-up)
    before = fresh.run("holders", CODE, "--at", "2027-01-01", "--csv", "-")
    rows = {row["wallet"]: row for row in csv.DictReader(io.StringIO(ok(before)))}
    assert rows[wallet(10)]["balance"] == "1000000"


def test_transfer_with_a_keystore(fresh: Issue, tmp_path: Path) -> None:
    keystore = tmp_path / "holder.json"
    keystore.write_text(json.dumps(Account.encrypt(key_hex(11), "secret", kdf="pbkdf2",
                                                   iterations=1000)))
    result = fresh.run("transfer", CODE, "--to", wallet(10), "500", "--keystore", str(keystore),
                       env={"MUNIBOND_KEYSTORE_PASSWORD": "secret"})
    assert f"from {wallet(11)} to {wallet(10)}" in ok(result)


def test_a_refused_transfer_exits_3_and_sends_nothing(issue: Issue) -> None:
    before = issue.nonce(10)
    result = issue.run("transfer", CODE, "--to", wallet(20), "10000", "--key-env", "HOLDER",
                       env={"HOLDER": key_hex(10)})
    assert result.exit_code == 3
    line = one_error_line(result)
    assert "restriction code 12 (REGION_NOT_ALLOWED)" in line
    assert "the transaction was not sent" in line
    assert issue.nonce(10) == before


# --- servicing -------------------------------------------------------------------------------

def test_pause_and_unpause_are_idempotent(fresh: Issue) -> None:
    assert "is now paused" in ok(fresh.run("pause", CODE))
    assert "already paused: nothing sent" in ok(fresh.run("pause", CODE))
    paused = fresh.run("check", CODE, "--from", wallet(10), "--to", wallet(11), "1")
    assert paused.exit_code == 3 and "code 1 (PAUSED)" in paused.stdout
    assert "is now running" in ok(fresh.run("unpause", CODE))
    assert "already running" in ok(fresh.run("unpause", CODE))


def test_freeze_amount_and_wallet(fresh: Issue) -> None:
    out = ok(fresh.run("freeze", CODE, wallet(10), "--amount", "50000"))
    assert "froze 50,000 JPY" in out and "frozen 50,000 JPY, wallet frozen: no" in out
    too_much = fresh.run("check", CODE, "--from", wallet(10), "--to", wallet(11), "960000")
    assert too_much.exit_code == 3 and "code 19 (AMOUNT_FROZEN)" in too_much.stdout
    assert "released 20,000 JPY" in ok(fresh.run("freeze", CODE, wallet(10), "--amount",
                                                 "20000", "--unfreeze"))
    out = ok(fresh.run("freeze", CODE, wallet(10), "--wallet-level"))
    assert "is now frozen" in out and "wallet frozen: yes" in out
    again = ok(fresh.run("freeze", CODE, wallet(10), "--wallet-level"))
    assert f"{wallet(10)} is already frozen in {CODE}: nothing sent" in again
    table = ok(fresh.run("holders", CODE))
    line = next(row for row in table.splitlines() if wallet(10) in row)
    assert "30,000" in line and "yes" in line
    assert "is now not frozen" in ok(fresh.run("freeze", CODE, wallet(10), "--wallet-level",
                                               "--unfreeze"))


def test_force_transfer_records_the_reason(fresh: Issue) -> None:
    out = ok(fresh.run("force-transfer", CODE, "--from", wallet(10), "--to", wallet(11),
                       "100000", "--reason", "Kobe District Court order 2027-42"))
    assert "forced transfer of 100,000 JPY" in out and "Kobe District Court" in out
    rows = {row["wallet"]: row for row in csv.DictReader(io.StringIO(
        ok(fresh.run("holders", CODE, "--csv", "-"))))}
    assert rows[wallet(10)]["balance"] == "900000" and rows[wallet(11)]["balance"] == "600000"
    blank = fresh.run("force-transfer", CODE, "--from", wallet(10), "--to", wallet(11), "1",
                      "--reason", "  ")
    assert blank.exit_code == 2 and "--reason" in one_error_line(blank)


def test_recover_moves_a_lost_wallet_to_the_investors_new_one(fresh: Issue) -> None:
    out = ok(fresh.run("recover", CODE, "--lost", wallet(14), "--new", wallet(15), "--reason",
                       "phone lost, identity checked"))
    assert f"recovered 300,000 JPY of {CODE} from lost wallet {wallet(14)}" in out
    assert f"{wallet(15)}: balance 300,000 JPY" in out
    other = fresh.run("recover", CODE, "--lost", wallet(10), "--new", wallet(11), "--reason", "x")
    assert other.exit_code == 1 and "NotSameInvestor" in one_error_line(other)


# --- reading ---------------------------------------------------------------------------------

def test_holders_table_and_csv_file(issue: Issue, tmp_path: Path) -> None:
    table = ok(issue.run("holders", CODE))
    assert f"Register of {CODE} at block" in table and "11 wallet(s), 18,660,000 JPY" in table
    line = next(row for row in table.splitlines() if wallet(13) in row)
    assert "1004" in line and "10,000,000" in line and "53.5906%" in line
    target = tmp_path / "register.csv"
    out = ok(issue.run("holders", issue.bond_address(), "--csv", str(target)))
    assert f"to {target}" in out
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(rows) == 11
    assert list(rows[0]) == ["wallet", "investor_id", "balance", "frozen", "wallet_frozen",
                             "share_of_supply"]
    by_wallet = {row["wallet"]: row for row in rows}
    assert by_wallet[wallet(13)]["share_of_supply"] == "0.5359056806"
    assert by_wallet[wallet(13)]["wallet_frozen"] == "false"
    assert sum(int(row["balance"]) for row in rows) == 18_660_000


def test_status(issue: Issue) -> None:
    out = ok(issue.run("status", CODE))
    for text in ("Bond KOBE-R-2026-01", "Transfer rules", "18,660,000 JPY of 500,000,000 JPY "
                 "(3.732%)", "holders", "paused", "yes (terms fixed)", "offering_circular",
                 "2ec2998eeb455e747b8964b1ac961d9a703e6553cff0dadd98ee7c72ce1bf1bd"):
        assert text in out, text
    # the payment side: the 10 periods munibond deploy wrote, the first coupon next
    assert re.search(r"payments\s+10 period\(s\) on chain, 0 recorded; closed: no", out), out
    # times in the bond's zone, named: 00:00 JST of 15 June, not 15:00 UTC of the 14th
    assert re.search(r"next payment\s+period 1 \(coupon\) paid from 2027-06-15 00:00 JST;",
                     out), out
    assert re.search(r"lock-up until\s+2027-01-15 09:00 JST", out), out
    assert re.search(r"chain\s+chain id 31337, block \d+, time \d{4}-\d\d-\d\d \d\d:\d\d"
                     r"(:\d\d)? JST", out), out
    assert "required 57,846" in out and "funded 0" in out


def test_investors_show_and_add(fresh: Issue) -> None:
    out = ok(fresh.run("investors", "show", wallet(10)))
    for text in ("Investor 1001", "JP (392)", "retail (1)", "individual (1)", "281107 (Hyogo)",
                 "through 2031-12-31 (expires 2032-01-01 09:00 JST)"):
        assert text in out, text
    assert re.search(r"verified now\s+yes", out)
    expired = ok(fresh.run("investors", "show", wallet(22)))
    assert "EXPIRED" in expired and re.search(r"verified now\s+no", expired)
    unknown = fresh.run("investors", "show", wallet(27))
    assert unknown.exit_code == 1 and "is not registered" in one_error_line(unknown)
    args = ("investors", "add", "--wallet", wallet(27), "--investor-id", "1017", "--country",
            "JP", "--class", "retail", "--tax", "individual", "--region", "281107",
            "--kyc-valid-until", "2032-03-31")
    assert "registered 1 wallet(s)" in ok(fresh.run(*args))
    before = fresh.nonce()
    assert "nothing to send" in ok(fresh.run(*args))
    assert fresh.nonce() == before
    assert "Investor 1017" in ok(fresh.run("investors", "show", wallet(27)))


def _plain(text: str) -> str:
    """``text`` without terminal escape sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_long_batches_are_chunked_with_a_progress_bar(fresh: Issue, tmp_path: Path) -> None:
    accounts = [Account.create() for _ in range(12)]
    investors = tmp_path / "investors.csv"
    investors.write_text(
        "wallet,investor_id,country,investor_class,tax_category,region,kyc_valid_until\n"
        + "".join(f"{a.address},{5000 + i},JP,retail,individual,281107,2032-03-31\n"
                  for i, a in enumerate(accounts)))
    terminal = {"TTY_COMPATIBLE": "1"}  # rich draws progress as on a terminal
    before = fresh.nonce()
    result = fresh.run("investors", "import", str(investors), "--chunk-size", "5", env=terminal)
    assert "registered 12 wallet(s) in 3 transaction(s)" in ok(result)
    shown = _plain(result.stderr)
    # every phase shows, the pre-check included
    assert "checking the registry" in shown and "12/12" in shown and "registering" in shown
    allotments = tmp_path / "allotments.csv"
    allotments.write_text("wallet,amount\n" + "".join(f"{a.address},10000\n" for a in accounts))
    result = fresh.run("allot", CODE, str(allotments), "--chunk-size", "4", env=terminal)
    assert "allotted 12 line(s), 120,000 JPY, in 3 transaction(s)" in ok(result)
    shown = _plain(result.stderr)
    assert all(phase in shown for phase in ("reading mints", "pre-checking", "minting"))
    assert "12/12" in shown
    assert fresh.nonce() == before + 6


def test_no_progress_when_not_a_terminal_or_quiet(fresh: Issue, tmp_path: Path) -> None:
    accounts = [Account.create() for _ in range(3)]
    allotments = tmp_path / "allotments.csv"
    allotments.write_text("wallet,amount\n" + "".join(f"{a.address},10000\n" for a in accounts))
    for extra, env in (((), None), (("--quiet",), {"TTY_COMPATIBLE": "1"})):
        result = fresh.run("allot", CODE, str(allotments), "--dry-run", *extra, env=env)
        assert "dry run:" in result.stdout
        assert "pre-checking" not in result.stderr and "reading mints" not in result.stderr


def test_bond_found_on_the_factory_without_a_record(fresh: Issue, tmp_path: Path) -> None:
    copy = tmp_path / "records"
    shutil.copytree(fresh.records, copy)
    (copy / "local" / f"{CODE}.json").unlink()
    result = invoke_with_records(fresh, copy, "status", CODE)
    assert fresh.bond_address() in ok(result)
    # no record, so no term sheet: the zone is the offset the schedule was made in
    assert "paid from 2027-06-15 00:00 +09:00;" in result.stdout
    assert read_record(copy / "local" / "platform.json")["chain_id"] == 31337


def invoke_with_records(issue: Issue, records: Path, *args: str) -> Result:
    return invoke(*args, "--rpc-url", issue.node.url, "--deployments", str(records))
