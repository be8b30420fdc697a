"""A random walk over a bond (hypothesis RuleBasedStateMachine): mints, transfers between
eligible and ineligible wallets, wallet freezes, partial freezes, forced transfers, recoveries,
registry suspensions and KYC expiries, pauses.

A Python model predicts every outcome independently (the restriction code of each mint, transfer
and forced transfer, the freeze errors, recovery's checks) and keeps the balances, frozen amounts
and wallet freezes. After every step:

* the chain's balances, frozen amounts and wallet freezes equal the model's;
* total supply == the sum of the balances of all wallets involved;
* holderCount == the number of wallets with a non-zero balance (or of investors, per investor),
  and per-investor totals equal the sum of the investor's wallets;
* frozen amounts never exceed the balance, and change only through freezeTokens /
  unfreezeTokens / forcedTransfer / recoverWallet;
* no transfer or mint that detectTransferRestriction refuses succeeds, and every one it allows
  succeeds (and its code is the one the model predicts).

The chain is reset between examples with a snapshot taken in the machine's constructor and
reverted in its teardown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, ClassVar

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from web3.contract import Contract

from munibond.exceptions import RevertError

from .helpers import (
    GAS,
    YEAR,
    ZERO,
    Investor,
    Platform,
    account_slot,
    decode_error,
    fast_call,
    investor_units_slot,
    raw_storage,
    unpack_account,
)

UNIT = 1_000
MAX_BALANCE = 12_000
MAX_HOLDERS = 3
ISSUE_VOLUME = 40_000
ALLOWED_CLASSES = (1 << 1) | (1 << 2)
PREFECTURE = 28

WALLETS = ("a1", "a2", "bob", "carol", "dave", "erin", "grace",  # eligible (a1, a2: investor 1)
           "tokyo", "us", "expired", "suspended", "qii", "outsider")  # not
ELIGIBLE = WALLETS[:7]
RECIPIENTS = (*WALLETS, "zero", "bond")

# biased towards what can succeed (eligible wallets, whole trading units), so that balances
# build up and the limits are reached; the rest keeps every refusal in play
_eligible = st.sampled_from(ELIGIBLE)
wallets = st.one_of(_eligible, _eligible, st.sampled_from(WALLETS))
recipients = st.one_of(_eligible, _eligible, st.sampled_from(RECIPIENTS))
_units = st.integers(0, 12).map(lambda k: k * UNIT)
amounts = st.one_of(_units, _units, _units, st.integers(0, 40).map(lambda k: k * 500),
                    st.integers(0, 35_000))
amount_kinds = st.sampled_from(["value", "value", "all", "free"])


@dataclass
class Model:
    per_investor: bool
    records: dict[str, Investor]
    balance: dict[str, int] = field(default_factory=dict)
    frozen: dict[str, int] = field(default_factory=dict)
    wallet_frozen: dict[str, bool] = field(default_factory=dict)
    paused: bool = False
    supply: int = 0

    def __post_init__(self) -> None:
        for w in WALLETS:
            self.balance[w] = 0
            self.frozen[w] = 0
            self.wallet_frozen[w] = False

    # -- registry --------------------------------------------------------------------------

    def rec(self, w: str) -> Investor | None:
        return self.records.get(w)

    def units(self, investor_id: int) -> int:
        return sum(self.balance[w] for w in WALLETS
                   if (r := self.rec(w)) is not None and r.investorId == investor_id)

    def holders(self) -> int:
        if self.per_investor:
            ids = {r.investorId for w in WALLETS if (r := self.rec(w)) is not None}
            return sum(1 for i in ids if self.units(i) > 0)
        return sum(1 for w in WALLETS if self.balance[w] > 0)

    # -- rules -----------------------------------------------------------------------------

    @staticmethod
    def attributes(r: Investor) -> int:
        if not (ALLOWED_CLASSES >> r.investorClass) & 1:
            return 10
        if r.country != 392:
            return 11
        if r.region == 0 or r.region // 10_000 != PREFECTURE:
            return 12
        return 0

    def limits(self, frm: str | None, to: str, value: int) -> int:
        rt = self.rec(to)
        assert rt is not None
        if self.per_investor:
            rf = self.rec(frm) if frm else None
            if rf is not None and rf.investorId == rt.investorId:
                return 0
            to_held = self.units(rt.investorId)
            from_held = self.units(rf.investorId) if rf is not None else 0
        else:
            to_held = self.balance[to]
            from_held = self.balance[frm] if frm else 0
        if to_held + value > MAX_BALANCE:
            return 13
        if to_held == 0 and value != 0 and from_held != value and self.holders() >= MAX_HOLDERS:
            return 14
        return 0

    def transfer_code(self, frm: str, to: str, value: int, now: int) -> int:
        if self.paused:
            return 1
        if to in ("zero", "bond"):
            return 21
        rf, rt = self.rec(frm), self.rec(to)
        if rf is None:
            return 4
        if rt is None:
            return 5
        if rf.flags & 1:
            return 8
        if rt.flags & 1:
            return 9
        if rf.kycValidUntil <= now:
            return 6
        if rt.kycValidUntil <= now:
            return 7
        if self.wallet_frozen[frm]:
            return 17
        if self.wallet_frozen[to]:
            return 18
        if value % UNIT:
            return 16
        if value > self.balance[frm]:
            return 20
        if value > self.balance[frm] - self.frozen[frm]:
            return 19
        code = self.attributes(rt)
        if code or frm == to:
            return code
        return self.limits(frm, to, value)

    def mint_code(self, to: str, value: int, now: int) -> int:
        if self.paused:
            return 1
        if to in ("zero", "bond"):
            return 21
        rt = self.rec(to)
        if rt is None:
            return 5
        if rt.flags & 1:
            return 9
        if rt.kycValidUntil <= now:
            return 7
        if self.wallet_frozen[to]:
            return 18
        if value % UNIT:
            return 16
        if self.supply + value > ISSUE_VOLUME:
            return 22
        return self.attributes(rt) or self.limits(None, to, value)

    def forced_code(self, frm: str, to: str, value: int, now: int) -> int:
        if to in ("zero", "bond") or to == frm:
            return 21
        rt = self.rec(to)
        if rt is None:
            return 5
        if rt.flags & 1:
            return 9
        if rt.kycValidUntil <= now:
            return 7
        if self.wallet_frozen[to]:
            return 18
        if value % UNIT:
            return 16
        if value > self.balance[frm]:
            return 20
        return self.attributes(rt)

    # -- effects ---------------------------------------------------------------------------

    def move(self, frm: str, to: str, value: int, forced: bool) -> None:
        if frm == to:
            return
        self.balance[frm] -= value
        self.balance[to] += value
        if forced and self.frozen[frm] > self.balance[frm]:
            self.frozen[frm] = self.balance[frm]


class BondMachine(RuleBasedStateMachine):
    """Drives one of two bonds (per wallet / per investor), chosen by the first step."""

    platform: ClassVar[Platform]
    bonds: ClassVar[dict[bool, Contract]]

    def __init__(self) -> None:
        super().__init__()
        p = self.platform
        self.p = p
        self.snapshot = p.chain.snapshot()
        self.address = {w: p[w].address for w in WALLETS}
        self.address["zero"] = ZERO
        self.model: Model
        self.bond: Contract
        self.steps = 0

    def teardown(self) -> None:
        try:
            if hasattr(self, "bond"):
                self.check_through_the_abi()
        finally:
            self.p.chain.revert(self.snapshot)

    @initialize(per_investor=st.booleans())
    def choose_bond(self, per_investor: bool) -> None:
        self.bond = self.bonds[per_investor]
        self.address["bond"] = self.bond.address
        records = {w: Investor(**vars(r)) for w, r in self.p.records.items() if w in WALLETS}
        self.model = Model(per_investor=per_investor, records=records)

    # -- helpers ---------------------------------------------------------------------------

    def now(self) -> int:
        """The timestamp calls at "latest" run at (the model's clock for KYC)."""
        return self.p.chain.now()

    def detect(self, frm: str, to: str, value: int) -> int:
        fn = self.bond.functions.detectTransferRestriction(frm, self.address[to], value)
        return int(fast_call(self.p.chain, fn))

    def send(self, signer: Any, fn: Any) -> tuple[bool, Any]:
        """Mine ``fn`` (no pre-check): (True, receipt) or (False, decoded error)."""
        try:
            return True, self.p.chain.transact(signer, fn, gas=GAS, precheck=False)
        except RevertError as error:
            return False, decode_error(error.data)

    def expect_restriction(self, ok: bool, result: Any, code: int, frm: str, to: str,
                           value: int) -> None:
        if code == 0:
            assert ok, f"allowed by the check but failed: {result}"
            return
        assert not ok, f"refused with code {code} by the check but it succeeded"
        assert result.name == "TransferRestricted", result
        assert result.values == (code, self.address.get(frm, ZERO) if frm else ZERO,
                                 self.address[to], value), result

    def pick(self, kind: str, frm: str, value: int) -> int:
        if kind == "all":
            return self.model.balance[frm]
        if kind == "free":
            return self.model.balance[frm] - self.model.frozen[frm]
        return value

    # -- rules -----------------------------------------------------------------------------

    @rule(to=recipients, value=amounts)
    def mint(self, to: str, value: int) -> None:
        self._mint(to, value)

    @rule(to=_eligible, units=st.integers(1, 13))
    def allot(self, to: str, units: int) -> None:
        self._mint(to, units * UNIT)

    @rule(to=_eligible, units=st.integers(1, 6))
    def allot_small(self, to: str, units: int) -> None:
        self._mint(to, units * UNIT)

    def _mint(self, to: str, value: int) -> None:
        now = self.now()
        expected = self.model.mint_code(to, value, now)
        detected = self.detect(ZERO, to, value)
        assert detected == expected, f"mint to {to} of {value}: detect {detected}, model {expected}"
        event(f"mint: code {detected}")
        ok, result = self.send(self.p.issuer, self.bond.functions.mint(self.address[to], value))
        self.expect_restriction(ok, result, detected, "", to, value)
        if ok:
            self.model.balance[to] += value
            self.model.supply += value

    @rule(frm=wallets, to=recipients, kind=amount_kinds, value=amounts)
    def transfer(self, frm: str, to: str, kind: str, value: int) -> None:
        value = self.pick(kind, frm, value)
        now = self.now()
        expected = self.model.transfer_code(frm, to, value, now)
        detected = self.detect(self.address[frm], to, value)
        assert detected == expected, (
            f"{frm} -> {to} of {value}: detect {detected}, model {expected}")
        event(f"transfer: code {detected}")
        ok, result = self.send(self.p[frm], self.bond.functions.transfer(self.address[to], value))
        self.expect_restriction(ok, result, detected, frm, to, value)
        if ok:
            self.model.move(frm, to, value, forced=False)

    @rule(frm=wallets, to=recipients, kind=amount_kinds, value=amounts)
    def forced_transfer(self, frm: str, to: str, kind: str, value: int) -> None:
        value = self.pick(kind, frm, value)
        expected = self.model.forced_code(frm, to, value, self.now())
        event(f"forced: code {expected}")
        fn = self.bond.functions.forcedTransfer(self.address[frm], self.address[to], value,
                                                "court order")
        ok, result = self.send(self.p.agent, fn)
        self.expect_restriction(ok, result, expected, frm, to, value)
        if ok:
            self.model.move(frm, to, value, forced=True)

    @rule(pair=st.one_of(st.sampled_from([("a1", "a2"), ("a2", "a1")] * 3 + [("a1", "a1")]),
                         st.tuples(wallets, recipients)))
    def recover(self, pair: tuple[str, str]) -> None:
        lost, new = pair
        m = self.model
        rl, rn = m.rec(lost), m.rec(new) if new in m.records else None
        fn = self.bond.functions.recoverWallet(self.address[lost], self.address[new], "lost key")
        ok, result = self.send(self.p.agent, fn)
        if rl is None or rn is None or rl.investorId != rn.investorId:
            assert not ok and result.name == "NotSameInvestor", result
            return
        code = 21 if lost == new else (9 if rn.flags & 1 else (7 if rn.kycValidUntil <= self.now()
                                                                else 0))
        event(f"recovery: code {code}")
        self.expect_restriction(ok, result, code, lost, new, m.balance[lost])
        if ok:
            m.balance[new] += m.balance[lost]
            m.frozen[new] += m.frozen[lost]
            m.wallet_frozen[new] = m.wallet_frozen[new] or m.wallet_frozen[lost]
            m.balance[lost] = m.frozen[lost] = 0
            m.wallet_frozen[lost] = False

    @rule(w=wallets, frozen=st.booleans())
    def set_wallet_frozen(self, w: str, frozen: bool) -> None:
        ok, result = self.send(self.p.agent,
                               self.bond.functions.setWalletFrozen(self.address[w], frozen))
        if self.model.wallet_frozen[w] == frozen:
            assert not ok and result.name == "AlreadyInState", result
        else:
            assert ok, result
            self.model.wallet_frozen[w] = frozen

    @rule(w=wallets, value=amounts, everything_free=st.booleans())
    def freeze_tokens(self, w: str, value: int, everything_free: bool) -> None:
        m = self.model
        free = m.balance[w] - m.frozen[w]
        if everything_free:
            value = free
        ok, result = self.send(self.p.agent, self.bond.functions.freezeTokens(self.address[w],
                                                                              value))
        if value == 0 or value > free:
            assert not ok and result.name == "FreezeAmountInvalid", result
            assert result.values == (self.address[w], value, free)
        else:
            assert ok, result
            m.frozen[w] += value

    @rule(w=wallets, value=amounts, everything=st.booleans())
    def unfreeze_tokens(self, w: str, value: int, everything: bool) -> None:
        m = self.model
        if everything:
            value = m.frozen[w]
        ok, result = self.send(self.p.agent, self.bond.functions.unfreezeTokens(self.address[w],
                                                                                value))
        if value == 0 or value > m.frozen[w]:
            assert not ok and result.name == "FreezeAmountInvalid", result
            assert result.values == (self.address[w], value, m.frozen[w])
        else:
            assert ok, result
            m.frozen[w] -= value

    @rule(w=st.sampled_from(ELIGIBLE), suspended=st.sampled_from([True, False, False]))
    def registrar_suspends(self, w: str, suspended: bool) -> None:
        ok, result = self.send(self.p.registrar,
                               self.p.registry.functions.setSuspended(self.address[w], suspended))
        assert ok, result
        r = self.model.records[w]
        r.flags = (r.flags | 1) if suspended else (r.flags & ~1)

    @rule(w=st.sampled_from(ELIGIBLE), expired=st.sampled_from([True, False, False]))
    def kyc_changes(self, w: str, expired: bool) -> None:
        until = 1 if expired else self.p.t0 + 10 * YEAR
        ok, result = self.send(self.p.registrar,
                               self.p.registry.functions.setKycValidUntil(self.address[w], until))
        assert ok, result
        self.model.records[w].kycValidUntil = until

    @rule()
    def amend_to_the_same_rules(self) -> None:
        """From here on the rules are read from storage instead of the clone's code (another
        code path for every evaluation), with the same meaning: the model does not change."""
        rules = self.bond.functions.rules().call()
        ok, result = self.send(self.p.admin, self.bond.functions.amendRules(rules))
        assert ok, result
        event("rules amended")

    @rule(chance=st.integers(0, 3))
    def toggle_pause(self, chance: int) -> None:
        if not self.model.paused and chance:
            return  # pause now and then; unpause at the next chance
        fn = self.bond.functions.unpause() if self.model.paused else self.bond.functions.pause()
        ok, result = self.send(self.p.pauser, fn)
        assert ok, result
        self.model.paused = not self.model.paused

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def chain_matches_the_model(self) -> None:
        if not hasattr(self, "bond"):
            return
        chain, bond, m = self.p.chain, self.bond.address, self.model
        state = raw_storage(chain, bond, 0)
        supply, holders = state & ((1 << 128) - 1), (state >> 128) & 0xFFFFFFFF
        accounts = {w: unpack_account(raw_storage(chain, bond, account_slot(self.address[w])))
                    for w in WALLETS}
        # conservation and holder count, from the chain's own numbers
        assert supply == sum(a[0] for a in accounts.values())
        if m.per_investor:
            ids = {r.investorId for r in m.records.values()}
            held = {i: sum(accounts[w][0] for w in WALLETS
                           if m.records.get(w) and m.records[w].investorId == i) for i in ids}
            for i, units in held.items():
                assert raw_storage(chain, bond, investor_units_slot(i)) == units, i
            assert holders == sum(1 for units in held.values() if units > 0)
        else:
            assert holders == sum(1 for a in accounts.values() if a[0] > 0)
        for w, (balance, frozen, wallet_frozen) in accounts.items():
            assert frozen <= balance, w
            assert (balance, frozen, wallet_frozen) == (
                m.balance[w], m.frozen[w], m.wallet_frozen[w]), w
        assert supply == m.supply and holders == m.holders()

    def check_through_the_abi(self) -> None:
        """The same numbers through the bond's own views, once per example."""
        chain, f, m = self.p.chain, self.bond.functions, self.model
        assert fast_call(chain, f.totalSupply()) == m.supply
        assert fast_call(chain, f.holderCount()) == m.holders()
        assert fast_call(chain, f.paused()) == m.paused
        for w in WALLETS:
            assert fast_call(chain, f.accountOf(self.address[w])) == (
                m.balance[w], m.frozen[w], m.wallet_frozen[w])
            assert fast_call(chain, f.balanceOf(self.address[w])) == m.balance[w]


def test_random_walk_keeps_the_invariants(p: Platform) -> None:
    common: dict[str, Any] = {"maxBalance": MAX_BALANCE, "maxHolders": MAX_HOLDERS,
                              "tradingUnit": UNIT, "allowedClasses": ALLOWED_CLASSES,
                              "regions": [PREFECTURE]}
    BondMachine.platform = p
    BondMachine.bonds = {
        False: p.make_bond(p.rules(**common), issueVolume=ISSUE_VOLUME),
        True: p.make_bond(p.rules(perInvestor=True, **common), issueVolume=ISSUE_VOLUME),
    }
    run_state_machine_as_test(BondMachine, settings=settings(
        max_examples=25, stateful_step_count=30, deadline=None,
        # a failure is reported as found: shrinking a 30-step run on a chain can take many
        # minutes; set MUNIBOND_SHRINK=1 to shrink it to a minimal example
        phases=list(Phase) if os.environ.get("MUNIBOND_SHRINK") else
        [Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow]))
