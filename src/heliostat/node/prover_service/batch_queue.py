"""The node's `ProverQueue` over the prover service: each sealed batch becomes a "batch" job.

`submit` (called by the sequencer once a batch is durable) only hands the record to a thread,
so the sequencer never waits. That thread builds the runtime's batch from storage
(`BatchBuilder`: blocks, deposits, the state witness against the previous root; the kernel's
new root must be the root the node sealed) and queues it in the prover service under the
batch's number. The service's durable queue makes a restart safe: `catch_up` rebuilds every
sealed batch (natively, to bring the builder's tree forward) and re-submits them; jobs already
queued or proven are left as they are.

Progress goes to ``on_event(BatchEvent)``: built (the public output L1 needs), proved (the
verified artifact), failed (a job that exhausted its attempts, e.g. a batch the zkVM cannot
prove yet) and refused (a batch the runtime does not reproduce: never sent to a prover).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from heliostat.node.prover_service.batch_builder import BatchBuilder, BuiltBatch
from heliostat.node.prover_service.batch_job import KIND
from heliostat.node.prover_service.jobs import ProofArtifact, ProofRequest
from heliostat.node.prover_service.queue import JobState, UnknownJobError
from heliostat.node.prover_service.service import ProverService
from heliostat.node.storage.interface import BatchRecord
from heliostat.primitives.errors import HeliostatError

log = logging.getLogger("heliostat.prover.batches")
FAILURE_POLL_S = 0.5
EventKind = Literal["built", "proved", "failed", "refused"]


@dataclass(frozen=True)
class BatchEvent:
    """Something that happened to a batch on its way to a proof."""

    kind: EventKind
    number: int
    built: BuiltBatch | None = None
    artifact: ProofArtifact | None = None
    error: str | None = None


class ServiceProverQueue:
    """`ProverQueue` feeding a `ProverService` (see the module docstring)."""

    def __init__(
        self,
        builder: BatchBuilder,
        service: ProverService,
        on_event: Callable[[BatchEvent], None],
        *,
        config: str = "default",
        kind: str = KIND,
    ) -> None:
        self.builder = builder
        self.service = service
        self.on_event = on_event
        self.config = config
        self.kind = kind
        self.built: dict[int, BuiltBatch] = {}
        self.refused: dict[int, str] = {}
        self._inbox: queue.Queue[BatchRecord | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._reported: set[int] = set()

    # -- ProverQueue --------------------------------------------------------------------

    def submit(self, batch: BatchRecord) -> None:
        """Take a sealed, durable batch (from the sequencer); built on the queue's thread."""
        self._inbox.put(batch)

    # -- life ---------------------------------------------------------------------------

    def catch_up(self, records: list[BatchRecord]) -> None:
        """Build and (re)submit batches sealed before a restart, in order (call before start)."""
        for record in records:
            self._take(record)
        for record in records:
            self._report_finished(record.number)

    def start(self) -> None:
        """Start the building thread and the prover service."""
        self.service.on_proved = self._proved
        self.service.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="batch-builder", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (batches still in its inbox are rebuilt by the next catch_up)."""
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        self.service.stop()

    def poll_failures(self) -> None:
        """Report jobs the service gave up on (called from time to time by the owner)."""
        for number in sorted(self.built):
            if number not in self._reported:
                self._report_finished(number, only_failures=True)

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                record = self._inbox.get(timeout=FAILURE_POLL_S)
            except queue.Empty:
                self.poll_failures()  # the service has no callback for a job it gave up on
                continue
            if record is None:
                return
            try:
                self._take(record)
            except Exception:  # the builder must outlive one batch's surprise
                log.exception("building batch %d failed", record.number)

    def _take(self, record: BatchRecord) -> None:
        if record.number < self.builder.next_number or record.number in self.refused:
            return  # built already (a catch-up raced the sequencer's own submit)
        if self.refused:
            # the builder's state stopped at a refused batch: later ones cannot be built
            self.refused[record.number] = f"batch {min(self.refused)} before it was refused"
            self.on_event(BatchEvent("refused", record.number, error=self.refused[record.number]))
            return
        try:
            built = self.builder.build(record)
        except HeliostatError as err:
            self.refused[record.number] = str(err)
            log.error("batch %d cannot be proven: %s", record.number, err)
            self.on_event(BatchEvent("refused", record.number, error=str(err)))
            return
        self.built[record.number] = built
        request = ProofRequest(self.kind, self.config, built.payload.to_bytes())
        self.service.submit(record.number, request)
        self.on_event(BatchEvent("built", record.number, built=built))

    def _proved(self, job_id: int, artifact: ProofArtifact) -> None:
        self._reported.add(job_id)
        self.on_event(BatchEvent("proved", job_id, built=self.built.get(job_id), artifact=artifact))

    def _report_finished(self, number: int, *, only_failures: bool = False) -> None:
        try:
            job = self.service.queue.get(number)
        except UnknownJobError:
            return
        if job.state is JobState.FAILED:
            self._reported.add(number)
            self.on_event(BatchEvent("failed", number, error=_last_line(job.error)))
        elif job.state is JobState.PROVED and not only_failures and job.artifact is not None:
            self._proved(number, ProofArtifact.from_bytes(job.artifact))


def _last_line(error: str | None) -> str:
    """Return the last non-empty line of a worker's traceback: the exception and message."""
    lines = [line for line in (error or "unknown error").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"
