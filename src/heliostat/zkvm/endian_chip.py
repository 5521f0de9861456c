"""le16/32/64 (truncate) and be16/32/64 (byte swap of the low 16/32/64 bits).

dst's bytes (BYTES-checked, tied to its limbs) are rearranged: le keeps the low w/8 bytes,
be reverses them; higher bytes become 0. The width comes from the immediate (16, 32 or 64,
the only values the verifier lets through), as a one-hot fetched with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.svm import opcodes as op
from heliostat.zkvm.buses import Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, write_slot
from heliostat.zkvm.frame import FrameEval, Op, StepRows, access, fill_access
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.operands import byte_columns
from heliostat.zkvm.u16_chip import LookupCounts

WIDTHS = (16, 32, 64)


class EndianChip(InstructionChip):
    """le and be."""

    name = "endian"
    ops = (Op("le", op.LE), Op("be", op.BE))

    def define(self, layout: Layout) -> None:
        """dst, its bytes, the width one-hot."""
        layout.add("dst")
        layout.add("d_old", 4)
        layout.add("d_new", 4)
        layout.add("d_t")
        layout.add("xa", 8)
        layout.add("w", 3)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Bytes, width, rearrangement."""
        a, r, xa, w = row.many("d_old"), row.many("d_new"), row.many("xa"), row.many("w")
        le, be = fe.flag("le"), fe.flag("be")
        for k in range(4):
            ab.assert_eq(a[k], xa[2 * k] + xa[2 * k + 1] * 256, f"dst bytes {k}")
            ab.send(Bus.BYTES, [xa[2 * k], xa[2 * k + 1]], fe.active, f"dst bytes {k}")
        for i in range(3):
            ab.assert_bool(w[i], f"width {WIDTHS[i]} is boolean")
        ab.assert_eq(sum_exprs(w), fe.active, "one width")
        for k in range(4):
            lo, hi = 2 * k, 2 * k + 1
            le_val = sum_exprs(w[i] for i in range(3) if hi < WIDTHS[i] // 8)
            expr: Expr = le * le_val * (xa[lo] + xa[hi] * 256)
            for i, width in enumerate(WIDTHS):
                n = width // 8
                if hi < n:
                    expr = expr + be * w[i] * (xa[n - 1 - lo] + xa[n - 1 - hi] * 256)
            ab.assert_eq(r[k], expr, f"result limb {k}")
        imm = sum_exprs(w[i] * WIDTHS[i] for i in range(3))
        dst = row.one("dst")
        fe.fetch(dst=dst, imm=[imm, 0, 0, 0])
        access(ab, dst, a, r, row.one("d_t"), fe.ts + 1, fe.active, "dst", space=fe.space)
        fe.send_state(fe.pc + 1)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Dst at ts + 1."""
        return [write_slot("dst", rows.dst, rows.ts + 1, rows.result)]

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Bytes and width."""
        lay, n = self.layout, len(rows)
        d = results["dst"]
        t[:, lay.index("dst")] = rows.dst
        fill_access(t, lay, "d", d.old, d.new, d.t_prev, rows.ts + 1, np.ones(n, bool), lookups)
        xa = byte_columns(d.old)
        t[:, lay.span("xa")] = xa
        width = rows.imm.astype(np.int64)
        t[np.arange(n), lay.span("w").start + np.searchsorted(np.array(WIDTHS), width)] = 1
        lookups.byte_pairs(xa[:, 0::2], xa[:, 1::2])
