"""The sequencer in-process: ordering, fairness, deposits, blocks, batches, receipts, restart."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

import pytest
from solders.account import Account
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.node.errors import MempoolFullError, NodeError
from heliostat.node.replay import replay
from heliostat.node.runtime_executor import RuntimeExecutor
from heliostat.node.sequencer.chain import BatchPolicy
from heliostat.node.sequencer.entries import Deposit, SequencerConfig
from heliostat.node.sequencer.mempool import Mempool
from heliostat.node.sequencer.sequencer import Sequencer
from heliostat.node.storage.interface import BatchStatus, EntryKind, NodeStorage
from heliostat.sdk.receipts import ReceiptError, verify_receipt, verify_sequence

SYSTEM = Pubkey.from_string("11111111111111111111111111111111")


def test_mempool_orders_priority_first_then_arrival_with_tie_break() -> None:
    pool: Mempool[str] = Mempool(capacity=10, per_sender_limit=10)
    pool.push("late", sender=b"a", arrival_ns=30, tie_break=b"\x01")
    pool.push("tie-high", sender=b"b", arrival_ns=20, tie_break=b"\x09")
    pool.push("tie-low", sender=b"c", arrival_ns=20, tie_break=b"\x02")
    pool.push_priority("deposit-0")
    pool.push_priority("deposit-1")
    order = []
    while (item := pool.pop()) is not None:
        order.append(item[1])
    assert order == ["deposit-0", "deposit-1", "tie-low", "tie-high", "late"]


def test_mempool_bounds_total_and_per_sender() -> None:
    pool: Mempool[int] = Mempool(capacity=4, per_sender_limit=2)
    pool.push(1, sender=b"a", arrival_ns=1, tie_break=b"1")
    pool.push(2, sender=b"a", arrival_ns=2, tie_break=b"2")
    with pytest.raises(MempoolFullError) as refused:
        pool.push(3, sender=b"a", arrival_ns=3, tie_break=b"3")
    assert refused.value.reason == "mempool_full_sender" and refused.value.limit == 2
    pool.push(4, sender=b"b", arrival_ns=4, tie_break=b"4")
    pool.push(5, sender=b"c", arrival_ns=5, tie_break=b"5")
    with pytest.raises(MempoolFullError) as full:
        pool.push(6, sender=b"d", arrival_ns=6, tie_break=b"6")
    assert full.value.reason == "mempool_full"
    assert pool.pop() == (False, 1)
    pool.push(7, sender=b"a", arrival_ns=7, tie_break=b"7")  # a's share freed up


def test_batch_policy_limits() -> None:
    policy = BatchPolicy(max_entries=10, max_compute_units=1000, max_data_bytes=500, max_age_s=5)
    assert not policy.should_seal(9, 999, 499, 4.9)
    assert policy.should_seal(10, 0, 0, 0)
    assert policy.should_seal(1, 1000, 0, 0)
    assert policy.should_seal(1, 0, 500, 0)
    assert policy.should_seal(1, 0, 0, 5.0)
    assert not policy.should_seal(0, 0, 0, 100.0)  # age alone does not seal an empty batch


class _Chain:
    def __init__(
        self, open_storage: Callable[[], NodeStorage], batch: BatchPolicy | None = None
    ) -> None:
        self.payer = Keypair()
        self.genesis = [(self.payer.pubkey(), Account(10**15, b"", SYSTEM, False, 0))]
        self.open_storage = open_storage
        self.key = Keypair()
        self.batch = batch or BatchPolicy()
        self.now = 1_700_000_000.0

    def open(self) -> Sequencer:
        return Sequencer(
            RuntimeExecutor(self.genesis),
            self.open_storage(),
            self.key,
            SequencerConfig(slot_ms=10_000, batch=self.batch),
            clock=lambda: self.now,
        )

    def transfer(
        self, seq: Sequencer, lamports: int, to: Pubkey | None = None
    ) -> VersionedTransaction:
        blockhash = Hash(seq.latest_blockhash().blockhash or b"")
        ix = transfer(
            TransferParams(
                from_pubkey=self.payer.pubkey(),
                to_pubkey=to or Keypair().pubkey(),
                lamports=lamports,
            )
        )
        return VersionedTransaction(
            Message.new_with_blockhash([ix], self.payer.pubkey(), blockhash), [self.payer]
        )


def test_deposits_run_first_in_l1_order_and_receipts_chain(
    storage_factory: Callable[[], NodeStorage],
) -> None:
    chain = _Chain(storage_factory)

    async def run() -> list[bytes]:
        seq = chain.open()
        await seq.start()
        alice = Keypair().pubkey()
        txs = [chain.transfer(seq, 1_000_000 + i) for i in range(3)]
        waiters = [seq.submit(tx, bytes(tx), preflight=True) for tx in txs]
        deposits = [seq.submit_deposit(Deposit(i, alice, 10**9)) for i in range(2)]
        with pytest.raises(NodeError) as out_of_order:
            seq.submit_deposit(Deposit(5, alice, 1))
        assert out_of_order.value.reason == "priority_operation_out_of_order"
        confirmations = await asyncio.gather(*deposits, *waiters)
        kinds = [c.entry.kind for c in sorted(confirmations, key=lambda c: c.entry.seq)]
        assert kinds == [EntryKind.DEPOSIT] * 2 + [EntryKind.TRANSACTION] * 3
        assert seq.executor.get_account(alice).lamports == 2 * 10**9  # type: ignore[union-attr]
        await seq.stop()
        return [c.entry.receipt for c in sorted(confirmations, key=lambda c: c.entry.seq)]

    receipts = asyncio.run(run())
    parsed = verify_sequence(receipts, chain.key.pubkey())
    assert [r.body.seq for r in parsed] == [0, 1, 2, 3, 4]
    swapped = [receipts[0], receipts[2], receipts[1]]
    with pytest.raises(ReceiptError) as broken:
        verify_sequence(swapped, chain.key.pubkey())
    assert broken.value.reason == "gap"
    tampered = bytearray(receipts[3])
    tampered[20] ^= 1  # the slot field
    with pytest.raises(ReceiptError) as bad:
        verify_receipt(bytes(tampered), chain.key.pubkey())
    assert bad.value.reason == "bad_signature"
    with pytest.raises(ReceiptError) as stranger:
        verify_receipt(receipts[3], Keypair().pubkey())
    assert stranger.value.reason == "wrong_sequencer"


def test_blocks_batches_and_restart(storage_factory: Callable[[], NodeStorage]) -> None:
    """On SQLite and PostgreSQL: sealed batches, and a restart that resumes where it stopped."""
    chain = _Chain(storage_factory, BatchPolicy(max_entries=4, max_age_s=3600))

    async def first_run() -> tuple[bytes, int]:
        seq = chain.open()
        await seq.start()
        receiver = Keypair().pubkey()
        for round_number in range(3):
            txs = [
                chain.transfer(seq, 2_000_000 + round_number * 10 + i, receiver) for i in range(3)
            ]
            confirmations = await asyncio.gather(
                *(seq.submit(t, bytes(t), preflight=False) for t in txs)
            )
            assert len({c.entry.slot for c in confirmations}) == 1
            chain.now += 1
            seq.seal_slot()
        await seq.stop()
        return seq.executor.state_root(), seq.open.slot

    root, open_slot = asyncio.run(first_run())
    storage = storage_factory()
    first = storage.batch(1)
    assert first is not None and first.entry_count == 6 and first.status is BatchStatus.SEALED
    assert storage.batch(2) is None  # 3 entries left: below the 4-entry limit
    blocks = [storage.block(s) for s in range(1, open_slot)]
    assert all(b is not None and b.blockhash is not None for b in blocks)
    assert [b.parent_blockhash for b in blocks[1:]] == [b.blockhash for b in blocks[:-1]]  # type: ignore[union-attr]
    storage.close()

    restarted = chain.open()
    assert restarted.executor.state_root() == root
    assert restarted.open.slot == open_slot and restarted.next_seq == 9
    replayed = replay(restarted.storage, RuntimeExecutor(chain.genesis))  # type: ignore[arg-type]
    assert replayed.state_root == root and replayed.entries == 9
    restarted.storage.update_batch(1, BatchStatus.FINALIZED, b"proof", "0xabc")
    assert restarted.storage.highest_finalized_slot() == first.last_slot
    assert base64.b64encode(restarted.storage.batch(1).proof or b"") == base64.b64encode(b"proof")  # type: ignore[union-attr]


def test_receipt_layout_matches_the_documented_offsets() -> None:
    from heliostat.node.sequencer.receipts import BODY_SIZE, RECEIPT_SIZE, ReceiptBody

    body = ReceiptBody(
        kind=1, genesis_hash=b"G" * 32, slot=0x0102030405060708, position=0x0A0B0C0D,
        seq=0x1112131415161718, entry_id=b"I" * 64, entry_hash=b"E" * 32, result_hash=b"R" * 32,
        previous_running_hash=b"P" * 32, running_hash=b"N" * 32,
    )  # fmt: skip
    raw = body.encode()
    assert (BODY_SIZE, RECEIPT_SIZE, len(raw)) == (246, 342, 246)
    assert raw[0] == 1 and raw[1] == 1 and raw[2:34] == b"G" * 32
    assert raw[34:42] == bytes.fromhex("0807060504030201") and raw[42:46] == bytes.fromhex(
        "0d0c0b0a"
    )
    assert raw[46:54] == bytes.fromhex("1817161514131211") and raw[54:118] == b"I" * 64
    assert raw[118:150] == b"E" * 32 and raw[150:182] == b"R" * 32
    assert raw[182:214] == b"P" * 32 and raw[214:246] == b"N" * 32
    assert ReceiptBody.decode(raw) == body
