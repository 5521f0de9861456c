"""Effective addresses of loads and stores: A = base + sign-extended offset, as a word address.

Limbs of A: A0 = 8q + k (DIV8 gives q and the byte position k), A1 < 2^15 (U16_MSB with a
zero sign: offsets below 2^31, so regions cannot alias), A2 = region = 1 + rb0 + 2·rb1
(regions 1–4 only) and A3 = 0, with a carry chain from base + offset. The memory-bus word
address is region·2^28 + A1·2^13 + q; region 1 (program) is rb0 = rb1 = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.zkvm.buses import REGION_SHIFT, Bus
from heliostat.zkvm.frame import limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]


def define(layout: Layout, *, with_k: bool) -> None:
    """Columns: offset and its sign, q, (k), A1, region bits, carries."""
    layout.add("off")
    layout.add("neg")
    layout.add("q")
    if with_k:
        layout.add("k")
    layout.add("a1")
    layout.add("rb0")
    layout.add("rb1")
    layout.add("ac", 4)


class Address:
    """The constraints of one row's address; ``word`` and ``k`` are expressions."""

    def __init__(
        self, ab: AirBuilder, row: Row, base: Sequence[Expr], active: Expr, *, with_k: bool
    ) -> None:
        off, neg, q = row.one("off"), row.one("neg"), row.one("q")
        k: Expr | int = row.one("k") if with_k else 0
        a1, rb0, rb1 = row.one("a1"), row.one("rb0"), row.one("rb1")
        c = row.many("ac")
        for name in ("neg", "rb0", "rb1"):
            ab.assert_bool(row.one(name), f"{name} is boolean")
        for j in range(4):
            ab.assert_bool(c[j], f"address carry {j} is boolean")
        region = active + rb0 + rb1 * 2
        ext = neg * 0xFFFF
        ab.assert_zero(base[0] + off - (q * 8 + k) - c[0] * 65536, "address limb 0")
        ab.assert_zero(base[1] + ext + c[0] - a1 - c[1] * 65536, "address limb 1")
        ab.assert_zero(base[2] + ext + c[1] - region - c[2] * 65536, "address limb 2 = region")
        ab.assert_zero(base[3] + ext + c[2] - c[3] * 65536, "address limb 3 = 0")
        ab.send(Bus.DIV8, [q * 8 + k, q, k], active, "address limb 0 = 8q + k")
        ab.send(Bus.U16_MSB, [a1, 0], active, "address offset below 2^31")
        self.word = region * REGION_SHIFT + a1 * 8192 + q
        self.k = k
        self.is_program = (1 - rb0) * (1 - rb1)
        self.is_input = rb0 * rb1
        self.rb0, self.rb1, self.q = rb0, rb1, q
        self.off, self.neg = off, neg


def fill(
    t: I64,
    layout: Layout,
    base: U64,
    off: I64,
    active: NDArray[np.bool_],
    lookups: LookupCounts,
    *,
    with_k: bool,
) -> tuple[I64, I64]:
    """Fill the address columns; return (word address, byte position k) per row."""
    n = base.shape[0]
    off16 = off & 0xFFFF
    neg = (off < 0).astype(np.int64)
    addr = np.asarray(base, np.uint64) + np.asarray(off, np.int64).view(np.uint64)
    b, a = limb_columns(base), limb_columns(addr)
    ext = neg * 0xFFFF
    c = np.zeros((n, 4), dtype=np.int64)
    c[:, 0] = (b[:, 0] + off16) >> 16
    c[:, 1] = (b[:, 1] + ext + c[:, 0]) >> 16
    c[:, 2] = (b[:, 2] + ext + c[:, 1]) >> 16
    c[:, 3] = (b[:, 3] + ext + c[:, 2]) >> 16
    region = a[:, 2]
    q, k = a[:, 0] >> 3, a[:, 0] & 7
    t[:, layout.index("off")] = np.where(active, off16, 0)
    t[:, layout.index("neg")] = np.where(active, neg, 0)
    t[:, layout.index("q")] = np.where(active, q, 0)
    if with_k:
        t[:, layout.index("k")] = np.where(active, k, 0)
    t[:, layout.index("a1")] = np.where(active, a[:, 1], 0)
    t[:, layout.index("rb0")] = np.where(active, (region - 1) & 1, 0)
    t[:, layout.index("rb1")] = np.where(active, (region - 1) >> 1, 0)
    t[:, layout.span("ac")] = np.where(active[:, None], c, 0)
    lookups.div8(a[active, 0])
    lookups.msb(a[active, 1])
    word = region * REGION_SHIFT + a[:, 1] * 8192 + q
    return word, k
