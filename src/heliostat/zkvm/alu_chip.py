"""Add, sub, mov (32/64, immediate or register operand), neg and lddw.

One carry chain proves X + Y = Z (+ 2^64·carry) over 16-bit limbs, with (X, Y, Z) = (a, b, r)
for add, (r, b, a) for sub and (r, a, 0) for neg, where a is dst's old value, b the second
operand and r the result; the result limbs are range-checked, so each carry is forced. The
32-bit forms chain limbs 0–1 only; add32 and sub32 sign-extend from bit 31 of the result
(U16_MSB gives it), neg32 and mov32 zero-extend (sBPF v0). mov and lddw copy the operand
(lddw's operand is its 64-bit immediate from the program table).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.svm import opcodes as op
from heliostat.zkvm import operands
from heliostat.zkvm.buses import Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult
from heliostat.zkvm.frame import FrameEval, Op, StepRows, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

A64, A32 = op.CLS_ALU64, op.CLS_ALU32
BASE = [
    ("add64", A64 | op.ALU_ADD),
    ("sub64", A64 | op.ALU_SUB),
    ("add32", A32 | op.ALU_ADD),
    ("sub32", A32 | op.ALU_SUB),
    ("mov64", A64 | op.ALU_MOV),
    ("mov32", A32 | op.ALU_MOV),
]


class AluChip(InstructionChip):
    """The chip."""

    name = "alu"
    ops = (
        *operands.both_forms(BASE),
        Op("neg64", op.NEG64),
        Op("neg32", op.NEG32),
        Op("lddw", op.LD_DW_IMM),
    )

    def define(self, layout: Layout) -> None:
        """Operands, carries, sign of a 32-bit result."""
        operands.define(layout)
        layout.add("carry", 4)
        layout.add("sign")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Carry chain, extension rules, copies, range checks, registers, fetch, next state."""
        o = operands.Operands(row)
        f = {
            n: fe.flag(n)
            for n in (
                "add64",
                "sub64",
                "add32",
                "sub32",
                "mov64",
                "mov32",
                "neg64",
                "neg32",
                "lddw",
            )
        }
        a, b, r, c = o.a, o.b, o.r, row.many("carry")
        sign = row.one("sign")
        add = f["add64"] + f["add32"]
        sub = f["sub64"] + f["sub32"]
        neg = f["neg64"] + f["neg32"]
        is64 = f["add64"] + f["sub64"] + f["neg64"]
        for k in range(4):
            ab.assert_bool(c[k], f"carry {k} is boolean")
        for k in range(4):
            if k < 2:
                fa, fs, fn = add, sub, neg
                carry_in: Expr | int = c[k - 1] if k else 0
            else:
                fa, fs, fn = f["add64"], f["sub64"], f["neg64"]
                carry_in = is64 * c[k - 1]
            x = fa * a[k] + (fs + fn) * r[k]
            y = (fa + fs) * b[k] + fn * a[k]
            z = fa * r[k] + fs * a[k]
            ab.assert_zero(x + y + carry_in - z - c[k] * 65536, f"carry chain limb {k}")
        ext32 = f["add32"] + f["sub32"]
        zero32 = f["mov32"] + f["neg32"]
        for k in (2, 3):
            ab.assert_zero(ext32 * (r[k] - sign * 0xFFFF), f"32-bit result sign-extends ({k})")
            ab.assert_zero(zero32 * r[k], f"32-bit result zero-extends ({k})")
        copy64 = f["mov64"] + f["lddw"]
        for k in range(4):
            copy = copy64 + (f["mov32"] if k < 2 else 0)
            ab.assert_zero(copy * (r[k] - b[k]), f"mov copies limb {k}")
        ab.send(Bus.U16, [r[0]], fe.active, "result limb 0")
        ab.send(Bus.U16_MSB, [r[1], sign], fe.active, "result limb 1 and bit 31")
        ab.send(Bus.U16, [r[2]], fe.active, "result limb 2")
        ab.send(Bus.U16, [r[3]], fe.active, "result limb 3")
        o.finish(ab, fe)
        fe.send_state(fe.pc + 1 + f["lddw"])

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Src at ts (X rows), dst at ts + 1."""
        return operands.accesses(rows, self.ops)

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Operands from the scan, carries recomputed, lookups counted."""
        lay, n = self.layout, len(rows)
        names = np.array([o.name.removesuffix(".x") for o in self.ops])[rows.op]
        is_neg = np.isin(names, ["neg64", "neg32"])
        imm = np.where(is_neg, np.uint64(0), rows.imm)  # neg has no operand
        a_v, b_v, r_v = operands.fill(t, lay, rows, results, lookups, self.ops, imm=imm)
        a, b, r = limb_columns(a_v), limb_columns(b_v), limb_columns(r_v)
        carry = np.zeros((n, 4), dtype=np.int64)
        for kind, (x, y) in {"add": (a, b), "sub": (r, b), "neg": (r, a)}.items():
            for width in (64, 32):
                sel = names == f"{kind}{width}"
                if not sel.any():
                    continue
                c = np.zeros(int(sel.sum()), dtype=np.int64)
                for k in range(width // 16):
                    c = (x[sel, k] + y[sel, k] + c) >> 16
                    carry[sel, k] = c
        t[:, lay.span("carry")] = carry
        t[:, lay.index("sign")] = r[:, 1] >> 15
        lookups.u16(r[:, [0, 2, 3]])
        lookups.msb(r[:, 1])
