"""Every privileged function refuses a wallet without its role, with
AccessControlUnauthorizedAccount(account, role); the platform contract refuses bond functions,
bonds refuse registry functions, and nothing can be initialised twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web3.contract import Contract

from munibond.artifacts import load_artifact
from munibond.signers import Signer

from .helpers import (
    BOND_ABI,
    BOND_MATURED,
    DEPLOY_GAS,
    UNIT,
    ZERO,
    Investor,
    Platform,
    expect_revert,
    role_id,
)

Builder = Callable[[Platform, Contract], Any]
INV = Investor(77, kycValidUntil=2**39).as_tuple()

BOND_FUNCTIONS: dict[str, tuple[str, Builder]] = {
    "mint": ("ISSUER_ROLE", lambda p, b: b.functions.mint(p["a1"].address, UNIT)),
    "mintBatch": ("ISSUER_ROLE", lambda p, b: b.functions.mintBatch([p["a1"].address], [UNIT])),
    "pause": ("PAUSER_ROLE", lambda p, b: b.functions.pause()),
    "unpause": ("PAUSER_ROLE", lambda p, b: b.functions.unpause()),
    "setWalletFrozen": ("TRANSFER_AGENT_ROLE",
                        lambda p, b: b.functions.setWalletFrozen(p["a1"].address, True)),
    "freezeTokens": ("TRANSFER_AGENT_ROLE",
                     lambda p, b: b.functions.freezeTokens(p["a1"].address, UNIT)),
    "unfreezeTokens": ("TRANSFER_AGENT_ROLE",
                       lambda p, b: b.functions.unfreezeTokens(p["a1"].address, UNIT)),
    "forcedTransfer": ("TRANSFER_AGENT_ROLE", lambda p, b: b.functions.forcedTransfer(
        p["a1"].address, p["bob"].address, UNIT, "court order")),
    "forcedTransferBatch": ("TRANSFER_AGENT_ROLE", lambda p, b: b.functions.forcedTransferBatch(
        [p["a1"].address], [p["bob"].address], [UNIT], "court order")),
    "recoverWallet": ("TRANSFER_AGENT_ROLE", lambda p, b: b.functions.recoverWallet(
        p["a1"].address, p["a2"].address, "lost key")),
    "setDocument": ("ISSUER_ROLE", lambda p, b: b.functions.setDocument(
        b"prospectus".ljust(32, b"\x00"), "ipfs://x", b"\x01" * 32)),
    "removeDocument": ("ISSUER_ROLE",
                       lambda p, b: b.functions.removeDocument(b"prospectus".ljust(32, b"\x00"))),
    "amendTerms": ("DEFAULT_ADMIN_ROLE", lambda p, b: b.functions.amendTerms(
        Platform.terms_tuple(p.terms(code=b.functions.bondCode().call())))),
    "amendRules": ("DEFAULT_ADMIN_ROLE",
                   lambda p, b: b.functions.amendRules(p.rules().as_tuple())),
    "grantRole": ("DEFAULT_ADMIN_ROLE", lambda p, b: b.functions.grantRole(
        role_id("ISSUER_ROLE"), p.stranger.address)),
    "revokeRole": ("DEFAULT_ADMIN_ROLE", lambda p, b: b.functions.revokeRole(
        role_id("ISSUER_ROLE"), p.issuer.address)),
    "retire": ("DEFAULT_ADMIN_ROLE", lambda p, b: b.functions.retire()),
    "beginDefaultAdminTransfer": ("DEFAULT_ADMIN_ROLE", lambda p, b: b.functions.
                                  beginDefaultAdminTransfer(p["new1"].address)),
    "cancelDefaultAdminTransfer": ("DEFAULT_ADMIN_ROLE",
                                   lambda p, b: b.functions.cancelDefaultAdminTransfer()),
    "changeDefaultAdminDelay": ("DEFAULT_ADMIN_ROLE",
                                lambda p, b: b.functions.changeDefaultAdminDelay(86_400)),
}

REGISTRY_FUNCTIONS: dict[str, tuple[str, Builder]] = {
    "registerWallet": ("REGISTRAR_ROLE",
                       lambda p, r: r.functions.registerWallet(p["outsider"].address, INV)),
    "registerWallets": ("REGISTRAR_ROLE",
                        lambda p, r: r.functions.registerWallets([p["outsider"].address], [INV])),
    "setSuspended": ("REGISTRAR_ROLE",
                     lambda p, r: r.functions.setSuspended(p["a1"].address, True)),
    "setKycValidUntil": ("REGISTRAR_ROLE",
                         lambda p, r: r.functions.setKycValidUntil(p["a1"].address, 1)),
    "removeWallet": ("REGISTRAR_ROLE", lambda p, r: r.functions.removeWallet(p["a1"].address)),
    "removeWallets": ("REGISTRAR_ROLE",
                      lambda p, r: r.functions.removeWallets([p["a1"].address])),
    "grantRole": ("DEFAULT_ADMIN_ROLE", lambda p, r: r.functions.grantRole(
        role_id("REGISTRAR_ROLE"), p.stranger.address)),
    "revokeRole": ("DEFAULT_ADMIN_ROLE", lambda p, r: r.functions.revokeRole(
        role_id("REGISTRAR_ROLE"), p.registrar.address)),
    "beginDefaultAdminTransfer": ("DEFAULT_ADMIN_ROLE", lambda p, r: r.functions.
                                  beginDefaultAdminTransfer(p["new1"].address)),
    "changeDefaultAdminDelay": ("DEFAULT_ADMIN_ROLE",
                                lambda p, r: r.functions.changeDefaultAdminDelay(86_400)),
}

FACTORY_FUNCTIONS: dict[str, tuple[str, Builder]] = {
    "createBond": ("CREATOR_ROLE", lambda p, f: p.create_bond_fn(p.rules(), p.terms())),
    "grantRole": ("DEFAULT_ADMIN_ROLE", lambda p, f: f.functions.grantRole(
        role_id("CREATOR_ROLE"), p.stranger.address)),
    "releaseCode": ("CREATOR_ROLE", lambda p, f: f.functions.releaseCode("KOBE-0001")),
}

ROLE_HOLDERS = ("admin", "registrar", "creator", "issuer", "agent", "pauser")


def _holders_of(p: Platform, contract: Contract, role: str) -> set[str]:
    return {name for name in ROLE_HOLDERS
            if contract.functions.hasRole(role_id(role), getattr(p, name).address).call()}


def _refused(p: Platform, contract: Contract, caller: Signer, role: str, fn: Any) -> None:
    expect_revert(lambda: p.send(caller, fn), "AccessControlUnauthorizedAccount",
                  caller, role_id(role))


def _prepare_bond(p: Platform, bond: Contract, name: str) -> None:
    """A state in which the privileged bond call ``name`` succeeds for its role holder."""
    if name in ("amendTerms", "retire"):
        return  # only before issue
    if name == "cancelDefaultAdminTransfer":
        p.send(p.admin, bond.functions.beginDefaultAdminTransfer(p["new1"].address))
    p.mint(bond, p["a1"], 10_000)
    p.send(p.agent, bond.functions.freezeTokens(p["a1"].address, UNIT))
    if name == "unpause":
        p.send(p.pauser, bond.functions.pause())
    p.send(p.issuer, bond.functions.setDocument(b"prospectus".ljust(32, b"\x00"), "ipfs://x",
                                                b"\x01" * 32))


@pytest.mark.parametrize("name", list(BOND_FUNCTIONS))
def test_bond_function_refuses_a_stranger(p: Platform, bond: Contract, name: str) -> None:
    role, build = BOND_FUNCTIONS[name]
    _refused(p, bond, p.stranger, role, build(p, bond))


@pytest.mark.parametrize("name", list(BOND_FUNCTIONS))
def test_bond_function_refuses_holders_of_other_roles(p: Platform, bond: Contract,
                                                      name: str) -> None:
    role, build = BOND_FUNCTIONS[name]
    _prepare_bond(p, bond, name)
    holders = _holders_of(p, bond, role)
    assert holders  # someone holds it
    for other in sorted(set(ROLE_HOLDERS) - holders):
        _refused(p, bond, getattr(p, other), role, build(p, bond))
    # and the role holder may (the state was prepared for it)
    p.send(getattr(p, sorted(holders)[0]), build(p, bond))


@pytest.mark.parametrize("name", list(REGISTRY_FUNCTIONS))
def test_registry_function_refuses_a_stranger(p: Platform, name: str) -> None:
    role, build = REGISTRY_FUNCTIONS[name]
    _refused(p, p.registry, p.stranger, role, build(p, p.registry))
    for other in sorted(set(ROLE_HOLDERS) - _holders_of(p, p.registry, role)):
        _refused(p, p.registry, getattr(p, other), role, build(p, p.registry))


@pytest.mark.parametrize("name", list(FACTORY_FUNCTIONS))
def test_factory_function_refuses_a_stranger(p: Platform, name: str) -> None:
    role, build = FACTORY_FUNCTIONS[name]
    _refused(p, p.factory, p.stranger, role, build(p, p.factory))
    for other in sorted(set(ROLE_HOLDERS) - _holders_of(p, p.factory, role)):
        _refused(p, p.factory, getattr(p, other), role, build(p, p.factory))


def test_roles_are_granted_as_given_and_per_bond(p: Platform, bond: Contract) -> None:
    for role, holder in [("DEFAULT_ADMIN_ROLE", p.admin), ("ISSUER_ROLE", p.issuer),
                         ("TRANSFER_AGENT_ROLE", p.agent), ("PAUSER_ROLE", p.pauser)]:
        assert bond.functions.hasRole(role_id(role), holder.address).call()
        assert bond.functions.getRoleAdmin(role_id(role)).call() == role_id("DEFAULT_ADMIN_ROLE")
    assert bond.functions.ISSUER_ROLE().call() == role_id("ISSUER_ROLE")
    assert bond.functions.TRANSFER_AGENT_ROLE().call() == role_id("TRANSFER_AGENT_ROLE")
    assert bond.functions.PAUSER_ROLE().call() == role_id("PAUSER_ROLE")
    assert p.registry.functions.REGISTRAR_ROLE().call() == role_id("REGISTRAR_ROLE")
    assert p.factory.functions.CREATOR_ROLE().call() == role_id("CREATOR_ROLE")
    # another bond with other role holders: the platform's admin has no say in it
    roles = (p["new1"].address, p["new2"].address, p["new3"].address, p["outsider"].address)
    terms = p.terms()
    p.send(p.creator, p.create_bond_fn(p.rules(), terms, roles))
    other = p.bond_at(p.factory.functions.bondByCode(terms["code"]).call())
    _refused(p, other, p.admin, "DEFAULT_ADMIN_ROLE", other.functions.amendRules(
        p.rules().as_tuple()))
    _refused(p, other, p.issuer, "ISSUER_ROLE", other.functions.mint(p["a1"].address, UNIT))
    p.send(p["new2"], other.functions.mint(p["a1"].address, UNIT))
    assert not other.functions.hasRole(role_id("DEFAULT_ADMIN_ROLE"), p.admin.address).call()


def test_granted_role_works_and_revoked_role_does_not(p: Platform, bond: Contract) -> None:
    issuer = role_id("ISSUER_ROLE")
    receipt = p.send(p.admin, bond.functions.grantRole(issuer, p.stranger.address))
    assert bond.events.RoleGranted().process_receipt(receipt)[0]["args"]["account"] == \
        p.stranger.address
    p.send(p.stranger, bond.functions.mint(p["a1"].address, UNIT))
    p.send(p.admin, bond.functions.revokeRole(issuer, p.stranger.address))
    _refused(p, bond, p.stranger, "ISSUER_ROLE", bond.functions.mint(p["a1"].address, UNIT))
    # the registry's roles are the registry's
    p.send(p.admin, p.registry.functions.grantRole(role_id("REGISTRAR_ROLE"), p.stranger.address))
    p.send(p.stranger, p.registry.functions.registerWallet(p["outsider"].address, INV))
    assert not bond.functions.hasRole(role_id("REGISTRAR_ROLE"), p.stranger.address).call()


# ---------------------------------------------------------------------------------------------
# the platform contract is not a bond; a bond is not the registry


def _impl(p: Platform) -> Contract:
    """BondToken at its own address, seen through a bond's ABI."""
    return p.bond_at(p.registry.address)


IMPLEMENTATION_CALLS: dict[str, Builder] = {
    "mint": lambda p, i: i.functions.mint(p["a1"].address, UNIT),
    "mintBatch": lambda p, i: i.functions.mintBatch([p["a1"].address], [UNIT]),
    "initialize": lambda p, i: i.functions.initialize(
        Platform.terms_tuple(p.terms()), p.roles()),
    "pause": lambda p, i: i.functions.pause(),
    "unpause": lambda p, i: i.functions.unpause(),
    "setWalletFrozen": lambda p, i: i.functions.setWalletFrozen(p["a1"].address, True),
    "freezeTokens": lambda p, i: i.functions.freezeTokens(p["a1"].address, 1),
    "unfreezeTokens": lambda p, i: i.functions.unfreezeTokens(p["a1"].address, 1),
    "forcedTransfer": lambda p, i: i.functions.forcedTransfer(
        p["a1"].address, p["bob"].address, 0, "x"),
    "forcedTransferBatch": lambda p, i: i.functions.forcedTransferBatch([], [], [], "x"),
    "recoverWallet": lambda p, i: i.functions.recoverWallet(p["a1"].address, p["a2"].address, "x"),
    "setDocument": lambda p, i: i.functions.setDocument(b"d".ljust(32, b"\x00"), "u", b"\x00" * 32),
    "removeDocument": lambda p, i: i.functions.removeDocument(b"d".ljust(32, b"\x00")),
    "amendTerms": lambda p, i: i.functions.amendTerms(Platform.terms_tuple(p.terms())),
    "amendRules": lambda p, i: i.functions.amendRules(p.rules().as_tuple()),
    # views of the servicing half
    "rules": lambda p, i: i.functions.rules(),
    "terms": lambda p, i: i.functions.terms(),
    "bondCode": lambda p, i: i.functions.bondCode(),
    "accountOf": lambda p, i: i.functions.accountOf(p["a1"].address),
    "paused": lambda p, i: i.functions.paused(),
    "getAllDocuments": lambda p, i: i.functions.getAllDocuments(),
}


@pytest.mark.parametrize("name", list(IMPLEMENTATION_CALLS))
def test_implementation_refuses_bond_functions(p: Platform, name: str) -> None:
    """Called by the registry's admin, who holds DEFAULT_ADMIN_ROLE in the registry's storage:
    no bond function may run on it."""
    fn = IMPLEMENTATION_CALLS[name](p, _impl(p))
    expect_revert(lambda: p.send(p.admin, fn), "NotABond")


def test_implementation_refuses_transfers(p: Platform) -> None:
    impl = _impl(p)
    # no bond state there: every transfer reads as a matured bond
    assert p.detect(impl, p["a1"], p["bob"], 0) == BOND_MATURED
    expect_revert(lambda: p.send(p["a1"], impl.functions.transfer(p["bob"].address, 0)),
                  "TransferRestricted", BOND_MATURED)
    expect_revert(lambda: p.send(p["a1"], impl.functions.batchTransfer([p["bob"].address], [0])),
                  "TransferRestricted", BOND_MATURED)
    assert impl.functions.totalSupply().call() == 0


REGISTRY_ONLY: dict[str, Builder] = {
    "registerWallet": lambda p, b: b.functions.registerWallet(p["outsider"].address, INV),
    "registerWallets": lambda p, b: b.functions.registerWallets([p["outsider"].address], [INV]),
    "setSuspended": lambda p, b: b.functions.setSuspended(p["a1"].address, True),
    "setKycValidUntil": lambda p, b: b.functions.setKycValidUntil(p["a1"].address, 1),
    "removeWallet": lambda p, b: b.functions.removeWallet(p["a1"].address),
    "removeWallets": lambda p, b: b.functions.removeWallets([p["a1"].address]),
    "recordOf": lambda p, b: b.functions.recordOf(p["a1"].address),
    "recordsOf": lambda p, b: b.functions.recordsOf(p["a1"].address, p["bob"].address),
    "investorOf": lambda p, b: b.functions.investorOf(p["a1"].address),
    "isVerified": lambda p, b: b.functions.isVerified(p["a1"].address),
}


@pytest.mark.parametrize("name", list(REGISTRY_ONLY))
def test_bond_refuses_registry_functions(p: Platform, bond: Contract, name: str) -> None:
    # even a holder of REGISTRAR_ROLE in the bond's own storage is refused
    p.send(p.admin, bond.functions.grantRole(role_id("REGISTRAR_ROLE"), p.registrar.address))
    fn = REGISTRY_ONLY[name](p, bond)
    expect_revert(lambda: p.send(p.registrar, fn), "NotTheRegistry")


def test_unpack_is_pure_everywhere(p: Platform, bond: Contract) -> None:
    record = Investor(5, region=281000, kycValidUntil=123).packed()
    assert tuple(bond.functions.unpack(record).call()) == (5, 392, 1, 1, 281000, 123, 0)
    assert tuple(p.registry.functions.unpack(record).call()) == (5, 392, 1, 1, 281000, 123, 0)


# ---------------------------------------------------------------------------------------------
# initialisation


def test_servicing_cannot_be_initialised(p: Platform) -> None:
    fn = p.servicing.functions.initialize(Platform.terms_tuple(p.terms()), p.roles())
    for caller in (p.admin, p.stranger):
        expect_revert(lambda c=caller: p.send(c, fn), "InvalidInitialization")


def test_implementation_cannot_be_initialised(p: Platform) -> None:
    """BondToken has no initializer of its own: `initialize` reaches its fallback, which refuses
    on the platform contract (NotABond) before anything is delegated."""
    fn = _impl(p).functions.initialize(Platform.terms_tuple(p.terms()), p.roles())
    for caller in (p.admin, p.stranger):
        expect_revert(lambda c=caller: p.send(c, fn), "NotABond")


def test_bond_cannot_be_initialised_twice(p: Platform, bond: Contract) -> None:
    roles = (p.stranger.address,) * 4
    fn = bond.functions.initialize(Platform.terms_tuple(p.terms()), roles)
    for caller in (p.stranger, p.admin):
        expect_revert(lambda c=caller: p.send(c, fn), "InvalidInitialization")
    assert not bond.functions.hasRole(role_id("DEFAULT_ADMIN_ROLE"), p.stranger.address).call()


def test_servicing_alone_has_no_role_holders(p: Platform) -> None:
    """BondServicing at its own address has no roles: its privileged functions are inert."""
    s = p.chain.w3.eth.contract(address=p.servicing.address, abi=BOND_ABI)
    expect_revert(lambda: p.send(p.admin, s.functions.pause()),
                  "AccessControlUnauthorizedAccount", p.admin, role_id("PAUSER_ROLE"))
    expect_revert(lambda: p.send(p.admin, s.functions.amendRules(p.rules().as_tuple())),
                  "AccessControlUnauthorizedAccount", p.admin, role_id("DEFAULT_ADMIN_ROLE"))


def test_factory_refuses_a_duplicate_code(p: Platform, bond: Contract) -> None:
    code = bond.functions.bondCode().call()
    fn = p.create_bond_fn(p.rules(), p.terms(code=code))
    expect_revert(lambda: p.send(p.creator, fn), "BondCodeTaken", code, bond.address)
    # codes are compared exactly (a different case is another code)
    p.send(p.creator, p.create_bond_fn(p.rules(), p.terms(code=code.lower())))


def test_factory_needs_an_implementation_with_code(p: Platform) -> None:
    artifact = load_artifact("BondFactory")
    factory = p.chain.w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
    fn = factory.constructor(p.admin.address, ZERO, p.stranger.address)
    expect_revert(lambda: p.chain.transact(p.admin, fn, gas=DEPLOY_GAS),
                  "InvalidImplementation", p.stranger)


def test_no_function_has_the_all_zero_selector() -> None:
    """Calldata that begins with four zero bytes (a left-padded address) must never reach a
    function: the registry answers bonds' raw record queries in its fallback."""
    for name in ("BondToken", "BondServicing", "BondFactory"):
        assert "00000000" not in load_artifact(name).method_identifiers.values(), name
