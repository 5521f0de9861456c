"""Start `heliostat node` as a real process on free loopback ports, and talk JSON-RPC to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from solders.keypair import Keypair

ROOT = Path(__file__).resolve().parents[2]


def free_port_pair() -> int:
    """A port p with p and p + 1 both free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65534:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair")


def write_keypair(path: Path, keypair: Keypair) -> Path:
    path.write_text(json.dumps(list(bytes(keypair))))
    return path


@dataclass
class NodeProcess:
    """A running node and how to reach it."""

    data_dir: Path
    port: int
    faucet: Keypair
    extra_args: list[str] = field(default_factory=list)
    executor: str = "runtime"
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port + 1}"

    def start(self, timeout: float = 30.0) -> NodeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        faucet_path = write_keypair(self.data_dir.parent / f"faucet-{self.port}.json", self.faucet)
        args = [
            sys.executable,
            "-m",
            "heliostat.cli",
            "node",
            "--executor",
            self.executor,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--faucet-key",
            str(faucet_path),
            "--faucet-lamports",
            str(10**18),
            "--slot-ms",
            "100",
            *self.extra_args,
        ]
        log = open(self.data_dir / "node.log", "ab")  # noqa: SIM115 - lives as long as the process
        env = {**os.environ, **self.env}
        self.process = subprocess.Popen(args, stdout=log, stderr=log, cwd=ROOT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"node exited: {(self.data_dir / 'node.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError("node did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no chance to flush or clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait for a clean exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def post(self, body: bytes | str, timeout: float = 30.0) -> tuple[int, Any]:
        """POST raw bytes; (HTTP status, parsed JSON or None)."""
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(
            self.url, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as exc:
            text = exc.read()
            return exc.code, json.loads(text) if text else None

    def call(self, method: str, *params: Any) -> dict[str, Any]:
        """One JSON-RPC call; the whole response object."""
        status, answer = self.post(
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        )
        assert status == 200, (status, answer)
        assert isinstance(answer, dict)
        return answer

    def result(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call that must succeed; its result."""
        answer = self.call(method, *params)
        assert "error" not in answer, answer
        return answer["result"]
