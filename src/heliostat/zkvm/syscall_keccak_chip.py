"""sol_keccak256(slices, count, result): the syscall row of the proven Keccak-256 sponge.

The row reads r1 (the slice records, 8-byte aligned, readable: 16·count bytes), r2 (count ≤
20,000) and r3 (the result: 32 writable bytes), writes r0 = 0, and ties the call together
(keccak_sponge.py has the timeline): it takes the message length L and the block count
(136·(blocks − 1) ≤ L < 136·blocks, both range-checked) as columns, pads by a one-byte
memset-copy of 0x01 to buffer byte L, starts the slice chain (KECCAK_SLICE, i = 0, pos = 0)
and receives its end (i = count, pos = L, the slices' cost), starts the absorb chain
(KECCAK_ABSORB, block 0, the zero state) and receives KECCAK_DONE, then copies the digest
from the buffer to r3. It charges 1 + 85 + Σ max(10, len / 2) units and moves on at
t_copy_end + 17·blocks + 4, past every buffer word of the call, so that the next call's words
are fresh (zero). The buffer words of the call start at word ts of region 6.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import as_expr
from heliostat.svm import opcodes as op
from heliostat.zkvm import keccak_sponge as ks
from heliostat.zkvm import slice_check
from heliostat.zkvm.buses import REGION_KECCAK, REGION_SHIFT, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot, write_slot
from heliostat.zkvm.errors import TraceGenerationError
from heliostat.zkvm.frame import FrameEval, Op, StepRows, access, fill_access, inverse_or_zero
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memcopy_chip import KIND_MOVE, KIND_SET
from heliostat.zkvm.memory_scan import word_address
from heliostat.zkvm.syscall_chip import region_lengths, syscall_fetch
from heliostat.zkvm.u16_chip import LookupCounts

_SCALARS = (
    "has",  # count > 0
    "inv_cnt",
    "wq",  # slice records: r1 = 8·wq (low limb)
    "n_lo",  # 16·count = n_lo + 2^16·n_hi
    "n_hi",
    "l_lo",  # L = l_lo + 2^16·l_hi
    "l_hi",
    "lq",  # l_lo = 8·lq + lk
    "lk",
    "nb",  # blocks
    "rem",  # L − 136·(blocks − 1), in 0..135
    "cost",  # Σ slice costs
    "t_s",
    "t_dig",
    "t_ce",
    "dq",  # r3's low limb = 8·dq + dk
    "dk",
    "bs",
)
KECCAK_WORD = REGION_KECCAK * REGION_SHIFT  # memory-bus address of buffer word 0


class SyscallKeccakChip(InstructionChip):
    """The syscall row."""

    name = "syscall_keccak"
    ops = (Op(ks.NAME, op.CALL_IMM),)

    def define(self, layout: Layout) -> None:
        """Define registers, the length and blocks, the chains' timestamps, the digest copy."""
        for r in ("r1", "r2", "r3", "r0"):
            layout.add(f"{r}_old", 4)
            layout.add(f"{r}_t")
        for name in _SCALARS:
            layout.add(name)
        slice_check.define(layout, "sa")
        slice_check.define(layout, "so")

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Arguments, length and padding, the two chains, the digest's copy, the meter."""
        c = {n: row.one(n) for n in _SCALARS}
        r1, r2, r3, r0 = (row.many(f"{r}_old") for r in ("r1", "r2", "r3", "r0"))
        ts, active, has = fe.ts, fe.active, c["has"]
        lengths = region_lengths(ab)
        # the sponge's tables read and write memory without a space: the kernel's only
        ab.assert_zero(active * fe.space, "sol_keccak256 is the kernel's (space 0)")
        # count ≤ 20,000
        for k in (1, 2, 3):
            ab.assert_zero(active * r2[k], f"count limb {k} is zero")
        count = r2[0]
        ab.send(Bus.U16, [ks.MAX_SLICES - count], active, "count ≤ 20000")
        ab.assert_bool(has, "has is boolean")
        ab.assert_zero(has * (1 - active), "has only on real rows")
        ab.assert_zero((1 - has) * count, "no records ⇒ count = 0")
        ab.assert_zero(count * c["inv_cnt"] - has, "count = 0 ⇒ no records")
        # the records: 16·count readable bytes at r1, 8-byte aligned
        n_lo, n_hi = c["n_lo"], c["n_hi"]
        ab.assert_zero(count * 16 - n_lo - n_hi * 65536, "records' bytes")
        ab.send(Bus.U16, [n_lo], active, "records' bytes (low)")
        slice_check.constrain(ab, row, "sa", r1, count * 16, has, lengths, n_hi=n_hi)
        ab.send(Bus.DIV8, [r1[0], c["wq"], 0], has, "records 8-byte aligned")
        records = r1[2] * REGION_SHIFT + r1[1] * 8192 + c["wq"]
        # the result: 32 writable bytes at r3
        slice_check.constrain(ab, row, "so", r3, as_expr(32), active, lengths, n_hi=0, store=1)
        # L and the blocks: 136·(nb − 1) ≤ L < 136·nb, L < 2^27
        length = c["l_lo"] + c["l_hi"] * 65536
        ab.send(Bus.DIV8, [c["l_lo"], c["lq"], c["lk"]], active, "L low = 8·lq + lk")
        ab.send(Bus.DIV8, [c["l_hi"] * 32, c["l_hi"] * 4, 0], active, "L below 2^27")
        nb = c["nb"]
        ab.send(Bus.U16, [nb - 1], active, "at least one block")
        ab.assert_zero(active * (length - (nb - 1) * ks.RATE - c["rem"]), "L's last block")
        ab.send(Bus.U16, [c["rem"]], active, "rem ≥ 0")
        ab.send(Bus.U16, [ks.RATE - 1 - c["rem"]], active, "rem < 136")
        # the pad byte 0x01 at buffer byte L
        base = KECCAK_WORD + ts
        pad_t = ts + ks.PAD_TS
        pad_word = base + c["l_hi"] * 8192 + c["lq"]
        ab.send(
            Bus.COPY, [pad_t, KIND_SET, 0, 1, 0, 0, 1, pad_word, c["lk"], 0, pad_t], active, "pad"
        )
        ab.receive(Bus.COPY_DONE, [pad_t, pad_t + 2], active, "pad done")
        # the slices: from (i = 0, pos = 0) to (i = count, pos = L)
        start = ts + ks.SLICES_TS
        ab.send(Bus.KECCAK_SLICE, [ts, records, count, 0, 0, 0, start], active, "first slice")
        ab.receive(
            Bus.KECCAK_SLICE,
            [ts, records, count, count, length, c["cost"], c["t_s"]],
            active,
            "after the last slice",
        )
        # the blocks: from the zero state to the digest in the buffer
        ab.send(Bus.KECCAK_ABSORB, [ts, nb, 0, *([0] * 100), c["t_s"]], active, "first block")
        ab.receive(Bus.KECCAK_DONE, [ts, c["t_dig"]], active, "digest ready")
        # the digest: buffer words base + 17·nb .. → r3 (source aligned: s = 8·bs − dk)
        ab.assert_bool(c["bs"], "bs is boolean")
        ab.send(Bus.DIV8, [r3[0], c["dq"], c["dk"]], active, "r3 = 8·word + k")
        s = c["bs"] * 8 - c["dk"]
        ab.send(Bus.DIV8, [s, 0, s], active, "shift in 0..7")
        w_dst = r3[2] * REGION_SHIFT + r3[1] * 8192 + c["dq"]
        w_src = base + nb * ks.RATE_WORDS
        q = w_src - w_dst - c["bs"]
        t_dig = c["t_dig"]
        ab.send(
            Bus.COPY,
            [t_dig, KIND_MOVE, 0, ks.DIGEST, q, s, 0, w_dst, c["dk"], 0, t_dig],
            active,
            "digest copy",
        )
        ab.receive(Bus.COPY_DONE, [t_dig, c["t_ce"]], active, "digest copied")
        access(ab, 1, r1, r1, row.one("r1_t"), ts, active, "r1", space=fe.space)
        access(ab, 2, r2, r2, row.one("r2_t"), ts, active, "r2", space=fe.space)
        access(ab, 3, r3, r3, row.one("r3_t"), ts, active, "r3", space=fe.space)
        access(ab, 0, r0, [0, 0, 0, 0], row.one("r0_t"), ts + 1, active, "r0", space=fe.space)
        syscall_fetch(fe, [ks.NAME])
        fe.send_state(
            fe.pc + 1,
            cost=1 + ks.BASE_COST + c["cost"],
            ts_step=0,
            ts_next=c["t_ce"] + nb * ks.RATE_WORDS + 4,
        )

    # --- trace -----------------------------------------------------------------------------

    @staticmethod
    def plans(rows: StepRows) -> list[ks.CallPlan]:
        """Return the rows' call plans (trace_gen puts them in ``extra["keccak"]``)."""
        got = rows.extra.get("keccak")
        if got is None or any(p is None for p in got.tolist()):
            raise TraceGenerationError("sol_keccak256 rows without their plan")
        return list(got.tolist())

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """List registers, the slices' records, the blocks' buffer words, the digest's words.

        The last three are slots over every slice / block / call, not over the rows: the
        slice and absorb tables take their memory values from them (keccak_trace.py).
        """
        n = len(rows)
        plans = self.plans(rows)
        slots = [read_slot(f"r{r}", np.full(n, r), rows.ts) for r in (1, 2, 3)]
        slots.append(write_slot("r0", np.zeros(n, np.int64), rows.ts + 1, np.zeros(n, np.uint64)))
        rec_addr, rec_t = [], []
        for p in plans:
            first = int(word_address(np.array([p.slices_ptr], np.uint64))[0]) if p.count else 0
            for s in p.slices:
                rec_addr.append(first + 2 * s.index)
                rec_t.append(s.t)
        rec_a = np.array(rec_addr, np.int64)
        rec_tt = np.array(rec_t, np.int64)
        slots.append(read_slot("rec_ptr", rec_a, rec_tt))
        slots.append(read_slot("rec_len", rec_a + 1, rec_tt))
        blk_word = [KECCAK_WORD + p.ts + ks.RATE_WORDS * k for p in plans for k in range(p.blocks)]
        blk_t = [p.t_s + k for p in plans for k in range(p.blocks)]
        bw, bt = np.array(blk_word, np.int64), np.array(blk_t, np.int64)
        for j in range(ks.RATE_WORDS):
            slots.append(read_slot(f"blk{j}", bw + j, bt))
        dig_t = np.array([p.t_s + p.blocks for p in plans], np.int64)
        for j in range(4):
            word = np.array([KECCAK_WORD + p.digest_word + j for p in plans], np.int64)
            value = np.array(
                [int.from_bytes(p.digest[8 * j : 8 * j + 8], "little") for p in plans], np.uint64
            )
            slots.append(write_slot(f"dig{j}", word, dig_t, value))
        return slots

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Fill registers from the scan, the rest from the plans."""
        lay, n = self.layout, len(rows)
        ones = np.ones(n, dtype=bool)
        for r in ("r1", "r2", "r3"):
            res = results[r]
            fill_access(t, lay, r, res.old, None, res.t_prev, rows.ts, ones, lookups)
        r0 = results["r0"]
        fill_access(t, lay, "r0", r0.old, None, r0.t_prev, rows.ts + 1, ones, lookups)
        plans = self.plans(rows)
        vals = np.array([p.slices_ptr for p in plans], np.int64)
        count = np.array([p.count for p in plans], np.int64)
        length = np.array([p.length for p in plans], np.int64)
        nb = np.array([p.blocks for p in plans], np.int64)
        res_ptr = np.array([p.result_ptr for p in plans], np.int64)
        dk = res_ptr & 7
        values = {
            "has": count > 0,
            "inv_cnt": inverse_or_zero(count),
            "wq": np.where(count > 0, (vals & 0xFFFF) >> 3, 0),
            "n_lo": (16 * count) & 0xFFFF,
            "n_hi": (16 * count) >> 16,
            "l_lo": length & 0xFFFF,
            "l_hi": length >> 16,
            "lq": (length & 0xFFFF) >> 3,
            "lk": length & 7,
            "nb": nb,
            "rem": length - (nb - 1) * ks.RATE,
            "cost": np.array([p.cost for p in plans], np.int64),
            "t_s": np.array([p.t_s for p in plans], np.int64),
            "t_dig": np.array([p.t_dig for p in plans], np.int64),
            "t_ce": np.array([p.t_copy_end for p in plans], np.int64),
            "dq": (res_ptr & 0xFFFF) >> 3,
            "dk": dk,
            "bs": dk > 0,
        }
        for name, v in values.items():
            t[:, lay.index(name)] = v
        sizes = rows.extra["regions"]
        lens = {1: int(sizes[0, 0]), 3: int(sizes[0, 1]), 4: int(sizes[0, 2])}
        slice_check.fill(t, lay, "sa", results["r1"].old, count * 16, count > 0, lens, lookups)
        slice_check.fill(t, lay, "so", results["r3"].old, np.full(n, 32), ones, lens, lookups)
        lookups.u16(ks.MAX_SLICES - count)
        lookups.u16((16 * count) & 0xFFFF)
        has = count > 0
        lookups.div8(vals[has] & 0xFFFF)
        lookups.div8(length & 0xFFFF)
        lookups.div8((length >> 16) * 32)
        lookups.u16(nb - 1)
        lookups.u16(values["rem"])
        lookups.u16(ks.RATE - 1 - values["rem"])
        lookups.div8(res_ptr & 0xFFFF)
        lookups.div8(np.where(dk > 0, 8 - dk, 0))
