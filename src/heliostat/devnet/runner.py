"""The devnet assembled: anvil, the rollup contracts, the node, the prover service, the L1 loop.

Everything lives in one directory: ``anvil-state.json`` (the L1 chain, dumped every two
seconds and at exit), ``l1.json`` (where the contracts are), ``operator.json`` (the L1 key that
commits, proves and executes), ``faucet.json`` (the L2 faucet), ``node/`` (the node's SQLite
database and sequencer key) and ``proofs.sqlite`` (the prover service's durable job queue).
Starting again on the same directory resumes: anvil loads its state, the deployment is reused,
the node recovers, every sealed batch is rebuilt and its proof job re-queued (proofs already
made are kept), and the L1 loop continues from the chain's own counters.

`Devnet.run(stop)` starts everything, prints the endpoints and keys, reports each batch's way
to L1 finality, and shuts down in order when ``stop`` is set: the L1 loop (after its current
transaction), the prover queue and service, the node (drained to disk), then anvil (state
dumped). Settings and the well-known keys are in `heliostat.devnet.config`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account as EthAccount
from eth_account.signers.local import LocalAccount
from solders.keypair import Keypair
from web3 import Web3
from web3.types import Wei

from heliostat.devnet.config import (
    BatchNotProvenError,
    DevnetConfig,
    anvil_key,
    free_port_pair,
)
from heliostat.devnet.l1 import Deployment, ProofPoster, StarkProofPoster, deploy_rollup
from heliostat.devnet.progress import ProofProgress
from heliostat.devnet.settler import L1Progress, Settler
from heliostat.devnet.workers import DevnetWorker
from heliostat.node.prover_service.batch_builder import BatchBuilder
from heliostat.node.prover_service.batch_job import KIND, decode_artifact_proof
from heliostat.node.prover_service.batch_queue import BatchEvent, ServiceProverQueue
from heliostat.node.prover_service.service import ProverService, ServiceConfig
from heliostat.node.prover_service.workers import Worker
from heliostat.node.storage.interface import BatchRecord, BatchStatus
from heliostat.runtime.interface import Deposit, PriorityOperation
from heliostat.settlement.anvil import Anvil
from heliostat.settlement.batch_submitter import BatchSubmitter
from heliostat.settlement.l1_sender import FeePolicy, L1Sender
from heliostat.settlement.l1_watcher import L1Watcher

log = logging.getLogger("heliostat.devnet")
GWEI = 10**9
OPERATOR_FUNDING_WEI = 1_000 * 10**18
STATUS_ORDER = {s: i for i, s in enumerate(BatchStatus)}


@dataclass
class BatchTimes:
    """When a batch passed each step (monotonic seconds), for the printed timings."""

    sealed: float
    transactions: int = 0
    steps: dict[str, float] = field(default_factory=dict)


class Devnet:
    """One devnet (see the module docstring)."""

    def __init__(
        self,
        config: DevnetConfig,
        *,
        verifier: str = "stark",
        workers: Sequence[Worker] | None = None,
        job_kind: str = KIND,
        poster: Callable[[Web3, Deployment, LocalAccount], ProofPoster] | None = None,
        out: Callable[[str], None] = print,
    ) -> None:
        """Set up (nothing starts yet); the keyword arguments are for tests of the plumbing.

        Production: the generated zkVM verifier, local worker processes, the "batch" job kind
        (`Runtime.prove_batch`), STARKs recorded on chain before `proveBatch`.
        """
        self.config = config
        self.verifier = verifier
        self._workers = workers
        self.job_kind = job_kind
        self._poster = poster or StarkProofPoster
        self.out = out
        self.anvil: Anvil | None = None
        self.node: Any = None
        self.queue: ServiceProverQueue | None = None
        self.settler: Settler | None = None
        self.deployment: Deployment | None = None
        self.w3: Web3 | None = None
        self.faucet: Keypair | None = None
        self.times: dict[int, BatchTimes] = {}
        self.events: list[tuple[int, str]] = []  # (batch, step) in the order they happened
        self.failures: dict[int, Exception] = {}  # batches that cannot reach L1 finality, why
        self._loop: asyncio.AbstractEventLoop | None = None
        self._priority: asyncio.Queue[PriorityOperation] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False
        self._node_started = False
        self.progress: ProofProgress | None = None

    # -- paths --------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """Return a file or directory inside the devnet's directory."""
        return self.config.data_dir / name

    @property
    def rpc_url(self) -> str:
        """The node's JSON-RPC endpoint."""
        return f"http://{self.config.host}:{self.node.config.port}"

    @property
    def ws_url(self) -> str:
        """The node's websocket endpoint."""
        return f"ws://{self.config.host}:{self.node.config.ws_port}"

    @property
    def explorer_url(self) -> str:
        """The explorer page served by the node."""
        return f"http://{self.config.host}:{self.node.config.ws_port}/explorer"

    # -- start and stop -----------------------------------------------------------------

    async def start(self) -> None:
        """Start anvil, deploy (or reuse) the contracts, start the node, prover and L1 loop.

        If any piece fails to start, the ones already running are stopped before the error
        is raised.
        """
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        from heliostat.node.app import Node, genesis_from_config, load_keypair, save_keypair
        from heliostat.node.config import load_config

        self._loop = asyncio.get_running_loop()
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        faucet_path = self.path("faucet.json")
        if not faucet_path.exists():
            save_keypair(Keypair(), faucet_path)
        self.faucet = load_keypair(faucet_path)
        self._start_anvil()
        assert self.anvil is not None
        self.w3 = self.anvil.web3()

        node_config = load_config(
            environ={},
            overrides={
                "host": cfg.host,
                "port": cfg.port or free_port_pair(cfg.host),
                "data_dir": str(self.path("node")),
                "slot_ms": cfg.slot_ms,
                "batch_max_age_s": cfg.batch_max_age_s,
                "batch_max_transactions": cfg.batch_max_transactions,
                "faucet_key": str(faucet_path),
                "faucet_lamports": cfg.faucet_lamports,
                "log_level": "WARNING",
            },
        )
        self.node = Node.from_config(node_config)
        builder = BatchBuilder(self.node.storage, genesis_from_config(node_config, self.faucet))
        operator = self._operator()
        # contract deployment and role calls from the operator are signed here (anvil holds
        # only its own default keys)
        from web3.middleware import SignAndSendRawMiddlewareBuilder

        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(operator), layer=0)
        self.deployment = self._deployment(builder.root, operator.address)

        service = ProverService(
            _job_queue(self.path("proofs.sqlite")),
            list(self._workers) if self._workers is not None else
            [DevnetWorker(f"local-{i}") for i in range(cfg.workers)],
            ServiceConfig(max_attempts=cfg.prover_attempts, timeout_s=cfg.prover_timeout_s),
        )  # fmt: skip
        self.progress = ProofProgress(service.queue, self.out)
        self.queue = ServiceProverQueue(
            builder, service, self._batch_event, config=cfg.proof_config, kind=self.job_kind
        )
        self.node.sequencer.prover_queue = self.queue
        contract = self.deployment.contract(self.w3)
        sender = L1Sender(self.w3, operator, FeePolicy(stuck_after_s=30.0), poll_s=0.05)
        self.settler = Settler(
            BatchSubmitter(sender, contract, bytes.fromhex(self.deployment.genesis_root)),
            L1Watcher(self.w3, contract, confirmations=cfg.confirmations,
                      start_block=self.deployment.deployed_block),
            self._poster(self.w3, self.deployment, operator),
            on_priority=self._priority_seen,
            on_progress=self._l1_progress,
            on_error=lambda message: self.out(f"L1: {message}"),
            on_unpostable=self._unpostable,
            from_block=self.deployment.deployed_block,
        )  # fmt: skip

        sealed = _sealed_batches(self.node.storage)
        if sealed:
            self.out(f"resuming: {len(sealed)} sealed batches rebuilt and re-queued")
        self.queue.catch_up(sealed)
        self._priority = asyncio.Queue()
        await self.node.start()
        self._node_started = True
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._feed_priority()))
        self._tasks.append(loop.create_task(self._show_progress()))
        self.queue.start()
        self.settler.start()

    async def stop(self) -> None:
        """Shut down in order; safe to call after a partial start."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # shutting down
                await task
        self._tasks = []
        # The threads that read the node's storage stop before the node closes it; a batch the
        # node seals while it stops waits in storage for the next start's catch-up. Each step
        # runs even if one before it failed, and anvil is always stopped last.
        self._closing = True
        try:
            if self.settler is not None:
                await asyncio.to_thread(self.settler.stop)
            if self.queue is not None:
                await asyncio.to_thread(self.queue.stop)
        finally:
            try:
                if self.node is not None and self._node_started:
                    await self.node.stop()
                elif self.node is not None:
                    self.node.storage.close()
            finally:
                if self.anvil is not None:
                    self.anvil.stop()
                    self.anvil = None

    async def run(self, stop: asyncio.Event) -> None:
        """Start, print the endpoints, run until ``stop`` is set, then stop."""
        try:
            await self.start()
            self.out(self.banner())
            await stop.wait()
        finally:
            self.out("shutting down: L1 loop, prover, node, anvil")
            await self.stop()
            self.out("stopped cleanly")

    # -- pieces -------------------------------------------------------------------------

    def _start_anvil(self) -> None:
        extra = ["--state", str(self.path("anvil-state.json")), "--state-interval", "2"]
        if self.config.l1_block_time_s > 0:
            extra += ["--block-time", str(self.config.l1_block_time_s)]
        # a zkVM proof is verified in one call: no EIP-7825 cap, a large block; the generated
        # zkVM verifier is larger than EIP-170's 24 KiB since the Keccak tables joined the
        # machine (docs/devnet.md), so the devnet's chain lifts the code size limit too
        extra.append("--disable-code-size-limit")
        self.anvil = Anvil(
            block_gas_limit=1 << 30, tx_gas_cap=False, extra_args=tuple(extra),
            die_with_parent=True,  # called on the event loop's (main) thread
        )  # fmt: skip
        self.anvil.start()

    def _operator(self) -> LocalAccount:
        """Return the L1 key that commits, proves and executes (made and funded at first start)."""
        path = self.path("operator.json")
        if path.exists():
            account: LocalAccount = EthAccount.from_key(json.loads(path.read_text())["key"])
        else:
            account = EthAccount.create()
            path.write_text(json.dumps({"address": account.address, "key": account.key.hex()}))
            path.chmod(0o600)
        assert self.w3 is not None
        if self.w3.eth.get_balance(account.address) < OPERATOR_FUNDING_WEI // 10:
            funder = self.w3.eth.accounts[0]
            tx = self.w3.eth.send_transaction(
                {"from": funder, "to": account.address, "value": Wei(OPERATOR_FUNDING_WEI)}
            )
            self.w3.eth.wait_for_transaction_receipt(tx)
        return account

    def _deployment(self, genesis_root: bytes, operator: str) -> Deployment:
        assert self.w3 is not None
        path = self.path("l1.json")
        if path.exists():
            deployment = Deployment.load(path)
            deployment.contract(self.w3)  # the chain still has it
            if deployment.genesis_root != genesis_root.hex():
                from heliostat.devnet.l1 import DeploymentError

                raise DeploymentError(
                    f"{path} was deployed for genesis root {deployment.genesis_root[:16]}…, "
                    f"the node's is {genesis_root.hex()[:16]}…"
                )
            return deployment
        started = time.monotonic()
        self.out("deploying the rollup contracts on anvil …")
        deployment = deploy_rollup(
            self.w3, genesis_root, operator, verifier=self.verifier,
            config=self.config.proof_config, progress=lambda m: self.out(f"  {m}"),
        )  # fmt: skip
        deployment.save(path)
        self.out(f"  deployed in {time.monotonic() - started:.1f} s")
        return deployment

    def banner(self) -> str:
        """Return the endpoints and funded keys, for a person."""
        assert self.anvil is not None and self.deployment is not None and self.faucet is not None
        lines = [
            "Heliostat devnet is running",
            f"  L2 JSON-RPC     {self.rpc_url}",
            f"  L2 websocket    {self.ws_url}",
            f"  explorer        {self.explorer_url}",
            f"  L1 (anvil)      {self.anvil.rpc_url}  chain id {self.deployment.chain_id}",
            f"  rollup          {self.deployment.rollup}  "
            f"(verifier: {self.deployment.verifier_kind})",
            f"  data directory  {self.config.data_dir}",
            "Funded keys",
            f"  L2 faucet       {self.faucet.pubkey()}  keypair {self.path('faucet.json')}",
        ]
        for index in (1, 2, 3):
            key = anvil_key(index)
            lines.append(f"  L1 account {index}    {key.address}  private key 0x{key.key.hex()}")
        lines.append(
            f"Try: heliostat deposit --devnet {self.config.data_dir} --private-key <L1 key> "
            "--to <L2 address or keypair file> --sol 1 --wait"
        )
        lines.append("Ctrl-C stops it; running it again on the same directory resumes.")
        return "\n".join(lines)

    # -- events (from the prover queue's and the L1 loop's threads) -----------------------

    def _call_in_loop(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    def _set_status(self, number: int, status: BatchStatus, proof: bytes | None = None,
                    l1_tx: str | None = None) -> None:  # fmt: skip
        """Move a batch's status forward on the node (never backward)."""
        if self._closing:
            return
        stored = self.node.storage.batch(number)
        if stored is not None and STATUS_ORDER[stored.status] > STATUS_ORDER[status]:
            status = stored.status
        self.node.update_batch(number, status, proof, l1_tx)

    def _mark(self, number: int, step: str, detail: str = "") -> None:
        times = self.times.setdefault(number, BatchTimes(time.monotonic()))
        times.steps[step] = time.monotonic()
        self.events.append((number, step))
        elapsed = times.steps[step] - times.sealed
        self.out(f"batch {number}: {step}{detail} (+{elapsed:.1f} s since sealed)")

    def _batch_event(self, event: BatchEvent) -> None:
        n = event.number
        if event.kind == "built" and event.built is not None:
            assert self.settler is not None
            self.settler.add_output(n, event.built.public_output)
            self.times.setdefault(n, BatchTimes(time.monotonic(), event.built.transactions))
            ops = event.built.public_output.priority_count
            self._mark(n, "sealed and queued for proving",
                       f" ({event.built.transactions} transactions, {ops} from L1)")  # fmt: skip
            self._call_in_loop(self._set_status, n, BatchStatus.PROVING)
            if self.progress is not None:
                self._call_in_loop(self.progress.watch, n, event.built.transactions)
        elif event.kind == "proved" and event.artifact is not None:
            assert self.settler is not None
            proof, _ = decode_artifact_proof(event.artifact)
            self.settler.add_proof(n, proof)
            self._mark(n, "proved", f" ({len(proof)} proof bytes, verified)")
            self._call_in_loop(self._set_status, n, BatchStatus.PROVED, proof)
        elif event.kind == "failed":
            self.failures[n] = BatchNotProvenError(n, event.error or "", reason="not_provable")
            self._mark(n, "NOT PROVABLE YET", f": {event.error}")
        elif event.kind == "refused":
            self.failures[n] = BatchNotProvenError(n, event.error or "", reason="refused")
            self._mark(n, "REFUSED (the runtime does not reproduce it)", f": {event.error}")

    def _l1_progress(self, progress: L1Progress) -> None:
        status = {
            "committed": BatchStatus.COMMITTED,
            "proved": BatchStatus.COMMITTED,
            "executed": BatchStatus.FINALIZED,
        }[progress.step]
        label = {"committed": "committed on L1", "proved": "proven on L1",
                 "executed": "executed on L1 (finalized)"}[progress.step]  # fmt: skip
        self._mark(progress.number, label, f" tx {progress.l1_transaction[:18]}…")
        self._call_in_loop(self._set_status, progress.number, status, None,
                           progress.l1_transaction or None)  # fmt: skip

    def _unpostable(self, number: int, error: Exception) -> None:
        self.failures[number] = error
        self._mark(number, "PROOF NOT ACCEPTED BY L1", f": {error}")

    async def _show_progress(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            if self.progress is not None:
                self.progress.tick()

    def _priority_seen(self, operations: list[PriorityOperation]) -> None:
        for op in operations:
            if self._loop is not None and self._priority is not None:
                self._loop.call_soon_threadsafe(self._priority.put_nowait, op)

    async def _feed_priority(self) -> None:
        """Hand L1 priority operations to the sequencer, each at the start of a batch.

        The kernel runs a batch's priority operations (deposits, forced transactions) before
        its transactions; one is therefore only ordered while the open batch holds nothing but
        priority operations, so the node's order and the proven order are the same.
        """
        from heliostat.node.sequencer.entries import Deposit as NodeDeposit

        assert self._priority is not None
        sequencer = self.node.sequencer
        fed: dict[int, int] = {}  # first seq of the open batch -> operations fed into it
        while True:
            op = await self._priority.get()
            if op.l1_index < sequencer.next_priority_index:
                continue  # applied before a restart
            while True:
                blocks = sequencer.batch_blocks
                start = blocks[0].first_seq if blocks else sequencer.open.first_seq
                # entries beyond the operations fed (executed or still queued first) are
                # transactions
                if sequencer.next_seq - start <= fed.get(start, 0):
                    break
                await asyncio.sleep(sequencer.config.slot_ms / 1000)
            fed[start] = fed.get(start, 0) + 1
            if isinstance(op, Deposit):
                sequencer.submit_deposit(NodeDeposit(op.l1_index, op.recipient, op.lamports))
                self.out(f"deposit {op.l1_index}: {op.lamports / 1e9:g} SOL to "
                         f"{op.recipient} taken from L1")  # fmt: skip
            else:
                sequencer.submit_forced(op)
                self.out(f"forced transaction {op.l1_index} taken from L1")


def _job_queue(path: Path) -> Any:
    from heliostat.node.prover_service.queue import JobQueue

    return JobQueue(path)


def _sealed_batches(storage: Any) -> list[BatchRecord]:
    last = storage.last_batch()
    if last is None:
        return []
    return [storage.batch(n) for n in range(1, last.number + 1)]
