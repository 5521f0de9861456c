"""The HTTP JSON-RPC server (batch requests, limits, /health, /metrics) and the websocket.

Decoding happens here: a request becomes (method, params) only after its JSON and envelope
are checked; handlers get plain Python values and raise `RpcError` for anything wrong.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from heliostat.node import explorer
from heliostat.node.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    RATE_LIMITED,
    RpcError,
)
from heliostat.node.rpc.http_server import HttpResponse, LeanHttpServer, json_body
from heliostat.node.rpc.subscriptions import SubscriptionHub
from heliostat.node.rpc.tx_methods import TransactionMethods

if TYPE_CHECKING:
    from heliostat.node.app import Node

log = logging.getLogger("heliostat.node.rpc")


class RateLimiter:
    """A token bucket per client address."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str, cost: float = 1.0) -> bool:
        """Take `cost` tokens from the client's bucket if it has them."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if len(self._buckets) > 100_000:  # forget idle clients rather than grow without bound
            self._buckets.clear()
        if tokens < cost:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - cost, now)
        return True


def _error(code: int, message: str, request_id: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": request_id}


class RpcServer:
    """Dispatches JSON-RPC to the method tables and serves HTTP and websocket."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.config = node.config
        methods = TransactionMethods(node)
        # The method table: every handler marked with @rpc_method, under its Solana name.
        self.methods: dict[str, Callable[[Any], Awaitable[Any]]] = {}
        for attribute in dir(type(methods)):
            name = getattr(getattr(type(methods), attribute), "rpc_name", None)
            if name is not None:
                self.methods[name] = getattr(methods, attribute)
        self.limiter = RateLimiter(self.config.rate_limit_rps, self.config.rate_limit_burst)
        self.hub = SubscriptionHub(node, methods)
        self.metrics = node.metrics
        self.metrics.counter("heliostat_rpc_requests_total", "JSON-RPC calls by method")
        self.metrics.counter("heliostat_rpc_errors_total", "JSON-RPC error answers by code")
        self._runners: list[web.AppRunner] = []
        self._lean: LeanHttpServer | None = None

    # -- JSON-RPC -----------------------------------------------------------------------

    async def process(self, body: bytes | str) -> Any:
        """Answer one HTTP body: a request, a batch, or garbage. None means no reply."""
        try:
            request = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            self.metrics.inc("heliostat_rpc_errors_total", code=str(PARSE_ERROR))
            return _error(PARSE_ERROR, "Parse error")
        if isinstance(request, list):
            if not request:
                return _error(INVALID_REQUEST, "Invalid request")
            if len(request) > self.config.max_batch_requests:
                return _error(
                    INVALID_REQUEST,
                    f"Invalid request: batch of {len(request)} exceeds "
                    f"{self.config.max_batch_requests}",
                )
            answers = await asyncio.gather(*(self.call(item) for item in request))
            replies = [a for a in answers if a is not None]
            return replies or None
        return await self.call(request)

    async def call(self, request: Any) -> dict[str, Any] | None:
        """Answer one request object."""
        if not isinstance(request, dict):
            return _error(INVALID_REQUEST, "Invalid request")
        request_id = request.get("id")
        if request_id is not None and (
            isinstance(request_id, bool) or not isinstance(request_id, (int, str))
        ):
            return _error(INVALID_REQUEST, "Invalid request")
        method = request.get("method")
        if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return _error(INVALID_REQUEST, "Invalid request", request_id)
        notification = "id" not in request
        handler = self.methods.get(method)
        self.metrics.inc("heliostat_rpc_requests_total", method=method if handler else "unknown")
        try:
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, "Method not found")
            raw = request.get("params")
            if isinstance(raw, dict):
                raise RpcError(-32602, "Invalid params: named parameters are not supported")
            result = await handler(raw)
        except RpcError as exc:
            self.metrics.inc("heliostat_rpc_errors_total", code=str(exc.code))
            return (
                None
                if notification
                else {"jsonrpc": "2.0", "error": exc.to_json(), "id": request_id}
            )
        except Exception:
            log.exception("internal error in %s", method)
            self.metrics.inc("heliostat_rpc_errors_total", code=str(INTERNAL_ERROR))
            return None if notification else _error(INTERNAL_ERROR, "Internal error", request_id)
        return None if notification else {"jsonrpc": "2.0", "result": result, "id": request_id}

    # -- HTTP ---------------------------------------------------------------------------

    async def _post(self, client: str, body: bytes) -> HttpResponse:
        """POST / on the lean HTTP server: rate limit, then JSON-RPC."""
        if not self.limiter.allow(client):
            return HttpResponse(
                429, json_body(_error(RATE_LIMITED, "Too many requests")), "application/json"
            )
        answer = await self.process(body)
        if answer is None:
            return HttpResponse(204)
        return HttpResponse(200, json_body(answer), "application/json")

    def _get_health(self) -> HttpResponse:
        if self.node.sequencer.failure is not None:
            return HttpResponse(503, b"unhealthy")
        return HttpResponse(200, b"ok")

    def _get_metrics(self) -> HttpResponse:
        return HttpResponse(200, self.metrics.render().encode(), "text/plain; charset=utf-8")

    def http_server(self) -> LeanHttpServer:
        """Return the JSON-RPC port's server: POST / for JSON-RPC, GET /health and /metrics."""
        limit = self.config.max_request_bytes
        return LeanHttpServer(
            self._post,
            {b"/health": self._get_health, b"/metrics": self._get_metrics},
            limit,
            lambda _: json_body(
                _error(INVALID_REQUEST, f"Invalid request: body exceeds {limit} bytes")
            ),
        )

    async def _health(self, _request: web.Request) -> web.Response:
        if self.node.sequencer.failure is not None:
            return web.Response(status=503, text="unhealthy")
        return web.Response(text="ok")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            autoping=True, heartbeat=None, max_msg_size=self.config.max_request_bytes
        )
        await ws.prepare(request)
        connection = self.hub.connect(ws)
        client = request.remote or "unknown"
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    if not self.limiter.allow(client):
                        await ws.send_str(json.dumps(_error(RATE_LIMITED, "Too many requests")))
                        continue
                    reply = await self.hub.handle(connection, message.data)
                    if reply is not None:
                        await ws.send_str(json.dumps(reply))
                elif message.type is WSMsgType.BINARY:
                    await ws.send_str(json.dumps(_error(PARSE_ERROR, "Parse error")))
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            self.hub.disconnect(connection)
        return ws

    def ws_app(self) -> web.Application:
        """Return the websocket application (Solana's pubsub) on its own port."""
        app = web.Application()
        app.router.add_get("/", self._websocket)
        app.router.add_get("/health", self._health)
        explorer.add_routes(app, self.node)
        return app

    async def start(self, host: str, port: int, ws_port: int) -> None:
        """Listen on both ports: the lean HTTP server on ``port``, aiohttp's on ``ws_port``."""
        self._lean = self.http_server()
        await self._lean.start(host, port)
        runner = web.AppRunner(self.ws_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, ws_port, reuse_address=True).start()
        self._runners.append(runner)

    async def stop(self) -> None:
        """Close listeners and connections."""
        if self._lean is not None:
            await self._lean.stop()
            self._lean = None
        await self.hub.close()
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
