"""Tests of munibond.chain, munibond.anvil and munibond.signers on real chains.

Two chains run side by side: anvil from node_modules (zero-gas mode) and the in-process eth-tester
chain. Contracts are hand-assembled EVM bytecode, so no compiler is needed.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import ExtraDataLengthError

from munibond import anvil as anvil_module
from munibond.anvil import Anvil, find_anvil, start_anvil
from munibond.chain import (
    Chain,
    connect,
    describe_revert,
    in_process_chain,
    needs_poa_middleware,
    revert_data,
)
from munibond.exceptions import (
    ChainError,
    ConfigError,
    NodeUnreachable,
    RevertError,
    ToolNotFound,
    TransactionFailed,
    TransactionReverted,
)
from munibond.signers import (
    DEV_MNEMONIC,
    Signer,
    dev_accounts,
    signer_from_env,
    signer_from_key,
    signer_from_keystore,
)

# -- hand-assembled contracts ----------------------------------------------------------------


def initcode(runtime: bytes) -> bytes:
    """Creation code that deploys ``runtime`` (CODECOPY it to memory and RETURN it)."""
    assert len(runtime) < 256
    # PUSH1 len DUP1 PUSH1 11 PUSH1 0 CODECOPY PUSH1 0 RETURN <runtime>
    prefix = [0x60, len(runtime), 0x80, 0x60, 0x0B, 0x60, 0x00, 0x39, 0x60, 0x00, 0xF3]
    return bytes(prefix) + runtime


def always_revert(data: bytes) -> bytes:
    """Runtime code that reverts with ``data`` on every call."""
    assert len(data) < 256
    # PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 REVERT <data>
    return bytes([0x60, len(data), 0x60, 12, 0x60, 0, 0x39, 0x60, len(data), 0x60, 0, 0xFD]) + data


# set(uint256) stores its argument in slot 0; get() (4 bytes of calldata) returns slot 0
STORE_RUNTIME = bytes.fromhex("36600414600e57600435600055005b60005460005260206000f3")
STORE_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "set", "stateMutability": "nonpayable",
     "inputs": [{"name": "value", "type": "uint256"}], "outputs": []},
    {"type": "function", "name": "get", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint256"}]},
]

CUSTOM_ERROR = keccak(text="Nope(uint256)")[:4] + encode(["uint256"], [42])
ERROR_STRING = bytes.fromhex("08c379a0") + encode(["string"], ["not allowed"])
PANIC = bytes.fromhex("4e487b71") + encode(["uint256"], [0x11])
REVERTS = {"custom": CUSTOM_ERROR, "string": ERROR_STRING, "panic": PANIC, "empty": b"",
           "short": b"\x01\x02"}

ANVIL_ADDRESSES = ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
                   "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                   "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anvil() -> Iterator[Anvil]:
    with start_anvil() as node:
        yield node


@pytest.fixture(scope="module")
def anvil_chain(anvil: Anvil) -> Chain:
    return anvil.connect()


@pytest.fixture(scope="module")
def local_chain() -> Chain:
    return in_process_chain()


@pytest.fixture(params=["anvil", "in-process"])
def chain(request: pytest.FixtureRequest) -> Chain:
    name = "anvil_chain" if request.param == "anvil" else "local_chain"
    result: Chain = request.getfixturevalue(name)
    return result


@pytest.fixture(scope="module")
def accounts() -> list[Signer]:
    return dev_accounts(10)


def fresh_address() -> str:
    return str(Account.create().address)


def deploy(chain: Chain, signer: Signer, runtime: bytes) -> str:
    receipt = chain.transact(signer, {"data": initcode(runtime)})
    address = receipt["contractAddress"]
    assert address is not None
    return str(address)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- accounts and transfers ------------------------------------------------------------------


def test_dev_accounts_are_anvils(accounts: list[Signer], anvil_chain: Chain) -> None:
    assert [a.address for a in accounts[:3]] == ANVIL_ADDRESSES
    assert list(anvil_chain.w3.eth.accounts[:3]) == ANVIL_ADDRESSES
    assert dev_accounts(2, start=1) == accounts[1:3]
    assert dev_accounts(1)[0] is accounts[0]  # cached


def test_dev_accounts_are_funded(chain: Chain, accounts: list[Signer]) -> None:
    for account in accounts:
        assert chain.balance(account.address) > 1000 * 10**18


def test_legacy_zero_gas_transfer(chain: Chain, accounts: list[Signer]) -> None:
    sender, receiver = accounts[1], fresh_address()
    before = chain.balance(sender.address)
    receipt = chain.transact(sender, {"to": receiver, "value": 12345})
    assert receipt["status"] == 1
    assert receipt["type"] == 0
    assert receipt["effectiveGasPrice"] == 0
    assert chain.balance(receiver) == 12345
    assert chain.balance(sender.address) == before - 12345  # gas was free


def test_eip1559_transfer(chain: Chain, accounts: list[Signer]) -> None:
    eip1559 = Chain(chain.w3, tx_mode="eip1559", priority_fee=0)
    receiver = fresh_address()
    receipt = eip1559.transact(accounts[2], {"to": receiver, "value": 7})
    assert receipt["status"] == 1
    assert receipt["type"] == 2
    assert chain.balance(receiver) == 7


def test_eip1559_on_a_chain_with_base_fee_and_legacy_zero_refused(accounts: list[Signer]) -> None:
    with start_anvil(zero_gas=False) as node:
        paying = node.connect()  # EIP-1559 by default on a node that charges gas
        receipt = paying.transact(accounts[0], {"to": accounts[1].address, "value": 1})
        assert receipt["type"] == 2
        assert receipt["effectiveGasPrice"] > 0
        free = node.connect(tx_mode="legacy", gas_price=0)
        with pytest.raises(TransactionFailed, match="eip1559"):
            free.transact(accounts[0], {"to": accounts[1].address, "value": 1})
        # the refused transaction did not use up the nonce
        assert paying.transact(accounts[0], {"to": accounts[1].address, "value": 1})["status"] == 1


def test_plain_local_account_can_sign(chain: Chain) -> None:
    plain = Account.from_key(dev_accounts(1, start=3)[0].key)
    assert chain.transact(plain, {"to": fresh_address(), "value": 1})["status"] == 1


def test_contract_deploy_transact_and_call(chain: Chain, accounts: list[Signer]) -> None:
    factory = chain.w3.eth.contract(abi=STORE_ABI, bytecode=initcode(STORE_RUNTIME))
    receipt = chain.transact(accounts[4], factory.constructor())
    store = chain.w3.eth.contract(address=receipt["contractAddress"], abi=STORE_ABI)
    assert chain.transact(accounts[4], store.functions.set(42))["status"] == 1
    assert chain.call(store.functions.get()) == 42
    assert store.functions.get().call() == 42
    get_data = store.functions.get()._encode_transaction_data()
    raw = chain.call({"to": store.address, "data": get_data})
    assert int.from_bytes(raw, "big") == 42


def test_pipelined_sends_use_local_nonces(chain: Chain, accounts: list[Signer]) -> None:
    receiver = fresh_address()
    hashes = [chain.send(accounts[5], {"to": receiver, "value": 1}) for _ in range(5)]
    assert len(set(hashes)) == 5
    for tx_hash in hashes:
        assert chain.wait(tx_hash)["status"] == 1
    assert chain.balance(receiver) == 5


def test_nonce_used_elsewhere_is_recovered(chain: Chain, accounts: list[Signer]) -> None:
    signer = accounts[6]
    chain.transact(signer, {"to": fresh_address(), "value": 1})  # caches the nonce
    other = Chain(chain.w3)  # another process, in effect
    other.transact(signer, {"to": fresh_address(), "value": 1})
    # the cached nonce is now too low: the chain re-reads it and signs again
    assert chain.transact(signer, {"to": fresh_address(), "value": 1})["status"] == 1


def test_confirmations_wait_for_later_blocks(anvil_chain: Chain, accounts: list[Signer]) -> None:
    waiting = Chain(anvil_chain.w3, confirmations=2)
    start = anvil_chain.block_number()

    def confirm() -> None:
        """Mine one block on top of the transaction's, once that exists: the order is fixed
        whatever the machine's speed (a timer that fired before the transaction was sent
        mined the confirming block too early, and the wait then timed out under load)."""
        for _ in range(6000):
            if anvil_chain.block_number() > start:
                anvil_chain.mine()
                return
            threading.Event().wait(0.01)

    helper = threading.Thread(target=confirm)
    helper.start()
    try:
        receipt = waiting.transact(accounts[3], {"to": fresh_address(), "value": 1})
    finally:
        helper.join()
    assert receipt["blockNumber"] == start + 1
    assert anvil_chain.block_number() >= receipt["blockNumber"] + 1
    impatient = Chain(anvil_chain.w3, confirmations=3, receipt_timeout=0.05)
    with pytest.raises(TransactionFailed, match="not yet 3 blocks deep") as caught:
        impatient.transact(accounts[3], {"to": fresh_address(), "value": 1})
    assert caught.value.receipt is not None and caught.value.receipt["status"] == 1


# -- reverts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(REVERTS))
def test_precheck_revert_carries_data_and_sends_nothing(chain: Chain, accounts: list[Signer],
                                                        kind: str) -> None:
    signer = accounts[7]
    target = deploy(chain, signer, always_revert(REVERTS[kind]))
    nonce = chain.w3.eth.get_transaction_count(signer.address)
    with pytest.raises(RevertError) as caught:
        chain.transact(signer, {"to": target, "data": "0x1234"})
    assert caught.value.data == REVERTS[kind]
    assert not isinstance(caught.value, TransactionFailed)
    assert describe_revert(REVERTS[kind]) in str(caught.value)
    assert chain.w3.eth.get_transaction_count(signer.address) == nonce
    with pytest.raises(RevertError) as called:
        chain.call({"to": target, "data": "0x"})
    assert called.value.data == REVERTS[kind]


@pytest.mark.parametrize("kind", ["custom", "string", "empty"])
def test_mined_revert_is_replayed_for_data(chain: Chain, accounts: list[Signer],
                                           kind: str) -> None:
    signer = accounts[7]
    target = deploy(chain, signer, always_revert(REVERTS[kind]))
    with pytest.raises(TransactionReverted) as caught:
        chain.transact(signer, {"to": target, "data": "0x"}, gas=60_000, precheck=False)
    error = caught.value
    assert error.data == REVERTS[kind]
    assert error.tx_hash is not None and error.tx_hash in str(error)
    assert error.receipt["status"] == 0
    assert isinstance(error, RevertError) and isinstance(error, TransactionFailed)
    # the failed transaction used its nonce; the next one goes through
    assert chain.transact(signer, {"to": fresh_address(), "value": 1})["status"] == 1


def test_out_of_gas_is_reported_as_such(chain: Chain, accounts: list[Signer]) -> None:
    address = Web3.to_checksum_address(deploy(chain, accounts[8], STORE_RUNTIME))
    store = chain.w3.eth.contract(address=address, abi=STORE_ABI)
    with pytest.raises(TransactionReverted, match="ran out of gas") as caught:
        chain.transact(accounts[8], store.functions.set(1), gas=22_000, precheck=False)
    assert caught.value.data == b""
    with pytest.raises(ChainError):  # the pre-check with that gas fails too
        chain.transact(accounts[8], store.functions.set(1), gas=22_000)


def test_revert_data_shapes() -> None:
    from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

    hex_data = "0x" + CUSTOM_ERROR.hex()
    assert revert_data(ContractCustomError(hex_data, data=hex_data)) == CUSTOM_ERROR
    assert revert_data(ContractLogicError("execution reverted", data="0x")) == b""
    assert revert_data(ContractLogicError("x", data="Reverted " + hex_data)) == CUSTOM_ERROR
    assert revert_data(ContractLogicError("x", data={"message": "m", "data": hex_data})) \
        == CUSTOM_ERROR
    besu = Web3RPCError("Execution reverted", rpc_response={
        "jsonrpc": "2.0", "id": 1,
        "error": {"code": -32000, "message": "Execution reverted", "data": hex_data}})
    assert revert_data(besu) == CUSTOM_ERROR
    not_a_revert = Web3RPCError("nonce too low", rpc_response={
        "jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "nonce too low"}})
    assert revert_data(not_a_revert) is None
    assert revert_data(ValueError("something else")) is None


def test_precheck_catches_revert_when_node_estimates_a_number(
        anvil: Anvil, anvil_chain: Chain, accounts: list[Signer]) -> None:
    target = deploy(anvil_chain, accounts[9], always_revert(CUSTOM_ERROR))
    with RewritingProxy(anvil.url, estimate_always=True) as proxy:
        chain = connect(proxy.url)
        assert chain.w3.eth.estimate_gas({"to": target, "from": accounts[9].address}) == 50_000
        with pytest.raises(RevertError) as caught:
            chain.transact(accounts[9], {"to": target, "data": "0x"})
        assert caught.value.data == CUSTOM_ERROR


# -- time --------------------------------------------------------------------------------------


def test_advance_time(chain: Chain) -> None:
    start = chain.now()
    block = chain.block_number()
    assert chain.advance_time(3600) == start + 3600
    assert chain.now() == start + 3600
    assert chain.block_number() == block + 1


def test_next_timestamp_applies_to_next_transaction(chain: Chain, accounts: list[Signer]) -> None:
    target = chain.now() + 86_400
    chain.set_next_timestamp(target)
    receipt = chain.transact(accounts[3], {"to": fresh_address(), "value": 1})
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == target
    with pytest.raises(ChainError, match="cannot go back"):
        chain.set_next_timestamp(target - 1)


def test_mine(chain: Chain) -> None:
    block = chain.block_number()
    chain.mine()
    chain.mine(3)
    assert chain.block_number() == block + 4


def test_fund_and_snapshot(chain: Chain) -> None:
    address = fresh_address()
    chain.fund(address, 5 * 10**18)
    chain.fund(address, 1)
    assert chain.balance(address) == 5 * 10**18 + 1
    snapshot = chain.snapshot()
    chain.fund(address, 10)
    chain.revert(snapshot)
    assert chain.balance(address) == 5 * 10**18 + 1


# -- connecting ------------------------------------------------------------------------------


def test_closed_port_is_node_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NodeUnreachable) as caught:
        connect(url)
    message = str(caught.value)
    assert url in message
    assert "munibond chain" in message
    assert "Traceback" not in message and "requests" not in message


def test_node_gone_mid_run_is_node_unreachable(accounts: list[Signer]) -> None:
    node = start_anvil()
    chain = node.connect()
    chain.transact(accounts[0], {"to": accounts[1].address, "value": 1})
    node.stop()
    with pytest.raises(NodeUnreachable, match=node.url):
        chain.transact(accounts[0], {"to": accounts[1].address, "value": 1})
    with pytest.raises(NodeUnreachable):  # also when web3 is used directly
        chain.w3.eth.get_block("latest")
    assert chain.w3.is_connected() is False


def test_password_in_url_is_not_shown() -> None:
    with pytest.raises(NodeUnreachable) as caught:
        connect(f"http://alice:hunter2@127.0.0.1:{free_port()}")
    assert "hunter2" not in str(caught.value)


def test_wrong_chain_id_and_bad_urls(anvil: Anvil) -> None:
    with pytest.raises(ConfigError, match="31337"):
        connect(anvil.url, expected_chain_id=1)
    assert connect(anvil.url, expected_chain_id=31337).chain_id == 31337
    with pytest.raises(ConfigError, match="WebSocket"):
        connect("ws://127.0.0.1:8546")
    with pytest.raises(ConfigError):
        connect("127.0.0.1:8545")


def test_poa_decision() -> None:
    assert not needs_poa_middleware(b"")
    assert not needs_poa_middleware(b"\x00" * 32)
    assert needs_poa_middleware(b"\x00" * 33)
    assert needs_poa_middleware("0x" + "ab" * 97)  # Clique: vanity + signer + seal
    assert not needs_poa_middleware("0x" + "ab" * 32)


def test_poa_middleware_injected_for_long_extra_data(anvil: Anvil) -> None:
    with RewritingProxy(anvil.url, extra_data="0x" + "ab" * 97) as proxy:
        detected = connect(proxy.url)
        assert "extradata_to_poa" in detected.w3.middleware_onion
        block = detected.w3.eth.get_block("latest")
        assert block["proofOfAuthorityData"] == bytes.fromhex("ab" * 97)
        forced_off = connect(proxy.url, poa=False)
        with pytest.raises(ExtraDataLengthError):
            forced_off.w3.eth.get_block("latest")
    plain = connect(anvil.url)
    assert "extradata_to_poa" not in plain.w3.middleware_onion
    assert "extradata_to_poa" in connect(anvil.url, poa=True).w3.middleware_onion


def test_dev_helpers_refused_on_a_real_node(anvil: Anvil) -> None:
    with RewritingProxy(anvil.url, client_version="Geth/v1.13.0") as proxy:
        chain = connect(proxy.url)
        assert chain.dev_kind is None
        with pytest.raises(ChainError, match="local development chain"):
            chain.advance_time(10)
        with pytest.raises(ChainError, match="local development chain"):
            chain.fund(fresh_address(), 1)


def test_in_process_chain_with_chain_id(accounts: list[Signer]) -> None:
    chain = in_process_chain(chain_id=31337, accounts=2)
    assert chain.chain_id == 31337
    assert chain.w3.eth.chain_id == 31337
    assert chain.transact(accounts[0], {"to": accounts[1].address, "value": 1})["status"] == 1


# -- anvil ---------------------------------------------------------------------------------


def test_find_anvil_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    real = find_anvil()
    monkeypatch.setenv("MUNIBOND_ANVIL", str(real))
    assert find_anvil() == real
    monkeypatch.setenv("MUNIBOND_ANVIL", str(tmp_path / "nope"))
    with pytest.raises(ToolNotFound, match="MUNIBOND_ANVIL"):
        find_anvil()


def test_missing_anvil_says_npm_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.delenv("MUNIBOND_ANVIL", raising=False)
    monkeypatch.setattr(anvil_module, "_search_roots", lambda: [tmp_path])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolNotFound, match="npm ci"):
        find_anvil()


def test_anvil_failing_to_start_shows_its_output() -> None:
    with pytest.raises(ChainError, match="anvil exited") as caught:
        start_anvil(extra_args=["--no-such-option"])
    assert "no-such-option" in str(caught.value)


def test_anvil_on_a_given_port() -> None:
    port = free_port()
    with start_anvil(port=port, accounts=1, chain_id=1337) as node:
        assert node.port == port
        assert connect(node.url, expected_chain_id=1337).chain_id == 1337
    assert not node.running


# -- signers ---------------------------------------------------------------------------------

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
KEY_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"


def assert_key_hidden(text: str) -> None:
    assert KEY[2:] not in text.lower()


def test_signer_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUNIBOND_PRIVATE_KEY", KEY + "\n")
    signer = signer_from_env()
    assert signer.address == KEY_ADDRESS
    for text in (repr(signer), str(signer), f"{signer}", f"{signer!r}", repr([signer])):
        assert_key_hidden(text)
        assert KEY_ADDRESS in text
    monkeypatch.setenv("OTHER_KEY", KEY[2:])
    assert signer_from_env("OTHER_KEY").address == KEY_ADDRESS


def test_signer_from_env_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MUNIBOND_PRIVATE_KEY", raising=False)
    with pytest.raises(ConfigError, match="MUNIBOND_PRIVATE_KEY is not set"):
        signer_from_env()
    for bad in (KEY[:-1], KEY + "00", "0x" + "zz" * 32, "0x" + "00" * 32):
        monkeypatch.setenv("MUNIBOND_PRIVATE_KEY", bad)
        with pytest.raises(ConfigError) as caught:
            signer_from_env()
        assert "MUNIBOND_PRIVATE_KEY" in str(caught.value)
        assert bad[2:] not in str(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_signer_from_keystore(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    path = tmp_path / "key.json"
    keystore = Account.encrypt(bytes.fromhex(KEY[2:]), "s3cret", kdf="pbkdf2", iterations=1000)
    path.write_text(json.dumps(keystore))
    monkeypatch.setenv("MUNIBOND_KEYSTORE_PASSWORD", "s3cret")
    signer = signer_from_keystore(path)
    assert signer.address == KEY_ADDRESS
    assert_key_hidden(repr(signer) + str(signer))
    assert str(path) in repr(signer)

    monkeypatch.setenv("MUNIBOND_KEYSTORE_PASSWORD", "wrong")
    with pytest.raises(ConfigError, match="wrong password"):
        signer_from_keystore(path)

    monkeypatch.delenv("MUNIBOND_KEYSTORE_PASSWORD")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt
    with pytest.raises(ConfigError, match="MUNIBOND_KEYSTORE_PASSWORD"):
        signer_from_keystore(path)

    with pytest.raises(ConfigError, match="does not exist"):
        signer_from_keystore(tmp_path / "missing.json")
    (tmp_path / "junk.json").write_text("not json")
    with pytest.raises(ConfigError, match="not JSON"):
        signer_from_keystore(tmp_path / "junk.json")


def test_signer_is_not_picklable_and_compares_by_key() -> None:
    import pickle

    signer = signer_from_key(KEY)
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    assert signer == signer_from_key(KEY[2:])
    assert signer != dev_accounts(1)[0]


def test_bad_mnemonic_is_not_echoed() -> None:
    words = "apple " * 11 + "zebra"
    with pytest.raises(ConfigError) as caught:
        dev_accounts(1, mnemonic=words)
    assert "apple" not in str(caught.value)
    assert dev_accounts(1, mnemonic=DEV_MNEMONIC)[0].address == ANVIL_ADDRESSES[0]


# -- a JSON-RPC proxy that makes anvil look like another node ---------------------------------


class RewritingProxy:
    """Forwards JSON-RPC to ``upstream`` and rewrites some answers: block ``extraData`` (to look
    like a Clique/IBFT node), ``eth_estimateGas`` errors (answered with a number, as some
    permissioned nodes do) and ``web3_clientVersion``."""

    def __init__(self, upstream: str, *, extra_data: str | None = None,
                 estimate_always: bool = False, client_version: str | None = None) -> None:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                forwarded = urllib.request.Request(
                    upstream, data=body, headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(forwarded, timeout=10) as response:
                    answer = json.loads(response.read())
                answer = proxy.rewrite(request, answer)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.extra_data = extra_data
        self.estimate_always = estimate_always
        self.client_version = client_version
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    def rewrite(self, request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        method = request.get("method")
        result = answer.get("result")
        if (self.extra_data and method in ("eth_getBlockByNumber", "eth_getBlockByHash")
                and isinstance(result, dict)):
            result["extraData"] = self.extra_data
        if self.estimate_always and method == "eth_estimateGas":
            return {"jsonrpc": "2.0", "id": request.get("id"), "result": hex(50_000)}
        if self.client_version and method == "web3_clientVersion":
            answer["result"] = self.client_version
        return answer

    def __enter__(self) -> RewritingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_web3_instance_is_plain(local_chain: Chain) -> None:
    assert isinstance(local_chain.w3, Web3)
    assert local_chain.dev_kind == "eth-tester"


# -- a frozen clock: time-boundary tests independent of the machine's speed -------------------


def _slow_machine(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """From now on the machine's clock reads ``seconds`` later than it is: as if the machine
    stalled that long between a test reading the chain's time and warping (py-evm stamps a new
    block with the machine's time)."""
    import time

    from eth._utils import headers

    monkeypatch.setattr(headers, "eth_now", lambda: int(time.time()) + seconds)


def test_an_unfrozen_in_process_chain_follows_the_machine_clock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What failed under load: a margin of 100 s from chain.now() was gone by the warp."""
    chain = in_process_chain(accounts=2)
    signer = dev_accounts(1)[0]
    boundary = chain.now() + 100
    _slow_machine(monkeypatch, 1_000)
    chain.mine()  # the block being built was stamped before the stall; the next one after it
    chain.transact(signer, {"to": fresh_address(), "value": 1})
    with pytest.raises(ChainError, match="cannot go back or stand still"):
        chain.set_next_timestamp(boundary - 1)


@pytest.mark.parametrize("stall", [0, 1_000, 10**6])
def test_a_frozen_clock_ignores_the_machine_clock(monkeypatch: pytest.MonkeyPatch,
                                                  stall: int) -> None:
    chain = in_process_chain(accounts=2)
    chain.freeze_clock()
    signer = dev_accounts(1)[0]
    start = chain.now()
    snapshot = chain.snapshot()
    boundary = chain.now() + 100
    _slow_machine(monkeypatch, stall)
    receipt = chain.transact(signer, {"to": fresh_address(), "value": 1})
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == start + 1
    chain.mine(3)
    assert chain.now() == start + 4
    chain.set_next_timestamp(boundary - 1)  # the margin is intact however slow the machine
    chain.mine()
    assert chain.now() == boundary - 1
    # reverting to an old snapshot does not let the machine's clock in either
    chain.revert(snapshot)
    chain.mine()
    assert chain.now() == start + 1
    # an explicit time still wins, and the clock goes on from it
    chain.set_next_timestamp(start + 500)
    chain.mine(2)
    assert chain.now() == start + 501


def test_freeze_clock_on_anvil() -> None:
    with start_anvil(accounts=1) as node:  # its own node: the module's keeps the machine clock
        chain = node.connect()
        chain.freeze_clock()
        start = chain.now()
        chain.mine()
        chain.mine()
        assert chain.now() == start + 2
        chain.set_next_timestamp(start + 100)
        chain.mine(2)
        assert chain.now() == start + 101
