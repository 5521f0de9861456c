"""The sequencer: orders entries, executes each at once, signs receipts, seals blocks/batches.

One asyncio task executes the mempool in order (priority operations first, then arrival
order); one task seals a block every slot; one task commits staged groups to storage and
then answers the waiting requests. Everything that decides order or state runs on the event
loop thread, so there are no races to reason about; only the storage write leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from solders.hash import Hash
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from heliostat.node.errors import AdmissionError, NodeError
from heliostat.node.execution import (
    BlockContext,
    ExecutionOutcome,
    TransactionError,
    TransactionExecutor,
)
from heliostat.node.sequencer import receipts
from heliostat.node.sequencer.chain import (
    MAX_PROCESSING_AGE,
    blockhash,
    genesis_block,
    genesis_hash,
)
from heliostat.node.sequencer.entries import (
    Deposit,
    SequencerConfig,
    TransactionRefusedError,
)
from heliostat.node.sequencer.mempool import Mempool
from heliostat.node.sequencer.prover_queue import InMemoryProverQueue, ProverQueue
from heliostat.node.sequencer.staging import CommitGroup, Confirmation
from heliostat.node.storage.interface import (
    BatchRecord,
    BatchStatus,
    BlockRecord,
    EntryKind,
    EntryRecord,
    NodeStorage,
)

log = logging.getLogger("heliostat.node.sequencer")


@dataclass(slots=True)
class _Waiting:
    tx: VersionedTransaction | None
    wire: bytes
    deposit: Deposit | None
    preflight: bool
    waiter: asyncio.Future[Confirmation] | None


class Sequencer:
    """Owns the order, the open slot and the chain head; see the module docstring."""

    def __init__(
        self,
        executor: TransactionExecutor,
        storage: NodeStorage,
        keypair: Keypair,
        config: SequencerConfig | None = None,
        prover_queue: ProverQueue | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.executor = executor
        self.storage = storage
        self.keypair = keypair
        self._sequencer_key = bytes(keypair.pubkey())  # pubkey() costs ~30 µs per call
        self.config = config or SequencerConfig()
        self.prover_queue = prover_queue or InMemoryProverQueue()
        self.clock = clock
        self.mempool: Mempool[_Waiting] = Mempool(
            self.config.mempool_capacity, self.config.per_sender_limit
        )
        self.listeners: list[Callable[[CommitGroup], None]] = []
        self._group = CommitGroup()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="heliostat-writer")
        self._work = asyncio.Event()
        self._commit_wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False
        self.failure: BaseException | None = None
        self._recover()

    # -- start-up and recovery ----------------------------------------------------------

    def _recover(self) -> None:
        genesis = list(self.executor.genesis_accounts())
        self.genesis_hash = genesis_hash(
            self.executor.state_root(), genesis, self.config.chain_name
        )
        self.storage.initialize(self.genesis_hash, genesis, genesis_block(self.genesis_hash, 0))
        self.executor.restore(self.storage.accounts())
        last = self.storage.last_entry()
        self.next_seq = 0 if last is None else last.seq + 1
        self.running_hash = receipts.GENESIS_RUNNING_HASH if last is None else last.running_hash
        window = self.storage.recent_sealed_blocks(MAX_PROCESSING_AGE)
        self.sealed: OrderedDict[bytes, BlockRecord] = OrderedDict(
            (b.blockhash, b) for b in window if b.blockhash is not None
        )
        self.last_sealed = window[-1]
        self.durable_sealed_slot = self.last_sealed.slot
        self.recent_signatures: dict[bytes, int] = {}
        first_slot = window[0].slot
        for entry in self.storage.iter_entries(window[0].first_seq if first_slot else 0):
            self.recent_signatures[entry.signature] = entry.slot
        self.next_deposit_index = self._next_deposit_index()
        self.batch_blocks = self.storage.unbatched_blocks()
        last_batch = self.storage.last_batch()
        self.next_batch = 1 if last_batch is None else last_batch.number + 1
        self.batch_opened_at = self.clock()
        open_block = self.storage.open_block()
        if open_block is not None:
            # Resume the slot the node stopped in, with the time it had.
            self.open = open_block
            self._begin_slot()
        else:
            self._open_slot(self.last_sealed)

    def _next_deposit_index(self) -> int:
        found = self.storage.last_entry_of_kind(EntryKind.DEPOSIT)
        return 0 if found is None else Deposit.decode(found.payload).l1_index + 1

    def _begin_slot(self) -> None:
        self.executor.begin_slot(
            BlockContext(
                slot=self.open.slot,
                unix_timestamp=self.open.block_time,
                recent_blockhashes=frozenset(Hash(h) for h in self.sealed),
            )
        )

    def _open_slot(self, parent: BlockRecord) -> None:
        assert parent.blockhash is not None  # internal: only sealed blocks are parents
        slot = parent.slot + 1
        self.open = BlockRecord(
            slot=slot,
            parent_slot=parent.slot,
            block_height=slot,
            block_time=max(int(self.clock()), parent.block_time),
            parent_blockhash=parent.blockhash,
            blockhash=None,
            first_seq=self.next_seq,
            entry_count=0,
            compute_units=0,
            data_bytes=0,
            batch=None,
        )
        self._group.add_block(self.open)
        self._begin_slot()

    async def start(self) -> None:
        """Start the execution, slot and commit tasks."""
        self._running = True
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._execution_loop(), name="sequencer-execute"),
            loop.create_task(self._slot_loop(), name="sequencer-slots"),
            loop.create_task(self._commit_loop(), name="sequencer-commit"),
        ]

    async def stop(self) -> None:
        """Stop accepting, drain what was executed to storage, and stop the tasks."""
        self._running = False
        self._work.set()
        self._commit_wanted.set()
        for task in self._tasks:
            if task.get_name() != "sequencer-commit":
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._group:
            await self._commit(self._take_group())
        self._writer.shutdown(wait=True)

    # -- admission ----------------------------------------------------------------------

    def submit(
        self, tx: VersionedTransaction, wire: bytes, *, preflight: bool
    ) -> asyncio.Future[Confirmation]:
        """Queue a parsed transaction; the future resolves with its durable confirmation."""
        if self.failure is not None or not self._running:
            raise AdmissionError("sequencer is not running", code=-32005, reason="node_unhealthy")
        signature = bytes(tx.signatures[0])
        if signature in self.recent_signatures:
            raise AdmissionError(
                "Transaction simulation failed: This transaction has already been processed",
                code=-32002,
                reason="already_processed",
                data={
                    "err": "AlreadyProcessed",
                    "logs": [],
                    "accounts": None,
                    "unitsConsumed": 0,
                    "returnData": None,
                },
            )
        if bytes(tx.message.recent_blockhash) not in self.sealed:
            raise AdmissionError(
                "Transaction simulation failed: Blockhash not found",
                code=-32002,
                reason="blockhash_not_found",
                data={
                    "err": "BlockhashNotFound",
                    "logs": [],
                    "accounts": None,
                    "unitsConsumed": 0,
                    "returnData": None,
                },
            )
        waiter: asyncio.Future[Confirmation] = asyncio.get_running_loop().create_future()
        self.mempool.push(
            _Waiting(tx, wire, None, preflight, waiter),
            sender=bytes(tx.message.account_keys[0]),
            arrival_ns=time.monotonic_ns(),
            tie_break=signature,
        )
        self._work.set()
        return waiter

    def submit_deposit(self, deposit: Deposit) -> asyncio.Future[Confirmation]:
        """Queue an L1 deposit; deposits must arrive in L1 order, without gaps."""
        if deposit.l1_index != self.next_deposit_index:
            raise NodeError(
                f"deposit {deposit.l1_index} out of L1 order (expected {self.next_deposit_index})",
                reason="priority_operation_out_of_order",
            )
        self.next_deposit_index += 1
        waiter: asyncio.Future[Confirmation] = asyncio.get_running_loop().create_future()
        self.mempool.push_priority(_Waiting(None, deposit.encode(), deposit, False, waiter))
        self._work.set()
        return waiter

    # -- execution ----------------------------------------------------------------------

    async def _execution_loop(self) -> None:
        while self._running:
            await self._work.wait()
            self._work.clear()
            done = 0
            while (item := self.mempool.pop()) is not None:
                self._execute_one(item[1])
                done += 1
                if done % 32 == 0:  # let RPC handlers and the slot timer in
                    self._commit_wanted.set()
                    await asyncio.sleep(0)
            self._commit_wanted.set()

    def _execute_one(self, item: _Waiting) -> None:
        if item.deposit is not None:
            recipient = item.deposit.recipient
            before = self.executor.get_account(recipient)
            account = self.executor.credit(recipient, item.deposit.lamports)
            balances = struct.pack(
                "<QQ", 0 if before is None else before.lamports, account.lamports
            )
            self._stage(
                EntryKind.DEPOSIT,
                item.deposit.entry_id,
                item.wire,
                None,
                ((recipient, account),),
                (bytes(recipient),),
                balances,
                item.waiter,
            )
            return
        tx = item.tx
        assert tx is not None  # internal: a non-deposit always carries its transaction
        signature = bytes(tx.signatures[0])
        if signature in self.recent_signatures:
            self._refuse(item, TransactionError("AlreadyProcessed"))
            return
        keys = list(tx.message.account_keys)
        pre = [self.executor.get_account(k) for k in keys]
        try:
            outcome = self.executor.execute(tx, require_success=item.preflight)
        except Exception as exc:  # an executor bug must not take the node down
            log.exception("executor failed on %s", tx.signatures[0])
            if item.waiter is not None and not item.waiter.done():
                item.waiter.set_exception(
                    AdmissionError(
                        f"internal execution error: {exc}", code=-32603, reason="executor_error"
                    )
                )
            return
        if not outcome.included:
            if item.waiter is not None and not item.waiter.done():
                text = "unknown error" if outcome.error is None else outcome.error.message
                item.waiter.set_exception(
                    TransactionRefusedError(outcome, f"Transaction simulation failed: {text}")
                )
            return
        self.recent_signatures[signature] = self.open.slot
        pre_lamports = [0 if a is None else a.lamports for a in pre]
        post_by_key = {k: a.lamports for k, a in outcome.changed_accounts}
        post_lamports = [post_by_key.get(k, lam) for k, lam in zip(keys, pre_lamports, strict=True)]
        balances = struct.pack(f"<{2 * len(keys)}Q", *pre_lamports, *post_lamports)
        self._stage(
            EntryKind.TRANSACTION,
            signature,
            item.wire,
            outcome,
            outcome.changed_accounts,
            tuple(bytes(k) for k in keys),
            balances,
            item.waiter,
        )

    def _refuse(self, item: _Waiting, error: TransactionError) -> None:
        assert item.tx is not None  # internal: only transactions are refused
        outcome = ExecutionOutcome(item.tx.signatures[0], False, error, (), 0, 0, None, ())
        if item.waiter is not None and not item.waiter.done():
            item.waiter.set_exception(
                TransactionRefusedError(outcome, f"Transaction simulation failed: {error.message}")
            )

    def _stage(
        self,
        kind: EntryKind,
        entry_id: bytes,
        payload: bytes,
        outcome: ExecutionOutcome | None,
        changed: tuple[tuple[Pubkey, object], ...],
        keys: tuple[bytes, ...],
        balances: bytes,
        waiter: asyncio.Future[Confirmation] | None,
    ) -> None:
        seq, slot, position = self.next_seq, self.open.slot, self.open.entry_count
        err = None if outcome is None else outcome.err
        fee = 0 if outcome is None else outcome.fee
        units = 0 if outcome is None else outcome.compute_units
        logs = () if outcome is None else outcome.logs
        ret = None
        if outcome is not None and outcome.return_data is not None:
            ret = bytes(outcome.return_data[0]) + outcome.return_data[1]
        entry_hash = hashlib.sha256(payload).digest()
        result = receipts.result_hash(err, fee, units, logs, ret)
        previous = self.running_hash
        self.running_hash = receipts.next_running_hash(
            previous, seq, slot, position, entry_hash, result
        )
        body = receipts.ReceiptBody(
            int(kind),
            self.genesis_hash,
            slot,
            position,
            seq,
            entry_id,
            entry_hash,
            result,
            previous,
            self.running_hash,
        ).encode()
        signature = bytes(self.keypair.sign_message(receipts.signing_message(body)))
        entry = EntryRecord(
            seq=seq,
            slot=slot,
            position=position,
            kind=kind,
            signature=entry_id,
            payload=payload,
            err=None if err is None else receipts.canonical_error(err).decode(),
            fee=fee,
            compute_units=units,
            logs=logs,
            return_data=ret,
            receipt=body + self._sequencer_key + signature,
            running_hash=self.running_hash,
            accounts=keys,
            balances=balances,
        )
        self.next_seq += 1
        self.open = replace(
            self.open,
            entry_count=position + 1,
            compute_units=self.open.compute_units + units,
            data_bytes=self.open.data_bytes + len(payload),
        )
        self._group.add_entry(entry, outcome, changed, waiter)  # type: ignore[arg-type]

    # -- slots, blocks and batches ------------------------------------------------------

    async def _slot_loop(self) -> None:
        period = self.config.slot_ms / 1000
        deadline = time.monotonic() + period
        while self._running:
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))
            self.seal_slot()
            deadline += period
            if deadline < time.monotonic():  # fell behind (a long pause): do not burst
                deadline = time.monotonic() + period

    def seal_slot(self) -> BlockRecord:
        """Seal the open block, maybe a batch, and open the next slot; returns the sealed block."""
        sealed = replace(
            self.open,
            blockhash=blockhash(
                self.open.parent_blockhash, self.open.slot, self.running_hash, self.open.entry_count
            ),
        )
        assert sealed.blockhash is not None
        self._group.add_block(sealed)
        self.last_sealed = sealed
        self.sealed[sealed.blockhash] = sealed
        while len(self.sealed) > MAX_PROCESSING_AGE:
            self.sealed.popitem(last=False)
        oldest = next(iter(self.sealed.values())).slot
        if len(self.recent_signatures) and sealed.slot % 16 == 0:
            self.recent_signatures = {
                s: v for s, v in self.recent_signatures.items() if v >= oldest
            }
        self.batch_blocks.append(sealed)
        self._maybe_seal_batch()
        self._open_slot(sealed)
        self._commit_wanted.set()
        return sealed

    def _maybe_seal_batch(self, force: bool = False) -> BatchRecord | None:
        blocks = self.batch_blocks
        entries = sum(b.entry_count for b in blocks)
        units = sum(b.compute_units for b in blocks)
        size = sum(b.data_bytes for b in blocks)
        age = self.clock() - self.batch_opened_at
        if not blocks or not (force or self.config.batch.should_seal(entries, units, size, age)):
            return None
        batch = BatchRecord(
            number=self.next_batch,
            first_slot=blocks[0].slot,
            last_slot=blocks[-1].slot,
            entry_count=entries,
            compute_units=units,
            data_bytes=size,
            state_root=self.executor.state_root(),
            status=BatchStatus.SEALED,
            sealed_at=int(self.clock()),
            proof=None,
            l1_transaction=None,
        )
        self._group.batches.append(batch)
        self.next_batch += 1
        self.batch_blocks = []
        self.batch_opened_at = self.clock()
        return batch

    # -- durability ---------------------------------------------------------------------

    def _take_group(self) -> CommitGroup:
        group, self._group = self._group, CommitGroup()
        return group

    async def _commit_loop(self) -> None:
        while self._running:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            if self._group:
                await self._commit(self._take_group())

    async def _commit(self, group: CommitGroup) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self._writer,
                self.storage.append,
                group.entries,
                list(group.accounts.items()),
                group.blocks,
                group.batches,
            )
        except Exception as exc:
            # State in memory is now ahead of disk: stop taking work; a restart recovers.
            log.exception("storage commit failed; the sequencer stops")
            self.failure = exc
            self._running = False
            group.fail(AdmissionError("storage failure", code=-32603, reason="storage_failure"))
            return
        for block in group.blocks:
            if block.blockhash is not None:
                self.durable_sealed_slot = max(self.durable_sealed_slot, block.slot)
        group.resolve()
        for batch in group.batches:
            self.prover_queue.submit(batch)
        for listener in self.listeners:
            try:
                listener(group)
            except Exception:
                log.exception("commit listener failed")

    # -- read side for the RPC ----------------------------------------------------------

    def latest_blockhash(self) -> BlockRecord:
        """Return the newest sealed block (clients build transactions on its hash)."""
        return self.last_sealed

    def blockhash_block(self, value: bytes) -> BlockRecord | None:
        """Return the sealed block with this hash while it is still usable, else None."""
        return self.sealed.get(value)

    def update_batch(
        self, number: int, status: BatchStatus, proof: bytes | None = None, l1_tx: str | None = None
    ) -> None:
        """Record prover or L1 progress on a batch (called by the prover and L1 watcher)."""
        self.storage.update_batch(number, status, proof, l1_tx)
