#!/usr/bin/env python3
"""munibond in one run: a municipal bond's whole lifecycle on a local chain.

    make demo                  # or: .venv/bin/python scripts/demo.py

Starts its own anvil (zero gas, like a permissioned chain), deploys the platform, creates the
example Kobe City bond from its term sheet, onboards the example investors, allots, trades under
the bond's rules, shows the transfer agent's tools (freeze, forced transfer, wallet recovery) and
rebuilds the holder register from events. Everything happens on a throw-away chain whose clock
starts on 2026-12-01, with deployment records in a temporary directory, so it can be run any
number of times; anvil is stopped at the end, also on errors. A failed step prints one line on
stderr and exits 1; MUNIBOND_DEBUG=1 adds the traceback.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, TextIO, cast

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

try:
    from munibond import codes
    from munibond.anvil import Anvil, start_anvil
    from munibond.bond import Bond
    from munibond.chain import Chain
    from munibond.deploy import bond_record_path, ensure_bond, ensure_platform, read_record
    from munibond.errors import call, transact
    from munibond.exceptions import AmountError, TransferRestricted
    from munibond.investor_files import Investor, read_allotments, read_investors
    from munibond.ledger import history, holders
    from munibond.platform import Platform
    from munibond.registry import InvestorRecord
    from munibond.restrictions import Restriction
    from munibond.signers import Signer, dev_account, dev_accounts
    from munibond.termsheet import load_term_sheet
except ImportError as missing:  # pragma: no cover - a broken environment
    sys.exit(f"demo: cannot import munibond ({missing}): run `make venv`, then "
             f"`.venv/bin/python scripts/demo.py` (or `make demo`)")

if TYPE_CHECKING:
    from web3.types import TxReceipt

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


def gas(receipt: TxReceipt) -> str:
    return f"{int(receipt['gasUsed']):,}"


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

    def __init__(self, console: Console, records: Path) -> None:
        self.console = console
        self.records = records
        self.anvil: Anvil | None = None
        self.admin = dev_account(0)
        self.registrar = dev_account(1)
        self.agent = dev_account(2)
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
                       self.agent.address: "acct 2"}
        self.platform = ensure_platform(self.chain, self.admin, NETWORK, settlement="auto",
                                        registrar=self.registrar.address, root=self.records,
                                        fresh=True, report=lambda _: None)
        table = self.table("part", "contract", "address", "gas used", right=("gas used",))
        total = 0
        for deployed in self.platform.addresses.deployments:
            table.add_row(deployed.part.replace("_", " "), deployed.contract, deployed.address,
                          f"{deployed.gas_used:,}")
            total += deployed.gas_used
        expect(total > 0, "the platform's deployments recorded no gas")
        table.add_row("", "", "[bold]total", f"[bold]{total:,}")
        self.show(table)
        self.say(f"The registry lives at the implementation's address. Records: "
                 f"{escape(str(self.records / NETWORK))}/platform.json (temporary).")

        roles = self.table("who", "account", "signs for")
        roles.add_row("admin, issuer, creator", f"0 {short(self.admin.address)}",
                      "deploys; creates and allots bonds")
        roles.add_row("registrar (KYC agent)", f"1 {short(self.registrar.address)}",
                      "registers investor wallets")
        roles.add_row("transfer agent", f"2 {short(self.agent.address)}",
                      "freezes, forced transfers, recoveries")
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
        ts = load_term_sheet(TERM_SHEET)
        self.ok(f"{TERM_SHEET.relative_to(ROOT)}: valid")
        self.bond = ensure_bond(self.chain, self.admin, self.platform, TERM_SHEET, NETWORK,
                                root=self.records, report=lambda _: None)
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

    def summary(self) -> None:
        latest = self.chain.block_number()
        sent = sum(int(self.chain.w3.eth.get_block_transaction_count(n))
                   for n in range(1, latest + 1))
        elapsed = time.monotonic() - self.started
        self.heading("[bold green]Done")
        self.console.print(
            f"[bold green]munibond demo OK[/bold green] in {elapsed:.1f} s: {sent} transactions, "
            f"{self.refusals} refusals explained, {self.holder_count} holders of "
            f"{self.yen(self.bond.total_supply())}", highlight=False, soft_wrap=True)


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
    parser.parse_args(argv)
    console = make_console()
    debug = os.environ.get("MUNIBOND_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
    with tempfile.TemporaryDirectory(prefix="munibond-demo-") as records:
        demo = Demo(console, Path(records))
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
