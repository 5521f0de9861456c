"""Replay a node's stored history into a fresh executor: the audit behind crash recovery.

Every stored entry is re-executed in order, each block under the context it had (its slot,
its time, the 150 blockhashes before it), and the running hash is recomputed. The result
must equal the live node's state root and running hash; tests and operators use it to show
a restart lost or reordered nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import deque
from dataclasses import dataclass

from solders.hash import Hash
from solders.transaction import VersionedTransaction

from heliostat.node.errors import StorageError
from heliostat.node.execution import BlockContext, TransactionExecutor
from heliostat.node.sequencer import receipts
from heliostat.node.sequencer.chain import MAX_PROCESSING_AGE
from heliostat.node.sequencer.entries import Deposit
from heliostat.node.storage.interface import EntryKind
from heliostat.node.storage.sqlite import SqliteStorage


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


def replay(storage: SqliteStorage, executor: TransactionExecutor) -> ReplayResult:
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
        for entry in storage.entries_in_block(block):
            if entry.kind is EntryKind.DEPOSIT:
                deposit = Deposit.decode(entry.payload)
                executor.credit(deposit.recipient, deposit.lamports)
                err: object = None
            else:
                outcome = executor.execute(
                    VersionedTransaction.from_bytes(entry.payload), require_success=False
                )
                if not outcome.included:
                    raise ReplayMismatchError(entry.seq, "inclusion", True, False)
                err = outcome.err
                stored = None if entry.err is None else json.loads(entry.err)
                if err != stored:
                    raise ReplayMismatchError(entry.seq, "error", stored, err)
                if outcome.fee != entry.fee:
                    raise ReplayMismatchError(entry.seq, "fee", entry.fee, outcome.fee)
            result = receipts.result_hash(
                err, entry.fee, entry.compute_units, entry.logs, entry.return_data
            )
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
        if block.blockhash is None:
            break  # the open slot ends the history
        window.append(block.blockhash)
        slot += 1
    return ReplayResult(count, executor.state_root(), running)
