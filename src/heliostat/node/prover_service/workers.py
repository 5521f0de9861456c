"""Prover workers: local processes by default, Ray actors when a cluster is configured.

A worker proves one job at a time. The service talks to every kind of worker through the
same three calls — `start(job_id, request)`, `poll()`, `kill()` — and learns of a job's end
from `poll()`: done (artifact bytes), error (the job itself failed, e.g. a malformed payload)
or lost (the worker died or was killed: the job is someone else's to prove). A lost worker is
replaced on its next `start`.

Local workers are `multiprocessing` "spawn" processes (a fresh interpreter: no forked locks
or numba state), fed over a pipe with bytes only.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import traceback
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from heliostat.node.prover_service.jobs import run_job

EventKind = Literal["done", "error", "lost"]


@dataclass(frozen=True)
class WorkerEvent:
    """The end of a job on a worker."""

    kind: EventKind
    job_id: int
    artifact: bytes | None = None
    error: str | None = None


class Worker(Protocol):
    """What the service needs of a worker."""

    name: str

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        ...

    def start(self, job_id: int, request: bytes) -> None:
        """Begin proving ``request``."""
        ...

    def poll(self) -> WorkerEvent | None:
        """Return how the running job ended, or None while it runs."""
        ...

    def kill(self) -> None:
        """Stop the worker at once (the running job, if any, is reported lost)."""
        ...


def _worker_main(conn: multiprocessing.connection.Connection) -> None:
    """Loop of a local worker process: receive (job id, request), answer with the result."""
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        job_id, request = message
        try:
            conn.send(("done", job_id, run_job(request)))
        except Exception:  # any failure of the job is reported; the worker lives on
            conn.send(("error", job_id, traceback.format_exc(limit=8)))


class LocalWorker:
    """One local worker process, started on first use and again after it is lost."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._job: int | None = None

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        return self._job is not None

    @property
    def pid(self) -> int | None:
        """The worker process's pid, if it runs."""
        return None if self._process is None else int(self._process.pid)

    def _ensure_process(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_worker_main, args=(child,), name=f"heliostat-prover-{self.name}", daemon=True
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent

    def start(self, job_id: int, request: bytes) -> None:
        """Send a job to the process (starting one if needed)."""
        self._ensure_process()
        assert self._conn is not None
        self._conn.send((job_id, request))
        self._job = job_id

    def poll(self) -> WorkerEvent | None:
        """Return how the running job ended, or None while it runs."""
        if self._job is None or self._conn is None:
            return None
        job_id = self._job
        try:
            if self._conn.poll():
                kind, answered, payload = self._conn.recv()
                if answered == job_id:
                    self._job = None
                    if kind == "done":
                        return WorkerEvent("done", job_id, artifact=payload)
                    return WorkerEvent("error", job_id, error=str(payload))
        except (EOFError, OSError):
            pass  # the pipe broke: the process is gone
        if not self._process.is_alive():
            self._job = None
            self._process = None
            return WorkerEvent("lost", job_id, error="worker process exited")
        return None

    def kill(self) -> None:
        """Kill the process; the running job is reported lost by the next poll."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    def close(self) -> None:
        """Stop the process politely, then firmly."""
        if self._process is None:
            return
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send(None)
        self._process.join(2)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(2)
        self._process = None


class RayWorker:
    """One Ray actor proving jobs; replaced after it dies. Needs `ray.init` done by the caller."""

    def __init__(self, name: str, num_cpus: float = 1) -> None:
        self.name = name
        self._num_cpus = num_cpus
        self._actor: Any = None
        self._pid: int | None = None
        self._ref: Any = None
        self._job: int | None = None

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        return self._job is not None

    @property
    def pid(self) -> int | None:
        """The pid of the actor's process, if it runs.

        Asked when the actor starts: an actor answers one call at a time, so it could not say
        while proving.
        """
        return self._pid

    def _ensure_actor(self) -> None:
        import ray

        if self._actor is None:
            self._actor = _ray_actor_class().options(num_cpus=self._num_cpus).remote()
            self._pid = int(ray.get(self._actor.pid.remote()))

    def start(self, job_id: int, request: bytes) -> None:
        """Hand a job to the actor (creating one if needed)."""
        self._ensure_actor()
        self._ref = self._actor.prove.remote(request)
        self._job = job_id

    def poll(self) -> WorkerEvent | None:
        """Return how the running job ended, or None while it runs."""
        import ray
        from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

        if self._job is None:
            return None
        ready, _ = ray.wait([self._ref], timeout=0)
        if not ready:
            return None
        job_id, self._job = self._job, None
        try:
            return WorkerEvent("done", job_id, artifact=ray.get(self._ref))
        except RayTaskError as err:
            return WorkerEvent("error", job_id, error=str(err)[-4000:])
        except (RayActorError, WorkerCrashedError) as err:
            self._actor = self._pid = None
            return WorkerEvent("lost", job_id, error=f"ray worker lost: {type(err).__name__}")

    def kill(self) -> None:
        """Kill the actor; the running job is reported lost by the next poll."""
        import ray

        if self._actor is not None:
            ray.kill(self._actor, no_restart=True)

    def close(self) -> None:
        """Release the actor."""
        self.kill()
        self._actor = None


_RAY_ACTOR: Any = None


def _ray_actor_class() -> Any:
    """Return the Ray actor class, defined on first use: importing this module needs no Ray."""
    global _RAY_ACTOR
    if _RAY_ACTOR is None:
        import ray

        class ProverActor:
            def prove(self, request: bytes) -> bytes:
                return run_job(request)

            def pid(self) -> int:
                return os.getpid()

        _RAY_ACTOR = ray.remote(max_restarts=0, max_task_retries=0)(ProverActor)
    return _RAY_ACTOR
