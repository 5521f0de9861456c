"""lsh, rsh, arsh (64- and 32-bit), K and X forms.

The amount s = b AND 63 (or 31) is split as 8·sq + sr (DIV8). Every byte of a is shifted by
sr with one SHIFT lookup, which returns the part that stays in the byte and the part that
moves into the neighbour (and proves the byte is a byte); the result byte j then sums the
two parts that land on it from bytes j ∓ sq (a one-hot over sq selects them). Bytes shifted
in from beyond the top are the fill byte (0, or 0xFF for a negative arsh operand, whose sign
U16_MSB gives). 32-bit forms shift the low four bytes and zero-extend (sBPF v0, arsh32 too).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.svm import opcodes as op
from heliostat.zkvm import operands
from heliostat.zkvm.buses import BitOp, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult
from heliostat.zkvm.frame import FrameEval, StepRows, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

_KINDS = {"lsh": op.ALU_LSH, "rsh": op.ALU_RSH, "arsh": op.ALU_ARSH}


def shift_parts(x: I64, k: I64, right: I64) -> tuple[I64, I64]:
    """(lo, hi) of the SHIFT lookup, numerically."""
    left_lo = (x << k) & 0xFF
    left_hi = np.where(k == 0, 0, x >> (8 - k))
    right_lo = x >> k
    right_hi = (x << (8 - k)) & 0xFF
    return np.where(right == 1, right_lo, left_lo), np.where(right == 1, right_hi, left_hi)


class ShiftChip(InstructionChip):
    """Shifts (immediate or register operand)."""

    name = "shift"
    ops = tuple(
        operands.both_forms(
            [
                (f"{n}{w}", (op.CLS_ALU64 if w == 64 else op.CLS_ALU32) | code)
                for n, code in _KINDS.items()
                for w in (64, 32)
            ]
        )
    )

    def define(self, layout: Layout) -> None:
        """Operands, amount, byte parts, fill, result bytes."""
        operands.define(layout)
        for name in ("blo", "bhi", "s", "sq", "sr", "top", "sign", "sfill", "flo", "fhi"):
            layout.add(name)
        for name in ("e", "xa", "lo", "hi", "rb"):
            layout.add(name, 8)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Amount, byte shifts, selection by sq, fill, result."""
        o = operands.Operands(row)
        c = {
            n: row.one(n)
            for n in ("blo", "bhi", "s", "sq", "sr", "top", "sign", "sfill", "flo", "fhi")
        }
        e, xa, lo, hi, rb = (row.many(n) for n in ("e", "xa", "lo", "hi", "rb"))
        is64 = fe.any_of("lsh64", "rsh64", "arsh64")
        is32 = fe.any_of("lsh32", "rsh32", "arsh32")
        right = fe.any_of("rsh64", "arsh64", "rsh32", "arsh32")
        arsh = fe.any_of("arsh64", "arsh32")
        # amount
        ab.assert_eq(o.b[0], c["blo"] + c["bhi"] * 256, "low limb of b")
        ab.send(Bus.BYTES, [c["blo"], c["bhi"]], fe.active, "low bytes of b")
        ab.send(
            Bus.BITWISE,
            [BitOp.AND, c["blo"], is64 * 63 + is32 * 31, c["s"]],
            fe.active,
            "amount mask",
        )
        ab.send(Bus.DIV8, [c["s"], c["sq"], c["sr"]], fe.active, "amount = 8·sq + sr")
        for m in range(8):
            ab.assert_bool(e[m], f"byte shift {m} is boolean")
        ab.assert_eq(sum_exprs(e), fe.active, "one byte shift")
        ab.assert_eq(sum_exprs(e[m] * m for m in range(8)), c["sq"], "byte shift = sq")
        # bytes of a and their shifted parts
        for k in range(4):
            ab.assert_eq(o.a[k], xa[2 * k] + xa[2 * k + 1] * 256, f"a bytes {k}")
        code = right * 8 + c["sr"]
        for i in range(8):
            ab.send(Bus.SHIFT, [xa[i], code, lo[i], hi[i]], fe.active, f"shift byte {i}")
        # fill byte: 0xFF for a negative arsh operand
        ab.assert_eq(c["top"], is64 * o.a[3] + is32 * o.a[1], "top limb")
        ab.send(Bus.U16_MSB, [c["top"], c["sign"]], fe.active, "sign of a")
        ab.assert_eq(c["sfill"], arsh * c["sign"], "fill with the sign")
        ab.send(Bus.SHIFT, [c["sfill"] * 255, code, c["flo"], c["fhi"]], fe.active, "fill byte")
        # result bytes
        for width, flag in ((8, is64), (4, is32)):
            for j in range(8):
                if j >= width:
                    ab.assert_zero(flag * rb[j], f"{8 * width}-bit result byte {j} is 0")
                    continue
                left = sum_exprs(
                    e[m]
                    * (self._part(lo, j - m, width, None) + self._part(hi, j - m - 1, width, None))
                    for m in range(8)
                )
                rgt = sum_exprs(
                    e[m]
                    * (
                        self._part(lo, j + m, width, c["flo"])
                        + self._part(hi, j + m + 1, width, c["fhi"])
                    )
                    for m in range(8)
                )
                ab.assert_zero(
                    flag * (rb[j] - left - right * (rgt - left)), f"{8 * width}-bit byte {j}"
                )
        for k in range(4):
            ab.assert_eq(o.r[k], rb[2 * k] + rb[2 * k + 1] * 256, f"result limb {k}")
        o.finish(ab, fe)
        fe.send_state(fe.pc + 1)

    @staticmethod
    def _part(parts: list[Expr], i: int, width: int, fill: Expr | None) -> Expr | int:
        if i < 0:
            return 0
        if i >= width:
            return fill if fill is not None else 0
        return parts[i]

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Src at ts (X), dst at ts + 1."""
        return operands.accesses(rows, self.ops)

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Amount, byte parts and fill recomputed; result bytes from the VM."""
        lay, n = self.layout, len(rows)
        a, b, r = operands.fill(t, lay, rows, results, lookups, self.ops)
        names = np.array([o.name.removesuffix(".x") for o in self.ops])[rows.op]
        is32 = np.char.endswith(names, "32")
        right = (~np.char.startswith(names, "lsh")).astype(np.int64)
        arsh = np.char.startswith(names, "arsh")
        bl = limb_columns(b)
        blo, bhi = bl[:, 0] & 0xFF, bl[:, 0] >> 8
        mask = np.where(is32, 31, 63)
        s = blo & mask
        sq, sr = s >> 3, s & 7
        al = limb_columns(a)
        top = np.where(is32, al[:, 1], al[:, 3])
        sign = top >> 15
        sfill = np.where(arsh, sign, 0)
        xa = operands.byte_columns(a)
        lo, hi = shift_parts(xa, sr[:, None], right[:, None])
        flo, fhi = shift_parts(sfill * 255, sr, right)
        for name, v in (
            ("blo", blo),
            ("bhi", bhi),
            ("s", s),
            ("sq", sq),
            ("sr", sr),
            ("top", top),
            ("sign", sign),
            ("sfill", sfill),
            ("flo", flo),
            ("fhi", fhi),
        ):
            t[:, lay.index(name)] = v
        t[np.arange(n), lay.span("e").start + sq] = 1
        t[:, lay.span("xa")] = xa
        t[:, lay.span("lo")] = lo
        t[:, lay.span("hi")] = hi
        t[:, lay.span("rb")] = operands.byte_columns(r)
        lookups.byte_pairs(blo, bhi)
        lookups.bitwise(BitOp.AND, blo, mask)
        lookups.div8(s)
        lookups.shift(xa.ravel(), np.repeat(right * 8 + sr, 8))
        lookups.shift(sfill * 255, right * 8 + sr)
        lookups.msb(top)
