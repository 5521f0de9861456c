"""Syscalls without a memory effect: the log syscalls, the kernel's receipt, panic and abort.

The logs are sol_log_, sol_log_64_, sol_log_compute_units_ and sol_log_pubkey; the kernel's
`heliostat_receipt(ptr, len)` (a side channel to the sequencer, cost 0) is one more of them;
sol_panic_ and abort stop the program.

A row is a `call imm` whose key is the syscall's (the flag fixes it in the FETCH message).
It reads the argument registers it needs, proves that the range a log reads is mapped
(slice_check), charges the cost (sol_log_: max(100, len), proven with a comparison; the
others 100; sol_panic_: len; abort and heliostat_receipt: 0) and writes r0 = 0, or halts
with SYSCALL_PANIC or SYSCALL_ABORT. What a log or receipt carries has no state effect and is
not proven (nor is sol_log_'s UTF-8 check: docs/zkvm.md, known gaps).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.svm import opcodes as op
from heliostat.svm.syscall_api import syscall_key
from heliostat.zkvm import public_values as pv
from heliostat.zkvm import slice_check
from heliostat.zkvm.buses import CALL_TARGET_SYSCALL, TS_STEP_SYSCALL, Bus
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
from heliostat.zkvm.status import Status
from heliostat.zkvm.u16_chip import LookupCounts

NAMES = (
    "sol_log_",
    "sol_log_64_",
    "sol_log_compute_units_",
    "sol_log_pubkey",
    "sol_panic_",
    "abort",
    "heliostat_receipt",
)
# the syscalls that read the range (r1, r2): with a length in r2, or 32 bytes (a pubkey)
WITH_LEN = ("sol_log_", "sol_panic_", "heliostat_receipt")
READS = (*WITH_LEN, "sol_log_pubkey")
LOG_MIN_COST = 100


def region_lengths(ab: AirBuilder) -> dict[int, Expr]:
    """Lengths of the program, heap and input regions, from the public values."""
    p = {n: ab.public(i) for n, i in pv.FIELDS.items()}
    return {
        1: p["ro_last"] * 8 + p["ro_tail"],
        3: p["heap_size"],
        4: p["input_last"] * 8 + p["input_tail"],
    }


def syscall_fetch(fe: FrameEval, names: Sequence[str]) -> None:
    """FETCH of a `call imm` whose key is the flagged syscall's."""
    lo = sum(fe.flag(n) * (syscall_key(n) & 0xFFFF) for n in names)
    hi = sum(fe.flag(n) * (syscall_key(n) >> 16) for n in names)
    fe.fetch(imm=[lo, hi, 0, 0], target=CALL_TARGET_SYSCALL)


class SyscallLogChip(InstructionChip):
    """The log family, panic and abort."""

    name = "syscall_log"
    ops = tuple(Op(n, op.CALL_IMM) for n in NAMES)

    def define(self, layout: Layout) -> None:
        """Argument registers, r0, cost, the slice check."""
        for r in ("r1", "r2", "r0"):
            layout.add(f"{r}_old", 4)
            layout.add(f"{r}_t")
        for name in ("cost", "big", "c_lo", "c_hi", "empty", "inv_n"):
            layout.add(name)
        slice_check.define(layout, "sl")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Arguments, slice, cost, r0 or halt."""
        f = {n: fe.flag(n) for n in NAMES}
        log, pubkey, panic = f["sol_log_"], f["sol_log_pubkey"], f["sol_panic_"]
        receipt = f["heliostat_receipt"]
        r1, r2, r0 = row.many("r1_old"), row.many("r2_old"), row.many("r0_old")
        cost, big, empty = row.one("cost"), row.one("big"), row.one("empty")
        with_len = log + panic + receipt
        ab.assert_zero(with_len * r2[2], "length below 2^32")
        ab.assert_zero(with_len * r2[3], "length below 2^48")
        length = with_len * (r2[0] + r2[1] * 65536) + pubkey * 32
        reads = log + pubkey + panic + receipt
        # ranges are checked against the regions of space 0 (the public lengths)
        ab.assert_zero(reads * fe.space, "a range syscall runs in space 0")
        ab.assert_bool(empty, "empty is boolean")
        ab.assert_zero(empty * length, "empty ⇒ length 0")
        ab.assert_zero(reads - empty - length * row.one("inv_n"), "length 0 ⇒ empty")
        ab.assert_zero(empty * (1 - reads), "only ranges can be empty")
        slice_check.constrain(
            ab, row, "sl", r1, length, reads - empty, region_lengths(ab), n_hi=with_len * r2[1]
        )
        # cost: max(100, len) for sol_log_, proven by the sign of len − 100
        ab.assert_bool(big, "big is boolean")
        n = r2[0] + r2[1] * 65536
        diff = big * (n - LOG_MIN_COST) + (1 - big) * (LOG_MIN_COST - 1 - n)
        ab.assert_zero(log * (diff - row.one("c_lo") - row.one("c_hi") * 65536), "len vs 100")
        ab.send(Bus.U16, [row.one("c_lo")], log, "len vs 100 low")
        ab.send(Bus.U16, [row.one("c_hi")], log, "len vs 100 high")
        fixed = f["sol_log_64_"] + f["sol_log_compute_units_"] + pubkey
        ab.assert_eq(
            cost,
            log * (big * n + (1 - big) * LOG_MIN_COST) + fixed * LOG_MIN_COST + panic * n,
            "cost",
        )
        ts = fe.ts
        access(ab, 1, r1, r1, row.one("r1_t"), ts, reads, "r1", space=fe.space)
        access(ab, 2, r2, r2, row.one("r2_t"), ts, with_len, "r2", space=fe.space)
        stops = panic + f["abort"]
        access(
            ab,
            0,
            r0,
            [0, 0, 0, 0],
            row.one("r0_t"),
            ts + 1,
            fe.active - stops,
            "r0",
            space=fe.space,
        )
        syscall_fetch(fe, NAMES)
        fe.send_state(
            fe.pc + 1, cost=cost + 1, ts_step=TS_STEP_SYSCALL, multiplicity=fe.active - stops
        )
        fe.send_halt(Status.SYSCALL_PANIC, panic, cost=cost + 1)
        fe.send_halt(Status.SYSCALL_ABORT, f["abort"], cost=cost + 1)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """r1, r2 at ts; r0 at ts + 1."""
        names = np.array(NAMES)[rows.op]
        reads = np.isin(names, READS)
        with_len = np.isin(names, WITH_LEN)
        stops = np.isin(names, ["sol_panic_", "abort"])
        n = len(rows)
        return [
            read_slot("r1", np.full(n, 1), rows.ts, reads),
            read_slot("r2", np.full(n, 2), rows.ts, with_len),
            write_slot("r0", np.zeros(n, np.int64), rows.ts + 1, np.zeros(n, np.uint64), ~stops),
        ]

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Arguments from the scan; slice, cost."""
        lay = self.layout
        names = np.array(NAMES)[rows.op]
        reads = np.isin(names, READS)
        with_len = np.isin(names, WITH_LEN)
        stops = np.isin(names, ["sol_panic_", "abort"])
        r1, r2, r0 = results["r1"], results["r2"], results["r0"]
        fill_access(t, lay, "r1", r1.old, None, r1.t_prev, rows.ts, reads, lookups)
        fill_access(t, lay, "r2", r2.old, None, r2.t_prev, rows.ts, with_len, lookups)
        fill_access(t, lay, "r0", r0.old, None, r0.t_prev, rows.ts + 1, ~stops, lookups)
        n32 = (r2.old & np.uint64(0xFFFFFFFF)).astype(np.int64)
        length = np.where(with_len, n32, np.where(names == "sol_log_pubkey", 32, 0))
        empty = reads & (length == 0)
        t[:, lay.index("empty")] = empty
        t[:, lay.index("inv_n")] = inverse_or_zero(length)
        sizes = rows.extra["regions"]  # program, heap and input lengths of this run
        lengths = (
            {1: int(sizes[0, 0]), 3: int(sizes[0, 1]), 4: int(sizes[0, 2])} if len(rows) else {}
        )
        slice_check.fill(t, lay, "sl", r1.old, length, reads & ~empty, lengths, lookups)
        log = names == "sol_log_"
        big = n32 >= LOG_MIN_COST
        diff = np.where(big, n32 - LOG_MIN_COST, LOG_MIN_COST - 1 - n32)
        t[:, lay.index("big")] = big
        t[:, lay.index("c_lo")] = np.where(log, diff & 0xFFFF, 0)
        t[:, lay.index("c_hi")] = np.where(log, diff >> 16, 0)
        lookups.u16(diff[log] & 0xFFFF)
        lookups.u16(diff[log] >> 16)
        t[:, lay.index("cost")] = rows.extra["units"]
