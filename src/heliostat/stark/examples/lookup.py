"""A two-table LogUp lookup: a reader table looks its values up in a fixed byte table.

Reader (any height): columns (v, m); it sends (v) on the byte bus with multiplicity m, m
boolean. Bytes (256 rows): a fixed column t = 0…255 and a main column `count` that receives
(t) with multiplicity count. The bus balances iff every sent v is a byte, counted exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder

BYTE_BUS = 7
LOG_BYTES = 8


class ReaderAir:
    """Values looked up in the byte table."""

    name = "reader"
    width = 2

    def preprocessed_trace(self) -> None:
        """Return None: no fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Send each active value on the byte bus."""
        v, m = ab.main.local
        ab.assert_bool(m, "m is boolean")
        ab.send(BYTE_BUS, [v], m, "look up v")


class ByteTableAir:
    """The table of all bytes with a multiplicity column."""

    name = "bytes"
    width = 1

    def preprocessed_trace(self) -> NDArray[np.uint32]:
        """Return the fixed column 0…255."""
        return np.arange(1 << LOG_BYTES, dtype=np.uint32).reshape(-1, 1)

    def eval(self, ab: AirBuilder) -> None:
        """Receive each byte as many times as it was looked up."""
        (t,) = ab.preprocessed.local
        (count,) = ab.main.local
        ab.receive(BYTE_BUS, [t], count, "provide t")


def generate_traces(
    log_n: int, rng: np.random.Generator
) -> tuple[NDArray[np.uint32], NDArray[np.uint32]]:
    """Random reader rows (about 3/4 active) and the byte table's matching counts."""
    n = 1 << log_n
    v = rng.integers(0, 1 << LOG_BYTES, size=n, dtype=np.uint32)
    m = (rng.random(n) < 0.75).astype(np.uint32)
    reader = np.ascontiguousarray(np.stack([v, m], axis=1))
    counts = np.bincount(v[m == 1], minlength=1 << LOG_BYTES).astype(np.uint32)
    return reader, np.ascontiguousarray(counts.reshape(-1, 1))
