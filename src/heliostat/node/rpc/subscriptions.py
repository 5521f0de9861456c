"""Solana's websocket pubsub: signature, slot, account and logs subscriptions.

Notifications are driven by the sequencer's commit listener, so nothing is announced before
it is durable. "processed" fires when an entry's commit group is on disk; "confirmed" when
its block is sealed and on disk; "finalized" when its batch is finalized on L1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from solders.pubkey import Pubkey

from heliostat.node import base58
from heliostat.node.rpc import params
from heliostat.node.rpc.accounts import AccountView, encode_account
from heliostat.node.rpc.errors import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RpcError,
    invalid_params,
)
from heliostat.node.rpc.state_methods import StateMethods
from heliostat.node.sequencer.staging import CommitGroup
from heliostat.node.storage.interface import EntryKind

if TYPE_CHECKING:
    from heliostat.node.app import Node

log = logging.getLogger("heliostat.node.ws")
_LEVEL = {"processed": 0, "confirmed": 1, "finalized": 2}


@dataclass(slots=True)
class Subscription:
    """One subscription of one connection."""

    id: int
    kind: str  # signature, slot, account, logs
    commitment: str
    key: bytes = b""
    view: AccountView | None = None
    mentions: bytes | None = None  # logs: only entries naming this key
    received: bool = False


@dataclass(eq=False, slots=True)
class Connection:
    """A websocket client and its subscriptions."""

    ws: web.WebSocketResponse
    subscriptions: dict[int, Subscription] = field(default_factory=dict)


class SubscriptionHub:
    """Keeps every connection's subscriptions and fans commits out to them."""

    def __init__(self, node: Node, state: StateMethods) -> None:
        self.node = node
        self.state = state
        self.connections: set[Connection] = set()
        self._ids = itertools.count(1)
        # signature -> subscriptions waiting on it; entries already durable are answered at once
        self._by_signature: dict[bytes, list[tuple[Connection, Subscription]]] = {}
        self._confirmed_accounts: set[Pubkey] = set()
        self._sending: set[asyncio.Future[None]] = set()
        node.sequencer.listeners.append(self.on_commit)

    def connect(self, ws: web.WebSocketResponse) -> Connection:
        """Register a new websocket."""
        connection = Connection(ws)
        self.connections.add(connection)
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Forget a closed websocket and its subscriptions."""
        self.connections.discard(connection)
        for sub in connection.subscriptions.values():
            if sub.kind == "signature":
                self._drop_signature(connection, sub)
        connection.subscriptions.clear()

    async def close(self) -> None:
        """Close every websocket."""
        for connection in list(self.connections):
            await connection.ws.close()
        self.connections.clear()

    def _drop_signature(self, connection: Connection, sub: Subscription) -> None:
        waiting = self._by_signature.get(sub.key, [])
        waiting[:] = [(c, s) for c, s in waiting if s is not sub]
        if not waiting:
            self._by_signature.pop(sub.key, None)

    # -- requests -----------------------------------------------------------------------

    async def handle(self, connection: Connection, text: str) -> dict[str, Any] | None:
        """Answer one websocket message."""
        try:
            request = json.loads(text)
        except ValueError:
            return {
                "jsonrpc": "2.0",
                "error": {"code": PARSE_ERROR, "message": "Parse error"},
                "id": None,
            }
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return {
                "jsonrpc": "2.0",
                "error": {"code": INVALID_REQUEST, "message": "Invalid request"},
                "id": None,
            }
        request_id = request.get("id")
        method = request["method"]
        if method == "ping":  # client keep-alive (web3.js, kit): a pong when it wants one
            return (
                None
                if "id" not in request
                else {"jsonrpc": "2.0", "result": "pong", "id": request_id}
            )
        try:
            result = self._dispatch(connection, method, request.get("params"))
        except RpcError as exc:
            return {"jsonrpc": "2.0", "error": exc.to_json(), "id": request_id}
        except Exception:
            log.exception("websocket %s failed", method)
            return {
                "jsonrpc": "2.0",
                "error": {"code": -32603, "message": "Internal error"},
                "id": request_id,
            }
        reply = {"jsonrpc": "2.0", "result": result, "id": request_id}
        if method == "signatureSubscribe":
            await connection.ws.send_str(json.dumps(reply))
            self._answer_if_known(connection, connection.subscriptions[result])
            return None
        return reply

    def _dispatch(self, connection: Connection, method: str, raw: Any) -> Any:
        if method.endswith("Unsubscribe"):
            args = params.positional(raw, 1, 1)
            sub_id = params.integer(args[0], "subscription id")
            sub = connection.subscriptions.get(sub_id)
            if sub is None or f"{sub.kind}Unsubscribe" != method:
                raise invalid_params("Invalid subscription id.")
            del connection.subscriptions[sub_id]
            if sub.kind == "signature":
                self._drop_signature(connection, sub)
            return True
        if method == "slotSubscribe":
            params.positional(raw, 0, 0)
            return self._add(connection, Subscription(next(self._ids), "slot", "processed"))
        if method == "signatureSubscribe":
            args = params.positional(raw, 1, 2)
            sig = params.signature(args[0])
            cfg = params.config(args[1])
            sub = Subscription(next(self._ids), "signature", params.commitment(cfg), bytes(sig))
            sub.received = params.boolean(
                cfg.get("enableReceivedNotification"), "enableReceivedNotification", False
            )
            self._by_signature.setdefault(sub.key, []).append((connection, sub))
            return self._add(connection, sub)
        if method == "accountSubscribe":
            args = params.positional(raw, 1, 2)
            key = params.pubkey(args[0])
            cfg = params.config(args[1])
            sub = Subscription(next(self._ids), "account", params.commitment(cfg), bytes(key))
            sub.view = AccountView.from_config(cfg, default="base58")
            return self._add(connection, sub)
        if method == "logsSubscribe":
            args = params.positional(raw, 1, 2)
            cfg = params.config(args[1])
            sub = Subscription(next(self._ids), "logs", params.commitment(cfg))
            selector = args[0]
            if isinstance(selector, dict) and set(selector) == {"mentions"}:
                keys = selector["mentions"]
                if not isinstance(keys, list) or len(keys) != 1:
                    raise invalid_params("Invalid Request: Only 1 address supported")
                sub.mentions = bytes(params.pubkey(keys[0]))
            elif selector not in ("all", "allWithVotes"):
                raise invalid_params(
                    "Invalid params: logs filter must be all, allWithVotes or mentions"
                )
            return self._add(connection, sub)
        raise RpcError(METHOD_NOT_FOUND, "Method not found")

    def _add(self, connection: Connection, sub: Subscription) -> int:
        connection.subscriptions[sub.id] = sub
        return sub.id

    # -- notifications ------------------------------------------------------------------

    def _send(self, connection: Connection, method: str, sub_id: int, result: Any) -> None:
        if connection.ws.closed:
            return
        text = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": method,
                "params": {"result": result, "subscription": sub_id},
            }
        )
        task = asyncio.ensure_future(connection.ws.send_str(text))
        self._sending.add(task)  # keep a reference until it is sent
        task.add_done_callback(self._sending.discard)

    def _answer_if_known(self, connection: Connection, sub: Subscription) -> None:
        entry = self.node.storage.entry_by_signature(sub.key)
        if entry is None:
            return
        reached = self._level_of_slot(entry.slot)
        if reached >= _LEVEL[sub.commitment]:
            err = None if entry.err is None else json.loads(entry.err)
            self._finish_signature(connection, sub, entry.slot, err)

    def _level_of_slot(self, slot: int) -> int:
        if slot <= self.node.storage.highest_finalized_slot():
            return 2
        return 1 if slot <= self.node.sequencer.durable_sealed_slot else 0

    def _finish_signature(
        self, connection: Connection, sub: Subscription, slot: int, err: Any
    ) -> None:
        if sub.id not in connection.subscriptions:
            return
        context = {"slot": slot}
        self._send(
            connection, "signatureNotification", sub.id, {"context": context, "value": {"err": err}}
        )
        del connection.subscriptions[sub.id]  # signature subscriptions end after one answer
        self._drop_signature(connection, sub)

    def on_commit(self, group: CommitGroup) -> None:
        """Fan a durable commit group out to the subscribers."""
        if not self.connections:
            return
        slot_now = self.node.sequencer.open.slot
        for entry in group.entries:
            for connection, sub in list(self._by_signature.get(entry.signature, [])):
                if sub.commitment == "processed":
                    err = None if entry.err is None else json.loads(entry.err)
                    self._finish_signature(connection, sub, entry.slot, err)
        sealed = [b for b in group.blocks if b.blockhash is not None]
        changed = set(group.accounts)
        self._confirmed_accounts |= changed
        for connection in list(self.connections):
            for sub in list(connection.subscriptions.values()):
                if sub.kind == "logs" and sub.commitment == "processed":
                    for entry in group.entries:
                        if entry.kind is EntryKind.TRANSACTION and (
                            sub.mentions is None or sub.mentions in entry.accounts
                        ):
                            self._send(
                                connection,
                                "logsNotification",
                                sub.id,
                                {
                                    "context": {"slot": entry.slot},
                                    "value": {
                                        "err": None if entry.err is None else json.loads(entry.err),
                                        "logs": list(entry.logs),
                                        "signature": base58.b58encode(entry.signature),
                                    },
                                },
                            )
                elif sub.kind == "account" and sub.commitment == "processed":
                    self._notify_account(connection, sub, changed, slot_now)
        if sealed:
            self._on_sealed(sealed[-1].slot, slot_now)

    def _notify_account(
        self, connection: Connection, sub: Subscription, changed: set[Pubkey], slot: int
    ) -> None:
        key = Pubkey.from_bytes(sub.key)
        if key not in changed:
            return
        account = self.state.lookup(key)
        assert sub.view is not None
        value = None
        if account is not None:
            value = encode_account(account, sub.view, self.state.lookup)
        else:
            value = {
                "data": ["", "base64"],
                "executable": False,
                "lamports": 0,
                "owner": "11111111111111111111111111111111",
                "rentEpoch": 0,
                "space": 0,
            }
        self._send(
            connection, "accountNotification", sub.id, {"context": {"slot": slot}, "value": value}
        )

    def recheck_signatures(self) -> None:
        """Answer signature subscriptions whose entry reached their commitment since."""
        for waiting in list(self._by_signature.values()):
            for connection, sub in list(waiting):
                if sub.commitment != "processed":
                    self._answer_if_known(connection, sub)

    def _on_sealed(self, sealed_slot: int, slot_now: int) -> None:
        self.recheck_signatures()
        accounts, self._confirmed_accounts = self._confirmed_accounts, set()
        for connection in list(self.connections):
            for sub in list(connection.subscriptions.values()):
                if sub.kind == "slot":
                    self._send(
                        connection,
                        "slotNotification",
                        sub.id,
                        {
                            "parent": sealed_slot,
                            "root": self.node.storage.highest_finalized_slot(),
                            "slot": slot_now,
                        },
                    )
                elif sub.kind == "account" and sub.commitment == "confirmed":
                    self._notify_account(connection, sub, accounts, slot_now)
