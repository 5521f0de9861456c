"""The read side of `NodeStorage`, written once for both SQL backends.

Queries use `?` placeholders; a backend provides `_one`, `_all` and `_iter` over its own
connection (PostgreSQL's translate the placeholders to `%s`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node.errors import StorageError
from heliostat.node.storage.interface import (
    BatchRecord,
    BatchStatus,
    BlockRecord,
    EntryKind,
    EntryRecord,
)
from heliostat.node.storage.rows import (
    BATCH_COLUMNS,
    BLOCK_COLUMNS,
    ENTRY_COLUMNS,
    account_from_row,
    batch_from_row,
    block_from_row,
    entry_from_row,
)

ACCOUNT_SELECT = "SELECT pubkey, lamports, owner, executable, rent_epoch, data FROM accounts"
_JOINED_ENTRY_COLUMNS = ", ".join("e." + c.strip() for c in ENTRY_COLUMNS.split(","))
_PAGE = 2000  # entries read at a time by iter_entries


class SqlReads:
    """Every read of `NodeStorage`; subclasses supply the three query primitives."""

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        raise NotImplementedError

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        raise NotImplementedError

    def _iter(self, sql: str, args: tuple[object, ...] = ()) -> Iterator[Any]:
        """Rows of a query that may be large (a backend may stream them)."""
        return iter(self._all(sql, args))

    def open_block(self) -> BlockRecord | None:
        """Return the unsealed block, if any."""
        row = self._one(f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE blockhash IS NULL")
        return None if row is None else block_from_row(row)

    def last_sealed_block(self) -> BlockRecord:
        """Return the newest sealed block."""
        row = self._one(
            f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE blockhash IS NOT NULL "
            "ORDER BY slot DESC LIMIT 1"
        )
        if row is None:
            raise StorageError("storage has no genesis block", reason="not_initialized")
        return block_from_row(row)

    def recent_sealed_blocks(self, count: int) -> list[BlockRecord]:
        """Up to `count` newest sealed blocks, oldest first."""
        rows = self._all(
            f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE blockhash IS NOT NULL "
            "ORDER BY slot DESC LIMIT ?",
            (count,),
        )
        return [block_from_row(r) for r in reversed(rows)]

    def last_entry(self) -> EntryRecord | None:
        """Return the newest entry."""
        row = self._one(f"SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1")
        return None if row is None else entry_from_row(row)

    def last_entry_of_kind(self, kind: EntryKind) -> EntryRecord | None:
        """Return the newest entry of one kind."""
        row = self._one(
            f"SELECT {ENTRY_COLUMNS} FROM entries WHERE kind = ? ORDER BY seq DESC LIMIT 1",
            (int(kind),),
        )
        return None if row is None else entry_from_row(row)

    def unbatched_blocks(self) -> list[BlockRecord]:
        """Return the sealed blocks after genesis not yet in a batch."""
        rows = self._all(
            f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE batch IS NULL AND blockhash IS NOT NULL "
            "AND slot > 0 ORDER BY slot"
        )
        return [block_from_row(r) for r in rows]

    def last_batch(self) -> BatchRecord | None:
        """Return the newest batch."""
        row = self._one(f"SELECT {BATCH_COLUMNS} FROM batches ORDER BY number DESC LIMIT 1")
        return None if row is None else batch_from_row(row)

    def block(self, slot: int) -> BlockRecord | None:
        """Return the block of `slot`."""
        row = self._one(f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE slot = ?", (slot,))
        return None if row is None else block_from_row(row)

    def blocks_in_range(self, start: int, end: int, limit: int) -> list[int]:
        """Return the sealed block slots in [start, end]."""
        rows = self._all(
            "SELECT slot FROM blocks WHERE slot BETWEEN ? AND ? AND blockhash IS NOT NULL "
            "ORDER BY slot LIMIT ?",
            (start, end, limit),
        )
        return [int(r[0]) for r in rows]

    def entries_in_block(self, block: BlockRecord) -> list[EntryRecord]:
        """Return a block's entries in order.

        A block's entries are consecutive from `first_seq`, so the primary key finds them; the
        open block (no blockhash, count not final) is the newest, so its scan is short.
        """
        end = block.first_seq + block.entry_count if block.blockhash else 2**62
        rows = self._all(
            f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= ? AND seq < ? AND slot = ? "
            "ORDER BY seq",
            (block.first_seq, end, block.slot),
        )
        return [entry_from_row(r) for r in rows]

    def entry_by_signature(self, signature: bytes) -> EntryRecord | None:
        """Return the entry with this first signature."""
        row = self._one(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE signature = ?", (signature,))
        return None if row is None else entry_from_row(row)

    def signatures_for_address(
        self, address: bytes, before_seq: int | None, until_seq: int | None, limit: int
    ) -> list[EntryRecord]:
        """Return the entries naming `address`, newest first, strictly between the bounds."""
        rows = self._all(
            f"SELECT {_JOINED_ENTRY_COLUMNS} FROM entry_accounts a JOIN entries e "
            "ON e.seq = a.seq WHERE a.address = ? AND a.seq < ? AND a.seq > ? "
            "ORDER BY a.seq DESC LIMIT ?",
            (
                address,
                (1 << 62) if before_seq is None else before_seq,
                -1 if until_seq is None else until_seq,
                limit,
            ),
        )
        return [entry_from_row(r) for r in rows]

    def iter_entries(self, from_seq: int = 0) -> Iterator[EntryRecord]:
        """Yield every entry from `from_seq` on, in order (read in pages, not all at once)."""
        while True:
            rows = self._all(
                f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= ? ORDER BY seq LIMIT ?",
                (from_seq, _PAGE),
            )
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < _PAGE:
                return
            from_seq = int(rows[-1][0]) + 1

    def accounts(self) -> Iterator[tuple[Pubkey, Account]]:
        """Yield every stored account."""
        for row in self._iter(ACCOUNT_SELECT):
            yield account_from_row(row)

    def accounts_with_leaves(self) -> Iterator[tuple[Pubkey, Account, int | None]]:
        """Yield every stored account with its state-tree leaf (None: not placed yet)."""
        rows = self._iter(
            "SELECT a.pubkey, a.lamports, a.owner, a.executable, a.rent_epoch, a.data, l.leaf "
            "FROM accounts a LEFT JOIN tree_leaves l ON l.pubkey = a.pubkey"
        )
        for row in rows:
            pubkey, account = account_from_row(row)
            yield pubkey, account, None if row[6] is None else int(row[6])

    def accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return stored accounts owned by `owner` (with lamports), in key order."""
        rows = self._all(
            f"{ACCOUNT_SELECT} WHERE owner = ? AND lamports > 0 ORDER BY pubkey", (bytes(owner),)
        )
        return [account_from_row(r) for r in rows]

    def token_accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return token accounts (either token program) whose token owner is `owner`."""
        rows = self._all(
            f"{ACCOUNT_SELECT} WHERE token_owner = ? AND lamports > 0 ORDER BY pubkey",
            (bytes(owner),),
        )
        return [account_from_row(r) for r in rows]

    def batch(self, number: int) -> BatchRecord | None:
        """Return one batch."""
        row = self._one(f"SELECT {BATCH_COLUMNS} FROM batches WHERE number = ?", (number,))
        return None if row is None else batch_from_row(row)

    def batch_of_slot(self, slot: int) -> int | None:
        """Return the batch holding `slot`'s block."""
        row = self._one("SELECT batch FROM blocks WHERE slot = ?", (slot,))
        return None if row is None or row[0] is None else int(row[0])

    def highest_finalized_slot(self) -> int:
        """Return the last slot of the newest finalized batch, 0 if none."""
        row = self._one(
            "SELECT MAX(last_slot) FROM batches WHERE status = ?", (str(BatchStatus.FINALIZED),)
        )
        return 0 if row is None or row[0] is None else int(row[0])
