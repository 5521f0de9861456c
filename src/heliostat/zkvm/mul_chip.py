"""mul64 and mul32 (K, X): a byte-by-byte schoolbook product recombined into 16-bit limbs.

Operands are split into bytes (BYTES-checked, and tied to their limbs). Result limb k collects
the byte products of weight 2k and 2k+1 plus the carry from below: Σ + c_(k−1) = r_k + 2^16 c_k,
all below p (at most 2^28), with r and the carries range-checked, so every carry is forced.
mul64 keeps the low 64 bits; mul32 the low 32, sign-extended from bit 31 (sBPF v0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.svm import opcodes as op
from heliostat.zkvm import operands
from heliostat.zkvm.buses import Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult
from heliostat.zkvm.frame import FrameEval, StepRows, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts


def product_limb(x: Sequence[Expr], y: Sequence[Expr], k: int) -> Expr:
    """Σ over byte products of weight 2k and 2k+1 (the latter times 256)."""
    low = sum_exprs(x[i] * y[2 * k - i] for i in range(8) if 0 <= 2 * k - i < 8)
    high = sum_exprs(x[i] * y[2 * k + 1 - i] for i in range(8) if 0 <= 2 * k + 1 - i < 8)
    return low + high * 256


def product_limb_values(x: I64, y: I64, k: int) -> I64:
    """Numeric `product_limb` over rows."""
    total = np.zeros(x.shape[0], dtype=np.int64)
    for i in range(8):
        if 0 <= 2 * k - i < 8:
            total += x[:, i] * y[:, 2 * k - i]
        if 0 <= 2 * k + 1 - i < 8:
            total += x[:, i] * y[:, 2 * k + 1 - i] * 256
    return total


class MulChip(InstructionChip):
    """Multiplication (immediate or register operand)."""

    name = "mul"
    ops = tuple(
        operands.both_forms(
            [("mul64", op.CLS_ALU64 | op.ALU_MUL), ("mul32", op.CLS_ALU32 | op.ALU_MUL)]
        )
    )

    def define(self, layout: Layout) -> None:
        """Operands, their bytes, carries, sign of a 32-bit result."""
        operands.define(layout)
        layout.add("ab", 8)
        layout.add("bb", 8)
        layout.add("carry", 4)
        layout.add("sign")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Bytes, product limbs with carries, 32-bit sign extension."""
        o = operands.Operands(row)
        m64, m32 = fe.flag("mul64"), fe.flag("mul32")
        xa, xb, c = row.many("ab"), row.many("bb"), row.many("carry")
        sign = row.one("sign")
        for name, limbs, by in (("a", o.a, xa), ("b", o.b, xb)):
            for k in range(4):
                ab.assert_eq(limbs[k], by[2 * k] + by[2 * k + 1] * 256, f"{name} bytes {k}")
                ab.send(Bus.BYTES, [by[2 * k], by[2 * k + 1]], fe.active, f"{name} bytes {k}")
        for k in range(4):
            gate = fe.active if k < 2 else m64
            carry_in: Expr | int = c[k - 1] if k else 0
            ab.assert_zero(
                gate * (product_limb(xa, xb, k) + carry_in - o.r[k] - c[k] * 65536),
                f"product limb {k}",
            )
            ab.send(Bus.U16, [c[k]], fe.active, f"carry {k}")
        for k in (2, 3):
            ab.assert_zero(m32 * (o.r[k] - sign * 0xFFFF), f"mul32 sign-extends ({k})")
            ab.assert_zero(m32 * c[k], f"mul32 has no carry {k}")
        ab.send(Bus.U16, [o.r[0]], fe.active, "result limb 0")
        ab.send(Bus.U16_MSB, [o.r[1], sign], fe.active, "result limb 1 and bit 31")
        ab.send(Bus.U16, [o.r[2]], fe.active, "result limb 2")
        ab.send(Bus.U16, [o.r[3]], fe.active, "result limb 3")
        o.finish(ab, fe)
        fe.send_state(fe.pc + 1)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Src at ts (X), dst at ts + 1."""
        return operands.accesses(rows, self.ops)

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Bytes and carries recomputed from the operands."""
        lay = self.layout
        a, b, r = operands.fill(t, lay, rows, results, lookups, self.ops)
        xa, xb = operands.byte_columns(a), operands.byte_columns(b)
        rl = limb_columns(r)
        t[:, lay.span("ab")] = xa
        t[:, lay.span("bb")] = xb
        lookups.byte_pairs(xa[:, 0::2], xa[:, 1::2])
        lookups.byte_pairs(xb[:, 0::2], xb[:, 1::2])
        m32 = (rows.opcode & ~op.SRC_X) == (op.CLS_ALU32 | op.ALU_MUL)
        carry = np.zeros((len(rows), 4), dtype=np.int64)
        c = np.zeros(len(rows), dtype=np.int64)
        for k in range(4):
            c = (product_limb_values(xa, xb, k) + c) >> 16
            carry[:, k] = np.where(m32 & (k >= 2), 0, c)
        t[:, lay.span("carry")] = carry
        t[:, lay.index("sign")] = rl[:, 1] >> 15
        lookups.u16(carry)
        lookups.u16(rl[:, [0, 2, 3]])
        lookups.msb(rl[:, 1])
