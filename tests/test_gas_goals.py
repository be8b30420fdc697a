"""The issue's gas goals, held by a test: gas is deterministic for the same code and chain, so a
change that makes a transfer dearer than the goal fails here, not only in ``make bench``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gas import GOALS, Goal, check_goals, describe, measure


@pytest.fixture(scope="module")
def results() -> dict[str, int]:
    return measure()


@pytest.mark.parametrize("goal", GOALS, ids=[g.key for g in GOALS])
def test_gas_goal(results: dict[str, int], goal: Goal) -> None:
    rows = {g.key: (measured, limit, ok) for g, measured, limit, ok in check_goals(results)}
    measured, limit, ok = rows[goal.key]
    assert ok, f"{goal.key}: {measured:,} gas, goal {goal.describe} ({limit:,.0f})"


def _whole_transaction(key: str) -> bool:
    """Whether the key is one transaction's gasUsed (not a per-item share or a difference)."""
    return not (key.startswith(("registry.register_batch", "coupon.record_gas_"))
                or "push_per_holder" in key)


def test_every_required_key_is_measured(results: dict[str, int]) -> None:
    required = {
        "erc20.transfer_existing", "erc20.transfer_new", "registry.register_wallet",
        "registry.register_batch_100_per_wallet", "bond.transfer_existing", "bond.transfer_new",
        "bond.mint_existing", "bond.mint_new", "bond.batch_transfer_10_existing",
        "bond.forced_transfer", "factory.create_bond",
        # with the coupon logic in place
        "coupon.fund", "coupon.first_transfer_after_record", "coupon.claim",
        "coupon.claim_new_payee", "coupon.push_per_holder", "coupon.push_per_holder_new_payee",
        "redeem.claim", "redeem.push_per_holder", "coupon.record_gas_10_holders",
        "coupon.record_gas_1000_holders",
    }
    assert required <= results.keys()
    assert all(isinstance(v, int) and v > 0 for v in results.values()), results
    assert all(v > 21_000 for k, v in results.items() if _whole_transaction(k)), results
    assert all(describe(k) for k in results), [k for k in results if not describe(k)]


def test_per_investor_caps_cost_more_than_per_wallet(results: dict[str, int]) -> None:
    # the per-investor mode really does the extra work (and the bench labels it)
    assert results["bond.transfer_existing_per_investor"] > results["bond.transfer_existing"]


def test_coupon_figures_measure_what_they_say(results: dict[str, int]) -> None:
    # a payee's first settlement-token balance costs a fresh storage slot (the labels are right)
    assert results["coupon.claim_new_payee"] > results["coupon.claim"] + 15_000
    assert results["coupon.push_per_holder_new_payee"] > results["coupon.push_per_holder"] + 15_000
    # the first transfer after a record time counts it; the next one does not
    assert results["coupon.first_transfer_after_record"] > \
        results["coupon.second_transfer_after_record"]
    # a record time is counted by one transaction, at a cost that does not depend on the holders
    assert results["coupon.record_gas_10_holders"] > 2 * 2_100  # at least the period words read
    # a redemption also pays the principal and burns the units
    assert results["redeem.claim"] > results["coupon.claim"]
