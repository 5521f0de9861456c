"""From the node's sealed batches to the runtime's: `BatchInput`, state witness, public output.

The node executes transactions one group at a time and seals a batch with its state root; the
prover and L1 need the same batch as the runtime sees it: its blocks (each with the context
the node gave it: slot, time, the 150 blockhashes before it), its deposits, the state as of
the previous batch's root. `BatchBuilder` keeps its own copy of the state tree, one batch
behind the node: it rebuilds each batch from storage, runs it natively with the tree (the
kernel checks every account against the old root and publishes the new one), requires the
kernel's new root to be the root the node sealed, and advances its tree with the batch's
state diff.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey

from heliostat.node.prover_service.batch_job import BatchPayload
from heliostat.node.prover_service.jobs import ProverServiceError
from heliostat.node.sequencer.chain import MAX_PROCESSING_AGE
from heliostat.node.sequencer.entries import Deposit as NodeDeposit
from heliostat.node.sequencer.entries import decode_forced
from heliostat.node.storage.interface import BatchRecord, EntryKind, NodeStorage
from heliostat.runtime import state_witness
from heliostat.runtime.executor import DictState
from heliostat.runtime.interface import (
    BatchInput,
    BatchPublicOutput,
    Block,
    BlockContext,
    Deposit,
    PriorityOperation,
)
from heliostat.runtime.kernel_output import decode_public_output
from heliostat.runtime.programs import elf_of
from heliostat.runtime.runtime import Runtime, TreeState
from heliostat.runtime.state_tree import AccountValue, StateTree


class BatchBuildError(ProverServiceError):
    """A sealed batch cannot be turned into a runtime batch (missing blocks, out of order)."""

    reason = "batch_build"


class BatchMismatchError(BatchBuildError):
    """The runtime's batch does not reproduce what the node sealed: the batch is not provable."""

    reason = "batch_root_mismatch"

    def __init__(self, number: int, expected: bytes, got: bytes, note: str = "") -> None:
        super().__init__(
            f"batch {number}: the node sealed root {expected.hex()[:16]}…, the runtime's batch "
            f"run gives {got.hex()[:16]}…{note}"
        )
        self.number = number
        self.expected = expected
        self.got = got


@dataclass(frozen=True)
class BuiltBatch:
    """A node batch as the runtime runs it, and what the kernel published for it natively."""

    record: BatchRecord
    payload: BatchPayload
    public_output: BatchPublicOutput
    transactions: int
    deposits_after_transactions: bool


def genesis_tree(extra: Sequence[tuple[Pubkey, Account]], runtime: Runtime) -> StateTree:
    """Return the state tree at genesis as the node's executor builds it (runtime + extra)."""
    state = DictState(runtime.genesis_accounts())
    state.apply(extra)
    return StateTree.from_accounts(state.accounts)


def batch_input(
    storage: NodeStorage, record: BatchRecord, old_root: bytes
) -> tuple[BatchInput, int, bool]:
    """Rebuild a sealed batch from storage.

    Also returns its transaction count and whether a deposit came after a transaction (the
    kernel runs priority operations first).
    """
    window: deque[bytes] = deque(maxlen=MAX_PROCESSING_AGE)
    for slot in range(max(0, record.first_slot - MAX_PROCESSING_AGE), record.first_slot):
        block = storage.block(slot)
        if block is not None and block.blockhash is not None:
            window.append(block.blockhash)
    priority: list[PriorityOperation] = []
    blocks: list[Block] = []
    first_context: BlockContext | None = None
    forced_context: BlockContext | None = None  # the slot the node ran forced ones in
    seen_transaction = late_deposit = False
    count = 0
    for slot in range(record.first_slot, record.last_slot + 1):
        block = storage.block(slot)
        if block is None or block.blockhash is None:
            raise BatchBuildError(f"batch {record.number}: block {slot} is missing from storage")
        context = BlockContext(slot, block.block_time, frozenset(Hash(h) for h in window))
        first_context = first_context or context
        transactions = []
        for entry in storage.entries_in_block(block):
            if entry.kind is EntryKind.DEPOSIT:
                d = NodeDeposit.decode(entry.payload)
                priority.append(Deposit(d.l1_index, d.recipient, d.lamports))
                late_deposit = late_deposit or seen_transaction
            elif entry.kind is EntryKind.FORCED:
                priority.append(decode_forced(entry.payload))
                late_deposit = late_deposit or seen_transaction
                forced_context = forced_context or context
            else:
                transactions.append(entry.payload)
                seen_transaction = True
        if transactions:
            blocks.append(Block(context, tuple(transactions)))
            count += len(transactions)
        window.append(block.blockhash)
    if forced_context is not None and (not blocks or blocks[0].context != forced_context):
        # the kernel runs forced transactions in the first block's context: the node ran
        # them in their own slot's, so that slot comes first (empty if it holds no more)
        blocks.insert(0, Block(forced_context, ()))
    if not blocks and first_context is not None:  # deposits only: they run in this context
        blocks.append(Block(first_context, ()))
    return BatchInput(record.number, old_root, tuple(priority), tuple(blocks)), count, late_deposit


class BatchBuilder:
    """Turns sealed node batches, in order, into proof payloads (see the module docstring)."""

    def __init__(
        self, storage: NodeStorage, genesis_extra: Sequence[tuple[Pubkey, Account]] = ()
    ) -> None:
        self.storage = storage
        self.runtime = Runtime()
        self.tree = genesis_tree(genesis_extra, self.runtime)
        self.next_number = 1

    @property
    def root(self) -> bytes:
        """The state root after the last built batch (the genesis root before any)."""
        return self.tree.root()

    def build(self, record: BatchRecord) -> BuiltBatch:
        """Build the next batch; raise BatchMismatchError if it does not reproduce the node's."""
        if record.number != self.next_number:
            raise BatchBuildError(
                f"batch {record.number} built out of order (next is {self.next_number})"
            )
        old_root = self.tree.root()
        batch, count, late = batch_input(self.storage, record, old_root)
        kin = self.runtime.batch_input(batch, TreeState(self.tree), tree=self.tree)
        assert kin.state_witness is not None  # internal: built with the tree
        output = decode_public_output(self.runtime.run(kin).published)
        if output.new_root != record.state_root:
            note = " (a deposit arrived after transactions in this batch)" if late else ""
            raise BatchMismatchError(record.number, record.state_root, output.new_root, note)
        changes: dict[bytes | Pubkey, AccountValue | None] = {
            bytes(key): AccountValue.of(account) if account.lamports else None
            for key, account in output.state_diff
        }
        state_witness.update(self.tree, _with_kept_data(self.tree, changes))
        if self.tree.root() != output.new_root:
            raise BatchMismatchError(record.number, output.new_root, self.tree.root(), " (tree)")
        self.next_number += 1
        return BuiltBatch(record, BatchPayload(batch, kin.state_witness), output, count, late)

    def build_all(self, records: Iterable[BatchRecord]) -> list[BuiltBatch]:
        """Build consecutive batches (a restart catching up)."""
        return [self.build(record) for record in records]


def _with_kept_data(
    tree: StateTree, changes: dict[bytes | Pubkey, AccountValue | None]
) -> dict[bytes | Pubkey, AccountValue | None]:
    """Keep the tree's ELF bytes: the diff leaves them out (they cannot change in a batch)."""
    out: dict[bytes | Pubkey, AccountValue | None] = {}
    for key, value in changes.items():
        stored = tree.get(key)
        if (
            value is not None
            and not value.data
            and stored is not None
            and elf_of(stored.to_account()) is not None
        ):
            value = AccountValue(value.lamports, value.owner, value.executable,
                                 value.rent_epoch, stored.data)  # fmt: skip
        out[key] = value
    return out
