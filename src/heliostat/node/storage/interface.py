"""The node's storage interface and the records it keeps (SQLite now, PostgreSQL later)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Protocol

from solders.account import Account
from solders.pubkey import Pubkey


class EntryKind(IntEnum):
    """What an ordered entry is: an L2 transaction or an L1 priority operation."""

    TRANSACTION = 0
    DEPOSIT = 1
    FORCED = 2  # an L2 transaction forced through the L1 queue (included or not)


class BatchStatus(StrEnum):
    """A batch's way to finality on L1."""

    SEALED = "sealed"  # handed to the prover queue
    PROVING = "proving"
    PROVED = "proved"
    COMMITTED = "committed"  # on L1, proof not yet verified
    FINALIZED = "finalized"  # proof verified and batch executed on L1


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """One ordered entry with its result and its signed soft confirmation."""

    seq: int  # position in the global order, from 0
    slot: int
    position: int  # index within the slot
    kind: EntryKind
    signature: bytes  # 64 bytes: the first signature (a deposit's id for priority operations)
    payload: bytes  # transaction wire bytes, or the encoded priority operation
    err: str | None  # TransactionError as JSON text
    fee: int
    compute_units: int
    logs: tuple[str, ...]
    return_data: bytes | None  # program id (32 bytes) + data
    receipt: bytes  # the signed receipt (docs/node.md, "Receipts")
    running_hash: bytes  # running hash after this entry
    accounts: tuple[bytes, ...]  # account keys the entry names (for address history)
    balances: bytes  # u64 lamports per key before, then per key after (little-endian)


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """A slot's block; `blockhash` is None while the slot is open."""

    slot: int
    parent_slot: int
    block_height: int
    block_time: int
    parent_blockhash: bytes
    blockhash: bytes | None
    first_seq: int
    entry_count: int
    compute_units: int
    data_bytes: int
    batch: int | None


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A sealed batch of consecutive blocks, the unit the prover proves."""

    number: int
    first_slot: int
    last_slot: int
    entry_count: int
    compute_units: int
    data_bytes: int
    state_root: bytes
    status: BatchStatus
    sealed_at: int
    proof: bytes | None
    l1_transaction: str | None


class NodeStorage(Protocol):
    """Durable storage for the node. Writes come from one writer; reads from any thread."""

    def initialize(
        self,
        genesis_hash: bytes,
        genesis: Sequence[tuple[Pubkey, Account]],
        genesis_block: BlockRecord,
    ) -> None:
        """Create the schema for a new chain, or check an existing one has this genesis."""
        ...

    def append(
        self,
        entries: Sequence[EntryRecord],
        accounts: Sequence[tuple[Pubkey, Account]],
        blocks: Sequence[BlockRecord],
        batches: Sequence[BatchRecord],
        leaves: Sequence[tuple[bytes, int]] = (),
    ) -> None:
        """Write entries, account states, blocks, batches and new state-tree leaves.

        A key's leaf never changes once given. Durable on return.
        """
        ...

    def update_batch(
        self, number: int, status: BatchStatus, proof: bytes | None, l1_transaction: str | None
    ) -> None:
        """Record a batch's progress towards L1 finality."""
        ...

    def open_block(self) -> BlockRecord | None:
        """Return the open (unsealed) block, if the node stopped inside a slot."""
        ...

    def last_sealed_block(self) -> BlockRecord:
        """Return the newest sealed block (the genesis block on a new chain)."""
        ...

    def recent_sealed_blocks(self, count: int) -> list[BlockRecord]:
        """Up to `count` newest sealed blocks, oldest first."""
        ...

    def last_entry(self) -> EntryRecord | None:
        """Return the newest entry, None before the first."""
        ...

    def last_entry_of_kind(self, kind: EntryKind) -> EntryRecord | None:
        """Return the newest entry of one kind (the last deposit, to resume L1 order)."""
        ...

    def token_accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Token accounts (either token program) whose token owner is `owner`."""
        ...

    def unbatched_blocks(self) -> list[BlockRecord]:
        """Sealed blocks not yet in a batch, oldest first."""
        ...

    def last_batch(self) -> BatchRecord | None:
        """Return the newest batch."""
        ...

    def block(self, slot: int) -> BlockRecord | None:
        """Return the block of `slot`, if there is one."""
        ...

    def blocks_in_range(self, start: int, end: int, limit: int) -> list[int]:
        """Slots of sealed blocks in [start, end], at most `limit`."""
        ...

    def entries_in_block(self, block: BlockRecord) -> list[EntryRecord]:
        """Return the entries of a block, in order."""
        ...

    def entry_by_signature(self, signature: bytes) -> EntryRecord | None:
        """Return the entry with this first signature."""
        ...

    def signatures_for_address(
        self, address: bytes, before_seq: int | None, until_seq: int | None, limit: int
    ) -> list[EntryRecord]:
        """Entries naming `address`, newest first, strictly between the bounds."""
        ...

    def iter_entries(self, from_seq: int = 0) -> Iterator[EntryRecord]:
        """Every entry from `from_seq` on, in order (replay, audit)."""
        ...

    def accounts(self) -> Iterator[tuple[Pubkey, Account]]:
        """Every stored account post-state."""
        ...

    def accounts_with_leaves(self) -> Iterator[tuple[Pubkey, Account, int | None]]:
        """Every stored account with its state-tree leaf, None if not placed yet (restart)."""
        ...

    def accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return stored accounts owned by `owner`, in key order."""
        ...

    def batch(self, number: int) -> BatchRecord | None:
        """One batch."""
        ...

    def batch_of_slot(self, slot: int) -> int | None:
        """Return the batch holding `slot`'s block, if sealed into one."""
        ...

    def highest_finalized_slot(self) -> int:
        """Return the last slot of the newest finalized batch (0 when none is)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
