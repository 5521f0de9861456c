"""sol_memcpy_, sol_memmove_ and sol_memset_: the syscall row; the bytes move in memcopy_chip.

The row reads dst (r1), src or the fill byte (r2) and n (r3, below 2^32), charges agave's
max(10, ⌊n/250⌋) (proven with n = 250·q + rem), proves the destination range writable and
the source range readable (slice_check; an empty range is not translated), and for memcpy
that the ranges do not overlap. It starts the copy chain at dst's first word, or, when dst is
above src in the same region, at its last word (so an overlapping memmove reads before it
writes), with src − dst = 8q + s; it receives the chain's end with the next free timestamp,
writes r0 = 0 and moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.svm import opcodes as op
from heliostat.zkvm import slice_check
from heliostat.zkvm.buses import REGION_SHIFT, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.frame import (
    FrameEval,
    Op,
    StepRows,
    access,
    fill_access,
    inverse_or_zero,
)
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memcopy_chip import KIND_MOVE, KIND_SET
from heliostat.zkvm.syscall_chip import region_lengths, syscall_fetch
from heliostat.zkvm.u16_chip import LookupCounts

NAMES = ("sol_memcpy_", "sol_memmove_", "sol_memset_")
MEM_OP_BASE = 10
BYTES_PER_UNIT = 250
_SCALARS = (
    "cq",
    "crem",
    "big",
    "c_lo",
    "c_hi",
    "cost",
    "empty",
    "inv_n",
    "dir",
    "same",
    "inv_same",
    "o_lo",
    "o_hi",
    "v_lo",
    "v_hi",
    "dq",
    "dk",
    "sq",
    "sk",
    "bs",
    "e0",
    "e1",
    "eq",
    "ek",
    "wf",
    "ef",
    "fill",
    "fill_hi",
    "t_end",
)


class SyscallMemChip(InstructionChip):
    """The memory syscalls that move bytes."""

    name = "syscall_mem"
    ops = tuple(Op(n, op.CALL_IMM) for n in NAMES)

    def define(self, layout: Layout) -> None:
        """Define registers, cost, ranges, direction, the chain's start."""
        for r in ("r1", "r2", "r3", "r0"):
            layout.add(f"{r}_old", 4)
            layout.add(f"{r}_t")
        for name in _SCALARS:
            layout.add(name)
        slice_check.define(layout, "sd")
        slice_check.define(layout, "ss")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Arguments, cost, ranges, direction, chain."""
        c = {n: row.one(n) for n in _SCALARS}
        cpy, mov, st = fe.flag("sol_memcpy_"), fe.flag("sol_memmove_"), fe.flag("sol_memset_")
        moves = cpy + mov
        r1, r2, r3, r0 = (row.many(f"{r}_old") for r in ("r1", "r2", "r3", "r0"))
        ts = fe.ts
        ab.assert_zero(fe.active * r3[2], "n below 2^32")
        ab.assert_zero(fe.active * r3[3], "n below 2^48")
        n = r3[0] + r3[1] * 65536
        empty = c["empty"]
        for name in ("big", "empty", "dir", "same", "bs"):
            ab.assert_bool(c[name], f"{name} is boolean")
        ab.assert_zero(empty * n, "empty ⇒ n = 0")
        ab.assert_zero(fe.active - empty - n * c["inv_n"], "n = 0 ⇒ empty")
        work = fe.active - empty
        move_work = moves * (1 - empty)
        # cost: max(10, ⌊n/250⌋)
        ab.assert_zero(fe.active * (n - c["cq"] * BYTES_PER_UNIT - c["crem"]), "n = 250q + rem")
        ab.send(Bus.U16, [c["crem"]], fe.active, "rem ≥ 0")
        ab.send(Bus.U16, [BYTES_PER_UNIT - 1 - c["crem"]], fe.active, "rem < 250")
        big = c["big"]
        cmp_q = big * (c["cq"] - MEM_OP_BASE) + (1 - big) * (MEM_OP_BASE - 1 - c["cq"])
        ab.assert_zero(fe.active * (cmp_q - c["c_lo"] - c["c_hi"] * 65536), "q vs 10")
        ab.send(Bus.U16, [c["c_lo"]], fe.active, "q vs 10 low")
        ab.send(Bus.U16, [c["c_hi"]], fe.active, "q vs 10 high")
        ab.assert_zero(fe.active * (c["cost"] - big * c["cq"] - (1 - big) * MEM_OP_BASE), "cost")
        # ranges (checked against space 0's regions; the copy chain is space 0's)
        ab.assert_zero(fe.active * fe.space, "memory syscalls run in space 0")
        lengths = region_lengths(ab)
        slice_check.constrain(ab, row, "sd", r1, n, work, lengths, n_hi=r3[1], store=1)
        slice_check.constrain(ab, row, "ss", r2, n, move_work, lengths, n_hi=r3[1])
        # direction and overlap (same region only: ranges in different regions are far apart)
        ab.assert_zero(c["same"] * (r1[2] - r2[2]), "same region")
        ab.assert_zero(moves - c["same"] - (r1[2] - r2[2]) * c["inv_same"], "regions differ")
        ab.assert_zero(c["dir"] * (1 - c["same"]), "backward only within a region")
        ab.assert_zero(st * c["dir"], "fills go forward")
        off_d, off_s = r1[0] + r1[1] * 65536, r2[0] + r2[1] * 65536
        dd = off_d - off_s
        d = c["dir"]
        sign = d * (dd - 1) + (1 - d) * (0 - dd)
        ab.assert_zero(c["same"] * (sign - c["o_lo"] - c["o_hi"] * 65536), "dst above src?")
        ab.send(Bus.U16, [c["o_lo"]], c["same"], "order low")
        ab.send(Bus.U16, [c["o_hi"]], c["same"], "order high")
        gap = d * (dd - n) + (1 - d) * (0 - dd - n)
        no_overlap = cpy * c["same"]
        ab.assert_zero(no_overlap * (gap - c["v_lo"] - c["v_hi"] * 65536), "memcpy: no overlap")
        ab.send(Bus.U16, [c["v_lo"]], no_overlap, "distance low")
        ab.send(Bus.U16, [c["v_hi"]], no_overlap, "distance high")
        # first word and byte, source offset, fill byte
        ab.send(Bus.DIV8, [r1[0], c["dq"], c["dk"]], work, "dst = 8·word + k")
        ab.send(Bus.DIV8, [r2[0], c["sq"], c["sk"]], move_work, "src = 8·word + k")
        w_dst = r1[2] * REGION_SHIFT + r1[1] * 8192 + c["dq"]
        w_src = r2[2] * REGION_SHIFT + r2[1] * 8192 + c["sq"]
        s_expr = c["sk"] - c["dk"] + c["bs"] * 8
        ab.send(Bus.DIV8, [s_expr, 0, s_expr], move_work, "shift in 0..7")
        q = moves * (w_src - w_dst - c["bs"])
        s_val = moves * s_expr
        ab.assert_eq(r2[0], c["fill"] + c["fill_hi"] * 256, "fill byte")
        ab.send(Bus.BYTES, [c["fill"], c["fill_hi"]], st, "fill byte is a byte")
        end = off_d + n - 1
        ab.assert_zero(d * (end - c["e0"] - c["e1"] * 65536), "last byte")
        ab.send(Bus.U16, [c["e1"]], d, "last byte high")
        ab.send(Bus.DIV8, [c["e0"], c["eq"], c["ek"]], d, "last byte = 8·word + k")
        w_end = r1[2] * REGION_SHIFT + c["e1"] * 8192 + c["eq"]
        ab.assert_zero(work * (c["wf"] - (1 - d) * w_dst - d * w_end), "first word of the chain")
        ab.assert_zero(work * (c["ef"] - (1 - d) * c["dk"] - d * (c["ek"] + 1)), "first edge")
        kind = moves * KIND_MOVE + st * KIND_SET
        ab.send(
            Bus.COPY,
            [ts, kind, d, n, q, s_val, st * c["fill"], c["wf"], c["ef"], 0, ts + 2],
            work,
            "start the copy",
        )
        ab.receive(Bus.COPY_DONE, [ts, c["t_end"]], work, "copy done")
        ab.assert_zero(empty * (c["t_end"] - ts - 2), "an empty copy takes no time")
        # registers, r0 = 0, next state
        access(ab, 1, r1, r1, row.one("r1_t"), ts, fe.active, "r1", space=fe.space)
        access(ab, 2, r2, r2, row.one("r2_t"), ts, fe.active, "r2", space=fe.space)
        access(ab, 3, r3, r3, row.one("r3_t"), ts, fe.active, "r3", space=fe.space)
        access(ab, 0, r0, [0, 0, 0, 0], row.one("r0_t"), ts + 1, fe.active, "r0", space=fe.space)
        syscall_fetch(fe, NAMES)
        fe.send_state(
            fe.pc + 1, cost=c["cost"] + 1, ts_step=0, multiplicity=None, ts_next=c["t_end"]
        )

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """r1..r3 at ts, r0 at ts + 1."""
        n = len(rows)
        return [
            read_slot("r1", np.full(n, 1), rows.ts),
            read_slot("r2", np.full(n, 2), rows.ts),
            read_slot("r3", np.full(n, 3), rows.ts),
            write_slot("r0", np.zeros(n, np.int64), rows.ts + 1, np.zeros(n, np.uint64)),
        ]

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Arguments from the scan; every derived column."""
        lay, n_rows = self.layout, len(rows)
        ones = np.ones(n_rows, dtype=bool)
        res = {r: results[r] for r in ("r1", "r2", "r3", "r0")}
        for r in ("r1", "r2", "r3"):
            fill_access(t, lay, r, res[r].old, None, res[r].t_prev, rows.ts, ones, lookups)
        fill_access(t, lay, "r0", res["r0"].old, None, res["r0"].t_prev, rows.ts + 1, ones, lookups)
        names = np.array(NAMES)[rows.op]
        moves = names != "sol_memset_"
        cpy = names == "sol_memcpy_"
        dst = res["r1"].old.astype(np.int64)
        src = res["r2"].old.astype(np.int64)
        n = res["r3"].old.astype(np.int64)
        empty = n == 0
        work = ~empty
        col = {name: lay.index(name) for name in _SCALARS}
        cq, crem = n // BYTES_PER_UNIT, n % BYTES_PER_UNIT
        big = cq >= MEM_OP_BASE
        cmp_q = np.where(big, cq - MEM_OP_BASE, MEM_OP_BASE - 1 - cq)
        sizes = rows.extra["regions"]
        lengths = {1: int(sizes[0, 0]), 3: int(sizes[0, 1]), 4: int(sizes[0, 2])}
        slice_check.fill(t, lay, "sd", res["r1"].old, n, work, lengths, lookups)
        slice_check.fill(t, lay, "ss", res["r2"].old, n, moves & work, lengths, lookups)
        region_d, region_s = dst >> 32, src >> 32
        off_d, off_s = dst & 0xFFFFFFFF, src & 0xFFFFFFFF
        same = moves & (region_d == region_s)
        backward = same & (off_d > off_s)
        order = np.where(backward, off_d - off_s - 1, off_s - off_d)
        gap = np.where(backward, off_d - off_s - n, off_s - off_d - n)
        no_overlap = cpy & same
        end = off_d + n - 1
        dk, sk = off_d & 7, off_s & 7
        bs = (sk < dk).astype(np.int64)
        w_dst = region_d * REGION_SHIFT + (off_d >> 3)
        w_end = region_d * REGION_SHIFT + (end >> 3)
        values = {
            "cq": cq,
            "crem": crem,
            "big": big,
            "c_lo": cmp_q & 0xFFFF,
            "c_hi": cmp_q >> 16,
            "cost": rows.extra["units"],
            "empty": empty,
            "inv_n": inverse_or_zero(n),
            "dir": backward,
            "same": same,
            "inv_same": np.where(moves & ~same, inverse_or_zero(region_d - region_s), 0),
            "o_lo": np.where(same, order & 0xFFFF, 0),
            "o_hi": np.where(same, order >> 16, 0),
            "v_lo": np.where(no_overlap, gap & 0xFFFF, 0),
            "v_hi": np.where(no_overlap, gap >> 16, 0),
            "dq": np.where(work, (dst & 0xFFFF) >> 3, 0),
            "dk": np.where(work, dk, 0),
            "sq": np.where(moves & work, (src & 0xFFFF) >> 3, 0),
            "sk": np.where(moves & work, sk, 0),
            "bs": np.where(moves & work, bs, 0),
            "e0": np.where(backward, end & 0xFFFF, 0),
            "e1": np.where(backward, end >> 16, 0),
            "eq": np.where(backward, (end & 0xFFFF) >> 3, 0),
            "ek": np.where(backward, end & 7, 0),
            "wf": np.where(work, np.where(backward, w_end, w_dst), 0),
            "ef": np.where(work, np.where(backward, (end & 7) + 1, dk), 0),
            "fill": (src & 0xFF),
            "fill_hi": (src & 0xFFFF) >> 8,
            "t_end": rows.extra["t_end"],
        }
        for name, v in values.items():
            t[:, col[name]] = v
        lookups.u16(np.concatenate([crem, BYTES_PER_UNIT - 1 - crem, cmp_q & 0xFFFF, cmp_q >> 16]))
        lookups.u16(np.concatenate([order[same] & 0xFFFF, order[same] >> 16]))
        lookups.u16(np.concatenate([gap[no_overlap] & 0xFFFF, gap[no_overlap] >> 16]))
        lookups.div8(dst[work] & 0xFFFF)
        lookups.div8((src & 0xFFFF)[moves & work])
        lookups.div8((sk - dk + 8 * bs)[moves & work])
        st = ~moves
        lookups.byte_pairs((src & 0xFF)[st], ((src & 0xFFFF) >> 8)[st])
        lookups.u16((end >> 16)[backward])
        lookups.div8((end & 0xFFFF)[backward])
