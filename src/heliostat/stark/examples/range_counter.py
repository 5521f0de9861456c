"""A range-checked counter: c counts up by one per row and every c is proven below 2^BITS.

Columns: c, then BITS bit columns with c = Σ b_i·2^i and each b_i ∈ {0, 1} (degree 2).
Public values: the first and the last value of the counter.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import sum_exprs

BITS = 8
PUBLIC_START, PUBLIC_END = 0, 1
NUM_PUBLIC_VALUES = 2


class RangeCounterAir:
    """c' = c + 1 on transitions; c = Σ b_i·2^i and b_i boolean on every row."""

    name = "range_counter"
    width = 1 + BITS

    def preprocessed_trace(self) -> None:
        """Return None: no fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Declare the counter step, the bit decomposition and the boundaries."""
        c, *bits = ab.main.local
        c_next = ab.main.next[0]
        for i, bit in enumerate(bits):
            ab.assert_bool(bit, f"bit {i} is boolean")
        ab.assert_eq(c, sum_exprs(bit * (1 << i) for i, bit in enumerate(bits)), "c = Σ bits")
        ab.when_transition().assert_eq(c_next, c + 1, "c' = c + 1")
        ab.when_first_row().assert_eq(c, ab.public(PUBLIC_START), "c starts at the public start")
        ab.when_last_row().assert_eq(c, ab.public(PUBLIC_END), "c ends at the public end")


def generate_trace(log_n: int, start: int = 0) -> tuple[NDArray[np.uint32], list[int]]:
    """Return the trace of 2^log_n rows counting from ``start`` and its public values."""
    n = 1 << log_n
    if start < 0 or start + n > 1 << BITS:
        raise ValueError("the counter would leave the range")
    c = np.arange(start, start + n, dtype=np.uint32)
    bits = (c[:, None] >> np.arange(BITS, dtype=np.uint32)[None, :]) & 1
    trace = np.ascontiguousarray(np.concatenate([c[:, None], bits], axis=1).astype(np.uint32))
    return trace, [start, start + n - 1]
