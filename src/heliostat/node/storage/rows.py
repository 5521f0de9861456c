"""Rows shared by the storage backends: column lists and record <-> row conversions."""

from __future__ import annotations

import json
from typing import Any

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node.storage.interface import (
    BatchRecord,
    BatchStatus,
    BlockRecord,
    EntryKind,
    EntryRecord,
)

TOKEN_PROGRAMS = (
    bytes(Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")),
    bytes(Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")),
)

ENTRY_COLUMNS = (
    "seq, slot, position, kind, signature, payload, err, fee, compute_units, logs, "
    "return_data, receipt, running_hash, accounts, balances"
)
BLOCK_COLUMNS = (
    "slot, parent_slot, block_height, block_time, parent_blockhash, blockhash, first_seq, "
    "entry_count, compute_units, data_bytes, batch"
)
BATCH_COLUMNS = (
    "number, first_slot, last_slot, entry_count, compute_units, data_bytes, state_root, "
    "status, sealed_at, proof, l1_transaction"
)


def entry_from_row(row: Any) -> EntryRecord:
    """Return the `EntryRecord` of a row in ENTRY_COLUMNS order."""
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


def entry_row(e: EntryRecord) -> tuple[object, ...]:
    """Return the entries-table row of an entry, in ENTRY_COLUMNS order."""
    return (
        e.seq, e.slot, e.position, int(e.kind), e.signature, e.payload, e.err, e.fee,
        e.compute_units, json.dumps(e.logs), e.return_data, e.receipt, e.running_hash,
        b"".join(e.accounts), e.balances,
    )  # fmt: skip


def block_from_row(row: Any) -> BlockRecord:
    """Return the `BlockRecord` of a row in BLOCK_COLUMNS order."""
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


def batch_from_row(row: Any) -> BatchRecord:
    """Return the `BatchRecord` of a row in BATCH_COLUMNS order."""
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


def account_from_row(row: Any) -> tuple[Pubkey, Account]:
    """Return (key, account) from a row of pubkey, lamports, owner, executable, rent_epoch, data."""
    return Pubkey.from_bytes(row[0]), Account(
        lamports=int(row[1]),
        owner=Pubkey.from_bytes(row[2]),
        executable=bool(row[3]),
        rent_epoch=int(row[4]),
        data=bytes(row[5]),
    )


def account_row(pubkey: Pubkey, account: Account) -> tuple[object, ...]:
    """Return the accounts-table row of an account (with token owner and mint for one)."""
    data = bytes(account.data)
    owner = bytes(account.owner)
    is_token = owner in TOKEN_PROGRAMS and len(data) >= 165
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
