"""Operations (issue 7, part B) through the CLI: allotment re-runs keyed on mint events and the
issue date, deployment records found from any folder, the local chain's clock and settlement
token, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from munibond.bond import Bond

from .conftest import ALLOTMENTS, CODE, TERM_SHEET, Issue, key_hex, one_error_line, wallet

#: the example bond four years later (issued 2030-12-15): its issue date is still ahead
LATER_CODE = "KOBE-R-2030-01"


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def later_term_sheet(tmp_path: Path) -> Path:
    text = TERM_SHEET.read_text(encoding="utf-8")
    for old, new in (("code: KOBE-R-2026-01", f"code: {LATER_CODE}"),
                     ("issue_date: 2026-12-15", "issue_date: 2030-12-15"),
                     ("maturity_date: 2031-12-15", "maturity_date: 2035-12-15"),
                     ("first_payment_date: 2027-06-15", "first_payment_date: 2031-06-15"),
                     ("lockup_until: 2027-01-15", "lockup_until: 2031-01-15")):
        assert old in text, old
        text = text.replace(old, new, 1)
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("isin:"))
    file = tmp_path / "later.yaml"
    file.write_text(text + "\n", encoding="utf-8")
    return file


# --- B2: allot re-runs after trading, issue date -----------------------------------------------

def test_allot_after_holders_traded_mints_nothing(fresh: Issue) -> None:
    bond = Bond(fresh.chain, fresh.bond_address())
    seller, buyer = wallet(10), wallet(11)
    held = bond.balance_of(seller)
    ok(fresh.run("transfer", CODE, "39674", "--to", buyer, "--key-env", "SELLER",
                 env={"SELLER": key_hex(10)}))
    assert bond.balance_of(seller) == held - 39674
    supply, before = bond.total_supply(), fresh.nonce()
    assert "dry run: 0 line(s), 0 JPY" in ok(fresh.run("allot", CODE, str(ALLOTMENTS),
                                                      "--dry-run"))
    out = ok(fresh.run("allot", CODE, str(ALLOTMENTS)))
    assert "11 line(s) already minted in full" in out and "nothing to mint" in out
    assert fresh.nonce() == before and bond.total_supply() == supply


def test_a_bigger_line_mints_only_the_rest_after_trading(fresh: Issue, tmp_path: Path) -> None:
    bond = Bond(fresh.chain, fresh.bond_address())
    seller = wallet(10)
    allotted = bond.balance_of(seller)  # nothing moved yet: the whole allotment
    ok(fresh.run("transfer", CODE, "500000", "--to", wallet(11), "--key-env", "SELLER",
                 env={"SELLER": key_hex(10)}))
    more = tmp_path / "more.csv"
    more.write_text(f"wallet,amount\n{seller},{allotted + 20000}\n")
    out = ok(fresh.run("allot", CODE, str(more)))
    assert "1 line(s) partly minted before" in out
    assert "allotted 1 line(s), 20,000 JPY, in 1 transaction(s)" in out
    assert bond.balance_of(seller) == allotted - 500000 + 20000
    assert "nothing to mint" in ok(fresh.run("allot", CODE, str(more)))


def test_allot_before_the_issue_date_needs_the_flag(fresh: Issue, tmp_path: Path) -> None:
    ok(fresh.run("deploy", str(later_term_sheet(tmp_path))))
    before = fresh.nonce()
    line = one_error_line(fresh.run("allot", LATER_CODE, str(ALLOTMENTS)))
    assert f"{LATER_CODE} is issued on 2030-12-15" in line and "the chain's clock is at" in line
    assert "--before-issue-date" in line and "nothing sent" in line
    assert fresh.nonce() == before
    dry = fresh.run("allot", LATER_CODE, str(ALLOTMENTS), "--dry-run")
    assert "dry run: 11 line(s), 18,660,000 JPY" in ok(dry)
    assert "a real run is refused without --before-issue-date" in dry.stderr
    result = fresh.run("allot", LATER_CODE, str(ALLOTMENTS), "--before-issue-date")
    assert "allotted 11 line(s), 18,660,000 JPY" in ok(result)
    assert "allotting before the issue date 2030-12-15" in result.stderr


# --- B8: the local chain's clock and settlement token --------------------------------------------

def _jst(text: str) -> int:
    from datetime import datetime, timedelta, timezone

    return int(datetime.fromisoformat(text).replace(
        tzinfo=timezone(timedelta(hours=9))).timestamp())


def test_chain_time_advance_and_set_time(fresh: Issue) -> None:
    chain = fresh.chain
    start = chain.now()
    shown = ok(fresh.run("chain", "time"))
    assert f"block {chain.block_number()} at " in shown and "JST" in shown
    assert "local anvil chain" in shown
    block = chain.block_number()
    out = ok(fresh.run("chain", "advance", "30d"))
    assert chain.now() == start + 30 * 86400 and chain.block_number() == block + 1
    assert "clock moved forward by 30d" in out
    ok(fresh.run("chain", "advance", "1d12h"))
    assert chain.now() == start + 31 * 86400 + 12 * 3600
    # a naive date and time is Japan time; a zone is taken as given
    from datetime import UTC, datetime, timedelta

    later = datetime.fromtimestamp(chain.now(), UTC) + timedelta(days=40)
    naive = later.strftime("%Y-%m-%dT15:00")
    ok(fresh.run("chain", "set-time", naive))
    assert chain.now() == _jst(naive)
    ok(fresh.run("chain", "set-time", later.strftime("%Y-%m-%d") + "T23:00Z"))
    assert chain.now() == _jst(naive) + 17 * 3600  # 15:00 JST = 06:00Z
    day = (later + timedelta(days=2)).strftime("%Y-%m-%d")  # a date: 00:00 JST that day
    ok(fresh.run("chain", "set-time", day))
    assert chain.now() == _jst(day + "T00:00")


def test_the_clock_never_goes_back(fresh: Issue) -> None:
    now, block = fresh.chain.now(), fresh.chain.block_number()
    line = one_error_line(fresh.run("chain", "set-time", "2020-01-01"))
    assert "only moves forward" in line and "nothing done" in line
    assert fresh.chain.now() == now and fresh.chain.block_number() == block
    for bad in ("0d", "30", "3 days", "1x"):
        result = fresh.run("chain", "advance", bad)
        assert result.exit_code == 2 and "duration" in result.stderr, (bad, result.stderr)
    assert fresh.run("chain", "advance", "-3d").exit_code == 2  # not an option either
    assert fresh.run("chain", "set-time", "next tuesday").exit_code == 2


def test_mint_settlement_in_currency_units(fresh: Issue) -> None:
    from munibond.contracts import settlement_abi
    from munibond.deploy import read_record

    platform = read_record(fresh.records / "local" / "platform.json")
    token = fresh.chain.w3.eth.contract(
        address=platform["contracts"]["settlement_token"]["address"], abi=list(settlement_abi()))
    before = int(token.functions.balanceOf(wallet(5)).call())
    out = ok(fresh.run("chain", "mint-settlement", wallet(5), "1234567.5"))
    assert int(token.functions.balanceOf(wallet(5)).call()) == before + 1234567_5 * 10**17
    assert f"minted 1,234,567.5 JPYC to {wallet(5)}" in out
    line = one_error_line(fresh.run("chain", "mint-settlement", wallet(5), "1000",
                                    "--key-env", "STRANGER", env={"STRANGER": key_hex(9)}))
    assert "only the token's owner" in line


def test_a_coupon_from_the_command_line_alone(fresh: Issue) -> None:
    """Record date, funding and payment of the first coupon without a line of Python."""
    payment = _jst("2027-06-16T00:00")  # the first coupon is payable from 2027-06-15
    if fresh.chain.now() >= payment:
        import pytest

        pytest.skip("the system clock is past the first coupon")
    ok(fresh.run("chain", "set-time", "2027-06-16"))
    ok(fresh.run("chain", "mint-settlement", wallet(0), "1000000"))
    assert "funded" in ok(fresh.run("coupon", "fund", CODE, "1"))
    assert "holders paid: 11" in ok(fresh.run("coupon", "pay", CODE))


def test_clock_and_mint_commands_refuse_a_real_node(fake_besu: str) -> None:
    from .conftest import invoke

    for args in (("advance", "30d"), ("set-time", "2030-01-01"),
                 ("mint-settlement", wallet(5), "1000")):
        result = invoke("chain", *args, "--rpc-url", fake_besu)
        line = one_error_line(result)
        assert result.exit_code == 1
        assert "works on a local development chain only" in line and "besu/v24" in line, line
    shown = invoke("chain", "time", "--rpc-url", fake_besu)
    assert shown.exit_code == 0 and "its clock cannot be moved" in shown.stdout


# --- B7: deployment records wherever the CLI runs ------------------------------------------------

def _project(issue: Issue, tmp_path: Path) -> Path:
    """A project folder holding the issue's records in deployments/, and a subfolder of it."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(issue.records, project / "deployments")
    (project / "reports" / "2027").mkdir(parents=True)
    return project


def test_records_are_found_from_a_subfolder_of_the_project(
        issue: Issue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import invoke

    project = _project(issue, tmp_path)
    monkeypatch.chdir(project / "reports" / "2027")
    out = ok(invoke("status", CODE, "--rpc-url", issue.node.url))
    assert f"{CODE}" in out and "issued so far" in out
    out = ok(invoke("holders", CODE, "--rpc-url", issue.node.url, "--csv", "register.csv"))
    target = (project / "reports" / "2027" / "register.csv").resolve()
    assert f"to {target}" in out and target.is_file()  # paths printed absolute


def test_records_from_the_environment_and_the_option(
        issue: Issue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import invoke

    project = _project(issue, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    env = {"MUNIBOND_DEPLOYMENTS": str(project / "deployments")}
    assert "issued so far" in ok(invoke("status", CODE, "--rpc-url", issue.node.url, env=env))
    # a relative --deployments is taken from the current directory, and shown absolute
    monkeypatch.chdir(tmp_path)
    result = invoke("status", "NO-SUCH-BOND", "--rpc-url", issue.node.url, "--deployments",
                    "project/deployments")
    line = one_error_line(result)
    assert str(project / "deployments" / "local" / "NO-SUCH-BOND.json") in line
    assert "(--deployments)" in line


def test_nothing_found_says_where_it_looked(
        issue: Issue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import invoke

    empty = tmp_path / "empty" / "deeper"
    empty.mkdir(parents=True)
    monkeypatch.chdir(empty)
    line = one_error_line(invoke("status", CODE, "--rpc-url", issue.node.url))
    assert f"{empty.resolve() / 'deployments' / 'local' / CODE}.json does not exist" in line
    assert f"from {empty.resolve()} up to /" in line and "MUNIBOND_DEPLOYMENTS" in line


def test_find_records_root_order(tmp_path: Path) -> None:
    from munibond.locations import find_records_root

    project = tmp_path / "checkout"
    (project / "deployments").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    inner = project / "examples" / "deep"
    inner.mkdir(parents=True)
    # a checkout that has not deployed yet: its deployments/ next to pyproject.toml
    found = find_records_root(cwd=inner, environ={})
    assert (found.path, found.source) == (project / "deployments", "project")
    # records win over a mere checkout further down
    (inner / "deployments" / "local").mkdir(parents=True)
    (inner / "deployments" / "local" / "platform.json").write_text(
        '{"format": "munibond-platform/1"}')
    assert find_records_root(cwd=inner, environ={}).path == inner / "deployments"
    # a deployments/ of another tool (no munibond record, no project marker) is passed over
    other = tmp_path / "hardhat"
    (other / "deployments" / "local").mkdir(parents=True)
    (other / "deployments" / "local" / "platform.json").write_text('{"address": "0x"}')
    assert find_records_root(cwd=other, environ={}).source == "current directory"
    # the environment, then the option, win
    env = {"MUNIBOND_DEPLOYMENTS": "from-env"}
    assert find_records_root(cwd=inner, environ=env).path == inner / "from-env"
    assert find_records_root("opt", cwd=inner, environ=env).path == inner / "opt"


# --- B9: progress that moves ---------------------------------------------------------------------

def test_holders_shows_its_phases_on_a_terminal(issue: Issue) -> None:
    import re

    result = issue.run("holders", CODE, env={"TTY_COMPATIBLE": "1"})
    assert "Register of" in ok(result)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stderr)
    assert "reading transfer events" in shown and "checking balances" in shown
    assert "11/11" in shown
    quiet = issue.run("holders", CODE, "--quiet", env={"TTY_COMPATIBLE": "1"})
    assert "Register of" in ok(quiet) and quiet.stderr == ""


def test_durations_and_instants() -> None:
    from datetime import UTC, datetime

    from munibond.cli.cmd_chain import JST, parse_duration, parse_when

    assert parse_duration("30d") == 30 * 86400 and parse_duration("12h") == 43200
    assert parse_duration("1y") == 365 * 86400 and parse_duration("1d12h30m") == 131400
    assert parse_duration("2w") == 14 * 86400 and parse_duration("45s") == 45
    for bad in ("", "0d", "3", "d", "1.5d", "1d-2h", "1 day"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert parse_when("2027-06-14") == datetime(2027, 6, 14, tzinfo=JST)
    assert parse_when("2027-06-14T15:00") == datetime(2027, 6, 14, 6, tzinfo=UTC)
    assert parse_when("2027-06-14T15:00Z") == datetime(2027, 6, 14, 15, tzinfo=UTC)
    assert parse_when("2027-06-18T00:00+09:00") == datetime(2027, 6, 17, 15, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_when("tomorrow")
