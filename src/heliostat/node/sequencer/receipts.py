"""Soft-confirmation receipts: the byte layout, the running hash and the signed message.

A receipt commits to the chain (genesis hash), the slot, the position in the slot and in
the global order, the entry's bytes, its result, and the running hash of every entry ordered
before it. Two valid receipts for the same position with different contents, or a block that
disagrees with a receipt, prove that the sequencer reordered. Layout in docs/node.md.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from dataclasses import dataclass

from solders.keypair import Keypair

_sodium_sign: Callable[[bytes, bytes], bytes] | None
try:  # libsodium signs in ~half solders' time and releases the GIL while it does
    from nacl.bindings import crypto_sign as _sodium_sign
except ImportError:  # pragma: no cover - PyNaCl is a dependency; solders is the fallback
    _sodium_sign = None

RECEIPT_VERSION = 1
SIGNING_DOMAIN = b"heliostat/receipt/v1"
RUNNING_HASH_DOMAIN = b"heliostat/running-hash/v1"
RESULT_HASH_DOMAIN = b"heliostat/result/v1"
GENESIS_RUNNING_HASH = bytes(32)

# version u8, kind u8, genesis hash, slot u64, position u32, seq u64, entry id (64 bytes: the
# transaction's first signature), entry hash, result hash, previous running hash, running hash
_BODY = struct.Struct("<BB32sQIQ64s32s32s32s32s")
BODY_SIZE = _BODY.size  # 246
RECEIPT_SIZE = BODY_SIZE + 32 + 64  # body, sequencer public key, ed25519 signature


@dataclass(frozen=True, slots=True)
class ReceiptBody:
    """The signed fields of a receipt."""

    kind: int
    genesis_hash: bytes
    slot: int
    position: int
    seq: int
    entry_id: bytes
    entry_hash: bytes
    result_hash: bytes
    previous_running_hash: bytes
    running_hash: bytes

    def encode(self) -> bytes:
        """Return the body's bytes (little-endian integers, fixed layout)."""
        return _BODY.pack(
            RECEIPT_VERSION,
            self.kind,
            self.genesis_hash,
            self.slot,
            self.position,
            self.seq,
            self.entry_id,
            self.entry_hash,
            self.result_hash,
            self.previous_running_hash,
            self.running_hash,
        )

    @classmethod
    def decode(cls, body: bytes) -> ReceiptBody:
        """Parse a body; raises ValueError on a wrong size or version."""
        if len(body) != BODY_SIZE:
            raise ValueError(f"receipt body is {len(body)} bytes, expected {BODY_SIZE}")
        fields = _BODY.unpack(body)
        if fields[0] != RECEIPT_VERSION:
            raise ValueError(f"receipt version {fields[0]}, expected {RECEIPT_VERSION}")
        return cls(*fields[1:])


def canonical_error(err: object) -> bytes:
    """Return the error's JSON with sorted keys and no spaces ("" when there is none)."""
    if err is None:
        return b""
    return json.dumps(err, sort_keys=True, separators=(",", ":")).encode()


def result_hash(
    err: object,
    fee: int,
    compute_units: int,
    logs: tuple[str, ...] | list[str],
    return_data: bytes | None,
) -> bytes:
    """SHA-256 over a result: status, fee, compute units, error JSON, logs, return data."""
    h = hashlib.sha256(RESULT_HASH_DOMAIN)
    error = canonical_error(err)
    h.update(struct.pack("<BQQI", 0 if err is None else 1, fee, compute_units, len(error)))
    h.update(error)
    h.update(struct.pack("<I", len(logs)))
    for line in logs:
        encoded = line.encode()
        h.update(struct.pack("<I", len(encoded)))
        h.update(encoded)
    data = return_data or b""
    h.update(struct.pack("<I", len(data)))
    h.update(data)
    return h.digest()


def next_running_hash(
    previous: bytes, seq: int, slot: int, position: int, entry_hash: bytes, result: bytes
) -> bytes:
    """Fold one entry into the running hash of everything ordered before it."""
    return hashlib.sha256(
        RUNNING_HASH_DOMAIN
        + previous
        + struct.pack("<QQI", seq, slot, position)
        + entry_hash
        + result
    ).digest()


def signing_message(body: bytes) -> bytes:
    """Return what the sequencer signs: the domain tag followed by the body."""
    return SIGNING_DOMAIN + body


class ReceiptSigner:
    """Signs receipt bodies with the sequencer's ed25519 key: body ‖ public key ‖ signature.

    Ed25519 signatures are deterministic (RFC 8032), so libsodium and solders give the same
    bytes; libsodium is used when present because it is faster and lets the storage writer
    thread sign while the event loop runs.
    """

    def __init__(self, keypair: Keypair) -> None:
        self._keypair = keypair
        self.public_key = bytes(keypair.pubkey())
        self._secret = bytes(keypair)[:32] + self.public_key  # libsodium's 64-byte secret key

    def sign(self, body: bytes) -> bytes:
        """Return the full receipt for a body."""
        message = SIGNING_DOMAIN + body
        if _sodium_sign is not None:
            signature = _sodium_sign(message, self._secret)[:64]
        else:
            signature = bytes(self._keypair.sign_message(message))
        return body + self.public_key + signature
