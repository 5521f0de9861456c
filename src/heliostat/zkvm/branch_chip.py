"""ja and the conditional jumps (jset is in bitwise_chip), K and X forms.

δ = a − b over 16-bit limbs with borrows; δ's limbs are range-checked, so the final borrow is
a <ᵤ b. Equality: Σδ = 0 (limbs are small, so the sum vanishes only when all do), proven with
an inverse. Signed order from the sign bits of a and b (U16_MSB): different signs decide,
equal signs defer to the unsigned order. `taken` is the chosen condition; the next pc is the
program table's target when taken, pc + 1 otherwise.
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
from heliostat.zkvm.frame import FrameEval, Op, StepRows, inverse_or_zero, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

CONDITIONS = {
    "jeq": op.JMP_JEQ,
    "jne": op.JMP_JNE,
    "jgt": op.JMP_JGT,
    "jge": op.JMP_JGE,
    "jlt": op.JMP_JLT,
    "jle": op.JMP_JLE,
    "jsgt": op.JMP_JSGT,
    "jsge": op.JMP_JSGE,
    "jslt": op.JMP_JSLT,
    "jsle": op.JMP_JSLE,
}


class BranchChip(InstructionChip):
    """Jumps (immediate or register operand)."""

    name = "branch"
    ops = (
        Op("ja", op.JA),
        *operands.both_forms([(n, op.CLS_JMP | code) for n, code in CONDITIONS.items()]),
    )

    def define(self, layout: Layout) -> None:
        """Operands, difference limbs and borrows, comparison bits, next pc."""
        operands.define(layout, writes=False)
        layout.add("delta", 4)
        layout.add("borrow", 4)
        for name in ("eq", "inv", "sa", "sb", "lts", "taken", "target", "next_pc"):
            layout.add(name)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Comparison, condition, next pc."""
        o = operands.Operands(row, writes=False)
        a, b = o.a, o.b
        delta, c = row.many("delta"), row.many("borrow")
        eq, inv, sa, sb, lts = (row.one(n) for n in ("eq", "inv", "sa", "sb", "lts"))
        taken, target, next_pc = row.one("taken"), row.one("target"), row.one("next_pc")
        for k in range(4):
            ab.assert_bool(c[k], f"borrow {k} is boolean")
            carry_in: Expr | int = c[k - 1] if k else 0
            ab.assert_zero(delta[k] + b[k] + carry_in - a[k] - c[k] * 65536, f"a − b limb {k}")
            ab.send(Bus.U16, [delta[k]], fe.active, f"δ limb {k}")
        lt = c[3]
        total = sum_exprs(delta)
        ab.assert_bool(eq, "eq is boolean")
        ab.assert_zero(eq * total, "eq ⇒ δ = 0")
        ab.assert_zero(fe.active * (1 - eq - total * inv), "δ = 0 ⇒ eq")
        ab.send(Bus.U16_MSB, [a[3], sa], fe.active, "sign of a")
        ab.send(Bus.U16_MSB, [b[3], sb], fe.active, "sign of b")
        same = 1 - sa - sb + sa * sb * 2
        ab.assert_eq(lts, sa * (1 - sb) + same * lt, "signed less-than")
        cond = {
            "jeq": eq,
            "jne": 1 - eq,
            "jgt": (1 - lt) * (1 - eq),
            "jge": 1 - lt,
            "jlt": lt,
            "jle": lt + eq,
            "jsgt": (1 - lts) * (1 - eq),
            "jsge": 1 - lts,
            "jslt": lts,
            "jsle": lts + eq,
        }
        terms = [fe.flag(n) * cond[n] for n in CONDITIONS]
        terms.append(fe.flag("ja"))
        ab.assert_eq(taken, sum_exprs(terms), "taken")
        ab.assert_zero(fe.active * (next_pc - fe.pc - 1 - taken * (target - fe.pc - 1)), "next pc")
        o.finish(ab, fe, target=target)
        fe.send_state(next_pc)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Src at ts (X rows), dst at ts + 1 (both read; ja reads r0, its dst field is 0)."""
        rows.dst = np.where(rows.opcode == op.JA, 0, rows.dst)
        return operands.accesses(rows, self.ops, writes=False)

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Operands from the scan, comparison columns recomputed."""
        lay, n = self.layout, len(rows)
        is_ja = rows.opcode == op.JA
        imm = np.where(is_ja, np.uint64(0), rows.imm)
        a_val, b_val, _ = operands.fill(
            t,
            lay,
            rows,
            results,
            lookups,
            self.ops,
            writes=False,
            imm=imm,
            dst=np.where(is_ja, 0, rows.dst),
        )
        a, b = limb_columns(a_val), limb_columns(b_val)
        delta = limb_columns(a_val - b_val)
        borrow = np.zeros((n, 4), dtype=np.int64)
        c = np.zeros(n, dtype=np.int64)
        for k in range(4):
            c = (delta[:, k] + b[:, k] + c - a[:, k]) >> 16
            borrow[:, k] = c
        t[:, lay.span("delta")] = delta
        t[:, lay.span("borrow")] = borrow
        total = delta.sum(axis=1)
        t[:, lay.index("eq")] = total == 0
        t[:, lay.index("inv")] = inverse_or_zero(total)
        sa, sb = a[:, 3] >> 15, b[:, 3] >> 15
        t[:, lay.index("sa")] = sa
        t[:, lay.index("sb")] = sb
        lt = borrow[:, 3]
        t[:, lay.index("lts")] = np.where(sa != sb, sa, lt)
        target = rows.pc + 1 + rows.off
        taken = np.where(is_ja, 1, rows.result.astype(np.int64))  # the VM records taken
        t[:, lay.index("taken")] = taken
        t[:, lay.index("target")] = target
        t[:, lay.index("next_pc")] = rows.next_pc
        lookups.u16(delta)
        lookups.msb(np.concatenate([a[:, 3], b[:, 3]]))
