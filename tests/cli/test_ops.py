"""Operations (issue 7, part B) through the CLI: allotment re-runs keyed on mint events and the
issue date, deployment records found from any folder, the local chain's clock and settlement
token, progress."""

from __future__ import annotations

from pathlib import Path

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
    result = fresh.run("allot", LATER_CODE, str(ALLOTMENTS), "--before-issue-date")
    assert "allotted 11 line(s), 18,660,000 JPY" in ok(result)
    assert "allotting before the issue date 2030-12-15" in result.stderr
