"""Bad input is refused before anything is sent, on one line, with a non-zero exit code.

The acceptance cases: a malformed term sheet, an unknown address, an amount below the trading
unit and no reachable node each print exactly one line, exit non-zero and send nothing (the
signer's nonce does not change). Also: missing roles, usage errors, -v, Ctrl-C, exit codes.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import Result
from eth_account import Account

from munibond.build import BuildResult

from .conftest import CODE, TERM_SHEET, Issue, invoke, key_hex, one_error_line, wallet

HOLDER = {"HOLDER": key_hex(10)}
STRANGER = {"STRANGER": key_hex(9)}


def free_port_url() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def refused(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return one_error_line(result)


# --- the acceptance cases --------------------------------------------------------------------

def test_a_malformed_term_sheet_names_the_field_and_sends_nothing(issue: Issue,
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TERM_SHEET.read_text(encoding="utf-8").replace(
        'denomination: "10000"', "denomination: 10000.5"), encoding="utf-8")
    before = issue.nonce()
    records = tmp_path / "records"  # a network with no platform: a deploy would send
    line = refused(invoke("deploy", str(bad), "--rpc-url", issue.node.url, "--deployments",
                          str(records)))
    assert "bond.denomination" in line and "10000.5" in line
    assert issue.nonce() == before
    assert not records.exists()

    missing = tmp_path / "bad-dates.yaml"
    missing.write_text(TERM_SHEET.read_text(encoding="utf-8").replace(
        "maturity_date: 2031-12-15", "maturity_date: 2025-12-15"), encoding="utf-8")
    line = refused(issue.run("deploy", str(missing)))
    assert "maturity_date" in line
    assert issue.nonce() == before


def test_an_unknown_address_is_refused_before_sending(issue: Issue) -> None:
    nobody = Account.create().address
    before, holder_before = issue.nonce(), issue.nonce(10)
    line = refused(issue.run("transfer", nobody, "--to", wallet(11), "10000", "--key-env",
                             "HOLDER", env=HOLDER))
    assert f"there is no contract at {nobody}" in line and "check the bond address" in line
    line = refused(issue.run("freeze", nobody, wallet(10), "--wallet-level"))
    assert f"there is no contract at {nobody}" in line
    line = refused(issue.run("transfer", "0x1234", "--to", wallet(11), "1"), code=2)
    assert "'0x1234' is not an address" in line
    line = refused(issue.run("transfer", CODE, "--to", wallet(11)[:-1], "10000",
                             "--key-env", "HOLDER", env=HOLDER), code=2)
    assert "--to" in line and "is not an address" in line
    mistyped = wallet(11)[:2] + wallet(11)[2:].swapcase()  # a wrong EIP-55 checksum
    line = refused(issue.run("check", CODE, "--from", wallet(10), "--to", mistyped, "1"),
                   code=2)
    assert "checksum" in line
    line = refused(issue.run("status", "NO-SUCH-BOND"))
    assert "no bond 'NO-SUCH-BOND'" in line and "munibond deploy" in line
    assert issue.nonce() == before and issue.nonce(10) == holder_before


def test_an_amount_below_the_trading_unit_names_the_unit(issue: Issue, tmp_path: Path) -> None:
    before, holder_before = issue.nonce(), issue.nonce(10)
    # an amount off the trading unit is refused by the bond's rules: exit code 3
    line = refused(issue.run("transfer", CODE, "--to", wallet(11), "1234.5", "--key-env",
                             "HOLDER", env=HOLDER), code=3)
    assert "1234.5" in line and "trading unit, 1 JPY" in line
    assert "restriction code 16 (NOT_TRADING_UNIT_MULTIPLE)" in line
    line = refused(issue.run("force-transfer", CODE, "--from", wallet(10), "--to", wallet(11),
                             "0.5", "--reason", "court order"), code=3)
    assert "trading unit, 1 JPY" in line
    line = refused(issue.run("freeze", CODE, wallet(10), "--amount", "10.01"), code=3)
    assert "trading unit, 1 JPY" in line
    result = issue.run("check", CODE, "--from", wallet(10), "--to", wallet(11), "0.1")
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert result.stdout.startswith("code 16 (NOT_TRADING_UNIT_MULTIPLE): ")
    assert "trading unit, 1 JPY" in result.stdout and "what to do: round" in result.stdout
    allotments = tmp_path / "allot.csv"
    allotments.write_text(f"wallet,amount\n{wallet(12)},300000\n{wallet(16)},1234.5\n")
    line = refused(issue.run("allot", CODE, str(allotments)), code=3)
    assert f"{allotments}:3" in line and "trading unit, 1 JPY" in line
    line = refused(issue.run("transfer", CODE, "--to", wallet(11), "1,000", "--key-env",
                             "HOLDER", env=HOLDER), code=2)
    assert "comma" in line
    assert issue.nonce() == before and issue.nonce(10) == holder_before


@pytest.mark.parametrize("args", [
    ("deploy", str(TERM_SHEET)),
    ("transfer", CODE, "--to", wallet(11), "10000"),
    ("status", CODE),
    ("investors", "import", "examples/investors.csv"),
])
def test_no_reachable_node_names_the_url_and_munibond_chain(issue: Issue, tmp_path: Path,
                                                            args: tuple[str, ...]) -> None:
    url = free_port_url()
    before = issue.nonce()
    line = refused(invoke(*args, "--rpc-url", url, "--deployments", str(tmp_path)))
    assert f"no Ethereum node answers at {url}" in line and "munibond chain" in line
    assert issue.nonce() == before


def test_the_default_url_is_where_munibond_chain_listens(tmp_path: Path) -> None:
    result = invoke("status", CODE, "--deployments", str(tmp_path))
    if result.exit_code == 0:  # pragma: no cover - a chain with the bond runs on 8545
        pytest.skip("something answers at http://127.0.0.1:8545")
    line = one_error_line(result)
    assert "http://127.0.0.1:8545" in line


# --- roles, usage, flags -----------------------------------------------------------------------

def test_a_missing_role_is_named_and_nothing_is_sent(issue: Issue, tmp_path: Path) -> None:
    before = issue.nonce(9)
    line = refused(issue.run("pause", CODE, "--key-env", "STRANGER", env=STRANGER))
    assert "PAUSER_ROLE" in line and wallet(9) in line
    line = refused(issue.run("freeze", CODE, wallet(10), "--wallet-level", "--key-env",
                             "STRANGER", env=STRANGER))
    assert "TRANSFER_AGENT_ROLE" in line
    allotments = tmp_path / "allot.csv"
    allotments.write_text(f"wallet,amount\n{wallet(12)},300000\n")
    line = refused(issue.run("allot", CODE, str(allotments), "--key-env", "STRANGER",
                             env=STRANGER))
    assert "ISSUER_ROLE" in line
    line = refused(issue.run("investors", "add", "--wallet", wallet(28), "--investor-id", "77",
                             "--country", "JP", "--class", "retail", "--tax", "individual",
                             "--kyc-valid-until", "2030-01-01", "--key-env", "STRANGER",
                             env=STRANGER))
    assert "REGISTRAR_ROLE" in line
    assert issue.nonce(9) == before


@pytest.mark.parametrize(("args", "expected"), [
    (("transfer", CODE, "10000"), "Missing option '--to'"),
    (("deploy",), "Missing argument 'TERMSHEET'"),
    (("status", CODE, "--bogus"), "No such option '--bogus'"),
    (("frobnicate",), "No such command 'frobnicate'"),
    (("freeze", CODE, wallet(10)), "give either --amount X or --wallet-level"),
    (("freeze", CODE, wallet(10), "--amount", "1", "--wallet-level"),
     "give either --amount X or --wallet-level"),
    (("holders", CODE, "--at", "2027-06-15T15:00"), "has no time zone"),
    (("check", CODE, "--from", wallet(10), "--to", wallet(11), "-5"),
     "amount must be positive (more than zero), got '-5'; write the amount without a sign"),
    (("transfer", CODE, "-100", "--to", wallet(11)), "amount must be positive"),
    (("force-transfer", CODE, "--from", wallet(10), "--to", wallet(11), "-0.5", "--reason",
      "court"), "amount must be positive"),
    (("freeze", CODE, wallet(10), "--amount", "-5"), "amount must be positive"),
    (("coupon", "fund", CODE, "-1"), "'PERIOD'"),
    (("check", CODE, "--from", wallet(10), "--to", wallet(11), "0"),
     "amount must be positive (more than zero)"),
    (("transfer", CODE, "--to", wallet(11), "1e3"),
     "'1e3' is in exponent notation, which is not accepted; write all the digits, e.g. '1000'"),
    (("transfer", CODE, "--to", wallet(11), "\uff11\uff10\uff10"),
     "full-width digits are not accepted; type ASCII digits"),
    (("check", CODE, "--from", wallet(10), "--to", wallet(11), "Infinity"),
     "not a finite number"),
    (("coupon", "fund", CODE, "1", "--amount", "5e4"), "exponent notation"),
    (("coupon", "tax-rates", CODE, "--set", "individual", "1.5e1%", "5%"), "exponent"),
    (("redeem", "call", CODE, "8", "--price", "-100%"), "must be positive"),
    (("investors", "add", "--wallet", wallet(28), "--investor-id", "77", "--country", "XX",
      "--class", "retail", "--tax", "individual", "--kyc-valid-until", "2030-01-01"),
     "unknown country"),
    (("investors", "add", "--wallet", wallet(28), "--investor-id", "77", "--country", "US",
      "--class", "retail", "--tax", "non_resident", "--region", "281107",
      "--kyc-valid-until", "2030-01-01"), "leave --region out"),
    (("transfer", CODE, "--to", wallet(11), "1", "--key-env", "A", "--keystore", "k.json"),
     "either --keystore or --key-env"),
    (("status", CODE, "--eip1559", "--gas-price", "1gwei"), "--gas-price"),
    (("deploy", str(TERM_SHEET), "--settlement", "0xabc"), "--settlement"),
])
def test_usage_errors_are_one_line_with_exit_code_2(issue: Issue, args: tuple[str, ...],
                                                    expected: str) -> None:
    before = issue.nonce()
    line = refused(issue.run(*args), code=2)
    assert expected in line
    assert issue.nonce() == before


def test_signer_problems(issue: Issue, tmp_path: Path) -> None:
    line = refused(issue.run("pause", CODE, "--key-env", "UNSET_VARIABLE_FOR_MUNIBOND"))
    assert "UNSET_VARIABLE_FOR_MUNIBOND is not set" in line
    line = refused(issue.run("pause", CODE, "--key-env", "K", env={"K": "0x1234"}))
    assert "$K is not a private key" in line and "0x1234" not in line
    line = refused(issue.run("pause", CODE, "--keystore", str(tmp_path / "none.json")))
    assert "does not exist" in line


def test_verbose_shows_the_traceback(issue: Issue) -> None:
    url = free_port_url()
    result = invoke("-v", "status", CODE, "--rpc-url", url)
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"error: no Ethereum node answers at {url}")


def test_ctrl_c_is_one_line_and_exit_130(issue: Issue, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("munibond.cli.state.State.bond", interrupted)
    line = refused(issue.run("status", CODE), code=130)
    assert line.startswith("error: interrupted")


def test_settings_from_the_environment_and_the_global_options(issue: Issue) -> None:
    env = {"MUNIBOND_RPC_URL": issue.node.url, "MUNIBOND_DEPLOYMENTS": str(issue.records)}
    result = invoke("status", CODE, env=env)
    assert result.exit_code == 0 and "Bond KOBE-R-2026-01" in result.stdout
    result = invoke("--rpc-url", issue.node.url, "--deployments", str(issue.records),
                    "check", CODE, "--from", wallet(10), "--to", wallet(11), "1")
    assert result.exit_code == 0
    # an option after the command overrides the one before it and the environment
    result = invoke("--rpc-url", free_port_url(), "status", CODE, "--rpc-url", issue.node.url,
                    env={"MUNIBOND_RPC_URL": free_port_url(),
                         "MUNIBOND_DEPLOYMENTS": str(issue.records)})
    assert result.exit_code == 0
    result = invoke("status", CODE, "--network", "elsewhere", env=env)
    assert "no bond 'KOBE-R-2026-01' is recorded for network 'elsewhere'" in \
        one_error_line(result)
    result = invoke("status", CODE, "--network", "../up", env=env)
    assert "not a usable network name" in one_error_line(result)


# --- build -----------------------------------------------------------------------------------

def test_build_reports_and_check_lists_differences(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    calls: list[bool] = []

    def fake_build(root: Path | None = None, *, force: bool = False,
                   out_dir: Path | None = None) -> BuildResult:
        calls.append(force)
        return BuildResult(compiled=True, project_root=tmp_path, artifacts_dir=tmp_path,
                           contracts=("BondToken",), message="compiled 1 file", warnings=("w1",),
                           compiler_version="0.8.37")

    monkeypatch.setattr("munibond.build.build", fake_build)
    result = invoke("build", "--force")
    assert result.exit_code == 0 and "compiled 1 file" in result.stdout
    assert "warning: w1" in result.stderr and calls == [True]

    monkeypatch.setattr("munibond.build.check", lambda root=None: [
        "munibond/artifacts/BondToken.json: differs from a fresh build in abi"])
    result = invoke("build", "--check")
    assert result.exit_code == 1
    assert "BondToken.json: differs from a fresh build in abi" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: 1 artifact file(s) are not what")
    monkeypatch.setattr("munibond.build.check", lambda root=None: [])
    result = invoke("build", "--check")
    assert result.exit_code == 0 and "reproduced byte for byte" in result.stdout


# --- a chain that charges gas ----------------------------------------------------------------

def test_a_chain_that_charges_gas_needs_eip1559(tmp_path: Path) -> None:
    from munibond.anvil import start_anvil

    with start_anvil(zero_gas=False, accounts=2) as paying:
        common = ("--rpc-url", paying.url, "--deployments", str(tmp_path))
        result = invoke("deploy", str(TERM_SHEET), *common, "--eip1559", "--no-documents")
        assert result.exit_code == 0, result.stderr
        assert f"bond {CODE} at" in result.stdout
        line = refused(invoke("pause", CODE, *common))
        assert "pass --eip1559, or a --gas-price" in line and "tx_mode" not in line
        result = invoke("pause", CODE, *common, "--gas-price", "5gwei")
        assert result.exit_code == 0, result.stderr
