"""The explorer: the node's web page of blocks, transactions, batches, accounts, tokens.

Batches show their L1 status; a small JSON API feeds the page.

Served on the node's websocket port (aiohttp), at `/explorer`; the page is one static file
(`page.html`, plain JavaScript, no build step) that polls `/explorer/api/summary` for live
updates. The API reads the node's storage and pending state directly: it is for people, and
the Solana JSON-RPC stays the interface for programs.
"""

from __future__ import annotations

import base64
import json
from importlib import resources
from typing import Any

from aiohttp import web
from solders.pubkey import Pubkey
from solders.signature import Signature

from heliostat.node.storage.interface import EntryKind, EntryRecord

TOKEN_PROGRAMS = {
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA": "SPL Token",
    "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb": "Token-2022",
}
RECENT_BLOCKS = 20
SCANNED_BLOCKS = 500
RECENT_ENTRIES = 30
RECENT_BATCHES = 10


def add_routes(app: web.Application, node: Any, *, l1_explorer: str | None = None) -> None:
    """Serve the explorer for ``node`` (a `heliostat.node.app.Node`) on ``app``.

    ``l1_explorer``: a URL prefix for L1 transaction hashes (e.g. an Etherscan `.../tx/`),
    or None on a local chain without one.
    """
    explorer = _Explorer(node, l1_explorer)
    app.router.add_get("/explorer", explorer.page)
    app.router.add_get("/explorer/api/summary", explorer.summary)
    app.router.add_get("/explorer/api/account/{address}", explorer.account)
    app.router.add_get("/explorer/api/tx/{signature}", explorer.transaction)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


def _entry_json(entry: EntryRecord) -> dict[str, Any]:
    transaction = entry.kind is EntryKind.TRANSACTION  # priority entries have derived ids
    return {
        "signature": str(Signature.from_bytes(entry.signature)) if transaction else None,
        "kind": {EntryKind.DEPOSIT: "deposit", EntryKind.FORCED: "forced"}.get(
            entry.kind, "transaction"
        ),
        "seq": entry.seq,
        "slot": entry.slot,
        "position": entry.position,
        "ok": entry.err is None,
        "error": None if entry.err is None else json.loads(entry.err),
        "fee": entry.fee,
        "computeUnits": entry.compute_units,
        "accounts": [str(Pubkey.from_bytes(key)) for key in entry.accounts],
    }


class _Explorer:
    def __init__(self, node: Any, l1_explorer: str | None) -> None:
        self.node = node
        self.l1_explorer = l1_explorer
        self.html = resources.files(__name__).joinpath("page.html").read_text()

    async def page(self, _: web.Request) -> web.Response:
        return web.Response(text=self.html, content_type="text/html")

    async def summary(self, _: web.Request) -> web.Response:
        storage = self.node.storage
        # the newest blocks that hold something (empty slots are the common case), newest first
        sealed = storage.recent_sealed_blocks(SCANNED_BLOCKS)
        blocks = [b for b in reversed(sealed) if b.entry_count][:RECENT_BLOCKS]
        last = storage.last_entry()
        entries: list[dict[str, Any]] = []
        if last is not None:
            for entry in storage.iter_entries(max(0, last.seq - RECENT_ENTRIES + 1)):
                entries.append({**_entry_json(entry), "batch": storage.batch_of_slot(entry.slot)})
                if entry.seq >= last.seq:
                    break
        entries.reverse()
        batches: list[dict[str, Any]] = []
        last_batch = storage.last_batch()
        for number in range(last_batch.number if last_batch else 0, 0, -1):
            batch = storage.batch(number)
            if batch is None or len(batches) == RECENT_BATCHES:
                break
            batches.append({
                "batch": batch.number,
                "firstSlot": batch.first_slot,
                "lastSlot": batch.last_slot,
                "transactions": batch.entry_count,
                "stateRoot": batch.state_root.hex(),
                "status": str(batch.status),
                "l1Transaction": batch.l1_transaction,
                "l1Link": _link(self.l1_explorer, batch.l1_transaction),
            })  # fmt: skip
        sequencer = self.node.sequencer
        return _json({
            "slot": sequencer.open.slot,
            "sequencer": str(sequencer.keypair.pubkey()),
            "blocks": [
                {
                    "slot": b.slot,
                    "blockhash": None if b.blockhash is None else _b58(b.blockhash),
                    "time": b.block_time,
                    "transactions": b.entry_count,
                    "computeUnits": b.compute_units,
                    "batch": b.batch,
                }
                for b in blocks
            ],
            "entries": entries,
            "batches": batches,
        })  # fmt: skip

    async def account(self, request: web.Request) -> web.Response:
        try:
            key = Pubkey.from_string(request.match_info["address"])
        except ValueError:
            return _json({"error": "not a base58 address"}, 400)
        account = self.node.executor.get_account(key)
        tokens = []
        for token_key, token_account in self.node.storage.token_accounts_by_owner(key):
            parsed = _token_balance(bytes(token_account.data))
            if parsed is not None:
                tokens.append({"account": str(token_key), **parsed})
        if account is None:
            return _json({"address": str(key), "exists": False, "tokens": tokens})
        owner = str(account.owner)
        return _json({
            "address": str(key),
            "exists": True,
            "lamports": account.lamports,
            "owner": owner,
            "ownerName": TOKEN_PROGRAMS.get(owner),
            "executable": account.executable,
            "dataLength": len(account.data),
            "tokens": tokens,
        })  # fmt: skip

    async def transaction(self, request: web.Request) -> web.Response:
        try:
            signature = Signature.from_string(request.match_info["signature"])
        except ValueError:
            return _json({"error": "not a base58 signature"}, 400)
        entry = self.node.storage.entry_by_signature(bytes(signature))
        if entry is None:
            return _json({"error": "unknown transaction"}, 404)
        batch = self.node.storage.batch_of_slot(entry.slot)
        return _json({
            **_entry_json(entry),
            "logs": list(entry.logs),
            "receipt": base64.b64encode(entry.receipt).decode(),
            "batch": batch,
        })  # fmt: skip


def _token_balance(data: bytes) -> dict[str, Any] | None:
    from solders.token.state import TokenAccount

    try:
        token = TokenAccount.from_bytes(data[:165])
    except ValueError:
        return None
    return {"mint": str(token.mint), "amount": str(token.amount)}


def _link(prefix: str | None, l1_transaction: str | None) -> str | None:
    return None if prefix is None or l1_transaction is None else prefix + l1_transaction


def _b58(data: bytes) -> str:
    from heliostat.node.base58 import b58encode

    return b58encode(data)
