"""Loads and stores of any width (all but aligned ldxdw/stxdw), in two variants.

The narrow variant proves accesses inside one word (k + w ≤ 8, k = address mod 8); the
straddle variant accesses that cross into the next word (the next word is word + 1, or, at
the end of a stack frame, the next frame's first word: sBPF checks only the first byte
against the stack gaps). The word's old bytes `ob` (BYTES-checked) and the position one-hot
`pk` select the accessed bytes. The access must fit the word(s) and their `limit` (DIV8
checks of the slack), so no byte past a region's end is reached. A load's value bytes are
ob[k..k+w) and zero above (zero-extension); a store's new word(s) take the value's low w
bytes at k and keep the others, and a store proves its region is not the program region.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.svm import opcodes as op
from heliostat.zkvm import address
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import BitOp, Bus
from heliostat.zkvm.chip import I64, InstructionChip, Slot, SlotResult, read_slot
from heliostat.zkvm.frame import FrameEval, Op, StepRows, access, fill_access, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memory_scan import word_address
from heliostat.zkvm.operands import byte_columns
from heliostat.zkvm.u16_chip import LookupCounts

WIDTHS = {"b": 1, "h": 2, "w": 4, "dw": 8}
STACK_FRAME_WORDS = 512  # a 4 KiB frame, in words


def _width_of(name: str) -> int:
    return WIDTHS[name.removeprefix("ldx").removeprefix("stx").removeprefix("st")]


class _WordAccess:
    """Shared by loads and stores: width flags, position one-hot, word bytes, bounds."""

    def __init__(self, ab: AirBuilder, row: Row, fe: FrameEval, straddle: bool) -> None:
        self.straddle = straddle
        self.w = {o.name: fe.flag(o.name) for o in fe.spec.ops}
        self.widths = {name: _width_of(name) for name in self.w}
        self.width = sum_exprs(f * self.widths[n] for n, f in self.w.items())
        self.pk = row.many("pk")
        self.ob = row.many("ob")
        for j, p in enumerate(self.pk):
            ab.assert_bool(p, f"position {j} is boolean")
        ab.assert_eq(sum_exprs(self.pk), fe.active, "one position")

    def below(self, t: int) -> Expr:
        """1 when the access width exceeds t (byte t from k is accessed)."""
        return sum_exprs(f for n, f in self.w.items() if self.widths[n] > t)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval, addr: address.Address) -> None:
        """K matches the one-hot, the access fits the word(s) and their limits, bytes are bytes."""
        k = addr.k
        ab.assert_eq(sum_exprs(p * j for j, p in enumerate(self.pk)), k, "position = k")
        inside = sum_exprs(
            f * sum_exprs(self.pk[j] for j in range(9 - self.widths[n], 8))
            for n, f in self.w.items()
            if self.widths[n] > 1
        )
        limit = row.one("limit")
        for i in range(4):
            ab.send(Bus.BYTES, [self.ob[2 * i], self.ob[2 * i + 1]], fe.active, f"word bytes {i}")
        if not self.straddle:
            ab.assert_zero(inside, "the access fits in the word")
            slack = limit - k - self.width
            ab.send(Bus.DIV8, [slack, 0, slack], fe.active, "k + width ≤ limit")
            return
        # the access crosses into the next word: k + w > 8, so k + w − 9 ∈ [0, 8)
        over = k + self.width - 9
        ab.send(Bus.DIV8, [over, 0, over], fe.active, "k + width > 8")
        ab.assert_zero(fe.active * (limit - 8), "the first word is whole")
        slack = row.one("limit1") - (k + self.width - 8)
        ab.send(Bus.DIV8, [slack, 0, slack], fe.active, "k + width − 8 ≤ next limit")
        for i in range(4, 8):
            ab.send(Bus.BYTES, [self.ob[2 * i], self.ob[2 * i + 1]], fe.active, f"next bytes {i}")
        # at a stack frame's end the next word is the next frame's first (skip the gap)
        fend, lo8, hi8 = row.one("fend"), row.one("lo8"), row.one("hi8")
        ab.assert_bool(fend, "frame end is boolean")
        a0 = addr.q * 8 + k
        ab.assert_zero(fend * (a0 - lo8 - hi8 * 256), "address limb 0 bytes")
        ab.send(Bus.BITWISE, [BitOp.AND, lo8, 0xF8, 0xF8], fend, "word bits 0–4 set")
        ab.send(Bus.BITWISE, [BitOp.AND, hi8, 0x0F, 0x0F], fend, "word bits 5–8 set")
        ab.assert_zero(fend * (1 - addr.rb0) + fend * addr.rb1, "frame ends are in the stack")

    def next_word(self, row: Row, addr: address.Address) -> Expr:
        """Return the address of the second word."""
        return addr.word + 1 + row.one("fend") * STACK_FRAME_WORDS

    def limbs(self, b: Sequence[Expr]) -> list[Expr]:
        """Four limbs from eight bytes."""
        return [b[2 * i] + b[2 * i + 1] * 256 for i in range(4)]


def _define_word(layout: Layout, straddle: bool) -> None:
    layout.add("pk", 8)
    layout.add("ob", 16 if straddle else 8)
    layout.add("limit")
    layout.add("m_t")
    if straddle:
        for name in ("limit1", "m1_t", "fend", "lo8", "hi8"):
            layout.add(name)


def _word_slots(
    rows: StepRows, straddle: bool, mask: I64 | None, value: np.ndarray | None
) -> list[Slot]:
    """Return the word access(es) of the rows (reads, or writes of ``value`` under ``mask``)."""
    n = len(rows)
    first = word_address(rows.mem_addr)
    if mask is None:
        slots = [read_slot("word", first, rows.ts)]
    else:
        slots = [
            Slot(
                "word",
                first,
                rows.ts,
                (mask & 0xFF).astype(np.uint8),
                np.asarray(value, np.uint64),
                np.ones(n, bool),
            )
        ]
    if straddle:
        second = first + 1 + rows.extra["fend"] * STACK_FRAME_WORDS
        if mask is None:
            slots.append(read_slot("word1", second, rows.ts))
        else:
            hi_val = np.asarray(rows.extra["value_hi"], np.uint64)
            slots.append(
                Slot(
                    "word1",
                    second,
                    rows.ts,
                    ((mask >> 8) & 0xFF).astype(np.uint8),
                    hi_val,
                    np.ones(n, bool),
                )
            )
    return slots


def _fill_word(
    t: I64,
    layout: Layout,
    rows: StepRows,
    results: dict[str, SlotResult],
    k: I64,
    straddle: bool,
    lookups: LookupCounts,
) -> I64:
    n = len(rows)
    t[np.arange(n), layout.span("pk").start + k] = 1
    words = [results["word"]] + ([results["word1"]] if straddle else [])
    ob = np.concatenate([byte_columns(w.old) for w in words], axis=1)
    t[:, layout.span("ob")] = ob
    t[:, layout.index("limit")] = rows.extra["limit"]
    t[:, layout.index("m_t")] = words[0].t_prev
    lookups.u16(rows.ts - words[0].t_prev - 1)
    lookups.byte_pairs(ob[:, 0::2], ob[:, 1::2])
    if straddle:
        t[:, layout.index("limit1")] = rows.extra["limit1"]
        t[:, layout.index("m1_t")] = words[1].t_prev
        lookups.u16(rows.ts - words[1].t_prev - 1)
        fend = rows.extra["fend"].astype(bool)
        a0 = (rows.mem_addr & np.uint64(0xFFFF)).astype(np.int64)
        t[:, layout.index("fend")] = fend
        t[:, layout.index("lo8")] = np.where(fend, a0 & 0xFF, 0)
        t[:, layout.index("hi8")] = np.where(fend, a0 >> 8, 0)
        lookups.bitwise(BitOp.AND, (a0 & 0xFF)[fend], np.full(int(fend.sum()), 0xF8))
        lookups.bitwise(BitOp.AND, (a0 >> 8)[fend], np.full(int(fend.sum()), 0x0F))
    return ob


def _bounds_lookups(
    rows: StepRows, k: I64, width: I64, straddle: bool, lookups: LookupCounts
) -> None:
    if straddle:
        lookups.div8(k + width - 9)
        lookups.div8(rows.extra["limit1"] - (k + width - 8))
    else:
        lookups.div8(rows.extra["limit"] - k - width)


class MemChip(InstructionChip):
    """Loads and stores: ldxb/h/w, st*, stxb/h/w (and ldxdw, stxdw in the straddle variant)."""

    def __init__(self, straddle: bool = False) -> None:
        self.straddle = straddle
        self.name = "mem_straddle" if straddle else "mem"
        sizes = [("b", op.SIZE_B), ("h", op.SIZE_H), ("w", op.SIZE_W), ("dw", op.SIZE_DW)]
        ops = []
        for kind, cls in (("ldx", op.CLS_LDX), ("st", op.CLS_ST), ("stx", op.CLS_STX)):
            for s, size in sizes:
                if straddle and s == "b":
                    continue  # a byte never straddles
                if not straddle and kind != "st" and s == "dw":
                    continue  # aligned ldxdw/stxdw: mem_aligned_chip; unaligned ones straddle
                ops.append(Op(f"{kind}{s}", cls | op.MODE_MEM | size))
        self.ops = tuple(ops)
        super().__init__()

    def define(self, layout: Layout) -> None:
        """Define registers, immediate, address, word bytes, value bytes, new word(s)."""
        for name in ("dst", "src", "breg", "vreg"):
            layout.add(name)
        layout.add("b_old", 4)
        layout.add("b_t")
        layout.add("v_old", 4)
        layout.add("v_t")
        layout.add("imm", 4)
        layout.add("xb", 8)  # the value's bytes (a load: zero-extended)
        layout.add("nl", 8 if self.straddle else 4)
        _define_word(layout, self.straddle)
        address.define(layout, with_k=True)

    def constrain(self, ab: AirBuilder, row: Row, fe: FrameEval) -> None:
        """Value bytes, new word(s), registers by direction, stores off the program region."""
        names = [o.name for o in self.ops]
        wa = _WordAccess(ab, row, fe, self.straddle)
        ld = sum_exprs(fe.flag(n) for n in names if n.startswith("ldx"))
        st = sum_exprs(fe.flag(n) for n in names if n.startswith("st") and not n.startswith("stx"))
        stx = sum_exprs(fe.flag(n) for n in names if n.startswith("stx"))
        stores = st + stx
        dst, src, breg, vreg = (row.one(n) for n in ("dst", "src", "breg", "vreg"))
        base, v, imm = row.many("b_old"), row.many("v_old"), row.many("imm")
        xb, nl = row.many("xb"), row.many("nl")
        addr = address.Address(ab, row, base, fe.active, with_k=True)
        wa.constrain(ab, row, fe, addr)
        ab.assert_zero(stores * addr.is_program, "no stores to the program region")
        read_only = ab.public(pv.index("input_read_only"))
        ab.assert_zero(stores * addr.is_input * read_only, "no stores to a read-only input")
        ab.assert_eq(breg, ld * src + stores * dst, "base register")
        ab.assert_eq(vreg, ld * dst + stx * src, "value register")

        load_below = [
            sum_exprs(fe.flag(n) for n in names if n.startswith("ldx") and _width_of(n) > t)
            for t in range(8)
        ]
        store_below = [
            sum_exprs(fe.flag(n) for n in names if not n.startswith("ldx") and _width_of(n) > t)
            for t in range(8)
        ]
        # a load's value: the bytes at k..k+w, zero above
        span = len(wa.ob)
        for t in range(8):
            picked = sum_exprs(wa.pk[j] * wa.ob[j + t] for j in range(8) if j + t < span)
            ab.assert_zero(load_below[t] * (xb[t] - picked), f"loaded byte {t}")
            ab.assert_zero((ld - load_below[t]) * xb[t], f"loaded byte {t} zero-extends")
        value = wa.limbs(xb)
        for i in range(4):
            ab.assert_zero(stores * (v[i] - value[i]), f"stored value bytes {i}")
            ab.assert_zero(st * (v[i] - imm[i]), f"st stores its immediate ({i})")
            ab.send(Bus.BYTES, [xb[2 * i], xb[2 * i + 1]], fe.active, f"value bytes {i}")
        # the new word(s): a store's bytes at k..k+w, the old bytes elsewhere (a load: all old)
        for i in range(len(nl)):
            new = []
            for b in (2 * i, 2 * i + 1):
                change = sum_exprs(
                    wa.pk[j] * store_below[b - j] * (xb[b - j] - wa.ob[b])
                    for j in range(8)
                    if 0 <= b - j < 8
                )
                new.append(wa.ob[b] + change)
            ab.assert_eq(nl[i], new[0] + new[1] * 256, f"new limb {i}")
        access(
            ab,
            addr.word,
            wa.limbs(wa.ob[:8]),
            nl[:4],
            row.one("m_t"),
            fe.ts,
            fe.active,
            "word",
            limit=row.one("limit"),
            space=fe.space,
        )
        if self.straddle:
            access(
                ab,
                wa.next_word(row, addr),
                wa.limbs(wa.ob[8:]),
                nl[4:],
                row.one("m1_t"),
                fe.ts,
                fe.active,
                "next word",
                limit=row.one("limit1"),
                space=fe.space,
            )
        access(
            ab, breg, base, base, row.one("b_t"), fe.ts + stores, fe.active, "base", space=fe.space
        )
        access(ab, vreg, v, value, row.one("v_t"), fe.ts + ld, ld + stx, "value", space=fe.space)
        fe.fetch(dst=dst, src=src, off=addr.off, off_neg=addr.neg, imm=imm)
        fe.send_state(fe.pc + 1)

    def accesses(self, rows: StepRows) -> Sequence[Slot]:
        """Return the value register, the word(s) and the base register accesses.

        Value register: a load's dst at ts + 1, a stx's src at ts; word(s) at ts; base: a
        load's src at ts, a store's dst at ts + 1.
        """
        load = (rows.opcode & 7) == op.CLS_LDX
        stx = (rows.opcode & 7) == op.CLS_STX
        width = np.array([_width_of(o.name) for o in self.ops])[rows.op]
        k = (rows.mem_addr & np.uint64(7)).astype(np.int64)
        value = np.asarray(rows.result, np.uint64)  # loaded, or stored (truncated)
        mask = None if load.all() else np.where(load, 0, ((1 << width) - 1) << k)
        low = value << (k * 8).astype(np.uint64)
        # bytes that spill into the next word: value >> (8·(8 − k)), in two steps (k ≥ 1 there)
        rows.extra["value_hi"] = ((value >> np.uint64(8)) >> ((7 - k) * 8).astype(np.uint64)).view(
            np.int64
        )
        vreg = np.where(load, rows.dst, np.where(stx, rows.src, 0))
        breg = np.where(load, rows.src, rows.dst)
        return [
            Slot(
                "value",
                vreg,
                rows.ts + load,
                np.where(load, 0xFF, 0).astype(np.uint8),
                value,
                load | stx,
            ),
            *_word_slots(rows, self.straddle, mask, low),
            read_slot("base", breg, rows.ts + ~load),
        ]

    def fill_body(
        self, t: I64, rows: StepRows, results: dict[str, SlotResult], lookups: LookupCounts
    ) -> None:
        """Fill registers, immediate, address, bytes, new word(s)."""
        lay, n = self.layout, len(rows)
        ones = np.ones(n, dtype=bool)
        load = (rows.opcode & 7) == op.CLS_LDX
        stx = (rows.opcode & 7) == op.CLS_STX
        st = ~load & ~stx
        t[:, lay.index("dst")] = rows.dst
        t[:, lay.index("src")] = np.where(st, 0, rows.src)
        t[:, lay.index("breg")] = np.where(load, rows.src, rows.dst)
        t[:, lay.index("vreg")] = np.where(load, rows.dst, np.where(stx, rows.src, 0))
        b, v = results["base"], results["value"]
        fill_access(t, lay, "b", b.old, None, b.t_prev, rows.ts + ~load, ones, lookups)
        v_old = np.where(st, rows.imm, v.old)
        fill_access(t, lay, "v", v_old, None, v.t_prev, rows.ts + load, load | stx, lookups)
        t[:, lay.span("imm")] = np.where(st[:, None], limb_columns(rows.imm), 0)
        xb = byte_columns(np.where(load, rows.result, v_old))
        t[:, lay.span("xb")] = xb
        lookups.byte_pairs(xb[:, 0::2], xb[:, 1::2])
        new = [limb_columns(results["word"].new)]
        if self.straddle:
            new.append(limb_columns(results["word1"].new))
        t[:, lay.span("nl")] = np.concatenate(new, axis=1)
        _, k = address.fill(t, lay, b.old, rows.off, ones, lookups, with_k=True)
        _fill_word(t, lay, rows, results, k, self.straddle, lookups)
        width = np.array([_width_of(o.name) for o in self.ops])[rows.op]
        _bounds_lookups(rows, k, width, self.straddle, lookups)
