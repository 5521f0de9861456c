"""Progress of long proofs: a bar per batch being proven, or plain lines.

A bar (tqdm) when tqdm is installed and the output is a terminal, plain lines otherwise.

The prover gives no progress from inside a proof, so what is shown is the time spent so far
against an estimate: the seconds per transaction of the batches this devnet proved before
(none at first). `ProofProgress.tick` is called about once a second.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from heliostat.node.prover_service.queue import JobQueue, JobState, UnknownJobError

PLAIN_EVERY_S = 15.0


class ProofProgress:
    """Reports the batches in the prover, and learns seconds per transaction."""

    def __init__(
        self,
        queue: JobQueue,
        out: Callable[[str], None],
        *,
        tty: bool | None = None,
    ) -> None:
        self.queue = queue
        self.out = out
        self.tty = sys.stdout.isatty() if tty is None else tty
        self.transactions: dict[int, int] = {}  # batches being watched → their transactions
        self.seconds_per_tx: float | None = None
        self._bars: dict[int, Any] = {}
        self._last_line: dict[int, float] = {}
        self._tqdm = _tqdm() if self.tty else None

    def watch(self, number: int, transactions: int) -> None:
        """Follow a batch from now on (it was just queued)."""
        self.transactions[number] = max(1, transactions)

    def tick(self) -> None:
        """Update every watched batch; forget the ones that are done."""
        now = time.time()
        for number, txs in sorted(self.transactions.items()):
            try:
                job = self.queue.get(number)
            except UnknownJobError:
                continue
            if job.state in (JobState.PROVED, JobState.FAILED):
                self._finish(number, job.state, job.started_at, job.finished_at, txs)
                continue
            if job.state is not JobState.PROVING or job.started_at is None:
                continue
            self._show(number, txs, now - job.started_at, job.worker or "?", job.attempts)

    def _estimate(self, txs: int) -> float | None:
        return None if self.seconds_per_tx is None else self.seconds_per_tx * txs

    def _show(self, number: int, txs: int, elapsed: float, worker: str, attempt: int) -> None:
        estimate = self._estimate(txs)
        if self._tqdm is not None:
            bar = self._bars.get(number)
            if bar is None:
                bar = self._tqdm(
                    total=round(estimate) if estimate else None, unit="s",
                    desc=f"batch {number} ({txs} tx) on {worker}", leave=False,
                )  # fmt: skip
                self._bars[number] = bar
            bar.n = round(elapsed)
            bar.refresh()
            return
        if time.monotonic() - self._last_line.get(number, 0.0) < PLAIN_EVERY_S:
            return
        self._last_line[number] = time.monotonic()
        left = "" if estimate is None else f", about {max(0.0, estimate - elapsed):.0f} s left"
        self.out(f"batch {number}: proving on {worker} for {elapsed:.0f} s "
                 f"(attempt {attempt}{left})")  # fmt: skip

    def _finish(
        self, number: int, state: JobState, started: float | None, finished: float | None,
        txs: int,
    ) -> None:  # fmt: skip
        del self.transactions[number]
        self._last_line.pop(number, None)
        bar = self._bars.pop(number, None)
        if bar is not None:
            bar.close()
        if state is JobState.PROVED and started is not None and finished is not None:
            rate = (finished - started) / txs
            self.seconds_per_tx = rate if self.seconds_per_tx is None else (
                0.5 * self.seconds_per_tx + 0.5 * rate
            )  # fmt: skip


def _tqdm() -> Any:
    try:
        from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # optional: plain lines instead
        return None
    return tqdm
