"""The storage interface, the same checks on both backends: SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from heliostat.node.errors import GenesisMismatchError, StorageError
from heliostat.node.storage.interface import (
    BatchRecord,
    BatchStatus,
    BlockRecord,
    EntryKind,
    EntryRecord,
    NodeStorage,
)
from heliostat.node.storage.rows import TOKEN_PROGRAMS

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
TOKEN = Pubkey(TOKEN_PROGRAMS[0])
GENESIS = hashlib.sha256(b"genesis").digest()


def _block(slot: int, first_seq: int, count: int, sealed: bool = True) -> BlockRecord:
    return BlockRecord(
        slot=slot,
        parent_slot=max(0, slot - 1),
        block_height=slot,
        block_time=1_700_000_000 + slot,
        parent_blockhash=hashlib.sha256(b"block%d" % (slot - 1)).digest(),
        blockhash=hashlib.sha256(b"block%d" % slot).digest() if sealed else None,
        first_seq=first_seq,
        entry_count=count,
        compute_units=150 * count,
        data_bytes=200 * count,
        batch=None,
    )


def _entry(seq: int, slot: int, position: int, keys: list[Pubkey], **kw: object) -> EntryRecord:
    fields: dict[str, object] = dict(
        seq=seq,
        slot=slot,
        position=position,
        kind=EntryKind.TRANSACTION,
        signature=hashlib.sha512(b"sig%d" % seq).digest(),
        payload=b"tx%d" % seq,
        err=None,
        fee=5000,
        compute_units=150,
        logs=("Program 11111111111111111111111111111111 invoke [1]", f"line {seq} ✓"),
        return_data=None,
        receipt=bytes([seq % 256]) * 342,
        running_hash=hashlib.sha256(b"run%d" % seq).digest(),
        accounts=tuple(bytes(k) for k in keys),
        balances=(seq).to_bytes(8, "little") * (2 * len(keys)),
    )
    fields.update(kw)
    return EntryRecord(**fields)  # type: ignore[arg-type]


def _token_account(mint: Pubkey, owner: Pubkey, amount: int) -> Account:
    data = bytes(mint) + bytes(owner) + amount.to_bytes(8, "little") + bytes(165 - 72)
    return Account(2_039_280, data, TOKEN, False, 0)


def test_a_chain_written_and_read_back(storage_factory: Callable[[], NodeStorage]) -> None:
    alice, bob, mint = Keypair().pubkey(), Keypair().pubkey(), Keypair().pubkey()
    token_account = Keypair().pubkey()
    storage = storage_factory()
    genesis = [(alice, Account(10**15, b"", SYSTEM, False, 0))]
    storage.initialize(GENESIS, genesis, _block(0, 0, 0))
    assert storage.last_entry() is None and storage.open_block() is None
    assert storage.last_sealed_block().slot == 0
    assert [k for k, _ in storage.accounts()] == [alice]

    deposit = _entry(0, 1, 0, [bob], kind=EntryKind.DEPOSIT, payload=bytes(48))
    first = [deposit, _entry(1, 1, 1, [alice, bob, SYSTEM])]
    storage.append(
        first,
        [
            (alice, Account(10**15 - 5000, b"", SYSTEM, False, 0)),
            (bob, Account(7, b"", SYSTEM, False, 0)),
        ],
        [_block(1, 0, 2), _block(2, 2, 0, sealed=False)],
        [],
        [(bytes(alice), 5), (bytes(bob), 6)],
    )
    failed = _entry(2, 2, 0, [alice, token_account], err='{"InstructionError":[0,"Custom"]}')
    ret = bytes(SYSTEM) + b"returned"
    second = [failed, _entry(3, 2, 1, [alice], return_data=ret, logs=())]
    batch = BatchRecord(
        1, 1, 2, 4, 600, 800, b"R" * 32, BatchStatus.SEALED, 1_700_000_009, None, None
    )
    storage.append(
        second,
        [(token_account, _token_account(mint, bob, 42)), (bob, Account(0, b"", SYSTEM, False, 0))],
        [_block(2, 2, 2), _block(3, 4, 0, sealed=False)],
        [batch],
        [(bytes(token_account), 7), (bytes(alice), 99)],  # alice's leaf is 5 for good
    )
    storage.close()

    storage = storage_factory()  # a restart sees exactly what was committed
    storage.initialize(GENESIS, genesis, _block(0, 0, 0))  # the same chain: accepted
    assert storage.last_entry() == second[1]
    assert storage.last_entry_of_kind(EntryKind.DEPOSIT) == deposit
    assert list(storage.iter_entries()) == first + second
    assert list(storage.iter_entries(2)) == second
    assert storage.entry_by_signature(failed.signature) == failed
    assert storage.entry_by_signature(bytes(64)) is None
    block2 = storage.block(2)
    assert block2 is not None and block2.batch == 1 and block2.entry_count == 2
    assert storage.entries_in_block(block2) == second
    assert storage.entries_in_block(storage.block(1)) == first  # not block 2's entries
    assert storage.entries_in_block(storage.open_block()) == []
    assert storage.open_block() == _block(3, 4, 0, sealed=False)
    assert storage.last_sealed_block().slot == 2
    assert [b.slot for b in storage.recent_sealed_blocks(2)] == [1, 2]
    assert storage.blocks_in_range(0, 10, 10) == [0, 1, 2]
    assert storage.blocks_in_range(1, 10, 1) == [1]
    assert storage.unbatched_blocks() == []
    assert storage.last_batch() == batch and storage.batch(2) is None
    assert storage.batch_of_slot(1) == 1 and storage.batch_of_slot(3) is None
    history = storage.signatures_for_address(bytes(alice), None, None, 10)
    assert [e.seq for e in history] == [3, 2, 1]
    assert [e.seq for e in storage.signatures_for_address(bytes(alice), 3, None, 10)] == [2, 1]
    assert [e.seq for e in storage.signatures_for_address(bytes(alice), None, 1, 10)] == [3, 2]
    assert [e.seq for e in storage.signatures_for_address(bytes(alice), None, None, 1)] == [3]
    leaves = {k: leaf for k, _, leaf in storage.accounts_with_leaves()}
    assert leaves == {alice: 5, bob: 6, token_account: 7}
    accounts = dict(storage.accounts())
    assert accounts[alice].lamports == 10**15 - 5000 and accounts[bob].lamports == 0
    assert accounts[token_account] == _token_account(mint, bob, 42)
    assert [k for k, _ in storage.accounts_by_owner(SYSTEM)] == [alice]  # bob is emptied
    assert storage.token_accounts_by_owner(bob) == [(token_account, _token_account(mint, bob, 42))]
    assert storage.token_accounts_by_owner(alice) == []

    assert storage.highest_finalized_slot() == 0
    storage.update_batch(1, BatchStatus.PROVED, b"proof", None)
    storage.update_batch(1, BatchStatus.FINALIZED, None, "0xabc")
    final = storage.batch(1)
    assert final is not None and (final.status, final.proof, final.l1_transaction) == (
        BatchStatus.FINALIZED,
        b"proof",
        "0xabc",
    )
    assert storage.highest_finalized_slot() == 2
    with pytest.raises(StorageError) as unknown:
        storage.update_batch(9, BatchStatus.PROVED, None, None)
    assert unknown.value.reason == "unknown_batch"
    storage.close()


def test_another_genesis_is_refused(storage_factory: Callable[[], NodeStorage]) -> None:
    storage = storage_factory()
    storage.initialize(GENESIS, [], _block(0, 0, 0))
    storage.close()
    storage = storage_factory()
    other = hashlib.sha256(b"another chain").digest()
    with pytest.raises(GenesisMismatchError) as refused:
        storage.initialize(other, [], _block(0, 0, 0))
    assert (refused.value.expected, refused.value.got) == (other, GENESIS)
    storage.close()


def test_a_failed_append_writes_nothing(storage_factory: Callable[[], NodeStorage]) -> None:
    alice = Keypair().pubkey()
    storage = storage_factory()
    storage.initialize(GENESIS, [], _block(0, 0, 0))
    storage.append([_entry(0, 1, 0, [alice])], [], [_block(1, 0, 1, sealed=False)], [])
    duplicate_seq = _entry(0, 1, 1, [alice], signature=b"x" * 64)
    with pytest.raises(Exception):  # noqa: B017 - each driver raises its own integrity error
        storage.append(
            [_entry(1, 1, 1, [alice]), duplicate_seq],
            [(alice, Account(1, b"", SYSTEM, False, 0))],
            [_block(1, 0, 3)],
            [],
            [(bytes(alice), 3)],
        )
    # Nothing of the failed group: no entry 1, no account, no sealed block, no leaf.
    assert [e.seq for e in storage.iter_entries()] == [0]
    assert list(storage.accounts()) == []
    assert storage.last_sealed_block().slot == 0
    storage.append([_entry(1, 1, 1, [alice])], [], [], [])  # and the store still works
    assert storage.last_entry() is not None and storage.last_entry().seq == 1  # type: ignore[union-attr]
    storage.close()
