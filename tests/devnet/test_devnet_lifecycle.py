"""Restart and shutdown of the devnet on a real anvil.

PLUMBING ONLY: the rollup uses the test-only MockBatchVerifier and the native replay stand-in
job kind of plumbing.py (no proof is made). What is checked is the orchestration: one
directory holds everything, a restart resumes the L1 chain, the node, the prover queue and
the lifecycle without repeating or skipping a batch, and SIGINT/SIGTERM stop every process
(anvil included) with the state written.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from plumbing import plumbing_devnet
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.devnet.runner import Devnet
from heliostat.sdk import bridge
from heliostat.sdk.client import HeliostatClient

HERE = Path(__file__).parent


async def _transfer_and_finalize(devnet: Devnet, payer: Keypair) -> int:
    """Send one SOL transfer from ``payer`` and wait until its batch is executed on L1."""
    async with HeliostatClient(devnet.rpc_url) as client:
        blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(),
                                     lamports=10**9))  # fmt: skip
        tx = VersionedTransaction(Message.new_with_blockhash([ix], payer.pubkey(), blockhash),
                                  [payer])  # fmt: skip
        sent = await client.send_transaction(tx)
        await client.wait_for(sent.signature, "finalized", timeout_s=120)
        receipt = await client.call("heliostat_getReceipt", str(sent.signature))
        return int(receipt["batch"])


def _totals(devnet: Devnet) -> tuple[int, int, int]:
    assert devnet.w3 is not None and devnet.deployment is not None
    f = bridge.rollup_contract(devnet.w3, devnet.deployment.rollup).functions
    return (f.totalCommitted().call(), f.totalProven().call(), f.totalExecuted().call())


def test_a_restart_resumes_the_chain_the_node_and_the_lifecycle(tmp_path: Path) -> None:
    data = tmp_path / "devnet"
    first_lines: list[str] = []
    first = plumbing_devnet(data, first_lines)

    async def before_restart():
        await first.start()
        try:
            assert first.faucet is not None
            batch = await _transfer_and_finalize(first, first.faucet)
            return batch, _totals(first), first.deployment
        finally:
            await first.stop()

    batch, totals, deployment = asyncio.run(before_restart())
    assert totals == (batch, batch, batch)
    for name in ("anvil-state.json", "l1.json", "operator.json", "faucet.json", "proofs.sqlite"):
        assert (data / name).exists(), name

    second_lines: list[str] = []
    second = plumbing_devnet(data, second_lines)

    async def after_restart():
        await second.start()
        try:
            resumed = _totals(second)
            assert second.faucet is not None
            later = await _transfer_and_finalize(second, second.faucet)
            return resumed, later, _totals(second), second.deployment
        finally:
            await second.stop()

    resumed, later, final, again = asyncio.run(after_restart())
    assert again == deployment  # the contracts were reused, not deployed again
    assert not any("deploying" in line for line in second_lines)
    assert any(line.startswith(f"resuming: {batch} sealed batches") for line in second_lines)
    assert resumed == totals  # L1 state came back from anvil's dump
    assert later > batch and final == (later, later, later)  # nothing repeated or skipped
    # batches sealed before the restart were not committed again
    assert not [s for n, s in second.events if n <= batch and s.startswith("committed")]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _session_members(session: int) -> list[int]:
    """Pids of live processes in a session (from /proc: field 6 of stat is the session id)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _start_devnet_process(data: Path) -> tuple[subprocess.Popen[str], str]:
    """Start devnet_main.py in its own session; return it and its output up to the banner."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(HERE / "devnet_main.py"), str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Ctrl-C stops it"):
            break
    return process, "\n".join(lines)


def test_a_killed_devnet_takes_anvil_with_it(tmp_path: Path) -> None:
    """SIGKILL runs no handler: Linux stops anvil when its parent dies (PR_SET_PDEATHSIG)."""
    process, text = _start_devnet_process(tmp_path / "devnet")
    try:
        assert "Heliostat devnet is running" in text, text
        l1_port = int(re.search(r"L1 \(anvil\)\s+http://127\.0\.0\.1:(\d+)", text).group(1))
        assert _port_open(l1_port)
        process.kill()
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    deadline = time.monotonic() + 15
    while _port_open(l1_port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _port_open(l1_port), "anvil outlived a killed devnet"
    while _session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _session_members(process.pid), "a process of the devnet outlived it"


@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "Ctrl-C-to-the-process-group"],
)
def test_a_signal_stops_every_process_cleanly(
    tmp_path: Path, sig: signal.Signals, group: bool
) -> None:
    """As a terminal's Ctrl-C does, the group case signals anvil and the devnet at once."""
    data = tmp_path / "devnet"
    process, text = _start_devnet_process(data)
    try:
        assert "Heliostat devnet is running" in text, text
        l1_port = int(re.search(r"L1 \(anvil\)\s+http://127\.0\.0\.1:(\d+)", text).group(1))
        l2_port = int(re.search(r"L2 JSON-RPC\s+http://127\.0\.0\.1:(\d+)", text).group(1))
        assert _port_open(l1_port) and _port_open(l2_port)
        assert len(_session_members(process.pid)) >= 2  # the devnet and anvil
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
        out, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, out
    assert "stopped cleanly" in out and "Traceback" not in out, out
    deadline = time.monotonic() + 10
    while _session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _session_members(process.pid), "a process of the devnet outlived it"
    assert not _port_open(l1_port), "anvil outlived the devnet"
    assert not _port_open(l2_port), "the node outlived the devnet"
    assert (data / "anvil-state.json").stat().st_size > 0  # the L1 state was written
