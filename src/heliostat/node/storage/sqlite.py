"""SQLite storage for the node, in WAL mode: one writer connection, one reader connection.

`append` writes a whole group of entries, account states, blocks and batches in one SQLite
transaction and returns once it is committed (synchronous=FULL by default, so the commit is
on disk), which is what lets the sequencer send soft confirmations afterwards.
"""

from __future__ import annotations

import json
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
    EntryKind,
    EntryRecord,
)

SCHEMA_VERSION = 2
_TOKEN_PROGRAMS = (
    bytes(Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")),
    bytes(Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")),
)

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

_ENTRY_COLUMNS = (
    "seq, slot, position, kind, signature, payload, err, fee, compute_units, logs, "
    "return_data, receipt, running_hash, accounts, balances"
)
_BLOCK_COLUMNS = (
    "slot, parent_slot, block_height, block_time, parent_blockhash, blockhash, first_seq, "
    "entry_count, compute_units, data_bytes, batch"
)
_BATCH_COLUMNS = (
    "number, first_slot, last_slot, entry_count, compute_units, data_bytes, state_root, "
    "status, sealed_at, proof, l1_transaction"
)


def _entry(row: Any) -> EntryRecord:
    keys = bytes(row[13])
    return EntryRecord(
        seq=int(row[0]),
        slot=int(row[1]),
        position=int(row[2]),
        kind=EntryKind(row[3]),
        signature=bytes(row[4]),
        payload=bytes(row[5]),
        err=row[6],
        fee=int(row[7]),
        compute_units=int(row[8]),
        logs=tuple(json.loads(row[9])),
        return_data=None if row[10] is None else bytes(row[10]),
        receipt=bytes(row[11]),
        running_hash=bytes(row[12]),
        accounts=tuple(keys[i : i + 32] for i in range(0, len(keys), 32)),
        balances=bytes(row[14]),
    )


def _block(row: Any) -> BlockRecord:
    return BlockRecord(
        slot=int(row[0]),
        parent_slot=int(row[1]),
        block_height=int(row[2]),
        block_time=int(row[3]),
        parent_blockhash=bytes(row[4]),
        blockhash=None if row[5] is None else bytes(row[5]),
        first_seq=int(row[6]),
        entry_count=int(row[7]),
        compute_units=int(row[8]),
        data_bytes=int(row[9]),
        batch=None if row[10] is None else int(row[10]),
    )


def _batch(row: Any) -> BatchRecord:
    return BatchRecord(
        number=int(row[0]),
        first_slot=int(row[1]),
        last_slot=int(row[2]),
        entry_count=int(row[3]),
        compute_units=int(row[4]),
        data_bytes=int(row[5]),
        state_root=bytes(row[6]),
        status=BatchStatus(row[7]),
        sealed_at=int(row[8]),
        proof=None if row[9] is None else bytes(row[9]),
        l1_transaction=row[10],
    )


def _account(row: Any) -> tuple[Pubkey, Account]:
    return Pubkey.from_bytes(row[0]), Account(
        lamports=int(row[1]),
        owner=Pubkey.from_bytes(row[2]),
        executable=bool(row[3]),
        rent_epoch=int(row[4]),
        data=bytes(row[5]),
    )


def _account_row(pubkey: Pubkey, account: Account) -> tuple[object, ...]:
    data = bytes(account.data)
    owner = bytes(account.owner)
    is_token = owner in _TOKEN_PROGRAMS and len(data) >= 165
    return (
        bytes(pubkey),
        account.lamports,
        owner,
        int(account.executable),
        account.rent_epoch,
        data,
        data[32:64] if is_token else None,
        data[0:32] if is_token else None,
    )


class SqliteStorage:
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
                [_account_row(k, a) for k, a in genesis],
            )
            self._put_block(conn, genesis_block)
            conn.execute("COMMIT")

    @staticmethod
    def _put_block(conn: sqlite3.Connection, b: BlockRecord) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO blocks ({_BLOCK_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
                conn.executemany(
                    f"INSERT INTO entries ({_ENTRY_COLUMNS}) VALUES ({','.join('?' * 15)})",
                    [
                        (
                            e.seq,
                            e.slot,
                            e.position,
                            int(e.kind),
                            e.signature,
                            e.payload,
                            e.err,
                            e.fee,
                            e.compute_units,
                            json.dumps(e.logs),
                            e.return_data,
                            e.receipt,
                            e.running_hash,
                            b"".join(e.accounts),
                            e.balances,
                        )
                        for e in entries
                    ],
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO entry_accounts VALUES (?,?)",
                    [(key, e.seq) for e in entries for key in e.accounts],
                )
                conn.executemany(
                    "INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?,?,?)",
                    [_account_row(k, a) for k, a in accounts],
                )
                # A key's leaf never moves: re-announcing a known one is a no-op.
                conn.executemany(
                    "INSERT INTO tree_leaves VALUES (?,?) ON CONFLICT(pubkey) DO NOTHING", leaves
                )
                for block in blocks:
                    self._put_block(conn, block)
                for b in batches:
                    conn.execute(
                        f"INSERT OR REPLACE INTO batches ({_BATCH_COLUMNS}) "
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

    def open_block(self) -> BlockRecord | None:
        """Return the unsealed block, if any."""
        row = self._one(f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE blockhash IS NULL")
        return None if row is None else _block(row)

    def last_sealed_block(self) -> BlockRecord:
        """Return the newest sealed block."""
        row = self._one(
            f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE blockhash IS NOT NULL "
            "ORDER BY slot DESC LIMIT 1"
        )
        if row is None:
            raise StorageError("storage has no genesis block", reason="not_initialized")
        return _block(row)

    def recent_sealed_blocks(self, count: int) -> list[BlockRecord]:
        """Up to `count` newest sealed blocks, oldest first."""
        rows = self._reader.execute(
            f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE blockhash IS NOT NULL "
            "ORDER BY slot DESC LIMIT ?",
            (count,),
        ).fetchall()
        return [_block(r) for r in reversed(rows)]

    def last_entry(self) -> EntryRecord | None:
        """Return the newest entry."""
        row = self._one(f"SELECT {_ENTRY_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1")
        return None if row is None else _entry(row)

    def last_entry_of_kind(self, kind: EntryKind) -> EntryRecord | None:
        """Return the newest entry of one kind."""
        row = self._one(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE kind=? ORDER BY seq DESC LIMIT 1",
            (int(kind),),
        )
        return None if row is None else _entry(row)

    def unbatched_blocks(self) -> list[BlockRecord]:
        """Sealed blocks after genesis not yet in a batch."""
        rows = self._reader.execute(
            f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE batch IS NULL AND blockhash IS NOT NULL "
            "AND slot > 0 ORDER BY slot"
        ).fetchall()
        return [_block(r) for r in rows]

    def last_batch(self) -> BatchRecord | None:
        """Return the newest batch."""
        row = self._one(f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY number DESC LIMIT 1")
        return None if row is None else _batch(row)

    def block(self, slot: int) -> BlockRecord | None:
        """Return the block of `slot`."""
        row = self._one(f"SELECT {_BLOCK_COLUMNS} FROM blocks WHERE slot=?", (slot,))
        return None if row is None else _block(row)

    def blocks_in_range(self, start: int, end: int, limit: int) -> list[int]:
        """Sealed block slots in [start, end]."""
        rows = self._reader.execute(
            "SELECT slot FROM blocks WHERE slot BETWEEN ? AND ? AND blockhash IS NOT NULL "
            "ORDER BY slot LIMIT ?",
            (start, end, limit),
        ).fetchall()
        return [int(r[0]) for r in rows]

    def entries_in_block(self, block: BlockRecord) -> list[EntryRecord]:
        """Return a block's entries in order."""
        rows = self._reader.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE slot=? ORDER BY seq", (block.slot,)
        ).fetchall()
        return [_entry(r) for r in rows]

    def entry_by_signature(self, signature: bytes) -> EntryRecord | None:
        """Return the entry with this first signature."""
        row = self._one(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE signature=?", (signature,))
        return None if row is None else _entry(row)

    def signatures_for_address(
        self, address: bytes, before_seq: int | None, until_seq: int | None, limit: int
    ) -> list[EntryRecord]:
        """Entries naming `address`, newest first, strictly between the bounds."""
        rows = self._reader.execute(
            f"SELECT {', '.join('e.' + c.strip() for c in _ENTRY_COLUMNS.split(','))} "
            "FROM entry_accounts a JOIN entries e ON e.seq = a.seq "
            "WHERE a.address=? AND a.seq < ? AND a.seq > ? ORDER BY a.seq DESC LIMIT ?",
            (
                address,
                (1 << 62) if before_seq is None else before_seq,
                -1 if until_seq is None else until_seq,
                limit,
            ),
        ).fetchall()
        return [_entry(r) for r in rows]

    def iter_entries(self, from_seq: int = 0) -> Iterator[EntryRecord]:
        """Every entry from `from_seq` on, in order."""
        cursor = self._reader.execute(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE seq >= ? ORDER BY seq", (from_seq,)
        )
        for row in cursor:
            yield _entry(row)

    def accounts(self) -> Iterator[tuple[Pubkey, Account]]:
        """Every stored account."""
        cursor = self._reader.execute(
            "SELECT pubkey, lamports, owner, executable, rent_epoch, data FROM accounts"
        )
        for row in cursor:
            yield _account(row)

    def accounts_with_leaves(self) -> Iterator[tuple[Pubkey, Account, int | None]]:
        """Every stored account with its state-tree leaf (None: not placed yet)."""
        cursor = self._reader.execute(
            "SELECT a.pubkey, a.lamports, a.owner, a.executable, a.rent_epoch, a.data, l.leaf "
            "FROM accounts a LEFT JOIN tree_leaves l ON l.pubkey = a.pubkey"
        )
        for row in cursor:
            pubkey, account = _account(row)
            yield pubkey, account, None if row[6] is None else int(row[6])

    def accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Return stored accounts owned by `owner` (with lamports), in key order."""
        rows = self._reader.execute(
            "SELECT pubkey, lamports, owner, executable, rent_epoch, data FROM accounts "
            "WHERE owner=? AND lamports > 0 ORDER BY pubkey",
            (bytes(owner),),
        ).fetchall()
        return [_account(r) for r in rows]

    def token_accounts_by_owner(self, owner: Pubkey) -> list[tuple[Pubkey, Account]]:
        """Token accounts (either token program) whose token owner is `owner`."""
        rows = self._reader.execute(
            "SELECT pubkey, lamports, owner, executable, rent_epoch, data FROM accounts "
            "WHERE token_owner=? AND lamports > 0 ORDER BY pubkey",
            (bytes(owner),),
        ).fetchall()
        return [_account(r) for r in rows]

    def batch(self, number: int) -> BatchRecord | None:
        """One batch."""
        row = self._one(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE number=?", (number,))
        return None if row is None else _batch(row)

    def batch_of_slot(self, slot: int) -> int | None:
        """Return the batch holding `slot`'s block."""
        row = self._one("SELECT batch FROM blocks WHERE slot=?", (slot,))
        return None if row is None or row[0] is None else int(row[0])

    def highest_finalized_slot(self) -> int:
        """Return the last slot of the newest finalized batch, 0 if none."""
        row = self._one(
            "SELECT MAX(last_slot) FROM batches WHERE status=?", (str(BatchStatus.FINALIZED),)
        )
        return 0 if row is None or row[0] is None else int(row[0])

    def close(self) -> None:
        """Close both connections."""
        with self._write_lock:
            self._writer.close()
        self._reader.close()
