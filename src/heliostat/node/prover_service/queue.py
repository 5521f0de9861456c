"""The durable queue of proof jobs (SQLite): queued → proving → proved, or failed after retries.

One row per job, keyed by a caller-chosen id (the batch number for batches). Every state
change is one committed transaction, so a crash of the service or of a worker loses nothing:
on open, jobs left "proving" by a previous process go back to "queued".
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from heliostat.node.prover_service.jobs import ProverServiceError


class JobState(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    PROVING = "proving"
    PROVED = "proved"
    FAILED = "failed"


class UnknownJobError(ProverServiceError):
    """A job id the queue has never seen."""


class DuplicateJobError(ProverServiceError):
    """A job id submitted twice with a different request."""


@dataclass(frozen=True)
class Job:
    """One row of the queue."""

    job_id: int
    request: bytes
    state: JobState
    attempts: int
    worker: str | None
    artifact: bytes | None
    error: str | None
    submitted_at: float
    started_at: float | None
    finished_at: float | None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS proof_jobs (
    job_id INTEGER PRIMARY KEY,
    request BLOB NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    artifact BLOB,
    error TEXT,
    submitted_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS proof_jobs_state ON proof_jobs (state, job_id);
"""
_COLUMNS = (
    "job_id, request, state, attempts, worker, artifact, error, submitted_at, started_at, "
    "finished_at"
)


class JobQueue:
    """Jobs in SQLite (WAL). Thread-safe: one connection behind a lock."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            # a previous process's workers are gone with it: their jobs start again
            self._db.execute(
                "UPDATE proof_jobs SET state = ?, worker = NULL WHERE state = ?",
                (JobState.QUEUED.value, JobState.PROVING.value),
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def submit(self, job_id: int, request: bytes) -> bool:
        """Queue a job; return False if the same job was already submitted (idempotent)."""
        with self._lock:
            row = self._db.execute(
                "SELECT request FROM proof_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            if row is not None:
                if bytes(row[0]) != request:
                    raise DuplicateJobError(f"job {job_id} exists with another request")
                return False
            self._db.execute(
                "INSERT INTO proof_jobs (job_id, request, state, submitted_at) VALUES (?, ?, ?, ?)",
                (job_id, request, JobState.QUEUED.value, time.time()),
            )
            return True

    def claim(self, worker: str) -> Job | None:
        """Give the oldest queued job to ``worker`` (state proving, one more attempt)."""
        with self._lock:
            row = self._db.execute(
                "SELECT job_id FROM proof_jobs WHERE state = ? ORDER BY job_id LIMIT 1",
                (JobState.QUEUED.value,),
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE proof_jobs SET state = ?, worker = ?, attempts = attempts + 1, "
                "started_at = ? WHERE job_id = ?",
                (JobState.PROVING.value, worker, time.time(), row[0]),
            )
        return self.get(row[0])

    def complete(self, job_id: int, artifact: bytes) -> None:
        """Store a verified artifact (the error of an earlier attempt stays on record)."""
        self._finish(job_id, JobState.PROVED, artifact=artifact, error=None)

    def retry_or_fail(self, job_id: int, error: str, max_attempts: int) -> JobState:
        """Record a failed attempt: queue the job again, or fail it once attempts run out."""
        job = self.get(job_id)
        if job.attempts >= max_attempts:
            self._finish(job_id, JobState.FAILED, artifact=None, error=error)
            return JobState.FAILED
        with self._lock:
            self._db.execute(
                "UPDATE proof_jobs SET state = ?, worker = NULL, error = ? WHERE job_id = ?",
                (JobState.QUEUED.value, error, job_id),
            )
        return JobState.QUEUED

    def _finish(
        self, job_id: int, state: JobState, *, artifact: bytes | None, error: str | None
    ) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE proof_jobs SET state = ?, artifact = ?, error = COALESCE(?, error), "
                "finished_at = ?, worker = NULL WHERE job_id = ?",
                (state.value, artifact, error, time.time(), job_id),
            )

    def get(self, job_id: int) -> Job:
        """Return a job, or raise UnknownJobError."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM proof_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            raise UnknownJobError(f"no proof job {job_id}", reason="unknown_job")
        return Job(
            row[0], bytes(row[1]), JobState(row[2]), row[3], row[4],
            None if row[5] is None else bytes(row[5]), row[6], row[7], row[8], row[9],
        )  # fmt: skip

    def counts(self) -> dict[JobState, int]:
        """Return the number of jobs in each state."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM proof_jobs GROUP BY state"
            ).fetchall()
        found = {JobState(state): n for state, n in rows}
        return {state: found.get(state, 0) for state in JobState}
