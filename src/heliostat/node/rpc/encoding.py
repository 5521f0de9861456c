"""Transactions, metas and statuses in the RPC's JSON shapes (agave transaction-status ui)."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from heliostat.node import base58
from heliostat.node.rpc.errors import UNSUPPORTED_TRANSACTION_VERSION, RpcError
from heliostat.node.storage.interface import EntryRecord


def ui_message(tx: VersionedTransaction) -> dict[str, Any]:
    """Return the `json` encoding of a message."""
    message = tx.message
    header = message.header
    out: dict[str, Any] = {
        "accountKeys": [str(k) for k in message.account_keys],
        "header": {
            "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
            "numRequiredSignatures": header.num_required_signatures,
        },
        "instructions": [
            {
                "accounts": list(bytes(ix.accounts)),
                "data": base58.b58encode(bytes(ix.data)),
                "programIdIndex": ix.program_id_index,
                "stackHeight": None,
            }
            for ix in message.instructions
        ],
        "recentBlockhash": str(message.recent_blockhash),
    }
    if isinstance(message, MessageV0):
        out["addressTableLookups"] = []
    return out


def transaction_version(tx: VersionedTransaction) -> str | int:
    """Return the version RPC reports: "legacy" or 0."""
    return 0 if isinstance(tx.message, MessageV0) else "legacy"


def check_version(tx: VersionedTransaction, max_supported: int | None) -> None:
    """Agave refuses a v0 transaction to a client that did not say it understands v0."""
    version = transaction_version(tx)
    if version != "legacy" and (max_supported is None or max_supported < version):  # type: ignore[operator]
        raise RpcError(
            UNSUPPORTED_TRANSACTION_VERSION,
            f"Transaction version ({version}) is not supported by the requesting client. Please "
            "try the request again with the following configuration parameter: "
            '"maxSupportedTransactionVersion": 0',
        )


def encode_transaction(tx: VersionedTransaction, wire: bytes, encoding: str) -> Any:
    """Return a transaction in `json`, `base64` or `base58` encoding."""
    if encoding == "base64":
        return [base64.b64encode(wire).decode(), "base64"]
    if encoding in ("base58", "binary"):
        text = base58.b58encode(wire)
        return text if encoding == "binary" else [text, "base58"]
    return {"message": ui_message(tx), "signatures": [str(s) for s in tx.signatures]}


def error_value(entry: EntryRecord) -> Any:
    """Return the stored TransactionError as JSON (None when the entry succeeded)."""
    return None if entry.err is None else json.loads(entry.err)


def return_data_json(raw: bytes | None) -> dict[str, Any] | None:
    """`{"programId", "data": [b64, "base64"]}` from stored return data."""
    if not raw:
        return None
    return {
        "programId": str(Pubkey.from_bytes(raw[:32])),
        "data": [base64.b64encode(raw[32:]).decode(), "base64"],
    }


def meta_json(entry: EntryRecord) -> dict[str, Any]:
    """Return the transaction status meta."""
    err = error_value(entry)
    count = len(entry.accounts)
    balances = struct.unpack(f"<{2 * count}Q", entry.balances)
    meta: dict[str, Any] = {
        "computeUnitsConsumed": entry.compute_units,
        "err": err,
        "fee": entry.fee,
        "innerInstructions": [],
        "loadedAddresses": {"readonly": [], "writable": []},
        "logMessages": list(entry.logs),
        "postBalances": list(balances[count:]),
        "postTokenBalances": [],
        "preBalances": list(balances[:count]),
        "preTokenBalances": [],
        "rewards": [],
        "status": {"Ok": None} if err is None else {"Err": err},
    }
    ret = return_data_json(entry.return_data)
    if ret is not None:
        meta["returnData"] = ret
    return meta
