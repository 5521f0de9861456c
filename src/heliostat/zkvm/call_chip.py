"""Calls and returns: call (to a function), callx, exit, and the frame boundary.

The frame pointer r10 = 0x2_0000_1000 + 0x2000·d is held as depth digits d = d_lo + 8·d_hi
(r10's limbs are (0x1000 + 0x2000·d_lo, d_hi, 2, 0)); only calls and exits write r10, so it
always has this form. A call at depth d reads r6–r9, saves them and the return pc in
FRAME[d] (receiving the empty frame left by the previous exit at that depth), and moves r10
to depth d + 1; d + 1 = 64 is CallDepthExceeded. An exit at depth d ≥ 1 takes FRAME[d − 1]
back (leaving it empty), restores r6–r9 and r10 and continues at the saved return pc; at depth
0 it halts the program. Calls and exits share one table (their columns overlap: the saved
registers are what a call reads and what an exit writes). FRAME is a memory argument with one
row per depth in the frame boundary, so an exit always gets the latest frame saved at its depth.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.svm import opcodes as op
from heliostat.zkvm.buses import FRAME_STRIDE, STACK_TOP, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.frame import (
    FrameEval,
    Op,
    StepRows,
    access,
    fill_access,
    fill_time,
    limb_columns,
)
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.status import Status
from heliostat.zkvm.u16_chip import LookupCounts

SAVED = (6, 7, 8, 9)
MAX_DEPTH = 64


def frame_pointer(lo: Expr, hi: Expr) -> list[Expr | int]:
    """r10's limbs at depth lo + 8·hi."""
    return [lo * FRAME_STRIDE + 0x1000, hi, 2, 0]


def _frame_gap(ab: AirBuilder, row: Row, t_now: Expr, mult: Expr) -> None:
    """t_now − t_prev − 1 < 2^32 (frames may stay untouched for long)."""
    gap = row.one("g_lo") + row.one("g_hi") * 65536
    ab.assert_zero(mult * (t_now - row.one("fr_t") - 1 - gap), "frame time gap")
    ab.send(Bus.U16, [row.one("g_lo")], mult, "frame gap low")
    ab.send(Bus.U16, [row.one("g_hi")], mult, "frame gap high")


class CallChip(InstructionChip):
    """call to a function, callx, and exit."""

    name = "call"
    ops = (Op("call", op.CALL_IMM), Op("callx", op.CALL_REG), Op("exit", op.EXIT))

    def define(self, layout: Layout) -> None:
        """Target register (callx), saved registers, depth digits, frame access."""
        layout.add("xreg")
        layout.add("x_old", 4)
        layout.add("x_t")
        layout.add("x_q")  # limb 0 of the callx target = 8·x_q + x_k
        layout.add("x_k")
        layout.add("r_old", 16)  # r6..r9 before the instruction
        layout.add("r_t", 4)
        layout.add("saved", 16)  # the frame's r6..r9
        layout.add("h_img", 5)  # callx: the row's image header (IMAGE: entry, text start, …)
        for name in (
            "fp_t",
            "d_lo",
            "d_hi",
            "e_lo",
            "e_hi",
            "deep",
            "top",
            "fd",
            "fr_t",
            "g_lo",
            "g_hi",
            "target",
            "next_pc",
        ):
            layout.add(name)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Target, registers, frame, depth limit; or the return."""
        call, callx, ex = fe.flag("call"), fe.flag("callx"), fe.flag("exit")
        calls = call + callx
        active, ts = fe.active, fe.ts
        deep, top = row.one("deep"), row.one("top")
        ab.assert_bool(deep, "deep is boolean")
        ab.assert_bool(top, "top is boolean")
        ab.assert_zero(deep * (1 - calls), "only calls go too deep")
        ab.assert_zero(top * (1 - ex), "only exits halt at the top")
        returns = ex - top
        d_lo, d_hi, e_lo, e_hi = (row.one(n) for n in ("d_lo", "d_hi", "e_lo", "e_hi"))
        d, e = d_lo + d_hi * 8, e_lo + e_hi * 8
        ab.assert_zero(calls * (e - d - 1), "a call: depth + 1")
        ab.assert_zero(ex * (e - d + 1 - top), "an exit: depth − 1 (unchanged when halting)")
        ab.assert_zero(top * d, "halting exits are at depth 0")
        ab.send(Bus.DIV8, [e, e_hi, e_lo], active, "new depth digits (≥ 0)")
        ab.send(Bus.DIV8, [e_hi, 0, e_hi], calls - deep, "depth below 64")
        ab.assert_zero(deep * (d - (MAX_DEPTH - 1)), "depth limit reached only at 63")
        # callx: target register, target = text + 8·next_pc + k
        x, xreg = row.many("x_old"), row.one("xreg")
        access(ab, xreg, x, x, row.one("x_t"), ts, callx, "callx target", space=fe.space)
        ab.send(Bus.DIV8, [x[0], row.one("x_q"), row.one("x_k")], callx, "target limb 0")
        ab.assert_zero(callx * (x[2] - 1), "target in the program region")
        ab.assert_zero(callx * x[3], "target below 2^48")
        header = row.many("h_img")
        ab.receive(Bus.IMAGE, [fe.image, *header], callx, "callx: the image's header")
        text_start = header[1]
        next_pc, target = row.one("next_pc"), row.one("target")
        slot = row.one("x_q") + x[1] * 8192 - text_start
        ab.assert_zero(calls * (next_pc - target - callx * slot), "next pc of a call")
        fe.fetch(imm=[xreg, 0, 0, 0], target=target)
        # r6..r9: read by a call (and saved), restored by a returning exit
        r_old, saved = row.many("r_old"), row.many("saved")
        for k in range(16):
            ab.assert_zero(calls * (saved[k] - r_old[k]), "a call saves r6–r9")
        for i, r in enumerate(SAVED):
            sl = slice(4 * i, 4 * i + 4)
            access(
                ab,
                r,
                r_old[sl],
                saved[sl],
                row.many("r_t")[i],
                ts + 1,
                calls + returns,
                f"r{r}",
                space=fe.space,
            )
        access(
            ab,
            10,
            frame_pointer(d_lo, d_hi),
            frame_pointer(e_lo, e_hi),
            row.one("fp_t"),
            ts + 1,
            active,
            "r10",
            space=fe.space,
        )
        # FRAME[fd]: fd = d for a call, d − 1 for a return
        fd = row.one("fd")
        ab.assert_zero(calls * (fd - d) + returns * (fd - e), "frame depth")
        empty = [0] * 17
        sp = fe.space
        ab.receive(Bus.FRAME, [fd, *empty, row.one("fr_t"), sp], calls, "empty frame")
        ab.send(Bus.FRAME, [fd, *saved, fe.pc + 1, ts, sp], calls, "saved frame")
        ab.receive(Bus.FRAME, [fd, *saved, next_pc, row.one("fr_t"), sp], returns, "frame back")
        ab.send(Bus.FRAME, [fd, *empty, ts, sp], returns, "frame emptied")
        _frame_gap(ab, row, ts, calls + returns)
        fe.send_state(next_pc, multiplicity=active - deep - top)
        fe.send_halt(Status.CALL_DEPTH_EXCEEDED, deep)
        fe.send_halt(Status.EXITED, top)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Callx target at ts; r6–r9 and r10 at ts + 1."""
        n = len(rows)
        callx = rows.opcode == op.CALL_REG
        is_exit = rows.opcode == op.EXIT
        returns = is_exit & (rows.next_pc >= 0)
        frame = rows.extra["frame"]  # an exit restores r6..r9, r10 (the generator's replay)
        slots = [read_slot("x", np.where(callx, rows.imm.astype(np.int64), 0), rows.ts, callx)]
        for i, r in enumerate(SAVED):
            value = frame[:, i].astype(np.uint64)
            slots.append(
                Slot(
                    f"r{r}",
                    np.full(n, r),
                    rows.ts + 1,
                    np.where(returns, 0xFF, 0).astype(np.uint8),
                    value,
                    ~is_exit | returns,
                )
            )
        # the new r10: a call's result; an exit's restored value (unchanged when halting)
        fp = np.where(is_exit, frame[:, 4].astype(np.uint64), rows.result)
        slots.append(write_slot("r10", np.full(n, 10), rows.ts + 1, fp))
        return slots

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Fill registers from the scan, depth digits, frame columns (fr_t set by the generator)."""
        lay, n = self.layout, len(rows)
        ones = np.ones(n, dtype=bool)
        callx = rows.opcode == op.CALL_REG
        is_exit = rows.opcode == op.EXIT
        returns = is_exit & (rows.next_pc >= 0)
        calls = ~is_exit
        x = results["x"]
        t[:, lay.index("xreg")] = np.where(callx, rows.imm.astype(np.int64), 0)
        fill_access(t, lay, "x", np.where(callx, x.old, 0), None, x.t_prev, rows.ts, callx, lookups)
        xl = limb_columns(np.where(callx, x.old, 0))
        t[:, lay.index("x_q")] = xl[:, 0] >> 3
        t[:, lay.index("x_k")] = xl[:, 0] & 7
        lookups.div8(xl[callx, 0])
        if "image_header" in rows.extra:  # the generator's per-row header of the row's image
            header = np.asarray(rows.extra["image_header"], dtype=np.int64)
            t[:, lay.span("h_img")] = np.where(callx[:, None], header, 0)
        touched = calls | returns
        r_old = np.zeros((n, 16), np.int64)
        saved = np.zeros((n, 16), np.int64)
        for i, r in enumerate(SAVED):
            s = results[f"r{r}"]
            r_old[:, 4 * i : 4 * i + 4] = limb_columns(np.where(touched, s.old, 0))
            saved[:, 4 * i : 4 * i + 4] = limb_columns(np.where(touched, s.new, 0))
            t[:, lay.index("r_t") + i] = np.where(touched, s.t_prev, 0)
            lookups.u16((rows.ts + 1 - s.t_prev - 1)[touched])
        t[:, lay.span("r_old")] = r_old
        t[:, lay.span("saved")] = saved
        fp = results["r10"]
        fill_time(t, lay, "fp", fp.t_prev, rows.ts + 1, ones, lookups)
        d = (fp.old.astype(np.int64) - STACK_TOP) // FRAME_STRIDE
        e = np.where(calls, d + 1, np.where(returns, d - 1, d))
        deep = calls & (e == MAX_DEPTH)
        for name, v in (
            ("d_lo", d & 7),
            ("d_hi", d >> 3),
            ("e_lo", e & 7),
            ("e_hi", e >> 3),
            ("fd", np.where(calls, d, np.where(returns, e, 0))),
        ):
            t[:, lay.index(name)] = v
        t[:, lay.index("deep")] = deep
        t[:, lay.index("top")] = is_exit & ~returns
        lookups.div8(e)
        lookups.div8((e >> 3)[calls & ~deep])
        t[:, lay.index("target")] = np.where(calls & ~callx, rows.next_pc, 0)
        t[:, lay.index("next_pc")] = np.where(is_exit & ~returns, 0, rows.next_pc)

    def frame_events(self, rows: StepRows, results: dict[str, SlotResult]) -> FrameEvents:
        """Return what the rows do to FRAME: depth, timestamp, saved content, push or pop."""
        is_exit = rows.opcode == op.EXIT
        returns = is_exit & (rows.next_pc >= 0)
        keep = ~is_exit | returns
        fp = results["r10"]
        d = (fp.old.astype(np.int64) - STACK_TOP) // FRAME_STRIDE
        depth = np.where(is_exit, d - 1, d)
        content = np.zeros((len(rows), 17), dtype=np.int64)
        for i, r in enumerate(SAVED):
            content[:, 4 * i : 4 * i + 4] = limb_columns(results[f"r{r}"].old)
        content[:, 16] = rows.pc + 1
        return FrameEvents(depth[keep], rows.ts[keep], content[keep], is_push=~is_exit[keep])


class FrameEvents:
    """Accesses to FRAME: depth, timestamp, content written (push) or read (pop), per event."""

    def __init__(
        self, depth: I64, ts: I64, content: NDArray[np.int64], *, is_push: NDArray[np.bool_]
    ) -> None:
        self.depth = depth
        self.ts = ts
        self.content = content
        self.is_push = is_push


FRAME_BND = Layout()
for _name in ("is_real", "depth", "t_init", "t_final", "has_next", "gap"):
    FRAME_BND.add(_name)
FRAME_BND.add("final", 17)


class FrameBoundaryChip:
    """Initial (empty) and final frame of every depth used, sorted by depth."""

    name = "frame_boundary"
    width = FRAME_BND.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Each depth once; frames start empty."""
        r = Row(ab.main.local, FRAME_BND)
        nxt = Row(ab.main.next, FRAME_BND)
        real, depth = r.one("is_real"), r.one("depth")
        ab.assert_bool(real, "is_real is boolean")
        ab.assert_bool(r.one("has_next"), "has_next is boolean")
        # frames of space 0 only, until activations have boundary rows of their own
        ab.send(Bus.FRAME, [depth, *([0] * 17), r.one("t_init"), 0], real, "initial frame")
        ab.receive(Bus.FRAME, [depth, *r.many("final"), r.one("t_final"), 0], real, "final frame")
        ab.when_transition().assert_eq(r.one("has_next"), nxt.one("is_real"), "has_next")
        ab.when_last_row().assert_zero(r.one("has_next"), "no next on the last row")
        ab.when_transition().assert_zero((1 - real) * nxt.one("is_real"), "real rows first")
        ab.when_transition().assert_zero(
            r.one("has_next") * (nxt.one("depth") - depth - 1 - r.one("gap")), "depths increase"
        )
        ab.send(Bus.U16, [r.one("gap")], r.one("has_next"), "depth gap")


def frame_scan(
    events: list[FrameEvents], lookups: LookupCounts
) -> tuple[dict[int, NDArray[np.int64]], NDArray[np.int64]]:
    """Replay FRAME: previous timestamp of each event (keyed by chip order) and boundary rows.

    Returns ({index of events entry: t_prev per event}, boundary trace).
    """
    rows = []
    for k, ev in enumerate(events):
        for i in range(ev.depth.shape[0]):
            rows.append((int(ev.depth[i]), int(ev.ts[i]), k, i))
    rows.sort()
    t_prev = {k: np.zeros(ev.depth.shape[0], dtype=np.int64) for k, ev in enumerate(events)}
    state: dict[int, tuple[int, NDArray[np.int64]]] = {}
    first: dict[int, int] = {}
    empty = np.zeros(17, dtype=np.int64)
    for depth, ts, k, i in rows:
        if depth not in state:
            first[depth] = ts - 1
            state[depth] = (ts - 1, empty)
        last_t, _ = state[depth]
        t_prev[k][i] = last_t
        ev = events[k]
        state[depth] = (ts, ev.content[i] if ev.is_push[i] else empty)
        gap = ts - last_t - 1
        lookups.u16(np.array([gap & 0xFFFF, gap >> 16]))
    depths = sorted(state)
    trace = np.zeros((len(depths), FRAME_BND.width), dtype=np.int64)
    for j, depth in enumerate(depths):
        trace[j, FRAME_BND.index("is_real")] = 1
        trace[j, FRAME_BND.index("depth")] = depth
        trace[j, FRAME_BND.index("t_init")] = first[depth]
        trace[j, FRAME_BND.index("t_final")] = state[depth][0]
        trace[j, FRAME_BND.span("final")] = state[depth][1]
        if j + 1 < len(depths):
            trace[j, FRAME_BND.index("has_next")] = 1
            trace[j, FRAME_BND.index("gap")] = depths[j + 1] - depth - 1
            lookups.u16(np.array([depths[j + 1] - depth - 1]))
    return t_prev, trace
