"""The Poseidon2 precompile `heliostat_poseidon2_permute(uint32_t state[16])` (kernel only).

The row reads r1, proves the 64-byte state is 8 aligned words in a writable region (not the
program; 8-byte alignment from DIV8; each word is accessed whole, so a partial word cannot be),
reads them as 16 little-endian u32 words, proves each input word canonical (below p: its high
half is at most 0x7800, and its low half is 0 when it equals it), looks the permutation up on
PERMUTE (the Poseidon2 chip proves it), writes the 16 output elements back as canonical
u32 words (both halves range-checked), charges 20 units and writes r0 = 0.
(heliostat.svm.syscalls.poseidon2 is the native side.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.field import P
from heliostat.svm import opcodes as op
from heliostat.svm.syscalls.poseidon2 import NAME, POSEIDON2_PERMUTE_COST
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import REGION_SHIFT, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.frame import (
    FrameEval,
    Op,
    StepRows,
    access,
    fill_access,
    inverse_or_zero,
    limb_columns,
)
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.syscall_chip import syscall_fetch
from heliostat.zkvm.u16_chip import LookupCounts

TOP = P >> 16  # 0x7800: a canonical element's high half is at most this
WORDS = 8


class SyscallPoseidon2Chip(InstructionChip):
    """The precompile."""

    name = "syscall_poseidon2"
    ops = (Op(NAME, op.CALL_IMM),)

    def define(self, layout: Layout) -> None:
        """r1, r0, the state words before and after, canonical-check inverses."""
        for r in ("r1", "r0"):
            layout.add(f"{r}_old", 4)
            layout.add(f"{r}_t")
        for name in ("q", "rb0", "rb1"):
            layout.add(name)
        layout.add("old", 4 * WORDS)
        layout.add("new", 4 * WORDS)
        layout.add("m_t", WORDS)
        layout.add("inv_in", 2 * WORDS)
        layout.add("inv_out", 2 * WORDS)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Address, canonical words, the permutation, writes."""
        on = fe.active
        r1, r0 = row.many("r1_old"), row.many("r0_old")
        q, rb0, rb1 = row.one("q"), row.one("rb0"), row.one("rb1")
        old, new = row.many("old"), row.many("new")
        ab.assert_bool(rb0, "rb0 is boolean")
        ab.assert_bool(rb1, "rb1 is boolean")
        ab.assert_zero(on * (r1[2] - 1 - rb0 - rb1 * 2), "state in regions 1–4")
        ab.assert_zero(on * r1[3], "state below 2^48")
        ab.assert_zero(on * (1 - rb0) * (1 - rb1), "state not in the program region")
        read_only = ab.public(pv.index("input_read_only"))
        ab.assert_zero(on * rb0 * rb1 * read_only, "state not in a read-only input")
        ab.send(Bus.DIV8, [r1[0], q, 0], on, "state 8-byte aligned")
        ab.send(Bus.U16_MSB, [r1[1], 0], on, "state offset below 2^31")
        word = r1[2] * REGION_SHIFT + r1[1] * 8192 + q
        ts = fe.ts
        inputs, outputs = [], []
        for i in range(2 * WORDS):
            lo, hi = old[2 * i], old[2 * i + 1]
            inputs.append(lo + hi * 65536)
            ab.send(Bus.U16, [TOP - hi], on, f"input {i} high half ≤ 0x7800")
            ab.assert_zero(lo * (1 - (TOP - hi) * row.many("inv_in")[i]), f"input {i} < p")
            nlo, nhi = new[2 * i], new[2 * i + 1]
            outputs.append(nlo + nhi * 65536)
            ab.send(Bus.U16, [nlo], on, f"output {i} low half")
            ab.send(Bus.U16, [nhi], on, f"output {i} high half")
            ab.send(Bus.U16, [TOP - nhi], on, f"output {i} high half ≤ 0x7800")
            ab.assert_zero(nlo * (1 - (TOP - nhi) * row.many("inv_out")[i]), f"output {i} < p")
        ab.send(Bus.PERMUTE, [*inputs, *outputs], on, "the permutation")
        for j in range(WORDS):
            access(
                ab,
                word + j,
                old[4 * j : 4 * j + 4],
                new[4 * j : 4 * j + 4],
                row.many("m_t")[j],
                ts + 1,
                on,
                f"state word {j}",
                space=fe.space,
            )
        access(ab, 1, r1, r1, row.one("r1_t"), ts, on, "r1", space=fe.space)
        access(ab, 0, r0, [0, 0, 0, 0], row.one("r0_t"), ts + 1, on, "r0", space=fe.space)
        syscall_fetch(fe, [NAME])
        fe.send_state(fe.pc + 1, cost=POSEIDON2_PERMUTE_COST + 1, ts_step=4)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """r1 at ts; the state words and r0 at ts + 1 (values from the VM's record)."""
        n = len(rows)
        slots = [read_slot("r1", np.full(n, 1), rows.ts)]
        state = rows.extra["state_out"]  # (n, 8) words written, from the syscall's events
        base = rows.extra["state_word"]
        for j in range(WORDS):
            slots.append(write_slot(f"w{j}", base + j, rows.ts + 1, state[:, j].astype(np.uint64)))
        slots.append(write_slot("r0", np.zeros(n, np.int64), rows.ts + 1, np.zeros(n, np.uint64)))
        return slots

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Fill registers, words, inverses."""
        lay, n = self.layout, len(rows)
        ones = np.ones(n, dtype=bool)
        r1 = results["r1"]
        fill_access(t, lay, "r1", r1.old, None, r1.t_prev, rows.ts, ones, lookups)
        r0 = results["r0"]
        fill_access(t, lay, "r0", r0.old, None, r0.t_prev, rows.ts + 1, ones, lookups)
        addr = limb_columns(r1.old)
        t[:, lay.index("q")] = addr[:, 0] >> 3
        t[:, lay.index("rb0")] = (addr[:, 2] - 1) & 1
        t[:, lay.index("rb1")] = (addr[:, 2] - 1) >> 1
        lookups.div8(addr[:, 0])
        lookups.msb(addr[:, 1])
        old = np.concatenate([limb_columns(results[f"w{j}"].old) for j in range(WORDS)], axis=1)
        new = np.concatenate([limb_columns(results[f"w{j}"].new) for j in range(WORDS)], axis=1)
        t[:, lay.span("old")] = old
        t[:, lay.span("new")] = new
        for j in range(WORDS):
            w = results[f"w{j}"]
            t[:, lay.index("m_t") + j] = w.t_prev
            lookups.u16(rows.ts + 1 - w.t_prev - 1)
        for i in range(2 * WORDS):
            t[:, lay.index("inv_in") + i] = inverse_or_zero(TOP - old[:, 2 * i + 1])
            t[:, lay.index("inv_out") + i] = inverse_or_zero(TOP - new[:, 2 * i + 1])
        lookups.u16(TOP - old[:, 1::2])
        lookups.u16(new)
        lookups.u16(TOP - new[:, 1::2])
