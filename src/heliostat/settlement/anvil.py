"""A local Ethereum chain for tests and benchmarks: anvil (from npm) on a free port.

``with Anvil() as chain: w3 = chain.web3()`` starts anvil, waits until it answers JSON-RPC,
and stops it (only the process it started) on exit. The EIP-7825 per-transaction gas cap
(2^24) is enforced, so anything that runs here fits Ethereum's limits. With
``die_with_parent`` (the devnet) Linux stops anvil when the thread that started it dies, even
by SIGKILL, which leaves no exit handler to run.
"""

from __future__ import annotations

import ctypes
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import TracebackType

from web3 import Web3

from heliostat.settlement.errors import ChainError
from heliostat.settlement.toolchain import anvil_path

TX_GAS_CAP = 1 << 24  # EIP-7825
START_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM it when its parent thread dies."""
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def free_port() -> int:
    """Return a TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Anvil:
    """One anvil process; use as a context manager."""

    def __init__(
        self,
        *,
        block_gas_limit: int = 60_000_000,
        tx_gas_cap: bool = True,
        extra_args: tuple[str, ...] = (),
        die_with_parent: bool = False,
    ) -> None:
        """``tx_gas_cap=False`` lifts the EIP-7825 cap (for a proof that needs one big call).

        ``die_with_parent``: start it from a thread that lives as long as the process (the
        main thread), since Linux signals the child when that thread ends.
        """
        self.port = free_port()
        self.die_with_parent = die_with_parent and sys.platform == "linux"
        self.block_gas_limit = block_gas_limit
        self.tx_gas_cap = tx_gas_cap
        self.extra_args = extra_args
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        """The HTTP JSON-RPC endpoint."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start anvil and wait until it answers."""
        args = [
            str(anvil_path()),
            "--port",
            str(self.port),
            "--host",
            "127.0.0.1",
            "--silent",
            "--gas-limit",
            str(self.block_gas_limit),
            *(("--tx-gas-limit",) if self.tx_gas_cap else ()),  # EIP-7825: 2^24 gas per tx
            *self.extra_args,
        ]
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if self.die_with_parent else None,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                raise ChainError(f"anvil exited with {self._process.returncode}: {err[:2000]}")
            if self._answers():
                return
            time.sleep(0.05)
        self.stop()
        raise ChainError(f"anvil did not answer within {START_TIMEOUT_S} s")

    def _answers(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        request = urllib.request.Request(
            self.rpc_url, body.encode(), {"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=1.0) as response:
                return b"result" in response.read()
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        """Stop the process this object started."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()

    def web3(self) -> Web3:
        """Return a web3 client of this chain (the default accounts are unlocked)."""
        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 120}))

    def __enter__(self) -> Anvil:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
