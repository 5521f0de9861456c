"""Devnet figures: time from submission to L1 finality, and prover throughput.

1. Pipeline to L1 finality for a batch of 10 and of 100 SOL transfers: sent at once to a
   devnet on anvil, the batch sealed (its size is the batch limit), built from storage (the
   kernel re-runs it natively against the old root), committed, proven and executed on L1 —
   measured from the first submission to `totalExecuted` covering the batch. PROVING EXCLUDED:
   zkVM batch proofs are not verifiable on L1 yet, so this part runs with the test-only
   MockBatchVerifier and the native replay stand-in of tests/devnet/plumbing.py (no proof).
2. Prover throughput with one and two workers: batches of one SOL transfer each (signature
   checked inside the proof), really proven by the zkVM in prover worker processes
   (`Runtime`'s kernel in proving mode) and verified by the service.
3. Estimated finality with proofs = pipeline + the batch's transactions × seconds per
   transaction (one worker proves one batch).

    .venv/bin/python benchmarks/devnet.py [--sizes 10,100] [--prove-batches 2]

Readable lines, then one JSON line with unit-bearing keys.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "devnet"))

from plumbing import plumbing_devnet  # noqa: E402

from heliostat.node.app import Node, genesis_from_config, save_keypair  # noqa: E402
from heliostat.node.config import load_config  # noqa: E402
from heliostat.node.prover_service.batch_builder import BatchBuilder  # noqa: E402
from heliostat.node.prover_service.queue import JobQueue, JobState  # noqa: E402
from heliostat.node.prover_service.service import ProverService  # noqa: E402
from heliostat.node.prover_service.workers import LocalWorker  # noqa: E402
from heliostat.sdk import bridge  # noqa: E402
from heliostat.settlement.anvil import free_port  # noqa: E402


def _transfers(payer: Keypair, blockhash: Hash, count: int) -> list[VersionedTransaction]:
    out = []
    for i in range(count):
        ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(),
                                     lamports=10**6 + i))  # fmt: skip
        message = Message.new_with_blockhash([ix], payer.pubkey(), blockhash)
        out.append(VersionedTransaction(message, [payer]))
    return out


async def _finality(size: int, root: Path) -> float:
    lines: list[str] = []
    devnet = plumbing_devnet(
        root / f"finality-{size}", lines, batch_max_transactions=size, batch_max_age_s=60.0
    )
    await devnet.start()
    try:
        assert devnet.faucet is not None and devnet.w3 is not None
        assert devnet.deployment is not None
        contract = bridge.rollup_contract(devnet.w3, devnet.deployment.rollup)
        blockhash = Hash(devnet.node.durable_blockhash().blockhash)
        txs = _transfers(devnet.faucet, blockhash, size)
        started = time.monotonic()
        await asyncio.gather(*(devnet.node.submit(tx, bytes(tx), preflight=True) for tx in txs))
        submitted = time.monotonic() - started
        while contract.functions.totalExecuted().call() < 1:
            await asyncio.sleep(0.05)
        total = time.monotonic() - started
        print(f"  {size:>4} transactions: all soft-confirmed in {submitted:.2f} s, "
              f"batch executed on L1 {total:.2f} s after the first was sent")  # fmt: skip
        return total
    finally:
        await devnet.stop()


async def _proving_batches(root: Path, count: int) -> tuple[Path, list[bytes]]:
    """Run a node that seals ``count`` batches of one transfer; return their job requests."""
    data = root / "prover-node"
    data.mkdir()
    faucet = Keypair()
    save_keypair(faucet, data / "faucet.json")
    config = load_config(environ={}, overrides={
        "data_dir": str(data), "port": free_port(), "slot_ms": 50, "batch_max_transactions": 1,
        "faucet_key": str(data / "faucet.json"), "faucet_lamports": 10**15,
        "log_level": "WARNING",
    })  # fmt: skip
    node = Node.from_config(config)
    await node.start()
    for _ in range(count):
        (tx,) = _transfers(faucet, Hash(node.durable_blockhash().blockhash), 1)
        await node.submit(tx, bytes(tx), preflight=True)
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)
    builder = BatchBuilder(node.storage, genesis_from_config(config, faucet))
    last = node.storage.last_batch()
    built = [builder.build(node.storage.batch(n)) for n in range(1, last.number + 1)]
    await node.stop()
    requests = [b.payload.request().to_bytes() for b in built if b.transactions == 1][:count]
    return data, requests


def _prove(root: Path, requests: list[bytes], workers: int) -> float:
    queue = JobQueue(root / f"proofs-{workers}.sqlite")
    service = ProverService(queue, [LocalWorker(f"local-{i}") for i in range(workers)])
    for number, request in enumerate(requests, start=1):
        queue.submit(number, request)
    started = time.monotonic()
    service.start()
    try:
        for number in range(1, len(requests) + 1):
            job = service.wait(number, 3600)
            if job.state is not JobState.PROVED:
                raise SystemExit(f"batch {number} was not proven: {job.error}")
        return time.monotonic() - started
    finally:
        service.stop()


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100", help="batch sizes for the pipeline")
    parser.add_argument("--prove-batches", type=int, default=2, help="one-transfer batches")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    figures: dict[str, float | int | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("pipeline to L1 finality, proving excluded (mock L1 verifier, replay stand-in):")
        for size in sizes:
            seconds = asyncio.run(_finality(size, root))
            figures[f"finality_pipeline_{size}_tx_s"] = round(seconds, 3)
        print(
            f"prover throughput: {args.prove_batches} batches of one SOL transfer each, real "
            "zkVM proofs (signature checked in the proof), verified by the service:"
        )
        _, requests = asyncio.run(_proving_batches(root, args.prove_batches))
        for workers in (1, 2):
            elapsed = _prove(root, requests, workers)
            per_tx = elapsed / len(requests)
            print(f"  {workers} worker(s): {len(requests)} batches in {elapsed:.1f} s "
                  f"({per_tx:.1f} s per transaction)")  # fmt: skip
            figures[f"prove_{workers}_workers_s"] = round(elapsed, 1)
            figures[f"prove_{workers}_workers_s_per_tx"] = round(per_tx, 2)
            figures[f"throughput_{workers}_workers_tx_per_min"] = round(60 / per_tx, 3)
    per_tx_one = float(figures["prove_1_workers_s_per_tx"] or 0)
    print("estimated finality with proofs (pipeline + proving on one worker):")
    for size in sizes:
        estimate = float(figures[f"finality_pipeline_{size}_tx_s"] or 0) + size * per_tx_one
        figures[f"finality_estimated_{size}_tx_s"] = round(estimate, 1)
        print(f"  {size:>4} transactions: ~{estimate:.0f} s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
