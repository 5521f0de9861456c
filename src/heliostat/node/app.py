"""The node assembled: executor, storage, sequencer, RPC servers, faucet, metrics.

`Node.from_config` is the production wiring. The executor is taken by interface: "runtime"
(the default) runs `heliostat.runtime`, the rollup's state transition function; "litesvm-double"
runs the LiteSVM test double, for tests of the executor interface and development only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

from solders.account import Account
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from heliostat.node.config import NodeConfig
from heliostat.node.errors import AdmissionError, ConfigError
from heliostat.node.execution import SequencerExecutor
from heliostat.node.metrics import Metrics
from heliostat.node.sequencer.chain import BatchPolicy
from heliostat.node.sequencer.entries import SequencerConfig
from heliostat.node.sequencer.prover_queue import ProverQueue
from heliostat.node.sequencer.sequencer import Sequencer
from heliostat.node.sequencer.staging import Confirmation
from heliostat.node.storage.interface import BatchStatus, BlockRecord, NodeStorage
from heliostat.node.storage.sqlite import SqliteStorage

log = logging.getLogger("heliostat.node")
# The GIL switch interval under load (tune_process): short enough that the storage writer
# gets the GIL back quickly, long enough not to thrash the event loop.
SWITCH_INTERVAL_S = 0.0005
SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")


def load_keypair(path: str | Path) -> Keypair:
    """Read a solana-keygen JSON keypair (an array of 64 byte values)."""
    try:
        values = json.loads(Path(path).read_text())
        return Keypair.from_bytes(bytes(values))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(str(path), f"not a keypair file: {exc}") from None


def save_keypair(keypair: Keypair, path: str | Path) -> None:
    """Write a keypair as solana-keygen does, readable by the owner only."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(list(bytes(keypair)), handle)


def genesis_from_config(config: NodeConfig, faucet: Keypair | None) -> list[tuple[Pubkey, Account]]:
    """Return the funded accounts at genesis: the faucet and the configured list."""
    accounts: list[tuple[Pubkey, Account]] = []
    if faucet is not None:
        accounts.append(
            (faucet.pubkey(), Account(config.faucet_lamports, b"", SYSTEM_PROGRAM, False, 0))
        )
    if config.genesis_accounts:
        try:
            listed = json.loads(Path(config.genesis_accounts).read_text())
            for item in listed:
                key = Pubkey.from_string(item["pubkey"])
                accounts.append(
                    (key, Account(int(item["lamports"]), b"", SYSTEM_PROGRAM, False, 0))
                )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                "genesis_accounts", f"cannot read {config.genesis_accounts}: {exc}"
            ) from None
    return accounts


def open_storage(config: NodeConfig) -> NodeStorage:
    """Return the configured storage: SQLite in the data directory, or PostgreSQL."""
    if config.storage == "postgres":
        from heliostat.node.storage.postgres import PostgresStorage

        return PostgresStorage(config.postgres_dsn)
    return SqliteStorage(
        Path(config.data_dir) / "node.sqlite", synchronous=config.sqlite_synchronous
    )


def build_executor(name: str, genesis: list[tuple[Pubkey, Account]]) -> SequencerExecutor:
    """Return the executor named in the configuration.

    "runtime" (the default) is heliostat.runtime's `PendingStateExecutor` over its `Runtime`,
    driven by `RuntimeExecutor`; genesis is the runtime's (builtins, sysvars, SPL Token, ATA,
    Memo, the bridge) plus ``genesis`` (the faucet and configured accounts).
    """
    if name == "litesvm-double":
        from heliostat.testing.litesvm_executor import LiteSvmExecutor

        return LiteSvmExecutor(genesis)
    if name != "runtime":
        raise ConfigError("executor", f"unknown executor {name!r}")
    from heliostat.node.runtime_executor import RuntimeExecutor

    return RuntimeExecutor(genesis)


class Node:
    """One running node: call `start`, then `stop`."""

    def __init__(
        self,
        config: NodeConfig,
        executor: SequencerExecutor,
        *,
        executor_name: str,
        keypair: Keypair,
        faucet: Keypair | None = None,
        prover_queue: ProverQueue | None = None,
    ) -> None:
        self.config = config
        self.executor = executor
        self.executor_name = executor_name
        self.faucet = faucet
        self.metrics = Metrics()
        self.storage = open_storage(config)
        self.sequencer = Sequencer(
            executor,
            self.storage,
            keypair,
            SequencerConfig(
                slot_ms=config.slot_ms,
                mempool_capacity=config.mempool_capacity,
                per_sender_limit=config.per_sender_limit,
                batch=BatchPolicy(
                    config.batch_max_transactions,
                    config.batch_max_compute_units,
                    config.batch_max_bytes,
                    config.batch_max_age_s,
                ),
                chain_name=config.chain_name,
            ),
            prover_queue,
        )
        self._declare_metrics()
        from heliostat.node.rpc.server import RpcServer

        self.rpc = RpcServer(self)

    @classmethod
    def from_config(cls, config: NodeConfig) -> Node:
        """Production wiring: keys from files (created on first start), executor by name."""
        key_path = Path(config.sequencer_key or Path(config.data_dir) / "sequencer-key.json")
        if not key_path.exists() and not config.sequencer_key:
            save_keypair(Keypair(), key_path)
        keypair = load_keypair(key_path)
        faucet = load_keypair(config.faucet_key) if config.faucet_key else None
        genesis = genesis_from_config(config, faucet)
        executor = build_executor(config.executor, genesis)
        return cls(config, executor, executor_name=config.executor, keypair=keypair, faucet=faucet)

    def _declare_metrics(self) -> None:
        m = self.metrics
        seq = self.sequencer
        m.counter("heliostat_transactions_total", "Submitted transactions by outcome")
        self.latency = m.histogram(
            "heliostat_soft_confirmation_seconds",
            "Time from admission to durable soft confirmation",
        )
        m.gauge("heliostat_slot", "The open slot", lambda: seq.open.slot)
        m.gauge(
            "heliostat_confirmed_slot",
            "The newest durable sealed slot",
            lambda: seq.durable_sealed_slot,
        )
        m.gauge("heliostat_mempool_transactions", "Transactions waiting", lambda: len(seq.mempool))
        m.gauge("heliostat_entries_total", "Entries ordered since genesis", lambda: seq.next_seq)
        m.gauge("heliostat_next_batch", "Number of the next batch to seal", lambda: seq.next_batch)
        m.gauge("heliostat_process_cpu_seconds", "CPU time of the node process", time.process_time)
        # Scraped on the event loop's thread, so this is the loop's own CPU time.
        m.gauge("heliostat_loop_cpu_seconds", "CPU time of the event loop thread", time.thread_time)
        m.gauge(
            "heliostat_executor_cpu_seconds",
            "Event-loop CPU time spent executing transactions",
            lambda: seq.executor_cpu_seconds,
        )
        m.gauge("heliostat_executor_runs", "Executor calls (groups)", lambda: seq.executor_runs)

    async def start(self) -> None:
        """Start the sequencer and listen on the HTTP port and port + 1."""
        await self.sequencer.start()
        await self.rpc.start(self.config.host, self.config.port, self.config.ws_port)
        log.info(
            "node started",
            extra={
                "fields": {
                    "http": f"{self.config.host}:{self.config.port}",
                    "ws_port": self.config.ws_port,
                    "executor": self.executor_name,
                    "slot": self.sequencer.open.slot,
                    "sequencer": str(self.sequencer.keypair.pubkey()),
                }
            },
        )

    async def stop(self) -> None:
        """Stop listening, drain the sequencer to storage, close storage."""
        await self.rpc.stop()
        await self.sequencer.stop()
        self.storage.close()

    async def submit(
        self, tx: VersionedTransaction, wire: bytes, *, preflight: bool
    ) -> Confirmation:
        """Submit and wait for the durable soft confirmation; refusals become RPC errors."""
        from heliostat.node.rpc.tx_methods import refusal_to_rpc

        started = time.perf_counter()
        try:
            confirmation = await self.sequencer.submit(tx, wire, preflight=preflight)
        except AdmissionError as exc:
            self.metrics.inc("heliostat_transactions_total", result=exc.reason)
            raise refusal_to_rpc(exc) from None
        self.latency.observe(time.perf_counter() - started)
        outcome = "ok" if confirmation.entry.err is None else "failed"
        self.metrics.inc("heliostat_transactions_total", result=outcome)
        return confirmation

    def durable_blockhash(self) -> BlockRecord:
        """Return the newest sealed block already on disk (safe to hand to clients)."""
        for block in reversed(self.sequencer.sealed.values()):
            if block.slot <= self.sequencer.durable_sealed_slot:
                return block
        return self.sequencer.last_sealed

    def update_batch(
        self, number: int, status: BatchStatus, proof: bytes | None = None, l1_tx: str | None = None
    ) -> None:
        """Prover / L1 progress on a batch; finalization wakes signature subscriptions."""
        self.sequencer.update_batch(number, status, proof, l1_tx)
        self.rpc.hub.recheck_signatures()


def tune_process() -> None:
    """Set up the node's process before its event loop starts (see docs/node.md, Performance).

    uvloop, when installed, runs the event loop and sockets in C. The GIL switch interval is
    shortened because the storage writer thread releases the GIL around every SQLite step and
    signature, and each time waits for the busy event loop to hand it back: 5 ms by default,
    which would be the soft-confirmation latency's floor under load.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        import uvloop
    except ImportError:  # optional: the standard loop works, a little slower
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def run_forever(node: Node) -> None:
    """Run until cancelled (SIGINT / SIGTERM), then stop cleanly."""
    await node.start()
    try:
        await asyncio.Event().wait()
    finally:
        await node.stop()
