"""munibond.termsheet (and the code tables of munibond.codes it relies on)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from munibond import codes
from munibond.exceptions import TermSheetError
from munibond.termsheet import (
    TermSheet,
    TermSheetValidationError,
    load_term_sheet,
    parse_term_sheet,
    term_sheet_from_dict,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kobe-resident-bond-2026.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def edited(old: str, new: str, text: str = EXAMPLE_TEXT) -> str:
    assert old in text, f"{old!r} not in the example"
    return text.replace(old, new, 1)


def error_of(text: str, tmp_path: Path | None = None) -> TermSheetError:
    if tmp_path is not None:
        file = tmp_path / "terms.yaml"
        file.write_text(text, encoding="utf-8")
        with pytest.raises(TermSheetError) as info:
            load_term_sheet(file)
    else:
        with pytest.raises(TermSheetError) as info:
            parse_term_sheet(text, source="terms.yaml")
    return info.value


def minimal() -> dict[str, Any]:
    return {"bond": {
        "code": "T-1", "name": "Test bond", "symbol": "T1", "issuer": "Test City",
        "issuer_code": "131016", "currency": "JPY", "decimals": 0, "denomination": "10000",
        "trading_unit": "1", "issue_size": "1000000", "issue_date": "2026-01-01",
        "maturity_date": "2031-01-01", "coupon": {"rate": "0.5%", "frequency": 2},
    }}


# --- the example -----------------------------------------------------------------------------


def test_example_loads() -> None:
    terms = load_term_sheet(EXAMPLE)
    bond = terms.bond
    assert bond.code == "KOBE-R-2026-01"
    assert bond.isin == "JP228100AQ12"
    assert bond.symbol == "KOBE26R1"
    assert bond.issuer_code == "281000" and bond.issuer_code_int == 281000
    assert bond.currency == "JPY" and bond.decimals == 0
    assert bond.denomination == Decimal(10000)
    assert bond.coupon.rate == Decimal("0.0062") and bond.coupon.frequency == 2
    assert bond.redemption_price == Decimal(100)
    assert terms.issue_size_units == 500_000_000
    assert terms.denomination_units == 10_000
    assert terms.trading_unit_units == 1
    assert terms.max_holding_units == 10_000_000
    assert terms.coupon_rate_micros == 6200
    assert terms.redemption_price_micros == 1_000_000
    assert terms.investor_class_ids == (1, 2)
    assert terms.investor_class_mask == 0b110
    assert terms.country_mode == "allow" and terms.country_codes == (392,)
    assert terms.region_rules == (28,)
    assert terms.max_holders == 5000
    assert terms.eligibility.aggregate_wallets is False
    assert terms.issue_timestamp == int(datetime(2026, 12, 15, tzinfo=UTC).timestamp())
    assert terms.maturity_timestamp == int(datetime(2031, 12, 15, tzinfo=UTC).timestamp())
    assert terms.lockup_timestamp == int(datetime(2027, 1, 15, tzinfo=UTC).timestamp())
    assert terms.roles.admin is None
    assert [d.name for d in terms.documents] == ["offering_circular", "terms_and_conditions"]
    assert len(terms.documents[0].hash_bytes) == 32
    assert terms.documents[0].name_bytes32.rstrip(b"\0") == b"offering_circular"


def test_minimal_defaults() -> None:
    terms = term_sheet_from_dict(minimal())
    assert terms.max_holding_units is None
    assert terms.country_mode == "any" and terms.country_codes == ()
    assert terms.region_rules == () and terms.investor_class_ids == ()
    assert terms.investor_class_mask == 0
    assert terms.lockup_timestamp is None and terms.max_holders is None
    assert terms.bond.redemption_price == 100 and terms.bond.isin is None
    assert terms.documents == ()


def test_model_is_frozen() -> None:
    terms = term_sheet_from_dict(minimal())
    with pytest.raises(ValueError, match="frozen"):
        terms.bond.decimals = 2


# --- malformed input: the right field, a useful message ----------------------------------------


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    # money and rates must not be floats
    ('denomination: "10000"', "denomination: 10000.0", "bond.denomination", "quoted string"),
    ('issue_size: "500000000"', "issue_size: 5.0e+8", "bond.issue_size", "floating-point"),
    ('max_holding_per_investor: "10000000"', "max_holding_per_investor: 1.0e+7",
     "eligibility.max_holding_per_investor", "floating-point"),
    ('rate: "0.620%"', "rate: 0.62", "bond.coupon.rate", "percent sign"),
    ('redemption_price: "100"', "redemption_price: 100.0", "bond.redemption_price",
     "floating-point"),
    # amounts
    ('denomination: "10000"', 'denomination: "ten thousand"', "bond.denomination", "decimal"),
    ('denomination: "10000"', 'denomination: "10,000"', "bond.denomination", "separators"),
    ('denomination: "10000"', 'denomination: "0"', "bond.denomination", "more than zero"),
    ('denomination: "10000"', 'denomination: "-10000"', "bond.denomination", "more than zero"),
    ('denomination: "10000"', 'denomination: "1e4"', "bond.denomination",
     "'1e4' is in exponent notation, which is not accepted"),
    ('denomination: "10000"', 'denomination: "10,000"', "bond.denomination",
     "without thousands separators"),
    ('denomination: "10000"', 'denomination: "\uff11\uff10\uff10\uff10\uff10"',
     "bond.denomination", "full-width digits are not accepted; type ASCII digits"),
    ('denomination: "10000"', 'denomination: "NaN"', "bond.denomination",
     "not a finite number"),
    ('trading_unit: "1"', 'trading_unit: "0.5"', "bond.trading_unit", "finer"),
    ('trading_unit: "1"', 'trading_unit: "3000"', "bond.denomination", "multiple"),
    ('issue_size: "500000000"', 'issue_size: "500005000"', "bond.issue_size",
     "multiple of the denomination"),
    ('issue_size: "500000000"', 'issue_size: "500000000.5"', "bond.issue_size", "finer"),
    ('max_holding_per_investor: "10000000"', 'max_holding_per_investor: "5000"',
     "eligibility.max_holding_per_investor", "below the denomination"),
    ('redemption_price: "100"', 'redemption_price: "0"', "bond.redemption_price", "more than"),
    ('redemption_price: "100"', 'redemption_price: "1000"', "bond.redemption_price",
     "implausible"),
    # rates and coupon
    ('rate: "0.620%"', 'rate: "0.62"', "bond.coupon.rate", "percent sign"),
    ('rate: "0.620%"', 'rate: "zero"', "bond.coupon.rate", "not a rate"),
    ('rate: "0.620%"', 'rate: "0.620001%"', "bond.coupon.rate", "hundredth of a basis point"),
    ('rate: "0.620%"', 'rate: "-1%"', "bond.coupon.rate", "negative"),
    ('rate: "0.620%"', 'rate: "0%"', "bond.coupon.rate", "frequency: 0"),
    ("frequency: 2", "frequency: 0", "bond.coupon.frequency", "zero-coupon"),
    ("frequency: 2", "frequency: 3", "bond.coupon.frequency", "semi-annual"),
    ("frequency: 2", "frequency: 2.0", "bond.coupon.frequency", "whole number"),
    ("frequency: 2", 'frequency: "2"', "bond.coupon.frequency", "whole number"),
    # dates
    ("maturity_date: 2031-12-15", "maturity_date: 2026-12-15", "bond.maturity_date",
     "after the issue date"),
    ("maturity_date: 2031-12-15", "maturity_date: 2031-13-15", "bond.maturity_date",
     "not a valid date"),
    ("maturity_date: 2031-12-15", "maturity_date: 15/12/2031", "bond.maturity_date",
     "YYYY-MM-DD"),
    ("issue_date: 2026-12-15", "issue_date: 2026-12-15T09:00:00+09:00", "bond.issue_date",
     "without a time"),
    ("lockup_until: 2027-01-15", "lockup_until: 2027-01-15 09:00:00",
     "eligibility.lockup_until", "time zone"),
    ("lockup_until: 2027-01-15", "lockup_until: 2032-01-15", "eligibility.lockup_until",
     "before the maturity date"),
    ("lockup_until: 2027-01-15", "lockup_until: 2026-12-01", "eligibility.lockup_until",
     "after the issue date"),
    # identity
    ("code: KOBE-R-2026-01", "code: KOBE R 2026", "bond.code", "letters, digits"),
    ("symbol: KOBE26R1", "symbol: kobe26r1", "bond.symbol", "upper-case"),
    ("symbol: KOBE26R1", "symbol: KOBE2026RESIDENT", "bond.symbol", "1 to 11"),
    ("isin: JP228100AQ12", "isin: JP228100AQ13", "bond.isin", "check digit"),
    ("isin: JP228100AQ12", "isin: JP2281", "bond.isin", "12 characters"),
    ("currency: JPY", "currency: YEN", "bond.currency", "ISO 4217"),
    ("currency: JPY", "currency: jpy", "bond.currency", "ISO 4217"),
    ("decimals: 0", "decimals: 19", "bond.decimals", "0 to 18"),
    ("decimals: 0", "decimals: -1", "bond.decimals", "0 to 18"),
    ('issuer: "City of Kobe"', 'issuer: ""', "bond.issuer", "empty"),
    ('issuer_code: "281000"', 'issuer_code: "281001"', "bond.issuer_code", "check digit"),
    ('issuer_code: "281000"', 'issuer_code: "28"', "bond.issuer_code", "2 digits"),
    # eligibility
    ("investor_classes: [retail, corporate]", "investor_classes: [retail, corprate]",
     "eligibility.investor_classes[1]", "unknown investor class"),
    ("investor_classes: [retail, corporate]", "investor_classes: []",
     "eligibility.investor_classes", "omit"),
    ("investor_classes: [retail, corporate]", "investor_classes: [retail, retail]",
     "eligibility.investor_classes", "twice"),
    ("countries: {allow: [JP]}", "countries: {allow: [XX]}", "eligibility.countries.allow[0]",
     "ISO 3166-1"),
    ("countries: {allow: [JP]}", "countries: {allow: [JP], deny: [US]}",
     "eligibility.countries.deny", "not both"),
    ("countries: {allow: [JP]}", "countries: {}", "eligibility.countries", "either allow"),
    ("countries: {allow: [JP]}", "countries: {allow: []}", "eligibility.countries.allow",
     "empty"),
    ("countries: {allow: [JP]}", "countries: {deny: [JP]}", "eligibility.regions",
     "refuses Japan"),
    ("countries: {allow: [JP]}", "countries: [JP]", "eligibility.countries", "mapping"),
    ('regions: ["28"]', 'regions: ["48"]', "eligibility.regions[0]", "prefecture"),
    ('regions: ["28"]', 'regions: ["281001"]', "eligibility.regions[0]", "check digit"),
    ('regions: ["28"]', 'regions: ["28", "28"]', "eligibility.regions", "twice"),
    ('regions: ["28"]', "regions: [01, 02, 03, 04, 05, 06, 07, 08, 09]", "eligibility.regions",
     "at most 8"),
    ("max_holders: 5000", "max_holders: 0", "eligibility.max_holders", "1 to"),
    ("max_holders: 5000", "max_holders: 4294967296", "eligibility.max_holders", "1 to"),
    ("aggregate_wallets: false", "aggregate_wallets: yes", "eligibility.aggregate_wallets",
     "boolean"),
    # typos must not pass silently
    ("maturity_date: 2031-12-15", "maturty_date: 2031-12-15", "bond.maturty_date",
     "did you mean 'maturity_date'"),
    ("max_holders: 5000", "max_holder: 5000", "eligibility.max_holder", "max_holders"),
    ("eligibility:", "eligibilty:", "eligibilty", "did you mean 'eligibility'"),
    ("frequency: 2", "frequency: 2\n    day_count: act/365", "bond.coupon.day_count",
     "unknown field"),
    # roles
    ("documents:", 'roles: {admin: "0x1234"}\ndocuments:', "roles.admin", "40 hex digits"),
    ("documents:", 'roles: {admin: "0xBcd4042DE499D14e55001CcbB24a551F3b954097"}\ndocuments:',
     "roles.admin", "checksum"),
    ("documents:", f'roles: {{pauser: "0x{"0" * 40}"}}\ndocuments:', "roles.pauser",
     "zero address"),
    ("documents:", 'roles: {treasurer: "0xbcd4042de499d14e55001ccbb24a551f3b954096"}\n'
     "documents:", "roles.treasurer", "unknown field"),
    # documents
    ('sha256: "2ec2998eeb455e747b8964b1ac961d9a703e6553cff0dadd98ee7c72ce1bf1bd"',
     'sha256: "2ec2998e"', "documents[0].sha256", "64 hex digits"),
    ('sha256: "2ec2998eeb455e747b8964b1ac961d9a703e6553cff0dadd98ee7c72ce1bf1bd"\n', "\n",
     "documents[0].sha256", "file:"),
    ("name: terms_and_conditions", "name: offering_circular", "documents[1].name", "unique"),
    ("name: terms_and_conditions", "name: a_document_name_longer_than_32_bytes",
     "documents[1].name", "32 bytes"),
])
def test_malformed(old: str, new: str, field: str, words: str) -> None:
    error = error_of(edited(old, new))
    assert error.field == field, str(error)
    assert words in error.detail, str(error)
    assert "terms.yaml, line" in str(error) or error.field == ""


def test_missing_required_field(tmp_path: Path) -> None:
    error = error_of(edited("  code: KOBE-R-2026-01\n", ""), tmp_path)
    assert error.field == "bond.code"
    assert "required" in error.detail and "KOBE-R-2026-01" in error.detail  # the description
    assert "line 14" in str(error)  # the line of bond:


def test_empty_sections_mean_omitted() -> None:
    head = EXAMPLE_TEXT[:EXAMPLE_TEXT.index("eligibility:")]
    terms = parse_term_sheet(head + "eligibility:\nroles:\ndocuments:\n")
    assert terms.country_mode == "any" and terms.documents == ()


@pytest.mark.parametrize(("tail", "field", "words"), [
    ("documents: {name: x}\n", "documents", "expected a list"),
    ("documents: [x]\n", "documents[0]", "mapping of fields (name, uri, sha256, file)"),
    ("roles: {admin: 12345}\n", "roles.admin", "quote addresses"),
])
def test_wrong_shapes(tail: str, field: str, words: str) -> None:
    head = EXAMPLE_TEXT[:EXAMPLE_TEXT.index("eligibility:")]
    error = error_of(head + tail)
    assert error.field == field and words in error.detail


def test_missing_section() -> None:
    with pytest.raises(TermSheetError) as info:
        term_sheet_from_dict({"eligibility": {}})
    assert info.value.field == "bond"


def test_all_problems_are_reported() -> None:
    text = edited("decimals: 0", "decimals: 99", edited("symbol: KOBE26R1", "symbol: x"))
    with pytest.raises(TermSheetValidationError) as info:
        parse_term_sheet(text)
    fields = [field for field, _ in info.value.problems]
    assert fields == ["bond.symbol", "bond.decimals"]  # in file order
    assert "and 1 more" in str(info.value)


def test_error_lines_point_at_the_field() -> None:
    error = error_of(edited('denomination: "10000"', "denomination: 10000.5"))
    line = next(number for number, text in enumerate(EXAMPLE_TEXT.splitlines(), 1)
                if text.strip().startswith("denomination:"))
    assert f"line {line})" in str(error)


def test_cross_field_error_line() -> None:
    error = error_of(edited("name: terms_and_conditions", "name: offering_circular"))
    line = next(number for number, text in enumerate(EXAMPLE_TEXT.splitlines(), 1)
                if "name: terms_and_conditions" in text)
    assert error.field == "documents[1].name" and f"line {line})" in str(error)


def test_duplicate_key() -> None:
    error = error_of(edited("max_holders: 5000", "max_holders: 5000\n  max_holders: 6000"))
    assert error.field == "eligibility.max_holders"
    assert "twice" in error.detail and "keep one" in error.detail


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    error = error_of(edited("countries: {allow: [JP]}", "countries: {allow: [JP]"), tmp_path)
    assert error.field == ""
    assert "YAML syntax error at line" in str(error) and "column" in str(error)
    assert "terms.yaml" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TermSheetError, match="not found"):
        load_term_sheet(tmp_path / "nope.yaml")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(TermSheetError, match="directory"):
        load_term_sheet(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    error = error_of("# nothing here\n", tmp_path)
    assert "empty" in str(error)


def test_top_level_not_a_mapping() -> None:
    error = error_of("- bond\n")
    assert "mapping" in str(error)


def test_not_utf8(tmp_path: Path) -> None:
    file = tmp_path / "terms.yaml"
    file.write_bytes(EXAMPLE_TEXT.encode("utf-8").replace(b"City of Kobe",
                                                          "神戸市".encode("shift_jis")))
    with pytest.raises(TermSheetError, match="UTF-8"):
        load_term_sheet(file)


def test_bom_tolerated(tmp_path: Path) -> None:
    file = tmp_path / "terms.yaml"
    file.write_bytes(b"\xef\xbb\xbf" + EXAMPLE_TEXT.encode("utf-8"))
    assert load_term_sheet(file).bond.code == "KOBE-R-2026-01"


# --- YAML 1.1 traps --------------------------------------------------------------------------


def test_norway_is_not_false() -> None:
    terms = parse_term_sheet(edited("countries: {allow: [JP]}", "countries: {deny: [NO, US]}"))
    assert terms.country_mode == "deny" and terms.country_codes == (578, 840)


def test_leading_zero_codes_are_not_octal() -> None:
    text = edited('issuer_code: "281000"', "issuer_code: 011002",
                  edited('regions: ["28"]', "regions: [01, 131016, 13102]"))
    terms = parse_term_sheet(text)
    assert terms.bond.issuer_code == "011002" and terms.bond.issuer_code_int == 11002
    assert terms.region_rules == (1, 131016, 131024)
    assert terms.eligibility.regions == ("01", "131016", "131024")


def test_unquoted_hex_address_is_not_a_number() -> None:
    # YAML 1.1 reads 0x... as a hexadecimal integer; the term sheet loader does not.
    terms = parse_term_sheet(edited(
        "documents:", "roles: {admin: 0xbcd4042de499d14e55001ccbb24a551f3b954096}\ndocuments:"))
    assert terms.roles.admin == "0xBcd4042DE499D14e55001CcbB24a551F3b954096"


def test_unquoted_codes_and_amounts() -> None:
    text = edited('issuer_code: "281000"', "issuer_code: 281000",
                  edited('regions: ["28"]', "regions: [28]",
                         edited('issue_size: "500000000"', "issue_size: 500_000_000")))
    terms = parse_term_sheet(text)
    assert terms.bond.issuer_code == "281000"
    assert terms.region_rules == (28,)
    assert terms.issue_size_units == 500_000_000


def test_country_code_forms() -> None:
    terms = parse_term_sheet(edited("countries: {allow: [JP]}",
                                    "countries: {allow: [jpn, 840, \"036\"]}"))
    assert terms.eligibility.countries is not None
    assert terms.eligibility.countries.allow == ("JP", "US", "AU")
    assert terms.country_codes == (392, 840, 36)


def test_lockup_with_time_zone() -> None:
    terms = parse_term_sheet(edited("lockup_until: 2027-01-15",
                                    "lockup_until: 2027-01-15T00:00:00+09:00"))
    assert terms.lockup_timestamp == int(datetime(2027, 1, 14, 15, tzinfo=UTC).timestamp())


def test_zero_coupon() -> None:
    data = minimal()
    data["bond"]["coupon"] = {"rate": "0%", "frequency": 0}
    terms = term_sheet_from_dict(data)
    assert terms.coupon_rate_micros == 0


def test_decimals_and_trading_unit() -> None:
    data = minimal()
    data["bond"].update(decimals=2, trading_unit="0.01", denomination="100",
                        issue_size="1000000")
    data["eligibility"] = {"max_holding_per_investor": "5000.50"}
    terms = term_sheet_from_dict(data)
    assert terms.trading_unit_units == 1
    assert terms.denomination_units == 10_000
    assert terms.issue_size_units == 100_000_000
    assert terms.max_holding_units == 500_050


def test_cap_must_be_multiple_of_trading_unit() -> None:
    data = minimal()
    data["bond"]["trading_unit"] = "10000"
    data["eligibility"] = {"max_holding_per_investor": "15000"}
    with pytest.raises(TermSheetError) as info:
        term_sheet_from_dict(data)
    assert info.value.field == "eligibility.max_holding_per_investor"
    assert "10000" in info.value.detail


def test_uint104_limit() -> None:
    data = minimal()
    data["bond"].update(decimals=18, denomination="1", issue_size=str(10**14))
    with pytest.raises(TermSheetError) as info:
        term_sheet_from_dict(data)
    assert info.value.field == "bond.issue_size" and "too large" in info.value.detail


def test_roles_checksummed() -> None:
    terms = parse_term_sheet(edited(
        "documents:",
        'roles:\n  admin: "0xbcd4042de499d14e55001ccbb24a551f3b954096"\n'
        '  paying_agent: "0x71bE63f3384f5fb98995898A86B02Fb2426c5788"\ndocuments:'))
    assert terms.roles.admin == "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
    assert terms.roles.paying_agent == "0x71bE63f3384f5fb98995898A86B02Fb2426c5788"
    assert terms.roles.issuer is None


# --- documents hashed from files ---------------------------------------------------------------


def _with_document(document: str) -> str:
    start = EXAMPLE_TEXT.index("documents:")
    return EXAMPLE_TEXT[:start] + "documents:\n  - " + document + "\n"


def test_document_file_is_hashed(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "terms.pdf").write_bytes(b"%PDF-1.7 the terms")
    file = tmp_path / "terms.yaml"
    file.write_text(_with_document('{name: terms, uri: "ipfs://x", file: docs/terms.pdf}'),
                    encoding="utf-8")
    terms = load_term_sheet(file)
    digest = hashlib.sha256(b"%PDF-1.7 the terms").hexdigest()
    assert terms.documents[0].sha256 == digest
    assert terms.documents[0].hash_bytes == bytes.fromhex(digest)
    assert terms.documents[0].file == "docs/terms.pdf"


def test_document_file_and_matching_hash(tmp_path: Path) -> None:
    (tmp_path / "t.pdf").write_bytes(b"abc")
    digest = hashlib.sha256(b"abc").hexdigest()
    file = tmp_path / "terms.yaml"
    file.write_text(_with_document(f'{{name: t, file: t.pdf, sha256: "0x{digest.upper()}"}}'),
                    encoding="utf-8")
    assert load_term_sheet(file).documents[0].sha256 == digest


def test_document_file_hash_mismatch(tmp_path: Path) -> None:
    (tmp_path / "t.pdf").write_bytes(b"abc")
    error = error_of(_with_document(f'{{name: t, file: t.pdf, sha256: "{"0" * 64}"}}'),
                     tmp_path)
    assert error.field == "documents[0].sha256" and "does not match" in error.detail


def test_document_file_missing(tmp_path: Path) -> None:
    error = error_of(_with_document("{name: t, file: missing.pdf}"), tmp_path)
    assert error.field == "documents[0].file" and "cannot read" in error.detail


def test_document_base_dir_for_dicts(tmp_path: Path) -> None:
    (tmp_path / "p.pdf").write_bytes(b"p")
    data = minimal()
    data["documents"] = [{"name": "p", "file": "p.pdf"}]
    terms = term_sheet_from_dict(data, base_dir=tmp_path)
    assert terms.documents[0].sha256 == hashlib.sha256(b"p").hexdigest()


def test_dict_input_errors_have_field_without_line() -> None:
    data = minimal()
    data["bond"]["maturity_date"] = date(2020, 1, 1)
    with pytest.raises(TermSheetError) as info:
        term_sheet_from_dict(data)
    assert info.value.field == "bond.maturity_date" and "line" not in str(info.value)


def test_dump_round_trip() -> None:
    terms = load_term_sheet(EXAMPLE)
    assert TermSheet.model_validate(terms.model_dump()) == terms
    dumped = yaml.safe_dump(terms.model_dump(mode="json"))
    assert parse_term_sheet(dumped) == terms


# --- codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("five", "six"), [
    ("13101", 131016),  # Chiyoda
    ("01100", 11002),   # Sapporo
    ("13000", 130001),  # Tokyo prefecture
    ("28100", 281000),  # Kobe
    ("27100", 271004),  # Osaka City
    ("47000", 470007),  # Okinawa prefecture
])
def test_jis_check_digits(five: str, six: int) -> None:
    assert codes.jis_check_digit(five) == six % 10
    assert codes.parse_region(five) == six
    assert codes.parse_region(f"{six:06d}") == six
    assert codes.parse_region(six) == six  # an int is the on-chain value


@given(st.integers(1, 47), st.integers(0, 999))
def test_jis_only_the_right_check_digit_passes(prefecture: int, rest: int) -> None:
    five = f"{prefecture:02d}{rest:03d}"
    good = codes.jis_check_digit(five)
    for digit in range(10):
        if digit == good:
            assert codes.parse_region(f"{five}{digit}") == int(f"{five}{digit}")
        else:
            with pytest.raises(codes.CodeError, match="check digit"):
                codes.parse_region(f"{five}{digit}")


def test_region_rules() -> None:
    assert codes.parse_region_rule("28") == 28
    assert codes.parse_region_rule("01") == 1
    assert codes.parse_region_rule(28) == 28
    assert codes.parse_region_rule("281000") == 281000
    with pytest.raises(codes.CodeError, match="prefecture"):
        codes.parse_region_rule("00")
    with pytest.raises(codes.CodeError, match="prefecture"):
        codes.parse_region_rule("48")
    with pytest.raises(codes.CodeError, match="digits"):
        codes.parse_region("28")  # a residence is a six-digit code
    with pytest.raises(codes.CodeError):
        codes.parse_region("2810")
    assert codes.region_rule_matches(28, 281107)
    assert not codes.region_rule_matches(28, 272035)
    assert codes.region_rule_matches(281107, 281107)
    assert not codes.region_rule_matches(281000, 281107)
    assert not codes.region_rule_matches(28, 0)


def test_countries() -> None:
    assert codes.country_numeric("JP") == 392
    assert codes.country_numeric("jpn") == 392
    assert codes.country_numeric("392") == 392
    assert codes.country_numeric(392) == 392
    assert codes.country_numeric("36") == 36
    assert codes.country_alpha2(392) == "JP"
    for bad in ("XX", "JAPAN", "999", "", 0, "J"):
        with pytest.raises(codes.CodeError, match="ISO 3166-1"):
            codes.country_numeric(bad)
    with pytest.raises(codes.CodeError, match="quote"):
        codes.country_numeric(False)


def test_class_and_tax_tables() -> None:
    assert dict(codes.INVESTOR_CLASSES) == {
        "retail": 1, "corporate": 2, "professional": 3, "qualified_institutional": 4,
        "public_entity": 5}
    assert dict(codes.TAX_CATEGORIES) == {
        "exempt": 0, "individual": 1, "corporate": 2, "non_resident": 3}
    for name, number in codes.INVESTOR_CLASSES.items():
        assert codes.investor_class_id(name) == number
        assert codes.investor_class_name(number) == name
    for name, number in codes.TAX_CATEGORIES.items():
        assert codes.tax_category_id(name) == number
        assert codes.tax_category_name(number) == name
    assert codes.investor_class_id("Qualified-Institutional") == 4
    assert codes.investor_class_id("3") == 3
    assert codes.investor_class_mask((1, 2)) == 0b110
    with pytest.raises(codes.CodeError, match="retail"):
        codes.investor_class_id("individual")
    with pytest.raises(codes.CodeError):
        codes.tax_category_id(4)
    with pytest.raises(codes.CodeError):
        codes.investor_class_name(0)


def test_isin() -> None:
    assert codes.parse_isin("US0378331005") == "US0378331005"
    assert codes.parse_isin("jp3633400001") == "JP3633400001"
    with pytest.raises(codes.CodeError, match="check digit"):
        codes.parse_isin("US0378331006")


def test_addresses() -> None:
    checksummed = "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
    assert codes.parse_address(checksummed.lower()) == checksummed
    assert codes.parse_address("0x" + checksummed[2:].upper()) == checksummed
    with pytest.raises(codes.CodeError, match="checksum"):
        codes.parse_address(checksummed[:-1] + "7")
    with pytest.raises(codes.CodeError, match="0x"):
        codes.parse_address(checksummed[2:])


# --- payments: withholding, tax account, claim window, calls ------------------------------------

JAPANESE_RATES = {0: (0, 0), 1: (15315, 5000), 2: (15315, 0), 3: (15315, 0)}


def test_payments_defaults_are_the_japanese_conventions() -> None:
    terms = term_sheet_from_dict(minimal())
    assert terms.withholding_rates() == JAPANESE_RATES
    payments = terms.payments
    assert payments.withholding.individual.national == Decimal("0.15315")
    assert payments.withholding.individual.local == Decimal("0.05")
    assert payments.withholding.individual.total == Decimal("0.20315")
    assert payments.tax_account is None and terms.tax_account is None
    assert str(payments.claim_window) == "10 years"
    assert (payments.claim_window.count, payments.claim_window.unit) == (10, "years")
    assert str(payments.call_notice) == "30 days"
    assert payments.call_price is None and terms.call_price == 100
    # the example writes the defaults out
    example = load_term_sheet(EXAMPLE)
    assert example.payments == payments and example.withholding_rates() == JAPANESE_RATES


def test_withholding_covers_every_tax_category() -> None:
    from munibond.termsheet import JAPANESE_WITHHOLDING, Withholding

    assert set(Withholding.model_fields) == set(codes.TAX_CATEGORIES)
    assert set(JAPANESE_WITHHOLDING) == set(codes.TAX_CATEGORIES)
    assert set(term_sheet_from_dict(minimal()).withholding_rates()) == \
        set(codes.TAX_CATEGORY_NAMES)


def test_payments_fields() -> None:
    data = minimal()
    data["payments"] = {
        "withholding": {"individual": {"national": "15.315%", "local": "0%"},
                        "non_resident": {"national": "10%", "local": "0.001%"}},
        "tax_account": "0xbcd4042de499d14e55001ccbb24a551f3b954096",
        "claim_window": "3650 days", "call_notice": "1 year", "call_price": "101.5%"}
    terms = term_sheet_from_dict(data)
    # categories not given keep the Japanese rates
    assert terms.withholding_rates() == {0: (0, 0), 1: (15315, 0), 2: (15315, 0),
                                         3: (10000, 1)}
    assert terms.tax_account == "0xBcd4042DE499D14e55001CcbB24a551F3b954096"
    assert str(terms.payments.claim_window) == "3650 days"
    assert str(terms.payments.call_notice) == "1 year"
    assert terms.call_price == Decimal("101.5")
    # "payments:" or "withholding:" with everything commented out: the defaults
    data["payments"] = None
    assert term_sheet_from_dict(data).withholding_rates() == JAPANESE_RATES
    data["payments"] = {"withholding": None}
    assert term_sheet_from_dict(data).withholding_rates() == JAPANESE_RATES


def test_payments_round_trip() -> None:
    data = minimal()
    data["payments"] = {"claim_window": "400 days", "call_notice": "2 years",
                        "withholding": {"exempt": {"national": "0.001%", "local": "65.535%"}}}
    data["bond"]["amortisation"] = [{"date": "2028-01-01", "percent": "25"}]
    terms = term_sheet_from_dict(data)
    dumped = terms.model_dump(mode="json")
    assert dumped["payments"]["claim_window"] == "400 days"
    assert term_sheet_from_dict(dumped) == terms
    assert parse_term_sheet(yaml.safe_dump(dumped)) == terms


_INDIVIDUAL = 'individual: {national: "15.315%", local: "5%"}'


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    (_INDIVIDUAL, 'individual: {national: "15.3155%", local: "5%"}',
     "payments.withholding.individual.national", "finer than 0.001%"),
    (_INDIVIDUAL, 'individual: {national: "60%", local: "50%"}',
     "payments.withholding.individual.local", "more than 100%"),
    (_INDIVIDUAL, 'individual: {national: "70%", local: "0%"}',
     "payments.withholding.individual.national", "65.535%"),
    (_INDIVIDUAL, 'individual: {national: 0.15315, local: "5%"}',
     "payments.withholding.individual.national", "floating-point"),
    (_INDIVIDUAL, 'individual: {national: "-1%", local: "5%"}',
     "payments.withholding.individual.national", "negative"),
    (_INDIVIDUAL, 'individual: {national: "15.315%"}',
     "payments.withholding.individual.local", "required"),
    (_INDIVIDUAL, 'indivdual: {national: "15.315%", local: "5%"}',
     "payments.withholding.indivdual", "did you mean 'individual'"),
    ("claim_window: 10 years", "claim_window: 10", "payments.claim_window", '"10 years"'),
    ("claim_window: 10 years", "claim_window: 10 weeks", "payments.claim_window",
     "length of time"),
    ("claim_window: 10 years", "claim_window: 0 days", "payments.claim_window", "positive"),
    ("claim_window: 10 years", "claim_window: 101 years", "payments.claim_window",
     "more than 100 years"),
    ("call_notice: 30 days", "call_notice: -1 days", "payments.call_notice", "length of time"),
    ('# tax_account: "0x..."', 'tax_account: "0x1234"', "payments.tax_account",
     "40 hex digits"),
    ('# call_price: "100"', 'call_price: "0"', "payments.call_price", "more than zero"),
    ('# call_price: "100"', 'call_price: "300"', "payments.call_price", "implausible"),
    ("call_notice: 30 days", "call_notice: 30 days\n  notice: 30 days", "payments.notice",
     "unknown field"),
])
def test_malformed_payments(old: str, new: str, field: str, words: str) -> None:
    error = error_of(edited(old, new))
    assert error.field == field, str(error)
    assert words in error.detail, str(error)
    assert "terms.yaml, line" in str(error)


# --- amortisation ------------------------------------------------------------------------------

_REDEMPTION = 'redemption_price: "100"'


def _amortising(parts: str) -> str:
    return edited(_REDEMPTION, f"{_REDEMPTION}\n  amortisation: {parts}")


def test_amortisation() -> None:
    terms = parse_term_sheet(_amortising('[{date: 2028-12-15, percent: "20"}, '
                                         '{date: 2029-12-15, percent: "30%"}]'))
    assert [(part.date, part.percent) for part in terms.bond.amortisation] == [
        (date(2028, 12, 15), Decimal(20)), (date(2029, 12, 15), Decimal(30))]
    assert terms.bond.amortised_percent == 50
    assert load_term_sheet(EXAMPLE).bond.amortisation == ()
    assert parse_term_sheet(_amortising("")).bond.amortisation == ()  # "amortisation:" alone


@pytest.mark.parametrize(("parts", "field", "words"), [
    ('[{date: 2031-12-15, percent: "10"}]', "bond.amortisation[0].date",
     "before the maturity date"),
    ('[{date: 2026-12-15, percent: "10"}]', "bond.amortisation[0].date", "after the issue date"),
    ('[{date: 2029-12-15, percent: "10"}, {date: 2028-12-15, percent: "10"}]',
     "bond.amortisation[1].date", "not after the previous"),
    ('[{date: 2029-12-15, percent: "10"}, {date: 2029-12-15, percent: "10"}]',
     "bond.amortisation[1].date", "not after the previous"),
    ('[{date: 2028-12-15, percent: "60"}, {date: 2029-12-15, percent: "40"}]',
     "bond.amortisation", "less than 100%"),
    ('[{date: 2028-12-15, percent: "0"}]', "bond.amortisation[0].percent", "more than zero"),
    ('[{date: 2028-12-15, percent: "10.00001"}]', "bond.amortisation[0].percent",
     "finer than 0.0001%"),
    ('[{date: 2028-12-15, percent: 10.5}]', "bond.amortisation[0].percent", "floating-point"),
    ('[{date: 2028-12-15}]', "bond.amortisation[0].percent", "required"),
    ('[{date: 2028-12-15, percent: "10", price: "100"}]', "bond.amortisation[0].price",
     "unknown field"),
    # checked with the coupon schedule, when the file is loaded
    ('[{date: 2028-12-14, percent: "10"}]', "bond.amortisation[0].date",
     "nearest coupon dates before maturity are 2028-06-15 and 2028-12-15"),
])
def test_malformed_amortisation(parts: str, field: str, words: str) -> None:
    error = error_of(_amortising(parts))
    assert error.field == field, str(error)
    assert words in error.detail, str(error)
    assert "terms.yaml, line" in str(error)


def test_a_zero_coupon_bond_cannot_amortise() -> None:
    data = minimal()
    data["bond"]["coupon"] = {"rate": "0%", "frequency": 0}
    data["bond"]["amortisation"] = [{"date": "2028-01-01", "percent": "10"}]
    with pytest.raises(TermSheetError) as info:
        term_sheet_from_dict(data)
    assert info.value.field == "bond.amortisation" and "zero-coupon" in info.value.detail
