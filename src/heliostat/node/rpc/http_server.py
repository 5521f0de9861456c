"""The JSON-RPC port's HTTP/1.1 server: a lean asyncio protocol instead of aiohttp's.

The node's event loop is its bottleneck, and aiohttp's server spends ~100 µs of it per
request (request and response objects, routing, a task per request); this protocol does the
little JSON-RPC needs in a fraction of that. It serves `POST /` (JSON-RPC), `GET /health` and
`GET /metrics`; bodies come with Content-Length or chunked; `Expect: 100-continue`,
keep-alive and pipelined requests (answered in order) work as clients expect. Anything it
cannot serve gets a plain 4xx and, when the stream cannot be trusted any more, a close. The
websocket port stays on aiohttp (`RpcServer.ws_app`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("heliostat.node.rpc")

MAX_HEADER_BYTES = 16_384
_REASONS = {
    100: "Continue", 200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found",
    405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
    429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
    501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported",
}  # fmt: skip


class HttpResponse:
    """What a route answers: status, body and its content type."""

    __slots__ = ("body", "content_type", "status")

    def __init__(self, status: int, body: bytes = b"", content_type: str = "text/plain") -> None:
        self.status = status
        self.body = body
        self.content_type = content_type


# (client address, body) -> response, for POST /; () -> response for the GET routes.
PostHandler = Callable[[str, bytes], Awaitable[HttpResponse]]
GetHandler = Callable[[], HttpResponse]


class _BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests from the byte stream and answers them in order."""

    def __init__(self, server: LeanHttpServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.client = "unknown"
        self.wakeup: asyncio.Event = asyncio.Event()
        self.closed = False
        self.reading = True
        self.task: asyncio.Task[None] | None = None

    # -- asyncio.Protocol -------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start serving the connection's requests."""
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self.client = str(peer[0])
        self.server.connections.add(self)
        self.task = asyncio.get_running_loop().create_task(self._serve())

    def data_received(self, data: bytes) -> None:
        """Buffer bytes for the request loop."""
        self.buffer += data
        # Backpressure: a client may pipeline, but not make the node buffer without bound.
        if len(self.buffer) > 4 * self.server.max_body + MAX_HEADER_BYTES and self.reading:
            assert self.transport is not None
            self.transport.pause_reading()
            self.reading = False
        self.wakeup.set()

    def eof_received(self) -> bool:
        """Note that the client finished sending (requests already read are answered)."""
        self.closed = True
        self.wakeup.set()
        return True  # keep the transport open: requests already received are still answered

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection; a request being served finds it closed."""
        self.closed = True
        self.wakeup.set()
        self.server.connections.discard(self)

    # -- the request loop -------------------------------------------------------------

    async def _need(self, size: int) -> bool:
        """Wait until the buffer holds ``size`` bytes; False if the client went away."""
        while len(self.buffer) < size:
            if self.closed:
                return False
            if not self.reading and self.transport is not None:
                self.transport.resume_reading()
                self.reading = True
            self.wakeup.clear()
            await self.wakeup.wait()
        return True

    async def _head(self) -> int | None:
        """Wait for a whole request head; the offset of its end (after CRLFCRLF)."""
        searched = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n", searched)
            if end > MAX_HEADER_BYTES or (end < 0 and len(self.buffer) > MAX_HEADER_BYTES):
                raise _BadRequestError(431, "request head too large")
            if end >= 0:
                return end + 4
            searched = max(0, len(self.buffer) - 3)
            if not await self._need(len(self.buffer) + 1):
                return None

    async def _serve(self) -> None:
        try:
            while not self.closed or self.buffer:
                try:
                    keep_alive = await self._one()
                except _TooLargeError:
                    break  # answered (413) already; the unread body leaves the stream unusable
                except _BadRequestError as exc:
                    self._send(HttpResponse(exc.status, f"{exc}\n".encode()), keep_alive=False)
                    keep_alive = False
                if not keep_alive:
                    break
        except Exception:  # never let one connection's failure reach the event loop
            log.exception("HTTP connection failed")
        finally:
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()

    async def _one(self) -> bool:
        """Read and answer one request; whether the connection stays open."""
        end = await self._head()
        if end is None:
            return False
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            raise _BadRequestError(400, "malformed request line")
        method, target, version = parts
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise _BadRequestError(400, "malformed header")
            headers[name.lower()] = value.strip()
        connection = headers.get(b"connection", b"").lower()
        if version == b"HTTP/1.0":
            keep_alive = connection == b"keep-alive"
        else:
            keep_alive = connection != b"close"
        path = target.split(b"?", 1)[0]
        if method == b"POST":
            body = await self._body(headers)
            if body is None:
                return False
            if path != b"/":
                self._send(HttpResponse(404, b"not found\n"), keep_alive)
                return keep_alive
            response = await self.server.on_post(self.client, body)
        elif method in (b"GET", b"HEAD"):
            has_body = b"content-length" in headers or b"transfer-encoding" in headers
            if has_body and await self._body(headers) is None:
                return False
            route = self.server.get_routes.get(path)
            if route is None:
                response = HttpResponse(404 if path != b"/" else 405, b"not found\n")
            else:
                response = route()
            if method == b"HEAD":
                response = HttpResponse(response.status, b"", response.content_type)
        else:
            raise _BadRequestError(405 if method.isalpha() else 400, "method not allowed")
        self._send(response, keep_alive)
        return keep_alive

    async def _body(self, headers: dict[bytes, bytes]) -> bytes | None:
        """Read the body (Content-Length or chunked); None if the client went away."""
        limit = self.server.max_body
        if headers.get(b"expect", b"").lower() == b"100-continue":
            self._write_raw(b"HTTP/1.1 100 Continue\r\n\r\n")
        encoding = headers.get(b"transfer-encoding")
        if encoding is not None:
            if encoding.lower() != b"chunked" or b"content-length" in headers:
                raise _BadRequestError(501, "unsupported transfer encoding")
            return await self._chunked(limit)
        text = headers.get(b"content-length")
        if text is None:
            raise _BadRequestError(411, "Content-Length required")
        if not text.isdigit():
            raise _BadRequestError(400, "bad Content-Length")
        length = int(text)
        if length > limit:
            self.server.too_large(self, length)
            raise _TooLargeError(limit)
        if not await self._need(length):
            return None
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return body

    async def _chunked(self, limit: int) -> bytes | None:
        body = bytearray()
        while True:
            while (at := self.buffer.find(b"\r\n")) < 0:
                if len(self.buffer) > 1024:
                    raise _BadRequestError(400, "malformed chunk size")
                if not await self._need(len(self.buffer) + 1):
                    return None
            size_text = bytes(self.buffer[:at]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequestError(400, "malformed chunk size") from None
            if len(body) + size > limit:
                self.server.too_large(self, len(body) + size)
                raise _TooLargeError(limit)
            if not await self._need(at + 2 + size + 2):
                return None
            if size == 0:
                # the last chunk: skip trailers up to the empty line
                del self.buffer[: at + 2]
                while (end := self.buffer.find(b"\r\n")) != 0:
                    if end < 0:
                        if not await self._need(len(self.buffer) + 1):
                            return None
                        continue
                    del self.buffer[: end + 2]
                del self.buffer[:2]
                return bytes(body)
            body += self.buffer[at + 2 : at + 2 + size]
            if self.buffer[at + 2 + size : at + 4 + size] != b"\r\n":
                raise _BadRequestError(400, "malformed chunk")
            del self.buffer[: at + 4 + size]

    def _write_raw(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _send(self, response: HttpResponse, keep_alive: bool) -> None:
        status = response.status
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        if status != 204:
            lines.append(f"Content-Type: {response.content_type}")
            lines.append(f"Content-Length: {len(response.body)}")
        if not keep_alive:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self._write_raw(head if status == 204 else head + response.body)


class _TooLargeError(_BadRequestError):
    """A body over the limit: answered (413, JSON-RPC error) by the server, then closed."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"body exceeds {limit} bytes")


class LeanHttpServer:
    """Listens for `HttpConnection`s; routes are given by the RPC server."""

    def __init__(
        self,
        on_post: PostHandler,
        get_routes: dict[bytes, GetHandler],
        max_body: int,
        too_large_body: Callable[[int], bytes],
    ) -> None:
        self.on_post = on_post
        self.get_routes = get_routes
        self.max_body = max_body
        self.too_large_body = too_large_body
        self.connections: set[HttpConnection] = set()
        self._server: asyncio.AbstractServer | None = None

    def too_large(self, connection: HttpConnection, _length: int) -> None:
        """Answer an oversized body with 413 and the JSON-RPC error, before closing."""
        connection._send(
            HttpResponse(413, self.too_large_body(self.max_body), "application/json"),
            keep_alive=False,
        )
        connection.closed = True  # nothing after an unread body can be parsed

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port``."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: HttpConnection(self), host, port, reuse_address=True
        )

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
            if connection.task is not None:
                connection.task.cancel()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


def json_body(answer: Any) -> bytes:
    """Return a JSON answer's bytes (compact separators are what clients get from agave)."""
    return json.dumps(answer).encode()
