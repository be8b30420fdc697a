"""munibond.investor_files: the investor and allotment CSV readers."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from munibond.exceptions import InputFileError
from munibond.investor_files import Investor, read_allotments, read_investors

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HEADER = "wallet,investor_id,name,country,investor_class,tax_category,region,kyc_valid_until"
W1 = "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
W2 = "0x71bE63f3384f5fb98995898A86B02Fb2426c5788"
W3 = "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a"
GOOD1 = f"{W1},1001,Yamada Taro,JP,retail,individual,281107,2031-12-31"
GOOD2 = f"{W2},1002,Suzuki Hanako,JP,retail,individual,281026,2032-03-31"


def write(tmp_path: Path, text: str, name: str = "file.csv") -> Path:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8", newline="")
    return file


def investors_error(tmp_path: Path, text: str) -> InputFileError:
    file = write(tmp_path, text)
    with pytest.raises(InputFileError) as info:
        read_investors(file)
    assert info.value.path == str(file)
    return info.value


def allotments_error(tmp_path: Path, text: str, **kwargs: int) -> InputFileError:
    file = write(tmp_path, text)
    with pytest.raises(InputFileError) as info:
        read_allotments(file, **kwargs)
    return info.value


# --- the examples ----------------------------------------------------------------------------


def test_example_investors() -> None:
    investors = read_investors(EXAMPLES / "investors.csv")
    assert len(investors) == 17
    assert len({investor.investor_id for investor in investors}) == 16
    first = investors[0]
    assert first == Investor(wallet=W1, investor_id=1001, name="Yamada Taro", country=392,
                             investor_class=1, tax_category=1, region=281107,
                             kyc_valid_until=date(2031, 12, 31), line=2)
    assert first.country_code == "JP"
    assert first.investor_class_name == "retail" and first.tax_category_name == "individual"
    assert first.kyc_expiry == calendar.timegm(date(2032, 1, 1).timetuple())
    shared = [investor for investor in investors if investor.investor_id == 1005]
    assert len(shared) == 2 and shared[0].wallet != shared[1].wallet
    by_id = {investor.investor_id: investor for investor in investors}
    assert by_id[1011].country == 840 and by_id[1011].region == 0
    assert by_id[1011].tax_category_name == "non_resident"
    assert by_id[1012].kyc_valid_until.year == 2025
    assert by_id[1013].investor_class_name == "qualified_institutional"
    assert by_id[1010].region // 10_000 == 27  # Osaka prefecture
    assert by_id[1004].investor_class_name == "corporate"
    assert by_id[1016].name.startswith("松本")


def test_example_allotments_match_the_investors() -> None:
    allotments = read_allotments(EXAMPLES / "allotments.csv", decimals=0, unit=10_000)
    assert len(allotments) == 17
    assert allotments[0].wallet == W1 and allotments[0].amount == Decimal(1_000_000)
    assert allotments[0].line == 2
    assert all(allotment.units(0) % 10_000 == 0 for allotment in allotments)
    registered = {investor.wallet for investor in read_investors(EXAMPLES / "investors.csv")}
    assert sum(allotment.wallet not in registered for allotment in allotments) == 1


def test_example_wallets_are_the_dev_accounts() -> None:
    eth_account = pytest.importorskip("eth_account")
    account_cls = eth_account.Account
    account_cls.enable_unaudited_hdwallet_features()
    mnemonic = "test test test test test test test test test test test junk"
    wallets = {account_cls.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").address
               for i in range(10, 30)}
    investors = read_investors(EXAMPLES / "investors.csv")
    allotments = read_allotments(EXAMPLES / "allotments.csv")
    assert {investor.wallet for investor in investors} <= wallets
    assert {allotment.wallet for allotment in allotments} <= wallets


# --- investors: every problem names the line and column ----------------------------------------


@pytest.mark.parametrize(("row", "column", "words"), [
    (f"{W1[:-1]},1001,A,JP,retail,individual,281107,2031-12-31", "wallet", "40 hex digits"),
    (f"{W1[:-1]}7,1001,A,JP,retail,individual,281107,2031-12-31", "wallet", "checksum"),
    (",1001,A,JP,retail,individual,281107,2031-12-31", "wallet", "empty"),
    (f"{W1},0,A,JP,retail,individual,281107,2031-12-31", "investor_id", "out of range"),
    (f"{W1},-5,A,JP,retail,individual,281107,2031-12-31", "investor_id", "whole number"),
    (f"{W1},18446744073709551616,A,JP,retail,individual,281107,2031-12-31", "investor_id",
     "2^64"),
    (f"{W1},1e3,A,JP,retail,individual,281107,2031-12-31", "investor_id", "whole number"),
    (f"{W1},1001,A,XX,retail,individual,281107,2031-12-31", "country", "ISO 3166-1"),
    (f"{W1},1001,A,,retail,individual,281107,2031-12-31", "country", "empty"),
    (f"{W1},1001,A,JP,vip,individual,281107,2031-12-31", "investor_class", "unknown"),
    (f"{W1},1001,A,JP,retail,personal,281107,2031-12-31", "tax_category", "unknown"),
    (f"{W1},1001,A,JP,retail,individual,281108,2031-12-31", "region", "check digit"),
    (f"{W1},1001,A,JP,retail,individual,28,2031-12-31", "region", "digits"),
    (f"{W1},1001,A,US,retail,non_resident,281107,2031-12-31", "region", "outside Japan"),
    (f"{W1},1001,A,JP,retail,individual,281107,31/12/2031", "kyc_valid_until", "YYYY-MM-DD"),
    (f"{W1},1001,A,JP,retail,individual,281107,2031-02-30", "kyc_valid_until", "valid date"),
    (f"{W1},1001,A,JP,retail,individual,281107,", "kyc_valid_until", "empty"),
])
def test_bad_investor_cell(tmp_path: Path, row: str, column: str, words: str) -> None:
    error = investors_error(tmp_path, f"{HEADER}\n{GOOD2}\n{row}\n")
    assert error.line == 3
    assert f"column {column!r}" in str(error) and words in str(error)
    assert str(error).startswith(f"{tmp_path / 'file.csv'}:3: ")


def test_duplicate_wallet(tmp_path: Path) -> None:
    duplicate = GOOD1.replace(W1, W1.lower()).replace("1001", "1009")
    error = investors_error(tmp_path, f"{HEADER}\n{GOOD1}\n{GOOD2}\n{duplicate}\n")
    assert error.line == 4 and "line 2" in str(error) and "'wallet'" in str(error)


def test_shared_investor_id_must_agree(tmp_path: Path) -> None:
    other = f"{W3},1001,Yamada Taro,JP,retail,individual,131016,2031-12-31"
    error = investors_error(tmp_path, f"{HEADER}\n{GOOD1}\n{other}\n")
    assert error.line == 3 and "'region'" in str(error) and "investor 1001" in str(error)


def test_shared_investor_id_accepted(tmp_path: Path) -> None:
    other = f"{W3},1001,Yamada Taro (phone),JPN,Retail,1,281107,2030-01-31"
    investors = read_investors(write(tmp_path, f"{HEADER}\n{GOOD1}\n{other}\n"))
    assert [investor.investor_id for investor in investors] == [1001, 1001]


def test_field_count(tmp_path: Path) -> None:
    error = investors_error(tmp_path, f"{HEADER}\n{GOOD1},extra\n")
    assert error.line == 2 and "9 fields" in str(error)
    error = investors_error(tmp_path, f"{HEADER}\n{GOOD1.rsplit(',', 1)[0]}\n")
    assert error.line == 2 and "7 fields" in str(error)


@pytest.mark.parametrize(("header", "words"), [
    (HEADER.replace(",region", ""), "missing column region"),
    (HEADER.replace("country", "nation"), "unknown column 'nation'"),
    (HEADER + ",country", "appears twice"),
    (GOOD1, "header"),
])
def test_bad_header(tmp_path: Path, header: str, words: str) -> None:
    error = investors_error(tmp_path, f"{header}\n{GOOD1}\n")
    assert error.line == 1 and words in str(error)


def test_empty_file(tmp_path: Path) -> None:
    error = investors_error(tmp_path, "\n\n")
    assert error.line is None and "empty" in str(error) and "wallet,investor_id" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not found"):
        read_investors(tmp_path / "nope.csv")


def test_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "sjis.csv"
    file.write_bytes(f"{HEADER}\n{GOOD2}\n".encode() +
                     GOOD1.replace("Yamada Taro", "山田太郎").encode("shift_jis") + b"\n")
    with pytest.raises(InputFileError) as info:
        read_investors(file)
    assert info.value.line == 3 and "UTF-8" in str(info.value)


def test_bom_blank_lines_crlf_and_spreadsheet_quirks(tmp_path: Path) -> None:
    text = ("\ufeff" + HEADER.replace("wallet", "Wallet ") + ",\r\n" + "\r\n" + GOOD1 + ",,\r\n"
            + ",,,,,,,\r\n" + f'{W2},1002,"Suzuki, Hanako",JP,retail,individual,281026,'
            + "2032-03-31\r\n" + "\r\n"
            + f"{W3},1003,A,JP,retail,individual,281108,2031-12-31\r\n")
    error = investors_error(tmp_path, text)
    assert error.line == 7  # blank lines still count
    investors = read_investors(write(tmp_path, text.rsplit(W3, 1)[0]))
    assert [investor.line for investor in investors] == [3, 5]
    assert investors[1].name == "Suzuki, Hanako"


def test_multiline_quoted_field_keeps_line_numbers(tmp_path: Path) -> None:
    text = (f'{HEADER}\n{W1},1001,"Yamada\nTaro",JP,retail,individual,281107,2031-12-31\n'
            f"{W2},1002,B,JP,retail,individual,281027,2032-03-31\n")
    error = investors_error(tmp_path, text)
    assert error.line == 4


def test_name_column_optional_and_columns_in_any_order(tmp_path: Path) -> None:
    text = ("kyc_valid_until,region,tax_category,investor_class,country,investor_id,wallet\n"
            f"2031-12-31,281107,individual,retail,392,1001,{W1.lower()}\n"
            f"2031-12-31,,non_resident,retail,USA,1002,{W2}\n")
    investors = read_investors(write(tmp_path, text))
    assert investors[0].wallet == W1 and investors[0].name == ""
    assert investors[1].country == 840 and investors[1].region == 0


def test_unterminated_quote(tmp_path: Path) -> None:
    error = investors_error(tmp_path, f'{HEADER}\n{GOOD1}\n{W2},1002,"Suzuki,JP\n')
    assert error.line is not None and error.line >= 3


# --- allotments ------------------------------------------------------------------------------


def test_allotments(tmp_path: Path) -> None:
    file = write(tmp_path, f"wallet,amount\n{W1},10000\n{W2.lower()}, 20000.00 \n")
    allotments = read_allotments(file, decimals=0, unit=10_000)
    assert [(a.wallet, a.amount, a.line) for a in allotments] == [
        (W1, Decimal(10000), 2), (W2, Decimal(20000), 3)]
    assert allotments[1].units(0) == 20_000


@pytest.mark.parametrize(("amount", "words"), [
    ('"10,000"', "thousands separators"),
    ("ten", "'ten' is not a number"),
    ("1e4", "'1e4' is in exponent notation, which is not accepted"),
    ("\uff11\uff10\uff10\uff10\uff10", "full-width digits are not accepted; type ASCII digits"),
    ("+10000", "has a sign"),
    ("0", "positive"),
    ("-10000", "positive"),
    ("", "empty"),
    ("10000.5", "finer"),
    ("15000", "multiple of 10000"),
])
def test_bad_amount(tmp_path: Path, amount: str, words: str) -> None:
    error = allotments_error(tmp_path, f"wallet,amount\n{W1},10000\n{W2},{amount}\n",
                             decimals=0, unit=10_000)
    assert error.line == 3 and "'amount'" in str(error) and words in str(error)


def test_unquoted_thousands_separator(tmp_path: Path) -> None:
    error = allotments_error(tmp_path, f"wallet,amount\n{W1},10,000\n")
    assert error.line == 2 and "3 fields" in str(error) and "thousands separators" in str(error)


def test_allotment_amount_not_converted_without_decimals(tmp_path: Path) -> None:
    allotments = read_allotments(write(tmp_path, f"wallet,amount\n{W1},10000.5\n"))
    assert allotments[0].amount == Decimal("10000.5")


def test_duplicate_allotment_wallet(tmp_path: Path) -> None:
    error = allotments_error(tmp_path, f"wallet,amount\n{W1},10000\n\n{W1.lower()},10000\n")
    assert error.line == 4 and "line 2" in str(error)


def test_allotment_header(tmp_path: Path) -> None:
    error = allotments_error(tmp_path, f"wallet,face\n{W1},10000\n")
    assert error.line == 1 and "face" in str(error)
    error = allotments_error(tmp_path, f"{W1},10000\n")
    assert error.line == 1 and "header" in str(error)
