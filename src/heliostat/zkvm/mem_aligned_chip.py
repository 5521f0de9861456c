"""ldxdw and stxdw at addresses that are multiples of 8: one whole-word access.

The base register (src of a load, dst of a store) gives the address (address.py, k = 0). The
value register (dst of a load, written; src of a store, read) and the memory word meet in
`val`: a load writes the word's value to dst, a store writes the register's value to the word.
The word is accessed with limit 8, so a partial last word of a region cannot be read here.
Stores prove their region is not the program region.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.svm import opcodes as op
from heliostat.zkvm import address
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.frame import FrameEval, Op, StepRows, access, fill_access, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memory_scan import word_address
from heliostat.zkvm.u16_chip import LookupCounts


class MemAlignedChip(InstructionChip):
    """Whole aligned words."""

    name = "mem_aligned"
    ops = (Op("ldxdw", op.LD_DW_REG), Op("stxdw", op.ST_DW_REG))

    def define(self, layout: Layout) -> None:
        """Define registers, address, value."""
        for name in ("dst", "src", "breg", "vreg"):
            layout.add(name)
        layout.add("b_old", 4)
        layout.add("b_t")
        layout.add("v_old", 4)
        layout.add("v_t")
        layout.add("m_old", 4)
        layout.add("m_t")
        layout.add("val", 4)
        address.define(layout, with_k=False)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Base/value registers by direction, address, the word, stores off the program."""
        ld, st = fe.flag("ldxdw"), fe.flag("stxdw")
        dst, src = row.one("dst"), row.one("src")
        breg, vreg = row.one("breg"), row.one("vreg")
        ab.assert_eq(breg, ld * src + st * dst, "base register")
        ab.assert_eq(vreg, ld * dst + st * src, "value register")
        base, v_old, m_old, val = (row.many(n) for n in ("b_old", "v_old", "m_old", "val"))
        for k in range(4):
            ab.assert_zero(ld * (val[k] - m_old[k]) + st * (val[k] - v_old[k]), f"value {k}")
        addr = address.Address(ab, row, base, fe.active, with_k=False)
        ab.assert_zero(st * addr.is_program, "no stores to the program region")
        read_only = ab.public(pv.index("input_read_only"))
        ab.assert_zero(st * addr.is_input * read_only, "no stores to a read-only input")
        access(ab, breg, base, base, row.one("b_t"), fe.ts + st, fe.active, "base", space=fe.space)
        access(ab, vreg, v_old, val, row.one("v_t"), fe.ts + ld, fe.active, "value", space=fe.space)
        access(ab, addr.word, m_old, val, row.one("m_t"), fe.ts, fe.active, "word", space=fe.space)
        fe.fetch(dst=dst, src=src, off=addr.off, off_neg=addr.neg)
        fe.send_state(fe.pc + 1)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Return the base and value registers, and the word."""
        ld = rows.opcode == op.LD_DW_REG
        breg = np.where(ld, rows.src, rows.dst)
        vreg = np.where(ld, rows.dst, rows.src)
        word = word_address(rows.mem_addr)
        value = rows.result  # the VM records the loaded value, or the value stored
        return [
            read_slot("base", breg, rows.ts + (~ld)),
            write_slot("value", vreg, rows.ts + ld, value),
            write_slot("word", word, rows.ts, value),
        ]

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Fill registers and word from the scan; address columns."""
        lay, n = self.layout, len(rows)
        ones = np.ones(n, dtype=bool)
        ld = rows.opcode == op.LD_DW_REG
        t[:, lay.index("dst")] = rows.dst
        t[:, lay.index("src")] = rows.src
        t[:, lay.index("breg")] = np.where(ld, rows.src, rows.dst)
        t[:, lay.index("vreg")] = np.where(ld, rows.dst, rows.src)
        b, v, m = results["base"], results["value"], results["word"]
        fill_access(t, lay, "b", b.old, None, b.t_prev, rows.ts + (~ld), ones, lookups)
        fill_access(t, lay, "v", v.old, None, v.t_prev, rows.ts + ld, ones, lookups)
        fill_access(t, lay, "m", m.old, None, m.t_prev, rows.ts, ones, lookups)
        t[:, lay.span("val")] = limb_columns(m.new)
        address.fill(t, lay, b.old, rows.off, ones, lookups, with_k=False)
