"""Where sealed batches go to be proven: an interface, and an in-process queue for now.

The prover service (another issue) implements `ProverQueue`; it reports progress back through
`Sequencer.update_batch` (status, proof bytes, L1 transaction hash).
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from heliostat.node.storage.interface import BatchRecord


class ProverQueue(Protocol):
    """Receives each batch once it is sealed and durable."""

    def submit(self, batch: BatchRecord) -> None:
        """Queue `batch` for proving; must not block the sequencer."""
        ...


class InMemoryProverQueue:
    """Keeps submitted batches in order until a prover takes them (no prover attached yet)."""

    def __init__(self) -> None:
        self.pending: deque[BatchRecord] = deque()

    def submit(self, batch: BatchRecord) -> None:
        """Remember the batch."""
        self.pending.append(batch)

    def take(self) -> BatchRecord | None:
        """Return the oldest batch not yet taken."""
        return self.pending.popleft() if self.pending else None
