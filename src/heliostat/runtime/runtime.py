"""`Runtime`: the runtime image run by the VM's kernel switch, behind the Python interfaces.

Every call is one kernel run: the Python side gathers the accounts the transactions touch
(the witness), encodes the input, runs the kernel (natively with jets, or traced for proving),
and decodes receipts, logs and the public output. All Solana semantics live in the C code.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from heliostat.runtime import genesis, state_witness
from heliostat.runtime.errors import KernelFaultError
from heliostat.runtime.interface import (
    AccountSource,
    BatchInput,
    BatchProof,
    BatchResult,
    BlockContext,
    Deposit,
    ExecutionOutcome,
    ForcedTransaction,
)
from heliostat.runtime.kernel_image import kernel_image
from heliostat.runtime.kernel_input import (
    KernelBlock,
    KernelInput,
    WitnessAccount,
    signature_calls,
    sorted_witness,
    static_keys,
)
from heliostat.runtime.kernel_logs import LOG_BATCH, write_event
from heliostat.runtime.kernel_output import Receipt, decode_public_output, decode_receipt
from heliostat.runtime.programs import ProgramImages, elf_of, programdata_address
from heliostat.runtime.state_tree import StateTree, digest_bytes
from heliostat.stark.config import DEFAULT, StarkConfig
from heliostat.svm.kernel import KernelResult, KernelSession, run_kernel
from heliostat.svm.kernel_jets import JetRows, ed25519_rows
from heliostat.svm.log_collector import LogCollector
from heliostat.svm.syscalls.sysvars import RENT

_EMPTY = Account(0, b"", genesis.SYSTEM_PROGRAM_ID, False, 0)
ZERO_ROOT = bytes(32)
HEAP_EXHAUSTED = "Program log: runtime heap exhausted"
MAX_KERNEL_HEAP = 1 << 29


class HeapPool:
    """Kernel heaps kept between runs: zeroing what a run dirtied beats allocating anew."""

    def __init__(self, per_size: int = 2) -> None:
        self._free: dict[int, list[npt.NDArray[np.uint8]]] = {}
        self._per_size = per_size

    def take(self, size: int) -> npt.NDArray[np.uint8]:
        """Return a zeroed heap of ``size`` bytes."""
        free = self._free.get(size)
        return free.pop() if free else np.zeros(size, dtype=np.uint8)

    def give(self, heap: npt.NDArray[np.uint8], dirty: int) -> None:
        """Return a heap whose bytes from ``dirty`` on are known to be zero."""
        free = self._free.setdefault(len(heap), [])
        if len(free) < self._per_size:
            heap[:dirty] = 0
            free.append(heap)


@dataclass(frozen=True)
class RuntimeConfig:
    """Chain parameters: the fee per signature and the sysvar cache.

    ``sysvars`` maps sysvar ids to their account data (defaults: genesis'). ``clock`` replaces
    the Clock the runtime derives from each block (tests that mirror another chain set it).
    """

    lamports_per_signature: int = 5000
    sysvars: Mapping[Pubkey, bytes] = field(default_factory=dict)
    clock: bytes | None = None

    def sysvar_table(self) -> list[tuple[Pubkey, bytes]]:
        """Return the sysvar cache the kernel receives (genesis, overridden by ``sysvars``)."""
        table = {key: bytes(a.data) for key, a in genesis.genesis_accounts() if key in _CACHED}
        table.update(self.sysvars)
        return sorted(table.items(), key=lambda item: bytes(item[0]))


_CACHED = frozenset(genesis.CACHED_SYSVARS)


def clock_data(block: BlockContext) -> bytes:
    """Return the Clock sysvar of a block: slot, epoch start 0, epoch 0, leader epoch 1, time."""
    return struct.pack("<QqQQq", block.slot, 0, 0, 1, block.unix_timestamp)


def first_signature(tx: bytes) -> Signature:
    """Return the transaction's id: its first signature (the default one if it has none)."""
    count = tx[0] if tx else 0
    if count == 0 or count & 0x80 or len(tx) < 65:
        return Signature.default()
    return Signature(tx[1:65])


@dataclass
class KernelRun:
    """One kernel run's raw results."""

    receipts: list[tuple[Receipt, tuple[str, ...]]]
    published: bytes
    result: KernelResult


class Runtime:
    """Heliostat's state transition function (implements TransactionRuntime, BatchRuntime)."""

    def __init__(self, config: RuntimeConfig | None = None, *, jets: bool = True) -> None:
        self.config = config or RuntimeConfig()
        self.images = ProgramImages()
        self.kernel = kernel_image()
        self.jets = jets
        self._sysvars = tuple(self.config.sysvar_table())
        self._rent_per_byte = genesis.rent_per_byte(dict(self._sysvars)[RENT])
        self._heaps = HeapPool()
        self._hashes_source: frozenset[Hash] | None = None
        self._hashes_sorted: list[bytes] = []

    # -----------------------------------------------------------------------------------------
    # TransactionRuntime

    def execute(
        self,
        transactions: Sequence[VersionedTransaction | bytes],
        state: AccountSource,
        block: BlockContext,
        *,
        verify_signatures: bool = True,
        processed: frozenset[Signature] = frozenset(),
    ) -> list[ExecutionOutcome]:
        """Run transactions in order against ``state`` (see `TransactionRuntime`)."""
        txs = [tx if isinstance(tx, bytes) else bytes(tx) for tx in transactions]
        kernel_block = KernelBlock(
            block.slot, self.config.clock or clock_data(block), self._sorted_hashes(block), txs
        )
        kin = self.kernel_input(
            batch_number=0,
            old_root=ZERO_ROOT,
            priority=(),
            blocks=[kernel_block],
            state=state,
            verify_signatures=verify_signatures,
            processed=[bytes(s) for s in processed],
        )
        run = self.run(kin)
        return self._outcomes(txs, run, state)

    def execute_forced(
        self, forced: ForcedTransaction, state: AccountSource, block: BlockContext
    ) -> ExecutionOutcome:
        """Run an L1-forced transaction as a batch's priority operation in ``block`` runs it.

        Its recent blockhash must be FORCED_BLOCKHASH (no blockhash window applies); no
        signatures count as processed before it (the L1 queue takes each forced one once).
        """
        kernel_block = KernelBlock(
            block.slot, self.config.clock or clock_data(block), self._sorted_hashes(block), []
        )
        kin = self.kernel_input(
            batch_number=0,
            old_root=ZERO_ROOT,
            priority=(forced,),
            blocks=[kernel_block],
            state=state,
            verify_signatures=True,
            processed=[],
        )
        return self._outcomes([forced.transaction], self.run(kin), state)[0]

    def _sorted_hashes(self, block: BlockContext) -> list[bytes]:
        """Return the block's recent blockhashes, sorted as the kernel wants them.

        A sequencer runs many small groups in one slot with the same (up to 150) hashes:
        the sorted list is kept for the last set seen (by identity, which is O(1)).
        """
        hashes = block.recent_blockhashes
        if hashes is not self._hashes_source:
            self._hashes_sorted = [bytes(h) for h in sorted(hashes, key=bytes)]
            self._hashes_source = hashes
        return self._hashes_sorted

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        """Lamports an account of ``data_len`` bytes needs to be rent-exempt."""
        return (128 + data_len) * self._rent_per_byte

    def genesis_accounts(self) -> Sequence[tuple[Pubkey, Account]]:
        """Accounts present at genesis."""
        return genesis.genesis_accounts()

    # -----------------------------------------------------------------------------------------
    # BatchRuntime

    def execute_batch(
        self, batch: BatchInput, state: AccountSource, *, tree: StateTree | None = None
    ) -> BatchResult:
        """Run a batch natively; its public output and one outcome per transaction.

        With ``tree`` (the state as of ``batch.old_root``) the kernel checks every account it
        reads against the old root and publishes the new root; ``state`` is then ignored.
        """
        if tree is not None:
            state = TreeState(tree)
        kin = self.batch_input(batch, state, tree=tree)
        run = self.run(kin)
        txs = [
            op.transaction for op in batch.priority_operations if isinstance(op, ForcedTransaction)
        ]
        txs += [tx for b in batch.blocks for tx in b.transactions]
        outcomes = tuple(self._outcomes(txs, run, state))
        return BatchResult(decode_public_output(run.published), outcomes)

    def prove_batch(
        self,
        batch: BatchInput,
        state: AccountSource,
        *,
        tree: StateTree | None = None,
        config: StarkConfig = DEFAULT,
        verify_signatures: bool = True,
    ) -> BatchProof:
        """Run a batch in proving mode and prove it with the zkVM (heliostat.runtime.proving).

        Raises `ProvingUnavailableError` for a batch that runs a BPF program (the kernel
        switch is not proven yet) and `BatchProvingError` when the kernel cannot run it
        (a witness that does not match the old root). ``verify_signatures=False`` is for
        tests only.
        """
        from heliostat.runtime.proving import prove_batch

        return prove_batch(
            self, batch, state, tree=tree, config=config, verify_signatures=verify_signatures
        )

    def batch_input(
        self, batch: BatchInput, state: AccountSource, *, tree: StateTree | None = None
    ) -> KernelInput:
        """Return the kernel input of a batch (checked against ``tree`` when given)."""
        blocks = [
            KernelBlock(
                b.context.slot,
                self.config.clock or clock_data(b.context),
                [bytes(h) for h in sorted(b.context.recent_blockhashes, key=bytes)],
                list(b.transactions),
            )
            for b in batch.blocks
        ]
        return self.kernel_input(
            batch_number=batch.batch_number,
            old_root=batch.old_root,
            priority=batch.priority_operations,
            blocks=blocks,
            state=state,
            verify_signatures=True,
            processed=[],
            tree=tree,
        )

    # -----------------------------------------------------------------------------------------
    # Kernel runs

    def kernel_input(
        self,
        *,
        batch_number: int,
        old_root: bytes,
        priority: Sequence[Deposit | ForcedTransaction],
        blocks: Sequence[KernelBlock],
        state: AccountSource,
        verify_signatures: bool,
        processed: Sequence[bytes],
        tree: StateTree | None = None,
    ) -> KernelInput:
        """Gather the witness and build the kernel input."""
        txs = [op.transaction for op in priority if isinstance(op, ForcedTransaction)]
        txs += [tx for b in blocks for tx in b.transactions]
        extra = [op.recipient for op in priority if isinstance(op, Deposit)]
        witness = self.witness(txs, state, extra)
        state_witness = None
        if tree is not None:
            witness, state_witness = self._tree_witness(tree, witness)
        return KernelInput(
            batch_number=batch_number,
            old_root=old_root,
            lamports_per_signature=self.config.lamports_per_signature,
            rent_per_byte=self._rent_per_byte,
            verify_signatures=verify_signatures,
            sysvars=self._sysvars,
            processed=processed,
            priority_operations=priority,
            blocks=blocks,
            witness=witness,
            state_witness=state_witness,
        )

    def _tree_witness(
        self, tree: StateTree, accounts: Sequence[WitnessAccount]
    ) -> tuple[list[WitnessAccount], bytes]:
        """Build the state tree's witness for these accounts (ELF data elided by its hash)."""
        elided = [w.key for w in accounts if w.image is not None]
        built = state_witness.make_witness(tree, [w.key for w in accounts], elide=elided)
        records = []
        for record in built.records:
            key = Pubkey(record.key)
            value = tree.get(record.key)
            account = value.to_account() if value is not None else _EMPTY
            if isinstance(record, state_witness.PresentRecord) and record.data_hash is not None:
                image = digest_bytes(record.data_hash)
                elf = elf_of(account)
                if elf is not None:
                    self.images.register(image, elf)
                records.append(WitnessAccount(key, account, image, True))
            else:
                records.append(WitnessAccount(key, account))
        return records, built.encode()

    def witness(
        self, txs: Iterable[bytes], state: AccountSource, extra: Iterable[Pubkey] = ()
    ) -> list[WitnessAccount]:
        """Every account the transactions may touch (ELF data elided: the image id names it)."""
        keys: dict[Pubkey, None] = dict.fromkeys(extra)
        for tx in txs:
            keys.update((Pubkey(key), None) for key in static_keys(tx))
        records: dict[Pubkey, WitnessAccount] = {}
        pending = list(keys)
        while pending:
            key = pending.pop()
            if key in records:
                continue
            account = state.get_account(key) or _EMPTY
            image = self.images.image_id(key, account)
            # ELF data is always elided (as the state tree's witness elides it): a program
            # account passed as an instruction account fails the same way in both modes
            records[key] = WitnessAccount(key, account, image, image is not None)
            programdata = programdata_address(account)
            if programdata is not None:
                pending.append(programdata)
        return sorted_witness(records.values())

    def run(self, kin: KernelInput, *, trace: bool = False) -> KernelRun:
        """Run the kernel over an input; receipts with their logs, and the public output."""
        receipts: list[tuple[Receipt, tuple[str, ...]]] = []

        def on_log(session: KernelSession, kind: int, data: bytes, a: int, b: int) -> None:
            write_event(
                session.logs, kind, data, a, b,
                fault=session.last_fault, violation=session.last_violation,
            )  # fmt: skip

        def on_receipt(session: KernelSession, data: bytes) -> None:
            receipt = decode_receipt(data)
            if receipt.log_events:
                on_log(session, LOG_BATCH, receipt.log_events, 0, 0)
            receipts.append((receipt, tuple(session.logs.messages)))
            session.logs = LogCollector()

        native = self.jets and not trace
        executable = self.kernel.for_mode(jets=native)
        rows: JetRows | None = None
        while True:
            receipts.clear()
            session = KernelSession(
                self.images.resolve, trace=trace, on_log=on_log, on_receipt=on_receipt
            )
            size = kin.heap_size()
            heap = self._heaps.take(size)
            data, transactions = kin.encode_with_transactions()
            if native and kin.verify_signatures and rows is None:
                # every signature checked ahead, in one pass; the offsets, and so the rows,
                # stay valid when a retry only scales the heap
                rows = ed25519_rows(data, signature_calls(data, transactions))
            result = run_kernel(
                executable, data, session, heap_size=size, heap=heap, trace=trace, jet_rows=rows
            )
            if result.execution.fault is None:
                # the transaction arena is zero again (the kernel resets it after every
                # transaction): only the persistent arena needs clearing for the next run
                self._heaps.give(heap, min(result.heap_dirty, kin.persistent_size))
                return KernelRun(receipts, result.published, result)
            if HEAP_EXHAUSTED in session.logs.messages and kin.heap_size() < MAX_KERNEL_HEAP:
                kin = dataclasses.replace(kin, scale=kin.scale * 2)
                continue
            raise KernelFaultError(
                f"the runtime faulted: {result.execution.fault} "
                f"(last lines: {session.logs.messages[-3:]})"
            )

    @staticmethod
    def _outcomes(
        txs: Sequence[bytes], run: KernelRun, state: AccountSource
    ) -> list[ExecutionOutcome]:
        if len(run.receipts) != len(txs):
            raise KernelFaultError(f"{len(run.receipts)} receipts for {len(txs)} transactions")
        outcomes = []
        for tx, (receipt, logs) in zip(txs, run.receipts, strict=True):
            returned = (
                (receipt.return_program, receipt.return_data) if receipt.return_data else None
            )
            changed = receipt.changed
            if receipt.omitted:  # an ELF's bytes never change here: take them from the state
                changed = tuple(
                    (key, _with_data(a, state.get_account(key))) if key in receipt.omitted
                    else (key, a)
                    for key, a in changed
                )  # fmt: skip
            outcomes.append(
                ExecutionOutcome(
                    signature=first_signature(tx),
                    included=receipt.included,
                    error=receipt.error,
                    logs=logs,
                    compute_units=receipt.compute_units,
                    fee=receipt.fee,
                    return_data=returned,
                    changed_accounts=changed,
                )
            )
        return outcomes


class TreeState:
    """A `StateTree` as an `AccountSource`."""

    def __init__(self, tree: StateTree) -> None:
        self.tree = tree

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the account, or None when absent (or emptied)."""
        value = self.tree.get(pubkey)
        return None if value is None or value.lamports == 0 else value.to_account()


def _with_data(account: Account, source: Account | None) -> Account:
    data = bytes(source.data) if source is not None else b""
    return Account(account.lamports, data, account.owner, account.executable, account.rent_epoch)


def blockhash_context(slot: int, hashes: Iterable[Hash], unix_timestamp: int = 0) -> BlockContext:
    """Return a `BlockContext` from a slot and its valid blockhashes."""
    return BlockContext(slot, unix_timestamp, frozenset(hashes))
