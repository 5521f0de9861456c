"""Fibonacci: one table (a, b) with a' = b, b' = a + b, pinned by three public values."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.field import P

# public values: the first row's a and b, and the last row's b
PUBLIC_A0, PUBLIC_B0, PUBLIC_RESULT = 0, 1, 2
NUM_PUBLIC_VALUES = 3


class FibonacciAir:
    """Two columns; row i holds (F_i, F_{i+1}) when started from (0, 1)."""

    name = "fibonacci"
    width = 2

    def preprocessed_trace(self) -> None:
        """Return None: no fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Declare the recurrence and the boundary values."""
        a, b = ab.main.local
        a_next, b_next = ab.main.next
        first = ab.when_first_row()
        first.assert_eq(a, ab.public(PUBLIC_A0), "a starts at public a0")
        first.assert_eq(b, ab.public(PUBLIC_B0), "b starts at public b0")
        step = ab.when_transition()
        step.assert_eq(a_next, b, "a' = b")
        step.assert_eq(b_next, a + b, "b' = a + b")
        ab.when_last_row().assert_eq(b, ab.public(PUBLIC_RESULT), "b ends at the result")


def generate_trace(log_n: int, a0: int = 0, b0: int = 1) -> tuple[NDArray[np.uint32], list[int]]:
    """Return the trace of 2^log_n rows and its public values [a0, b0, result]."""
    n = 1 << log_n
    trace = np.empty((n, 2), dtype=np.uint32)
    a, b = a0 % P, b0 % P
    for i in range(n):
        trace[i] = (a, b)
        a, b = b, (a + b) % P
    return trace, [a0 % P, b0 % P, int(trace[-1, 1])]
