"""The private, bounded mempool: L1 priority operations first, then transactions by arrival.

Ordering is deterministic: priority operations leave in L1 order; transactions leave by
(arrival time in nanoseconds, first signature), so two arrivals stamped alike still have one
order. Fairness: no fee payer may hold more than `per_sender_limit` waiting transactions,
so one sender cannot fill the pool and starve the others.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from heliostat.node.errors import MempoolFullError

T = TypeVar("T")


@dataclass(order=True, slots=True)
class _Waiting(Generic[T]):
    arrival_ns: int
    tie_break: bytes
    sender: bytes = field(compare=False)
    item: T = field(compare=False)


class Mempool(Generic[T]):
    """Two queues: priority operations (FIFO in L1 order) and transactions (arrival order)."""

    def __init__(self, capacity: int, per_sender_limit: int) -> None:
        self.capacity = capacity
        self.per_sender_limit = per_sender_limit
        self._priority: deque[T] = deque()
        self._heap: list[_Waiting[T]] = []
        self._per_sender: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._priority) + len(self._heap)

    @property
    def waiting_transactions(self) -> int:
        """Transactions waiting (priority operations excluded)."""
        return len(self._heap)

    def push_priority(self, item: T) -> None:
        """Queue an L1 priority operation; they are never refused (L1 forces them)."""
        self._priority.append(item)

    def push(self, item: T, *, sender: bytes, arrival_ns: int, tie_break: bytes) -> None:
        """Queue a transaction, or raise `MempoolFullError` if the pool or sender is full."""
        if len(self._heap) >= self.capacity:
            raise MempoolFullError(self.capacity, per_sender=False)
        held = self._per_sender.get(sender, 0)
        if held >= self.per_sender_limit:
            raise MempoolFullError(self.per_sender_limit, per_sender=True)
        self._per_sender[sender] = held + 1
        heapq.heappush(self._heap, _Waiting(arrival_ns, tie_break, sender, item))

    def pop(self) -> tuple[bool, T] | None:
        """Return the next entry to execute as (is_priority, item), or None when empty."""
        if self._priority:
            return True, self._priority.popleft()
        if not self._heap:
            return None
        waiting = heapq.heappop(self._heap)
        left = self._per_sender[waiting.sender] - 1
        if left:
            self._per_sender[waiting.sender] = left
        else:
            del self._per_sender[waiting.sender]
        return False, waiting.item
