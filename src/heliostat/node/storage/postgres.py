"""PostgreSQL storage for the node (`storage = "postgres"`), the same `NodeStorage` as SQLite.

One writer connection and one reader connection (autocommit, so every read sees the latest
commit). `append` writes a whole group in one transaction and returns once PostgreSQL has
committed it — with the server's default `synchronous_commit = on` that means flushed to its
WAL — so soft confirmations still go out only after the data is durable. Needs psycopg 3.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node.errors import GenesisMismatchError, StorageError
from heliostat.node.storage.interface import (
    BatchRecord,
    BatchStatus,
    BlockRecord,
    EntryRecord,
)
from heliostat.node.storage.reads import SqlReads
from heliostat.node.storage.rows import (
    BATCH_COLUMNS,
    BLOCK_COLUMNS,
    ENTRY_COLUMNS,
    account_row,
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


class PostgresStorage(SqlReads):
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
            return self._reader.execute(sql.replace("?", "%s"), args).fetchall()

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        with self._read_lock:
            return self._reader.execute(sql.replace("?", "%s"), args).fetchone()

    def close(self) -> None:
        """Close both connections."""
        with self._write_lock:
            self._writer.close()
        with self._read_lock:
            self._reader.close()
