"""heliostat_publish(ptr, len): the kernel appends bytes to the public output.

The row reads src (r1) and n (r2, below 2^32), proves the source range readable (slice_check;
an empty range is not translated), reads the output cursor c (the cell OUTPUT_CURSOR, the
output's length so far) and writes c + n (below `MAX_OUTPUT`, so the output has at most 2^16
words), and starts a forward memory copy (memcopy_chip) from src to byte c of the output
region; it receives the copy's end with the next free timestamp, writes r0 = 0 and moves on
(cost 0). The output region is zero at the start and only publishes write it, in order, so
its words at the end are the concatenation of everything published; the output table
commits them (output_chip) and the public values carry the length and the hash.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.svm import opcodes as op
from heliostat.zkvm import slice_check
from heliostat.zkvm.buses import OUTPUT_CURSOR, REGION_OUTPUT, REGION_SHIFT, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.frame import FrameEval, Op, StepRows, access, fill_access, inverse_or_zero
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memcopy_chip import KIND_MOVE
from heliostat.zkvm.syscall_chip import region_lengths, syscall_fetch
from heliostat.zkvm.u16_chip import LookupCounts

NAME = "heliostat_publish"
_SCALARS = ("empty", "inv_n", "dq", "dk", "sq", "sk", "bs", "t_end")


class SyscallPublishChip(InstructionChip):
    """The kernel's public output."""

    name = "syscall_publish"
    ops = (Op(NAME, op.CALL_IMM),)

    def define(self, layout: Layout) -> None:
        """Define registers, the cursor, the copy's start."""
        for r in ("r1", "r2", "r0"):
            layout.add(f"{r}_old", 4)
            layout.add(f"{r}_t")
        layout.add("cur_old", 4)
        layout.add("cur_new", 4)
        layout.add("cur_t")
        for name in _SCALARS:
            layout.add(name)
        slice_check.define(layout, "ss")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Arguments, source range, cursor, copy, r0."""
        c = {n: row.one(n) for n in _SCALARS}
        r1, r2, r0 = (row.many(f"{r}_old") for r in ("r1", "r2", "r0"))
        cur, new = row.many("cur_old"), row.many("cur_new")
        ts, active, empty = fe.ts, fe.active, c["empty"]
        ab.assert_zero(active * r2[2], "n below 2^32")
        ab.assert_zero(active * r2[3], "n below 2^48")
        n = r2[0] + r2[1] * 65536
        ab.assert_bool(empty, "empty is boolean")
        ab.assert_bool(c["bs"], "bs is boolean")
        ab.assert_zero(empty * n, "empty ⇒ n = 0")
        ab.assert_zero(active - empty - n * c["inv_n"], "n = 0 ⇒ empty")
        work = active - empty
        ab.assert_zero(active * fe.space, "publishing is the kernel's (space 0)")
        slice_check.constrain(ab, row, "ss", r1, n, work, region_lengths(ab), n_hi=r2[1])
        # the cursor: c + n, below 2^19 (limbs: low 16 bits, then 3)
        ab.assert_eq(new[0] + new[1] * 65536, cur[0] + cur[1] * 65536 + n, "cursor += n")
        ab.assert_zero(active * new[2], "cursor limb 2")
        ab.assert_zero(active * new[3], "cursor limb 3")
        ab.send(Bus.U16, [new[0]], active, "cursor low")
        ab.send(Bus.DIV8, [new[1], 0, new[1]], active, "cursor below 2^19")
        access(
            ab, OUTPUT_CURSOR, cur, new, row.one("cur_t"), ts + 1, active, "cursor", space=fe.space
        )
        # the copy: from src to byte c of the output, forward
        ab.send(Bus.DIV8, [cur[0], c["dq"], c["dk"]], work, "c = 8·word + k")
        ab.send(Bus.DIV8, [r1[0], c["sq"], c["sk"]], work, "src = 8·word + k")
        w_dst = REGION_OUTPUT * REGION_SHIFT + cur[1] * 8192 + c["dq"]
        w_src = r1[2] * REGION_SHIFT + r1[1] * 8192 + c["sq"]
        s = c["sk"] - c["dk"] + c["bs"] * 8
        ab.send(Bus.DIV8, [s, 0, s], work, "shift in 0..7")
        q = w_src - w_dst - c["bs"]
        ab.send(
            Bus.COPY,
            [ts, KIND_MOVE, 0, n, q, s, 0, w_dst, c["dk"], 0, ts + 2],
            work,
            "start the copy",
        )
        ab.receive(Bus.COPY_DONE, [ts, c["t_end"]], work, "copy done")
        ab.assert_zero(empty * (c["t_end"] - ts - 2), "an empty publish takes no time")
        access(ab, 1, r1, r1, row.one("r1_t"), ts, active, "r1", space=fe.space)
        access(ab, 2, r2, r2, row.one("r2_t"), ts, active, "r2", space=fe.space)
        access(ab, 0, r0, [0, 0, 0, 0], row.one("r0_t"), ts + 1, active, "r0", space=fe.space)
        syscall_fetch(fe, [NAME])
        fe.send_state(fe.pc + 1, cost=1, ts_step=0, multiplicity=None, ts_next=c["t_end"])

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """r1, r2 at ts; r0 and the cursor at ts + 1."""
        n = len(rows)
        cursor = np.asarray(rows.extra["cursor"], np.int64)
        length = np.asarray(rows.extra["publish_len"], np.int64)
        return [
            read_slot("r1", np.full(n, 1), rows.ts),
            read_slot("r2", np.full(n, 2), rows.ts),
            write_slot("r0", np.zeros(n, np.int64), rows.ts + 1, np.zeros(n, np.uint64)),
            write_slot(
                "cursor",
                np.full(n, OUTPUT_CURSOR),
                rows.ts + 1,
                (cursor + length).astype(np.uint64),
            ),
        ]

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Arguments and cursor from the scan; the copy's start."""
        lay, n_rows = self.layout, len(rows)
        ones = np.ones(n_rows, dtype=bool)
        res = {r: results[r] for r in ("r1", "r2", "r0", "cursor")}
        for r in ("r1", "r2"):
            fill_access(t, lay, r, res[r].old, None, res[r].t_prev, rows.ts, ones, lookups)
        fill_access(t, lay, "r0", res["r0"].old, None, res["r0"].t_prev, rows.ts + 1, ones, lookups)
        cur = res["cursor"]
        fill_access(t, lay, "cur", cur.old, cur.new, cur.t_prev, rows.ts + 1, ones, lookups)
        src = res["r1"].old.astype(np.int64)
        n = res["r2"].old.astype(np.int64)
        c = cur.old.astype(np.int64)
        new = cur.new.astype(np.int64)
        work = n != 0
        dk, sk = c & 7, src & 7
        bs = (sk < dk).astype(np.int64)
        values = {
            "empty": ~work,
            "inv_n": inverse_or_zero(n),
            "dq": np.where(work, (c & 0xFFFF) >> 3, 0),
            "dk": np.where(work, dk, 0),
            "sq": np.where(work, (src & 0xFFFF) >> 3, 0),
            "sk": np.where(work, sk, 0),
            "bs": np.where(work, bs, 0),
            "t_end": rows.extra["t_end"],
        }
        for name, v in values.items():
            t[:, lay.index(name)] = v
        sizes = rows.extra["regions"]
        lengths = {1: int(sizes[0, 0]), 3: int(sizes[0, 1]), 4: int(sizes[0, 2])}
        slice_check.fill(t, lay, "ss", res["r1"].old, n, work, lengths, lookups)
        lookups.u16(new & 0xFFFF)
        lookups.div8(new >> 16)
        lookups.div8(c[work] & 0xFFFF)
        lookups.div8(src[work] & 0xFFFF)
        lookups.div8((sk - dk + 8 * bs)[work])
