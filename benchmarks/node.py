"""Sequencer node throughput and soft-confirmation latency, measured over loopback.

Starts `heliostat node` in its own process (SQLite WAL, synchronous=FULL, 400 ms slots),
funds senders, then drives pre-signed SOL transfers and SPL Token transfers at it from this
process with a fixed number of concurrent HTTP clients (each waits for its answer before
sending again, as wallets do). A transaction's latency is sendTransaction's round trip: the
node answers only once the transaction is executed, durable and soft-confirmed. The clients
are one lean keep-alive HTTP/1.1 connection each (`_Connection`), so that the load generator
takes as little as possible of the CPU the node needs; it prints its own CPU per transaction
next to the node's (from /metrics).

Run: .venv/bin/python benchmarks/node.py [--seconds 5] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, TransferParams, create_account
from solders.system_program import transfer as sol_transfer
from solders.transaction import VersionedTransaction

from heliostat.testing import spl_token

ROOT = Path(__file__).resolve().parents[1]
SEND_PREFIX = '{"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["'
SEND_SUFFIX = '",{"encoding":"base64"}]}'
TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")


def free_port_pair() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue


def rpc(url: str, method: str, *params: object) -> object:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    ).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def send(url: str, tx: VersionedTransaction) -> None:
    rpc(url, "sendTransaction", base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"})


def signed(
    instructions: list, payer: Keypair, signers: list[Keypair], blockhash: Hash
) -> VersionedTransaction:
    return VersionedTransaction(
        Message.new_with_blockhash(instructions, payer.pubkey(), blockhash), signers
    )


def latest_blockhash(url: str) -> Hash:
    value = rpc(url, "getLatestBlockhash")["value"]  # type: ignore[index]
    return Hash.from_string(value["blockhash"])


def prepare_sol(url: str, senders: list[Keypair], count: int) -> list[str]:
    blockhash = latest_blockhash(url)
    sink = Keypair().pubkey()
    txs = []
    for i in range(count):
        payer = senders[i % len(senders)]
        ix = sol_transfer(
            TransferParams(from_pubkey=payer.pubkey(), to_pubkey=sink, lamports=1_000_000 + i)
        )
        txs.append(base64.b64encode(bytes(signed([ix], payer, [payer], blockhash))).decode())
    return txs


def prepare_spl(url: str, senders: list[Keypair], count: int) -> list[str]:
    """A mint, one funded token account per sender and one receiving account; then transfers."""
    blockhash = latest_blockhash(url)
    authority = senders[0]
    mint = Keypair()
    rent_mint = int(rpc(url, "getMinimumBalanceForRentExemption", 82))  # type: ignore[arg-type]
    rent_account = int(rpc(url, "getMinimumBalanceForRentExemption", 165))  # type: ignore[arg-type]
    send(
        url,
        signed(
            [
                create_account(
                    CreateAccountParams(
                        from_pubkey=authority.pubkey(),
                        to_pubkey=mint.pubkey(),
                        lamports=rent_mint,
                        space=82,
                        owner=TOKEN_PROGRAM,
                    )
                ),
                spl_token.initialize_mint2(mint.pubkey(), 6, authority.pubkey()),
            ],
            authority,
            [authority, mint],
            blockhash,
        ),
    )
    accounts = []
    for owner in [*senders, Keypair()]:
        account = Keypair()
        accounts.append(account.pubkey())
        send(
            url,
            signed(
                [
                    create_account(
                        CreateAccountParams(
                            from_pubkey=authority.pubkey(),
                            to_pubkey=account.pubkey(),
                            lamports=rent_account,
                            space=165,
                            owner=TOKEN_PROGRAM,
                        )
                    ),
                    spl_token.initialize_account3(account.pubkey(), mint.pubkey(), owner.pubkey()),
                ],
                authority,
                [authority, account],
                blockhash,
            ),
        )
    for account in accounts[:-1]:
        send(
            url,
            signed(
                [spl_token.mint_to(mint.pubkey(), account, authority.pubkey(), 10**15)],
                authority,
                [authority],
                blockhash,
            ),
        )
    receiver = accounts[-1]
    txs = []
    for i in range(count):
        k = i % len(senders)
        ix = spl_token.transfer(accounts[k], receiver, senders[k].pubkey(), 1 + i)
        txs.append(
            base64.b64encode(bytes(signed([ix], senders[k], [senders[k]], blockhash))).decode()
        )
    return txs


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends a request and awaits its answer.

    A lean client on purpose: the load generator shares the machine's two cores with the
    node, so every microsecond it spends is one the node does not get (aiohttp's client
    costs ~200 µs of CPU per request, this one a fraction of that).
    """

    def __init__(self, host: str, port: int) -> None:
        self.head = f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[bytes] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        length = None
        for line in bytes(self.buffer[:end]).split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError("the node answered without Content-Length")
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(body)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the node closed the connection"))

    async def post(self, body: bytes) -> bytes:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        return await self.waiter


async def drive(
    url: str, txs: list[str], concurrency: int, seconds: float
) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    cursor = 0
    errors = 0
    stop_at = time.perf_counter() + seconds
    host, port = url.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    connections = [
        (await loop.create_connection(lambda: _Connection(host, int(port)), host, int(port)))[1]
        for _ in range(concurrency)
    ]

    async def client(connection: _Connection) -> None:
        nonlocal cursor, errors
        while time.perf_counter() < stop_at and cursor < len(txs):
            payload = txs[cursor]
            cursor += 1
            body = (SEND_PREFIX + payload + SEND_SUFFIX).encode()
            started = time.perf_counter()
            answer = json.loads(await connection.post(body))
            if "result" in answer:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    elapsed = time.perf_counter() - began
    for connection in connections:
        assert connection.transport is not None
        connection.transport.close()
    if errors:
        raise RuntimeError(f"{errors} transactions were refused during the run")
    return len(latencies), elapsed, latencies


def node_cpu(url: str) -> dict[str, float]:
    """The node's CPU counters from /metrics (process, event loop, executor)."""
    wanted = (
        "heliostat_process_cpu_seconds",
        "heliostat_loop_cpu_seconds",
        "heliostat_executor_cpu_seconds",
        "heliostat_executor_runs",
    )
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            values[name.removeprefix("heliostat_")] = float(value)
    return values


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--senders", type=int, default=64)
    args = parser.parse_args()
    try:  # the load generator's loop in C too, when uvloop is installed
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass

    work = Path(tempfile.mkdtemp(prefix="heliostat-bench-node-"))
    faucet = Keypair()
    (work / "faucet.json").write_text(json.dumps(list(bytes(faucet))))
    port = free_port_pair()
    url = f"http://127.0.0.1:{port}"
    executor = os.environ.get("HELIOSTAT_BENCH_EXECUTOR", "runtime")
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heliostat.cli",
            "node",
            "--executor",
            executor,
            "--port",
            str(port),
            "--data-dir",
            str(work / "data"),
            "--faucet-key",
            str(work / "faucet.json"),
            "--faucet-lamports",
            str(10**18),
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "node.log", "wb"),  # noqa: SIM115
        env={**os.environ, "HELIOSTAT_NODE_RATE_LIMIT_RPS": "0"},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or node.poll() is not None:
                    raise RuntimeError((work / "node.log").read_text()[-2000:]) from None
                time.sleep(0.1)
        senders = [Keypair() for _ in range(args.senders)]
        for sender in senders:
            rpc(url, "requestAirdrop", str(sender.pubkey()), 10**13)
        # Enough pre-signed transactions for the run at up to 6,000 per second.
        budget = int(args.seconds * 6000)
        results = {}
        for name, prepare in (("sol", prepare_sol), ("spl", prepare_spl)):
            txs = prepare(url, senders, budget)
            asyncio.run(drive(url, txs[:200], args.concurrency, 10))  # warm up
            before = node_cpu(url)
            client_before = time.process_time()
            count, elapsed, latencies = asyncio.run(
                drive(url, txs[200:], args.concurrency, args.seconds)
            )
            client_us = (time.process_time() - client_before) / count * 1e6
            after = node_cpu(url)
            cost = {k: (after[k] - before[k]) / count * 1e6 for k in after if k != "executor_runs"}
            group = count / max(1.0, after["executor_runs"] - before["executor_runs"])
            tps = count / elapsed
            p50, p99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
            print(
                f"{name.upper()} transfers: {count} in {elapsed:.2f} s = {tps:,.0f} TPS; "
                f"soft confirmation p50 {p50:.1f} ms, p99 {p99:.1f} ms, mean "
                f"{statistics.mean(latencies) * 1e3:.1f} ms"
            )
            print(
                f"  node CPU per transaction: {cost['process_cpu_seconds']:.0f} µs in all; "
                f"event loop {cost['loop_cpu_seconds']:.0f} µs = runtime "
                f"{cost['executor_cpu_seconds']:.0f} µs (groups of {group:.1f}) + node "
                f"{cost['loop_cpu_seconds'] - cost['executor_cpu_seconds']:.0f} µs; "
                f"other threads (storage writer) "
                f"{cost['process_cpu_seconds'] - cost['loop_cpu_seconds']:.0f} µs; "
                f"load generator {client_us:.0f} µs"
            )
            results.update(
                {
                    f"{name}_tps": round(tps, 1),
                    f"{name}_p50_ms": round(p50, 2),
                    f"{name}_p99_ms": round(p99, 2),
                    f"{name}_node_cpu_us_per_tx": round(cost["process_cpu_seconds"], 1),
                    f"{name}_runtime_cpu_us_per_tx": round(cost["executor_cpu_seconds"], 1),
                    f"{name}_node_own_loop_cpu_us_per_tx": round(
                        cost["loop_cpu_seconds"] - cost["executor_cpu_seconds"], 1
                    ),
                    f"{name}_client_cpu_us_per_tx": round(client_us, 1),
                }
            )
        print(
            f"executor: {executor}; concurrency {args.concurrency}; {os.cpu_count()} cores; "
            "SQLite WAL synchronous=FULL; one node process, one client process"
        )
        results.update({"executor": executor, "concurrency": args.concurrency})
        print(json.dumps(results))
    finally:
        node.send_signal(signal.SIGTERM)
        try:
            node.wait(20)
        except subprocess.TimeoutExpired:
            node.kill()


if __name__ == "__main__":
    main()
