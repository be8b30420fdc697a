"""Fixtures of the CLI tests: one anvil for the whole package, on which the example issue is set up
through the CLI itself (deploy, investors import, allot), then the clock moved past the lock-up.

Accounts (the development mnemonic's): 0 deployer (every role, the default signer on a local
chain), 9 a stranger with no role; 10 to 27 the example investors' wallets (examples/README.md).
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from munibond.anvil import Anvil, start_anvil
from munibond.chain import Chain
from munibond.cli import cli
from munibond.signers import Signer, dev_accounts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TERM_SHEET = EXAMPLES / "kobe-resident-bond-2026.yaml"
INVESTORS = EXAMPLES / "investors.csv"
ALLOTMENTS = EXAMPLES / "allotments.csv"
CODE = "KOBE-R-2026-01"
#: the example bond's issue (payment) date, when the allotment is booked
ISSUE_DATE = calendar.timegm(date(2026, 12, 15).timetuple())
#: a moment after the example bond's lock-up (2027-01-15) and before its maturity (2031-12-15)
AFTER_LOCKUP = calendar.timegm(date(2027, 2, 1).timetuple())
ACCOUNTS = dev_accounts(30)


def wallet(index: int) -> str:
    """The address of development account ``index``."""
    return str(ACCOUNTS[index].address)


def key_hex(index: int) -> str:
    return "0x" + bytes(ACCOUNTS[index].key).hex()


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """An environment for CliRunner without the caller's MUNIBOND_* settings."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MUNIBOND_")}
    env.update(extra or {})
    return env


def invoke(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """Run ``munibond ARGS`` in this process, as the console script does."""
    return CliRunner().invoke(cli, list(args), env=clean_env(env), catch_exceptions=False)


def signing_lines(result: Result) -> list[str]:
    """The ``signing as 0x... (...)`` note a command that signs prints on standard error."""
    return [line for line in result.stderr.splitlines() if line.startswith("signing as ")]


def one_error_line(result: Result) -> str:
    """The single line an error run printed (asserting that it printed exactly that, besides
    the one ``signing as ...`` note of a command that signs)."""
    assert result.stdout == "", result.stdout
    signing = signing_lines(result)
    assert len(signing) <= 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line not in signing]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@dataclass
class Issue:
    """The example issue, set up through the CLI."""

    node: Anvil
    chain: Chain
    records: Path
    deploy: Result
    redeploy: Result
    imported: Result
    reimported: Result
    allotted: Result
    reallotted: Result
    locked_check: Result
    #: the deployer's nonce after each set-up step
    nonces: dict[str, int]

    @property
    def common(self) -> tuple[str, ...]:
        """The connection and record options of every command."""
        return ("--rpc-url", self.node.url, "--deployments", str(self.records))

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Result:
        return invoke(*args, *self.common, env=env)

    def nonce(self, account: int | Signer = 0) -> int:
        address = ACCOUNTS[account].address if isinstance(account, int) else account.address
        return int(self.chain.w3.eth.get_transaction_count(address))

    def bond_address(self) -> str:
        from munibond.deploy import read_record

        return str(read_record(self.records / "local" / f"{CODE}.json")["address"])


@pytest.fixture(scope="session")
def node() -> Iterator[Anvil]:
    with start_anvil(accounts=30) as anvil:
        yield anvil


@pytest.fixture(scope="session")
def issue(node: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Issue:
    records = tmp_path_factory.mktemp("records")
    common = ("--rpc-url", node.url, "--deployments", str(records))
    chain = node.connect()

    nonces: dict[str, int] = {}

    def step(name: str, *args: str) -> Result:
        result = invoke(*args, *common)
        nonces[name] = int(chain.w3.eth.get_transaction_count(wallet(0)))
        return result

    deploy = step("deploy", "deploy", str(TERM_SHEET))
    redeploy = step("redeploy", "deploy", str(TERM_SHEET))
    imported = step("imported", "investors", "import", str(INVESTORS))
    reimported = step("reimported", "investors", "import", str(INVESTORS))
    if chain.now() < ISSUE_DATE:  # allotments are booked on the issue date
        chain.set_next_timestamp(ISSUE_DATE)
        chain.mine()
    allotted = step("allotted", "allot", CODE, str(ALLOTMENTS))
    reallotted = step("reallotted", "allot", CODE, str(ALLOTMENTS))
    locked_check = step("locked_check", "check", CODE, "--from", wallet(10), "--to", wallet(11),
                        "10000")
    now = chain.now()
    if now < AFTER_LOCKUP:
        chain.set_next_timestamp(AFTER_LOCKUP)
        chain.mine()
    return Issue(node=node, chain=chain, records=records, deploy=deploy, redeploy=redeploy,
                 imported=imported, reimported=reimported, allotted=allotted,
                 reallotted=reallotted, locked_check=locked_check, nonces=nonces)


@pytest.fixture
def fresh(issue: Issue) -> Iterator[Issue]:
    """The issue, with the chain put back as it was after the test."""
    snapshot = issue.chain.snapshot()
    try:
        yield issue
    finally:
        issue.chain.revert(snapshot)


@pytest.fixture
def fake_besu() -> Iterator[str]:
    """The URL of a JSON-RPC server that answers like a Besu node (a real node, not a local
    development chain): chain id, client version, one block."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    block = {"number": "0x10", "hash": "0x" + "ab" * 32, "parentHash": "0x" + "cd" * 32,
             "timestamp": hex(AFTER_LOCKUP), "extraData": "0x", "gasLimit": "0x1c9c380",
             "gasUsed": "0x0", "miner": "0x" + "00" * 20, "difficulty": "0x0",
             "transactions": [], "uncles": [], "nonce": "0x0000000000000000",
             "sha3Uncles": "0x" + "00" * 32, "logsBloom": "0x" + "00" * 256,
             "transactionsRoot": "0x" + "00" * 32, "stateRoot": "0x" + "00" * 32,
             "receiptsRoot": "0x" + "00" * 32, "size": "0x200", "totalDifficulty": "0x0",
             "mixHash": "0x" + "00" * 32, "baseFeePerGas": "0x0"}
    answers = {"eth_chainId": "0x539", "net_version": "1337", "eth_blockNumber": "0x10",
               "web3_clientVersion": "besu/v24.12.0/linux-x86_64/openjdk-java-21",
               "eth_getBlockByNumber": block}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps({"jsonrpc": "2.0", "id": request.get("id"),
                               "result": answers.get(request.get("method"))}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
