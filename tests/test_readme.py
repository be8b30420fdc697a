"""The README's SDK example runs as written."""

from __future__ import annotations

import calendar
import contextlib
import io
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run_example(heading: str, *, cwd: Path = ROOT,
                 replace: Mapping[str, str] | None = None) -> list[str]:
    """Run the first python block after ``heading`` in the README (in ``cwd``, with the
    ``replace`` substitutions, e.g. a test node's URL); what it printed."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    source = code.group(1)
    for old, new in (replace or {}).items():
        assert old in source, old
        source = source.replace(old, new)
    out = io.StringIO()
    before = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "README.md", "exec"), {})
    finally:
        os.chdir(before)
    return out.getvalue().splitlines()


def test_readme_sdk_example_runs() -> None:
    printed = _run_example("## The SDK in ten lines")
    assert "15" in printed[0] and "lock" in printed[0].lower(), printed
    assert printed[-1] == "12345", printed


def test_readme_coupon_example_runs() -> None:
    printed = _run_example("## Coupons and redemption")
    # alice: 1,000,000 JPY x 0.31% = 3,100; 15.315% and 5% each floored; bob: 12,345 -> 38 -> 32
    assert printed == ["3100 474 155 2471", "38 32"], printed


def test_readme_using_the_sdk_example_runs(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The integrator's one-liner, against a node where the example issue was set up with the
    CLI (deploy, investors import, allot), after the lock-up."""
    from click.testing import CliRunner

    from munibond.anvil import start_anvil
    from munibond.cli import cli

    for name in [k for k in os.environ if k.startswith("MUNIBOND_")]:
        monkeypatch.delenv(name)
    examples = ROOT / "examples"
    with start_anvil(accounts=30) as node:
        common = ["--rpc-url", node.url, "--deployments", str(tmp_path / "deployments")]
        for args in (["deploy", str(examples / "kobe-resident-bond-2026.yaml")],
                     ["investors", "import", str(examples / "investors.csv")],
                     ["chain", "set-time", "2026-12-15T09:00"],  # the issue (payment) date
                     ["allot", "KOBE-R-2026-01", str(examples / "allotments.csv")]):
            result = CliRunner().invoke(cli, [*args, *common], catch_exceptions=False)
            assert result.exit_code == 0, result.output
        chain = node.connect()
        chain.set_next_timestamp(calendar.timegm(date(2027, 2, 1).timetuple()))  # lock-up over
        chain.mine()
        printed = _run_example("## Using the SDK", cwd=tmp_path,
                               replace={"http://127.0.0.1:8545": node.url})
    code, supply = printed[0].split()
    assert code == "KOBE-R-2026-01" and int(supply) > 0, printed
    assert printed[1] == "True [('Transfer', 10000)]", printed
    assert printed[2] == "1 0 2027-06-14 06:00:00+00:00", printed
    assert printed[3:] == ["True Transfer 10000"], printed
