"""Group commit: everything executed since the last commit, written in one durable step.

The sequencer stages entries, account post-states, blocks and batches here as it works; the
committer takes the whole group to a writer thread, which signs the receipts (`seal`) and
writes everything with one storage transaction; only then are the waiting requests resolved
(the soft confirmations go out after the data is durable). While one group is being written,
the next one fills.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node.execution import ExecutionOutcome
from heliostat.node.sequencer.receipts import ReceiptSigner
from heliostat.node.storage.interface import BatchRecord, BlockRecord, EntryKind, EntryRecord


@dataclass(frozen=True, slots=True)
class StagedEntry:
    """An ordered entry whose receipt body is final but not signed yet."""

    seq: int
    slot: int
    position: int
    kind: EntryKind
    signature: bytes
    payload: bytes
    err: str | None
    fee: int
    compute_units: int
    logs: tuple[str, ...]
    return_data: bytes | None
    receipt_body: bytes
    running_hash: bytes
    accounts: tuple[bytes, ...]
    balances: bytes

    def signed(self, signer: ReceiptSigner) -> EntryRecord:
        """Return the entry as stored, with its signed receipt."""
        return EntryRecord(
            self.seq, self.slot, self.position, self.kind, self.signature, self.payload,
            self.err, self.fee, self.compute_units, self.logs, self.return_data,
            signer.sign(self.receipt_body), self.running_hash, self.accounts, self.balances,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Confirmation:
    """A durable, soft-confirmed entry and its execution outcome (None for deposits)."""

    entry: EntryRecord
    outcome: ExecutionOutcome | None


@dataclass(slots=True)
class CommitGroup:
    """Writes staged since the last commit, and the requests waiting on them."""

    staged: list[StagedEntry] = field(default_factory=list)
    entries: list[EntryRecord] = field(default_factory=list)  # filled by `seal`
    outcomes: list[ExecutionOutcome | None] = field(default_factory=list)
    accounts: dict[Pubkey, Account] = field(default_factory=dict)
    blocks: list[BlockRecord] = field(default_factory=list)
    batches: list[BatchRecord] = field(default_factory=list)
    leaves: list[tuple[bytes, int]] = field(default_factory=list)  # (key, state-tree leaf)
    waiters: list[asyncio.Future[Confirmation] | None] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.staged or self.blocks or self.batches)

    def add_entry(
        self,
        entry: StagedEntry,
        outcome: ExecutionOutcome | None,
        changed: tuple[tuple[Pubkey, Account], ...],
        waiter: asyncio.Future[Confirmation] | None,
    ) -> None:
        """Stage one entry with the account states it wrote."""
        self.staged.append(entry)
        self.outcomes.append(outcome)
        self.waiters.append(waiter)
        for pubkey, account in changed:
            self.accounts[pubkey] = account

    def add_block(self, block: BlockRecord) -> None:
        """Stage an opened or sealed block (a later record for the same slot replaces it)."""
        self.blocks.append(block)

    def seal(self, signer: ReceiptSigner) -> None:
        """Sign every staged receipt (on the writer thread, before the write)."""
        self.entries = [entry.signed(signer) for entry in self.staged]

    def resolve(self) -> None:
        """Answer every waiter once the group is durable."""
        for entry, outcome, waiter in zip(self.entries, self.outcomes, self.waiters, strict=True):
            if waiter is not None and not waiter.done():
                waiter.set_result(Confirmation(entry, outcome))

    def fail(self, error: BaseException) -> None:
        """Tell every waiter the group could not be made durable."""
        for waiter in self.waiters:
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)
