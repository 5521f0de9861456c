"""SIGKILL in the middle of a load run: every soft-confirmed transaction survives, in order,
and the restarted node's state roots (the runtime's Poseidon2 tree, sealed every ~0.3 s)
equal a replay of its history."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import aiohttp
from node_harness import NodeProcess, free_port_pair
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from conftest import StorageFactory
from heliostat.node.replay import replay
from heliostat.node.runtime_executor import RuntimeExecutor
from heliostat.node.storage.sqlite import SqliteStorage
from heliostat.sdk.receipts import verify_receipt

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
SENDERS = 6
SMALL_BATCHES = {"HELIOSTAT_NODE_BATCH_MAX_AGE_S": "0.3"}


def _batch_roots(node: NodeProcess) -> dict[int, str]:
    """Every sealed batch's state root as the node reports it."""
    roots: dict[int, str] = {}
    while (status := node.result("heliostat_getBatchStatus", len(roots) + 1)) is not None:
        roots[status["batch"]] = status["stateRoot"]
    return roots


def _wait_for_batch_after(node: NodeProcess, slot: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        roots = _batch_roots(node)
        last = node.result("heliostat_getBatchStatus", len(roots)) if roots else None
        if last is not None and last["lastSlot"] >= slot:
            return
        time.sleep(0.1)
    raise AssertionError(f"no batch sealed past slot {slot}")


async def _sender(
    http: aiohttp.ClientSession, url: str, payer: Keypair, blockhash: Hash, confirmed: list[str]
) -> None:
    """Send transfers one after another, each creating an account (so the state tree's layout,
    creation order across batches, matters); record each soft confirmation in order."""
    amount = 1_000_000
    while True:
        amount += 1
        sink = Keypair().pubkey()
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=sink, lamports=amount))
        tx = VersionedTransaction(
            Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer]
        )
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "sendTransaction",
            "params": [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}],
        }
        try:
            async with http.post(url, json=body) as response:
                answer = await response.json()
        except (TimeoutError, aiohttp.ClientError):
            return  # the node is gone
        assert "result" in answer, answer
        confirmed.append(answer["result"])


async def _load_then_kill(
    node: NodeProcess, payers: list[Keypair], run_s: float
) -> list[list[str]]:
    blockhash = Hash.from_string(node.result("getLatestBlockhash")["value"]["blockhash"])
    confirmed: list[list[str]] = [[] for _ in payers]
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        tasks = [
            asyncio.create_task(_sender(http, node.url, payer, blockhash, sink))
            for payer, sink in zip(payers, confirmed, strict=True)
        ]
        await asyncio.sleep(run_s)
        node.kill()
        await asyncio.gather(*tasks)
    return confirmed


def test_sigkill_mid_load_loses_nothing_confirmed(
    tmp_path: Path, storage_factory: StorageFactory
) -> None:
    """On SQLite and on PostgreSQL."""
    faucet = Keypair()
    env = {**SMALL_BATCHES, **storage_factory.node_env}
    node = NodeProcess(tmp_path / "data", free_port_pair(), faucet, env=env).start()
    try:
        payers = [Keypair() for _ in range(SENDERS)]
        for payer in payers:
            node.result("requestAirdrop", str(payer.pubkey()), 10**12)
        roots_seen = _batch_roots(node)
        confirmed = asyncio.run(_load_then_kill(node, payers, 2.0))
        total = sum(len(c) for c in confirmed)
        assert total > 50, f"load too small to mean anything: {total}"

        node.start()  # same data directory: recovery
        roots_after = _batch_roots(node)
        assert len(roots_after) >= 3, "the load should have sealed several batches"
        assert all(roots_after[n] == root for n, root in roots_seen.items())
        info = node.result("heliostat_getSequencerInfo")
        sequencer = Pubkey.from_string(info["sequencer"])
        seen_seqs = []
        for per_sender in confirmed:
            statuses = node.result("getSignatureStatuses", per_sender[:256])["value"]
            assert all(s is not None and s["err"] is None for s in statuses)
            seqs = []
            for signature in per_sender:
                receipt = node.result("heliostat_getReceipt", signature)
                assert receipt is not None, f"soft-confirmed {signature} lost"
                verify_receipt(base64.b64decode(receipt["receipt"]), sequencer)
                seqs.append(receipt["seq"])
            assert seqs == sorted(seqs), "a sender's confirmed transactions were reordered"
            seen_seqs += seqs
        assert len(set(seen_seqs)) == total
        # The restarted node keeps working.
        payer = payers[0]
        blockhash = Hash.from_string(node.result("getLatestBlockhash")["value"]["blockhash"])
        ix = transfer(
            TransferParams(from_pubkey=payer.pubkey(), to_pubkey=payer.pubkey(), lamports=1)
        )
        tx = VersionedTransaction(
            Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer]
        )
        sent = node.result(
            "sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}
        )
        # A batch sealed after the restart: the restored tree layout is in its root.
        _wait_for_batch_after(node, node.result("getSignatureStatuses", [sent])["value"][0]["slot"])
        roots = _batch_roots(node)
    finally:
        node.stop()

    genesis = [(faucet.pubkey(), Account(10**18, b"", SYSTEM, False, 0))]
    storage = storage_factory()
    restored = RuntimeExecutor(genesis)
    restored.restore_state(storage.accounts_with_leaves())
    # The replay re-executes everything through the runtime and checks every batch's root
    # (the roots the node reported above) where the node sealed it.
    replayed = replay(storage, RuntimeExecutor(genesis))
    assert [bytes.fromhex(roots[n]) for n in sorted(roots)] == [
        storage.batch(n).state_root  # type: ignore[union-attr]
        for n in sorted(roots)
    ]
    last = storage.last_entry()
    assert last is not None and replayed.entries == last.seq + 1
    assert replayed.running_hash == last.running_hash
    assert replayed.state_root == restored.state_root()
    storage.close()


def test_repeated_kills_keep_the_chain_consistent(tmp_path: Path) -> None:
    kills = 2
    faucet = Keypair()
    node = NodeProcess(tmp_path / "data", free_port_pair(), faucet, env=SMALL_BATCHES)
    payers = [Keypair() for _ in range(3)]
    confirmed_all: list[str] = []
    try:
        for round_number in range(kills):
            node.start()
            if round_number == 0:
                for payer in payers:
                    node.result("requestAirdrop", str(payer.pubkey()), 10**12)
            for per_sender in asyncio.run(_load_then_kill(node, payers, 0.7)):
                confirmed_all += per_sender
        node.start()
        for start in range(0, len(confirmed_all), 256):
            statuses = node.result("getSignatureStatuses", confirmed_all[start : start + 256])[
                "value"
            ]
            assert all(s is not None for s in statuses)
        slot_before = node.result("getSlot", {"commitment": "processed"})
        time.sleep(0.3)
        assert node.result("getSlot", {"commitment": "processed"}) > slot_before
    finally:
        node.stop()
    storage = SqliteStorage(tmp_path / "data" / "node.sqlite")
    genesis = [(faucet.pubkey(), Account(10**18, b"", SYSTEM, False, 0))]
    restored = RuntimeExecutor(genesis)
    restored.restore_state(storage.accounts_with_leaves())
    assert replay(storage, RuntimeExecutor(genesis)).state_root == restored.state_root()
    storage.close()
