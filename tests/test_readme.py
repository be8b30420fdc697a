"""The README's SDK example runs as written."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_example(heading: str) -> list[str]:
    """Run the first python block after ``heading`` in the README; what it printed."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code.group(1), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    return out.getvalue().splitlines()


def test_readme_sdk_example_runs() -> None:
    printed = _run_example("## The SDK in ten lines")
    assert "15" in printed[0] and "lock" in printed[0].lower(), printed
    assert printed[-1] == "12345", printed


def test_readme_coupon_example_runs() -> None:
    printed = _run_example("## Coupons and redemption")
    # alice: 1,000,000 JPY x 0.31% = 3,100; 15.315% and 5% each floored; bob: 12,345 -> 38 -> 32
    assert printed == ["3100 474 155 2471", "38 32"], printed
