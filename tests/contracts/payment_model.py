"""An independent model of a bond's payment periods (record-date entitlement, funding, coupons net
of withholding tax, principal, redemption, dust), for the stateful test in
``test_payment_model.py``.

The model is built only from the schedule terms the test sets and from what the test does: it
keeps the balances itself, so it knows who held how many units at each record time (the units
held at the first moment ``timestamp >= recordTime``; a balance change in a block at exactly the
record time comes after the record), and derives every entitlement, every payment and every
amount of funding from the arithmetic of the payment terms:

* coupon of ``u`` units = floor(u x couponPerUnit / 10^divExp) rounding units x 10^payExp,
  principal likewise, each floored on its own;
* national tax = floor(coupon x national / 100000), local likewise (in rounding units);
  net = coupon - national - local + principal;
* a period needs (floor(S x coupon / 10^d) + floor(S x principal / 10^d)) x 10^payExp with S the
  supply at its record time (today's supply before it).

Where the terms leave a choice, the model says:

* a recovery moves what the lost wallet is owed to the new wallet; two holdings of the same record
  time then make one entitlement (floored once), as the units add up;
* after the claim window (unclaimed funds returned) an entitlement lapses when the holder is next
  paid; the final period's units are burned all the same (redeemed for nothing);
* a frozen wallet is not paid: a claim reverts, a push batch reports it (PaymentFailed) even when
  nothing is owed;
* periods are paid in order: the first owed period not payable (not due, not funded) stops it.

It never reads the contract's views of entitlements or funding (the test compares those with the
model, never the other way round). Pure Python: no chain here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RATE_SCALE = 100_000


@dataclass(frozen=True)
class Period:
    record: int
    payment: int
    coupon: int  # per unit of face, scaled by 10^divExp (with the token's decimals)
    principal: int
    final: bool


@dataclass
class Entitlement:
    """Units a wallet held at a period's record time (after recoveries: the wallet that now owns
    them; two open entitlements of one wallet to one period are merged, as the units are)."""

    wallet: str
    period: int
    units: int
    state: str = "open"  # open | paid | forfeited
    coupon: int = 0  # rounding units, once paid (gross)
    principal: int = 0


@dataclass(frozen=True)
class Paid:
    period: int
    units: int
    coupon: int  # rounding units
    national: int
    local: int
    principal: int


@dataclass
class PayPlan:
    """What paying ``holder`` now does, as the model sees it (nothing applied yet)."""

    holder: str
    paid: list[Paid] = field(default_factory=list)
    forfeited: list[tuple[int, int]] = field(default_factory=list)  # (period, units)
    redeemed: bool = False  # the final period was paid (or lapsed) on units held at its record
    burn: int = 0  # units burned by the redemption
    net: int = 0  # settlement units sent to the holder
    #: the first owed period that is not payable: ("NotYetPayable", p, paymentTime) or
    #: ("PeriodNotFunded", p)
    stop: tuple[object, ...] | None = None
    #: a definite error of the whole payment: (name, *args)
    error: tuple[object, ...] | None = None
    #: nothing owed at all: which error says so depends on the periods the contract walks with
    #: 0 units held (NothingOwed, or NotYetPayable / PeriodNotFunded of such a period)
    nothing_owed: bool = False

    @property
    def periods(self) -> int:
        return len(self.paid) + len(self.forfeited)


class PaymentModel:
    def __init__(self, periods: list[Period], *, div_exp: int, pay_exp: int, claim_window: int,
                 maturity: int, rates: dict[int, tuple[int, int]], category: dict[str, int],
                 wallets: list[str]) -> None:
        self.periods = periods
        self.div = int(10**div_exp)
        self.unit = int(10**pay_exp)
        self.claim_window = claim_window
        self.maturity = maturity
        self.rates = dict(rates)  # per tax category: (national, local), in 0.001%
        self.category = category
        self.wallets = list(wallets)
        self.balance = dict.fromkeys(self.wallets, 0)
        self.frozen = dict.fromkeys(self.wallets, 0)
        self.wallet_frozen = dict.fromkeys(self.wallets, False)
        self.blocked = dict.fromkeys(self.wallets, False)  # by the settlement token
        self.received = dict.fromkeys(self.wallets, 0)  # settlement units paid to each wallet
        self.supply = 0
        self.closed = False
        self.recorded = 0
        n = len(periods)
        self.supply_at_record: list[int | None] = [None] * n
        self.entitlements: list[list[Entitlement]] = [[] for _ in range(n)]
        self.funded = [0] * n  # settlement units paid in
        self.funded_flag = [False] * n
        self.swept = [False] * n
        #: the rates a period keeps once the rates changed while it was payable
        self.fixed_rates: list[dict[int, tuple[int, int]] | None] = [None] * n
        self.coupon_paid = [0] * n  # settlement units, gross
        self.national_paid = [0] * n
        self.local_paid = [0] * n
        self.principal_paid = [0] * n
        self.remitted = [0] * n
        self.returned = [0] * n
        self.burned = 0

    # -- time -----------------------------------------------------------------------------------

    def advance(self, now: int) -> list[int]:
        """Records every period whose record time is <= ``now`` with the balances as they are
        (call it with a transaction's block time before applying the transaction)."""
        done = []
        while self.recorded < len(self.periods) and self.periods[self.recorded].record <= now:
            p = self.recorded
            self.supply_at_record[p] = self.supply
            for w in self.wallets:
                if self.balance[w]:
                    self.entitlements[p].append(Entitlement(w, p, self.balance[w]))
            self.recorded += 1
            done.append(p)
        return done

    def final_recorded(self) -> bool:
        return self.recorded == len(self.periods)

    # -- arithmetic ------------------------------------------------------------------------------

    def amounts(self, p: int, units: int) -> tuple[int, int]:
        """(coupon, principal) of ``units`` held at period p's record time, in rounding units."""
        per = self.periods[p]
        return units * per.coupon // self.div, units * per.principal // self.div

    def taxes(self, wallet: str, p: int, coupon: int) -> tuple[int, int]:
        rates = self.fixed_rates[p] or self.rates
        national, local = rates.get(self.category[wallet], (0, 0))
        return coupon * national // RATE_SCALE, coupon * local // RATE_SCALE

    def payable(self, p: int, now: int) -> bool:
        return self.funded_flag[p] and not self.swept[p] and now >= self.periods[p].payment

    def set_rates(self, category: int, national: int, local: int, now: int) -> list[int]:
        """Changes a category's rates; the periods payable now keep the rates before the change
        (all categories'). Returns the periods whose rates it fixes."""
        fixed = []
        for p in range(len(self.periods)):
            if self.fixed_rates[p] is None and self.payable(p, now):
                self.fixed_rates[p] = dict(self.rates)
                fixed.append(p)
        self.rates[category] = (national, local)
        return fixed

    def supply_for(self, p: int) -> int:
        s = self.supply_at_record[p]
        return self.supply if s is None else s

    def required(self, p: int) -> int:
        coupon, principal = self.amounts(p, self.supply_for(p))
        return (coupon + principal) * self.unit

    def open_entitlements(self, wallet: str) -> list[Entitlement]:
        return [e for p in range(self.recorded) for e in self.entitlements[p]
                if e.wallet == wallet and e.state == "open"]

    def owed_value(self, p: int) -> int:
        """Settlement units still owed to holders for period p (open entitlements)."""
        total = 0
        for e in self.entitlements[p]:
            if e.state == "open":
                coupon, principal = self.amounts(p, e.units)
                total += (coupon + principal) * self.unit
        return total

    def floored_entitlements(self, p: int) -> int:
        """Sum over the holders of their floored entitlements (paid, owed or forfeited)."""
        total = 0
        for e in self.entitlements[p]:
            coupon, principal = self.amounts(p, e.units)
            total += (coupon + principal) * self.unit
        return total

    def net_paid(self, p: int) -> int:
        return (self.coupon_paid[p] - self.national_paid[p] - self.local_paid[p]
                + self.principal_paid[p])

    def withheld(self, p: int) -> int:
        return self.national_paid[p] + self.local_paid[p]

    def escrow(self, p: int) -> int:
        """What of period p's funding the bond should still hold."""
        return self.funded[p] - self.net_paid(p) - self.remitted[p] - self.returned[p]

    # -- balance changes -------------------------------------------------------------------------

    def transfer_code(self, frm: str, to: str, value: int, now: int) -> int:
        if self.closed:
            return 2
        if now >= self.maturity or self.final_recorded():
            return 3
        if self.wallet_frozen[frm]:
            return 17
        if self.wallet_frozen[to]:
            return 18
        if value > self.balance[frm]:
            return 20
        if value > self.balance[frm] - self.frozen[frm]:
            return 19
        return 0

    def mint_code(self, to: str, now: int) -> int:
        if self.closed:
            return 2
        if now >= self.maturity or self.final_recorded():
            return 3
        if self.wallet_frozen[to]:
            return 18
        return 0

    def forced_code(self, frm: str, to: str, value: int) -> int:
        if self.closed:
            return 2
        if frm == to:
            return 21
        if self.wallet_frozen[to]:
            return 18
        if self.final_recorded():
            return 3
        if value > self.balance[frm]:
            return 20
        return 0

    def recovery_code(self, lost: str, new: str) -> int:
        """The restriction code of a recovery (after the final record time only into a wallet
        that holds nothing, is not frozen and is owed nothing)."""
        if self.closed:
            return 2
        if lost == new:
            return 21
        used = (self.balance[new] or self.frozen[new] or self.wallet_frozen[new]
                or self.open_entitlements(new))
        return 21 if self.final_recorded() and used else 0

    def move(self, frm: str, to: str, value: int, *, forced: bool = False) -> None:
        if frm == to:
            return
        self.balance[frm] -= value
        self.balance[to] += value
        if forced and self.frozen[frm] > self.balance[frm]:
            self.frozen[frm] = self.balance[frm]

    def mint(self, to: str, value: int) -> list[int]:
        """Applies a mint; returns the periods whose funding it reopens (every period not yet
        recorded that was funded: it was funded for a smaller supply)."""
        self.balance[to] += value
        self.supply += value
        reopened = []
        if value:
            for p in range(self.recorded, len(self.periods)):
                if self.funded_flag[p]:
                    self.funded_flag[p] = False
                    reopened.append(p)
        return reopened

    def recover(self, lost: str, new: str) -> None:
        self.balance[new] += self.balance[lost]
        self.frozen[new] += self.frozen[lost]
        self.wallet_frozen[new] = self.wallet_frozen[new] or self.wallet_frozen[lost]
        self.balance[lost] = self.frozen[lost] = 0
        self.wallet_frozen[lost] = False
        for p in range(self.recorded):
            mine = [e for e in self.entitlements[p] if e.wallet == new and e.state == "open"]
            for e in [e for e in self.entitlements[p] if e.wallet == lost and e.state == "open"]:
                if mine:
                    mine[0].units += e.units
                    self.entitlements[p].remove(e)
                else:
                    e.wallet = new
                    mine = [e]

    # -- funding ---------------------------------------------------------------------------------

    def missing(self, p: int) -> int:
        """What funding period p still needs (0 when its requirement did not grow past what it
        has, e.g. a period of no units: it is then funded with 0)."""
        return max(0, self.required(p) - self.funded[p])

    def fund_outcome(self, p: int, amount: int) -> tuple[object, ...] | None:
        """None when ``fund(p, amount)`` succeeds, else the error (name, *args)."""
        if self.swept[p]:
            return ("PeriodSwept", p)
        if self.funded_flag[p]:
            return ("AlreadyFunded", p)
        if amount != self.missing(p):
            return ("WrongFundingAmount", p, self.missing(p), amount)
        return None

    def fund(self, p: int, amount: int) -> None:
        self.funded[p] += amount
        self.funded_flag[p] = True

    def remit_outcome(self, p: int) -> tuple[tuple[object, ...] | None, int]:
        amount = self.withheld(p) - self.remitted[p]
        return (("NothingToRemit", p) if amount == 0 else None), amount

    def return_outcome(self, p: int, now: int) -> tuple[tuple[object, ...] | None, int]:
        if self.swept[p]:
            return ("PeriodSwept", p), 0
        if not self.funded_flag[p]:  # never fully funded: its holders stay owed
            return ("NotFunded", p), 0
        closes = self.periods[p].payment + self.claim_window
        if now < closes:
            return ("ClaimWindowOpen", p, closes), 0
        return None, self.funded[p] - self.coupon_paid[p] - self.principal_paid[p]

    def sweep(self, p: int, amount: int) -> None:
        self.swept[p] = True
        self.returned[p] += amount

    # -- paying ----------------------------------------------------------------------------------

    def plan(self, holder: str, now: int) -> PayPlan:
        """Pays ``holder`` every payable period it is owed, in period order, stopping at the first
        one not payable (not yet due or not funded); swept periods lapse."""
        plan = PayPlan(holder)
        if self.wallet_frozen[holder]:
            plan.error = ("PaymentWaitsForUnfreeze", holder)
            return plan
        owed = self.open_entitlements(holder)
        plan.nothing_owed = not owed
        for e in owed:
            per = self.periods[e.period]
            if self.swept[e.period]:
                # the claim window closed: the entitlement lapses (the final period's units are
                # redeemed all the same: burned, for nothing)
                plan.forfeited.append((e.period, e.units))
                plan.redeemed = plan.redeemed or per.final
                continue
            if now < per.payment:
                plan.stop = ("NotYetPayable", e.period, per.payment)
                break
            if not self.funded_flag[e.period]:
                plan.stop = ("PeriodNotFunded", e.period)
                break
            coupon, principal = self.amounts(e.period, e.units)
            national, local = self.taxes(holder, e.period, coupon) if coupon else (0, 0)
            plan.paid.append(Paid(e.period, e.units, coupon, national, local, principal))
            plan.net += (coupon - national - local + principal) * self.unit
            if per.final:
                plan.redeemed = True
        if plan.redeemed:
            plan.burn = self.balance[holder]
            if plan.burn and self.frozen[holder]:
                plan.error = ("RedemptionWaitsForUnfreeze", holder, self.frozen[holder])
                return plan
        if plan.net and self.blocked[holder]:
            plan.error = ("SettlementTransferFailed", holder, plan.net)
        return plan

    def apply(self, plan: PayPlan) -> None:
        assert plan.error is None
        h = plan.holder
        by_period = {e.period: e for e in self.open_entitlements(h)}
        for paid in plan.paid:
            e = by_period[paid.period]
            e.state, e.coupon, e.principal = "paid", paid.coupon, paid.principal
            self.coupon_paid[paid.period] += paid.coupon * self.unit
            self.national_paid[paid.period] += paid.national * self.unit
            self.local_paid[paid.period] += paid.local * self.unit
            self.principal_paid[paid.period] += paid.principal * self.unit
        for p, _units in plan.forfeited:
            by_period[p].state = "forfeited"
        self.received[h] += plan.net
        if plan.burn:
            self.balance[h] -= plan.burn
            self.supply -= plan.burn
            self.burned += plan.burn
            if self.supply == 0 and self.final_recorded():
                self.closed = True
