"""Putting a term sheet's payment terms on its bond: the schedule, the paying agent, withholding
rates and the tax account.

:func:`ensure_payments` is what ``munibond deploy`` (and :func:`munibond.deploy.ensure_bond`'s
callers) run after the bond exists. It is idempotent: each part is compared with the chain and
sent only where it differs, so a re-run after a crash finishes the job and a second run sends
nothing. The schedule can only be written before the first unit is issued; after that a schedule
on chain that differs from the term sheet is an error, never silently kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from eth_utils.address import to_checksum_address

from munibond._client import signer_address
from munibond.contracts import DEFAULT_ADMIN_ROLE, PAYING_AGENT_ROLE, settlement_abi
from munibond.exceptions import DeploymentError
from munibond.schedule import OnChainSchedule, coupon_schedule, onchain_schedule
from munibond.times import format_time

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from munibond.bond import Bond
    from munibond.chain import Chain
    from munibond.termsheet import TermSheet

__all__ = ["PaymentSetup", "ensure_payments", "expected_schedule"]

Report = Callable[[str], None]


@dataclass
class PaymentSetup:
    """What :func:`ensure_payments` sent (names of the steps) and left unchanged."""

    sent: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def expected_schedule(bond: Bond, ts: TermSheet, token: str) -> OnChainSchedule:
    """The on-chain schedule the term sheet gives for a bond paid in ``token``."""
    return onchain_schedule_for(bond.chain, ts, token)


def onchain_schedule_for(chain: Chain, ts: TermSheet, token: str) -> OnChainSchedule:
    """The on-chain schedule the term sheet gives for a bond paid in ``token`` (whose decimals
    are read from the chain), checked as the contract will check it."""
    contract = chain.w3.eth.contract(address=to_checksum_address(token),
                                     abi=list(settlement_abi()))
    try:
        decimals = int(contract.functions.decimals().call())
    except Exception as error:
        raise DeploymentError(f"the settlement token {token} does not answer decimals(): is it "
                              f"an ERC-20 token? ({error})") from None
    return onchain_schedule(coupon_schedule(ts), settlement_decimals=decimals,
                            issue_units=ts.bond.issue_size_units)


def check_first_record(ts: TermSheet, schedule: OnChainSchedule, now: int) -> None:
    """Raise DeploymentError when the schedule's first record time is not after ``now`` (the
    chain's time): the contract refuses such a schedule, whose first holders are recorded
    already. Times in the bond's zone."""
    first = schedule.periods[0]
    if first.record_time > now:
        return
    zone = ZoneInfo(ts.bond.coupon.timezone)
    raise DeploymentError(
        f"the first record time of bond {ts.bond.code} ({first.label}: "
        f"{format_time(first.record_time, zone)}) is not after the chain's time "
        f"({format_time(now, zone)}): a bond cannot be issued with a payment whose holders are "
        f"already recorded. Give the term sheet a later first payment date (and dates to match); "
        f"nothing was sent")


def _on_chain(bond: Bond) -> tuple[str, list[tuple[int, int, int, int]], tuple[Any, ...]]:
    token, count, _recorded, div_exp, pay_exp, window, _notice = bond._call("paymentTerms")
    periods = [tuple(int(v) for v in p) for p in bond._call("paymentSchedule")]
    call = tuple(int(v) for v in bond._call("callTerms"))
    return (to_checksum_address(token), [(a, b, c, d) for a, b, c, d in periods],
            (int(div_exp), int(pay_exp), int(window), call) if int(count) else ())


def _called(have: list[tuple[int, int, int, int]], want: list[tuple[int, ...]]) -> bool:
    """Whether ``have`` is ``want`` cut short by an issuer call: the same periods up to the
    called one, which keeps its times and coupon and redeems at the call price."""
    n = len(have)
    return (0 < n < len(want) and have[:-1] == [tuple(p) for p in want[:n - 1]]
            and have[-1][:3] == tuple(want[n - 1][:3]))


def ensure_payments(bond: Bond, signer: LocalAccount, ts: TermSheet, *, token: str | None,
                    paying_agent: str | None = None,
                    say: Report = lambda _: None) -> PaymentSetup:
    """Write the term sheet's payment terms on ``bond`` where the chain differs (admin signer).

    * the schedule (``setSchedule``), from :func:`munibond.schedule.onchain_schedule`, paid in
      ``token`` (the bond's settlement token);
    * PAYING_AGENT_ROLE for ``paying_agent`` (default: the term sheet's ``roles.paying_agent``,
      else the signer);
    * the withholding rates of every tax category and the tax account, when the term sheet
      names one.
    """
    setup = PaymentSetup()
    admin = signer_address(signer)
    if not bond.has_role(DEFAULT_ADMIN_ROLE, admin):
        raise DeploymentError(f"{admin} is not the admin of bond {bond.code}: the payment terms "
                              f"(schedule, paying agent, tax rates) need the admin's key")
    if token is None:
        raise DeploymentError(f"bond {bond.code} has no settlement token: give one (a JPY "
                              f"stablecoin address) to pay coupons and principal on chain")
    want = expected_schedule(bond, ts, token)
    args = want.as_args(token)
    have_token, have_periods, have_scales = _on_chain(bond)
    want_periods = [tuple(p) for p in args[0]]
    want_scales = (args[2], args[3], args[4], tuple(args[5]))
    same = (have_token == to_checksum_address(token) and have_periods == want_periods
            and have_scales == want_scales)
    if same:
        setup.unchanged.append("schedule")
    elif bond.issued() and _called(have_periods, want_periods) and have_scales == want_scales:
        setup.unchanged.append("schedule")
        say(f"bond {bond.code} was called: its schedule on chain is the term sheet's up to period "
            f"{len(have_periods)}, redeemed then")
    elif bond.issued():
        raise DeploymentError(
            f"bond {bond.code} is issued and its payment schedule on chain differs from the term "
            f"sheet's ({len(have_periods)} period(s) on chain, {len(want_periods)} in the term "
            f"sheet): the schedule cannot change after issue; restore the term sheet")
    else:
        check_first_record(ts, want, bond.chain.now())
        bond._transact(signer, "setSchedule", *args)
        setup.sent.append("schedule")
        say(f"payment schedule of {bond.code}: {len(want_periods)} period(s) written on chain")

    agent = paying_agent or (ts.roles.paying_agent if ts.roles else None) or admin
    if bond.has_role(PAYING_AGENT_ROLE, agent):
        setup.unchanged.append("paying agent")
    else:
        bond._transact(signer, "grantRole", PAYING_AGENT_ROLE, to_checksum_address(agent))
        setup.sent.append("paying agent")
        say(f"paying agent of {bond.code}: {to_checksum_address(agent)}")

    for category, (national, local) in sorted(ts.withholding_rates().items()):
        national_now, local_now, is_set = bond._call("taxRates", category)
        if (int(national_now), int(local_now), bool(is_set)) == (national, local, True):
            continue
        bond._transact(signer, "setTaxRates", category, national, local)
        setup.sent.append(f"tax rates {category}")
    if not any(step.startswith("tax rates") for step in setup.sent):
        setup.unchanged.append("tax rates")
    else:
        say(f"withholding rates of {bond.code} set from the term sheet")

    account = ts.tax_account
    if account is not None:
        current_account = str(bond._call("taxAccount"))
        if to_checksum_address(current_account) == to_checksum_address(account):
            setup.unchanged.append("tax account")
        else:
            bond._transact(signer, "setTaxAccount", to_checksum_address(account))
            setup.sent.append("tax account")
            say(f"tax account of {bond.code}: {to_checksum_address(account)}")
    return setup
