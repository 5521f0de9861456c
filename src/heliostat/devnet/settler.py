"""The devnet's L1 loop: priority operations in from the rollup's queue, batches out to L1.

One thread runs `Settler.step` every ``interval_s``: the `L1Watcher` reports newly confirmed
priority operations (deposits and forced transactions go to the node, in L1 order); proofs
that arrived since the last step are put on record with the batch verifier (`ProofPoster`);
then `BatchSubmitter` sends
the transactions the lifecycle needs — commit a built batch, prove a committed one whose
proof is posted, execute a proven one — until none is left. Every step re-reads the chain,
so a restarted settler neither repeats nor skips one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from heliostat.devnet.l1 import ProofNotBindableError, ProofPoster
from heliostat.primitives.errors import HeliostatError
from heliostat.runtime.interface import BatchPublicOutput, PriorityOperation
from heliostat.settlement.batch_submitter import BatchSubmitter
from heliostat.settlement.l1_watcher import L1Watcher

log = logging.getLogger("heliostat.devnet.l1")


@dataclass(frozen=True)
class L1Progress:
    """A batch moved on L1: ``step`` is committed, proved or executed."""

    number: int
    step: str
    l1_transaction: str


class Settler:
    """Everything between the node and the rollup contract (see the module docstring)."""

    def __init__(
        self,
        submitter: BatchSubmitter,
        watcher: L1Watcher,
        poster: ProofPoster,
        *,
        on_priority: Callable[[list[PriorityOperation]], None],
        on_progress: Callable[[L1Progress], None],
        on_error: Callable[[str], None] = lambda _: None,
        on_unpostable: Callable[[int, ProofNotBindableError], None] = lambda _n, _e: None,
        from_block: int = 0,
        interval_s: float = 0.25,
    ) -> None:
        self.submitter = submitter
        self.watcher = watcher
        self.poster = poster
        self.on_priority = on_priority
        self.on_progress = on_progress
        self.on_error = on_error
        self.on_unpostable = on_unpostable
        self.from_block = from_block
        self.interval_s = interval_s
        self.outputs: dict[int, BatchPublicOutput] = {}
        self.proofs: dict[int, bytes] = {}  # proveBatch's argument, once the proof is posted
        self._artifacts: dict[int, bytes] = {}  # proofs to post
        self.unpostable: dict[int, ProofNotBindableError] = {}  # proofs L1 cannot check
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error = ""

    @property
    def contract(self) -> Contract:
        """The rollup contract."""
        return self.submitter.contract

    # -- inputs (any thread) ------------------------------------------------------------

    def add_output(self, number: int, output: BatchPublicOutput) -> None:
        """Take a batch built by the prover queue: it can be committed."""
        with self._lock:
            self.outputs[number] = output

    def add_proof(self, number: int, proof: bytes) -> None:
        """Take a verified proof of a batch: it can be posted and the batch proven."""
        with self._lock:
            self._artifacts[number] = proof

    # -- the loop -----------------------------------------------------------------------

    def start(self) -> None:
        """Run `step` in a background thread until `stop`."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="devnet-l1", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current step (an L1 transaction in flight is waited for)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(120)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
                self._last_error = ""
            except Exception as err:  # the loop must outlive one step's failure (RPC hiccup)
                message = f"L1 step failed: {err}"
                if message != self._last_error:  # say it once, not every quarter second
                    log.warning(message)
                    self.on_error(message)
                self._last_error = message
            self._stop.wait(self.interval_s)

    def step(self) -> list[L1Progress]:
        """One round: priority operations in, proofs posted, lifecycle transactions out."""
        polled = self.watcher.poll()
        if polled.retracted:
            log.warning("L1 reorg retracted priority operations %s", polled.retracted)
        operations = [o.operation for o in polled.confirmed]
        if operations:
            self.on_priority(operations)
        with self._lock:
            outputs = dict(self.outputs)
            to_post = {n: p for n, p in self._artifacts.items() if n not in self.proofs}
        for number, proof in sorted(to_post.items()):
            if number not in outputs or number in self.unpostable:
                continue
            try:
                posted = self.poster.post(number, outputs[number], proof)
            except ProofNotBindableError as err:  # the same every time: say it once
                self.unpostable[number] = err
                self.on_unpostable(number, err)
                continue
            with self._lock:
                self.proofs[number] = posted
        done = []
        while not self._stop.is_set():
            with self._lock:
                proofs = dict(self.proofs)
            action = self.submitter.step(outputs, proofs)
            if not action:
                break
            step, number_text = action.split()
            number = int(number_text)
            progress = L1Progress(number, step, self._transaction_of(step, number))
            done.append(progress)
            self.on_progress(progress)
        return done

    def _transaction_of(self, step: str, number: int) -> str:
        """Return the hash of the L1 transaction that just committed/proved/executed a batch."""
        events: dict[str, Any] = {
            "committed": self.contract.events.BatchCommitted,
            "proved": self.contract.events.BatchProven,
            "executed": self.contract.events.BatchExecuted,
        }
        logs = events[step]().get_logs(
            from_block=self.from_block, argument_filters={"number": number}
        )
        return Web3.to_hex(logs[-1]["transactionHash"]) if logs else ""


def describe(err: BaseException) -> str:
    """One line for a person: the error's message without a traceback."""
    if isinstance(err, HeliostatError):
        return str(err)
    return f"{type(err).__name__}: {err}"
