"""SIGKILL in the middle of a load run: every soft-confirmed transaction survives, in order,
and the restarted node's state root equals a replay of its history."""

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

from heliostat.node.replay import replay
from heliostat.node.storage.sqlite import SqliteStorage
from heliostat.sdk.receipts import verify_receipt
from heliostat.testing.litesvm_executor import LiteSvmExecutor

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
SENDERS = 6


async def _sender(
    http: aiohttp.ClientSession, url: str, payer: Keypair, blockhash: Hash, confirmed: list[str]
) -> None:
    """Send transfers one after another; record each soft confirmation in order."""
    sink = Keypair().pubkey()
    amount = 1_000_000
    while True:
        amount += 1
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


def test_sigkill_mid_load_loses_nothing_confirmed(tmp_path: Path) -> None:
    faucet = Keypair()
    node = NodeProcess(tmp_path / "data", free_port_pair(), faucet).start()
    try:
        payers = [Keypair() for _ in range(SENDERS)]
        for payer in payers:
            node.result("requestAirdrop", str(payer.pubkey()), 10**12)
        confirmed = asyncio.run(_load_then_kill(node, payers, 2.0))
        total = sum(len(c) for c in confirmed)
        assert total > 50, f"load too small to mean anything: {total}"

        node.start()  # same data directory: recovery
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
        node.result("sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"})
    finally:
        node.stop()

    genesis = [(faucet.pubkey(), Account(10**18, b"", SYSTEM, False, 0))]
    storage = SqliteStorage(tmp_path / "data" / "node.sqlite")
    restored = LiteSvmExecutor(genesis)
    restored.restore(storage.accounts())
    replayed = replay(storage, LiteSvmExecutor(genesis))
    last = storage.last_entry()
    assert last is not None and replayed.entries == last.seq + 1
    assert replayed.running_hash == last.running_hash
    assert replayed.state_root == restored.state_root()
    storage.close()


def test_repeated_kills_keep_the_chain_consistent(tmp_path: Path) -> None:
    kills = 2
    faucet = Keypair()
    node = NodeProcess(tmp_path / "data", free_port_pair(), faucet)
    payers = [Keypair() for _ in range(3)]
    confirmed_all: list[str] = []
    for round_number in range(kills):
        node.start()
        if round_number == 0:
            for payer in payers:
                node.result("requestAirdrop", str(payer.pubkey()), 10**12)
        for per_sender in asyncio.run(_load_then_kill(node, payers, 0.7)):
            confirmed_all += per_sender
    node.start()
    try:
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
    restored = LiteSvmExecutor(genesis)
    restored.restore(storage.accounts())
    assert replay(storage, LiteSvmExecutor(genesis)).state_root == restored.state_root()
    storage.close()
