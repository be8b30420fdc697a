"""Paying the example bond on chain through the CLI: ``munibond coupon fund|pay|claim|status|
remit-tax|return-unclaimed|report-shortfall|tax-rates`` and ``munibond redeem fund|pay|claim|call|
status``.

The example bond (deployed by the session fixture with its schedule and paying agent, account 0):
11 holders of 18,660,000 JPY of face, 10 periods, 0.310% of face a period; period 1 is recorded at
2027-06-14T06:00Z (15:00 JST) and paid from 2027-06-14T15:00Z, the redemption (period 10) at
2031-12-14T15:00Z. Every refusal is checked to send nothing (nonces unchanged).
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from eth_utils.address import to_checksum_address
from web3.contract import Contract

from munibond.artifacts import load_artifact
from munibond.bond import Bond
from munibond.exceptions import NodeUnreachable
from munibond.payments import PaymentPeriod

from .conftest import ACCOUNTS, CODE, Issue, key_hex, one_error_line, wallet

#: what period 1 needs: 18,660,000 JPY x 0.0031
PERIOD_1 = "57,846 JPY"
STRANGER = 9


def ok(result: Result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def refused(result: Result, code: int = 1) -> str:
    """The one error line of a refused run (exit ``code``)."""
    line = one_error_line(result)
    assert result.exit_code == code, (result.exit_code, line)
    return line


def as_holder(index: int) -> dict[str, str]:
    return {"HOLDER": key_hex(index)}


HOLDER = ("--key-env", "HOLDER")


def bond_of(issue: Issue) -> Bond:
    return Bond(issue.chain, issue.bond_address())


def schedule(issue: Issue) -> list[PaymentPeriod]:
    return bond_of(issue).coupons.schedule()


def travel(issue: Issue, timestamp: int | float) -> None:
    """Move the chain's clock to ``timestamp`` (the next block's time)."""
    issue.chain.set_next_timestamp(int(timestamp))
    issue.chain.mine()


def at(day: date) -> int:
    return calendar.timegm(day.timetuple())


def settlement_token(issue: Issue) -> Contract:
    """The mock settlement token the bond is paid in."""
    address = to_checksum_address(bond_of(issue).coupons.terms().settlement_token)
    return issue.chain.w3.eth.contract(address=address,
                                       abi=list(load_artifact("MockSettlementToken").abi))


def mint_settlement(issue: Issue, account: int = 0, amount: int = 10**9) -> None:
    """Give ``account`` ``amount`` JPY of the mock settlement token (account 0 owns it)."""
    mock = settlement_token(issue)
    issue.chain.transact(ACCOUNTS[0], mock.functions.mint(wallet(account), amount * 10**18))


def settlement_balance(issue: Issue, account: str) -> Decimal:
    token = settlement_token(issue)
    return bond_of(issue).coupons.money(int(token.functions.balanceOf(account).call()))


def field(output: str, name: str) -> str:
    """The value of a field of a key/value table."""
    line = next(line for line in output.splitlines() if line.startswith(name + " "))
    return line[len(name):].strip()


def report_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture
def funded(fresh: Issue) -> Iterator[Issue]:
    """Period 1 funded by the paying agent (account 0)."""
    mint_settlement(fresh)
    ok(fresh.run("coupon", "fund", CODE, "1"))
    yield fresh


# --- status --------------------------------------------------------------------------------------

def test_status_shows_the_schedule_with_funding_and_payments(issue: Issue) -> None:
    out = ok(issue.run("coupon", "status", CODE))
    assert f"Payments of {CODE}" in out and "10 (0 recorded)" in out
    assert "3,653 days (about 10 years) after each payment time" in out
    assert "Periods (amounts in JPY)" in out
    rows = {line.split()[0]: line for line in out.splitlines()
            if line.strip() and line.split()[0].isdigit()}
    assert sorted(rows, key=int) == [str(n) for n in range(1, 11)]
    # record and payment times in the bond's zone (JST), the zone printed
    assert "record time" in out and "payment time" in out and "(UTC)" not in out
    assert rows["1"].split()[:10] == ["1", "coupon", "0.310%", "2027-06-14", "15:00", "JST",
                                      "2027-06-15", "00:00", "JST", "scheduled"]
    assert "57,846" in rows["1"]
    assert "redemption 100% + coupon 0.310%" in rows["10"] and "18,717,846" in rows["10"]


def test_redeem_status(issue: Issue) -> None:
    out = ok(issue.run("redeem", "status", CODE))
    assert "10 of 10: redemption 100% + coupon 0.310%" in out
    assert "2031-12-15 00:00 JST (not yet due" in out
    assert "required 18,717,846 JPY, funded 0 JPY, shortfall 18,717,846 JPY" in out
    assert "18,660,000 JPY, 11 holder(s)" in out
    assert field(out, "closed") == "no"


def test_unknown_periods_and_malformed_addresses_are_usage_errors(issue: Issue) -> None:
    before = issue.nonce()
    numbered: tuple[tuple[str, ...], ...] = (
        ("coupon", "fund", CODE, "11"), ("coupon", "status", CODE, "11"),
        ("coupon", "remit-tax", CODE, "12"), ("redeem", "call", CODE, "11", "--price", "101%"))
    for args in numbered:
        line = refused(issue.run(*args), 2)
        assert "has 10 payment period(s), numbered 1 to 10" in line and "no period 1" in line
    assert "0 is not in the range x>=1" in refused(issue.run("coupon", "fund", CODE, "0"), 2)
    for args in (("coupon", "status", CODE, "--holder", "0x1234"),
                 ("coupon", "return-unclaimed", CODE, "1", "--to", "issuer"),
                 ("coupon", "fund", CODE, "1", "--token", "0xnot-an-address"),
                 ("coupon", "tax-rates", CODE, "--tax-account", "0x12"),
                 ("coupon", "fund", "0x12345", "1")):
        line = refused(issue.run(*args), 2)
        assert "address" in line.lower()
    assert issue.nonce() == before


# --- funding -------------------------------------------------------------------------------------

def test_fund_refusals_send_nothing(fresh: Issue) -> None:
    before = fresh.nonce()
    poor = refused(fresh.run("coupon", "fund", CODE, "1"))
    assert f"{wallet(0)} holds 0 JPY of the settlement token" in poor
    assert f"period 1 of {CODE} needs {PERIOD_1}" in poor and poor.endswith("nothing sent")
    assert fresh.nonce() == before
    mint_settlement(fresh)
    before, stranger = fresh.nonce(), fresh.nonce(STRANGER)

    wrong = refused(fresh.run("coupon", "fund", CODE, "1", "--amount", "57845"))
    assert f"period 1 of {CODE} needs exactly {PERIOD_1} more" in wrong
    assert "give --amount 57846 or leave --amount out; nothing sent" in wrong
    finer = refused(fresh.run("coupon", "fund", CODE, "1", "--amount",
                              "57846.0000000000000000001"))
    assert "finer than the token allows: with 18 decimals" in finer
    token = refused(fresh.run("coupon", "fund", CODE, "1", "--token", wallet(5)))
    assert "is paid in the settlement token" in token and f"not {wallet(5)}" in token
    role = refused(fresh.run("coupon", "fund", CODE, "1", *HOLDER, env=as_holder(STRANGER)))
    assert "holds neither the PAYING_AGENT_ROLE nor the ISSUER_ROLE" in role
    assert fresh.nonce() == before and fresh.nonce(STRANGER) == stranger


def test_fund_exactly_then_again_sends_nothing(fresh: Issue) -> None:
    mint_settlement(fresh)
    out = ok(fresh.run("coupon", "fund", CODE, "1", "--amount", "57846"))
    assert f"funded period 1 of {CODE} with {PERIOD_1}: required {PERIOD_1}, funded " \
           f"{PERIOD_1}, shortfall 0 JPY; payable from 2027-06-15 00:00 JST" in out
    before = fresh.nonce()
    again = ok(fresh.run("coupon", "fund", CODE, "1"))
    assert f"period 1 of {CODE} is already funded" in again and "nothing sent" in again
    assert fresh.nonce() == before
    status = ok(fresh.run("coupon", "status", CODE, "1"))
    assert f"required {PERIOD_1}, funded {PERIOD_1}, shortfall 0 JPY" in status
    assert "funded" in status


# --- paying --------------------------------------------------------------------------------------

def test_pay_and_claim_before_the_payment_time_send_nothing(funded: Issue) -> None:
    first = schedule(funded)[0]
    before, holder = funded.nonce(), funded.nonce(10)
    early = ok(funded.run("coupon", "pay", CODE))  # nothing due yet: done, exit 0 (for cron)
    assert "no record time of" in early and "paid from 2027-06-15 00:00 JST" in early
    not_yet = refused(funded.run("coupon", "claim", CODE, *HOLDER, env=as_holder(10)))
    assert f"{wallet(10)} is owed nothing by {CODE} now" in not_yet
    assert "recorded at 2027-06-14 15:00 JST and paid from 2027-06-15 00:00 JST" in not_yet
    travel(funded, first.record_time.timestamp() + 60)  # recorded, not yet payable
    line = refused(funded.run("coupon", "claim", CODE, *HOLDER, env=as_holder(10)))
    assert f"nothing payable yet: period 1 of {CODE} is paid from 2027-06-15 00:00 JST" \
           in line and line.endswith("nothing sent")
    line = ok(funded.run("coupon", "pay", CODE)).strip()
    assert f"nothing payable yet: period 1 of {CODE} is paid from 2027-06-15 00:00 JST" \
           in line and line.endswith("nothing sent")
    assert funded.nonce() == before and funded.nonce(10) == holder


def test_pay_everyone_with_a_report_then_again_sends_nothing(funded: Issue,
                                                              tmp_path: Path) -> None:
    travel(funded, schedule(funded)[0].payment_time.timestamp())
    report = tmp_path / "paid.csv"
    result = funded.run("coupon", "pay", CODE, "--report", str(report),
                        env={"TTY_COMPATIBLE": "1"})  # progress drawn as on a terminal
    out = ok(result)
    assert (f"holders paid: 11 of 11 wallet(s) checked; gross {PERIOD_1}, national tax 8,853 "
            f"JPY, local tax 874 JPY, principal 0 JPY, net paid 48,119 JPY; failed payees: 0; "
            f"1 transaction(s)") in out
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", result.stderr)
    assert "checking who is owed" in shown and "paying holders" in shown  # every phase
    assert f"to {report.resolve()}" in shown
    rows = report_rows(report)
    assert len(rows) == 11 and {r["status"] for r in rows} == {"paid"}
    assert {r["period"] for r in rows} == {"1"}
    assert sum(Decimal(r["gross"]) for r in rows) == 57846
    assert sum(Decimal(r["net"]) for r in rows) == 48119
    mine = next(r for r in rows if r["holder"] == wallet(10))
    assert (Decimal(mine["gross"]), Decimal(mine["national_tax"]), Decimal(mine["local_tax"]),
            Decimal(mine["net"])) == (Decimal(3100), Decimal(474), Decimal(155), Decimal(2471))
    assert settlement_balance(funded, wallet(10)) == 2471
    assert len({r["tx_hash"] for r in rows}) == 1 and rows[0]["tx_hash"].startswith("0x")

    before = funded.nonce()
    again = ok(funded.run("coupon", "pay", CODE))
    assert f"no holder is owed anything payable now by {CODE}: nothing sent" in again
    assert funded.nonce() == before
    status = ok(funded.run("coupon", "status", CODE))
    first = next(line for line in status.splitlines() if line.split()[:1] == ["1"])
    assert "payable" in first and first.split()[-4:] == ["57,846", "9,727", "48,119", "0"]


def test_claim_by_the_holder(funded: Issue) -> None:
    travel(funded, schedule(funded)[0].payment_time.timestamp())
    out = ok(funded.run("coupon", "claim", CODE, *HOLDER, env=as_holder(10)))
    assert (f"claimed: 2,471 JPY paid to {wallet(10)} for 1 period(s) of {CODE} (gross 3,100 "
            f"JPY, tax 629 JPY, principal 0 JPY)") in out
    assert "($HOLDER)" in out
    before = funded.nonce(10)
    again = refused(funded.run("coupon", "claim", CODE, *HOLDER, env=as_holder(10)))
    assert "is owed nothing" in again and again.endswith("nothing sent")
    assert funded.nonce(10) == before
    owed = ok(funded.run("coupon", "status", CODE, "--holder", wallet(10)))
    assert "owed to" in owed and "nothing for the periods recorded" in owed
    assert f"Paid to {wallet(10)}" in owed and "3,100" in owed and "2,471" in owed
    # the paying agent pays the other ten
    out = ok(funded.run("coupon", "pay", CODE))
    assert "holders paid: 10 of 11 wallet(s) checked" in out


def test_pay_the_holders_of_a_file(funded: Issue, tmp_path: Path) -> None:
    travel(funded, schedule(funded)[0].payment_time.timestamp())
    register = tmp_path / "register.csv"
    ok(funded.run("holders", CODE, "--csv", str(register)))
    out = ok(funded.run("coupon", "pay", CODE, "--holders", str(register), "--chunk-size", "5"))
    assert "holders paid: 11 of 11 wallet(s) checked" in out and "3 transaction(s)" in out
    listed = tmp_path / "some.csv"
    listed.write_text(f"holder,note\n{wallet(10)},paid already\n", encoding="utf-8")
    again = ok(funded.run("coupon", "pay", CODE, "--holders", str(listed)))
    assert f"none of the 1 wallet(s) listed in {listed} is owed anything" in again


@pytest.mark.parametrize(("content", "expected"), [
    ("", "the file is empty"),
    (f"{'0x' + 'ab' * 20}\n", "the first line must be a header"),
    ("name,amount\nx,1\n", "no wallet column"),
    (f"wallet\n{'0x' + 'ab' * 20}\n0x1234\n", ":3: column 'wallet':"),
    ("wallet,balance\n,100\n", ":2: column 'wallet': empty"),
    ("wallet\n", "no wallets listed"),
    ('wallet\n"0xab\n', "malformed CSV"),
])
def test_a_malformed_holders_file_sends_nothing(issue: Issue, tmp_path: Path, content: str,
                                                expected: str) -> None:
    file = tmp_path / "holders.csv"
    file.write_text(content, encoding="utf-8")
    before = issue.nonce()
    line = refused(issue.run("coupon", "pay", CODE, "--holders", str(file)))
    assert str(file) in line and expected in line
    assert issue.nonce() == before


def test_pay_options_are_checked_before_anything(issue: Issue, tmp_path: Path) -> None:
    file = tmp_path / "holders.csv"
    file.write_text(f"wallet\n{wallet(10)}\n", encoding="utf-8")
    both = refused(issue.run("coupon", "pay", CODE, "--holders", str(file), "--all"), 2)
    assert "either --holders FILE or --all" in both
    nowhere = refused(issue.run("coupon", "pay", CODE, "--report",
                                str(tmp_path / "missing" / "r.csv")), 2)
    assert "does not exist; nothing sent" in nowhere
    chunk = refused(issue.run("coupon", "pay", CODE, "--chunk-size", "0"), 2)
    assert "--chunk-size" in chunk


def test_the_paying_agent_role_is_needed(funded: Issue) -> None:
    travel(funded, schedule(funded)[0].payment_time.timestamp())
    before = funded.nonce(STRANGER)
    for args in (("coupon", "pay", CODE), ("redeem", "pay", CODE),
                 ("coupon", "remit-tax", CODE, "1")):
        line = refused(funded.run(*args, *HOLDER, env=as_holder(STRANGER)))
        assert f"{wallet(STRANGER)} does not hold the PAYING_AGENT_ROLE role" in line
    issuer = refused(funded.run("coupon", "return-unclaimed", CODE, "1", "--to", wallet(0),
                                *HOLDER, env=as_holder(STRANGER)))
    assert "ISSUER_ROLE" in issuer
    assert funded.nonce(STRANGER) == before


def test_a_frozen_payee_is_reported_and_paid_once_unfrozen(funded: Issue,
                                                           tmp_path: Path) -> None:
    ok(funded.run("freeze", CODE, wallet(10), "--wallet-level"))
    travel(funded, schedule(funded)[0].payment_time.timestamp())
    report = tmp_path / "paid.csv"
    result = funded.run("coupon", "pay", CODE, "--report", str(report))
    assert result.exit_code == 4  # a payee left owed: a due payment not made
    assert "1 payee(s) not paid (they stay owed)" in result.stdout
    assert "PaymentWaitsForUnfreeze" in result.stdout and "holders paid: 10 of 11" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 payee(s) could not be paid") and "run the same" in last
    failed = [r for r in report_rows(report) if r["status"] == "failed"]
    assert [r["holder"] for r in failed] == [wallet(10)]
    owed = ok(funded.run("coupon", "status", CODE, "--holder", wallet(10)))
    assert "payable (waits: wallet frozen)" in owed and "wallet frozen: yes" in owed
    ok(funded.run("freeze", CODE, wallet(10), "--wallet-level", "--unfreeze"))
    out = ok(funded.run("coupon", "pay", CODE))
    assert "holders paid: 1 of 11" in out and "gross 3,100 JPY" in out


def test_a_node_gone_mid_batch_stops_with_the_report_and_a_rerun_pays_the_rest(
        funded: Issue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    travel(funded, schedule(funded)[0].payment_time.timestamp())
    batches = [0]
    transact = Bond._transact

    def flaky(self: Bond, signer: Any, name: str, *args: Any) -> Any:
        if name == "payBatch":
            batches[0] += 1
            if batches[0] == 2:
                raise NodeUnreachable(f"no Ethereum node answers at {funded.node.url}: "
                                      f"connection refused")
        return transact(self, signer, name, *args)

    monkeypatch.setattr(Bond, "_transact", flaky)
    first = tmp_path / "first.csv"
    result = funded.run("coupon", "pay", CODE, "--chunk-size", "4", "--report", str(first))
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: the node went away after 4 of 11 holders were paid")
    assert "run the same `munibond coupon pay` again" in last
    assert f"the report of what was paid is in {first}" in last
    assert "holders paid: 4 of 11" in result.stdout
    monkeypatch.undo()
    second = tmp_path / "second.csv"
    out = ok(funded.run("coupon", "pay", CODE, "--chunk-size", "4", "--report", str(second)))
    assert "holders paid: 7 of 11" in out
    paid_first = {r["holder"] for r in report_rows(first)}
    paid_second = {r["holder"] for r in report_rows(second)}
    assert len(paid_first) == 4 and len(paid_second) == 7 and not paid_first & paid_second
    assert sum(Decimal(r["gross"]) for r in report_rows(first) + report_rows(second)) == 57846


# --- due, not funded; shortfall; tax; unclaimed funds ------------------------------------------

def test_pay_that_pays_one_period_and_finds_the_next_unfunded_exits_4(funded: Issue) -> None:
    """Periods 1 and 2 due, only 1 funded: period 1 is paid (and stays paid), the shortfall of
    period 2 is reported, and the exit code is 4."""
    travel(funded, schedule(funded)[1].payment_time.timestamp() + 60)
    result = funded.run("coupon", "pay", CODE)
    assert result.exit_code == 4, (result.stdout, result.stderr)
    assert "holders paid: 11 of 11" in result.stdout
    assert "SHORTFALL: period 2 is due but funded 0 JPY of 57,846 JPY" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last == (f"error: due but not fully funded (SHORTFALL above): period 2; its holders "
                    f"wait: fund with `munibond coupon fund {CODE} 2`, then run the same "
                    f"`munibond coupon pay` again")


def test_redemption_due_and_not_funded_exits_4(fresh: Issue) -> None:
    """At maturity with nothing funded, `redeem pay` and a holder's `redeem claim` cannot pay
    what is due: exit code 4, nothing sent."""
    travel(fresh, schedule(fresh)[-1].payment_time.timestamp() + 60)
    before, holder = fresh.nonce(), fresh.nonce(10)
    line = refused(fresh.run("redeem", "pay", CODE), 4)
    assert "is due but not funded" in line and line.endswith("nothing sent")
    line = refused(fresh.run("redeem", "claim", CODE, *HOLDER, env=as_holder(10)), 4)
    assert "not funded" in line
    assert fresh.nonce() == before and fresh.nonce(10) == holder

def test_pay_exits_4_when_a_later_due_period_is_unfunded(funded: Issue) -> None:
    """Period 1 paid; period 2 due and not funded: `coupon pay` has nothing it can pay, and
    says so with exit code 4 (a due payment not made), not 0, so that a scheduler alerts."""
    periods = schedule(funded)
    travel(funded, periods[0].payment_time.timestamp())
    ok(funded.run("coupon", "pay", CODE))
    travel(funded, periods[1].payment_time.timestamp() + 60)
    result = funded.run("coupon", "pay", CODE)
    assert result.exit_code == 4, (result.stdout, result.stderr)
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ") and f"period 2 of {CODE} is due but not funded" in line
    assert f"munibond coupon fund {CODE} 2" in line
    # funded, the same command pays and exits 0
    ok(funded.run("coupon", "fund", CODE, "2"))
    out = ok(funded.run("coupon", "pay", CODE))
    assert "holders paid: 11 of 11" in out

def test_shortfall_then_funding_tax_remittance_and_unclaimed_funds(fresh: Issue,
                                                                   tmp_path: Path) -> None:
    first = schedule(fresh)[0]
    before = fresh.nonce()
    no_shortfall = refused(fresh.run("coupon", "report-shortfall", CODE, "1"))
    assert "has no funding shortfall to report: it is not due before its payment time " \
           "2027-06-15 00:00 JST; nothing sent" in no_shortfall
    travel(fresh, first.payment_time.timestamp() + 3600)
    unfunded = refused(fresh.run("coupon", "pay", CODE), 4)
    assert f"period 1 of {CODE} is due but not funded (required {PERIOD_1}, funded 0 JPY, " \
           f"shortfall {PERIOD_1})" in unfunded and f"munibond coupon fund {CODE} 1" in unfunded
    claim = refused(fresh.run("coupon", "claim", CODE, *HOLDER, env=as_holder(10)), 4)
    assert "is due but not funded" in claim
    assert fresh.nonce() == before
    out = ok(fresh.run("coupon", "report-shortfall", CODE, "1"))
    assert f"reported the funding shortfall of period 1 of {CODE} on chain: required " \
           f"{PERIOD_1}, funded 0 JPY, shortfall {PERIOD_1}" in out

    mint_settlement(fresh)
    ok(fresh.run("coupon", "fund", CODE, "1"))
    register = ok(fresh.run("holders", CODE, "--csv", "-"))
    others = tmp_path / "all-but-one.csv"
    others.write_text("".join(line + "\n" for line in register.splitlines()
                              if wallet(10) not in line), encoding="utf-8")
    assert "holders paid: 10 of 10" in ok(fresh.run("coupon", "pay", CODE, "--holders",
                                                    str(others)))

    before = fresh.nonce()
    no_account = refused(fresh.run("coupon", "remit-tax", CODE, "1"))
    assert "has no tax account to remit to" in no_account
    assert "tax-rates KOBE-R-2026-01 --tax-account ADDRESS" in no_account
    assert fresh.nonce() == before
    ok(fresh.run("coupon", "tax-rates", CODE, "--tax-account", wallet(8)))
    remitted = ok(fresh.run("coupon", "remit-tax", CODE, "1"))
    assert f"remitted 9,098 JPY of tax withheld for period 1 of {CODE}" in remitted
    assert settlement_balance(fresh, wallet(8)) == 9098
    before = fresh.nonce()
    assert "nothing to remit for period 1" in ok(fresh.run("coupon", "remit-tax", CODE, "1"))
    assert fresh.nonce() == before

    window = refused(fresh.run("coupon", "return-unclaimed", CODE, "1", "--to", wallet(0)))
    assert f"the claim window of period 1 of {CODE} is open until 2037-06-15 00:00 JST" in window
    assert fresh.nonce() == before
    travel(fresh, at(date(2037, 6, 15)))
    start = settlement_balance(fresh, wallet(7))
    back = ok(fresh.run("coupon", "return-unclaimed", CODE, "1", "--to", wallet(7)))
    assert f"returned 3,100 JPY unclaimed of period 1 of {CODE} to {wallet(7)}" in back
    assert settlement_balance(fresh, wallet(7)) - start == 3100
    assert "already closed" in ok(fresh.run("coupon", "return-unclaimed", CODE, "1", "--to",
                                            wallet(7)))
    closed = refused(fresh.run("coupon", "fund", CODE, "1"))
    assert "is closed" in closed
    holder = ok(fresh.run("coupon", "status", CODE, "1", "--holder", wallet(10)))
    assert "lapsed" in holder
    reconciled = ok(fresh.run("coupon", "status", CODE, "1", "--reconcile"))
    assert "paid 54,746 JPY + owed 3,100 JPY + lapsed 0 JPY" in reconciled
    assert "every holder matches" in reconciled


def test_tax_rates(fresh: Issue) -> None:
    out = ok(fresh.run("coupon", "tax-rates", CODE))
    line = next(row for row in out.splitlines() if "individual" in row)
    assert line.split() == ["1", "individual", "15.315%", "5%", "20.315%"]
    assert "tax account: none" in out
    before, stranger = fresh.nonce(), fresh.nonce(STRANGER)
    same = ok(fresh.run("coupon", "tax-rates", CODE, "--set", "individual", "15.315%", "5%"))
    assert "already has national 15.315% and local 5%: nothing sent" in same
    for rates, expected in ((("bogus", "1%", "1%"), "unknown tax category 'bogus'"),
                            (("11", "1%", "1%"), "out of range: 0 to 10"),
                            (("1", "15.3155%", "5%"), "finer than 0.001%"),
                            (("1", "90%", "20%"), "exceed 100%"),
                            (("1", "ten", "5%"), "is not a percentage")):
        assert expected in refused(fresh.run("coupon", "tax-rates", CODE, "--set", *rates), 2)
    role = refused(fresh.run("coupon", "tax-rates", CODE, "--set", "4", "10%", "2%", *HOLDER,
                             env=as_holder(STRANGER)))
    assert "DEFAULT_ADMIN_ROLE" in role
    assert fresh.nonce() == before and fresh.nonce(STRANGER) == stranger
    out = ok(fresh.run("coupon", "tax-rates", CODE, "--set", "4", "10%", "2%"))
    assert "tax category 4: national 10%, local 2% (was 0% + 0%)" in out
    assert next(row for row in out.splitlines() if row.split()[:1] == ["4"]).split() == \
        ["4", "-", "10%", "2%", "12%"]


# --- the register at the record time -----------------------------------------------------------

def test_holders_at_dates_and_the_reconciliation_around_the_record_time(fresh: Issue) -> None:
    first = schedule(fresh)[0]
    record = int(first.record_time.timestamp())
    move = ("transfer", CODE, "--to", wallet(11), *HOLDER)
    ok(fresh.run(*move, "10000", env=as_holder(10)))            # before the record: moves it
    fresh.chain.set_next_timestamp(record - 1)
    ok(fresh.run(*move, "20000", env=as_holder(10)))            # at record - 1 s: still before
    # in the record's block: after the record, so it does not move the coupon. Sent with gas
    # to spare: the node estimates gas on the state before the record time, and the first
    # balance change after it also settles the period (more storage writes)
    fresh.chain.set_next_timestamp(record)
    bond = bond_of(fresh)
    fresh.chain.transact(ACCOUNTS[10], bond.contract.functions.transfer(wallet(11), 40000),
                         gas=500_000)
    assert fresh.chain.now() == record
    ok(fresh.run("recover", CODE, "--lost", wallet(14), "--new", wallet(15), "--reason",
                 "phone lost after the record"))

    def balances(when: str) -> dict[str, str]:
        out = ok(fresh.run("holders", CODE, "--at", when, "--csv", "-"))
        return {row["wallet"]: row["balance"] for row in csv.DictReader(io.StringIO(out))}

    # the register at the record time in JST: the record block itself is at 15:00 JST
    at_record = balances("2027-06-14T15:00+09:00")
    before_record = balances("2027-06-14T14:59:59+09:00")
    assert before_record[wallet(10)] == "970000" and before_record[wallet(11)] == "530000"
    assert at_record[wallet(10)] == "930000" and at_record[wallet(11)] == "570000"
    assert balances("2027-01-01")[wallet(10)] == "1000000"
    later = balances("2027-06-15")
    assert later[wallet(15)] == "300000" and wallet(14) not in later

    mint_settlement(fresh)
    ok(fresh.run("coupon", "fund", CODE, "1"))
    travel(fresh, first.payment_time.timestamp())
    ok(fresh.run("coupon", "claim", CODE, *HOLDER, env=as_holder(11)))
    reconciled = ok(fresh.run("coupon", "status", CODE, "1", "--reconcile"))
    assert "11 holder(s) of 18,660,000 JPY" in reconciled
    assert "the last block before 2027-06-14 15:00 JST" in reconciled
    assert f"expected gross {PERIOD_1}" in reconciled and "every holder matches" in reconciled
    owed = ok(fresh.run("coupon", "status", CODE, "1", "--holder", wallet(15)))
    assert "300,000 JPY" in owed and "930" in owed and "payable" in owed
    # net of withholding too: 930 less 15.315% (142) and 5% (46), each floored
    row = next(line for line in owed.splitlines() if line.split()[:1] == ["1"])
    assert row.split()[:8] == ["1", "300,000", "JPY", "930", "142", "46", "742", "0"], row
    ok(fresh.run("coupon", "pay", CODE))
    paid = ok(fresh.run("coupon", "status", CODE, "1", "--holder", wallet(11)))
    assert "1,643" in paid  # 530,000 x 0.0031: the transfers before the record count
    reconciled = ok(fresh.run("coupon", "status", CODE, "1", "--reconcile"))
    assert f"paid {PERIOD_1} + owed 0 JPY" in reconciled and "every holder matches" in reconciled


def test_reconcile_needs_a_period(issue: Issue) -> None:
    assert "--reconcile needs a PERIOD" in refused(issue.run("coupon", "status", CODE,
                                                             "--reconcile"), 2)
    out = ok(issue.run("coupon", "status", CODE, "2", "--reconcile"))
    assert "nothing to reconcile before" in out


# --- redemption and call -----------------------------------------------------------------------

def test_redemption_before_and_at_maturity(fresh: Issue, tmp_path: Path) -> None:
    mint_settlement(fresh)
    for number in range(1, 10):
        ok(fresh.run("coupon", "fund", CODE, str(number)))
    wrong = refused(fresh.run("redeem", "fund", CODE, "--amount", "18660000"))
    assert f"period 10 (the redemption) of {CODE} needs exactly 18,717,846 JPY" in wrong
    out = ok(fresh.run("redeem", "fund", CODE, "--amount", "18717846"))
    assert "funded period 10 (the redemption)" in out
    before, holder = fresh.nonce(), fresh.nonce(10)
    early = refused(fresh.run("redeem", "claim", CODE, *HOLDER, env=as_holder(10)))
    assert "is not due: the bond matures at 2031-12-15 00:00 JST" in early
    assert early.endswith("nothing sent")
    early = ok(fresh.run("redeem", "pay", CODE))  # nothing due yet: done
    assert f"the redemption of {CODE} is not due: the bond matures at 2031-12-15 00:00 JST" \
        in early
    assert fresh.nonce() == before and fresh.nonce(10) == holder

    travel(fresh, schedule(fresh)[-1].payment_time.timestamp())
    out = ok(fresh.run("redeem", "claim", CODE, *HOLDER, env=as_holder(10)))
    # 10 coupons of 3,100 gross (2,471 net) and the principal of 1,000,000
    assert f"redeemed: 1,024,710 JPY paid to {wallet(10)} for 10 period(s)" in out
    assert "principal 1,000,000 JPY" in out
    report = tmp_path / "redeemed.csv"
    out = ok(fresh.run("redeem", "pay", CODE, "--report", str(report)))
    assert "holders paid: 10 of 11" in out and "principal 17,660,000 JPY" in out
    assert len({r["holder"] for r in report_rows(report)}) == 10
    status = ok(fresh.run("redeem", "status", CODE))
    assert "0 JPY, 0 holder(s)" in status
    assert field(status, "closed").startswith("yes (every unit redeemed")
    assert "principal 18,660,000 JPY paid" in status


def test_call(fresh: Issue) -> None:
    before, stranger = fresh.nonce(), fresh.nonce(STRANGER)
    price = refused(fresh.run("redeem", "call", CODE, "4", "--price", "a lot"), 2)
    assert "is not a positive percentage" in price
    role = refused(fresh.run("redeem", "call", CODE, "4", "--price", "101%", *HOLDER,
                             env=as_holder(STRANGER)))
    assert "ISSUER_ROLE" in role
    assert fresh.nonce() == before and fresh.nonce(STRANGER) == stranger
    out = ok(fresh.run("redeem", "call", CODE, "4", "--price", "101%"))
    assert f"called {CODE}: period 4 becomes the final redemption at 101%" in out
    assert "paid from 2028-12-15 00:00 JST" in out and "periods 5 to 10 are cancelled" in out
    status = ok(fresh.run("redeem", "status", CODE))
    assert "4 of 4: redemption 101% + coupon 0.310%" in status
    assert "required 18,904,446 JPY" in status
    before = fresh.nonce()
    again = refused(fresh.run("redeem", "call", CODE, "4", "--price", "101%"))
    assert "is already the final redemption" in again
    travel(fresh, at(date(2027, 5, 20)))
    late = refused(fresh.run("redeem", "call", CODE, "1", "--price", "100%"))
    assert "too late to call period 1" in late and "by 2027-05-16 00:00 JST at the latest" in late
    assert fresh.nonce() == before


def test_reconcile_reports_a_holder_whose_payment_differs(funded: Issue,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from munibond import ledger

    travel(funded, schedule(funded)[0].payment_time.timestamp())
    ok(funded.run("coupon", "pay", CODE))
    register = ledger.holders

    def skewed(*args: Any, **kwargs: Any) -> list[ledger.Holding]:
        found = register(*args, **kwargs)
        return [replace(h, units=h.units + 1000) if h.wallet == wallet(10) else h
                for h in found]

    monkeypatch.setattr(ledger, "holders", skewed)
    result = funded.run("coupon", "status", CODE, "1", "--reconcile")
    assert result.exit_code == 1
    assert "1 holder(s) DIFFER" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith(wallet(10)))
    assert row.split()[1:5] == ["1,001,000", "JPY", "3,103", "3,100"]
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: the payments of period 1 of {CODE} do not match the register at its record "
        f"time (table above)")
