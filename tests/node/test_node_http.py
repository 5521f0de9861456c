"""The JSON-RPC port's HTTP/1.1 handling, byte by byte over raw sockets."""

from __future__ import annotations

import json
import socket

from node_harness import NodeProcess

SLOT = b'{"jsonrpc":"2.0","id":7,"method":"getSlot"}'


def _exchange(
    node: NodeProcess, data: bytes, responses: int = 1
) -> list[tuple[int, dict[str, str], bytes]]:
    """Send raw bytes; read ``responses`` responses (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as sock:
        sock.sendall(data)
        buffer = b""
        out = []
        while len(out) < responses:
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    return out
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            status = int(lines[0].split(" ")[1])
            headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
            length = int(headers.get("content-length", "0"))
            while len(buffer) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
            out.append((status, headers, buffer[:length]))
            buffer = buffer[length:]
        return out


def _post(body: bytes, extra: str = "") -> bytes:
    return (
        f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_pipelined_requests_are_answered_in_order(node: NodeProcess) -> None:
    bodies = [
        b'{"jsonrpc":"2.0","id":1,"method":"getHealth"}',
        b'{"jsonrpc":"2.0","id":2,"method":"nope"}',
        b'{"jsonrpc":"2.0","method":"getSlot"}',  # a notification: 204, no body
        SLOT,
    ]
    answers = _exchange(node, b"".join(_post(b) for b in bodies), responses=4)
    assert [a[0] for a in answers] == [200, 200, 204, 200]
    assert json.loads(answers[0][2]) == {"jsonrpc": "2.0", "result": "ok", "id": 1}
    assert json.loads(answers[1][2])["error"]["code"] == -32601
    assert answers[2][2] == b"" and json.loads(answers[3][2])["id"] == 7


def test_chunked_bodies_and_expect_continue(node: NodeProcess) -> None:
    chunked = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n" % 10 + SLOT[:10] + b"\r\n"
        + b"%x;ext=1\r\n" % (len(SLOT) - 10) + SLOT[10:] + b"\r\n0\r\nTrailer: t\r\n\r\n"
    )  # fmt: skip
    ((status, _, body),) = _exchange(node, chunked)
    assert status == 200 and "result" in json.loads(body)
    answers = _exchange(node, _post(SLOT, "Expect: 100-continue\r\n"), responses=2)
    assert answers[0][0] == 100 and answers[1][0] == 200


def test_connection_handling_and_refusals(node: NodeProcess) -> None:
    # HTTP/1.0 closes after the answer unless asked otherwise.
    http10 = _post(SLOT).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    answers = _exchange(node, http10 + _post(SLOT), responses=2)
    assert len(answers) == 1 and answers[0][1].get("connection") == "close"
    assert _exchange(node, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n")[0][0] == 411
    assert _exchange(node, b"garbage\r\n\r\n")[0][0] == 400
    assert _exchange(node, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")[0][0] == 404
    assert _exchange(node, b"PUT / HTTP/1.1\r\nHost: x\r\n\r\n")[0][0] == 405
    assert (
        _exchange(node, b"GET /x HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 20_000 + b"\r\n\r\n")[0][0]
        == 431
    )
    big = b"%x\r\n" % 60_000 + b"[" * 60_000 + b"\r\n0\r\n\r\n"
    ((status, headers, body),) = _exchange(
        node, b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + big
    )
    assert status == 413 and json.loads(body)["error"]["code"] == -32600
    assert headers.get("connection") == "close"
    health = _exchange(node, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    assert (health[0], health[2]) == (200, b"ok")
    metrics = _exchange(node, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    assert b"heliostat_rpc_requests_total" in metrics[2]
    head = _exchange(node, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    assert head[0] == 200 and head[2] == b""
    assert node.result("getHealth") == "ok"  # and the node is still serving
