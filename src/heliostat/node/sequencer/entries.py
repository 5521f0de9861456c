"""What the sequencer orders and how it is configured: priority operations, settings, refusals."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

from solders.pubkey import Pubkey

from heliostat.node.errors import AdmissionError
from heliostat.node.execution import ExecutionOutcome
from heliostat.node.sequencer.chain import BatchPolicy
from heliostat.runtime.interface import ForcedTransaction

_DEPOSIT = struct.Struct("<Q32sQ")
_INDEX = struct.Struct("<Q")  # both priority payloads start with their L1 queue index


@dataclass(frozen=True, slots=True)
class Deposit:
    """An L1 priority operation crediting lamports (1 lamport = 1 gwei) to an L2 account."""

    l1_index: int
    recipient: Pubkey
    lamports: int

    def encode(self) -> bytes:
        """48 bytes: L1 queue index u64, recipient, lamports u64 (little-endian)."""
        return _DEPOSIT.pack(self.l1_index, bytes(self.recipient), self.lamports)

    @classmethod
    def decode(cls, payload: bytes) -> Deposit:
        """Inverse of `encode`."""
        index, recipient, lamports = _DEPOSIT.unpack(payload)
        return cls(index, Pubkey.from_bytes(recipient), lamports)

    @property
    def entry_id(self) -> bytes:
        """A 64-byte id standing where a transaction has its first signature."""
        return hashlib.sha512(b"heliostat/deposit/v1" + self.encode()).digest()


def encode_forced(forced: ForcedTransaction) -> bytes:
    """Return a forced transaction's entry payload: L1 queue index u64 (LE), then its bytes."""
    return _INDEX.pack(forced.l1_index) + forced.transaction


def decode_forced(payload: bytes) -> ForcedTransaction:
    """Inverse of `encode_forced`."""
    (index,) = _INDEX.unpack_from(payload)
    return ForcedTransaction(index, payload[_INDEX.size :])


def forced_entry_id(forced: ForcedTransaction) -> bytes:
    """Return a forced transaction's 64-byte entry id.

    Not its signature: its bytes may not parse, and the same signature may also have come as
    an L2 transaction.
    """
    return hashlib.sha512(b"heliostat/forced/v1" + encode_forced(forced)).digest()


def priority_index(payload: bytes) -> int:
    """Return the L1 queue index of a priority entry (a deposit or a forced transaction)."""
    (index,) = _INDEX.unpack_from(payload)
    return int(index)


@dataclass(frozen=True, slots=True)
class SequencerConfig:
    """Timing and capacity of the sequencer."""

    slot_ms: int = 400
    mempool_capacity: int = 20_000
    per_sender_limit: int = 2_000
    batch: BatchPolicy = field(default_factory=BatchPolicy)
    chain_name: str = "heliostat-local"


class TransactionRefusedError(AdmissionError):
    """Execution refused the transaction (not included): carries the outcome for the RPC."""

    def __init__(self, outcome: ExecutionOutcome, message: str) -> None:
        super().__init__(message, code=-32002, reason="transaction_refused")
        self.outcome = outcome
