"""Replay a node's stored history into a fresh executor: the audit behind crash recovery.

Every stored entry is re-executed in order, each block under the context it had (its slot,
its time, the 150 blockhashes before it), and the running hash is recomputed. At the end of
every sealed batch the executor's state root must equal the batch's stored root (the state
tree's layout follows the batches, so the root is taken exactly where the node took it); the
final root and running hash must equal the live node's. Tests and operators use it to show a
restart lost or reordered nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass

from solders.hash import Hash
from solders.transaction import VersionedTransaction

from heliostat.node.errors import StorageError
from heliostat.node.execution import BlockContext, ExecutionOutcome, SequencerExecutor
from heliostat.node.sequencer import receipts
from heliostat.node.sequencer.chain import MAX_PROCESSING_AGE
from heliostat.node.sequencer.entries import Deposit, decode_forced
from heliostat.node.storage.interface import EntryKind, EntryRecord, NodeStorage


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay recomputed."""

    entries: int
    state_root: bytes
    running_hash: bytes


class ReplayMismatchError(StorageError):
    """A replayed entry's result differs from the stored one."""

    reason = "replay_mismatch"

    def __init__(self, seq: int, field: str, expected: object, got: object) -> None:
        super().__init__(f"entry {seq}: stored {field} {expected!r}, replay gave {got!r}")
        self.seq = seq
        self.expected = expected
        self.got = got


class BatchRootMismatchError(StorageError):
    """The replayed state root at a batch's end differs from the root the node sealed."""

    reason = "replay_batch_root_mismatch"

    def __init__(self, batch: int, expected: bytes, got: bytes) -> None:
        super().__init__(f"batch {batch}: sealed root {expected.hex()}, replay gave {got.hex()}")
        self.batch = batch
        self.expected = expected
        self.got = got


def replay(storage: NodeStorage, executor: SequencerExecutor) -> ReplayResult:
    """Re-execute every stored entry into `executor` (at genesis); check results on the way."""
    running = receipts.GENESIS_RUNNING_HASH
    window: deque[bytes] = deque(maxlen=MAX_PROCESSING_AGE)
    genesis = storage.block(0)
    if genesis is None or genesis.blockhash is None:
        raise StorageError("no genesis block", reason="not_initialized")
    window.append(genesis.blockhash)
    count = 0
    slot = 1
    while (block := storage.block(slot)) is not None:
        executor.begin_slot(
            BlockContext(slot, block.block_time, frozenset(Hash(h) for h in window))
        )
        entries = storage.entries_in_block(block)
        outcomes = _execute_block(executor, entries)
        for entry in entries:
            if entry.kind is EntryKind.DEPOSIT:
                err: object = None
                fee, units, logs, ret = entry.fee, entry.compute_units, entry.logs, None
            else:
                outcome = outcomes[entry.seq]
                # a forced transaction is stored whatever it did; an L2 one only if included
                if not outcome.included and entry.kind is EntryKind.TRANSACTION:
                    raise ReplayMismatchError(entry.seq, "inclusion", True, False)
                err = outcome.err
                stored = None if entry.err is None else json.loads(entry.err)
                if err != stored:
                    raise ReplayMismatchError(entry.seq, "error", stored, err)
                if outcome.fee != entry.fee:
                    raise ReplayMismatchError(entry.seq, "fee", entry.fee, outcome.fee)
                fee, units, logs = outcome.fee, outcome.compute_units, outcome.logs
                ret = None
                if outcome.return_data is not None:
                    ret = bytes(outcome.return_data[0]) + outcome.return_data[1]
            # The replay's own result: compute units, logs or return data that differ from
            # what the node signed break the running hash below.
            result = receipts.result_hash(err, fee, units, logs, ret)
            running = receipts.next_running_hash(
                running,
                entry.seq,
                entry.slot,
                entry.position,
                hashlib.sha256(entry.payload).digest(),
                result,
            )
            if running != entry.running_hash:
                raise ReplayMismatchError(
                    entry.seq, "running hash", entry.running_hash.hex(), running.hex()
                )
            count += 1
        if block.batch is not None:
            batch = storage.batch(block.batch)
            if batch is not None and batch.last_slot == block.slot:
                root = executor.state_root()
                if root != batch.state_root:
                    raise BatchRootMismatchError(batch.number, batch.state_root, root)
        if block.blockhash is None:
            break  # the open slot ends the history
        window.append(block.blockhash)
        slot += 1
    return ReplayResult(count, executor.state_root(), running)


def _execute_block(
    executor: SequencerExecutor, entries: list[EntryRecord]
) -> dict[int, ExecutionOutcome]:
    """Execute a block's entries in order (runs of transactions as groups); outcome by seq."""
    outcomes: dict[int, ExecutionOutcome] = {}
    run: list[EntryRecord] = []

    def flush() -> None:
        items = [(VersionedTransaction.from_bytes(e.payload), e.payload, False) for e in run]
        for entry, outcome in zip(run, executor.execute_many(items), strict=True):
            outcomes[entry.seq] = outcome
        run.clear()

    for entry in entries:
        if entry.kind is EntryKind.DEPOSIT:
            flush()
            deposit = Deposit.decode(entry.payload)
            executor.credit(deposit.recipient, deposit.lamports)
        elif entry.kind is EntryKind.FORCED:
            flush()
            outcomes[entry.seq] = executor.execute_forced(decode_forced(entry.payload))
        else:
            run.append(entry)
    flush()
    return outcomes
