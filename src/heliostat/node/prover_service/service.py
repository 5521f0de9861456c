"""The prover service: a durable queue of proof jobs handed to workers, with retries and timeouts.

A dispatcher thread gives queued jobs to idle workers, collects their answers, verifies every
artifact before storing it, and calls ``on_proved(job_id, artifact)``. A job whose worker dies
or exceeds ``timeout_s`` is queued again for any worker; a job that fails ``max_attempts``
times (a payload no worker can prove, or proofs the verifier keeps rejecting) is marked
failed with the last error, and the service carries on with the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from heliostat.node.prover_service.jobs import (
    JobFormatError,
    JobRejectedError,
    ProofArtifact,
    ProofRequest,
    kind_of,
)
from heliostat.node.prover_service.queue import Job, JobQueue, JobState
from heliostat.node.prover_service.workers import LocalWorker, Worker, WorkerEvent

log = logging.getLogger("heliostat.prover")


@dataclass(frozen=True)
class ServiceConfig:
    """Retries, timeouts and the dispatcher's tick."""

    max_attempts: int = 3
    timeout_s: float = 3600.0
    tick_s: float = 0.05


class ProverService:
    """Jobs in ``queue`` proven by ``workers``; start() runs the dispatcher thread."""

    def __init__(
        self,
        queue: JobQueue,
        workers: Sequence[Worker],
        config: ServiceConfig | None = None,
        on_proved: Callable[[int, ProofArtifact], None] | None = None,
    ) -> None:
        self.queue = queue
        self.workers = list(workers)
        self.config = config or ServiceConfig()
        self.on_proved = on_proved
        self._started: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def local(
        cls,
        path: str | Path,
        workers: int = 1,
        config: ServiceConfig | None = None,
        on_proved: Callable[[int, ProofArtifact], None] | None = None,
    ) -> ProverService:
        """Return a service over a queue file with ``workers`` local worker processes."""
        pool = [LocalWorker(f"local-{i}") for i in range(workers)]
        return cls(JobQueue(path), pool, config, on_proved)

    def submit(self, job_id: int, request: ProofRequest) -> bool:
        """Queue a job (checked to be of a known kind); False if it was already queued."""
        kind_of(request)
        return self.queue.submit(job_id, request.to_bytes())

    def start(self) -> None:
        """Run the dispatcher in a background thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="prover-dispatch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop dispatching and the workers; running jobs go back to the queue on next open."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        for worker in self.workers:
            close = getattr(worker, "close", None)
            if close is not None:
                close()
        self.queue.close()

    def wait(self, job_id: int, timeout_s: float) -> Job:
        """Block until a job is proved or failed; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_s
        while True:
            job = self.queue.get(job_id)
            if job.state in (JobState.PROVED, JobState.FAILED):
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.state.value} after {timeout_s} s")
            time.sleep(self.config.tick_s)

    def step(self) -> None:
        """One round of the dispatcher: collect answers, enforce timeouts, hand out jobs."""
        now = time.monotonic()
        for worker in self.workers:
            if worker.busy:
                event = worker.poll()
                if event is not None:
                    self._settle(worker, event)
                elif now - self._started.get(worker.name, now) > self.config.timeout_s:
                    log.warning("worker %s timed out; killing it", worker.name)
                    worker.kill()
        for worker in self.workers:
            if not worker.busy:
                job = self.queue.claim(worker.name)
                if job is None:
                    break
                worker.start(job.job_id, job.request)
                self._started[worker.name] = time.monotonic()
                log.info("job %d (attempt %d) on %s", job.job_id, job.attempts, worker.name)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # the dispatcher must outlive any one job's surprise
                log.exception("prover dispatcher step failed")
            self._stop.wait(self.config.tick_s)

    def _settle(self, worker: Worker, event: WorkerEvent) -> None:
        job = self.queue.get(event.job_id)
        if event.kind == "done" and event.artifact is not None:
            try:
                request = ProofRequest.from_bytes(job.request)
                artifact = ProofArtifact.from_bytes(event.artifact)
                kind_of(request).verify(request, artifact)
            except (JobFormatError, JobRejectedError) as err:
                self._retry(event.job_id, f"{worker.name}: {err}")
                return
            self.queue.complete(event.job_id, event.artifact)
            log.info("job %d proved by %s", event.job_id, worker.name)
            if self.on_proved is not None:
                self.on_proved(event.job_id, artifact)
            return
        self._retry(event.job_id, f"{worker.name} ({event.kind}): {event.error}")

    def _retry(self, job_id: int, error: str) -> None:
        state = self.queue.retry_or_fail(job_id, error, self.config.max_attempts)
        log.warning("job %d: %s -> %s", job_id, error.strip().splitlines()[-1], state.value)
