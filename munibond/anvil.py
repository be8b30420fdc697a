"""A local anvil node for development and tests, started from the project's node_modules.

``start_anvil()`` runs the anvil binary that npm installed (``@foundry-rs/anvil-<os>-<cpu>``), on a
free port, funded with the development accounts of :data:`munibond.signers.DEV_MNEMONIC`, and by
default with free gas (``--gas-price 0 --block-base-fee-per-gas 0``) like a permissioned chain. It
returns once the node answers JSON-RPC, and stops the node on :meth:`Anvil.stop`, on leaving a
``with`` block, or when the interpreter exits.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from munibond.exceptions import ChainError, ToolNotFound
from munibond.signers import DEV_MNEMONIC, Signer, dev_accounts

if TYPE_CHECKING:
    from munibond.chain import Chain

__all__ = ["ANVIL_ENV", "Anvil", "find_anvil", "start_anvil"]

#: environment variable naming the anvil binary to use (overrides the node_modules search)
ANVIL_ENV = "MUNIBOND_ANVIL"

_LISTENING = re.compile(rb"Listening on ([0-9A-Za-z.:\[\]-]+):(\d+)")


def _npm_package_names() -> list[str]:
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform,
                                                                         sys.platform)
    machine = platform.machine().lower()
    cpu = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine)
    return [f"anvil-{system}-{cpu}"]


def _candidates_in(node_modules: Path) -> Iterator[Path]:
    exe = "anvil.exe" if sys.platform == "win32" else "anvil"
    for name in _npm_package_names():
        yield node_modules / "@foundry-rs" / name / "bin" / exe
    yield from sorted((node_modules / "@foundry-rs").glob(f"anvil-*/bin/{exe}"))
    yield node_modules / ".bin" / exe


def _search_roots() -> list[Path]:
    roots: list[Path] = []
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for directory in (start, *start.parents):
            if directory not in roots:
                roots.append(directory)
    return roots


def find_anvil() -> Path:
    """The anvil binary: ``$MUNIBOND_ANVIL``, else the nearest ``node_modules`` (searched upward
    from this package and from the working directory), else ``anvil`` on ``PATH``.

    Raises ToolNotFound with what to do when there is none.
    """
    override = os.environ.get(ANVIL_ENV)
    if override:
        path = Path(override).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        found = shutil.which(override)
        if found:
            return Path(found)
        raise ToolNotFound(f"{ANVIL_ENV} is set to {override!r}, which is not an executable file")
    for root in _search_roots():
        node_modules = root / "node_modules"
        if not node_modules.is_dir():
            continue
        for candidate in _candidates_in(node_modules):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    packages = " or ".join(f"@foundry-rs/{name}" for name in _npm_package_names())
    raise ToolNotFound(
        f"anvil is not installed: run `npm ci` in the project directory (it installs {packages}), "
        f"or point {ANVIL_ENV} at an anvil binary")


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace").strip()


def _rpc_answers(url: str, timeout: float) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return False


class Anvil:
    """A running anvil process. Use as a context manager, or call :meth:`stop`."""

    def __init__(self, process: subprocess.Popen[bytes], *, host: str, port: int, chain_id: int,
                 accounts: int, mnemonic: str, zero_gas: bool, log_path: Path,
                 keep_log: bool) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.chain_id = chain_id
        self.zero_gas = zero_gas
        self.log_path = log_path
        self._accounts = accounts
        self._mnemonic = mnemonic
        self._keep_log = keep_log
        self._stopped = False
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def accounts(self) -> list[Signer]:
        """The funded development accounts of this node."""
        return dev_accounts(self._accounts, mnemonic=self._mnemonic)

    def connect(self, **options: Any) -> Chain:
        """A :class:`~munibond.chain.Chain` on this node.

        Legacy transactions with gasPrice 0 on a zero-gas node, EIP-1559 otherwise, unless
        ``options`` (passed to :func:`munibond.chain.connect`) say differently.
        """
        from munibond.chain import connect

        options.setdefault("expected_chain_id", self.chain_id)
        options.setdefault("poa", False)
        if not self.zero_gas:
            options.setdefault("tx_mode", "eip1559")
        return connect(self.url, **options)

    def stop(self) -> None:
        """Stop the node (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if not self._keep_log:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    @property
    def running(self) -> bool:
        return not self._stopped and self.process.poll() is None

    def __enter__(self) -> Anvil:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"Anvil({self.url}, chain id {self.chain_id}, {state})"


def start_anvil(*, port: int | None = None, host: str = "127.0.0.1", zero_gas: bool = True,
                accounts: int = 10, balance_eth: int = 10_000, chain_id: int = 31337,
                block_time: float | None = None, mnemonic: str = DEV_MNEMONIC,
                hardfork: str | None = None, extra_args: list[str] | None = None,
                startup_timeout: float = 15.0, log_path: str | os.PathLike[str] | None = None,
                binary: str | os.PathLike[str] | None = None) -> Anvil:
    """Start anvil and wait until it answers JSON-RPC.

    ``port=None`` lets the OS pick a free port (anvil is started with ``--port 0`` and the port is
    read from its log, so there is no race with other processes). ``zero_gas`` makes gas free
    (``--gas-price 0 --block-base-fee-per-gas 0``), as on a permissioned chain. ``block_time``
    (seconds) switches from mining on every transaction to interval mining. anvil's output goes to
    a log file (``log_path``, else a temporary file removed on stop), never to a pipe that could
    fill up and block it.
    """
    exe = Path(binary) if binary is not None else find_anvil()
    args = [str(exe), "--host", host, "--port", str(0 if port is None else port),
            "--accounts", str(accounts), "--balance", str(balance_eth),
            "--chain-id", str(chain_id), "--mnemonic", mnemonic]
    if zero_gas:
        args += ["--gas-price", "0", "--block-base-fee-per-gas", "0"]
    if block_time is not None:
        args += ["--block-time", str(block_time)]
    if hardfork is not None:
        args += ["--hardfork", hardfork]
    args += list(extra_args or [])

    keep_log = log_path is not None
    if log_path is None:
        fd, name = tempfile.mkstemp(prefix="munibond-anvil-", suffix=".log")
        os.close(fd)
        log_file_path = Path(name)
    else:
        log_file_path = Path(log_path)
        log_file_path.parent.mkdir(parents=True, exist_ok=True)
    log: IO[bytes] = log_file_path.open("wb")
    try:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, close_fds=True)
    except OSError as error:
        log.close()
        with contextlib.suppress(OSError):
            if not keep_log:
                log_file_path.unlink()
        raise ToolNotFound(f"cannot run anvil at {exe}: {error.strerror or error}; run `npm ci` "
                           f"in the project directory, or point {ANVIL_ENV} at a working "
                           f"anvil") from error
    finally:
        if not log.closed:
            log.close()  # the child holds its own descriptor

    def fail(message: str) -> ChainError:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        tail = _tail(log_file_path)
        if not keep_log:
            with contextlib.suppress(OSError):
                log_file_path.unlink()
        return ChainError(f"{message}\n--- anvil output (last lines) ---\n{tail}" if tail
                          else message)

    deadline = time.monotonic() + startup_timeout
    # wait for anvil's own "Listening on" line even when the port was given, so that another
    # node already on that port is never mistaken for this one
    bound_port: int | None = None
    delay = 0.005
    while True:
        code = process.poll()
        if code is not None:
            shown = " ".join(a if a != mnemonic else "<mnemonic>" for a in args[1:])
            raise fail(f"anvil exited with code {code} while starting ({shown})")
        if bound_port is None:
            match = _LISTENING.search(log_file_path.read_bytes())
            if match:
                bound_port = int(match.group(2))
        if bound_port is not None:
            url = f"http://{host if ':' not in host else f'[{host}]'}:{bound_port}"
            if _rpc_answers(url, timeout=1.0):
                break
        if time.monotonic() > deadline:
            raise fail(f"anvil did not answer JSON-RPC within {startup_timeout:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.1)

    return Anvil(process, host=host, port=bound_port, chain_id=chain_id, accounts=accounts,
                 mnemonic=mnemonic, zero_gas=zero_gas, log_path=log_file_path, keep_log=keep_log)
