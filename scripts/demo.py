#!/usr/bin/env python3
"""munibond in one run: a municipal bond's whole lifecycle on a local chain.

    make demo                  # or: .venv/bin/python scripts/demo.py

Starts its own anvil (zero gas, like a permissioned chain), deploys the platform, creates the
example Kobe City bond from its term sheet, onboards the example investors, allots, trades under
the bond's rules, shows the transfer agent's tools (freeze, forced transfer, wallet recovery) and
rebuilds the holder register from events. Then it runs the bond's life to maturity with time
travel: ten coupon periods paid by the bond itself (record dates, funding, claims and batch
payments, withholding tax and its remittance, a payee the settlement token refuses), the final
redemption that burns every unit and closes the bond, and a payment report (CSV) reconciled with
the register rebuilt at each record date. Everything happens on a throw-away chain whose clock
starts on 2026-12-01, with deployment records in a temporary directory, so it can be run any
number of times; anvil is stopped at the end, also on errors. The payment report is written to
reports/demo-payments.csv (--payments-csv PATH elsewhere). A failed step prints one line on
stderr and exits 1; MUNIBOND_DEBUG=1 adds the traceback.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, TextIO, cast

from eth_typing import HexStr
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from web3.logs import DISCARD

try:
    from munibond import codes
    from munibond.anvil import Anvil, start_anvil
    from munibond.bond import Bond
    from munibond.chain import Chain
    from munibond.deploy import bond_record_path, ensure_bond, ensure_platform, read_record
    from munibond.errors import call, transact
    from munibond.exceptions import AmountError, ContractRevert, TransferRestricted
    from munibond.investor_files import Investor, read_allotments, read_investors
    from munibond.ledger import history, holders, holders_at
    from munibond.payment_setup import ensure_payments
    from munibond.payments import PaymentLine, PaymentPeriod, PaymentReport
    from munibond.platform import Platform
    from munibond.registry import InvestorRecord
    from munibond.restrictions import Restriction
    from munibond.signers import Signer, dev_account, dev_accounts
    from munibond.termsheet import TermSheet, load_term_sheet
except ImportError as missing:  # pragma: no cover - a broken environment
    sys.exit(f"demo: cannot import munibond ({missing}): run `make venv`, then "
             f"`.venv/bin/python scripts/demo.py` (or `make demo`)")

if TYPE_CHECKING:
    from web3.contract import Contract
    from web3.types import TxReceipt

    from munibond.events import TxResult

ROOT: Final = Path(__file__).resolve().parent.parent
EXAMPLES: Final = ROOT / "examples"
TERM_SHEET: Final = EXAMPLES / "kobe-resident-bond-2026.yaml"
INVESTORS: Final = EXAMPLES / "investors.csv"
ALLOTMENTS: Final = EXAMPLES / "allotments.csv"

NETWORK: Final = "demo"
WIDTH: Final = 100
JST: Final = timezone(timedelta(hours=9), "JST")
#: the chain's first block: a fixed clock, so the run does not depend on today's date
GENESIS: Final = datetime(2026, 12, 1, tzinfo=UTC)
#: the investors' wallets are development accounts 10 and up (see examples/README.md)
FIRST_INVESTOR_ACCOUNT: Final = 10
DEV_ACCOUNTS_SEARCHED: Final = 40
#: refused allotment lines the example is built to have
EXPECTED_REFUSED_ALLOTMENTS: Final = 6
COURT_ORDER: Final = "Kobe District Court attachment order 2027 (ru) No. 118: transfer to creditor"
RECOVERY_REASON: Final = ("Lost phone reported by the investor; identity re-checked by the "
                          "registrar, ticket KYC-2027-0042")
AUDIT_EVENTS: Final = 10
CLASS_SHORT: Final = {"qualified_institutional": "qualified inst.", "public_entity": "public"}
FREQUENCY: Final = {0: "no coupon", 1: "annually", 2: "semi-annually", 4: "quarterly",
                    12: "monthly"}
#: the paying agent and the tax authority's account are development accounts 3 and 4
PAYING_AGENT_ACCOUNT: Final = 3
TAX_ACCOUNT: Final = 4
#: periods of the example's schedule: ten semi-annual coupons, the last with the redemption
EXPECTED_PERIODS: Final = 10
#: holders per payBatch transaction: small, so that a push takes a few batches
BATCH: Final = 4
#: withholding rates are integers in 0.001% (20.315% = 20315)
RATE_SCALE: Final = 100_000
#: gas of the transfers around a record time: the SDK's estimate, made at the latest block (before
#: the record time), is too little for the first transfer at or after it (about 47,000 x 1.2)
RECORD_TRANSFER_GAS: Final = 200_000
DEFAULT_PAYMENTS_CSV: Final = ROOT / "reports" / "demo-payments.csv"


class DemoError(Exception):
    """Something the demo is built to show did not happen as expected."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoError(message)


def short(address: str) -> str:
    """``0xBcd4…4096``."""
    return f"{address[:6]}…{address[-4:]}"


def jst(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def gas(receipt: TxReceipt | TxResult) -> str:
    return f"{int(receipt['gasUsed']):,}"


def floor(amount: Decimal) -> Decimal:
    """Down to a whole yen (the example's rounding unit)."""
    return amount.to_integral_value(rounding=ROUND_FLOOR)


def money(amount: Decimal) -> str:
    """A settlement amount without the token's 18 zero decimals: ``2,751``."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount.normalize():,f}"


@dataclass(frozen=True)
class Due:
    """What one holder of record is owed for one period, computed here, independently of the
    contract: from the register rebuilt from events at the record time, the term sheet's coupon
    rate and the term sheet's withholding rates."""

    wallet: str
    units: int
    face: Decimal
    category: int
    gross: Decimal
    national: Decimal
    local: Decimal
    principal: Decimal

    @property
    def tax(self) -> Decimal:
        return self.national + self.local

    @property
    def net(self) -> Decimal:
        return self.gross - self.tax + self.principal

    def matches(self, line: PaymentLine) -> bool:
        return (line.gross, line.national_tax, line.local_tax, line.principal, line.net) == (
            self.gross, self.national, self.local, self.principal, self.net)


@dataclass(frozen=True)
class Wallet:
    """An investor's wallet from investors.csv, with the development key that signs for it."""

    investor: Investor
    signer: Signer

    @property
    def address(self) -> str:
        return self.investor.wallet

    @property
    def label(self) -> str:
        return f"{self.investor.name or short(self.address)} ({self.investor.investor_id})"


class Demo:
    """The steps of the demo and what they share (chain, signers, platform, bond, investors)."""

    chain: Chain
    platform: Platform
    bond: Bond
    creation_block: int
    ts: TermSheet
    #: the coupon of a regular period per 1 JPY of face, from the term sheet: 0.620% / 2
    per_period: Decimal
    #: tax category -> (national, local) in 0.001%, from the term sheet
    rates: dict[int, tuple[int, int]]

    def __init__(self, console: Console, records: Path,
                 payments_csv: Path = DEFAULT_PAYMENTS_CSV) -> None:
        self.console = console
        self.records = records
        self.payments_csv = payments_csv
        self.anvil: Anvil | None = None
        self.admin = dev_account(0)
        self.registrar = dev_account(1)
        self.agent = dev_account(2)
        self.payer = dev_account(PAYING_AGENT_ACCOUNT)
        self.tax_office = dev_account(TAX_ACCOUNT).address
        #: every payment of the bond's life (claims and pushes), for the report
        self.life = PaymentReport()
        self.dust: dict[int, Decimal] = {}
        self.owed: dict[int, dict[str, Due]] = {}
        self.issued = Decimal(0)
        self.wallets: list[Wallet] = []
        self.labels: dict[str, str] = {}
        self.refusals = 0
        self.holder_count = 0
        self.events = 0
        self.current = "start-up"
        self.started = time.monotonic()
        self.blank = True

    # -- output --------------------------------------------------------------------------------

    def gap(self) -> None:
        """One blank line, unless the last thing printed ended with one."""
        if not self.blank:
            self.console.print()
            self.blank = True

    def heading(self, text: str) -> None:
        self.gap()
        self.console.rule(text, align="left")
        self.blank = False

    def explain(self, text: str) -> None:
        """What a step shows and why it matters."""
        self.console.print(Padding(text, (0, 0, 0, 2)), style="italic", highlight=False)
        self.blank = False
        self.gap()

    def say(self, text: str) -> None:
        self.console.print(Padding(text, (0, 0, 0, 2)), highlight=False)
        self.blank = False

    def ok(self, text: str) -> None:
        self.say(f"[green]✔[/green] {text}")

    def refused(self, text: str) -> None:
        self.refusals += 1
        self.say(f"[red]✘[/red] {text}")

    def table(self, *columns: str, title: str | None = None, right: Sequence[str] = (),
              wrap: Sequence[str] = ()) -> Table:
        """A borderless table; columns in ``right`` are right-aligned, and when ``wrap`` names
        columns, only those may wrap."""
        table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left",
                      title_style="bold", header_style="bold", show_edge=False, pad_edge=False,
                      padding=(0, 1))
        for column in columns:
            table.add_column(column, justify="right" if column in right else "left",
                             no_wrap=bool(wrap) and column not in wrap)
        return table

    def show(self, table: Table) -> None:
        self.gap()
        self.console.print(Padding(table, (0, 0, 0, 2)))
        self.blank = False
        self.gap()

    def label(self, address: str) -> str:
        return self.labels.get(address, short(address))

    def yen(self, amount: Decimal) -> str:
        return f"{amount:,} {self.bond.terms().currency_code}"

    def words(self, text: str) -> str:
        """A ledger summary with the addresses it names replaced by who they are."""
        for address, name in self.labels.items():
            text = text.replace(address, name)
        return text

    @staticmethod
    def code(found: Restriction) -> str:
        return f"{found.code} {found.name}"

    def on_chain_message(self, code: int) -> str:
        """The bond's own ERC-1404 ``messageForTransferRestriction(code)``."""
        function = self.bond.contract.functions.messageForTransferRestriction(code)
        return str(call(self.chain, function))

    def investor(self, investor_id: int, nth: int = 0) -> Wallet:
        found = [w for w in self.wallets if w.investor.investor_id == investor_id]
        expect(len(found) > nth, f"{INVESTORS.name} has no wallet #{nth + 1} of investor "
                                 f"{investor_id}, which the demo uses")
        return found[nth]

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> None:
        self.heading("[bold]munibond · a municipal bond's lifecycle on a local chain")
        self.say("The example is a fictitious Kobe City resident-participation bond "
                 "(examples/): 10,000 JPY bonds, 5 years, 0.620%, for residents of Hyogo "
                 "prefecture. Each step says what it shows and why it matters.")
        steps: list[tuple[str, Callable[[], None]]] = [
            ("Start a local chain and deploy the platform", self.step_platform),
            ("Create the bond from its term sheet", self.step_bond),
            ("Onboard investors (KYC register)", self.step_onboard),
            ("Primary allotment", self.step_allot),
            ("Secondary market under the bond's rules", self.step_trade),
            ("Transfer agent: freeze, forced transfer, wallet recovery", self.step_servicing),
            ("Holder register and audit trail, rebuilt from events", self.step_register),
            ("Payment terms on chain: coupon schedule and withholding", self.step_schedule),
            ("Coupon 1: record date, funding, claim, push, withholding", self.step_first_coupon),
            ("Coupons 2 to 9, six months apart", self.step_coupons),
            ("Maturity: the last coupon and the redemption; the bond closes",
             self.step_maturity),
            ("Payment report and reconciliation with the register", self.step_report),
        ]
        for number, (title, step) in enumerate(steps, start=1):
            self.current = f"step {number} ({title})"
            self.heading(f"[bold cyan]Step {number}/{len(steps)} · {escape(title)}")
            step()
        self.current = "the summary"
        self.summary()

    def close(self) -> None:
        if self.anvil is not None:
            self.anvil.stop()
            self.anvil = None

    # -- 1 -------------------------------------------------------------------------------------

    def step_platform(self) -> None:
        self.explain(
            "A municipality's bonds share one platform: an investor registry (who passed KYC), a "
            "factory that clones one bond implementation, and the settlement money (here a mock "
            "JPY stablecoin). The chain is a fresh anvil with free gas, as on a permissioned "
            "consortium chain; its clock starts on 2026-12-01.")
        self.anvil = start_anvil(extra_args=["--timestamp", str(int(GENESIS.timestamp()))])
        self.chain = self.anvil.connect()
        self.ok(f"anvil at {self.anvil.url}, chain id {self.chain.chain_id}, gas price 0 "
                f"(legacy transactions, signed locally)")
        self.labels = {self.admin.address: "acct 0", self.registrar.address: "acct 1",
                       self.agent.address: "acct 2", self.payer.address: "paying agent",
                       self.tax_office: "tax account"}
        self.platform = ensure_platform(self.chain, self.admin, NETWORK, settlement="auto",
                                        registrar=self.registrar.address, root=self.records,
                                        fresh=True, report=lambda _: None)
        table = self.table("part", "contract", "address", "gas used", right=("gas used",))
        total = 0
        for deployed in self.platform.addresses.deployments:
            # a contract another one's constructor creates (BondCoupons) has no gas of its own
            table.add_row(deployed.part.replace("_", " "), deployed.contract, deployed.address,
                          f"{deployed.gas_used:,}" if deployed.gas_used else "-")
            total += deployed.gas_used
        expect(total > 0, "the platform's deployments recorded no gas")
        table.add_row("", "", "[bold]total", f"[bold]{total:,}")
        self.show(table)
        self.say(f"The registry lives at the implementation's address; BondServicing's "
                 f"constructor creates BondCoupons (its gas is counted there). Records: "
                 f"{escape(str(self.records / NETWORK))}/platform.json (temporary).")

        roles = self.table("who", "account", "signs for")
        roles.add_row("admin, issuer, creator", f"0 {short(self.admin.address)}",
                      "deploys; creates and allots bonds")
        roles.add_row("registrar (KYC agent)", f"1 {short(self.registrar.address)}",
                      "registers investor wallets")
        roles.add_row("transfer agent", f"2 {short(self.agent.address)}",
                      "freezes, forced transfers, recoveries")
        roles.add_row("paying agent", f"{PAYING_AGENT_ACCOUNT} {short(self.payer.address)}",
                      "funds periods, pushes payments, remits tax")
        roles.add_row("tax authority", f"{TAX_ACCOUNT} {short(self.tax_office)}",
                      "receives the withheld tax (signs nothing)")
        roles.add_row("investors", f"{FIRST_INVESTOR_ACCOUNT} and up",
                      "their own transfers (they hold no ether: gas is free)")
        self.show(roles)

    # -- 2 -------------------------------------------------------------------------------------

    def step_bond(self) -> None:
        self.explain(
            "The issuer writes the bond's terms and eligibility rules in a YAML term sheet. It is "
            "validated before anything is sent (unknown keys, float amounts and bad dates are "
            "errors), then one factory call creates the bond as a cheap clone of the "
            "implementation. Terms and rules below are read back from the chain.")
        ts = self.ts = load_term_sheet(TERM_SHEET)
        self.per_period = ts.bond.coupon.rate / ts.bond.coupon.frequency
        self.rates = ts.withholding_rates()
        self.ok(f"{TERM_SHEET.relative_to(ROOT)}: valid")
        self.bond = ensure_bond(self.chain, self.admin, self.platform, TERM_SHEET, NETWORK,
                                root=self.records, report=lambda _: None)
        # the schedule must be on chain before the first unit is issued
        token = self.bond.terms().settlement_token
        setup = ensure_payments(self.bond, self.admin, ts, token=token,
                                paying_agent=self.payer.address)
        expect("schedule" in setup.sent and "paying agent" in setup.sent,
               f"ensure_payments did not write the schedule and the paying agent: sent "
               f"{setup.sent}")
        record = read_record(bond_record_path(NETWORK, ts.bond.code, self.records))
        receipt = self.chain.w3.eth.get_transaction_receipt(record["tx_hash"])
        self.creation_block = int(record["block"])
        implementation = self.platform.addresses.deployment("implementation")
        versus = (f" (deploying the implementation itself took {implementation.gas_used:,})"
                  if implementation is not None else "")
        self.ok(f"bond {ts.bond.code} created at {self.bond.address} by one factory call: "
                f"[bold]{gas(receipt)} gas[/bold]{versus}")
        self.bond.grant_role(self.admin, "transfer_agent", self.agent.address)
        self.ok("TRANSFER_AGENT_ROLE granted to account 2 (the term sheet names no roles, so the "
                "deployer holds them all)")
        self.ok(f"payment terms written before any unit exists (ensure_payments): the schedule of "
                f"{self.bond.coupons.terms().period_count} periods, PAYING_AGENT_ROLE to account "
                f"{PAYING_AGENT_ACCOUNT}, withholding rates of {len(self.rates)} tax categories "
                f"({len(setup.sent)} transactions)")

        terms = self.bond.terms()
        table = self.table("term", "value", title="Terms (from the chain)")
        table.add_row("code / ISIN / symbol", f"{terms.code} / {terms.isin} / {terms.symbol}")
        table.add_row("name", escape(terms.name))
        table.add_row("issuer", f"{escape(terms.issuer)} (JIS {ts.bond.issuer_code})")
        table.add_row("denomination / issue size",
                      f"{self.yen(terms.denomination)} per bond / {self.yen(terms.issue_volume)}")
        table.add_row("token", f"{terms.decimals} decimals: one base unit is "
                               f"{self.yen(self.bond.from_units(1))} of face")
        table.add_row("issue date / maturity",
                      f"{terms.issue_date.date()} / {terms.maturity_date.date()}")
        frequency = FREQUENCY.get(terms.coupon_frequency,
                                  f"{terms.coupon_frequency} times a year")
        table.add_row("coupon", f"{terms.coupon_rate * 100:.3f}% a year, paid {frequency}")
        table.add_row("redemption", f"at {terms.redemption_price}% of face")
        self.show(table)

        rules = self.bond.rules()
        scope = "per investor, all wallets" if rules.per_investor else "per wallet"
        table = self.table("rule", "value", title="Transfer rules (checked on every transfer)")
        table.add_row("trading unit", f"{self.yen(rules.trading_unit)}: any multiple can move")
        table.add_row("investor classes", ", ".join(
            codes.investor_class_name(c) for c in rules.allowed_classes) or "any")
        table.add_row("countries", f"{rules.country_mode}: " + ", ".join(
            codes.country_alpha2(c) for c in rules.countries))
        table.add_row("regions", ", ".join(
            f"{r} ({codes.PREFECTURES.get(r, '?')} prefecture)" if r < 100 else str(r)
            for r in rules.regions) or "anywhere")
        if rules.max_balance is not None:
            table.add_row("cap", f"{self.yen(rules.max_balance)} of face ({scope})")
        if rules.max_holders is not None:
            table.add_row("holders", f"at most {rules.max_holders:,} ({scope})")
        if rules.lockup_until is not None:
            table.add_row("lock-up", f"no transfers between investors before "
                                     f"{rules.lockup_until:%Y-%m-%d %H:%M} UTC")
        table.add_row("KYC", "every holder registered, not suspended, KYC not expired")
        self.show(table)

    # -- 3 -------------------------------------------------------------------------------------

    def step_onboard(self) -> None:
        self.explain(
            "The registrar registers each investor wallet with its KYC attributes: investor id "
            "(shared by a person's wallets), country, class, tax category, JIS code of residence "
            "and KYC expiry. The registry is shared by every bond of the platform; each bond "
            "applies its own rules to these records. Batches are chunked and idempotent.")
        keys: dict[str, Signer] = {str(s.address): s for s in dev_accounts(DEV_ACCOUNTS_SEARCHED)}
        for item in read_investors(INVESTORS):
            signer = keys.get(item.wallet)
            if signer is None:
                raise DemoError(f"{INVESTORS.name} line {item.line}: {item.wallet} is not one of "
                                f"the development accounts the demo can sign for")
            self.wallets.append(Wallet(item, signer))
            self.labels[item.wallet] = Wallet(item, signer).label
        registry = self.platform.registry
        receipts = registry.register_many(
            self.registrar, [(w.address, InvestorRecord.from_csv(w.investor))
                             for w in self.wallets], chunk_size=10)

        table = self.table("id", "name", "wallet", "class", "residence", "KYC until", "ok",
                           wrap=("name",))
        for wallet in self.wallets:
            expect(registry.investor(wallet.address) is not None,
                   f"{wallet.address} is not registered after onboarding")
            item = wallet.investor
            prefecture = codes.PREFECTURES.get(item.region // 10000, "") if item.region else ""
            residence = f"{item.country_code} {item.region or ''} {prefecture}".strip()
            kind = CLASS_SHORT.get(item.investor_class_name, item.investor_class_name)
            verified = registry.is_verified(wallet.address)
            table.add_row(str(item.investor_id), escape(item.name), short(wallet.address), kind,
                          residence, str(item.kyc_valid_until),
                          "[green]yes[/green]" if verified else "[red]no[/red]")
        self.show(table)
        self.say("ok: registered, not suspended and KYC valid now (registry.is_verified). "
                 "Residence: country and JIS local-government code.")
        people = len({w.investor.investor_id for w in self.wallets})
        self.ok(f"{len(self.wallets)} wallets of {people} investors registered in "
                f"{len(receipts)} transactions of at most 10 (gas "
                f"{', '.join(gas(r) for r in receipts)})")
        self.say("Every line is valid input: the Osaka and US residents, the expired KYC and the "
                 "bank are refused by the bond's rules, not by the registry.")

    # -- 4 -------------------------------------------------------------------------------------

    def step_allot(self) -> None:
        self.explain(
            "The issuer allots the bond on its issue date. Every line is pre-checked with the "
            "bond's own ERC-1404 function (detectTransferRestriction), so refused lines are "
            "reported with a code and a reason before anything is sent; the rest are minted in "
            "one batch.")
        issue = self.bond.terms().issue_date + timedelta(hours=1)
        self.chain.set_next_timestamp(int(issue.timestamp()))
        self.chain.mine()
        self.ok(f"chain clock set to the issue date: {jst(issue)}")
        lines = read_allotments(ALLOTMENTS, decimals=self.bond.decimals,
                                unit=self.bond.rules().trading_unit_units)
        table = self.table("line", "to", "amount", "pre-check (check_mint)", right=("amount",),
                           wrap=("to",))
        accepted: list[tuple[str, Decimal]] = []
        refused: list[tuple[int, str, Decimal, Restriction]] = []
        for line in lines:
            verdict = self.bond.check_mint(line.wallet, line.amount)
            if verdict.ok:
                accepted.append((line.wallet, line.amount))
                shown = "[green]ok[/green]"
            else:
                refused.append((line.line, line.wallet, line.amount, verdict))
                self.refusals += 1
                shown = f"[red]REFUSED code {self.code(verdict)}[/red]"
            table.add_row(str(line.line), escape(self.label(line.wallet)), f"{line.amount:,}",
                          shown)
        self.show(table)
        expect(len(refused) == EXPECTED_REFUSED_ALLOTMENTS,
               f"{ALLOTMENTS.name}: {len(refused)} lines refused, the example is built to have "
               f"{EXPECTED_REFUSED_ALLOTMENTS}")

        reasons = self.table("code", "messageForTransferRestriction(code), asked of the bond",
                             title="Why: the bond's own words for each code (ERC-1404)")
        for verdict in sorted({r[3] for r in refused}, key=lambda r: r.code):
            message = self.on_chain_message(verdict.code)
            expect(message == verdict.message, f"the bond's message for code {verdict.code} is "
                                               f"{message!r}, the SDK's {verdict.message!r}")
            reasons.add_row(self.code(verdict), escape(message))
        self.show(reasons)

        number, wallet, amount, _ = refused[0]
        try:
            self.bond.mint(self.admin, wallet, amount)
        except TransferRestricted as error:
            self.refused(f"minting line {number} anyway: the SDK refuses before sending: "
                         f"{escape(str(error))}")
        else:
            raise DemoError(f"minting {ALLOTMENTS.name} line {number} was not refused")
        receipts = self.bond.mint_many(self.admin, accepted, chunk_size=50)
        minted = sum((amount for _, amount in accepted), Decimal(0))
        self.ok(f"{len(accepted)} lines minted ({self.yen(minted)}) in {len(receipts)} "
                f"transaction(s), gas {', '.join(gas(r) for r in receipts)}")
        supply = self.bond.total_supply()
        expect(supply == minted, f"total supply is {supply}, {minted} was minted")
        self.ok(f"total supply {self.yen(supply)} of {self.yen(self.bond.terms().issue_volume)};"
                f" {self.bond.holder_count()} holders")

    # -- 5 -------------------------------------------------------------------------------------

    def step_trade(self) -> None:
        self.explain(
            "Holders trade any amount down to the trading unit (here 1 JPY of face, so a "
            "resident can sell 12,345 JPY of a 10,000 JPY bond), but only to eligible investors "
            "and only after the lock-up. Every refusal has an ERC-1404 code that a wallet app can "
            "ask for first (check_transfer) and that the contract reverts with anyway.")
        yamada, suzuki = self.investor(1001), self.investor(1002)
        sato, matsumoto = self.investor(1003), self.investor(1016)
        osaka, us, expired = self.investor(1010), self.investor(1011), self.investor(1012)

        lockup = self.bond.rules().lockup_until
        if lockup is None:
            raise DemoError(f"{TERM_SHEET.name} has no lock-up")
        self.say(f"[bold]Before the lock-up[/bold] (until {jst(lockup)}):")
        early = self.bond.check_transfer(yamada.address, suzuki.address, "12345")
        expect(early.name == "LOCKED_UP", f"a transfer before the lock-up: expected LOCKED_UP, "
                                          f"got {early}")
        try:
            self.bond.transfer(yamada.signer, suzuki.address, "12345")
        except TransferRestricted as error:
            self.refused(f"{escape(yamada.label)} -> {escape(suzuki.label)}, 12,345 JPY: code "
                         f"{error.code} {early.name}: {escape(error.reason)}")
        else:
            raise DemoError("a transfer before the lock-up was not refused")

        after = lockup + timedelta(days=3, hours=1)
        self.chain.set_next_timestamp(int(after.timestamp()))
        self.chain.mine()
        self.gap()
        self.say(f"[bold]Chain clock moved past the lock-up[/bold]: {jst(after)}")
        table = self.table("from", "to", "amount (JPY)", "gas", right=("amount (JPY)", "gas"))
        for sender, recipient, amount in ((yamada, suzuki, "12345"), (sato, matsumoto, "2019")):
            receipt = self.bond.transfer(sender.signer, recipient.address, amount)
            table.add_row(escape(sender.label), escape(recipient.label), f"{Decimal(amount):,}",
                          gas(receipt))
        self.show(table)
        self.ok(f"fractional transfers settled: {escape(yamada.label)} now holds "
                f"{self.yen(self.bond.balance_of(yamada.address))}, {escape(suzuki.label)} "
                f"{self.yen(self.bond.balance_of(suzuki.address))}")

        block = self.chain.block_number()
        nonce = self.chain.w3.eth.get_transaction_count(yamada.signer.address)
        try:
            self.bond.transfer(yamada.signer, suzuki.address, "0.5")
        except AmountError as error:
            shown = escape(str(error))
        else:
            raise DemoError("a transfer of 0.5 JPY was not refused")
        expect(self.chain.block_number() == block
               and self.chain.w3.eth.get_transaction_count(yamada.signer.address) == nonce,
               "the refused 0.5 JPY transfer sent a transaction")
        self.refused(f"0.5 JPY, finer than the trading unit: AmountError from the SDK, nothing "
                     f"sent (same block, same nonce): {shown}")

        self.gap()
        self.say(f"[bold]Ineligible recipients[/bold] of 10,000 JPY from "
                 f"{escape(yamada.label)}: the pre-check says why, before sending:")
        table = self.table("to", "check_transfer", "hint for people", wrap=("hint for people",))
        for recipient, name in ((us, "COUNTRY_NOT_ALLOWED"), (osaka, "REGION_NOT_ALLOWED"),
                                (expired, "RECIPIENT_KYC_EXPIRED")):
            verdict = self.bond.check_transfer(yamada.address, recipient.address, "10000")
            expect(verdict.name == name, f"check_transfer to {recipient.label}: expected {name}, "
                                         f"got {verdict}")
            self.refusals += 1
            table.add_row(escape(recipient.label), f"[red]{self.code(verdict)}[/red]",
                          escape(verdict.hint))
        self.show(table)

        verdict = self.bond.check_transfer(yamada.address, us.address, "10000")
        self.say("A client that skips the pre-check sends the transfer anyway (gas given, no "
                 "eth_call): the contract reverts it with the same code.")
        function = self.bond.contract.functions.transfer(us.address, self.bond.to_units("10000"))
        try:
            transact(self.chain, yamada.signer, function, gas=200_000, precheck=False)
        except TransferRestricted as error:
            cause = error.__cause__
            mined: TxReceipt | None = getattr(cause, "receipt", None)
            where = (f"transaction {short(str(getattr(cause, 'tx_hash', '')))} mined in block "
                     f"{mined['blockNumber']} with status {mined['status']}, gas "
                     f"{gas(mined)}: " if mined is not None else "")
            expect(error.code == verdict.code, f"on-chain revert code {error.code} differs from "
                                               f"the pre-check's {verdict.code}")
            self.refused(f"{where}reverted with TransferRestricted code {error.code} "
                         f"{verdict.name}, as the pre-check said")
        else:
            raise DemoError("an on-chain transfer to the US resident did not revert")

    # -- 6 -------------------------------------------------------------------------------------

    def accounts(self, wallets: Sequence[Wallet], title: str | None = None) -> None:
        table = self.table("wallet", "balance", "frozen", "free", "wallet frozen", title=title,
                           right=("balance", "frozen", "free"))
        for wallet in wallets:
            state = self.bond.account(wallet.address)
            table.add_row(f"{escape(wallet.label)} {short(wallet.address)}",
                          f"{state.balance:,}", f"{state.frozen:,}", f"{state.free:,}",
                          "[red]yes[/red]" if state.wallet_frozen else "no")
        self.show(table)

    def step_servicing(self) -> None:
        self.explain(
            "The transfer agent can freeze a whole wallet or part of a balance, move units "
            "without the holder's consent under a court order, and recover a lost wallet to the "
            "same investor's new one. Such actions bypass some rules, never silently: each emits "
            "an event carrying the agent and the reason.")
        watanabe, nakamura, sato = self.investor(1007), self.investor(1008), self.investor(1003)

        self.say("[bold]Partial freeze[/bold]: 1,500,000 JPY of a 2,000,000 JPY holding is "
                 "frozen (a pending attachment).")
        self.bond.freeze_amount(self.agent, watanabe.address, "1500000")
        self.accounts([watanabe])
        blocked = self.bond.check_transfer(watanabe.address, nakamura.address, "600000")
        expect(blocked.name == "AMOUNT_FROZEN", f"sending more than the free part: expected "
                                                f"AMOUNT_FROZEN, got {blocked}")
        try:
            self.bond.transfer(watanabe.signer, nakamura.address, "600000")
        except TransferRestricted as error:
            self.refused(f"600,000 JPY to {escape(nakamura.label)}: code {error.code} "
                         f"{blocked.name}: {escape(error.reason)}")
        else:
            raise DemoError("a transfer of more than the free part was not refused")
        receipt = self.bond.transfer(watanabe.signer, nakamura.address, "500000")
        self.ok(f"500,000 JPY (the free part) to {escape(nakamura.label)}: sent, gas "
                f"{gas(receipt)}")

        self.gap()
        self.say(f"[bold]Forced transfer[/bold] of 1,000,000 JPY to {escape(sato.label)}, a "
                 f"creditor, under a court order. It passes over the freeze, never over the "
                 f"recipient's eligibility.")
        receipt = self.bond.forced_transfer(self.agent, watanabe.address, sato.address,
                                            "1000000", COURT_ORDER)
        block = int(receipt["blockNumber"])
        events = history(self.chain, self.bond.address, from_block=block, to_block=block,
                         events={"ForcedTransfer"})
        expect(len(events) == 1, f"expected one ForcedTransfer event in block {block}, found "
                                 f"{len(events)}")
        args = events[0].args
        expect(args["reason"] == COURT_ORDER, "the ForcedTransfer event does not carry the reason")
        table = self.table("ForcedTransfer event", f"value (gas {gas(receipt)})")
        table.add_row("from -> to", f"{escape(self.label(args['from']))} -> "
                                    f"{escape(self.label(args['to']))}")
        table.add_row("amount", self.yen(self.bond.from_units(int(args["amount"]))))
        table.add_row("of it frozen", self.yen(self.bond.from_units(int(args["frozenMoved"]))))
        table.add_row("agent", f"{self.label(args['agent'])} {short(args['agent'])}")
        table.add_row("reason", escape(str(args["reason"])))
        self.show(table)
        self.accounts([watanabe])

        lost, new = self.investor(1005, 0), self.investor(1005, 1)
        self.say(f"[bold]Wallet recovery[/bold]: {escape(lost.investor.name)} lost the phone "
                 f"holding wallet {short(lost.address)}. The agent freezes that wallet at once; "
                 f"50,000 JPY of it is already frozen as collateral.")
        self.bond.freeze_amount(self.agent, lost.address, "50000")
        self.bond.freeze_wallet(self.agent, lost.address)
        self.accounts([lost, new], "before")
        receipt = self.bond.recover_wallet(self.agent, lost.address, new.address,
                                           RECOVERY_REASON)
        self.accounts([lost, new], f"after recoverWallet (gas {gas(receipt)})")
        moved = self.bond.account(new.address)
        expect(moved.frozen == Decimal(50000) and moved.wallet_frozen
               and self.bond.balance_of(lost.address) == 0,
               "the recovery did not move the balance with its frozen state")
        self.ok("balance, frozen part and wallet freeze moved together to the investor's other "
                "registered wallet")
        self.bond.unfreeze_wallet(self.agent, new.address)
        self.ok("the agent lifts the wallet freeze once the investor controls the new wallet")

    # -- 7 -------------------------------------------------------------------------------------

    def step_register(self) -> None:
        self.explain(
            "An auditor needs nobody's database: the register is rebuilt from the bond's "
            "Transfer events and cross-checked, wallet by wallet, against the contract's balances "
            "and total supply (a difference would stop here). The history decodes every event, "
            "with the reasons given for admin actions.")
        register = holders(self.chain, self.bond.address, from_block=self.creation_block)
        table = self.table("id", "holder", "wallet", "balance (JPY)", "frozen", "= balanceOf",
                           title="Holder register (munibond.ledger.holders)",
                           right=("balance (JPY)", "frozen"))
        total = Decimal(0)
        for holding in register:
            on_chain = self.bond.balance_of(holding.wallet)
            expect(on_chain == holding.balance, f"{holding.wallet}: the register says "
                                                f"{holding.balance}, balanceOf {on_chain}")
            total += holding.balance
            frozen = f"{holding.frozen:,}" + (" + wallet" if holding.wallet_frozen else "")
            name = self.label(holding.wallet).rsplit(" (", 1)[0]
            table.add_row(str(holding.investor_id), escape(name), short(holding.wallet),
                          f"{holding.balance:,}", frozen, "[green]✔[/green]")
        self.show(table)
        supply = self.bond.total_supply()
        expect(total == supply, f"the register sums to {total}, total supply is {supply}")
        scope = "investors" if self.bond.rules().per_investor else "wallets"
        self.holder_count = self.bond.holder_count()
        self.issued = supply
        self.ok(f"total supply {self.yen(supply)} = the register's sum; holder count "
                f"{self.holder_count} (counted as {scope}); {len(register)} wallets hold units")

        events = history(self.chain, self.bond.address, from_block=self.creation_block)
        recent = events[-AUDIT_EVENTS:]
        table = self.table("block", "date", "event", "what happened", wrap=("what happened",),
                           title=f"Audit trail (munibond.ledger.history): the last {len(recent)} "
                                 f"of {len(events)} events")
        for event in recent:
            table.add_row(str(event.block), event.timestamp.astimezone(JST).strftime("%Y-%m-%d"),
                          event.event, escape(self.words(event.summary)))
        self.show(table)
        self.events = len(events)

    # -- payments: what steps 8 to 12 share ----------------------------------------------------

    @property
    def token(self) -> Contract:
        """The settlement token: the platform's mock JPY stablecoin, owned by account 0."""
        found = self.platform.settlement
        if found is None:
            raise DemoError("the platform has no settlement token")
        return found

    def cash(self, wallet: str) -> Decimal:
        """A wallet's settlement-token balance, in JPY."""
        return self.bond.coupons.money(int(self.token.functions.balanceOf(wallet).call()))

    def travel(self, moment: datetime) -> None:
        """Mine an empty block at ``moment``: the chain's clock jumps there."""
        self.chain.set_next_timestamp(int(moment.timestamp()))
        self.chain.mine()

    def block_time(self, receipt: TxReceipt) -> int:
        return int(self.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"])

    def name(self, wallet: str) -> str:
        """The investor's name without the id, for narrow tables."""
        return escape(self.label(wallet).rsplit(" (", 1)[0])

    def category(self, wallet: str) -> int:
        for item in self.wallets:
            if item.address == wallet:
                return item.investor.tax_category
        raise DemoError(f"{wallet} holds units but is not in {INVESTORS.name}")

    def due(self, period: PaymentPeriod) -> dict[str, Due]:
        """Who is owed what for ``period``, computed here: the register rebuilt from Transfer
        events as it stood one second before the record time, the term sheet's coupon rate and
        redemption price, and the term sheet's withholding rates for each holder's tax category
        in investors.csv. Each amount floored to 1 JPY, each tax part separately. (Once per
        period: the register at a past block does not change.)"""
        if period.index in self.owed:
            return self.owed[period.index]
        before = period.record_time - timedelta(seconds=1)
        register = holders_at(self.chain, self.bond.address, before,
                              from_block=self.creation_block)
        principal = self.ts.bond.redemption_price / 100 if period.final else Decimal(0)
        found: dict[str, Due] = {}
        for holding in register:
            if holding.units == 0:
                continue
            category = self.category(holding.wallet)
            national, local = self.rates[category]
            gross = floor(holding.balance * self.per_period)
            found[holding.wallet] = Due(
                wallet=holding.wallet, units=holding.units, face=holding.balance,
                category=category, gross=gross, national=floor(gross * national / RATE_SCALE),
                local=floor(gross * local / RATE_SCALE),
                principal=floor(holding.balance * principal))
        self.owed[period.index] = found
        return found

    def check_lines(self, lines: Sequence[PaymentLine], due: dict[str, Due], what: str) -> None:
        """Every paid line is exactly what the holder was owed."""
        for line in lines:
            if line.status != "paid":
                continue
            owed = due.get(line.holder)
            if owed is None:
                raise DemoError(f"{what}: {self.label(line.holder)} was paid but held nothing at "
                                f"the record time")
            expect(owed.matches(line),
                   f"{what}: {self.label(line.holder)} was paid gross {line.gross}, tax "
                   f"{line.national_tax} + {line.local_tax}, principal {line.principal}, net "
                   f"{line.net}; owed gross {owed.gross}, tax {owed.national} + {owed.local}, "
                   f"principal {owed.principal}, net {owed.net}")

    def keep(self, report: PaymentReport, period: int) -> PaymentReport:
        """Add a claim's or a push's lines to the report of the bond's life. The SDK does not know
        the period of a failed payee's line (it says None): it is the period being paid."""
        for line in report.lines:
            if line.status == "failed" and line.period is None:
                line.period = period
        self.life.extend(report)
        return report

    def progress(self, title: str) -> Callable[[int, int], None]:
        """A one-line progress display of a push: ``title: 4/10 8/10 10/10``."""
        self.console.print(f"  {title}:", end="")
        self.blank = False

        def shown(done: int, total: int) -> None:
            self.console.print(f" {done}/{total}", end="")
            self.console.file.flush()

        return shown

    def fund(self, period: PaymentPeriod, expected: Decimal) -> int:
        """The paying agent gets exactly what ``period`` needs (account 0 mints it) and funds the
        period with it; returns the number of transactions sent."""
        coupons = self.bond.coupons
        status = coupons.funding(period)
        expect(status.required == expected and status.funded == 0 and not status.payable,
               f"period {period.number}: fundingStatus says required {status.required}, funded "
               f"{status.funded}, payable {status.payable}; expected {expected}, 0, no")
        transact(self.chain, self.admin, self.token.functions.mint(
            self.payer.address, coupons.settlement_units(expected)))
        held = self.cash(self.bond.address)
        receipts = (self.bond.redemption.fund(self.payer) if period.final
                    else coupons.fund(self.payer, period))
        status = coupons.funding(period)
        expect(status.funded == status.required == expected and status.shortfall == 0
               and status.payable and self.cash(self.bond.address) - held == expected,
               f"period {period.number}: after funding {expected}, fundingStatus says funded "
               f"{status.funded}, shortfall {status.shortfall}, payable {status.payable}")
        return 1 + len(receipts)

    def remit(self, period: PaymentPeriod, due: dict[str, Due]) -> Decimal:
        """The paying agent sends the period's withheld tax to the tax account."""
        held = self.cash(self.tax_office)
        self.bond.coupons.remit_tax(self.payer, period)
        remitted = self.cash(self.tax_office) - held
        withheld = sum((owed.tax for owed in due.values()), Decimal(0))
        paid = self.bond.coupons.paid(period)
        expect(remitted == withheld == paid.withheld == paid.tax_remitted,
               f"period {period.number}: {remitted} reached the tax account; withheld "
               f"{withheld} (computed), {paid.withheld} (periodPayments), remitted "
               f"{paid.tax_remitted}")
        return remitted

    def settle_dust(self, period: PaymentPeriod, due: dict[str, Due], funded: Decimal) -> Decimal:
        """funded - (gross + principal) paid: the floors of each holding against the floor of
        the whole supply. Checked against periodPayments and against the computed amounts."""
        paid = self.bond.coupons.paid(period)
        gross = sum((owed.gross for owed in due.values()), Decimal(0))
        principal = sum((owed.principal for owed in due.values()), Decimal(0))
        expect(paid.coupon_gross == gross and paid.principal == principal,
               f"period {period.number}: periodPayments says gross {paid.coupon_gross}, "
               f"principal {paid.principal}; the holders of record were owed {gross}, "
               f"{principal}")
        dust = funded - paid.coupon_gross - paid.principal
        expect(0 <= dust < len(due) * 2, f"period {period.number}: dust {dust} JPY is not a "
                                         f"rounding remainder of {len(due)} holdings")
        self.dust[period.index] = dust
        return dust

    @staticmethod
    def in_yen(report: PaymentReport) -> PaymentReport:
        """The report with its amounts in whole yen, the rounding unit: the SDK's lines carry the
        stablecoin's 18 decimals (``2751.000000000000000000``, ``0E-18``) into the CSV."""
        def yen(amount: Decimal) -> Decimal:
            expect(amount == amount.to_integral_value(), f"a payment of {amount} JPY: not a "
                                                         f"whole yen")
            return amount.quantize(Decimal(1))

        lines = [dataclasses.replace(line, gross=yen(line.gross),
                                     national_tax=yen(line.national_tax),
                                     local_tax=yen(line.local_tax), net=yen(line.net),
                                     principal=yen(line.principal))
                 for line in report.lines]
        return PaymentReport(lines=lines, tx_hashes=list(report.tx_hashes),
                             gas_used=report.gas_used, holders_asked=report.holders_asked)

    # -- 8 -------------------------------------------------------------------------------------

    def step_schedule(self) -> None:
        self.explain(
            "The bond pays its coupons and principal itself, in the JPY stablecoin. Its schedule "
            "went on chain with the bond, before any unit existed: per period a record time "
            "(whoever holds units then is owed the period), a payment time, and the coupon and "
            "principal per 1 JPY of face, to 13 decimals. Tax is withheld at source by each "
            "holder's tax category in the registry and stays in the bond until the paying agent "
            "remits it.")
        coupons = self.bond.coupons
        terms = coupons.terms()
        schedule = coupons.schedule()
        bond = self.bond.terms()
        expect(len(schedule) == EXPECTED_PERIODS,
               f"the schedule on chain has {len(schedule)} periods, the term sheet gives "
               f"{EXPECTED_PERIODS}")
        table = self.table("no.", "record time (holders of)", "paid on", "coupon per 1 JPY",
                           "per 10,000 JPY", "principal",
                           title="Payment schedule (bond.coupons.schedule(), from the chain)",
                           right=("coupon per 1 JPY", "per 10,000 JPY"))
        previous: PaymentPeriod | None = None
        for period in schedule:
            last = period.index == len(schedule) - 1
            principal = bond.redemption_price / 100 if last else Decimal(0)
            expect(period.coupon_per_unit == self.per_period and period.final == last
                   and period.principal_per_unit == principal and not period.funded,
                   f"period {period.number} on chain: coupon {period.coupon_per_unit}, principal "
                   f"{period.principal_per_unit}, final {period.final}; the term sheet gives "
                   f"{self.per_period}, {principal}, {last}")
            expect(period.record_time < period.payment_time
                   and (previous is None or previous.payment_time < period.record_time),
                   f"period {period.number}: record and payment times out of order")
            expect(period.record_time.astimezone(JST).strftime("%H:%M") == "15:00",
                   f"period {period.number}: the record time is not 15:00 JST")
            previous = period
            per_bond = floor(bond.denomination * period.coupon_per_unit)
            table.add_row(str(period.number), jst(period.record_time),
                          f"{period.payment_time.astimezone(JST):%Y-%m-%d}",
                          str(period.coupon_per_unit), money(per_bond),
                          "100% of face" if last else "-")
        self.show(table)
        expect(schedule[-1].payment_time.astimezone(JST).date() == bond.maturity_date.date(),
               "the redemption is not paid on the maturity date")
        symbol = str(self.token.functions.symbol().call())
        self.say(f"Paid in {symbol} {short(terms.settlement_token)} ({terms.settlement_decimals} "
                 f"decimals). A holding of u JPY of face gets floor(u x coupon per 1 JPY) JPY a "
                 f"period, the whole holding at once; payment dates on a bank holiday moved to "
                 f"the business day before. Unclaimed payments stay claimable for "
                 f"{terms.claim_window // (365 * 86_400)} years; an issuer call needs "
                 f"{terms.call_notice // 86_400} days' notice.")

        holding = [w for w in self.wallets if self.bond.balance_of(w.address) > 0]
        rates = self.table("no.", "tax category", "national", "local", "total", "holders now",
                           title="Withholding on coupons (bond.coupons.tax_rates)",
                           right=("national", "local", "total", "holders now"))
        for category, (national, local) in sorted(self.rates.items()):
            on_chain = coupons.tax_rates(category)
            expect(on_chain.national * 1000 == national and on_chain.local * 1000 == local,
                   f"tax category {category}: {on_chain.national}% + {on_chain.local}% on chain, "
                   f"the term sheet gives {national / 1000}% + {local / 1000}%")
            count = sum(1 for w in holding if w.investor.tax_category == category)
            rates.add_row(str(category), codes.tax_category_name(category),
                          f"{on_chain.national:.3f}%", f"{on_chain.local:.3f}%",
                          f"{on_chain.total:.3f}%", str(count or "-"))
        self.show(rates)
        self.say("Principal is never taxed. A holder's category is the registry's (investors.csv), "
                 "read by the bond when it pays.")
        coupons.set_tax_account(self.admin, self.tax_office)
        expect(coupons.tax_account() == self.tax_office, "the tax account was not set")
        self.ok(f"the admin names the tax account (setTaxAccount): account {TAX_ACCOUNT} "
                f"{short(self.tax_office)}, where the paying agent remits the withheld tax")

    # -- 9 -------------------------------------------------------------------------------------

    def step_first_coupon(self) -> None:
        self.explain(
            "Whoever holds units at the record time (15:00 JST, the business day before the "
            "payment date) is owed the coupon. Nothing is sent at the record time: the contract "
            "settles each wallet's entitlement at its next balance change. From the payment time "
            "the paying agent funds the period with exactly what it needs; holders claim, or the "
            "agent pushes payments in batches, and one payee's failure stops nobody else.")
        coupons = self.bond.coupons
        period = coupons.period(1)
        record = int(period.record_time.timestamp())
        yamada, ito = self.investor(1001), self.investor(1006)
        suzuki, yamamoto = self.investor(1002), self.investor(1015)
        at_record = {w.address: self.bond.balance_of(w.address)
                     for w in (yamada, ito, suzuki, yamamoto)}

        self.say(f"[bold]Coupon 1, record time {jst(period.record_time)}[/bold]: the clock "
                 f"jumps to one second before it, then to the record time itself.")
        moves = self.table("block time (JST)", "transfer", "amount (JPY)", "coupon 1 goes to",
                           right=("amount (JPY)",))
        for when, seller, buyer, amount in ((record - 1, yamada, ito, Decimal(100_000)),
                                            (record, suzuki, yamamoto, Decimal(12_345))):
            self.chain.set_next_timestamp(when)
            # gas given: an estimate made at the latest block (before the record time) misses
            # what the first transfer after it costs more (it settles both wallets' entitlement)
            receipt = transact(self.chain, seller.signer, self.bond.contract.functions.transfer(
                buyer.address, self.bond.to_units(amount)), gas=RECORD_TRANSFER_GAS)
            mined = self.block_time(receipt)
            expect(mined == when, f"the transfer was mined at {mined}, not at {when}")
            before = when < record
            if before:  # the buyer held these units at the record time
                at_record[seller.address] -= amount
                at_record[buyer.address] += amount
            moves.add_row(f"{datetime.fromtimestamp(mined, JST):%Y-%m-%d %H:%M:%S}",
                          f"{self.name(seller.address)} -> {self.name(buyer.address)}",
                          f"{amount:,}", "the buyer" if before else "the seller (recorded)")
        self.show(moves)
        claims = self.table("wallet", "holds now", "held at the record", "coupon 1 owed",
                            title="Owed, says the contract (bond.coupons.entitlements)",
                            right=("holds now", "held at the record", "coupon 1 owed"))
        for wallet in (yamada, ito, suzuki, yamamoto):
            found = [e for e in coupons.entitlements(wallet.address) if e.period == 1]
            expected = at_record[wallet.address]
            expect(len(found) == 1 and found[0].units == self.bond.to_units(expected)
                   and found[0].gross == floor(expected * self.per_period),
                   f"{wallet.label}: the contract's entitlement to coupon 1 is {found}; held "
                   f"{expected} at the record time")
            claims.add_row(escape(wallet.label), f"{self.bond.balance_of(wallet.address):,}",
                           f"{expected:,}", f"{money(found[0].gross)} JPY")
        self.show(claims)
        self.ok(f"the sale one second before the record moved coupon 1 to "
                f"{self.name(ito.address)}; the sale at the record time did not: "
                f"{self.name(suzuki.address)} is owed it on "
                f"{at_record[suzuki.address]:,} JPY while holding "
                f"{self.bond.balance_of(suzuki.address):,}")

        self.travel(period.payment_time)
        due = self.due(period)
        supply = sum((owed.face for owed in due.values()), Decimal(0))
        required = floor(supply * self.per_period)
        self.gap()
        self.say(f"[bold]Payment time {jst(period.payment_time)}[/bold]: {len(due)} holders of "
                 f"record, {supply:,} JPY of face.")
        try:
            coupons.claim(yamada.signer)
        except ContractRevert as error:
            expect(error.error == "PeriodNotFunded", f"a claim before funding: expected "
                                                     f"PeriodNotFunded, got {error}")
            self.refused(f"{self.name(yamada.address)} claims before the period is funded: "
                         f"PeriodNotFunded, nothing sent")
        else:
            raise DemoError("a claim before the period was funded was not refused")

        transact(self.chain, self.admin, self.token.functions.mint(
            self.payer.address, coupons.settlement_units(required)))
        try:
            coupons.fund(self.payer, 1, required - 1)
        except ContractRevert as error:
            expect(error.error == "WrongFundingAmount", f"funding 1 JPY short: expected "
                                                        f"WrongFundingAmount, got {error}")
            self.refused(f"funding {money(required - 1)} JPY: WrongFundingAmount, nothing sent "
                         f"(a period is funded with exactly what it needs, in one go)")
        else:
            raise DemoError("funding a wrong amount was not refused")
        status = coupons.funding(1)
        expect(status.required == required and status.funded == 0 and not status.payable,
               f"fundingStatus(0) says {status}; expected {required} required, nothing funded")
        # the mint above went to the paying agent: fund() takes it all
        held = self.cash(self.bond.address)
        receipts = coupons.fund(self.payer, 1)
        status = coupons.funding(1)
        expect(status.funded == required and status.payable
               and self.cash(self.bond.address) - held == required,
               f"after funding, fundingStatus(0) says {status}")
        self.ok(f"account 0 (the stablecoin's owner here) mints {money(required)} JPY to the "
                f"paying agent, who funds coupon 1 with exactly floor({supply:,} x "
                f"{self.per_period.normalize()}) = {money(required)} JPY ({len(receipts)} "
                f"transactions: approve, fund); fundingStatus: funded, payable")

        owed_yamada = due[yamada.address]
        held = self.cash(yamada.address)
        claim = self.keep(coupons.claim(yamada.signer), 1)
        expect(len(claim.paid) == 1 and claim.paid[0].holder == yamada.address
               and claim.paid[0].period == 1 and owed_yamada.matches(claim.paid[0])
               and self.cash(yamada.address) - held == owed_yamada.net,
               f"{yamada.label}'s claim paid {claim.lines}; owed {owed_yamada}")
        self.ok(f"{self.name(yamada.address)} claims (claim()): gross {money(owed_yamada.gross)} "
                f"= floor({owed_yamada.face:,} x {self.per_period.normalize()}), tax "
                f"{money(owed_yamada.national)} + {money(owed_yamada.local)}, "
                f"{money(owed_yamada.net)} JPY received")

        nakamura = self.investor(1008)
        transact(self.chain, self.admin, self.token.functions.setBlocked(nakamura.address, True))
        self.say(f"The stablecoin's issuer blocks {escape(nakamura.label)}'s wallet (setBlocked "
                 f"on the mock): any payment to it fails.")
        shown = self.progress(f"push to the others (payBatch, {BATCH} holders a transaction)")
        push = self.keep(coupons.pay(self.payer, chunk_size=BATCH, progress=shown), 1)
        self.console.print(f" holders, {len(push.tx_hashes)} transactions")
        others = set(due) - {yamada.address, nakamura.address}
        expect(push.holders_paid == others, f"the push paid {len(push.holders_paid)} holders, "
                                            f"expected the {len(others)} others")
        expect([line.holder for line in push.failed] == [nakamura.address]
               and "SettlementTransferFailed" in push.failed[0].reason,
               f"the push's failures: {push.failed}; expected {nakamura.label}'s "
               f"SettlementTransferFailed")
        self.check_lines(push.lines, due, "coupon 1")
        waiting = [e.period for e in coupons.entitlements(nakamura.address)]
        expect(waiting == [1], f"{nakamura.label}'s entitlements after the failed payment: "
                               f"{waiting}")
        self.refused(f"{escape(nakamura.label)}: PaymentFailed event, reason "
                     f"SettlementTransferFailed (the token refused the payee); reported, and "
                     f"coupon 1 stays owed. The rest of the batch was paid.")
        transact(self.chain, self.admin, self.token.functions.setBlocked(nakamura.address, False))
        again = self.keep(coupons.pay(self.payer, chunk_size=BATCH), 1)
        expect(again.holders_paid == {nakamura.address} and again.holders_asked == 1
               and not again.failed,
               f"the push after unblocking paid {again.holders_paid}, asked "
               f"{again.holders_asked}")
        self.check_lines(again.lines, due, "coupon 1")
        self.ok(f"unblocked, the next push pays {self.name(nakamura.address)} "
                f"{money(again.paid[0].net)} JPY net and asks nobody else: the others are paid "
                f"(a push is idempotent)")

        how = {yamada.address: "claim", nakamura.address: "push, later"}
        table = self.table("holder", "tax", "at record", "gross", "national", "local", "net",
                           "paid by", title="Coupon 1, holder by holder (JPY)",
                           right=("tax", "at record", "gross", "national", "local", "net"),
                           wrap=("holder",))
        lines = {line.holder: line for line in self.life.paid if line.period == 1}
        expect(set(lines) == set(due), "coupon 1 was not paid to exactly the holders of record")
        for holder, entitled in due.items():
            line = lines[holder]
            national, local = self.rates[entitled.category]
            table.add_row(self.name(holder), f"{Decimal(national + local) / 1000}%",
                          f"{entitled.face:,}", money(line.gross), money(line.national_tax),
                          money(line.local_tax), money(line.net), how.get(holder, "push"))
        paid = coupons.paid(1)
        table.add_row("[bold]total", "", f"[bold]{supply:,}", f"[bold]{money(paid.coupon_gross)}",
                      f"[bold]{money(paid.national_tax)}", f"[bold]{money(paid.local_tax)}",
                      f"[bold]{money(paid.net)}", "")
        self.show(table)
        self.say(f"Each row checked against amounts computed here: gross = floor(holding at the "
                 f"record time x {self.per_period.normalize()}), national = floor(gross x "
                 f"15.315%), local = floor(gross x 5%) for individuals, 0 for companies.")
        remitted = self.remit(period, due)
        self.ok(f"the paying agent remits the tax withheld (remitTax): {money(remitted)} JPY "
                f"(national {money(paid.national_tax)} + local {money(paid.local_tax)}) to the "
                f"tax account")
        dust = self.settle_dust(period, due, required)
        self.ok(f"dust: funded {money(required)} - gross paid {money(paid.coupon_gross)} = "
                f"{money(dust)} JPY, from flooring each holding's coupon rather than the whole "
                f"supply's; it stays in the bond until the claim window closes")

    # -- 10 ------------------------------------------------------------------------------------

    def step_coupons(self) -> None:
        self.explain(
            "Every six months the same: the clock jumps to the payment time (the record time "
            "passes with nothing sent), the paying agent funds exactly floor(supply x 0.0031), "
            "one holder claims, the rest are pushed in batches, the tax is remitted. Every "
            "payment below is checked holder by holder as coupon 1 was; only the totals are "
            "shown.")
        coupons = self.bond.coupons
        sato = self.investor(1003)
        table = self.table("no.", "paid on", "holders", "funded", "gross", "tax", "net", "dust",
                           "tx", title="Coupons 2 to 9 (JPY)",
                           right=("holders", "funded", "gross", "tax", "net", "dust", "tx"))
        totals = [Decimal(0)] * 4
        for index in range(1, EXPECTED_PERIODS - 1):
            period = coupons.period(index + 1)
            self.travel(period.payment_time)
            due = self.due(period)
            supply = sum((owed.face for owed in due.values()), Decimal(0))
            required = floor(supply * self.per_period)
            sent = self.fund(period, required)
            claim = self.keep(coupons.claim(sato.signer), index + 1)
            expect(len(claim.paid) == 1 and claim.paid[0].holder == sato.address,
                   f"coupon {period.number}: {sato.label}'s claim paid {claim.lines}")
            push = self.keep(coupons.pay(self.payer, chunk_size=BATCH), index + 1)
            expect(push.holders_paid == set(due) - {sato.address} and not push.failed,
                   f"coupon {period.number}: the push paid {len(push.holders_paid)} holders, "
                   f"{len(push.failed)} failed; expected {len(due) - 1}, none")
            self.check_lines([*claim.lines, *push.lines], due, f"coupon {period.number}")
            tax = self.remit(period, due)
            dust = self.settle_dust(period, due, required)
            paid = coupons.paid(index + 1)
            sent += 2 + len(push.tx_hashes)
            for i, value in enumerate((required, paid.coupon_gross, tax, paid.net)):
                totals[i] += value
            table.add_row(str(period.number), f"{period.payment_time.astimezone(JST):%Y-%m-%d}",
                          str(len(due)), money(required), money(paid.coupon_gross), money(tax),
                          money(paid.net), money(dust), str(sent))
        table.add_row("[bold]total", "", "", *(f"[bold]{money(v)}" for v in totals),
                      f"[bold]{money(sum((self.dust[i] for i in range(1, 9)), Decimal(0)))}", "")
        self.show(table)
        self.say(f"Each period: a mint to the paying agent, approve and fund, "
                 f"{escape(sato.label)}'s claim, the push in batches of {BATCH}, remitTax "
                 f"(the tx column).")
        self.ok("coupons 2 to 9 paid to every holder of record, each amount as computed here "
                "from the register at the record time; tax remitted each time")

    # -- 11 ------------------------------------------------------------------------------------

    def step_maturity(self) -> None:
        self.explain(
            "At the final record time transfers stop for good (code 3, BOND_MATURED): the "
            "register of the redemption is fixed. The last period pays the last coupon and the "
            "principal at 100% of face; a holder redeeming gets both in one transaction that "
            "burns the units. With the last unit burned the bond is closed: transfers and mints "
            "are refused with code 2, BOND_CLOSED, and everything stays readable.")
        redemption = self.bond.redemption
        final = redemption.final_period()
        expect(final.final and final.index == EXPECTED_PERIODS - 1,
               f"the final period is {final.number}, expected {EXPECTED_PERIODS}")
        yamada, suzuki = self.investor(1001), self.investor(1002)

        self.travel(final.record_time)
        verdict = self.bond.check_transfer(yamada.address, suzuki.address, "10000")
        expect(verdict.code == 3, f"a transfer at the final record time: expected code 3, got "
                                  f"{verdict}")
        self.refused(f"{jst(final.record_time)}, the final record time: a transfer of 10,000 JPY "
                     f"is refused, code {self.code(verdict)}")

        self.travel(final.payment_time)
        due = self.due(final)
        supply = sum((owed.face for owed in due.values()), Decimal(0))
        coupon = floor(supply * self.per_period)
        principal = floor(supply * self.ts.bond.redemption_price / 100)
        expect(supply == self.bond.total_supply(), "the register at the final record time "
                                                   "differs from the supply")
        self.fund(final, coupon + principal)
        self.ok(f"{jst(final.payment_time)}: the paying agent funds the redemption "
                f"(bond.redemption.fund): last coupon {money(coupon)} + principal "
                f"{money(principal)} = {money(coupon + principal)} JPY")

        owed = due[yamada.address]
        units = self.bond.to_units(self.bond.balance_of(yamada.address))
        supply_units = self.bond.to_units(self.bond.total_supply())
        held = self.cash(yamada.address)
        claim = self.keep(redemption.claim(yamada.signer), final.number)
        expect(len(claim.paid) == 1 and owed.matches(claim.paid[0])
               and self.cash(yamada.address) - held == owed.net,
               f"{yamada.label}'s redemption paid {claim.lines}; owed {owed}")
        receipt = self.chain.w3.eth.get_transaction_receipt(HexStr(claim.tx_hashes[0]))
        burned = [e for e in self.bond.contract.events.Transfer().process_receipt(
            receipt, errors=DISCARD) if int(e["args"]["to"], 16) == 0]
        expect(len(burned) == 1 and int(burned[0]["args"]["value"]) == units == owed.units
               and self.bond.balance_of(yamada.address) == 0
               and self.bond.to_units(self.bond.total_supply()) == supply_units - units,
               f"{yamada.label}'s redemption did not burn the {units} units held")
        self.ok(f"{self.name(yamada.address)} redeems (redeem()): coupon {money(owed.gross)} - "
                f"tax {money(owed.tax)} + principal {money(owed.principal)} = "
                f"{money(owed.net)} JPY received; {units:,} units burned in the same "
                f"transaction (Transfer to 0x0)")

        frozen = {w.address: self.bond.account(w.address).frozen for w in self.wallets
                  if w.address in due and self.bond.account(w.address).frozen > 0}
        expect(len(frozen) == 2, f"expected the two partly frozen wallets of step 6, found "
                                 f"{len(frozen)}")
        shown = self.progress(f"push the redemption (payBatch, {BATCH} holders a transaction)")
        push = self.keep(redemption.pay(self.payer, chunk_size=BATCH, progress=shown),
                         final.number)
        self.console.print(f" holders, {len(push.tx_hashes)} transactions")
        expect({line.holder for line in push.failed} == set(frozen)
               and all("RedemptionWaitsForUnfreeze" in line.reason for line in push.failed),
               f"the redemption push's failures: {push.failed}; expected the frozen wallets")
        expect(push.holders_paid == set(due) - {yamada.address} - set(frozen),
               f"the redemption push paid {len(push.holders_paid)} holders")
        self.check_lines(push.lines, due, "the redemption")
        for wallet, amount in frozen.items():
            self.refused(f"{escape(self.label(wallet))}: RedemptionWaitsForUnfreeze, "
                         f"{amount:,} JPY of its units frozen; nothing paid, nothing lost")
        for wallet, amount in frozen.items():
            self.bond.unfreeze_amount(self.agent, wallet, amount)
        again = self.keep(redemption.pay(self.payer, chunk_size=BATCH), final.number)
        expect(again.holders_paid == set(frozen) and not again.failed,
               f"the push after unfreezing paid {again.holders_paid}, failed {again.failed}")
        self.check_lines(again.lines, due, "the redemption")
        self.ok(f"the transfer agent releases the freezes (the attachment settled, the "
                f"collateral released); the next push redeems both: "
                f"{money(again.total('net'))} JPY")

        expect(redemption.closed() and self.bond.total_supply() == 0
               and self.bond.holder_count() == 0,
               f"after the redemption: closed {redemption.closed()}, supply "
               f"{self.bond.total_supply()}, holders {self.bond.holder_count()}")
        try:
            self.bond.transfer(suzuki.signer, yamada.address, "1")
        except TransferRestricted as error:
            expect(error.code == 2, f"a transfer after the close: expected code 2, got "
                                    f"{error.code}")
            self.refused(f"a transfer after the close: code {error.code} "
                         f"{self.bond.check_transfer(suzuki.address, yamada.address, '1').name}"
                         f": {escape(error.reason)}")
        else:
            raise DemoError("a transfer after the bond closed was not refused")
        remitted = self.remit(final, due)
        dust = self.settle_dust(final, due, coupon + principal)
        left = self.cash(self.bond.address)
        expect(left == sum(self.dust.values(), Decimal(0)),
               f"the bond holds {left} JPY of the stablecoin; the dust of the periods is "
               f"{sum(self.dust.values(), Decimal(0))}")

        terms = self.bond.terms()
        table = self.table("after maturity (read from the chain)", "value")
        table.add_row("total supply / holder count", f"{self.bond.total_supply():,} JPY / "
                                                     f"{self.bond.holder_count()}")
        table.add_row("closed", f"yes: check_mint says code "
                                f"{self.code(self.bond.check_mint(yamada.address, '1'))}")
        table.add_row("terms", f"{terms.code}, {escape(terms.name)}")
        table.add_row("last period", f"tax {money(remitted)} JPY remitted, dust {money(dust)} JPY")
        table.add_row("stablecoin left in the bond",
                      f"{money(left)} JPY: the dust of the 10 periods, until the claim windows "
                      f"close")
        self.show(table)

    # -- 12 ------------------------------------------------------------------------------------

    def step_report(self) -> None:
        self.explain(
            "Every payment of the bond's life, claims and pushes, failed payees included, is one "
            "PaymentReport, written as CSV for the paying agent's books. Then the auditor's "
            "check: for each period, the register rebuilt from Transfer events as it stood at the "
            "record time, times the term sheet's rate and floored per holder, must be exactly "
            "what the contract paid: its payment events, its periodPayments totals and the CSV.")
        path = self.payments_csv
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.in_yen(self.life).to_csv()
        path.write_text(text, encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        paid = self.life.paid
        failed = self.life.failed
        expect(len(rows) == len(paid) + len(failed), f"{path}: {len(rows)} rows for "
                                                     f"{len(self.life.lines)} lines")
        try:
            shown = str(path.resolve().relative_to(Path.cwd()))
        except ValueError:
            shown = str(path.resolve())
        self.ok(f"payment report: {len(paid)} payments and {len(failed)} failed attempts (paid "
                f"later) in {escape(shown)}")
        self.say(f"columns: {', '.join(next(csv.reader(io.StringIO(text))))}")

        coupons = self.bond.coupons
        table = self.table("no.", "record time (JST)", "wallets", "face", "gross owed",
                           "gross paid", "principal", "agrees",
                           title="Register at each record date (from events) vs what the "
                                 "contract paid (JPY)",
                           right=("wallets", "face", "gross owed", "gross paid", "principal"))
        for period in coupons.schedule():
            due = self.due(period)
            lines = {line.holder: line for line in paid if line.period == period.number}
            expect(set(lines) == set(due), f"period {period.number}: paid "
                                           f"{len(lines)} wallets, {len(due)} held units at the "
                                           f"record time")
            self.check_lines(list(lines.values()), due, f"period {period.number}")
            on_chain = coupons.paid(period)
            owed = sum((o.gross for o in due.values()), Decimal(0))
            principal = sum((o.principal for o in due.values()), Decimal(0))
            number = str(period.number)
            in_csv = [r for r in rows if r["period"] == number and r["status"] == "paid"]
            expect(on_chain.coupon_gross == owed and on_chain.principal == principal
                   and sum((Decimal(r["gross"]) for r in in_csv), Decimal(0)) == owed
                   and sum((Decimal(r["principal"]) for r in in_csv), Decimal(0)) == principal
                   and len(in_csv) == len(due),
                   f"period {period.number}: the register says gross {owed}, principal "
                   f"{principal}; periodPayments {on_chain.coupon_gross}, "
                   f"{on_chain.principal}; the CSV has {len(in_csv)} rows")
            table.add_row(number, jst(period.record_time).removesuffix(" JST"), str(len(due)),
                          f"{sum((o.face for o in due.values()), Decimal(0)):,}", money(owed),
                          money(on_chain.coupon_gross),
                          money(on_chain.principal) if on_chain.principal else "-",
                          "[green]✔[/green]")
        self.show(table)
        gross, tax = self.life.total("gross"), self.life.total("tax")
        principal = self.life.total("principal")
        expect(principal == self.issued, f"{principal} JPY of principal repaid, "
                                         f"{self.issued} issued")
        self.ok(f"over the life: {money(gross)} JPY of coupons ({money(tax)} withheld and "
                f"remitted), {money(principal)} JPY of principal repaid; "
                f"{money(sum(self.dust.values(), Decimal(0)))} JPY of rounding dust left")

    def summary(self) -> None:
        latest = self.chain.block_number()
        sent = sum(int(self.chain.w3.eth.get_block_transaction_count(n))
                   for n in range(1, latest + 1))
        elapsed = time.monotonic() - self.started
        self.heading("[bold green]Done")
        self.console.print(
            f"[bold green]munibond demo OK[/bold green] in {elapsed:.1f} s: {sent} transactions, "
            f"{self.refusals} refusals explained, {money(self.life.total('principal'))} "
            f"{self.bond.terms().currency_code} redeemed", highlight=False, soft_wrap=True)


class TrimmedOutput(io.TextIOBase):
    """A text stream that drops the spaces rich pads lines with (for logs and pipes)."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        if lines:
            self._target.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._target.write(self._pending)
            self._pending = ""
        self._target.flush()


def make_console() -> Console:
    """The terminal's width up to 100 columns on a terminal; in a log or a pipe, 100 columns,
    no colour and no trailing spaces."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="replace")  # a non-UTF-8 log shows "?" rather than failing
    console = Console(highlight=False, emoji=False)
    if console.is_terminal:
        return console if console.width <= WIDTH else Console(highlight=False, emoji=False,
                                                              width=WIDTH)
    trimmed = cast("IO[str]", TrimmedOutput(sys.stdout))  # a TextIOBase is an IO[str] in use
    return Console(file=trimmed, highlight=False, emoji=False, width=WIDTH)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="demo.py", description=(__doc__ or "").split("\n\n")[0],
        epilog="Environment: MUNIBOND_DEBUG=1 shows a traceback when a step fails; "
               "MUNIBOND_ANVIL names another anvil binary.")
    parser.add_argument("--payments-csv", type=Path, default=DEFAULT_PAYMENTS_CSV,
                        metavar="PATH",
                        help="where to write the payment report of the bond's life (default: "
                             "reports/demo-payments.csv in the project)")
    args = parser.parse_args(argv)
    console = make_console()
    debug = os.environ.get("MUNIBOND_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
    with tempfile.TemporaryDirectory(prefix="munibond-demo-") as records:
        demo = Demo(console, Path(records), args.payments_csv)
        try:
            demo.run()
        except KeyboardInterrupt:
            console.file.flush()
            print("\ndemo interrupted", file=sys.stderr)
            return 130
        except Exception as error:
            console.file.flush()
            if debug:
                traceback.print_exc()
            kind = "unexpected result" if isinstance(error, DemoError) else type(error).__name__
            message = " ".join(str(error).split())
            hint = "" if debug else " (MUNIBOND_DEBUG=1 shows the traceback)"
            print(f"demo failed in {demo.current}: {kind}: {message}{hint}", file=sys.stderr)
            return 1
        finally:
            demo.close()
            console.file.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
