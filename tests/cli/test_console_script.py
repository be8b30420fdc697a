"""The installed console script ``munibond``, run as a person runs it: ``munibond chain`` until
Ctrl-C, and errors that print one line and no traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from munibond.anvil import _rpc_answers

from .conftest import CODE, TERM_SHEET, invoke, one_error_line, wallet

BIN = Path(sys.executable).parent / "munibond"
SCRIPT = str(BIN) if BIN.exists() else (shutil.which("munibond") or "munibond")


def script_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MUNIBOND_")}


def run_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, *args], cwd=cwd, env=script_env(), capture_output=True,
                          text=True, timeout=60, check=False)


class Lines:
    """The lines a process writes to a pipe, collected by a thread."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not printed within {timeout} s:\n"
                                     + "\n".join(self.lines))
            time.sleep(0.02)

    def text(self) -> str:
        self._thread.join(timeout=5)
        return "\n".join(self.lines)


@pytest.fixture
def chain_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Lines, Lines]]:
    process = subprocess.Popen(
        [SCRIPT, "chain", "--port", "0", "--accounts", "12", "--deployments",
         str(tmp_path / "deployments")],
        cwd=tmp_path, env=script_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        yield process, out, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_munibond_chain_runs_until_ctrl_c(chain_process: tuple[subprocess.Popen[str], Lines,
                                                                Lines],
                                          tmp_path: Path) -> None:
    process, out, err = chain_process
    out.wait_for("Ready. Press Ctrl-C", timeout=45)
    printed = "\n".join(out.lines)
    url_match = re.search(r"^RPC URL: (http://127\.0\.0\.1:\d+)$", printed, re.MULTILINE)
    assert url_match, printed
    url = url_match.group(1)
    assert "chain id: 31337" in printed
    assert "bond factory" in printed and "settlement token" in printed
    assert "TEST KEY - public, never use it on a real chain" in printed
    # account 0 of the development mnemonic, with its well-known key
    assert "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80" in printed
    records = tmp_path / "deployments"
    platform = json.loads((records / "local" / "platform.json").read_text())
    assert platform["contracts"]["factory"]["address"] in printed

    # use it: the platform recorded by `munibond chain` is reused by `munibond deploy`
    result = invoke("deploy", str(TERM_SHEET), "--rpc-url", url, "--deployments", str(records))
    assert result.exit_code == 0, result.stderr
    assert "reused from" in result.stderr and f"bond {CODE} at" in result.stdout
    check = invoke("check", CODE, "--from", wallet(10), "--to", wallet(11), "1",
                   "--rpc-url", url, "--deployments", str(records))
    assert check.exit_code == 3 and "code 4 (SENDER_NOT_REGISTERED)" in check.stdout

    # a second chain on the same port is refused in words
    port = url.rsplit(":", 1)[1]
    busy = invoke("chain", "--port", port, "--deployments", str(tmp_path / "other"))
    assert busy.exit_code == 1
    assert f"port {port} on 127.0.0.1 is in use" in one_error_line(busy)

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert "chain stopped" in err.text()
    assert "Traceback" not in err.text()
    assert not _rpc_answers(url, timeout=1.0)


def test_munibond_chain_keeps_the_records_of_other_chains(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_anvil(**options: object) -> None:
        raise AssertionError("anvil must not be started")

    monkeypatch.setattr("munibond.anvil.start_anvil", no_anvil)
    network = tmp_path / "deployments" / "besu"
    network.mkdir(parents=True)
    (network / "platform.json").write_text(json.dumps({"format": "munibond-platform/1",
                                                       "chain_id": 1337}))
    result = invoke("chain", "--port", "0", "--network", "besu", "--deployments",
                    str(tmp_path / "deployments"))
    assert result.exit_code == 1
    assert "records a platform on chain id 1337" in one_error_line(result)


def test_errors_of_the_console_script_are_one_line_without_traceback(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"  # the discard port: nothing answers JSON-RPC there
    result = run_script("transfer", CODE, "--to", wallet(11), "10000", "--rpc-url", url,
                        "--deployments", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: no Ethereum node answers at {url}")
    assert "munibond chain" in result.stderr

    bad = tmp_path / "bad.yaml"
    bad.write_text(TERM_SHEET.read_text(encoding="utf-8").replace("currency: JPY",
                                                                  "currency: YEN"))
    result = run_script("deploy", str(bad), "--rpc-url", url, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: term sheet: bond.currency")

    result = run_script("transfer", CODE, "--to", "0x12", "1", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "'0x12' is not an address" in result.stderr

    result = run_script("--version", cwd=tmp_path)
    assert result.returncode == 0 and "munibond" in result.stdout
