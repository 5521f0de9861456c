"""The benchmark AIR: W columns, degree-3 transitions and one LogUp bus (a permutation).

Columns 0…W−3 are a state s with s_i' = s_i·s_(i+1)·s_(i+2) + s_(i+3) + i (indices mod W−2);
column W−2 is a counter t (t_0 = 0, t' = t + 1) and column W−1 a permutation p of 0…n−1.
Every row sends (t) and receives (p) on one bus, which balances because p permutes t.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from heliostat.stark._field_kernels import add_mod, mont_mul, to_mont
from heliostat.stark.air import AirBuilder

BUS = 1


class SyntheticAir:
    """The benchmark table (width ≥ 6)."""

    name = "synthetic"

    def __init__(self, width: int = 100) -> None:
        if width < 6:
            raise ValueError("the synthetic AIR needs at least 6 columns")
        self.width = width

    def preprocessed_trace(self) -> None:
        """Return None: no fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Declare the state transitions, the counter and the bus."""
        k = self.width - 2
        s, s_next = ab.main.local[:k], ab.main.next[:k]
        step = ab.when_transition()
        for i in range(k):
            rhs = s[i] * s[(i + 1) % k] * s[(i + 2) % k] + s[(i + 3) % k] + i
            step.assert_eq(s_next[i], rhs, f"state {i}")
        t, p = ab.main.local[k], ab.main.local[k + 1]
        step.assert_eq(ab.main.next[k], t + 1, "counter step")
        ab.when_first_row().assert_zero(t, "counter starts at 0")
        ab.send(BUS, [t], 1, "send counter")
        ab.receive(BUS, [p], 1, "receive permuted counter")


@njit(cache=True)
def _fill_state(trace: np.ndarray, k: int) -> None:
    n = trace.shape[0]
    for r in range(n - 1):
        for i in range(k):
            a = to_mont(trace[r, i])
            b = to_mont(trace[r, (i + 1) % k])
            prod = mont_mul(mont_mul(a, b), trace[r, (i + 2) % k])  # a·b·R then ·c/R... canonical
            trace[r + 1, i] = add_mod(add_mod(prod, trace[r, (i + 3) % k]), np.uint32(i))


def generate_trace(log_n: int, width: int, rng: np.random.Generator) -> NDArray[np.uint32]:
    """Return a valid trace of 2^log_n rows."""
    n, k = 1 << log_n, width - 2
    trace = np.zeros((n, width), dtype=np.uint32)
    trace[0, :k] = rng.integers(0, 2013265921, size=k, dtype=np.uint32)
    _fill_state(trace, k)
    trace[:, k] = np.arange(n, dtype=np.uint32)
    trace[:, k + 1] = rng.permutation(n).astype(np.uint32)
    return trace
