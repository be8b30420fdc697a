"""Bond.plan_allotment / Bond.allot: an allotment counts against what was minted (mint events),
never against balances, and is booked from the issue date."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

import pytest

from munibond.exceptions import BeforeIssueDate, InvalidArgument, TransferRestricted
from munibond.ledger import minted_per_wallet

from .conftest import Env, create_variant

ISSUE_DATE = calendar.timegm(date(2026, 12, 15).timetuple())


def _lines(env: Env) -> list[tuple[str, Decimal]]:
    return [(a.wallet, a.amount) for a in env.eligible]


def _to_issue_date(env: Env) -> None:
    if env.chain.now() < ISSUE_DATE:
        env.chain.set_next_timestamp(ISSUE_DATE)
        env.chain.mine()


def test_a_rerun_after_trading_mints_nothing(env: Env) -> None:
    _to_issue_date(env)
    bond = env.bond
    assert len(bond.allot(env.deployer, _lines(env))) == 1
    env.after_lockup()
    seller = env.eligible[0].wallet
    bond.transfer(env.signer(seller), env.eligible[1].wallet, "39674")
    supply, nonce = bond.total_supply(), env.nonce(env.deployer)
    plan = bond.plan_allotment(_lines(env))
    assert plan.pending == [] and len(plan.done) == 11 and plan.to_mint == 0
    assert bond.allot(env.deployer, _lines(env)) == []
    assert bond.total_supply() == supply and env.nonce(env.deployer) == nonce
    # the balance-based policy is what over-issued: it would top the seller up again
    assert bond.balance_of(seller) == env.eligible[0].amount - 39674


def test_partly_minted_lines_get_the_rest(env: Env) -> None:
    _to_issue_date(env)
    bond = env.bond
    first, second = env.eligible[0], env.eligible[1]
    bond.allot(env.deployer, [(first.wallet, "300000")])
    phases: set[str] = set()
    plan = bond.plan_allotment([(first.wallet, first.amount), (second.wallet, second.amount)],
                               progress=lambda phase, done, total: phases.add(phase))
    assert phases == {"reading mints", "pre-checking"}
    line = plan.lines[0]
    assert (line.minted, line.to_mint) == (Decimal(300000), first.amount - 300000)
    bond.allot(env.deployer, plan)
    assert minted_per_wallet(env.chain, bond) == {
        first.wallet: bond.to_units(first.amount), second.wallet: bond.to_units(second.amount)}


def test_refused_lines_raise_unless_skipped(env: Env) -> None:
    _to_issue_date(env)
    lines = [(a.wallet, a.amount) for a in env.allotments]
    with pytest.raises(TransferRestricted):
        env.bond.allot(env.deployer, lines)
    assert env.bond.total_supply() == 0
    env.bond.allot(env.deployer, lines, skip_refused=True)
    assert env.bond.total_supply() == sum(a.amount for a in env.eligible)
    with pytest.raises(InvalidArgument, match="listed twice"):
        env.bond.plan_allotment([lines[0], lines[0]])


def test_before_the_issue_date_only_when_asked(env: Env) -> None:
    bond = create_variant(
        env, code="code: KOBE-R-2026-01 => code: KOBE-R-2030-01",
        issue="issue_date: 2026-12-15 => issue_date: 2030-12-15",
        maturity="maturity_date: 2031-12-15 => maturity_date: 2035-12-15",
        first="first_payment_date: 2027-06-15 => first_payment_date: 2031-06-15",
        lockup="lockup_until: 2027-01-15 => lockup_until: 2031-01-15")
    if env.chain.now() >= bond.terms().issue_date.timestamp():
        pytest.skip("the system clock is past the variant's issue date")
    assert bond.plan_allotment(_lines(env)).before_issue_date
    with pytest.raises(BeforeIssueDate, match="before_issue_date=True"):
        bond.allot(env.deployer, _lines(env))
    assert bond.total_supply() == 0
    bond.allot(env.deployer, _lines(env), before_issue_date=True)
    assert bond.total_supply() == sum(a.amount for a in env.eligible)
