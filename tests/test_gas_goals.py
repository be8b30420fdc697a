"""The issue's gas goals, held by a test: gas is deterministic for the same code and chain, so a
change that makes a transfer dearer than the goal fails here, not only in ``make bench``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gas import GOALS, Goal, check_goals, measure


@pytest.fixture(scope="module")
def results() -> dict[str, int]:
    return measure()


@pytest.mark.parametrize("goal", GOALS, ids=[g.key for g in GOALS])
def test_gas_goal(results: dict[str, int], goal: Goal) -> None:
    rows = {g.key: (measured, limit, ok) for g, measured, limit, ok in check_goals(results)}
    measured, limit, ok = rows[goal.key]
    assert ok, f"{goal.key}: {measured:,} gas, goal {goal.describe} ({limit:,.0f})"


def test_every_required_key_is_measured(results: dict[str, int]) -> None:
    required = {
        "erc20.transfer_existing", "erc20.transfer_new", "registry.register_wallet",
        "registry.register_batch_100_per_wallet", "bond.transfer_existing", "bond.transfer_new",
        "bond.mint_existing", "bond.mint_new", "bond.batch_transfer_10_existing",
        "bond.forced_transfer", "factory.create_bond",
    }
    assert required <= results.keys()
    assert all(isinstance(v, int) and v > 21_000 for k, v in results.items()
               if not k.startswith("registry.register_batch")), results


def test_per_investor_caps_cost_more_than_per_wallet(results: dict[str, int]) -> None:
    # the per-investor mode really does the extra work (and the bench labels it)
    assert results["bond.transfer_existing_per_investor"] > results["bond.transfer_existing"]
