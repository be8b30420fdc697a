"""The factory and platform clients, and the package's exports."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hexbytes import HexBytes

import munibond
from munibond.bond import Bond
from munibond.chain import in_process_chain
from munibond.exceptions import BondExists, InvalidArgument, MissingRole
from munibond.platform import Platform, deploy_platform_contracts
from munibond.signers import dev_accounts

from .conftest import Env, term_sheet_variant


def test_bond_by_code(env: Env) -> None:
    factory = env.platform.factory
    found = factory.bond_by_code("KOBE-R-2026-01")
    assert found == env.bond
    assert factory.bond_by_code("NOPE") is None
    assert factory.implementation == env.addresses.implementation
    assert env.platform.bond("KOBE-R-2026-01") == env.bond
    assert env.platform.bond(env.bond.address.lower()).address == env.bond.address
    with pytest.raises(InvalidArgument, match="no bond with code"):
        env.platform.bond("NOPE")


def test_a_taken_code_is_refused_before_sending(env: Env) -> None:
    nonce = env.nonce(env.deployer)
    with pytest.raises(BondExists) as caught:
        env.platform.factory.create_bond(env.deployer, env.term_sheet)
    assert caught.value.address == env.bond.address
    assert env.bond.address in str(caught.value) and "KOBE-R-2026-01" in str(caught.value)
    assert env.nonce(env.deployer) == nonce


def test_only_a_creator_creates(env: Env) -> None:
    ts = term_sheet_variant(code="code: KOBE-R-2026-01 => code: KOBE-S-1")
    nonce = env.nonce(env.stranger)
    with pytest.raises(MissingRole) as caught:
        env.platform.factory.create_bond(env.stranger, ts)
    assert caught.value.role == "CREATOR_ROLE"
    assert env.nonce(env.stranger) == nonce
    env.platform.factory.grant_creator(env.deployer, env.stranger.address)
    bond, receipt = env.platform.factory.create_bond(env.stranger, ts,
                                                     roles_default=env.accounts[3].address)
    assert receipt["status"] == 1
    assert isinstance(bond, Bond) and bond.code == "KOBE-S-1"
    assert bond.has_role("issuer", env.accounts[3].address)
    assert not bond.has_role("issuer", env.stranger.address)


def test_deploy_platform_contracts_records_each_deployment() -> None:
    chain = in_process_chain(accounts=3)
    deployer, admin, registrar = dev_accounts(3)
    addresses = deploy_platform_contracts(chain, deployer, admin=admin.address,
                                          registrar=registrar.address.lower())
    assert addresses.settlement_token is None
    assert addresses.registry == addresses.implementation
    parts = [d.part for d in addresses.deployments]
    assert parts == ["servicing", "implementation", "factory"]
    for deployment in addresses.deployments:
        receipt = chain.w3.eth.get_transaction_receipt(HexBytes(deployment.tx_hash))
        assert receipt["contractAddress"] == deployment.address
        assert receipt["blockNumber"] == deployment.block_number
    assert addresses.tx_hashes["factory"] == addresses.deployment("factory").tx_hash  # type: ignore[union-attr]
    assert addresses.as_dict()["registry"] == addresses.implementation
    platform = Platform(chain, addresses)
    assert platform.settlement is None
    assert platform.registry.has_role("admin", admin.address)
    assert not platform.registry.has_role("admin", deployer.address)
    assert platform.registry.has_role("registrar", registrar.address)
    assert platform.factory.has_role("creator", admin.address)


def test_settlement_token(env: Env) -> None:
    token = env.platform.settlement
    assert token is not None
    assert token.functions.decimals().call() == 18
    assert token.functions.symbol().call() == "MJPY"
    assert token.functions.owner().call() == env.deployer.address


def test_package_exports_are_lazy() -> None:
    assert munibond.Bond is Bond
    assert munibond.Platform is Platform
    assert {"Registry", "InvestorRecord", "Factory", "Chain", "connect", "in_process_chain",
            "start_anvil", "load_term_sheet", "TransferRestricted", "MissingRole",
            "ContractRevert", "AmountError"} <= set(munibond.__all__)
    for name in munibond.__all__:
        assert getattr(munibond, name) is not None
    script = "import sys, munibond; print('web3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
