"""The kernel's input: the byte layout the runtime image reads from its input region.

docs/runtime.md ("Batch input") is the specification; c/runtime/input.c and main.c decode it.
All integers are little-endian u64 unless stated; sections are padded to 8 bytes.

    header (160 bytes): magic "HLSTBAT1", heap size, batch number, old root[32],
        lamports per signature, rent lamports per byte, flags, #sysvars, #priority operations,
        #blocks, #accounts, #transactions, offset of the witness, #processed signatures,
        size of the persistent arena (the heap's first bytes; the rest is per transaction),
        witness length, 0
    sysvars: id[32], length, data
    processed signatures: 64 bytes each
    priority operations: kind (1 deposit | 2 forced), L1 index, then
        deposit: recipient[32], lamports   |   forced: length, #hints, hints, transaction
    blocks: slot, Clock sysvar data[40], #blockhashes, hashes[32 each], #transactions,
        then per transaction: length, #hints, hints (u32, padded), wire bytes
    (a hint is the witness index of the message's account key at that position, or 2^32-1;
    the kernel checks each hint's key and falls back to a search)
    witness (sorted by key): key[32], owner[32], lamports, rent epoch, data length, flags
        (1 executable, 2 data elided, 4 image id follows), [image id[32]], [data]
    or, with flag 2, the state tree's batch witness (docs/state.md), checked against the old
    root; elided accounts' image ids are their data hashes
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.runtime.errors import BatchEncodingError
from heliostat.runtime.interface import Deposit, ForcedTransaction, PriorityOperation

MAGIC = b"HLSTBAT1"
HEADER_SIZE = 160
FLAG_VERIFY_SIGNATURES = 1
FLAG_STATE_TREE = 2
ACCOUNT_EXECUTABLE, ACCOUNT_ELIDED, ACCOUNT_IMAGE = 1, 2, 4
OP_DEPOSIT, OP_FORCED = 1, 2
CLOCK_SIZE = 40
# Sizes of the kernel's own records (c/runtime/rt.h), for sizing its heap arenas.
_ACCOUNT_RECORD = 120
_KERNEL_STRUCT = 64 << 10
_TX_ARENA = 1 << 20
_MAX_HEAP = 1 << 30

_U64 = struct.Struct("<Q")


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 8)


NO_HINT = 0xFFFFFFFF


@functools.lru_cache(maxsize=8)
def encode_sysvars(sysvars: tuple[tuple[Pubkey, bytes], ...]) -> bytes:
    """Return the sysvar section (the same for every run of one runtime: cached)."""
    return b"".join(bytes(key) + _U64.pack(len(data)) + _pad(data) for key, data in sysvars)


def static_keys(tx: bytes) -> list[bytes]:
    """Return a wire transaction's account keys ([] when it does not parse)."""
    sigs, at = _compact_u16(tx, 0)
    if sigs < 0:
        return []
    at += 64 * sigs
    if at < len(tx) and tx[at] & 0x80:
        at += 1
    n, at = _compact_u16(tx, at + 3)
    if n < 0 or at + 32 * n > len(tx):
        return []
    return [tx[at + 32 * i : at + 32 * (i + 1)] for i in range(n)]


def encode_transaction(tx: bytes, index: dict[bytes, int]) -> bytes:
    """Length, the witness-index hints of its keys, the bytes (all padded)."""
    hints = [index.get(key, NO_HINT) for key in static_keys(tx)]
    packed = _pad(struct.pack(f"<{len(hints)}I", *hints))
    return struct.pack("<QQ", len(tx), len(hints)) + packed + _pad(tx)


@dataclass(frozen=True)
class WitnessAccount:
    """One account as the kernel receives it; ``image`` is set for accounts holding an ELF."""

    key: Pubkey
    account: Account
    image: bytes | None = None
    elide: bool = False

    def encode(self) -> bytes:
        """Return the witness record."""
        a = self.account
        flags = (ACCOUNT_EXECUTABLE if a.executable else 0) | (ACCOUNT_ELIDED if self.elide else 0)
        flags |= ACCOUNT_IMAGE if self.image is not None else 0
        data = bytes(a.data)
        head = bytes(self.key) + bytes(a.owner)
        head += struct.pack("<QQQQ", a.lamports, a.rent_epoch, len(data), flags)
        return head + (self.image or b"") + (b"" if self.elide else _pad(data))


@dataclass(frozen=True)
class KernelBlock:
    """A block as the kernel receives it."""

    slot: int
    clock: bytes
    blockhashes: Sequence[bytes]
    transactions: Sequence[bytes]

    def encode(self, index: dict[bytes, int]) -> bytes:
        """Return the block record (``index``: witness index of every key)."""
        head, records = self.encode_parts(index)
        return head + b"".join(records)

    def encode_parts(self, index: dict[bytes, int]) -> tuple[bytes, list[bytes]]:
        """Return the block record as its head and one record per transaction."""
        if len(self.clock) != CLOCK_SIZE:
            raise BatchEncodingError(
                "clock sysvar data must be 40 bytes", limit=40, got=len(self.clock)
            )
        out = [_U64.pack(self.slot), self.clock, _U64.pack(len(self.blockhashes))]
        out += [bytes(h) for h in self.blockhashes]
        out.append(_U64.pack(len(self.transactions)))
        return b"".join(out), [encode_transaction(tx, index) for tx in self.transactions]


def encode_priority(op: PriorityOperation, index: dict[bytes, int]) -> bytes:
    """One priority-operation record."""
    if isinstance(op, Deposit):
        if not 0 <= op.lamports < 1 << 64:
            raise BatchEncodingError("deposit amount is not a u64", got=op.lamports)
        return (
            struct.pack("<QQ", OP_DEPOSIT, op.l1_index)
            + bytes(op.recipient)
            + _U64.pack(op.lamports)
        )
    if isinstance(op, ForcedTransaction):
        record = struct.pack("<QQ", OP_FORCED, op.l1_index)
        return record + encode_transaction(op.transaction, index)
    raise BatchEncodingError(f"unknown priority operation {op!r}")


@dataclass(frozen=True)
class KernelInput:
    """Everything one kernel run reads; `encode` gives the bytes."""

    batch_number: int
    old_root: bytes
    lamports_per_signature: int
    rent_per_byte: int
    verify_signatures: bool
    sysvars: Sequence[tuple[Pubkey, bytes]]
    processed: Sequence[bytes]
    priority_operations: Sequence[PriorityOperation]
    blocks: Sequence[KernelBlock]
    witness: Sequence[WitnessAccount]
    scale: int = 1  # multiplies both arenas (the host retries with more when they run out)
    state_witness: bytes | None = None  # replaces `witness` (whose keys it must list, in order)

    def transaction_count(self) -> int:
        """Count forced plus block transactions."""
        forced = sum(isinstance(op, ForcedTransaction) for op in self.priority_operations)
        return forced + sum(len(b.transactions) for b in self.blocks)

    @functools.cached_property
    def persistent_size(self) -> int:
        """Bytes for the kernel struct and everything that lives for the whole run.

        An estimate with room to spare: the witness records, the signature table, committed
        account data (up to three copies of the witness' data plus growth), the public output.
        """
        data = sum(len(w.account.data) for w in self.witness if not w.elide)
        n_tx = self.transaction_count() + len(self.processed)
        sysvars = sum(len(d) + 48 for _, d in self.sysvars)
        size = _KERNEL_STRUCT + sysvars + 3 * _ACCOUNT_RECORD * len(self.witness) + 4 * data
        size += 16 * (2 * n_tx + 16) + 2048 * n_tx
        if self.state_witness is not None:  # st_open's records and the multiproof's nodes
            size += 4 * len(self.state_witness) + 1024 * len(self.witness)
        return -(-size * self.scale // 65536) * 65536

    def heap_size(self) -> int:
        """Return the kernel heap: the persistent arena, then the per-transaction arena."""
        size = self.persistent_size + _TX_ARENA * self.scale
        if size > _MAX_HEAP:
            raise BatchEncodingError(
                "batch too large for one kernel run", limit=_MAX_HEAP, got=size
            )
        return size

    def encode(self) -> bytes:
        """Return the input region's bytes."""
        return self.encode_with_transactions()[0]

    def encode_with_transactions(self) -> tuple[bytes, list[tuple[int, int]]]:
        """Return the input region's bytes and each transaction's wire bytes' (offset, length).

        An offset depends only on what precedes it, never on ``scale``.
        """
        if len(self.old_root) != 32:
            raise BatchEncodingError("old root must be 32 bytes", limit=32, got=len(self.old_root))
        keys = [bytes(w.key) for w in self.witness]
        if keys != sorted(keys) or len(set(keys)) != len(keys):
            raise BatchEncodingError("witness keys must be unique and sorted")
        body: list[bytes] = [encode_sysvars(tuple(self.sysvars))]
        for sig in self.processed:
            if len(sig) != 64:
                raise BatchEncodingError("a signature is 64 bytes", limit=64, got=len(sig))
            body.append(sig)
        index = {key: i for i, key in enumerate(keys)}
        offsets: list[tuple[int, int]] = []
        at = HEADER_SIZE + sum(len(part) for part in body)
        for op in self.priority_operations:
            record = encode_priority(op, index)
            if isinstance(op, ForcedTransaction):
                offsets.append(
                    (at + len(record) - _padded_len(len(op.transaction)), len(op.transaction))
                )
            body.append(record)
            at += len(record)
        for block in self.blocks:
            head, records = block.encode_parts(index)
            body.append(head)
            at += len(head)
            for tx, record in zip(block.transactions, records, strict=True):
                offsets.append((at + len(record) - _padded_len(len(tx)), len(tx)))
                at += len(record)
            body += records
        sections = b"".join(body)
        if self.state_witness is not None:
            witness = self.state_witness
        else:
            witness = b"".join(w.encode() for w in self.witness)
        flags = FLAG_VERIFY_SIGNATURES if self.verify_signatures else 0
        flags |= FLAG_STATE_TREE if self.state_witness is not None else 0
        header = MAGIC + struct.pack(
            "<QQ32sQQQQQQQQQQQQQ",
            self.heap_size(),
            self.batch_number,
            self.old_root,
            self.lamports_per_signature,
            self.rent_per_byte,
            flags,
            len(self.sysvars),
            len(self.priority_operations),
            len(self.blocks),
            len(self.witness),
            self.transaction_count(),
            HEADER_SIZE + len(sections),
            len(self.processed),
            self.persistent_size,
            len(witness),
            0,
        )
        if len(header) != HEADER_SIZE:
            raise BatchEncodingError("header layout", limit=HEADER_SIZE, got=len(header))
        return header + sections + witness, offsets


def _padded_len(n: int) -> int:
    return n + (-n % 8)


def sorted_witness(accounts: Iterable[WitnessAccount]) -> list[WitnessAccount]:
    """Witness records sorted by key (the kernel binary-searches them)."""
    return sorted(accounts, key=lambda w: bytes(w.key))


def _compact_u16(tx: bytes | memoryview, at: int) -> tuple[int, int]:
    """Decode a compact-u16 at ``at``: (value, next offset), or (-1, at) past the end."""
    value = 0
    for i in range(3):
        if at >= len(tx):
            return -1, at
        byte = tx[at]
        at += 1
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, at
    return -1, at


def signature_calls(
    data: bytes, transactions: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int, int]]:
    """Predict the `ed25519_verify(sig, key, msg, len)` calls the kernel makes, as offsets.

    A prediction from the wire format (a message without trailing bytes): a call the kernel
    makes differently simply finds no precomputed result and is verified when made.
    """
    calls = []
    view = memoryview(data)
    for start, length in transactions:
        tx = view[start : start + length]
        n_sigs, at = _compact_u16(tx, 0)
        message = at + 64 * max(n_sigs, 0)
        if n_sigs <= 0 or message + 4 > length:
            continue
        keys = message + 1 + 3 if tx[message] & 0x80 else message + 3
        n_keys, keys = _compact_u16(tx, keys)
        for i in range(min(n_sigs, n_keys)):
            if keys + 32 * (i + 1) > length:
                break
            calls.append(
                (start + at + 64 * i, start + keys + 32 * i, start + message, length - message)
            )
    return calls
