"""Tests of munibond.deploy: deployment records, their reuse, and what they refuse.

Every test runs on a fresh chain: the in-process chain, or an anvil from node_modules (where a
restarted chain has a new genesis, as a reset local chain does).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from munibond import deploy
from munibond.anvil import start_anvil
from munibond.artifacts import load_artifact
from munibond.chain import Chain, in_process_chain
from munibond.deploy import (
    BOND_FORMAT,
    PLATFORM_FORMAT,
    check_code,
    clone_code,
    created_address,
    decode_rule_words,
    ensure_bond,
    ensure_platform,
    file_sha256,
    genesis_hash,
    immutable_offsets,
    load_bond,
    load_platform,
    pack_rules,
    parse_clone,
    read_record,
    recorded_bonds,
    validate_network_name,
    write_record,
)
from munibond.exceptions import DeploymentError
from munibond.onchain import rules_tuple
from munibond.payment_setup import ensure_payments
from munibond.signers import Signer, dev_accounts
from munibond.termsheet import load_term_sheet

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kobe-resident-bond-2026.yaml"


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def deployer() -> Signer:
    return dev_accounts(1)[0]


@pytest.fixture
def anvil_chain() -> Iterator[Chain]:
    with start_anvil() as node:
        yield node.connect()


@pytest.fixture(params=["in-process", "anvil"])
def chain(request: pytest.FixtureRequest) -> Chain:
    if request.param == "anvil":
        result: Chain = request.getfixturevalue("anvil_chain")
        return result
    return in_process_chain()


@pytest.fixture
def term_sheet(tmp_path: Path) -> Path:
    """A copy of the example term sheet that a test may edit."""
    copy = tmp_path / "sheets" / "bond.yaml"
    copy.parent.mkdir()
    shutil.copyfile(EXAMPLE, copy)
    return copy


def nonce(chain: Chain, signer: Signer) -> int:
    return int(chain.w3.eth.get_transaction_count(signer.address))


def deployed(chain: Chain, deployer: Signer, root: Path, term_sheet: Path,
             network: str = "test") -> tuple[Any, Any]:
    platform = ensure_platform(chain, deployer, network, root=root)
    bond = ensure_bond(chain, deployer, platform, term_sheet, network, root=root)
    return platform, bond


# -- records ---------------------------------------------------------------------------------


def test_records_are_written_and_describe_the_chain(chain: Chain, deployer: Signer,
                                                    tmp_path: Path, term_sheet: Path) -> None:
    root = tmp_path / "deployments"
    platform, bond = deployed(chain, deployer, root, term_sheet)

    platform_file = root / "test" / "platform.json"
    record = read_record(platform_file, expected_format=PLATFORM_FORMAT)
    text = platform_file.read_text(encoding="utf-8")
    assert text == json.dumps(record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert record["chain_id"] == chain.chain_id
    assert record["genesis_hash"] == genesis_hash(chain)
    assert record["deployer"] == deployer.address
    assert record["network"] == "test"
    assert record["compiler"]["version"] == load_artifact("BondToken").compiler_version
    assert record["compiler"]["evm_version"] == "paris"
    assert record["munibond_version"]
    assert record["created_at"].endswith("Z")
    contracts = record["contracts"]
    assert contracts["implementation"]["address"] == platform.addresses.implementation
    assert record["registry"] == platform.addresses.registry
    assert contracts["factory"]["address"] == platform.addresses.factory
    assert contracts["settlement_token"]["address"] == platform.addresses.settlement_token
    assert contracts["settlement_token"]["mock"]["decimals"] == 18
    for key, name in (("servicing", "BondServicing"), ("implementation", "BondToken"),
                      ("factory", "BondFactory"), ("settlement_token", "MockSettlementToken")):
        entry = contracts[key]
        code = bytes(chain.w3.eth.get_code(entry["address"]))
        assert entry["contract"] == name
        assert entry["code_hash"] == "0x" + keccak(code).hex()
        assert entry["artifact_code_hash"] == "0x" + keccak(
            load_artifact(name).deployed_bytecode).hex()
        assert entry["matches_artifact"] is True
        receipt = chain.w3.eth.get_transaction_receipt(entry["tx_hash"])
        assert receipt["contractAddress"] == entry["address"]
        assert receipt["blockNumber"] == entry["block"]
        assert entry["gas_used"] == receipt["gasUsed"]
    # the immutables found in the code are the values the deployment passed
    def word(address: str) -> str:
        return "0x" + "00" * 12 + address[2:].lower()

    # BondServicing's one immutable: the payments module it created (its first CREATE, nonce 1)
    coupons = created_address(platform.addresses.servicing, 1)
    assert contracts["servicing"]["immutables"] == [word(coupons)]
    assert contracts["coupons"]["address"] == coupons
    assert contracts["coupons"]["contract"] == "BondCoupons"
    assert contracts["coupons"]["matches_artifact"] is True
    assert contracts["coupons"]["immutables"] == []
    assert bytes(chain.w3.eth.get_code(coupons)) != b""
    assert sorted(contracts["implementation"]["immutables"]) == sorted(
        [word(platform.addresses.servicing), word(platform.addresses.implementation)])
    assert contracts["factory"]["immutables"] == [word(platform.addresses.implementation)]

    bond_file = root / "test" / "KOBE-R-2026-01.json"
    bond_record = read_record(bond_file, expected_format=BOND_FORMAT)
    assert bond_file.read_text(encoding="utf-8") == json.dumps(
        bond_record, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert bond_record["address"] == bond.address
    assert bond_record["factory"] == platform.addresses.factory
    assert bond_record["implementation"] == platform.addresses.implementation
    assert bond_record["settlement_token"] == platform.addresses.settlement_token
    assert bond_record["term_sheet"]["sha256"] == file_sha256(term_sheet)
    assert bond_record["adopted"] is False
    code = bytes(chain.w3.eth.get_code(bond.address))
    assert bond_record["code_hash"] == "0x" + keccak(code).hex()
    ts = load_term_sheet(term_sheet)
    words = pack_rules(rules_tuple(ts))
    assert bond_record["rule_words"] == ["0x" + w.to_bytes(32, "big").hex() for w in words]
    assert code == clone_code(platform.addresses.implementation,
                              b"".join(w.to_bytes(32, "big") for w in words))
    assert bond_record["rules"]["regions"] == [28]
    assert bond_record["rules"]["countries"] == [392]
    assert bond_record["rules"]["per_investor"] is False
    assert bond_record["terms"]["code"] == "KOBE-R-2026-01"
    assert bond_record["terms"]["issueVolume"] == 500_000_000
    receipt = chain.w3.eth.get_transaction_receipt(bond_record["tx_hash"])
    assert receipt["blockNumber"] == bond_record["block"]
    assert recorded_bonds("test", root) == ["KOBE-R-2026-01"]


def test_rerun_reuses_the_records_and_sends_nothing(chain: Chain, deployer: Signer,
                                                     tmp_path: Path, term_sheet: Path) -> None:
    root = tmp_path / "deployments"
    platform, bond = deployed(chain, deployer, root, term_sheet)
    files = {p: p.read_bytes() for p in (root / "test").glob("*.json")}
    before = nonce(chain, deployer)
    block = chain.block_number()

    again, bond_again = deployed(chain, deployer, root, term_sheet)

    assert nonce(chain, deployer) == before
    assert chain.block_number() == block
    assert again.addresses.factory == platform.addresses.factory
    assert again.addresses.settlement_token == platform.addresses.settlement_token
    assert bond_again.address == bond.address
    assert {p: p.read_bytes() for p in (root / "test").glob("*.json")} == files
    # and the verified loaders agree, without a term sheet
    loaded = load_platform(chain, "test", root=root)
    assert load_bond(chain, loaded, "test", root=root).address == bond.address
    assert loaded.addresses.deployment("factory") is not None


def test_rerun_from_another_process_shape_of_platform(chain: Chain, deployer: Signer,
                                                      tmp_path: Path) -> None:
    """A platform without a settlement token is recorded as null and reused as such."""
    root = tmp_path / "deployments"
    platform = ensure_platform(chain, deployer, "bare", settlement=None, root=root)
    assert platform.addresses.settlement_token is None
    assert read_record(root / "bare" / "platform.json")["contracts"]["settlement_token"] is None
    before = nonce(chain, deployer)
    assert ensure_platform(chain, deployer, "bare", settlement=None, root=root).addresses \
        .settlement_token is None
    assert nonce(chain, deployer) == before
    with pytest.raises(DeploymentError, match="settlement token"):
        ensure_platform(chain, deployer, "bare", settlement=("X", "X", 6), root=root)


# -- what is refused ---------------------------------------------------------------------------


def test_tampered_platform_record_is_detected(deployer: Signer, tmp_path: Path) -> None:
    chain = in_process_chain()
    root = tmp_path / "deployments"
    ensure_platform(chain, deployer, "test", root=root)
    file = root / "test" / "platform.json"
    original = read_record(file)

    swapped = json.loads(json.dumps(original))
    swapped["contracts"]["factory"]["address"] = original["contracts"]["servicing"]["address"]
    write_record(file, swapped)
    before = nonce(chain, deployer)
    with pytest.raises(DeploymentError) as caught:
        ensure_platform(chain, deployer, "test", root=root)
    message = str(caught.value)
    assert "(factory) is not the one recorded" in message
    assert "restore" in message and "--fresh" in message
    assert nonce(chain, deployer) == before  # nothing was deployed over it

    edited = json.loads(json.dumps(original))
    edited["contracts"]["implementation"]["code_hash"] = "0x" + "00" * 32
    write_record(file, edited)
    with pytest.raises(DeploymentError, match=r"\(implementation\) is not the one recorded"):
        ensure_platform(chain, deployer, "test", root=root)

    nowhere = json.loads(json.dumps(original))
    nowhere["contracts"]["servicing"]["address"] = "0x" + "11" * 20
    write_record(file, nowhere)
    with pytest.raises(DeploymentError, match=r"no contract on chain .* servicing"):
        load_platform(chain, "test", root=root)

    file.write_text("{not json", encoding="utf-8")
    with pytest.raises(DeploymentError, match="cannot be read as a deployment record"):
        ensure_platform(chain, deployer, "test", root=root)


def test_reset_anvil_chain_is_detected(deployer: Signer, tmp_path: Path) -> None:
    root = tmp_path / "deployments"
    with start_anvil() as first:
        deployed(first.connect(), deployer, root, EXAMPLE)
    # same chain id, another genesis (anvil's genesis is its start time: make sure it differs)
    with start_anvil(extra_args=["--timestamp", str(int(time.time()) + 1000)]) as second:
        chain = second.connect()
        with pytest.raises(DeploymentError) as caught:
            ensure_platform(chain, deployer, "test", root=root)
        message = str(caught.value)
        assert "the local chain was reset" in message
        assert f"genesis block {read_record(root / 'test' / 'platform.json')['genesis_hash']} " \
               f"recorded, {genesis_hash(chain)} now" in message
        assert f"Delete {root / 'test'}/" in message and "--fresh" in message
        assert nonce(chain, deployer) == 0
        with pytest.raises(DeploymentError, match="the local chain was reset"):
            load_platform(chain, "test", root=root)

        # fresh=True deploys anew and drops the bond records of the old platform
        platform = ensure_platform(chain, deployer, "test", root=root, fresh=True)
        assert recorded_bonds("test", root) == []
        assert read_record(root / "test" / "platform.json")["genesis_hash"] == \
            genesis_hash(chain)
        bond = ensure_bond(chain, deployer, platform, EXAMPLE, "test", root=root)
        assert bond.address == read_record(root / "test" / "KOBE-R-2026-01.json")["address"]


def test_replace_if_reset_replaces_only_a_vanished_chain(deployer: Signer,
                                                        tmp_path: Path) -> None:
    root = tmp_path / "deployments"
    with start_anvil() as first:
        chain = first.connect()
        platform, _ = deployed(chain, deployer, root, EXAMPLE)
        # the chain is still there: replace_if_reset reuses, as without it
        again = ensure_platform(chain, deployer, "test", root=root, replace_if_reset=True)
        assert again.addresses.factory == platform.addresses.factory
    with start_anvil() as second:
        chain = second.connect()
        notes: list[str] = []
        replaced = ensure_platform(chain, deployer, "test", root=root, replace_if_reset=True,
                                   report=notes.append)
        assert any("is gone" in note for note in notes)
        assert any("KOBE-R-2026-01.json" in note for note in notes)  # stale bond record removed
        assert recorded_bonds("test", root) == []
        assert bytes(chain.w3.eth.get_code(to_checksum_address(replaced.addresses.factory)))


def test_record_of_another_chain_id_is_refused(deployer: Signer, tmp_path: Path,
                                               anvil_chain: Chain) -> None:
    root = tmp_path / "deployments"
    ensure_platform(in_process_chain(), deployer, "test", root=root)
    with pytest.raises(DeploymentError, match=r"chain id 131277322940537, but the node .* "
                                              r"chain id 31337"):
        ensure_platform(anvil_chain, deployer, "test", root=root)
    with pytest.raises(DeploymentError, match="chain id"):
        ensure_platform(anvil_chain, deployer, "test", root=root, replace_if_reset=True)


def test_changed_term_sheet_is_refused(deployer: Signer, tmp_path: Path,
                                       term_sheet: Path) -> None:
    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform, bond = deployed(chain, deployer, root, term_sheet)
    # a complete bond (its schedule on chain): a half-made one is completed instead (below)
    ensure_payments(bond, deployer, load_term_sheet(term_sheet),
                    token=platform.addresses.settlement_token)
    original = term_sheet.read_text(encoding="utf-8")

    term_sheet.write_text(original.replace('rate: "0.620%"', 'rate: "0.700%"'), encoding="utf-8")
    before = nonce(chain, deployer)
    with pytest.raises(DeploymentError) as caught:
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    message = str(caught.value)
    assert "changed since bond KOBE-R-2026-01 was created from it" in message
    assert "couponRate: 6200 on chain, 7000 in the term sheet" in message
    assert "give a changed bond a new code" in message
    assert nonce(chain, deployer) == before
    # even when asked to accept edits: the terms differ
    with pytest.raises(DeploymentError, match="couponRate"):
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root,
                    accept_term_sheet_edits=True)

    # an edit that leaves the terms alone (a comment) is refused too, unless accepted
    term_sheet.write_text(original + "# reviewed by the finance office\n", encoding="utf-8")
    with pytest.raises(DeploymentError, match=r"still equal those on chain.*"
                                              r"--accept-term-sheet-edits"):
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    again = ensure_bond(chain, deployer, platform, term_sheet, "test", root=root,
                        accept_term_sheet_edits=True)
    assert again.address == bond.address
    record = read_record(root / "test" / "KOBE-R-2026-01.json")
    assert record["term_sheet"]["sha256"] == file_sha256(term_sheet)
    assert nonce(chain, deployer) == before
    # and from now on the edited file is the recorded one
    ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)


def test_half_made_bond_is_completed_by_a_rerun(deployer: Signer, tmp_path: Path,
                                               term_sheet: Path) -> None:
    """Issue 7 B.1: a bond created without its payment schedule (a deployment that stopped
    there) mints nothing; re-running the deployment with a corrected term sheet (same code, same
    transfer rules) completes it in place: its terms are amended and the schedule written."""
    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform, bond = deployed(chain, deployer, root, term_sheet)  # no schedule yet
    holder = dev_accounts(12)[10].address
    assert bond.check_mint(holder, 10_000).code == 23  # NO_PAYMENT_SCHEDULE
    text = term_sheet.read_text(encoding="utf-8").replace('rate: "0.620%"', 'rate: "0.650%"')
    term_sheet.write_text(text, encoding="utf-8")
    again = ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    assert again.address == bond.address
    assert again.terms().coupon_rate == Decimal("0.0065")
    setup = ensure_payments(again, deployer, load_term_sheet(term_sheet),
                            token=platform.addresses.settlement_token)
    assert "schedule" in setup.sent
    assert again.check_mint(holder, 10_000).code == 5  # open: only the holder's KYC is missing
    record = read_record(root / "test" / "KOBE-R-2026-01.json")
    assert record["term_sheet"]["sha256"] == file_sha256(term_sheet)
    # a complete bond is not amended again: a later edit is refused as before
    term_sheet.write_text(text.replace('rate: "0.650%"', 'rate: "0.700%"'), encoding="utf-8")
    with pytest.raises(DeploymentError, match="couponRate"):
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)


def test_half_made_bond_with_other_rules_is_retired_and_created_again(
        deployer: Signer, tmp_path: Path, term_sheet: Path) -> None:
    """Issue 7 B.1: when the corrected term sheet changes the transfer rules (the clone's code,
    e.g. a later lock-up), the half-made bond is retired (closed for good), its code freed in the
    factory, and the bond created again with the same code."""
    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform, bond = deployed(chain, deployer, root, term_sheet)  # no schedule yet
    chain.set_next_timestamp(int(datetime(2027, 7, 1, tzinfo=UTC).timestamp()))
    chain.mine()
    # the first record time (2027-06-14) has passed: the same term sheet can no longer be
    # completed, and the re-run says so before sending anything
    before = nonce(chain, deployer)
    with pytest.raises(DeploymentError, match=r"first record time .* is not after the chain's"):
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    assert nonce(chain, deployer) == before
    text = term_sheet.read_text(encoding="utf-8")
    for old, new in (("issue_date: 2026-12-15", "issue_date: 2027-12-15"),
                     ("maturity_date: 2031-12-15", "maturity_date: 2032-12-15"),
                     ("first_payment_date: 2027-06-15", "first_payment_date: 2028-06-15"),
                     ("lockup_until: 2027-01-15", "lockup_until: 2028-01-15")):
        text = text.replace(old, new)
    term_sheet.write_text(text, encoding="utf-8")
    again = ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    assert again.address != bond.address
    assert bond.closed() and not bond.issued()
    assert bond.check_mint(dev_accounts(12)[10].address, 10_000).code == 2  # BOND_CLOSED
    assert platform.factory.bond_by_code("KOBE-R-2026-01").address == again.address
    assert (root / "test" / "retired" / f"KOBE-R-2026-01-{bond.address}.json").is_file()
    record = read_record(root / "test" / "KOBE-R-2026-01.json")
    assert record["address"] == again.address
    ensure_payments(again, deployer, load_term_sheet(term_sheet),
                    token=platform.addresses.settlement_token)
    # an issued bond can never be retired
    assert again.check_mint(dev_accounts(12)[10].address, 10_000).code == 5


def test_bond_on_chain_without_record_is_adopted(deployer: Signer, tmp_path: Path,
                                                 term_sheet: Path) -> None:
    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform = ensure_platform(chain, deployer, "test", root=root)
    ts = load_term_sheet(term_sheet)
    bond, receipt = platform.factory.create_bond(
        deployer, ts, settlement_token=platform.addresses.settlement_token)
    before = nonce(chain, deployer)

    notes: list[str] = []
    adopted = ensure_bond(chain, deployer, platform, term_sheet, "test", root=root,
                          report=notes.append)
    assert adopted.address == bond.address
    assert nonce(chain, deployer) == before
    assert any("adopted" in note for note in notes)
    record = read_record(root / "test" / "KOBE-R-2026-01.json")
    assert record["adopted"] is True
    assert record["tx_hash"] == HexBytes(receipt["transactionHash"]).to_0x_hex()
    assert record["block"] == receipt["blockNumber"]
    assert record["creator"] == deployer.address


def test_bond_on_chain_with_other_terms_is_not_adopted(deployer: Signer, tmp_path: Path,
                                                       term_sheet: Path) -> None:
    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform = ensure_platform(chain, deployer, "test", root=root)
    platform.factory.create_bond(deployer, load_term_sheet(term_sheet),
                                 settlement_token=platform.addresses.settlement_token)
    text = term_sheet.read_text(encoding="utf-8")
    term_sheet.write_text(text.replace("max_holders: 5000", "max_holders: 4000"),
                          encoding="utf-8")
    with pytest.raises(DeploymentError) as caught:
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    message = str(caught.value)
    assert "already has a bond KOBE-R-2026-01" in message
    assert "'max_holders': 5000" in message and "'max_holders': 4000" in message
    assert not (root / "test" / "KOBE-R-2026-01.json").exists()


def test_tampered_bond_record_is_detected(deployer: Signer, tmp_path: Path,
                                          term_sheet: Path) -> None:
    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform, _ = deployed(chain, deployer, root, term_sheet)
    file = root / "test" / "KOBE-R-2026-01.json"
    original = read_record(file)
    edited = dict(original, address=platform.addresses.factory)
    write_record(file, edited)
    with pytest.raises(DeploymentError, match=r"maps bond KOBE-R-2026-01 to 0x.*records"):
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    write_record(file, dict(original, code_hash="0x" + "ab" * 32))
    with pytest.raises(DeploymentError, match="is not the one recorded"):
        load_bond(chain, platform, "test", "KOBE-R-2026-01", root=root)
    write_record(file, dict(original, factory="0x" + "22" * 20))
    with pytest.raises(DeploymentError, match="belongs to a replaced platform"):
        ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)


def test_loaders_need_records(deployer: Signer, tmp_path: Path) -> None:
    chain = in_process_chain()
    root = tmp_path / "deployments"
    with pytest.raises(DeploymentError, match="no platform is recorded for network 'test'"):
        load_platform(chain, "test", root=root)
    platform = ensure_platform(chain, deployer, "test", root=root)
    with pytest.raises(DeploymentError, match="no bond is recorded"):
        load_bond(chain, platform, "test", root=root)
    with pytest.raises(DeploymentError, match="no bond 'NOPE' is recorded"):
        load_bond(chain, platform, "test", "NOPE", root=root)


# -- building blocks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["local", "besu-test", "development", "a", "net_2.b"])
def test_network_names_accepted(name: str) -> None:
    assert validate_network_name(name) == name


@pytest.mark.parametrize("name", ["", "../x", "a/b", "a\\b", ".hidden", "x.", "platform",
                                  "with space", "a" * 65, "..", "ü"])
def test_network_names_refused(name: str) -> None:
    with pytest.raises(DeploymentError, match="not a usable network name"):
        validate_network_name(name)


def test_write_record_is_atomic_and_deterministic(tmp_path: Path) -> None:
    file = tmp_path / "net" / "x.json"
    write_record(file, {"b": 1, "a": {"d": [1, 2], "c": "日本"}})
    assert file.read_text(encoding="utf-8") == (
        '{\n  "a": {\n    "c": "日本",\n    "d": [\n      1,\n      2\n    ]\n  },\n  "b": 1\n}\n')
    assert file.stat().st_mode & 0o777 != 0o600  # an ordinary file, not mkstemp's 0600

    class Boom(Exception):
        pass

    class Exploding:
        def __iter__(self) -> Any:
            raise Boom

    with pytest.raises(TypeError):
        write_record(file, {"x": Exploding()})
    assert json.loads(file.read_text(encoding="utf-8"))["b"] == 1  # the old record survives
    assert [p.name for p in file.parent.iterdir()] == ["x.json"]  # no temporary file left


def test_check_code_masks_immutables_only() -> None:
    artifact = load_artifact("BondFactory")
    spots = immutable_offsets(artifact)
    assert spots and all(length == 32 for _, length in spots)
    implementation = "0x" + "ab" * 20
    code = bytearray(artifact.deployed_bytecode)
    for start, length in spots:
        code[start:start + length] = bytes(12) + bytes.fromhex("ab" * 20)
    good = check_code(bytes(code), artifact, expected_immutables=[implementation])
    assert good.matches and good.immutables == ("0x" + "00" * 12 + "ab" * 20,)
    assert not check_code(bytes(code), artifact, expected_immutables=["0x" + "cd" * 20]).matches
    flipped = bytearray(code)
    flipped[10] ^= 0xFF
    bad = check_code(bytes(flipped), artifact, expected_immutables=[implementation])
    assert not bad.matches and "differs from the artifact" in bad.problem
    assert "no code" in check_code(b"", artifact).problem
    # BondServicing's only immutable is the address of the payments module it creates, read in
    # two places (its getter and the fallback); the payments module has none
    assert len(immutable_offsets(load_artifact("BondServicing"))) == 2
    assert immutable_offsets(load_artifact("BondCoupons")) == ()


def test_clone_code_round_trip() -> None:
    ts = load_term_sheet(EXAMPLE)
    words = pack_rules(rules_tuple(ts))
    code = clone_code("0x" + "12" * 20, b"".join(w.to_bytes(32, "big") for w in words))
    implementation, found = parse_clone(code)
    assert implementation.lower() == "0x" + "12" * 20 and found == words
    rules = decode_rule_words(found)
    assert rules["trading_unit_units"] == 1
    assert rules["max_balance_units"] == 10_000_000
    assert rules["max_holders"] == 5000
    assert rules["country_mode"] == "allow"
    assert rules["lockup_until"] == ts.lockup_timestamp
    with pytest.raises(DeploymentError, match="not a munibond bond clone"):
        parse_clone(code[:-1])


def test_bond_code_must_be_a_file_name() -> None:
    with pytest.raises(DeploymentError, match="cannot name a record file"):
        deploy.bond_record_path("local", "platform")
    assert deploy.bond_record_path("local", "KOBE-R-2026-01").name == "KOBE-R-2026-01.json"


def test_a_called_bond_is_still_the_term_sheets_bond(deployer: Signer, tmp_path: Path,
                                                      term_sheet: Path) -> None:
    """An issuer call moves the maturity and cuts the schedule short; a later deployment run
    recognises the call (the CallAnnounced event) and reuses the bond, sending nothing."""
    from munibond.payment_setup import ensure_payments
    from munibond.registry import InvestorRecord
    from munibond.termsheet import load_term_sheet

    chain = in_process_chain()
    root = tmp_path / "deployments"
    platform, bond = deployed(chain, deployer, root, term_sheet)
    ts = load_term_sheet(term_sheet)
    ensure_payments(bond, deployer, ts, token=platform.addresses.settlement_token)
    holder = dev_accounts(12)[11]
    platform.registry.register(deployer, holder.address, InvestorRecord(
        investor_id=7, country=392, investor_class=1, tax_category=1, region=281107,
        kyc_valid_until=bond.terms().maturity_date))
    bond.mint(deployer, holder.address, 10_000)
    called = bond.redemption.period(3)
    bond.redemption.call(deployer, 3, "101")
    assert bond.terms().maturity_date == called.payment_time
    before = nonce(chain, deployer)
    again = ensure_bond(chain, deployer, platform, term_sheet, "test", root=root)
    setup = ensure_payments(again, deployer, ts, token=platform.addresses.settlement_token)
    assert again.address == bond.address and setup.sent == []
    assert nonce(chain, deployer) == before
