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
from collections import OrderedDict, deque
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
    ForcedTransaction,
    SequencerExecutor,
    TransactionError,
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
    encode_forced,
    forced_entry_id,
    priority_index,
)
from heliostat.node.sequencer.mempool import Mempool
from heliostat.node.sequencer.prover_queue import InMemoryProverQueue, ProverQueue
from heliostat.node.sequencer.staging import CommitGroup, Confirmation, StagedEntry
from heliostat.node.storage.interface import (
    BatchRecord,
    BatchStatus,
    BlockRecord,
    EntryKind,
    NodeStorage,
)
from heliostat.runtime.kernel_input import static_keys

log = logging.getLogger("heliostat.node.sequencer")
# Entries taken from the mempool per step: queued transactions among them run as one group
# (one kernel run), and the RPC handlers and the slot timer get in between steps.
GROUP_LIMIT = 64


@dataclass(slots=True)
class _Waiting:
    tx: VersionedTransaction | None
    wire: bytes
    priority: Deposit | ForcedTransaction | None  # an L1 priority operation (tx is None)
    preflight: bool
    waiter: asyncio.Future[Confirmation] | None


class Sequencer:
    """Owns the order, the open slot and the chain head; see the module docstring."""

    def __init__(
        self,
        executor: SequencerExecutor,
        storage: NodeStorage,
        keypair: Keypair,
        config: SequencerConfig | None = None,
        prover_queue: ProverQueue | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.executor = executor
        self.storage = storage
        self.keypair = keypair
        self.signer = receipts.ReceiptSigner(keypair)
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
        # Where the event loop's CPU goes (read by the metrics): the executor's share.
        self.executor_cpu_seconds = 0.0
        self.executor_runs = 0
        self._recover()

    # -- start-up and recovery ----------------------------------------------------------

    def _recover(self) -> None:
        genesis = list(self.executor.genesis_accounts())
        self.genesis_hash = genesis_hash(
            self.executor.state_root(), genesis, self.config.chain_name
        )
        self.storage.initialize(self.genesis_hash, genesis, genesis_block(self.genesis_hash, 0))
        stored = list(self.storage.accounts_with_leaves())
        self.executor.restore_state(stored)
        # Accounts written since the last sealed batch: their leaves are stored at the next.
        self._unplaced: set[Pubkey] = {pubkey for pubkey, _, leaf in stored if leaf is None}
        last = self.storage.last_entry()
        self.next_seq = 0 if last is None else last.seq + 1
        self.running_hash = receipts.GENESIS_RUNNING_HASH if last is None else last.running_hash
        window = self.storage.recent_sealed_blocks(MAX_PROCESSING_AGE)
        self.sealed: OrderedDict[bytes, BlockRecord] = OrderedDict(
            (b.blockhash, b) for b in window if b.blockhash is not None
        )
        self.last_sealed = window[-1]
        self.durable_sealed_slot = self.last_sealed.slot
        # The status cache: signatures of the blockhash window, and the same in slot order
        # (entries arrive in slot order), so pruning costs only what it removes.
        self.recent_signatures: dict[bytes, int] = {}
        self._signature_order: deque[tuple[int, bytes]] = deque()
        first_slot = window[0].slot
        for entry in self.storage.iter_entries(window[0].first_seq if first_slot else 0):
            self._remember_signature(entry.signature, entry.slot)
        self.next_priority_index = self._next_priority_index()
        self.batch_blocks = self.storage.unbatched_blocks()
        last_batch = self.storage.last_batch()
        self.next_batch = 1 if last_batch is None else last_batch.number + 1
        self.batch_opened_at = self.clock()
        open_block = self.storage.open_block()
        if open_block is not None:
            # Resume the slot the node stopped in, with the time it had and its entries.
            self.open = open_block
            entries = self.storage.entries_in_block(open_block)
            self._open_entries = len(entries)
            self._open_units = sum(e.compute_units for e in entries)
            self._open_bytes = sum(len(e.payload) for e in entries)
            self._begin_slot()
        else:
            self._open_slot(self.last_sealed)

    def _remember_signature(self, signature: bytes, slot: int) -> None:
        self.recent_signatures[signature] = slot
        self._signature_order.append((slot, signature))

    def _next_priority_index(self) -> int:
        found = [self.storage.last_entry_of_kind(k) for k in (EntryKind.DEPOSIT, EntryKind.FORCED)]
        return max((priority_index(e.payload) + 1 for e in found if e is not None), default=0)

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
        # The open block's counters live here; the record gets them when the slot is sealed.
        self._open_entries = self._open_units = self._open_bytes = 0
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
        """Queue an L1 deposit; priority operations must arrive in L1 order, without gaps."""
        return self._submit_priority(deposit.l1_index, deposit.encode(), deposit)

    def submit_forced(self, forced: ForcedTransaction) -> asyncio.Future[Confirmation]:
        """Queue a transaction forced through L1 (in L1 order, like deposits).

        It is ordered and stored whatever it does: a forced transaction that fails or is not
        included still consumes its L1 queue position, as in the proven batch.
        """
        return self._submit_priority(forced.l1_index, encode_forced(forced), forced)

    def _submit_priority(
        self, index: int, payload: bytes, op: Deposit | ForcedTransaction
    ) -> asyncio.Future[Confirmation]:
        if index != self.next_priority_index:
            raise NodeError(
                f"priority operation {index} out of L1 order (expected {self.next_priority_index})",
                reason="priority_operation_out_of_order",
            )
        self.next_priority_index += 1
        waiter: asyncio.Future[Confirmation] = asyncio.get_running_loop().create_future()
        self.mempool.push_priority(_Waiting(None, payload, op, False, waiter))
        self._work.set()
        return waiter

    # -- execution ----------------------------------------------------------------------

    async def _execution_loop(self) -> None:
        while self._running:
            await self._work.wait()
            self._work.clear()
            while self.mempool:
                self._execute_queued(GROUP_LIMIT)
                self._commit_wanted.set()
                await asyncio.sleep(0)  # let RPC handlers and the slot timer in

    def _execute_queued(self, limit: int) -> None:
        """Take up to `limit` entries in order; run consecutive transactions as one group."""
        group: list[tuple[_Waiting, bytes]] = []
        in_group: set[bytes] = set()
        taken = 0
        while taken < limit and (popped := self.mempool.pop()) is not None:
            item = popped[1]
            taken += 1
            if item.priority is not None:
                self._execute_group(group)
                group, in_group = [], set()
                if isinstance(item.priority, Deposit):
                    self._execute_deposit(item, item.priority)
                else:
                    self._execute_forced(item, item.priority)
                continue
            assert item.tx is not None  # internal: a non-priority entry carries its transaction
            signature = bytes(item.tx.signatures[0])
            if signature in in_group:  # decided by the first copy's outcome: run that first
                self._execute_group(group)
                group, in_group = [], set()
            if signature in self.recent_signatures:
                self._refuse(item, TransactionError("AlreadyProcessed"))
                continue
            group.append((item, signature))
            in_group.add(signature)
        self._execute_group(group)

    def _execute_deposit(self, item: _Waiting, deposit: Deposit) -> None:
        recipient = deposit.recipient
        before = self.executor.get_account(recipient)
        account = self.executor.credit(recipient, deposit.lamports)
        balances = struct.pack("<QQ", 0 if before is None else before.lamports, account.lamports)
        self._stage(
            EntryKind.DEPOSIT,
            deposit.entry_id,
            item.wire,
            None,
            ((recipient, account),),
            (bytes(recipient),),
            balances,
            item.waiter,
        )

    def _execute_forced(self, item: _Waiting, forced: ForcedTransaction) -> None:
        keys = static_keys(forced.transaction)  # none when the bytes do not parse
        before = [self.executor.get_account(Pubkey(k)) for k in keys]
        pre = [0 if a is None else a.lamports for a in before]
        try:
            outcome = self.executor.execute_forced(forced)
        except Exception as exc:  # the L1 order cannot skip it: stop rather than diverge
            log.exception("executor failed on forced transaction %d", forced.l1_index)
            self.failure = exc
            self._running = False
            if item.waiter is not None and not item.waiter.done():
                item.waiter.set_exception(
                    AdmissionError("internal execution error", code=-32603, reason="executor_error")
                )
            return
        if outcome.included:
            self._remember_signature(bytes(outcome.signature), self.open.slot)
        changed = {bytes(k): a.lamports for k, a in outcome.changed_accounts}
        post = [changed.get(k, p) for k, p in zip(keys, pre, strict=True)]
        self._stage(
            EntryKind.FORCED,
            forced_entry_id(forced),
            item.wire,
            outcome,
            outcome.changed_accounts,
            tuple(keys),
            struct.pack(f"<{2 * len(keys)}Q", *pre, *post),
            item.waiter,
        )

    def _execute_group(self, group: list[tuple[_Waiting, bytes]]) -> None:
        if not group:
            return
        keys = [list(item.tx.message.account_keys) for item, _ in group]  # type: ignore[union-attr]
        lamports: dict[Pubkey, int] = {}  # pre-balances, advanced entry by entry
        for key in {k for ks in keys for k in ks}:
            account = self.executor.get_account(key)
            lamports[key] = 0 if account is None else account.lamports
        started = time.thread_time()
        try:
            outcomes = self.executor.execute_many(
                [(item.tx, item.wire, item.preflight) for item, _ in group]  # type: ignore[misc]
            )
        except Exception as exc:
            failure: Exception | None = exc
        else:
            failure = None
        self.executor_cpu_seconds += time.thread_time() - started
        self.executor_runs += 1
        if failure is not None:
            if len(group) == 1:
                self._executor_failed(group[0][0], failure)
                return
            # execute_many changes nothing when it raises: isolate the culprit one by one.
            log.warning("group execution failed; executing its %d entries one by one", len(group))
            for one in group:
                self._execute_group([one])
            return
        for (item, signature), item_keys, outcome in zip(group, keys, outcomes, strict=True):
            if not outcome.included:
                if item.waiter is not None and not item.waiter.done():
                    text = "unknown error" if outcome.error is None else outcome.error.message
                    item.waiter.set_exception(
                        TransactionRefusedError(outcome, f"Transaction simulation failed: {text}")
                    )
                continue
            self._remember_signature(signature, self.open.slot)
            pre = [lamports[k] for k in item_keys]
            for key, account in outcome.changed_accounts:
                lamports[key] = account.lamports
            post = [lamports[k] for k in item_keys]
            self._stage(
                EntryKind.TRANSACTION,
                signature,
                item.wire,
                outcome,
                outcome.changed_accounts,
                tuple(bytes(k) for k in item_keys),
                struct.pack(f"<{2 * len(item_keys)}Q", *pre, *post),
                item.waiter,
            )

    def _executor_failed(self, item: _Waiting, error: Exception) -> None:
        assert item.tx is not None  # internal: only transactions reach the executor
        log.error("executor failed on %s", item.tx.signatures[0], exc_info=error)
        if item.waiter is not None and not item.waiter.done():
            item.waiter.set_exception(
                AdmissionError("internal execution error", code=-32603, reason="executor_error")
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
        seq, slot, position = self.next_seq, self.open.slot, self._open_entries
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
        entry = StagedEntry(
            seq, slot, position, kind, entry_id, payload,
            None if err is None else receipts.canonical_error(err).decode(),
            fee, units, logs, ret, body, self.running_hash, keys, balances,
        )  # fmt: skip
        self.next_seq += 1
        self._open_entries = position + 1
        self._open_units += units
        self._open_bytes += len(payload)
        self._group.add_entry(entry, outcome, changed, waiter)  # type: ignore[arg-type]
        self._unplaced.update(pubkey for pubkey, _ in changed)

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
            entry_count=self._open_entries,
            compute_units=self._open_units,
            data_bytes=self._open_bytes,
            blockhash=blockhash(
                self.open.parent_blockhash, self.open.slot, self.running_hash, self._open_entries
            ),
        )
        assert sealed.blockhash is not None
        self._group.add_block(sealed)
        self.last_sealed = sealed
        self.sealed[sealed.blockhash] = sealed
        while len(self.sealed) > MAX_PROCESSING_AGE:
            self.sealed.popitem(last=False)
        oldest = next(iter(self.sealed.values())).slot
        order = self._signature_order
        while order and order[0][0] < oldest:
            self.recent_signatures.pop(order.popleft()[1], None)
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
        state_root = self.executor.state_root()
        # The root depends on the tree layout: store where new accounts were just placed.
        self._group.leaves += self.executor.leaf_indices(bytes(k) for k in self._unplaced)
        self._unplaced = set()
        batch = BatchRecord(
            number=self.next_batch,
            first_slot=blocks[0].slot,
            last_slot=blocks[-1].slot,
            entry_count=entries,
            compute_units=units,
            data_bytes=size,
            state_root=state_root,
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

    def _write(self, group: CommitGroup) -> None:
        """On the writer thread: sign the group's receipts, then write it in one transaction."""
        group.seal(self.signer)
        self.storage.append(
            group.entries, list(group.accounts.items()), group.blocks, group.batches, group.leaves
        )

    async def _commit(self, group: CommitGroup) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._writer, self._write, group)
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
