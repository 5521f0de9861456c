"""Decoding what the kernel reports: per-transaction receipts and the batch's public output.

Layouts (docs/runtime.md; written by c/runtime/output.c), little-endian:

    receipt: status (0 ok, 1 failed and included, 2 rejected), u32 TransactionError variant
        (0xffffffff: none), u32 index, u32 InstructionError variant, u32 custom code, fee,
        compute units, return program[32], return length, return data (padded),
        #changed accounts, account records, length and bytes of pending log events
    account record: key[32], owner[32], lamports, rent epoch, flags (1 executable, 2 data
        omitted: an ELF the witness elided, unchanged), data length, data (padded to 8)
    public output: keccak256(head)[32] (first, so a zkVM proof's public values can carry it
        as L1's output hash), then the head — "HLSTOUT3", batch number, old root[32], new root[32],
        priority hash[32], #priority operations, #withdrawals, withdrawals (sender[32],
        recipient[20], 4 zero bytes, lamports), kernel flags (the input's: 1 signatures
        verified, 2 state tree), parameters hash[32] = keccak256(lamports per signature ‖
        rent per byte ‖ the input's sysvar section), state-diff hash[32] — then the state
        diff = #accounts, then per account (sorted by key): its state-tree leaf index (2^64-1
        without a tree), its account record. The diff hash is keccak256 over the keccak256 of
        each DIFF_CHUNK_BYTES-byte chunk of the diff (the last one shorter): L1 keeps one
        hash per posted chunk. L1's output hash is keccak256 of the head: the first 32 bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.runtime.errors import KernelOutputError
from heliostat.runtime.interface import BatchPublicOutput, Withdrawal
from heliostat.runtime.transaction_error import TransactionError

TX_OK, TX_FAILED, TX_REJECTED = 0, 1, 2
NO_ERROR = 0xFFFFFFFF
OUTPUT_MAGIC = b"HLSTOUT3"
DIGEST_BYTES = 32  # keccak256 of the head, published before it
DIFF_CHUNK_BYTES = 96 * 1024  # c/runtime/output.c DIFF_CHUNK: a chunk and its call fit one L1 tx
KERNEL_FLAG_VERIFY_SIGNATURES, KERNEL_FLAG_STATE_TREE = 1, 2
_HEAD_FIXED = 8 + 8 + 32 * 3 + 8 + 8 + 8 + 32 + 32  # the head without its withdrawals
_H = DIGEST_BYTES  # where the head starts


def diff_chunks(diff: bytes) -> list[bytes]:
    """Split an encoded state diff into the chunks L1 receives (one at least)."""
    return [diff[i : i + DIFF_CHUNK_BYTES] for i in range(0, max(len(diff), 1), DIFF_CHUNK_BYTES)]


def state_diff_hash(diff: bytes) -> bytes:
    """Return keccak256(keccak256(chunk_0) ‖ … ‖ keccak256(chunk_{n-1})) of an encoded diff."""
    from heliostat.runtime.hashing import keccak256

    return keccak256(b"".join(keccak256(chunk) for chunk in diff_chunks(diff)))


def params_hash(lamports_per_signature: int, rent_per_byte: int, sysvar_section: bytes) -> bytes:
    """Return the parameters hash the kernel publishes for these inputs.

    ``sysvar_section`` is the input's sysvar section (`kernel_input.encode_sysvars`).
    """
    from heliostat.runtime.hashing import keccak256

    return keccak256(struct.pack("<QQ", lamports_per_signature, rent_per_byte) + sysvar_section)


@dataclass(frozen=True)
class OutputHead:
    """The head's fields not in `BatchPublicOutput`, and where the head ends."""

    kernel_flags: int
    params_hash: bytes
    diff_start: int  # the head is encoded[DIGEST_BYTES:diff_start], the diff follows

    def head(self, encoded: bytes) -> bytes:
        """Return the head's bytes: L1's output hash is their keccak256."""
        return encoded[_H : self.diff_start]


def output_head(encoded: bytes) -> OutputHead:
    """Read the kernel flags, parameters hash and extent of an encoded public output's head."""
    if len(encoded) < _H + _HEAD_FIXED or encoded[_H : _H + 8] != OUTPUT_MAGIC:
        raise KernelOutputError("public output head", expected=_H + _HEAD_FIXED, got=len(encoded))
    (n_withdrawals,) = struct.unpack_from("<Q", encoded, _H + 120)
    at = _H + 128 + 64 * n_withdrawals
    if at + 72 > len(encoded):
        raise KernelOutputError("public output head truncated", expected=at + 72, got=len(encoded))
    (flags,) = struct.unpack_from("<Q", encoded, at)
    return OutputHead(flags, encoded[at + 8 : at + 40], at + 72)


@dataclass(frozen=True)
class Receipt:
    """One transaction as the kernel reported it."""

    status: int
    error: TransactionError | None
    fee: int
    compute_units: int
    return_program: Pubkey
    return_data: bytes
    changed: tuple[tuple[Pubkey, Account], ...]
    log_events: bytes = b""  # a LOG_BATCH payload: the events not yet reported
    omitted: frozenset[Pubkey] = frozenset()  # changed accounts whose (ELF) data was left out

    @property
    def included(self) -> bool:
        """Whether the transaction changed state (its fee was charged)."""
        return self.status != TX_REJECTED


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.at, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise KernelOutputError(
                f"{self.what} truncated", expected=self.at + n, got=len(self.data)
            )
        out = self.data[self.at : self.at + n]
        self.at += n
        return out

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def padded(self, n: int) -> bytes:
        out = self.take(n)
        self.take(-n % 8)
        return out

    def done(self) -> None:
        if self.at != len(self.data):
            raise KernelOutputError(
                f"{self.what} has trailing bytes", expected=self.at, got=len(self.data)
            )


_RECEIPT_HEAD = struct.Struct("<QIIIIQQ32sQ")
_ACCOUNT_HEAD = struct.Struct("<32s32sQQQQ")


def _accounts(
    data: bytes, at: int, count: int, omitted: set[Pubkey], leaves: list[int] | None = None
) -> tuple[tuple[tuple[Pubkey, Account], ...], int]:
    """Decode ``count`` account records (each after a leaf index when ``leaves`` is given)."""
    out = []
    for _ in range(count):
        if leaves is not None:
            leaves.append(struct.unpack_from("<Q", data, at)[0])
            at += 8
        if at + _ACCOUNT_HEAD.size > len(data):
            raise KernelOutputError("account record truncated", expected=at + 96, got=len(data))
        key, owner, lamports, rent_epoch, flags, length = _ACCOUNT_HEAD.unpack_from(data, at)
        at += _ACCOUNT_HEAD.size
        body = b""
        if flags & 2:
            omitted.add(Pubkey(key))
        else:
            if at + length > len(data):
                raise KernelOutputError(
                    "account data truncated", expected=at + length, got=len(data)
                )
            body = data[at : at + length]
            at += length + (-length % 8)
        out.append(
            (Pubkey(key), Account(lamports, body, Pubkey(owner), bool(flags & 1), rent_epoch))
        )
    return tuple(out), at


def decode_receipt(data: bytes) -> Receipt:
    """Decode one receipt."""
    if len(data) < _RECEIPT_HEAD.size:
        raise KernelOutputError("receipt truncated", expected=_RECEIPT_HEAD.size, got=len(data))
    status, variant, index, ix_kind, custom, fee, units, program, length = (
        _RECEIPT_HEAD.unpack_from(data)
    )
    if status not in (TX_OK, TX_FAILED, TX_REJECTED):
        raise KernelOutputError(f"receipt status {status}")
    error = None
    if status != TX_OK:
        try:
            error = TransactionError.from_codes(variant, index, ix_kind, custom)
        except ValueError as exc:
            raise KernelOutputError(f"receipt error: {exc}") from exc
    at = _RECEIPT_HEAD.size
    returned = data[at : at + length]
    at += length + (-length % 8)
    (count,) = struct.unpack_from("<Q", data, at)
    omitted: set[Pubkey] = set()
    changed, at = _accounts(data, at + 8, count, omitted)
    (events_len,) = struct.unpack_from("<Q", data, at)
    events = data[at + 8 : at + 8 + events_len]
    if at + 8 + events_len != len(data):
        raise KernelOutputError("receipt length", expected=at + 8 + events_len, got=len(data))
    return Receipt(
        status, error, fee, units, Pubkey(program), returned, changed, events, frozenset(omitted)
    )


def decode_public_output(data: bytes) -> BatchPublicOutput:
    """Decode the published public output."""
    from heliostat.runtime.hashing import keccak256

    r = _Reader(data, "public output")
    digest = r.take(DIGEST_BYTES)
    if r.take(8) != OUTPUT_MAGIC:
        raise KernelOutputError("public output magic")
    batch_number = r.u64()
    old_root, new_root, priority_hash = r.take(32), r.take(32), r.take(32)
    priority_count = r.u64()
    withdrawals = []
    for _ in range(r.u64()):
        sender, recipient = Pubkey(r.take(32)), r.take(20)
        r.take(4)
        withdrawals.append(Withdrawal(sender, recipient, r.u64()))
    r.u64()  # kernel flags and parameters hash: output_head
    r.take(32)
    diff_hash = r.take(32)
    diff_start = r.at
    if keccak256(data[DIGEST_BYTES:diff_start]) != digest:
        raise KernelOutputError("the published digest is not keccak256 of the head")
    leaves: list[int] = []
    diff, r.at = _accounts(data, diff_start + 8, r.u64(), set(), leaves)
    r.done()
    if state_diff_hash(data[diff_start:]) != diff_hash:
        raise KernelOutputError("state diff hash does not match the diff")
    return BatchPublicOutput(
        batch_number=batch_number,
        old_root=old_root,
        new_root=new_root,
        state_diff_hash=diff_hash,
        priority_hash=priority_hash,
        priority_count=priority_count,
        withdrawals=tuple(withdrawals),
        state_diff=diff,
        encoded=data,
        state_diff_leaves=tuple(leaves),
    )
