"""The SDK as an integrator meets it: opening a deployment, typed transaction results, period
numbers, entitlements net of withholding, and the event subscription."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import munibond
from munibond.deploy import ensure_bond, ensure_platform
from munibond.events import Event, TxResult
from munibond.exceptions import DeploymentError, InvalidArgument
from munibond.payment_setup import ensure_payments
from munibond.payments import PaymentPeriod

from .conftest import TERM_SHEET, Env

D = Decimal


def _travel(env: Env, timestamp: int) -> None:
    env.chain.set_next_timestamp(timestamp)
    env.chain.mine()


def _first_payable(env: Env) -> PaymentPeriod:
    """The eligible allotment minted, period 1 funded and due; period 1 returned."""
    env.mint_eligible()
    coupons = env.bond.coupons
    token = env.platform.settlement
    assert token is not None
    env.chain.transact(env.deployer, token.functions.mint(env.deployer.address, 10**30))
    first = coupons.period(1)
    coupons.fund(env.deployer, first)
    _travel(env, int(first.payment_time.timestamp()))
    return first


# --- typed transaction results -------------------------------------------------------------------

def test_sending_methods_return_a_typed_result(env: Env) -> None:
    env.after_lockup()
    env.mint_eligible()
    sender = env.signer(env.eligible[0].wallet)
    to = env.eligible[1].wallet
    result = env.bond.transfer(sender, to, D("10000"))
    assert isinstance(result, TxResult)
    assert result.status == 1 and result.ok
    assert result.tx_hash.startswith("0x") and len(result.tx_hash) == 66
    assert result.block_number == env.chain.block_number()
    assert 20_000 < result.gas_used < 200_000
    assert [(e.name, dict(e.args)) for e in result.events] == [
        ("Transfer", {"from": sender.address, "to": to, "value": 10_000})]
    name, args = result.events[0]  # an event unpacks as (name, args)
    assert (name, args["value"]) == ("Transfer", 10_000)
    assert result.events[0].address == env.bond.address
    assert result.named("Transfer") == list(result.events)
    # the raw receipt stays reachable, and the result still reads like one
    assert result.receipt["gasUsed"] == result["gasUsed"] == result.gas_used
    assert "0x" + bytes(result["transactionHash"]).hex() == result.tx_hash
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.gas_used = 0  # type: ignore[misc]


def test_every_client_returns_results(env: Env) -> None:
    registry = env.platform.registry
    stranger = env.accounts[20].address
    registered = registry.register(env.registrar, stranger, registry.investor(
        env.eligible[0].wallet))  # type: ignore[arg-type]
    assert isinstance(registered, TxResult)
    assert [e.name for e in registered.events] == ["WalletRegistered"]
    batches = env.bond.mint_many(env.deployer, [(a.wallet, a.amount) for a in env.eligible[:2]])
    assert all(isinstance(r, TxResult) for r in batches)
    assert [e.name for e in batches[0].events] == ["Transfer", "Transfer"]
    paused = env.bond.pause(env.deployer)
    assert [e.name for e in paused.events] == ["Paused"]


def test_a_payment_result_decodes_the_settlement_tokens_events_too(env: Env) -> None:
    first = _first_payable(env)
    wallet = env.eligible[0].wallet
    report = env.bond.coupons.claim(env.signer(wallet))
    assert [line.period for line in report.paid] == [first.number]
    # funding: approve (settlement token) then fund (bond); both results typed
    second = env.bond.coupons.period(2)
    _travel(env, int(second.record_time.timestamp()) + 1)
    results = env.bond.coupons.fund(env.deployer, 2)
    names = [(e.name, e.address) for r in results for e in r.events]
    assert ("PeriodFunded", env.bond.address) in names
    assert ("Transfer", env.addresses.settlement_token) in names


# --- period numbers ------------------------------------------------------------------------------

def test_periods_are_numbered_from_one_everywhere(env: Env) -> None:
    coupons = env.bond.coupons
    first = coupons.period(1)
    assert (first.number, first.index) == (1, 0)
    assert [p.number for p in coupons.schedule()] == list(range(1, 11))
    assert coupons.period(first) == first  # a PaymentPeriod is taken too
    assert coupons.funding(1).period == coupons.funding(first).period == 1
    assert coupons.funding(1).period_index == 0
    assert coupons.paid(10).period == 10
    with pytest.raises(InvalidArgument, match=r"there is no period 0 .*numbered from 1"):
        coupons.period(0)
    with pytest.raises(InvalidArgument, match="numbered 1 to 10; there is no period 11"):
        coupons.funding(11)
    with pytest.raises(InvalidArgument, match="its number"):
        coupons.period("1")  # type: ignore[arg-type]
    # the term sheet's own schedule numbers them alike
    from munibond.schedule import coupon_schedule

    assert coupon_schedule(env.term_sheet).period(1).record_time == first.record_time


def test_a_revert_names_the_period_by_its_number(env: Env) -> None:
    first = _first_payable(env)
    with pytest.raises(munibond.ContractRevert, match=r"period 1 \(on-chain index 0\)"):
        env.bond.coupons.fund(env.deployer, first)


# --- entitlements net of withholding -------------------------------------------------------------

def test_entitlements_show_net_exactly_as_the_contract_pays(env: Env) -> None:
    _first_payable(env)
    coupons = env.bond.coupons
    owed = {a.wallet: coupons.entitlements(a.wallet) for a in env.eligible}
    categories = set()
    for lines in owed.values():
        assert len(lines) == 1 and lines[0].period == 1 and lines[0].status == "payable"
        categories.add(lines[0].tax_category)
    assert len(categories) > 1, "the example holders cover several tax categories"
    yamada = owed[env.wallet(1001)][0]  # an individual: 15.315% + 5%, each floored
    assert (yamada.gross, yamada.national_tax, yamada.local_tax, yamada.net) == (
        3_100, 474, 155, 2_471)
    assert yamada.net_total == yamada.net + yamada.principal
    report = coupons.pay(env.deployer)
    assert not report.failed
    paid = {line.holder: line for line in report.paid}
    for wallet, (line,) in owed.items():
        got = paid[wallet]
        assert (line.gross, line.national_tax, line.local_tax, line.net, line.principal) == (
            got.gross, got.national_tax, got.local_tax, got.net, got.principal), wallet


def test_entitlements_before_payment_use_the_current_rates(env: Env) -> None:
    env.mint_eligible()
    coupons = env.bond.coupons
    first = coupons.period(1)
    _travel(env, int(first.record_time.timestamp()) + 1)
    [before] = coupons.entitlements(env.wallet(1001))
    assert before.status == "not yet payable" and (before.national_tax, before.local_tax) == (
        474, 155)
    coupons.set_tax_rates(env.deployer, before.tax_category, "10", "0")
    [after] = coupons.entitlements(env.wallet(1001))
    assert (after.national_tax, after.local_tax, after.net) == (310, 0, 2_790)


# --- the event subscription ----------------------------------------------------------------------

def test_events_follow_the_chain_with_a_confirmation_depth(env: Env) -> None:
    env.after_lockup()
    env.mint_eligible()
    bond = env.bond
    a, b = env.signer(env.eligible[0].wallet), env.eligible[1].wallet
    start = env.chain.block_number() + 1
    first = bond.transfer(a, b, D("10000"))
    steps: list[str] = []

    def wait(seconds: float) -> None:
        """Instead of sleeping: the chain moves on, one step per wait."""
        assert seconds == 0.5
        step = len(steps)
        steps.append("wait")
        if step == 0:
            env.chain.mine()  # confirms the first transfer (2 deep)
        elif step == 1:
            bond.transfer(a, b, D("20000"))
        elif step == 2:
            env.chain.mine()

    stream = bond.events(from_block=start, confirmations=2, poll_interval=0.5, sleep=wait,
                         until_block=first.block_number + 2, names=["Transfer"])
    seen: list[Event] = []
    for event in stream:
        seen.append(event)
        assert event.block_number <= env.chain.block_number() - 1  # never the unconfirmed head
    assert [(e.block_number, e.args["value"]) for e in seen] == [
        (first.block_number, 10_000), (first.block_number + 2, 20_000)]
    assert all(e.name == "Transfer" and e.address == bond.address for e in seen)
    assert len(steps) == 3


def test_events_stop_when_asked(env: Env) -> None:
    env.after_lockup()
    env.mint_eligible()
    stopped = False

    def wait(seconds: float) -> None:
        nonlocal stopped
        stopped = True

    seen = list(env.bond.events(from_block=0, poll_interval=0, sleep=wait, stop=lambda: stopped))
    assert seen == sorted(seen, key=lambda e: (e.block_number, e.log_index))
    assert sum(1 for e in seen if e.name == "Transfer") == len(env.eligible)
    with pytest.raises(InvalidArgument, match="confirmations"):
        next(env.bond.events(confirmations=0))


# --- opening a deployment ------------------------------------------------------------------------

@pytest.fixture
def recorded(env: Env, tmp_path: Path) -> tuple[Env, Path, str]:
    """A platform and the example bond deployed and recorded under ``tmp_path/"test"``."""
    ts = munibond.load_term_sheet(TERM_SHEET)
    platform = ensure_platform(env.chain, env.deployer, "test", root=tmp_path)
    bond = ensure_bond(env.chain, env.deployer, platform, TERM_SHEET, "test", root=tmp_path)
    ensure_payments(bond, env.deployer, ts, token=platform.addresses.settlement_token)
    return env, tmp_path, bond.address


def test_open_bond_by_code_or_address(recorded: tuple[Env, Path, str]) -> None:
    env, root, address = recorded
    bond = munibond.open_bond(env.chain, "KOBE-R-2026-01", deployments=root)
    assert bond.address == address and bond.code == "KOBE-R-2026-01"
    assert bond.coupons.period(1).number == 1  # reading needs no signer
    assert munibond.open_bond(env.chain, address).address == address  # no records needed
    same = munibond.open_bond(env.chain, "KOBE-R-2026-01", deployments=root, network="test")
    assert same.address == address
    platform = munibond.open_platform(env.chain, deployments=root)
    assert platform.bond("KOBE-R-2026-01").address == address


def test_open_bond_says_what_is_wrong(recorded: tuple[Env, Path, str], tmp_path: Path) -> None:
    env, root, _ = recorded
    with pytest.raises(DeploymentError, match="no bond 'NOPE' on network 'test'"):
        munibond.open_bond(env.chain, "NOPE", deployments=root)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DeploymentError, match=r"no platform under .* was recorded on the chain"):
        munibond.open_bond(env.chain, "KOBE-R-2026-01", deployments=empty)
    with pytest.raises(DeploymentError, match="is not a directory"):
        munibond.open_platform(env.chain, deployments=tmp_path / "missing")
    with pytest.raises(TypeError, match="connection options"):
        munibond.open_platform(env.chain, deployments=root, poa=True)
    other: Any = munibond.in_process_chain(accounts=1)
    with pytest.raises(DeploymentError, match="no platform under"):
        munibond.open_platform(other, deployments=root)
