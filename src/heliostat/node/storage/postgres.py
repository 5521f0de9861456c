"""PostgreSQL storage for the node (`storage = "postgres"`), the same `NodeStorage` as SQLite.

One writer connection and one reader connection (autocommit, so every read sees the latest
commit). `append` writes a whole group in one transaction and returns once PostgreSQL has
committed it — with the server's default `synchronous_commit = on` that means flushed to its
WAL — so soft confirmations still go out only after the data is durable. Needs psycopg 3.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node.errors import GenesisMismatchError, StorageError
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
    account_row,
    batch_from_row,
    block_from_row,
    entry_from_row,
    entry_row,
)

try:
    import psycopg
except ImportError:  # pragma: no cover - only the PostgreSQL option needs it
    psycopg = None  # type: ignore[assignment]

SCHEMA_VERSION = 2
# Lamports and rent epochs are u64 (a rent-exempt account's rent epoch is u64::MAX), beyond
# BIGINT: they are NUMERIC(20).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq BIGINT PRIMARY KEY, slot BIGINT NOT NULL, position BIGINT NOT NULL,
    kind SMALLINT NOT NULL, signature BYTEA NOT NULL UNIQUE, payload BYTEA NOT NULL,
    err TEXT, fee NUMERIC(20) NOT NULL, compute_units BIGINT NOT NULL, logs TEXT NOT NULL,
    return_data BYTEA, receipt BYTEA NOT NULL, running_hash BYTEA NOT NULL,
    accounts BYTEA NOT NULL, balances BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS entries_slot ON entries (slot, seq);
CREATE INDEX IF NOT EXISTS entries_kind ON entries (kind, seq);
CREATE TABLE IF NOT EXISTS entry_accounts (
    address BYTEA NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (address, seq));
CREATE TABLE IF NOT EXISTS accounts (
    pubkey BYTEA PRIMARY KEY, lamports NUMERIC(20) NOT NULL, owner BYTEA NOT NULL,
    executable SMALLINT NOT NULL, rent_epoch NUMERIC(20) NOT NULL, data BYTEA NOT NULL,
    token_owner BYTEA, token_mint BYTEA);
CREATE INDEX IF NOT EXISTS accounts_owner ON accounts (owner);
CREATE INDEX IF NOT EXISTS accounts_token_owner ON accounts (token_owner);
CREATE TABLE IF NOT EXISTS tree_leaves (pubkey BYTEA PRIMARY KEY, leaf BIGINT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS blocks (
    slot BIGINT PRIMARY KEY, parent_slot BIGINT NOT NULL, block_height BIGINT NOT NULL,
    block_time BIGINT NOT NULL, parent_blockhash BYTEA NOT NULL, blockhash BYTEA,
    first_seq BIGINT NOT NULL, entry_count BIGINT NOT NULL, compute_units BIGINT NOT NULL,
    data_bytes BIGINT NOT NULL, batch BIGINT);
CREATE INDEX IF NOT EXISTS blocks_unbatched ON blocks (slot) WHERE batch IS NULL;
CREATE TABLE IF NOT EXISTS batches (
    number BIGINT PRIMARY KEY, first_slot BIGINT NOT NULL, last_slot BIGINT NOT NULL,
    entry_count BIGINT NOT NULL, compute_units BIGINT NOT NULL, data_bytes BIGINT NOT NULL,
    state_root BYTEA NOT NULL, status TEXT NOT NULL, sealed_at BIGINT NOT NULL, proof BYTEA,
    l1_transaction TEXT);
"""


def _upsert(table: str, columns: str, key: str) -> str:
    names = [c.strip() for c in columns.split(",")]
    updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n != key)
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
    )


_ACCOUNT_COLUMNS = "pubkey, lamports, owner, executable, rent_epoch, data, token_owner, token_mint"
_PUT_ACCOUNT = _upsert("accounts", _ACCOUNT_COLUMNS, "pubkey")
_PUT_BLOCK = _upsert("blocks", BLOCK_COLUMNS, "slot")
_PUT_BATCH = _upsert("batches", BATCH_COLUMNS, "number")
_PUT_ENTRY = f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES ({', '.join(['%s'] * 15)})"
_ACCOUNT_SELECT = "SELECT pubkey, lamports, owner, executable, rent_epoch, data FROM accounts"


def _block_row(b: BlockRecord) -> tuple[object, ...]:
    return (
        b.slot, b.parent_slot, b.block_height, b.block_time, b.parent_blockhash, b.blockhash,
        b.first_seq, b.entry_count, b.compute_units, b.data_bytes, b.batch,
    )  # fmt: skip


def _batch_row(b: BatchRecord) -> tuple[object, ...]:
    return (
        b.number, b.first_slot, b.last_slot, b.entry_count, b.compute_units, b.data_bytes,
        b.state_root, str(b.status), b.sealed_at, b.proof, b.l1_transaction,
    )  # fmt: skip


class PostgresStorage:
    """`NodeStorage` on a PostgreSQL database (see the module docstring)."""

    def __init__(self, dsn: str) -> None:
        if psycopg is None:
            raise StorageError(
                "storage = postgres needs the psycopg package (psycopg[binary])",
                reason="missing_driver",
            )
        self.dsn = dsn
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        try:
            self._writer = psycopg.connect(dsn)
            self._reader = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot connect to PostgreSQL: {exc}", reason="unreachable"
            ) from exc

    # -- writes -------------------------------------------------------------------------

    def initialize(
        self,
        genesis_hash: bytes,
        genesis: Sequence[tuple[Pubkey, Account]],
        genesis_block: BlockRecord,
    ) -> None:
        """Create the schema and genesis state, or check the stored genesis matches."""
        with self._write_lock, self._writer.transaction():
            conn = self._writer
            # Two nodes starting on one empty database: the second waits, then sees genesis.
            conn.execute("SELECT pg_advisory_xact_lock(7048254)")
            conn.execute(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'genesis_hash'").fetchone()
            if row is not None:
                version = conn.execute(
                    "SELECT value FROM meta WHERE key = 'schema_version'"
                ).fetchone()
                stored = None if version is None else int(bytes(version[0]).decode())
                if stored != SCHEMA_VERSION:
                    raise StorageError(
                        f"database schema {stored} is not {SCHEMA_VERSION}; "
                        "start from an empty database",
                        reason="schema_mismatch",
                    )
                if bytes(row[0]) != genesis_hash:
                    raise GenesisMismatchError(genesis_hash, bytes(row[0]))
                return
            conn.execute("INSERT INTO meta VALUES ('genesis_hash', %s)", (genesis_hash,))
            conn.execute(
                "INSERT INTO meta VALUES ('schema_version', %s)", (str(SCHEMA_VERSION).encode(),)
            )
            with conn.cursor() as cur:
                cur.executemany(_PUT_ACCOUNT, [account_row(k, a) for k, a in genesis])
            conn.execute(_PUT_BLOCK, _block_row(genesis_block))

    def append(
        self,
        entries: Sequence[EntryRecord],
        accounts: Sequence[tuple[Pubkey, Account]],
        blocks: Sequence[BlockRecord],
        batches: Sequence[BatchRecord],
        leaves: Sequence[tuple[bytes, int]] = (),
    ) -> None:
        """Write everything in one transaction; committed (and flushed) on return."""
        with self._write_lock, self._writer.transaction(), self._writer.cursor() as cur:
            if entries:
                cur.executemany(_PUT_ENTRY, [entry_row(e) for e in entries])
                cur.executemany(
                    "INSERT INTO entry_accounts VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [(key, e.seq) for e in entries for key in dict.fromkeys(e.accounts)],
                )
            if accounts:
                cur.executemany(_PUT_ACCOUNT, [account_row(k, a) for k, a in accounts])
            if leaves:
                # A key's leaf never moves: re-announcing a known one is a no-op.
                cur.executemany(
                    "INSERT INTO tree_leaves VALUES (%s, %s) ON CONFLICT (pubkey) DO NOTHING",
                    list(leaves),
                )
            if blocks:
                cur.executemany(_PUT_BLOCK, [_block_row(b) for b in blocks])
            for b in batches:
                cur.execute(_PUT_BATCH, _batch_row(b))
                cur.execute(
                    "UPDATE blocks SET batch = %s WHERE slot BETWEEN %s AND %s",
                    (b.number, b.first_slot, b.last_slot),
                )

    def update_batch(
        self, number: int, status: BatchStatus, proof: bytes | None, l1_transaction: str | None
    ) -> None:
        """Record a batch's progress; keeps an earlier proof or L1 hash when given None."""
        with self._write_lock, self._writer.transaction():
            cur = self._writer.execute(
                "UPDATE batches SET status = %s, proof = COALESCE(%s, proof), "
                "l1_transaction = COALESCE(%s, l1_transaction) WHERE number = %s",
                (str(status), proof, l1_transaction, number),
            )
            if cur.rowcount != 1:
                raise StorageError(f"no batch {number}", reason="unknown_batch")

    # -- reads --------------------------------------------------------------------------

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        with self._read_lock:
            return self._reader.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        with self._read_lock:
            return self._reader.execute(sql, args).fetchone()

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
            "ORDER BY slot DESC LIMIT %s",
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
            f"SELECT {ENTRY_COLUMNS} FROM entries WHERE kind = %s ORDER BY seq DESC LIMIT 1",
            (int(kind),),
        )
        return None if row is None else entry_from_row(row)

    def unbatched_blocks(self) -> list[BlockRecord]:
        """Sealed blocks after genesis not yet in a batch."""
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
        row = self._one(f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE slot = %s", (slot,))
        return None if row is None else block_from_row(row)

    def blocks_in_range(self, start: int, end: int, limit: int) -> list[int]:
        """Sealed block slots in [start, end]."""
        rows = self._all(
            "SELECT slot FROM blocks WHERE slot BETWEEN %s AND %s AND blockhash IS NOT NULL "
            "ORDER BY slot LIMIT %s",
            (start, end, limit),
        )
        return [int(r[0]) for r in rows]

    def entries_in_block(self, block: BlockRecord) -> list[EntryRecord]:
        """Return a block's entries in order."""
        rows = self._all(
            f"SELECT {ENTRY_COLUMNS} FROM entries WHERE slot = %s ORDER BY seq", (block.slot,)
        )
        return [entry_from_row(r) for r in rows]

    def entry_by_signature(self, signature: bytes) -> EntryRecord | None:
        """Return the entry with this first signature."""
        row = self._one(f"SELECT {ENTRY_COLUMNS} FROM entries WHERE signature = %s", (signature,))
        return None if row is None else entry_from_row(row)

    def signatures_for_address(
        self, address: bytes, before_seq: int | None, until_seq: int | None, limit: int
    ) -> list[EntryRecord]:
        """Entries naming `address`, newest first, strictly between the bounds."""
        columns = ", ".join("e." + c.strip() for c in ENTRY_COLUMNS.split(","))
        rows = self._all(
            f"SELECT {columns} FROM entry_accounts a JOIN entries e ON e.seq = a.seq "
            "WHERE a.address = %s AND a.seq < %s AND a.seq > %s ORDER BY a.seq DESC LIMIT %s",
            (
                address,
                (1 << 62) if before_seq is None else before_seq,
                -1 if until_seq is None else until_seq,
                limit,
            ),
        )
        return [entry_from_row(r) for r in rows]

    def iter_entries(self, from_seq: int = 0) -> Iterator[EntryRecord]:
        """Every entry from `from_seq` on, in order (read in pages, not all at once)."""
        page = 2000
        while True:
            rows = self._all(
                f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= %s ORDER BY seq LIMIT %s",
                (from_seq, page),
            )
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < page:
                return
            from_seq = int(rows[-1][0]) + 1

    def accounts(self) -> Iterator[tuple[Pubkey, Account]]:
        """Every stored account."""
        for row in self._all(_ACCOUNT_SELECT):
            yield account_from_row(row)

    def accounts_with_leaves(self) -> Iterator[tuple[Pubkey, Account, int | None]]:
        """Every stored account with its state-tree leaf (None: not placed yet)."""
        rows = self._all(
            "SELECT a.pubkey, a.lamports, a.owner, a.executable, a.rent_epoch, a.data, l.leaf "
            "FROM accounts a LEFT JOIN tree_leaves l ON l.pubkey = a.pubkey"
        )
        for row in rows:
            pubkey, account = account_from_row(row)
            yield pubkey, account, None if row[6] is None else int(row[6])

    def accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return stored accounts owned by `owner` (with lamports), in key order."""
        rows = self._all(
            f"{_ACCOUNT_SELECT} WHERE owner = %s AND lamports > 0 ORDER BY pubkey",
            (bytes(owner),),
        )
        return [account_from_row(r) for r in rows]

    def token_accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Token accounts (either token program) whose token owner is `owner`."""
        rows = self._all(
            f"{_ACCOUNT_SELECT} WHERE token_owner = %s AND lamports > 0 ORDER BY pubkey",
            (bytes(owner),),
        )
        return [account_from_row(r) for r in rows]

    def batch(self, number: int) -> BatchRecord | None:
        """One batch."""
        row = self._one(f"SELECT {BATCH_COLUMNS} FROM batches WHERE number = %s", (number,))
        return None if row is None else batch_from_row(row)

    def batch_of_slot(self, slot: int) -> int | None:
        """Return the batch holding `slot`'s block."""
        row = self._one("SELECT batch FROM blocks WHERE slot = %s", (slot,))
        return None if row is None or row[0] is None else int(row[0])

    def highest_finalized_slot(self) -> int:
        """Return the last slot of the newest finalized batch, 0 if none."""
        row = self._one(
            "SELECT MAX(last_slot) FROM batches WHERE status = %s", (str(BatchStatus.FINALIZED),)
        )
        return 0 if row is None or row[0] is None else int(row[0])

    def close(self) -> None:
        """Close both connections."""
        with self._write_lock:
            self._writer.close()
        with self._read_lock:
            self._reader.close()
