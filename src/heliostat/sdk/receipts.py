"""Verify the sequencer's soft-confirmation receipts (layout: docs/node.md, "Receipts").

A client keeps the receipt of every transaction it sent. `verify_receipt` checks the
signature and that the receipt is about the client's transaction; `verify_sequence` checks a
run of consecutive receipts chain through their running hashes. Two valid receipts that
claim the same position with different contents, or a chain that breaks, prove the
sequencer reordered or rewrote history.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from solders.pubkey import Pubkey
from solders.signature import Signature

from heliostat.node.sequencer.receipts import (
    BODY_SIZE,
    RECEIPT_SIZE,
    ReceiptBody,
    next_running_hash,
    result_hash,
    signing_message,
)
from heliostat.primitives.errors import HeliostatError


class ReceiptError(HeliostatError):
    """A receipt that does not verify."""

    reason = "bad_receipt"


@dataclass(frozen=True, slots=True)
class Receipt:
    """A parsed receipt: the signed body, the sequencer's key and its signature."""

    body: ReceiptBody
    sequencer: Pubkey
    signature: Signature
    raw: bytes


def parse_receipt(raw: bytes) -> Receipt:
    """Split receipt bytes into body, key and signature (no checks beyond the layout)."""
    if len(raw) != RECEIPT_SIZE:
        raise ReceiptError(
            f"receipt is {len(raw)} bytes, expected {RECEIPT_SIZE}", reason="bad_length"
        )
    try:
        body = ReceiptBody.decode(raw[:BODY_SIZE])
    except ValueError as exc:
        raise ReceiptError(str(exc), reason="bad_layout") from None
    key = Pubkey.from_bytes(raw[BODY_SIZE : BODY_SIZE + 32])
    return Receipt(body, key, Signature.from_bytes(raw[BODY_SIZE + 32 :]), raw)


def verify_receipt(
    raw: bytes,
    sequencer: Pubkey,
    *,
    genesis_hash: bytes | None = None,
    transaction: bytes | None = None,
    result: tuple[object, int, int, Sequence[str], bytes | None] | None = None,
) -> Receipt:
    """Check a receipt; return it parsed, or raise `ReceiptError` naming what failed.

    `transaction` (wire bytes) checks the receipt is about that transaction; `result`
    (error JSON, fee, compute units, logs, return data) checks the result it commits to.
    """
    receipt = parse_receipt(raw)
    body = receipt.body
    if receipt.sequencer != sequencer:
        raise ReceiptError(
            f"signed by {receipt.sequencer}, expected sequencer {sequencer}",
            reason="wrong_sequencer",
        )
    if not receipt.signature.verify(sequencer, signing_message(raw[:BODY_SIZE])):
        raise ReceiptError("sequencer signature does not verify", reason="bad_signature")
    if genesis_hash is not None and body.genesis_hash != genesis_hash:
        raise ReceiptError("receipt is for another chain", reason="wrong_chain")
    expected_running = next_running_hash(
        body.previous_running_hash,
        body.seq,
        body.slot,
        body.position,
        body.entry_hash,
        body.result_hash,
    )
    if expected_running != body.running_hash:
        raise ReceiptError(
            "running hash does not follow from the receipt", reason="bad_running_hash"
        )
    if transaction is not None:
        if hashlib.sha256(transaction).digest() != body.entry_hash:
            raise ReceiptError("receipt is about another transaction", reason="wrong_transaction")
        if transaction[1:65] != body.entry_id:
            raise ReceiptError("receipt names another signature", reason="wrong_transaction")
    if result is not None:
        err, fee, units, logs, return_data = result
        if result_hash(err, fee, units, tuple(logs), return_data) != body.result_hash:
            raise ReceiptError("receipt commits to another result", reason="wrong_result")
    return receipt


def verify_sequence(receipts: Sequence[bytes], sequencer: Pubkey) -> list[Receipt]:
    """Check consecutive receipts (by global position) chain through their running hashes."""
    parsed = [verify_receipt(raw, sequencer) for raw in receipts]
    for before, after in itertools.pairwise(parsed):
        if after.body.seq != before.body.seq + 1:
            raise ReceiptError(
                f"receipt {after.body.seq} does not follow {before.body.seq}", reason="gap"
            )
        if after.body.previous_running_hash != before.body.running_hash:
            raise ReceiptError(
                f"receipt {after.body.seq} does not extend the running hash of {before.body.seq}",
                reason="reordered",
            )
    return parsed
