"""and, or, xor (64- and 32-bit) and jset, K and X forms: one BITWISE lookup per byte.

a and b are split into bytes tied to their limbs; each byte pair is looked up with the row's
operation (AND for jset), which also proves every byte is a byte. 32-bit forms zero-extend
(sBPF v0). jset writes nothing and jumps when a AND b ≠ 0 (Σ of the result bytes, with an
inverse, decides).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import sum_exprs
from heliostat.svm import opcodes as op
from heliostat.zkvm import operands
from heliostat.zkvm.buses import BitOp, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult
from heliostat.zkvm.frame import FrameEval, StepRows, inverse_or_zero
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

_OPS = {"and": (op.ALU_AND, BitOp.AND), "or": (op.ALU_OR, BitOp.OR), "xor": (op.ALU_XOR, BitOp.XOR)}


class BitwiseChip(InstructionChip):
    """Bitwise operations (immediate or register operand)."""

    name = "bitwise"
    ops = tuple(
        operands.both_forms(
            [
                (f"{n}{w}", (op.CLS_ALU64 if w == 64 else op.CLS_ALU32) | code)
                for n, (code, _) in _OPS.items()
                for w in (64, 32)
            ]
            + [("jset", op.CLS_JMP | op.JMP_JSET)]
        )
    )

    def define(self, layout: Layout) -> None:
        """Operands, bytes of a, b and the result, jump columns."""
        operands.define(layout)
        layout.add("ab", 8)
        layout.add("bb", 8)
        layout.add("cb", 8)
        for name in ("inv", "taken", "target", "next_pc"):
            layout.add(name)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Byte lookups, result limbs, jset's condition."""
        o = operands.Operands(row)
        xa, xb, xc = row.many("ab"), row.many("bb"), row.many("cb")
        jset = fe.flag("jset")
        tag = sum_exprs(
            fe.flag(f"{n}{w}") * int(bit) for n, (_, bit) in _OPS.items() for w in (64, 32)
        ) + jset * int(BitOp.AND)
        is64 = sum_exprs(fe.flag(f"{n}64") for n in _OPS)
        is32 = sum_exprs(fe.flag(f"{n}32") for n in _OPS)
        for i in range(8):
            ab.send(Bus.BITWISE, [tag, xa[i], xb[i], xc[i]], fe.active, f"byte {i}")
        result = operands.limbs_from_bytes(xc)
        for k in range(4):
            ab.assert_eq(o.a[k], xa[2 * k] + xa[2 * k + 1] * 256, f"a bytes {k}")
            ab.assert_eq(o.b[k], xb[2 * k] + xb[2 * k + 1] * 256, f"b bytes {k}")
            width = is64 if k >= 2 else is64 + is32
            ab.assert_eq(o.r[k], width * result[k] + jset * o.a[k], f"result limb {k}")
        # jset: taken iff some result byte is non-zero; r = a
        total = sum_exprs(xc)
        taken, target, next_pc = row.one("taken"), row.one("target"), row.one("next_pc")
        ab.assert_bool(taken, "taken is boolean")
        ab.assert_zero(taken * (1 - jset), "only jset jumps")
        ab.assert_zero(jset * (1 - taken) * total, "not taken ⇒ a AND b = 0")
        ab.assert_zero(taken * (1 - total * row.one("inv")), "taken ⇒ a AND b ≠ 0")
        ab.assert_zero(fe.active * (next_pc - fe.pc - 1 - taken * (target - fe.pc - 1)), "next pc")
        o.finish(ab, fe, target=target)
        fe.send_state(next_pc)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Src at ts (X), dst at ts + 1 (jset reads it only)."""
        jset = (rows.opcode & 0xF7) == (op.CLS_JMP | op.JMP_JSET)
        slots = list(operands.accesses(rows, self.ops))
        dst = slots[-1]
        dst.wmask = np.where(jset, 0, dst.wmask).astype(np.uint8)
        return slots

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Bytes, jump columns, lookups."""
        lay = self.layout
        a, b, _ = operands.fill(t, lay, rows, results, lookups, self.ops)
        names = np.array([o.name.removesuffix(".x") for o in self.ops])[rows.op]
        xa, xb = operands.byte_columns(a), operands.byte_columns(b)
        tags = np.array(
            [int(_OPS[n[:-2]][1]) if n != "jset" else int(BitOp.AND) for n in names], dtype=np.int64
        ).reshape(-1)
        xc = np.where(
            tags[:, None] == BitOp.AND,
            xa & xb,
            np.where(tags[:, None] == BitOp.OR, xa | xb, xa ^ xb),
        )
        t[:, lay.span("ab")] = xa
        t[:, lay.span("bb")] = xb
        t[:, lay.span("cb")] = xc
        jset = names == "jset"
        total = xc.sum(axis=1)
        taken = jset & (rows.result.astype(np.int64) == 1)
        t[:, lay.index("inv")] = np.where(taken, inverse_or_zero(total), 0)
        t[:, lay.index("taken")] = taken
        target = np.where(jset, rows.pc + 1 + rows.off, 0)
        t[:, lay.index("target")] = target
        t[:, lay.index("next_pc")] = rows.next_pc
        for bit in BitOp:
            sel = tags == bit
            lookups.bitwise(bit, xa[sel].ravel(), xb[sel].ravel())
