"""div and mod, 64- and 32-bit, unsigned (K, X), with the divide-by-zero fault.

With b' and a' the operands (low 32 bits for the 32-bit forms): q·b' + rem = a' where q and
b' are in bytes (BYTES-checked) and the byte products of weight ≥ 8 vanish (so q·b' < 2^64
without wrapping), the low limbs chain with range-checked carries and remainder, and
rem < b' (b' − 1 − rem has range-checked limbs and no borrow). The result is q (div) or rem
(mod), zero-extended for the 32-bit forms. A row with b' = 0 (proven: Σ of b' bytes is 0)
halts with DivideByZero instead; it writes dst back unchanged.
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
from heliostat.zkvm.frame import FrameEval, StepRows, inverse_or_zero, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.mul_chip import product_limb, product_limb_values
from heliostat.zkvm.status import Status
from heliostat.zkvm.u16_chip import LookupCounts


class DivModChip(InstructionChip):
    """Division (immediate or register operand)."""

    name = "divmod"
    ops = tuple(
        operands.both_forms(
            [
                ("div64", op.CLS_ALU64 | op.ALU_DIV),
                ("mod64", op.CLS_ALU64 | op.ALU_MOD),
                ("div32", op.CLS_ALU32 | op.ALU_DIV),
                ("mod32", op.CLS_ALU32 | op.ALU_MOD),
            ]
        )
    )

    def define(self, layout: Layout) -> None:
        """Operands, quotient and divisor bytes, remainder, carries, rem < b, zero test."""
        operands.define(layout)
        layout.add("qb", 8)
        layout.add("bb", 8)
        layout.add("rem", 4)
        layout.add("carry", 4)
        layout.add("diff", 4)
        layout.add("dc", 4)
        layout.add("bz")
        layout.add("binv")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """q·b + rem = a, rem < b, result, zero divisor."""
        o = operands.Operands(row)
        w64 = fe.any_of("div64", "mod64")
        w32 = fe.any_of("div32", "mod32")
        is_div = fe.any_of("div64", "div32")
        is_mod = fe.any_of("mod64", "mod32")
        qb, bb, rem = row.many("qb"), row.many("bb"), row.many("rem")
        c, diff, dc = row.many("carry"), row.many("diff"), row.many("dc")
        bz, binv = row.one("bz"), row.one("binv")
        ok = fe.active - bz
        ab.assert_bool(bz, "bz is boolean")
        ab.assert_zero(bz * (1 - fe.active), "bz rows are real")
        # b' in bytes: all four limbs (64-bit) or the low two (32-bit, upper bytes zero)
        for k in range(4):
            gate: Expr = fe.active if k < 2 else w64
            ab.assert_zero(gate * (o.b[k] - bb[2 * k] - bb[2 * k + 1] * 256), f"b bytes {k}")
            ab.send(Bus.BYTES, [bb[2 * k], bb[2 * k + 1]], fe.active, f"b bytes {k}")
            ab.send(Bus.BYTES, [qb[2 * k], qb[2 * k + 1]], fe.active, f"q bytes {k}")
        for i in range(4, 8):
            ab.assert_zero(w32 * bb[i], f"32-bit divisor byte {i} is 0")
            ab.assert_zero(w32 * qb[i], f"32-bit quotient byte {i} is 0")
        total = sum_exprs(bb)
        ab.assert_zero(bz * total, "bz ⇒ b' = 0")
        ab.assert_zero(fe.active - bz - total * binv, "b' = 0 ⇒ bz")
        # q·b' has nothing at byte weight 8 and above
        for t in range(8, 15):
            ab.assert_zero(
                sum_exprs(qb[i] * bb[t - i] for i in range(8) if 0 <= t - i < 8),
                f"no product byte {t}",
            )
        for k in range(4):
            a_k: Expr = o.a[k] if k < 2 else w64 * o.a[k]
            carry_in: Expr | int = c[k - 1] if k else 0
            ab.assert_zero(
                ok * (product_limb(qb, bb, k) + rem[k] + carry_in - a_k - c[k] * 65536),
                f"q·b + rem = a, limb {k}",
            )
            ab.send(Bus.U16, [rem[k]], fe.active, f"remainder limb {k}")
            ab.send(Bus.U16, [c[k]], fe.active, f"carry {k}")
            b_k: Expr = o.b[k] if k < 2 else w64 * o.b[k]
            one: Expr | int = 1 if k == 0 else dc[k - 1]
            ab.assert_zero(
                ok * (rem[k] + diff[k] + one - b_k - dc[k] * 65536), f"rem + diff + 1 = b, {k}"
            )
            ab.send(Bus.U16, [diff[k]], fe.active, f"b − 1 − rem limb {k}")
            ab.assert_bool(dc[k], f"difference carry {k} is boolean")
        ab.assert_zero(c[3], "no overflow of q·b + rem")
        ab.assert_zero(dc[3], "rem < b")
        for k in range(2, 4):
            ab.assert_zero(w32 * rem[k], f"32-bit remainder limb {k} is 0")
        for k in range(4):
            q_k = qb[2 * k] + qb[2 * k + 1] * 256
            value = is_div * q_k + is_mod * rem[k]
            if k >= 2:
                value = w64 * value
            ab.assert_zero(ok * (o.r[k] - value), f"result limb {k}")
            ab.assert_zero(bz * (o.r[k] - o.a[k]), f"dst unchanged on a fault ({k})")
        o.finish(ab, fe)
        fe.send_state(fe.pc + 1, multiplicity=ok)
        fe.send_halt(Status.DIVIDE_BY_ZERO, bz)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Src at ts (X), dst at ts + 1."""
        return operands.accesses(rows, self.ops)

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Quotient and remainder recomputed from the operands."""
        lay, n = self.layout, len(rows)
        a, b, _ = operands.fill(t, lay, rows, results, lookups, self.ops)
        names = np.array([o.name.removesuffix(".x") for o in self.ops])[rows.op]
        is32 = np.char.endswith(names, "32")
        mask = np.where(is32, np.uint64(0xFFFFFFFF), np.uint64(0xFFFFFFFFFFFFFFFF))
        a2, b2 = a & mask, b & mask
        zero = b2 == 0
        safe = np.where(zero, np.uint64(1), b2)
        q = np.where(zero, np.uint64(0), a2 // safe)
        rem = np.where(zero, a2, a2 % safe)
        xq, xb = operands.byte_columns(q), operands.byte_columns(b2)
        t[:, lay.span("qb")] = xq
        t[:, lay.span("bb")] = xb
        rl = limb_columns(rem)
        t[:, lay.span("rem")] = rl
        al = limb_columns(a2)
        bl = limb_columns(b2)
        carry = np.zeros((n, 4), dtype=np.int64)
        c = np.zeros(n, dtype=np.int64)
        for k in range(4):
            c = (product_limb_values(xq, xb, k) + rl[:, k] + c - al[:, k]) >> 16
            carry[:, k] = c
        carry[zero] = 0
        t[:, lay.span("carry")] = carry
        diff = limb_columns(np.where(zero, np.uint64(0), b2 - np.uint64(1) - rem))
        t[:, lay.span("diff")] = diff
        dc = np.zeros((n, 4), dtype=np.int64)
        cc = np.ones(n, dtype=np.int64)
        for k in range(4):
            cc = (rl[:, k] + diff[:, k] + cc - bl[:, k]) >> 16
            dc[:, k] = cc
        dc[zero] = 0
        t[:, lay.span("dc")] = dc
        t[:, lay.index("bz")] = zero
        t[:, lay.index("binv")] = inverse_or_zero(xb.sum(axis=1))
        if zero.any():  # the faulting row writes dst back unchanged
            t[zero, lay.span("d_new")] = limb_columns(a)[zero]
        lookups.byte_pairs(xb[:, 0::2], xb[:, 1::2])
        lookups.byte_pairs(xq[:, 0::2], xq[:, 1::2])
        lookups.u16(rl)
        lookups.u16(carry)
        lookups.u16(diff)
