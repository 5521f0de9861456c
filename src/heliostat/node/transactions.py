"""Transaction bytes at the node's edge: decode, parse, sanity-check, and read the fee.

Everything here runs on untrusted input and raises `TransactionDecodeError` (with the
message Solana's RPC gives for the same fault) instead of letting a parser error escape.
"""

from __future__ import annotations

import base64
import binascii
import struct

from solders.message import Message, MessageV0, MessageV1
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from heliostat.node import base58
from heliostat.node.errors import NodeError

# agave sdk/packet: PACKET_DATA_SIZE = 1280 - 40 - 8; a transaction must fit one packet.
PACKET_DATA_SIZE = 1232
# base64 of 1232 bytes is 1644 characters; base58 is at most 1683 (agave rpc MAX_*_SIZE).
MAX_BASE64_SIZE = 1644
MAX_BASE58_SIZE = 1683
LAMPORTS_PER_SIGNATURE = 5000
COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")
DEFAULT_UNITS_PER_INSTRUCTION = 200_000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000


class TransactionDecodeError(NodeError):
    """Transaction bytes that cannot be decoded, parsed or sanitised."""

    reason = "bad_transaction"


def decode_wire(encoded: str, encoding: str) -> bytes:
    """Decode a base58 or base64 transaction string, with agave's size limits and messages."""
    if encoding == "base58":
        if len(encoded) > MAX_BASE58_SIZE:
            raise TransactionDecodeError(
                f"base58 encoded solana_transaction::versioned::VersionedTransaction too large: "
                f"{len(encoded)} bytes (max: encoded/raw {MAX_BASE58_SIZE}/{PACKET_DATA_SIZE})",
                reason="transaction_too_large",
            )
        try:
            wire = base58.b58decode(encoded)
        except ValueError as exc:
            raise TransactionDecodeError(f"invalid base58 encoding: {exc}") from exc
    elif encoding == "base64":
        if len(encoded) > MAX_BASE64_SIZE:
            raise TransactionDecodeError(
                f"base64 encoded solana_transaction::versioned::VersionedTransaction too large: "
                f"{len(encoded)} bytes (max: encoded/raw {MAX_BASE64_SIZE}/{PACKET_DATA_SIZE})",
                reason="transaction_too_large",
            )
        try:
            wire = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TransactionDecodeError(f"invalid base64 encoding: {exc}") from exc
    else:
        raise TransactionDecodeError(
            f"unsupported encoding: {encoding}. Supported encodings: base58, base64",
            reason="unsupported_encoding",
        )
    if len(wire) > PACKET_DATA_SIZE:
        raise TransactionDecodeError(
            f"decoded solana_transaction::versioned::VersionedTransaction too large: "
            f"{len(wire)} bytes (max: {PACKET_DATA_SIZE} bytes)",
            reason="transaction_too_large",
        )
    return wire


def parse_transaction(wire: bytes) -> VersionedTransaction:
    """Parse and sanitise wire bytes; refuses address lookup tables (not supported yet)."""
    try:
        tx = VersionedTransaction.from_bytes(wire)
    except Exception as exc:  # solders raises its own error types for malformed bytes
        raise TransactionDecodeError(
            f"failed to deserialize solana_transaction::versioned::VersionedTransaction: {exc}"
        ) from exc
    if bytes(tx) != wire:
        raise TransactionDecodeError("transaction has trailing or non-canonical bytes")
    message = tx.message
    if not isinstance(message, Message | MessageV0):
        raise TransactionDecodeError(
            "Transaction version is unsupported", reason="unsupported_version"
        )
    if isinstance(message, MessageV0) and message.address_table_lookups:
        raise TransactionDecodeError(
            "address lookup tables are not supported", reason="unsupported_lookup_tables"
        )
    try:
        tx.sanitize()
    except Exception as exc:
        raise TransactionDecodeError(
            f"invalid transaction: {exc}", reason="sanitize_failure"
        ) from exc
    if len(tx.signatures) != message.header.num_required_signatures:
        raise TransactionDecodeError("invalid transaction: signature count mismatch")
    return tx


def writable_keys(message: Message | MessageV0 | MessageV1) -> list[Pubkey]:
    """Accounts the message may write, from its header (before program demotion)."""
    header = message.header
    keys = list(message.account_keys)
    signed = header.num_required_signatures
    writable_signed = signed - header.num_readonly_signed_accounts
    writable_unsigned_end = len(keys) - header.num_readonly_unsigned_accounts
    return [
        k for i, k in enumerate(keys) if i < writable_signed or signed <= i < writable_unsigned_end
    ]


def message_fee(message: Message | MessageV0 | MessageV1) -> int:
    """Solana's fee: lamports per signature, plus the compute-unit price times the limit."""
    keys = list(message.account_keys)
    unit_price = 0
    unit_limit: int | None = None
    other_instructions = 0
    for ix in message.instructions:
        if ix.program_id_index >= len(keys):
            continue
        data = bytes(ix.data)
        if keys[ix.program_id_index] != COMPUTE_BUDGET_ID:
            other_instructions += 1
        elif data[:1] == b"\x02" and len(data) >= 5:
            unit_limit = struct.unpack_from("<I", data, 1)[0]
        elif data[:1] == b"\x03" and len(data) >= 9:
            unit_price = struct.unpack_from("<Q", data, 1)[0]
    if unit_limit is None:
        unit_limit = other_instructions * DEFAULT_UNITS_PER_INSTRUCTION
    unit_limit = min(unit_limit, MAX_COMPUTE_UNIT_LIMIT)
    # Micro-lamports per unit, rounded up (agave fee_structure / compute-budget rules).
    priority = (unit_price * unit_limit + 999_999) // 1_000_000
    return LAMPORTS_PER_SIGNATURE * message.header.num_required_signatures + priority
