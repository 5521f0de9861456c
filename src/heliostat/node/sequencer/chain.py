"""Deterministic chain rules: genesis and block hashes, and when a batch is sealed."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.pubkey import Pubkey

from heliostat.node.storage.interface import BlockRecord

# Solana's MAX_PROCESSING_AGE (agave sdk/clock): a blockhash is usable for 150 blocks.
MAX_PROCESSING_AGE = 150


def genesis_hash(
    state_root: bytes, accounts: Sequence[tuple[Pubkey, Account]], chain_name: str
) -> bytes:
    """SHA-256 of the chain name, the genesis state root and the genesis account keys."""
    h = hashlib.sha256(b"heliostat/genesis/v1")
    name = chain_name.encode()
    h.update(struct.pack("<I", len(name)) + name + state_root)
    for pubkey, account in sorted(accounts, key=lambda pair: bytes(pair[0])):
        h.update(bytes(pubkey) + struct.pack("<Q", account.lamports))
    return h.digest()


def genesis_block(genesis: bytes, block_time: int) -> BlockRecord:
    """Slot 0: an empty sealed block whose hash derives from the genesis hash."""
    blockhash = hashlib.sha256(b"heliostat/genesis-block/v1" + genesis).digest()
    return BlockRecord(
        slot=0,
        parent_slot=0,
        block_height=0,
        block_time=block_time,
        parent_blockhash=genesis,
        blockhash=blockhash,
        first_seq=0,
        entry_count=0,
        compute_units=0,
        data_bytes=0,
        batch=None,
    )


def blockhash(parent: bytes, slot: int, running_hash: bytes, entry_count: int) -> bytes:
    """Return a sealed block's hash over its parent, slot, entry count and final running hash."""
    return hashlib.sha256(
        b"heliostat/block/v1" + parent + struct.pack("<QI", slot, entry_count) + running_hash
    ).digest()


@dataclass(frozen=True, slots=True)
class BatchPolicy:
    """Seal a batch when any limit is reached (age only counts once it holds an entry)."""

    max_entries: int = 10_000
    max_compute_units: int = 1_400_000_000
    max_data_bytes: int = 8_000_000
    max_age_s: float = 10.0

    def should_seal(self, entries: int, compute_units: int, data_bytes: int, age_s: float) -> bool:
        """Return True when the open batch must be sealed now."""
        return (
            entries >= self.max_entries
            or compute_units >= self.max_compute_units
            or data_bytes >= self.max_data_bytes
            or (entries > 0 and age_s >= self.max_age_s)
        )
