"""Spawn a Foundry ``anvil`` devnet as a child process."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import IO

from settlement._backends.base import ChainBackend
from settlement._errors import AnvilNotFound, ChainUnavailable

#: environment variable naming the anvil binary explicitly
ANVIL_ENV = "FEDSETTLE_ANVIL"

#: Ethereum mainnet's per-transaction gas cap (EIP-7825), enforced with ``tx_gas_limit=True``
MAINNET_TX_GAS_CAP = 16_777_216

_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")


def _npm_platform() -> str:
    """The suffix of @foundry-rs/anvil's per-platform package here (``linux-amd64``, ...)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    return f"{sys.platform}-{arch.get(machine, machine)}"


def find_anvil() -> Path:
    """Locate the anvil binary.

    Search order: the ``FEDSETTLE_ANVIL`` environment variable; in ``node_modules`` of the
    current directory or any parent, then next to this package (the repository checkout), the
    platform package's binary (``@foundry-rs/anvil-<platform>/bin/anvil``), else the npm wrapper
    ``.bin/anvil``; ``anvil`` on ``PATH``.

    Raises
    ------
    AnvilNotFound
        With the fix (``npm ci`` in the repository root) in the message.
    """
    env = os.environ.get(ANVIL_ENV)
    if env:
        path = Path(env).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise AnvilNotFound(f"{ANVIL_ENV}={env!r} is not an executable file; fix or unset it")
    roots = [Path.cwd(), *Path.cwd().parents, *Path(__file__).resolve().parents]
    for root in roots:
        # the platform package's binary first: the npm wrapper (.bin/anvil) runs it as its own
        # child, which a SIGKILL of the wrapper would leave running, holding the port
        for candidate in (
            root / "node_modules" / "@foundry-rs" / f"anvil-{_npm_platform()}" / "bin" / "anvil",
            root / "node_modules" / ".bin" / "anvil",
        ):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilNotFound(
        "anvil was not found (looked at $FEDSETTLE_ANVIL, node_modules/.bin/anvil in this "
        "directory and its parents, and PATH); run `npm ci` in the repository root to install "
        "it, or set FEDSETTLE_ANVIL to the binary"
    )


def _set_pdeathsig() -> None:  # pragma: no cover - runs in the child before exec
    # Linux: the kernel kills anvil if this Python process dies without cleaning up (SIGKILL).
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def _stop(proc: subprocess.Popen[bytes], log: IO[bytes] | None, grace: float) -> None:
    if proc.poll() is None:
        # SIGTERM lets anvil write --dump-state / --state before exiting
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=grace)
    if log is not None:
        with contextlib.suppress(Exception):
            log.close()
            os.unlink(log.name)


class AnvilBackend(ChainBackend):
    """An anvil devnet spawned on a free loopback port, stopped by :meth:`close`.

    The process is also stopped when this object is garbage-collected or the interpreter exits
    (including after Ctrl-C), and on Linux when the parent process dies.

    Parameters
    ----------
    binary : str or Path, optional
        The anvil binary; default :func:`find_anvil`.
    port : int
        TCP port; 0 (default) lets the OS pick a free one.
    host : str
        Interface to listen on (loopback by default).
    chain_id : int, optional
        Chain id (anvil's default is 31337).
    accounts : int
        Number of funded dev accounts derived from the test mnemonic.
    balance_eth : int, optional
        Balance of each dev account in ether (anvil's default is 10000).
    tx_gas_limit : bool
        Enforce mainnet's per-transaction gas cap (``--enable-tx-gas-limit``, 16,777,216).
    block_time : float, optional
        Mine a block every ``block_time`` seconds instead of one per transaction.
    gas_limit : int, optional
        Block gas limit.
    state : str or Path, optional
        ``--state``: load this file if it exists and dump to it on exit (reopen a chain later).
    load_state, dump_state : str or Path, optional
        The two halves of ``state`` separately.
    extra_args : sequence of str
        More anvil flags, passed through.
    startup_timeout : float
        Seconds to wait for the RPC endpoint before giving up.
    """

    def __init__(
        self,
        binary: str | Path | None = None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        chain_id: int | None = None,
        accounts: int = 10,
        balance_eth: int | None = None,
        tx_gas_limit: bool = False,
        block_time: float | None = None,
        gas_limit: int | None = None,
        state: str | Path | None = None,
        load_state: str | Path | None = None,
        dump_state: str | Path | None = None,
        extra_args: tuple[str, ...] | list[str] = (),
        startup_timeout: float = 30.0,
    ):
        self.binary = Path(binary) if binary is not None else find_anvil()
        if not self.binary.is_file():
            raise AnvilNotFound(f"anvil binary {self.binary} does not exist; run `npm ci`")
        if load_state is not None and not Path(load_state).is_file():
            raise ChainUnavailable(f"load_state: {load_state} does not exist")
        args = [str(self.binary), "--host", host, "--port", str(port), "--accounts", str(accounts)]
        if chain_id is not None:
            args += ["--chain-id", str(chain_id)]
        if balance_eth is not None:
            args += ["--balance", str(balance_eth)]
        if tx_gas_limit:
            args.append("--enable-tx-gas-limit")
        if block_time is not None:
            args += ["--block-time", str(block_time)]
        if gas_limit is not None:
            args += ["--gas-limit", str(gas_limit)]
        if state is not None:
            args += ["--state", str(state)]
        if load_state is not None:
            args += ["--load-state", str(load_state)]
        if dump_state is not None:
            args += ["--dump-state", str(dump_state)]
        args += list(extra_args)
        self.args = tuple(args)
        self.tx_gas_limit = tx_gas_limit
        # a log file, not a pipe: anvil logs every request and a full pipe would block it
        self._log = tempfile.NamedTemporaryFile(prefix="anvil-", suffix=".log", delete=False)
        try:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                preexec_fn=_set_pdeathsig if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            self._log.close()
            os.unlink(self._log.name)
            raise AnvilNotFound(
                f"cannot run {self.binary}: {exc}; run `npm ci` to reinstall"
            ) from exc
        self._finalizer = weakref.finalize(self, _stop, self._proc, self._log, 10.0)
        try:
            self._host, self._port = self._wait_listening(startup_timeout)
            self._wait_rpc(startup_timeout)
        except BaseException:
            self.close()
            raise

    # ----------------------------------------------------------------- startup
    def _log_text(self) -> str:
        try:
            return Path(self._log.name).read_text(errors="replace")
        except OSError:
            return ""

    def _wait_listening(self, timeout: float) -> tuple[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self._log_text())
            if match:
                return match.group(1), int(match.group(2))
            if self._proc.poll() is not None:
                tail = self._log_text()[-2000:]
                raise ChainUnavailable(
                    f"anvil exited with code {self._proc.returncode} during startup: {tail}"
                )
            time.sleep(0.02)
        raise ChainUnavailable(f"anvil did not start listening within {timeout} s")

    def _wait_rpc(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self.web3().eth.chain_id  # noqa: B018 - the call is the readiness probe
                return
            except Exception as exc:
                last = exc
                time.sleep(0.05)
        raise ChainUnavailable(f"anvil at {self.rpc_url} did not answer RPC: {last}")

    # ---------------------------------------------------------------- interface
    @property
    def rpc_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port anvil listens on."""
        return self._port

    @property
    def pid(self) -> int:
        """Process id of the anvil child."""
        return self._proc.pid

    @property
    def running(self) -> bool:
        """Whether the anvil process is alive."""
        return self._proc.poll() is None

    def log(self) -> str:
        """Everything anvil printed so far (empty once closed)."""
        return self._log_text()

    def close(self) -> None:
        """Stop anvil (SIGTERM, so ``--dump-state`` is written; SIGKILL after 10 s)."""
        self._finalizer()
