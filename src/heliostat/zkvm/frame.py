"""The instruction frame every instruction chip carries, and register/memory access helpers.

A chip row is one executed instruction. Its frame consumes the execution state (pc, ts, cu,
image, space) from the STATE bus and produces the next one (image and address space
unchanged: only switch rows change them), fetches the instruction from the program table
(FETCH), and reads or writes registers through the memory argument (MEMORY, with a U16 check
of the timestamp gap). The opcode a row executes is Σ flag·opcode over the chip's one-hot
operation flags, so a row can only run an opcode its chip implements.

`FrameSpec` declares the columns; `FrameEval` emits constraints and interactions inside
`Air.eval`; `fill_frame` and `fill_access` fill the same columns in a trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, as_expr, sum_exprs
from heliostat.zkvm.buses import HALT_BASE, TS_STEP, WORD_LIMIT, Bus, limbs
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

U32 = NDArray[np.uint32]
I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]


@dataclass(frozen=True)
class Op:
    """One operation a chip executes: a name and its opcode byte."""

    name: str
    opcode: int


class FrameSpec:
    """Adds the frame columns to a layout: pc, ts, cu, image and one flag per operation."""

    def __init__(self, layout: Layout, ops: Sequence[Op]) -> None:
        self.ops = tuple(ops)
        layout.add("pc")
        layout.add("ts")
        layout.add("cu")
        layout.add("image")  # the code image the row runs in (index into the public list)
        layout.add("space")  # the address space of its registers and memory (0: the kernel's)
        layout.add("op", len(self.ops))
        self.layout = layout

    def op_index(self, name: str) -> int:
        """Position of an operation's flag."""
        for i, o in enumerate(self.ops):
            if o.name == name:
                return i
        raise KeyError(name)


class FrameEval:
    """The frame's constraints and interactions for one chip's ``eval``."""

    def __init__(self, ab: AirBuilder, row: Row, spec: FrameSpec) -> None:
        self.ab = ab
        self.row = row
        self.spec = spec
        self.flags = row.many("op")
        for flag, o in zip(self.flags, spec.ops, strict=True):
            ab.assert_bool(flag, f"flag {o.name} is boolean")
        self.active = sum_exprs(self.flags)
        ab.assert_bool(self.active, "at most one operation per row")
        self.opcode = sum_exprs(f * o.opcode for f, o in zip(self.flags, spec.ops, strict=True))
        self.pc = row.one("pc")
        self.ts = row.one("ts")
        self.cu = row.one("cu")
        self.image = row.one("image")
        self.space = row.one("space")

    def flag(self, name: str) -> Expr:
        """Return the flag of an operation.

        For a chip with both forms, "add64" is the sum of its K form ("add64") and X form
        ("add64.x").
        """
        picked = [
            f
            for f, o in zip(self.flags, self.spec.ops, strict=True)
            if o.name == name or o.name == f"{name}.x"
        ]
        if not picked:
            raise KeyError(name)
        return sum_exprs(picked)

    def any_of(self, *names: str) -> Expr:
        """Return the sum of some operations' flags (boolean, since they are one-hot)."""
        return sum_exprs(self.flag(n) for n in names)

    @property
    def is_x(self) -> Expr:
        """1 on rows whose operation takes its operand from a register (X form)."""
        return sum_exprs(
            f for f, o in zip(self.flags, self.spec.ops, strict=True) if o.name.endswith(".x")
        )

    def receive_state(self) -> None:
        """Consume (pc, ts, cu, image, space)."""
        state = [self.pc, self.ts, self.cu, self.image, self.space]
        self.ab.receive(Bus.STATE, state, self.active, "state in")

    def send_state(
        self,
        next_pc: Expr | int,
        *,
        cost: Expr | int = 1,
        ts_step: int = TS_STEP,
        multiplicity: Expr | None = None,
        ts_next: Expr | None = None,
    ) -> None:
        """Produce (next_pc, ts + ts_step (or ts_next), cu − cost, image, space)."""
        mult = self.active if multiplicity is None else multiplicity
        ts = self.ts + ts_step if ts_next is None else ts_next
        state = [as_expr(next_pc), ts, self.cu - cost, self.image, self.space]
        self.ab.send(Bus.STATE, state, mult, "state out")

    def send_halt(self, status: Expr | int, multiplicity: Expr, *, cost: Expr | int = 1) -> None:
        """End the execution: (HALT_BASE + status, pc, cu − cost, image, space)."""
        self.ab.send(
            Bus.STATE,
            [HALT_BASE + as_expr(status), self.pc, self.cu - cost, self.image, self.space],
            multiplicity,
            "halt",
        )

    def fetch(
        self,
        *,
        dst: Expr | int = 0,
        src: Expr | int = 0,
        off: Expr | int = 0,
        off_neg: Expr | int = 0,
        imm: Sequence[Expr | int] = (0, 0, 0, 0),
        target: Expr | int = 0,
        multiplicity: Expr | None = None,
    ) -> None:
        """Look the instruction up in the row's image (fields normalised as the table has them)."""
        mult = self.active if multiplicity is None else multiplicity
        values = [self.pc, self.opcode, dst, src, off, off_neg, *imm, target, self.image]
        self.ab.send(Bus.FETCH, values, mult, "fetch")


def access(
    ab: AirBuilder,
    addr: Expr | int,
    old: Sequence[Expr | int],
    new: Sequence[Expr | int],
    t_prev: Expr,
    t_now: Expr,
    multiplicity: Expr,
    name: str,
    *,
    limit: Expr | int = WORD_LIMIT,
    space: Expr | int = 0,
) -> None:
    """One access of the memory argument: old value at t_prev in, new value at t_now out.

    ``space`` is the address space (a frame chip passes its row's ``fe.space``; 0 is the
    kernel's, the only one a service that is not space-aware may touch).
    """
    ab.receive(Bus.MEMORY, [addr, limit, *old, t_prev, space], multiplicity, f"{name} read")
    ab.send(Bus.MEMORY, [addr, limit, *new, t_now, space], multiplicity, f"{name} write")
    ab.send(Bus.U16, [t_now - t_prev - 1], multiplicity, f"{name} time gap")


# --- trace side ---------------------------------------------------------------------------


@dataclass
class StepRows:
    """The executed instructions a chip proves (one entry per row), from the VM trace.

    ``imm`` is the decoded immediate (sign-extended; the full value for lddw) as uint64;
    ``op`` is the index of the row's operation in the chip's FrameSpec.
    """

    step: I64
    pc: I64
    ts: I64
    cu: I64
    op: I64
    opcode: I64
    dst: I64
    src: I64
    off: I64
    imm: U64
    dst_in: U64
    src_in: U64
    result: U64
    next_pc: I64
    mem_addr: U64
    mem: I64
    extra: dict[str, NDArray[np.int64]] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.step.shape[0])

    def subset(self, index: I64) -> StepRows:
        """Return the rows at ``index`` (in that order)."""
        parts = {
            name: getattr(self, name)[index]
            for name in self.__dataclass_fields__
            if name != "extra"
        }
        return StepRows(**parts, extra={k: v[index] for k, v in self.extra.items()})


def limb_columns(values: U64) -> NDArray[np.int64]:
    """(n,) uint64 → (n, 4) int64 limbs."""
    v = np.asarray(values, dtype=np.uint64)
    out = np.empty((v.shape[0], 4), dtype=np.int64)
    for k in range(4):
        out[:, k] = ((v >> np.uint64(16 * k)) & np.uint64(0xFFFF)).astype(np.int64)
    return out


def fill_frame(trace: NDArray[np.int64], layout: Layout, rows: StepRows) -> None:
    """Fill pc, ts, cu, image and space (``extra``, else 0) and the operation flags."""
    n = len(rows)
    trace[:n, layout.index("pc")] = rows.pc
    trace[:n, layout.index("ts")] = rows.ts
    trace[:n, layout.index("cu")] = rows.cu
    if "image" in rows.extra:
        trace[:n, layout.index("image")] = rows.extra["image"]
    if "space" in rows.extra:
        trace[:n, layout.index("space")] = rows.extra["space"]
    flags = layout.span("op")
    trace[np.arange(n), flags.start + rows.op] = 1


def fill_access(
    trace: NDArray[np.int64],
    layout: Layout,
    prefix: str,
    old: U64,
    new: U64 | None,
    t_prev: I64,
    t_now: I64,
    active: NDArray[np.bool_],
    lookups: LookupCounts,
) -> None:
    """Fill an access's columns (``prefix``_old, _new, _t) and count its time-gap lookup."""
    n = old.shape[0]
    trace[:n, layout.span(f"{prefix}_old")] = limb_columns(old)
    if new is not None:
        trace[:n, layout.span(f"{prefix}_new")] = limb_columns(new)
    trace[:n, layout.index(f"{prefix}_t")] = np.where(active, t_prev, 0)
    lookups.u16((t_now - t_prev - 1)[active])


def fill_time(
    trace: NDArray[np.int64],
    layout: Layout,
    prefix: str,
    t_prev: I64,
    t_now: I64,
    active: NDArray[np.bool_],
    lookups: LookupCounts,
) -> None:
    """Fill only an access's previous-timestamp column (values are expressions elsewhere)."""
    trace[: t_prev.shape[0], layout.index(f"{prefix}_t")] = np.where(active, t_prev, 0)
    lookups.u16((t_now - t_prev - 1)[active])


def inverse_or_zero(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Field inverse of each value (0 for 0), values taken mod p."""
    from heliostat.stark.field import P, batch_inverse

    v = np.asarray(values, dtype=np.int64) % P
    out = np.zeros(v.shape[0], dtype=np.int64)
    nz = np.flatnonzero(v)
    if nz.size:
        out[nz] = batch_inverse(v[nz].astype(np.uint32)).astype(np.int64)
    return out


def to_field(trace: NDArray[np.int64]) -> U32:
    """Reduce an int64 trace (entries may be negative) to canonical field elements."""
    from heliostat.stark.field import P

    return np.ascontiguousarray((trace % P).astype(np.uint32))


__all__ = ["FrameEval", "FrameSpec", "Op", "StepRows", "access", "fill_frame", "limbs"]
