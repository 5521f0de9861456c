"""The operands of a two-operand instruction, shared by the ALU, bitwise, shift and branch chips.

a = dst's old value, b = the immediate (K form) or the src register (X form), and r = the
value written back to dst (a again for instructions that only read).

A chip handles both forms in one table: `b` holds the immediate on K rows (the FETCH message
carries it there) and the register on X rows (read at ts). Shared by the arithmetic, bitwise,
shift, multiply, divide and jump chips: columns, register accesses (src at ts, dst at
ts + 1), the FETCH message, and trace filling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.zkvm.chip import Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.frame import FrameEval, Op, StepRows, access, fill_access
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]


def define(layout: Layout, *, writes: bool = True) -> None:
    """dst, a (and r), src and b."""
    layout.add("dst")
    layout.add("d_old", 4)
    if writes:
        layout.add("d_new", 4)
    layout.add("d_t")
    layout.add("src")
    layout.add("s_old", 4)
    layout.add("s_t")


def both_forms(ops: Sequence[tuple[str, int]]) -> list[Op]:
    """K and X variants ("name", "name.x") of (name, K-form opcode) operations."""
    from heliostat.svm import opcodes as op

    out = []
    for name, code in ops:
        out.append(Op(name, code))
        out.append(Op(f"{name}.x", code | op.SRC_X))
    return out


class Operands:
    """Symbolic a, b, r of a row."""

    def __init__(self, row: Row, *, writes: bool = True) -> None:
        self.row = row
        self.a = row.many("d_old")
        self.r = row.many("d_new") if writes else self.a
        self.b = row.many("s_old")

    def finish(
        self,
        ab: AirBuilder,
        fe: FrameEval,
        *,
        target: Expr | int = 0,
        imm: Sequence[Expr | int] | None = None,
    ) -> None:
        """Register accesses and the FETCH message (``imm`` overrides the K-form immediate)."""
        row, dst, src = self.row, self.row.one("dst"), self.row.one("src")
        is_x = fe.is_x
        is_k = fe.active - is_x
        access(ab, src, self.b, self.b, row.one("s_t"), fe.ts, is_x, "src", space=fe.space)
        fetched_imm = imm if imm is not None else [is_k * b for b in self.b]
        fe.fetch(dst=dst, src=src, imm=fetched_imm, target=target)
        access(ab, dst, self.a, self.r, row.one("d_t"), fe.ts + 1, fe.active, "dst", space=fe.space)


def is_x_rows(rows: StepRows, ops: Sequence[Op]) -> NDArray[np.bool_]:
    """Rows of X-form instructions (the operand is a register)."""
    return np.array([o.name.endswith(".x") for o in ops], dtype=bool)[rows.op]


def accesses(rows: StepRows, ops: Sequence[Op], *, writes: bool = True) -> Sequence[Slot]:
    """Src read at ts (X rows), dst at ts + 1 (written with the step's result when ``writes``)."""
    x = is_x_rows(rows, ops)
    slots = [read_slot("src", np.where(x, rows.src, 0), rows.ts, x)]
    if writes:
        slots.append(write_slot("dst", rows.dst, rows.ts + 1, rows.result))
    else:
        slots.append(read_slot("dst", rows.dst, rows.ts + 1))
    return slots


def fill(
    t: I64,
    layout: Layout,
    rows: StepRows,
    results: dict[str, SlotResult],
    lookups: LookupCounts,
    ops: Sequence[Op],
    *,
    writes: bool = True,
    imm: U64 | None = None,
    dst: NDArray[np.int64] | None = None,
) -> tuple[U64, U64, U64]:
    """Fill the operand columns; return (a, b, r) as uint64 values.

    ``imm`` replaces the decoded immediate of K rows; ``dst`` the dst register.
    """
    n = len(rows)
    ones = np.ones(n, dtype=bool)
    x = is_x_rows(rows, ops)
    t[:, layout.index("dst")] = rows.dst if dst is None else dst
    d = results["dst"]
    fill_access(
        t, layout, "d", d.old, d.new if writes else None, d.t_prev, rows.ts + 1, ones, lookups
    )
    s = results["src"]
    t[:, layout.index("src")] = np.where(x, rows.src, 0)
    k_value = rows.imm if imm is None else imm
    b = np.where(x, s.old, np.asarray(k_value, np.uint64))
    fill_access(t, layout, "s", b, None, s.t_prev, rows.ts, x, lookups)
    return d.old, b, d.new


def byte_columns(values: U64) -> I64:
    """(n,) uint64 → (n, 8) bytes."""
    v = np.asarray(values, dtype=np.uint64)
    return np.stack(
        [((v >> np.uint64(8 * i)) & np.uint64(0xFF)).astype(np.int64) for i in range(8)], axis=1
    )


def limbs_from_bytes(b: Sequence[Expr]) -> list[Expr]:
    """Four limbs from eight byte expressions."""
    return [b[2 * i] + b[2 * i + 1] * 256 for i in range(4)]
