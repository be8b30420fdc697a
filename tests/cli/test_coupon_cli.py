"""``munibond coupon schedule TERMSHEET``: the coupon schedule before anything is deployed (no
chain needed)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import Result

from .conftest import TERM_SHEET, invoke, one_error_line


def edited(tmp_path: Path, old: str, new: str, name: str = "terms.yaml") -> Path:
    text = TERM_SHEET.read_text(encoding="utf-8")
    assert old in text, old
    file = tmp_path / name
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return file


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.stdout


def rows_of(output: str) -> dict[str, str]:
    """The table's lines by their first cell (period number, total, redemption; an
    amortisation line as "amortisation N", N the period it follows)."""
    rows: dict[str, str] = {}
    period = ""
    for line in output.splitlines():
        first = line.split(" ", 1)[0]
        if (first.isdigit() or first in ("total", "redemption")) and first not in rows:
            rows[first] = line  # (not the summary line after the table: "10 coupon period(s)")
            period = first
        elif first == "amortisation":
            rows[f"amortisation {period}"] = line
    return rows


def test_the_example_schedule() -> None:
    output = ok(invoke("coupon", "schedule", str(TERM_SHEET)))
    assert "Coupon schedule of KOBE-R-2026-01" in output
    assert "0.620% a year, semi-annual (2 payments a year on 15 June and 15 December)" in output
    assert "preceding" in output and "15:00 Asia/Tokyo (JST), 1 business day before" in output
    assert "truncated after 13 decimals" in output
    assert "record time" in output and "per 10,000 JPY" in output
    rows = rows_of(output)
    assert list(rows) == [str(n) for n in range(1, 11)] + ["total", "redemption"]
    first = rows["1"].split()
    assert first[:7] == ["1", "2026-12-15", "2027-06-15", "182", "2027-06-14", "15:00", "JST"]
    assert first[7:] == ["2027-06-15", "0.310%", "31"]
    # a coupon date on a Saturday: paid the Friday before, recorded on Thursday at 15:00
    sixth = rows["6"]
    assert "2029-12-13 15:00 JST" in sixth
    assert "2029-12-14 (moved from 2029-12-15, Saturday)" in sixth
    assert "2029-06-15      2029-12-15" in sixth  # accrual unchanged
    assert "(moved from 2030-12-15, Sunday)" in rows["8"]
    total = rows["total"].split()
    assert total[1:4] == ["2026-12-15", "2031-12-15", "1826"]
    assert total[-2:] == ["3.100%", "310"]
    assert rows["redemption"].split()[-2:] == ["100%", "10,000"]
    assert "10 coupon period(s), 0 odd; 4 payment date(s) moved" in output
    header = next(line for line in output.splitlines() if line.startswith("period"))
    assert header.split()[-1] == "odd"  # the odd-period marker column (no notes: none is odd)
    # principal, withholding and the other payment terms
    assert "bullet: the whole face at maturity, at 100% of face" in output
    assert "claim window" in output and "10 years after each payment date" in output
    assert "announced at least 30 days before the payment date called" in output
    assert "none yet: the admin sets it (setTaxAccount)" in output
    assert "Withholding tax on coupons" in output
    tax = {line.split()[0]: line.split()[1:] for line in output.splitlines()
           if line.split()[:1] and line.split()[0] in ("exempt", "individual", "corporate",
                                                       "non_resident")}
    assert tax == {"exempt": ["0", "0.000%", "0.000%", "0.000%"],
                   "individual": ["1", "15.315%", "5.000%", "20.315%"],
                   "corporate": ["2", "15.315%", "0.000%", "15.315%"],
                   "non_resident": ["3", "15.315%", "0.000%", "15.315%"]}


def test_csv_to_standard_output() -> None:
    output = ok(invoke("coupon", "schedule", str(TERM_SHEET), "--csv", "-"))
    lines = list(csv.DictReader(io.StringIO(output)))
    assert len(lines) == 11
    first = lines[0]
    assert first["type"] == "coupon" and first["period"] == "1" and first["kind"] == "regular"
    assert first["accrual_start"] == "2026-12-15" and first["accrual_end"] == "2027-06-15"
    assert first["day_count_fraction"] == "1/2"
    assert first["record_time"] == "2027-06-14T15:00:00+09:00"
    assert first["record_timestamp"] == "1812952800"  # 2027-06-14 06:00 UTC
    assert first["payment_timestamp"] == "1812985200"  # 2027-06-15 00:00 JST
    assert first["amount_per_unit"] == "0.0031000000000"
    assert first["amount_per_unit_scaled"] == "31000000000"
    assert first["amount_per_denomination"] == "31"
    assert first["percent_of_face"] == "0.31"
    moved = lines[5]
    assert moved["payment_date_unadjusted"] == "2029-12-15"
    assert moved["payment_date"] == "2029-12-14"
    last = lines[-1]
    assert last["type"] == "redemption" and last["payment_date"] == "2031-12-15"
    assert last["amount_per_unit"] == "1" and last["amount_per_denomination"] == "10000"
    assert last["percent_of_face"] == "100"
    assert last["amount_per_unit_scaled"] == "10000000000000"
    assert {line["outstanding_percent"] for line in lines} == {"100"}


def test_csv_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schedule.csv"
    output = ok(invoke("coupon", "schedule", str(TERM_SHEET), "--csv", str(target)))
    assert f"wrote the coupon schedule of KOBE-R-2026-01 (10 period(s) and the redemption) to " \
           f"{target}" in output
    assert target.read_text(encoding="utf-8").startswith("type,period,kind,")


def test_an_odd_first_period(tmp_path: Path) -> None:
    sheet = edited(tmp_path, "issue_date: 2026-12-15", "issue_date: 2027-01-10")
    output = ok(invoke("coupon", "schedule", str(sheet)))
    first = rows_of(output)["1"]
    assert "2027-01-10" in first and " 156 " in first
    assert "0.26498630136%" in first and " 26 " in first
    assert "odd" in first and "short first: 156/365" in first
    assert "10 coupon period(s), 1 odd" in output
    lines = list(csv.DictReader(io.StringIO(ok(invoke("coupon", "schedule", str(sheet),
                                                      "--csv", "-")))))
    assert lines[0]["kind"] == "short first" and lines[0]["day_count_fraction"] == "156/365"
    assert lines[0]["amount_per_unit"] == "0.0026498630136"
    assert lines[0]["amount_per_unit_scaled"] == "26498630136"


def test_a_zero_coupon_bond(tmp_path: Path) -> None:
    sheet = edited(tmp_path, '    rate: "0.620%"                # fixed, per year\n'
                             '    frequency: 2 ', '    rate: "0%"\n    frequency: 0 ')
    text = sheet.read_text(encoding="utf-8").replace("    first_payment_date: 2027-06-15", "")
    sheet.write_text(text, encoding="utf-8")
    output = ok(invoke("coupon", "schedule", str(sheet)))
    assert "zero coupon: no coupon periods" in output
    rows = rows_of(output)
    assert list(rows) == ["redemption"]
    assert "2031-12-12 15:00" in rows["redemption"] and "10,000" in rows["redemption"]
    assert "zero-coupon bond: no coupon periods; the principal is paid at maturity." in output


def test_a_malformed_schedule_is_one_line_naming_the_field(tmp_path: Path) -> None:
    late = edited(tmp_path, "first_payment_date: 2027-06-15", "first_payment_date: 2032-06-15")
    result = invoke("coupon", "schedule", str(late))
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line.startswith("error: term sheet: bond.coupon.first_payment_date: 2032-06-15 is "
                           "after the maturity date 2031-12-15")

    same_day = edited(tmp_path, "record_days_before: 1", "record_days_before: 0", "b.yaml")
    line = one_error_line(invoke("coupon", "schedule", str(same_day)))
    assert "bond.coupon.record_days_before" in line and "not before its payment time" in line

    bad_name = edited(tmp_path, "business_day: preceding", "business_day: previous", "c.yaml")
    result = invoke("coupon", "schedule", str(bad_name), "--csv", "-")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "bond.coupon.business_day" in line and "'previous' is not a business-day" in line
    assert "c.yaml, line" in line

    result = invoke("coupon", "schedule", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 1
    assert "not found" in one_error_line(result)


def test_help_lists_the_command() -> None:
    assert "coupon" in ok(invoke("--help"))
    assert "schedule" in ok(invoke("coupon", "--help"))
    help_text = ok(invoke("coupon", "schedule", "--help"))
    assert "TERMSHEET" in help_text and "--csv FILE|-" in help_text
    assert "Reads no chain" in help_text
    assert "principal" in help_text and "withholding" in help_text
    result = invoke("coupon", "schedule")
    assert result.exit_code == 2
    assert "Missing argument 'TERMSHEET'" in one_error_line(result)


AMORTISATION = ('  redemption_price: "100"         # at par, percent of face (of every unit '
                'of face repaid)\n')


def test_an_amortising_bond(tmp_path: Path) -> None:
    sheet = edited(tmp_path, AMORTISATION, AMORTISATION + '  amortisation: [{date: 2028-12-15, '
                   'percent: "20"}, {date: 2029-12-15, percent: "30"}]\n')
    output = ok(invoke("coupon", "schedule", str(sheet)))
    assert "amortising: 20% of the original face on 2028-12-15, 30% of the original face on " \
           "2029-12-15, the remaining 50% at maturity" in output
    rows = rows_of(output)
    assert list(rows) == ["1", "2", "3", "4", "amortisation 4", "5", "6", "amortisation 6",
                          "7", "8", "9", "10", "total", "redemption"]
    amortised = rows["amortisation 4"].split()
    assert amortised[1:5] == ["2028-12-15", "2028-12-14", "15:00", "JST"]
    assert amortised[6:8] == ["20%", "2,000"] and "principal: 20% of" in rows["amortisation 4"]
    assert "2029-12-14 (moved" in rows["amortisation 6"] and " 3,000 " in rows["amortisation 6"]
    # coupons after an amortisation accrue on the outstanding face, per original face
    assert "0.248%" in rows["5"] and " 24 " in rows["5"] and "on 80% of face" in rows["5"]
    assert "0.155%" in rows["10"] and " 15 " in rows["10"]
    assert rows["total"].split()[-2:] == ["2.356%", "232"]
    assert " 50% " in rows["redemption"] and " 5,000 " in rows["redemption"]
    assert "2 amortisation(s) before maturity" in output

    lines = list(csv.DictReader(io.StringIO(ok(invoke("coupon", "schedule", str(sheet),
                                                      "--csv", "-")))))
    assert [line["type"] for line in lines].count("amortisation") == 2
    fourth = lines[4]
    assert fourth["type"] == "amortisation" and fourth["period"] == "4"
    assert fourth["percent_of_face"] == "20" and fourth["amount_per_unit"] == "0.2"
    assert fourth["amount_per_unit_scaled"] == "2000000000000"
    assert fourth["amount_per_denomination"] == "2000" and fourth["outstanding_percent"] == "100"
    assert lines[5]["outstanding_percent"] == "80"
    assert lines[5]["amount_per_unit_scaled"] == "24800000000"
    last = lines[-1]
    assert last["type"] == "redemption" and last["percent_of_face"] == "50"
    assert last["amount_per_unit_scaled"] == "5000000000000"
    assert last["outstanding_percent"] == "50"
    target = tmp_path / "schedule.csv"
    assert "(10 period(s), 2 amortisation(s) and the redemption)" in ok(
        invoke("coupon", "schedule", str(sheet), "--csv", str(target)))


def test_payment_terms_in_the_summary(tmp_path: Path) -> None:
    sheet = edited(tmp_path, 'individual: {national: "15.315%", local: "5%"}',
                   'individual: {national: "15%", local: "0.5%"}')
    text = sheet.read_text(encoding="utf-8")
    text = text.replace('  # tax_account: "0x..."  ',
                        '  tax_account: "0xbcd4042de499d14e55001ccbb24a551f3b954096"')
    text = text.replace("claim_window: 10 years", "claim_window: 3650 days")
    text = text.replace('  # call_price: "100"', '  call_price: "101"')
    sheet.write_text(text, encoding="utf-8")
    output = ok(invoke("coupon", "schedule", str(sheet)))
    assert "0xBcd4042DE499D14e55001CcbB24a551F3b954096" in output
    assert "3650 days after each payment date" in output
    assert "at 101% of the outstanding face" in output
    individual = next(line for line in output.splitlines() if line.startswith("individual"))
    assert individual.split()[1:] == ["1", "15.000%", "0.500%", "15.500%"]

    bad = edited(tmp_path, 'individual: {national: "15.315%", local: "5%"}',
                 'individual: {national: "15.3155%", local: "5%"}', "bad.yaml")
    line = one_error_line(invoke("coupon", "schedule", str(bad)))
    assert "payments.withholding.individual.national" in line and "0.001%" in line
    late = edited(tmp_path, AMORTISATION, AMORTISATION + '  amortisation: [{date: 2028-12-01, '
                  'percent: "20"}]\n', "late.yaml")
    line = one_error_line(invoke("coupon", "schedule", str(late)))
    assert line.startswith("error: term sheet: bond.amortisation[0].date: 2028-12-01 is not a "
                           "coupon date")
    assert "late.yaml, line" in line
