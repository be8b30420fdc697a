"""A node that goes away in the middle of a batch payment, for real: anvil is stopped after the
first batch (it writes its state on the way out, as a node that restarts keeps its chain), the
payment stops with PaymentInterrupted, anvil comes back with its state, and the same payment
again pays exactly the holders the first run did not. Nothing is lost, nobody is paid twice."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from munibond.anvil import start_anvil
from munibond.bond import Bond
from munibond.payment_setup import ensure_payments
from munibond.payments import PaymentInterrupted
from munibond.platform import Platform, deploy_platform_contracts
from munibond.registry import InvestorRecord
from munibond.signers import dev_accounts
from munibond.termsheet import load_term_sheet

TERM_SHEET = Path(__file__).resolve().parents[2] / "examples" / "kobe-resident-bond-2026.yaml"
HOLDERS = 9
JPY = 10**18


def _holdings() -> list[int]:
    return [10_000 * (i + 1) + 345 * i for i in range(HOLDERS)]


def test_a_node_that_goes_away_mid_batch_loses_nothing(tmp_path: Path) -> None:
    state = tmp_path / "anvil-state.json"
    accounts = dev_accounts(2 + HOLDERS)
    admin, registrar, holders = accounts[0], accounts[1], accounts[2:]
    with start_anvil(extra_args=["--state", str(state)], accounts=2) as anvil:
        port = anvil.port
        chain = anvil.connect()
        addresses = deploy_platform_contracts(chain, admin, registrar=registrar.address,
                                              settlement=("JPY coin", "JPYC", 18))
        platform = Platform(chain, addresses)
        ts = load_term_sheet(TERM_SHEET)
        bond, _ = platform.factory.create_bond(admin, ts)
        ensure_payments(bond, admin, ts, token=addresses.settlement_token)
        kyc = datetime(2040, 1, 1, tzinfo=UTC)
        platform.registry.register_many(registrar, [
            (h.address, InvestorRecord(investor_id=100 + i, country=392, investor_class=1,
                                       tax_category=1, region=281107, kyc_valid_until=kyc))
            for i, h in enumerate(holders)])
        bond.mint_many(admin, [(h.address, Decimal(u)) for h, u in zip(holders, _holdings(),
                                                                          strict=True)])
        first = bond.coupons.period(1)
        chain.set_next_timestamp(int(first.payment_time.timestamp()))
        chain.mine()
        token = platform.settlement
        assert token is not None
        chain.transact(admin, token.functions.mint(admin.address, 10**24))
        bond.coupons.fund(admin, 1)

        def stop_the_node(done: int, total: int) -> None:
            if done == 3:
                anvil.stop()  # as a node going away: it writes its state and exits

        with pytest.raises(PaymentInterrupted) as caught:
            bond.coupons.pay(admin, chunk_size=3, progress=stop_the_node)
        first_run = caught.value.report
        assert "run the same payment again" in str(caught.value)
        assert len(first_run.holders_paid) == 3 and len(first_run.tx_hashes) == 1
    assert state.is_file()

    with start_anvil(port=port, extra_args=["--state", str(state)], accounts=2) as again:
        chain = again.connect()
        # anvil keeps blocks and state but not its clock offset: set the clock where it was
        chain.set_next_timestamp(int(chain.w3.eth.get_block("latest")["timestamp"]) + 1)
        bond = Bond(chain, bond.address)
        second_run = bond.coupons.pay(admin, chunk_size=3)
        assert second_run.holders_paid.isdisjoint(first_run.holders_paid)
        assert len(second_run.holders_paid) == HOLDERS - 3
        # every holder's settlement balance is exactly one coupon, net of 15.315% and 5%
        settlement: Any = Platform(chain, addresses).settlement
        for h, units in zip(holders, _holdings(), strict=True):
            gross = units * 31 // 10_000
            net = gross - gross * 15_315 // 100_000 - gross * 5_000 // 100_000
            assert settlement.functions.balanceOf(h.address).call() == net * JPY, h.address
        assert bond.coupons.pay(admin).paid == []  # and a third run pays nobody
