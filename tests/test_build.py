"""munibond.build on small scratch projects (never the real contracts/), and the solc-js adapter."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from munibond import build as mb
from munibond.artifacts import load_artifact, read_artifact
from munibond.exceptions import BuildError

REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (NODE_MODULES / "solc").is_dir()
    or not (NODE_MODULES / "@openzeppelin" / "contracts").is_dir(),
    reason="needs node and `npm ci` (solc-js, OpenZeppelin)")

TOKEN = """\
// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPing} from "../interfaces/IPing.sol";
import {Twice} from "./Parts.sol";

/// @title A scratch token
contract ScratchToken is ERC20, AccessControl, IPing {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    constructor(address admin) ERC20("Scratch", "SCR") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mint `amount` to `to`
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, Twice.twice(amount) / 2);
    }

    function ping() external pure returns (uint256) {
        return 1;
    }
}
"""

PARTS = """\
// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";

library Twice {
    function twice(uint256 x) internal pure returns (uint256) {
        return 2 * x;
    }
}

abstract contract Base is Initializable {
    uint256 internal _value;

    function value() external view virtual returns (uint256);
}

contract Counter is Base {
    function initialize(uint256 v) external initializer {
        _value = Twice.twice(v);
    }

    function value() external view override returns (uint256) {
        uint256 unused;
        return _value;
    }
}
"""

IPING = """\
// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

interface IPing {
    function ping() external pure returns (uint256);
}
"""


def make_project(root: Path) -> Path:
    (root / "contracts" / "token").mkdir(parents=True)
    (root / "contracts" / "interfaces").mkdir()
    (root / "contracts" / "token" / "ScratchToken.sol").write_text(TOKEN)
    (root / "contracts" / "token" / "Parts.sol").write_text(PARTS)
    (root / "contracts" / "interfaces" / "IPing.sol").write_text(IPING)
    (root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, mb.BuildResult]:
    root = make_project(tmp_path_factory.mktemp("built"))
    return root, mb.build(root)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")


def artifacts(root: Path) -> Path:
    return root / "munibond" / "artifacts"


def strip_metadata(code: bytes) -> bytes:
    """Runtime code without solc's CBOR metadata trailer (its last 2 bytes give its length)."""
    length = int.from_bytes(code[-2:], "big")
    assert code[-length - 2] in (0xA1, 0xA2, 0xA3), "no CBOR metadata where solc puts it"
    return code[:-length - 2]


def opcodes(code: bytes) -> Iterator[tuple[int, int]]:
    """(offset, opcode) for every instruction, skipping the data of PUSH1..PUSH32."""
    pc = 0
    while pc < len(code):
        op = code[pc]
        yield pc, op
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


def push0_offsets(code: bytes) -> list[int]:
    return [pc for pc, op in opcodes(strip_metadata(code)) if op == 0x5F]


# -- a build -------------------------------------------------------------------------------------


def test_build_writes_one_artifact_per_deployable_contract(
        built: tuple[Path, mb.BuildResult]) -> None:
    root, result = built
    assert result.compiled
    # no interface (IPing), abstract contract (Base), internal library (Twice), nothing from OZ
    assert result.contracts == ("Counter", "ScratchToken")
    names = sorted(p.name for p in artifacts(root).glob("*.json"))
    assert names == ["Counter.json", "ScratchToken.json", "build-info.json"]
    token = json.loads((artifacts(root) / "ScratchToken.json").read_text())
    assert token["contractName"] == "ScratchToken"
    assert token["sourceName"] == "contracts/token/ScratchToken.sol"
    assert token["bytecode"].startswith("0x") and token["deployedBytecode"].startswith("0x")
    assert token["methodIdentifiers"]["mint(address,uint256)"] == "40c10f19"
    assert token["userdoc"]["methods"]["mint(address,uint256)"]["notice"] == \
        "Mint `amount` to `to`"
    assert token["devdoc"]["title"] == "A scratch token"
    assert any(s["label"] == "_balances" for s in token["storageLayout"]["storage"])
    assert token["compiler"] == {"version": result.compiler_version,
                                 "settings": mb.compiler_settings()}
    assert result.compiler_version.startswith("0.8.37+commit.")
    metadata = json.loads(token["metadata"])
    assert metadata["settings"]["evmVersion"] == "paris"
    assert metadata["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    # source unit names are relative to the project root: the same on every clone
    assert all(not name.startswith("/") for name in metadata["sources"])
    assert result.sizes["ScratchToken"] == (len(token["deployedBytecode"]) - 2) // 2


def test_build_info_hashes_every_source_including_imports(
        built: tuple[Path, mb.BuildResult]) -> None:
    root, result = built
    info = json.loads((artifacts(root) / "build-info.json").read_text())
    sources = info["sources"]
    assert "contracts/token/ScratchToken.sol" in sources
    assert "contracts/interfaces/IPing.sol" in sources
    assert "node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol" in sources
    assert ("node_modules/@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol"
            in sources)
    erc20 = (root / "node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol").read_bytes()
    assert sources["node_modules/@openzeppelin/contracts/token/ERC20/ERC20.sol"] == \
        hashlib.sha256(erc20).hexdigest()
    assert info["compiler"]["version"] == result.compiler_version
    assert info["compiler"]["settings"]["evmVersion"] == "paris"
    assert set(info["artifacts"]) == {"Counter", "ScratchToken"}


def test_artifacts_are_deterministic_json(built: tuple[Path, mb.BuildResult]) -> None:
    root, _ = built
    for path in artifacts(root).glob("*.json"):
        text = path.read_text()
        assert text.endswith("}\n")
        assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


def test_warnings_are_returned(built: tuple[Path, mb.BuildResult]) -> None:
    _, result = built
    assert any("Unused local variable" in w for w in result.warnings), result.warnings


def test_no_push0_in_code(built: tuple[Path, mb.BuildResult]) -> None:
    root, _ = built
    for name in ("ScratchToken", "Counter"):
        artifact = read_artifact(artifacts(root) / f"{name}.json")
        assert artifact.deployed_bytecode
        assert push0_offsets(artifact.deployed_bytecode) == [], name
        # init code = constructor + runtime (+ metadata): the constructor part has none either
        init = artifact.bytecode
        runtime_at = init.find(artifact.deployed_bytecode)
        assert runtime_at > 0
        assert [pc for pc, op in opcodes(init[:runtime_at]) if op == 0x5F] == []


def test_push0_detector_finds_push0_in_a_shanghai_build(built: tuple[Path, mb.BuildResult]) -> None:
    """The check above means something: the same source for shanghai does use PUSH0."""
    import solcx

    root, _ = built
    compiler = mb.find_compiler(root)
    settings = mb.compiler_settings() | {"evmVersion": "shanghai"}
    settings["outputSelection"] = {"*": {"*": ["evm.deployedBytecode.object"]}}
    out = solcx.compile_standard(
        {"language": "Solidity", "settings": settings,
         "sources": {"contracts/interfaces/IPing.sol": {"content": IPING},
                     "x/Pinger.sol": {"content": "// SPDX-License-Identifier: MIT\n"
                                      "pragma solidity ^0.8.24;\n"
                                      "contract Pinger { uint256 x; function f() external "
                                      "{ x = 0; } }"}}},
        solc_binary=compiler.path, base_path=root)
    code = bytes.fromhex(out["contracts"]["x/Pinger.sol"]["Pinger"]["evm"]["deployedBytecode"]
                         ["object"])
    assert push0_offsets(code)


def test_read_artifact(built: tuple[Path, mb.BuildResult]) -> None:
    root, _ = built
    artifact = read_artifact(artifacts(root) / "ScratchToken.json")
    assert artifact.name == "ScratchToken"
    assert artifact.selectors["ping()"] == bytes.fromhex("5c36b186")
    assert any(item.get("name") == "mint" for item in artifact.abi)
    assert artifact.compiler_settings["evmVersion"] == "paris"
    assert not artifact.needs_linking
    assert json.loads(artifact.metadata)["language"] == "Solidity"


def test_load_artifact_missing_says_run_build() -> None:
    with pytest.raises(BuildError, match="munibond build"):
        load_artifact("NoSuchContractAnywhere")


def test_rebuild_without_changes_does_nothing(built: tuple[Path, mb.BuildResult]) -> None:
    root, _ = built
    before = {p.name: p.stat().st_mtime_ns for p in artifacts(root).glob("*.json")}
    again = mb.build(root)
    assert not again.compiled
    assert "up to date" in again.message
    assert again.contracts == ("Counter", "ScratchToken")
    assert before == {p.name: p.stat().st_mtime_ns for p in artifacts(root).glob("*.json")}


def test_check_reproduces_a_clean_build(built: tuple[Path, mb.BuildResult]) -> None:
    root, _ = built
    assert mb.check(root) == []


def test_combined_json_through_compile_files_matches_standard_json(
        built: tuple[Path, mb.BuildResult]) -> None:
    """py-solc-x's compile_files drives the adapter's --combined-json (after --help)."""
    import solcx

    root, _ = built
    compiler = mb.find_compiler(root)
    out = solcx.compile_files(
        [root / "contracts" / "token" / "ScratchToken.sol"],
        solc_binary=compiler.path, import_remappings=list(mb.REMAPPINGS), optimize=True,
        optimize_runs=mb.OPTIMIZER_RUNS, evm_version=mb.EVM_VERSION, base_path=root,
        allow_paths=[root, NODE_MODULES.resolve()])
    combined = out["contracts/token/ScratchToken.sol:ScratchToken"]
    artifact = json.loads((artifacts(root) / "ScratchToken.json").read_text())
    assert "0x" + combined["bin"] == artifact["bytecode"]
    assert "0x" + combined["bin-runtime"] == artifact["deployedBytecode"]
    assert combined["abi"] == artifact["abi"]
    assert combined["hashes"] == artifact["methodIdentifiers"]
    assert combined["metadata"] == artifact["metadata"]
    assert "ast" in combined
    # interfaces come back with empty code, as from native solc
    assert out["contracts/interfaces/IPing.sol:IPing"]["bin"] == ""


# -- changes ------------------------------------------------------------------------------------


def test_changed_source_rebuilds(project: Path) -> None:
    assert mb.build(project).compiled
    old = json.loads((artifacts(project) / "ScratchToken.json").read_text())
    token = project / "contracts" / "token" / "ScratchToken.sol"
    token.write_text(token.read_text().replace(
        "return 1;", "return 2;\n    }\n\n    function pong() external pure returns (uint256) "
        "{\n        return 3;"))
    result = mb.build(project)
    assert result.compiled
    new = json.loads((artifacts(project) / "ScratchToken.json").read_text())
    assert "pong()" in new["methodIdentifiers"] and "pong()" not in old["methodIdentifiers"]
    assert new["deployedBytecode"] != old["deployedBytecode"]
    assert not mb.build(project).compiled
    assert mb.build(project, force=True).compiled


def test_tampered_artifact_is_reported_by_check_and_rebuilt(project: Path) -> None:
    mb.build(project)
    path = artifacts(project) / "Counter.json"
    good = path.read_bytes()
    data = json.loads(good)
    data["deployedBytecode"] = data["deployedBytecode"][:-4] + "0000"
    path.write_text(json.dumps(data, sort_keys=True, indent=2) + "\n")
    differences = mb.check(project)
    assert len(differences) == 1
    assert "munibond/artifacts/Counter.json" in differences[0]
    assert "deployedBytecode" in differences[0]
    # an extra file is reported too
    (artifacts(project) / "Ghost.json").write_text("{}\n")
    assert any("Ghost.json" in d for d in mb.check(project))
    # build notices the artifacts no longer match build-info.json and restores them
    result = mb.build(project)
    assert result.compiled
    assert result.removed == ("Ghost.json",)
    assert path.read_bytes() == good
    assert mb.check(project) == []


def test_stale_artifacts_are_removed(project: Path) -> None:
    mb.build(project)
    parts = project / "contracts" / "token" / "Parts.sol"
    token = project / "contracts" / "token" / "ScratchToken.sol"
    parts.write_text(PARTS.split("abstract contract")[0])  # keep the library, drop Counter
    token.write_text(token.read_text())
    result = mb.build(project)
    assert result.compiled
    assert result.removed == ("Counter.json",)
    assert not (artifacts(project) / "Counter.json").exists()
    assert result.contracts == ("ScratchToken",)


def test_oversized_contract_fails_naming_it(project: Path) -> None:
    filler = "".join(chr(ord("a") + i % 26) for i in range(mb.EIP170_LIMIT + 500))
    (project / "contracts" / "Huge.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\n\n"
        "contract Huge {\n    function blob() external pure returns (string memory) {\n"
        f'        return "{filler}";\n    }}\n}}\n')
    with pytest.raises(BuildError) as info:
        mb.build(project)
    message = str(info.value)
    assert "Huge" in message and "EIP-170" in message and "24,576" in message
    assert "ScratchToken" not in message
    assert not (artifacts(project) / "build-info.json").exists()


def test_compiler_errors_are_shown_in_full(project: Path) -> None:
    (project / "contracts" / "Broken.sol").write_text(
        "// SPDX-License-Identifier: Apache-2.0\npragma solidity ^0.8.24;\n\n"
        "contract Broken {\n    function f() external { undefinedThing(); }\n}\n")
    with pytest.raises(BuildError) as info:
        mb.build(project)
    message = str(info.value)
    assert "DeclarationError" in message
    assert "contracts/Broken.sol:5" in message  # formattedMessage: file, line and the source
    assert "undefinedThing();" in message


def test_missing_node_modules_says_npm_ci(project: Path) -> None:
    (project / "node_modules").unlink()
    with pytest.raises(BuildError, match="npm ci"):
        mb.build(project)


def test_solc_binary_dir_holds_the_versioned_compiler(project: Path) -> None:
    import solcx.wrapper

    folder = mb.solc_binary_dir(project)
    assert folder == project / ".solc"
    binary = folder / f"solc-v{mb.SOLC_VERSION}"
    assert binary.is_file()
    assert str(solcx.wrapper.get_solc_version(binary)) == mb.SOLC_VERSION


# -- compiler selection and the adapter's native-solc behaviour --------------------------------


def test_no_node_and_no_solc_is_a_clear_error(project: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path / "no-compilers-here"))
    with pytest.raises(BuildError, match=r"neither a native solc 0\.8\.37 nor Node\.js"):
        mb.find_compiler(project)


def test_missing_solcjs_says_npm_ci(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path / "no-compilers-here"))
    monkeypatch.setattr(mb, "_native_candidates", lambda: iter(()))
    (tmp_path / "contracts").mkdir()
    with pytest.raises(BuildError, match="run `npm ci`"):
        mb.find_compiler(tmp_path)


def test_adapter_refuses_unknown_options_like_native_solc(built: tuple[Path, mb.BuildResult],
                                                         ) -> None:
    import solcx
    from solcx.exceptions import UnknownOption

    root, _ = built
    compiler = mb.find_compiler(root)
    with pytest.raises(UnknownOption, match="--no-such-flag"):
        solcx.compile_source("contract A {}", solc_binary=compiler.path, output_values=["abi"],
                             no_such_flag=True)


def test_adapter_only_reads_allowed_folders_like_native_solc(
        built: tuple[Path, mb.BuildResult]) -> None:
    """Native solc checks allowed folders after resolving symlinks; so does the adapter.

    The scratch project's node_modules is a symlink out of the project, which is why the build
    also allows node_modules' real location.
    """
    import solcx
    from solcx.exceptions import SolcError

    root, _ = built
    compiler = mb.find_compiler(root)
    settings = mb.compiler_settings()
    settings["outputSelection"] = {"*": {"*": ["abi"]}}
    source = (root / "contracts" / "token" / "ScratchToken.sol").read_text()
    with pytest.raises(SolcError, match="File outside of allowed directories"):
        solcx.compile_standard(
            {"language": "Solidity", "settings": settings,
             "sources": {"contracts/token/ScratchToken.sol": {"content": source}}},
            solc_binary=compiler.path, base_path=root, allow_paths=[root])
