"""SQLite storage for the node, in WAL mode: one writer connection, one reader connection.

`append` writes a whole group of entries, account states, blocks and batches in one SQLite
transaction and returns once it is committed (synchronous=FULL by default, so the commit is
on disk), which is what lets the sequencer send soft confirmations afterwards.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
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

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, slot INTEGER NOT NULL, position INTEGER NOT NULL,
    kind INTEGER NOT NULL, signature BLOB NOT NULL UNIQUE, payload BLOB NOT NULL,
    err TEXT, fee INTEGER NOT NULL, compute_units INTEGER NOT NULL, logs TEXT NOT NULL,
    return_data BLOB, receipt BLOB NOT NULL, running_hash BLOB NOT NULL,
    accounts BLOB NOT NULL, balances BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entry_accounts (
    address BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (address, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS accounts (
    pubkey BLOB PRIMARY KEY, lamports INTEGER NOT NULL, owner BLOB NOT NULL,
    executable INTEGER NOT NULL, rent_epoch INTEGER NOT NULL, data BLOB NOT NULL,
    token_owner BLOB, token_mint BLOB);
CREATE TABLE IF NOT EXISTS tree_leaves (
    pubkey BLOB PRIMARY KEY, leaf INTEGER NOT NULL UNIQUE) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS accounts_owner ON accounts (owner);
CREATE INDEX IF NOT EXISTS entries_kind ON entries (kind, seq);
CREATE INDEX IF NOT EXISTS accounts_token_owner ON accounts (token_owner);
CREATE TABLE IF NOT EXISTS blocks (
    slot INTEGER PRIMARY KEY, parent_slot INTEGER NOT NULL, block_height INTEGER NOT NULL,
    block_time INTEGER NOT NULL, parent_blockhash BLOB NOT NULL, blockhash BLOB,
    first_seq INTEGER NOT NULL, entry_count INTEGER NOT NULL, compute_units INTEGER NOT NULL,
    data_bytes INTEGER NOT NULL, batch INTEGER);
CREATE TABLE IF NOT EXISTS batches (
    number INTEGER PRIMARY KEY, first_slot INTEGER NOT NULL, last_slot INTEGER NOT NULL,
    entry_count INTEGER NOT NULL, compute_units INTEGER NOT NULL, data_bytes INTEGER NOT NULL,
    state_root BLOB NOT NULL, status TEXT NOT NULL, sealed_at INTEGER NOT NULL, proof BLOB,
    l1_transaction TEXT);
"""


# An account's row is updated in place (INSERT OR REPLACE would delete and re-insert it,
# touching every index).
_ACCOUNT_UPSERT = "ON CONFLICT(pubkey) DO UPDATE SET " + ", ".join(
    f"{c} = excluded.{c}"
    for c in ("lamports", "owner", "executable", "rent_epoch", "data", "token_owner", "token_mint")
)
# Rows per multi-row INSERT: below SQLite's 32,766 bound variables at 15 columns.
_ROWS_PER_STATEMENT = 512


def _insert_rows(
    conn: sqlite3.Connection,
    head: str,
    width: int,
    rows: Sequence[Sequence[object]],
    tail: str = "",
) -> None:
    """Insert rows with as few statements as possible.

    One multi-row statement instead of `executemany`'s step per row: the storage writer
    thread releases and re-takes the GIL around every SQLite step, and each re-take can
    wait for the busy event loop.
    """
    one = "(" + ",".join("?" * width) + ")"
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        values = [value for row in chunk for value in row]
        conn.execute(f"{head} {','.join([one] * len(chunk))} {tail}", values)


class SqliteStorage(SqlReads):
    """`NodeStorage` on one SQLite file in WAL mode."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise StorageError(f"unknown synchronous mode {synchronous!r}", reason="bad_config")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self._writer = self._connect(synchronous)
        self._reader = self._connect(synchronous)

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        return conn

    # -- writes -------------------------------------------------------------------------

    def initialize(
        self,
        genesis_hash: bytes,
        genesis: Sequence[tuple[Pubkey, Account]],
        genesis_block: BlockRecord,
    ) -> None:
        """Create the schema and genesis state, or check the stored genesis matches."""
        with self._write_lock:
            conn = self._writer
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='genesis_hash'").fetchone()
            if row is not None:
                version = conn.execute(
                    "SELECT value FROM meta WHERE key='schema_version'"
                ).fetchone()
                if version is None or int(version[0]) != SCHEMA_VERSION:
                    raise StorageError(
                        f"database schema {None if version is None else int(version[0])} is "
                        f"not {SCHEMA_VERSION}; start from an empty data directory",
                        reason="schema_mismatch",
                    )
                if bytes(row[0]) != genesis_hash:
                    raise GenesisMismatchError(genesis_hash, bytes(row[0]))
                return
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO meta VALUES ('genesis_hash', ?)", (genesis_hash,))
            conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            conn.executemany(
                "INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,?)",
                [account_row(k, a) for k, a in genesis],
            )
            self._put_block(conn, genesis_block)
            conn.execute("COMMIT")

    @staticmethod
    def _put_block(conn: sqlite3.Connection, b: BlockRecord) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO blocks ({BLOCK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                b.slot,
                b.parent_slot,
                b.block_height,
                b.block_time,
                b.parent_blockhash,
                b.blockhash,
                b.first_seq,
                b.entry_count,
                b.compute_units,
                b.data_bytes,
                b.batch,
            ),
        )

    def append(
        self,
        entries: Sequence[EntryRecord],
        accounts: Sequence[tuple[Pubkey, Account]],
        blocks: Sequence[BlockRecord],
        batches: Sequence[BatchRecord],
        leaves: Sequence[tuple[bytes, int]] = (),
    ) -> None:
        """Write everything in one transaction; committed (and synced) on return."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                _insert_rows(conn, f"INSERT INTO entries ({ENTRY_COLUMNS}) VALUES", 15,
                             [entry_row(e) for e in entries])  # fmt: skip
                _insert_rows(conn, "INSERT OR IGNORE INTO entry_accounts VALUES", 2,
                             [(key, e.seq) for e in entries for key in e.accounts])  # fmt: skip
                _insert_rows(conn, "INSERT INTO accounts VALUES", 8,
                             [account_row(k, a) for k, a in accounts], _ACCOUNT_UPSERT)  # fmt: skip
                # A key's leaf never moves: re-announcing a known one is a no-op.
                _insert_rows(conn, "INSERT INTO tree_leaves VALUES", 2, leaves,
                             "ON CONFLICT(pubkey) DO NOTHING")  # fmt: skip
                for block in blocks:
                    self._put_block(conn, block)
                for b in batches:
                    conn.execute(
                        f"INSERT OR REPLACE INTO batches ({BATCH_COLUMNS}) "
                        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            b.number,
                            b.first_slot,
                            b.last_slot,
                            b.entry_count,
                            b.compute_units,
                            b.data_bytes,
                            b.state_root,
                            str(b.status),
                            b.sealed_at,
                            b.proof,
                            b.l1_transaction,
                        ),
                    )
                    conn.execute(
                        "UPDATE blocks SET batch=? WHERE slot BETWEEN ? AND ?",
                        (b.number, b.first_slot, b.last_slot),
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def update_batch(
        self, number: int, status: BatchStatus, proof: bytes | None, l1_transaction: str | None
    ) -> None:
        """Record a batch's progress; keeps an earlier proof or L1 hash when given None."""
        with self._write_lock:
            cur = self._writer.execute(
                "UPDATE batches SET status=?, proof=COALESCE(?, proof), "
                "l1_transaction=COALESCE(?, l1_transaction) WHERE number=?",
                (str(status), proof, l1_transaction, number),
            )
            if cur.rowcount != 1:
                raise StorageError(f"no batch {number}", reason="unknown_batch")

    # -- reads --------------------------------------------------------------------------

    def _one(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        return self._reader.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        return self._reader.execute(sql, args).fetchall()

    def _iter(self, sql: str, args: tuple[object, ...] = ()) -> Iterator[Any]:
        return iter(self._reader.execute(sql, args))

    def close(self) -> None:
        """Close both connections."""
        with self._write_lock:
            self._writer.close()
        self._reader.close()
