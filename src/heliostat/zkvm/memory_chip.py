"""The memory boundary, the keep-alive rows and the input table.

Boundary: one row per address the execution touches, sorted by strictly increasing address.
It sends the address's initial value on MEMORY at `t_init` and receives its final value, so
with the accesses in between every address has exactly one chain of accesses in time order.
Initial values: registers from REG_INIT (public), stack and heap words zero (their word
indices proven inside the region), program words from the program table (PROGRAM_DATA), input
words from the input table (INPUT_DATA), output words and sol_keccak256's sponge-buffer
words (region 6, below 2^27) zero. The final values of r0 and of the
output cursor go to OUTPUT (public); those of output words to the output table (OUTPUT_DATA).

Keep-alive: re-sends a value unchanged at a later timestamp, bridging gaps of 2^16 or more.

Input table: the touched words of the input region, range-checked limbs, bounded by the
region's length; its `limit` marks the partial last word.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.field import P
from heliostat.stark.symbolic import sum_exprs
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import (
    NUM_REGISTERS,
    OUTPUT_CURSOR,
    REGION_HEAP,
    REGION_INPUT,
    REGION_KECCAK,
    REGION_OUTPUT,
    REGION_PROGRAM,
    REGION_SHIFT,
    REGION_STACK,
    BitOp,
    Bus,
)
from heliostat.zkvm.commitment import TREE_INPUT
from heliostat.zkvm.frame import limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memory_scan import ScanResult
from heliostat.zkvm.u16_chip import LookupCounts

KINDS = ("is_reg", "is_prog", "is_stack", "is_heap", "is_input", "is_out", "is_kec")
_REGION_OF_KIND = {
    "is_reg": 0,  # r0..r10 and the output cursor
    "is_prog": REGION_PROGRAM,
    "is_stack": REGION_STACK,
    "is_heap": REGION_HEAP,
    "is_input": REGION_INPUT,
    "is_out": REGION_OUTPUT,
    "is_kec": REGION_KECCAK,  # the sol_keccak256 sponge buffer (keccak_sponge.py)
}

BOUNDARY = Layout()
BOUNDARY.add("is_real")
BOUNDARY.add("addr")
BOUNDARY.add("vword")
BOUNDARY.add("limit")
BOUNDARY.add("init", 4)
BOUNDARY.add("final", 4)
BOUNDARY.add("t_init")
BOUNDARY.add("t_final")
for _k in KINDS:
    BOUNDARY.add(_k)
BOUNDARY.add("is_r0")
BOUNDARY.add("is_cur")
BOUNDARY.add("vw_lo")
BOUNDARY.add("vw_hi")
BOUNDARY.add("hp_lo")  # heap: heap words − 1 − word = hp_lo + 2^16·hp_hi, hp_hi a byte
BOUNDARY.add("hp_hi")
BOUNDARY.add("has_next")
BOUNDARY.add("gap_lo")
BOUNDARY.add("gap_hi")


class BoundaryChip:
    """One row per touched address: initial and final value."""

    name = "memory_boundary"
    width = BOUNDARY.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Constrain initial values by kind, sortedness, region bounds of zero-initialised words."""
        r = Row(ab.main.local, BOUNDARY)
        nxt = Row(ab.main.next, BOUNDARY)
        real = r.one("is_real")
        kind = {k: r.one(k) for k in KINDS}
        addr, vword, limit = r.one("addr"), r.one("vword"), r.one("limit")
        init, final = r.many("init"), r.many("final")
        for name in ("is_real", *KINDS, "is_r0", "is_cur", "has_next"):
            ab.assert_bool(r.one(name), f"{name} is boolean")
        ab.assert_eq(sum_exprs(kind.values()), real, "one kind per real row")
        ab.assert_eq(
            addr,
            vword + sum_exprs(kind[k] * (_REGION_OF_KIND[k] * REGION_SHIFT) for k in KINDS),
            "address = region·2^28 + word",
        )
        # addresses of space 0 only, until activations have boundary rows of their own
        ab.send(Bus.MEMORY, [addr, limit, *init, r.one("t_init"), 0], real, "initial value")
        ab.receive(Bus.MEMORY, [addr, limit, *final, r.one("t_final"), 0], real, "final value")
        # registers: public initial values, r0's final value is an output
        ab.receive(Bus.REG_INIT, [addr, *init], kind["is_reg"], "initial register")
        ab.assert_zero(r.one("is_r0") * (1 - kind["is_reg"]), "r0 is a register")
        ab.assert_zero(r.one("is_r0") * addr, "r0 is register 0")
        ab.send(Bus.OUTPUT, [addr, *final], r.one("is_r0"), "final r0")
        is_cur = r.one("is_cur")
        ab.assert_zero(is_cur * (1 - kind["is_reg"]), "the output cursor is a register cell")
        ab.assert_zero(is_cur * (addr - OUTPUT_CURSOR), "the output cursor's address")
        ab.send(Bus.OUTPUT, [addr, *final], is_cur, "output length")
        # whole words: registers, stack, heap, output
        zeroed = kind["is_stack"] + kind["is_heap"] + kind["is_out"] + kind["is_kec"]
        whole = kind["is_reg"] + zeroed
        ab.assert_zero(whole * (limit - 8), "registers, stack, heap and output words are whole")
        for k in range(4):
            ab.assert_zero(zeroed * init[k], "stack, heap and output start 0")
        ab.send(Bus.U16, [vword], kind["is_out"], "output word < 2^16")
        ab.send(Bus.OUTPUT_DATA, [addr, *final], kind["is_out"], "output word")
        # stack: word < 2^16 (two bytes) and bit 9 clear (frames alternate with gaps)
        lo, hi = r.one("vw_lo"), r.one("vw_hi")
        ab.assert_zero(kind["is_stack"] * (vword - lo - hi * 256), "stack word bytes")
        ab.send(Bus.BYTES, [lo, hi], kind["is_stack"], "stack word < 2^16")
        ab.send(Bus.BITWISE, [BitOp.AND, hi, 2, 0], kind["is_stack"], "not in a stack gap")
        heap_words = ab.public(pv.index("heap_size")) * pow(8, P - 2, P)
        # inside the heap: the difference is below 2^24 (heaps up to 128 MiB); word indices
        # are below 2^28, so a word past the heap's end would make it p − 2^28 or more
        hp_lo, hp_hi = r.one("hp_lo"), r.one("hp_hi")
        ab.assert_zero(
            kind["is_heap"] * (heap_words - 1 - vword - hp_lo - hp_hi * 65536), "heap word"
        )
        ab.send(Bus.U16, [hp_lo], kind["is_heap"], "inside the heap (low)")
        ab.send(Bus.BYTES, [hp_hi, 0], kind["is_heap"], "inside the heap (high)")
        # sponge buffer words: below 2^27 (hp_lo + 2^16·hp_hi, hp_hi < 2^11)
        kec = kind["is_kec"]
        ab.assert_zero(kec * (vword - hp_lo - hp_hi * 65536), "sponge word limbs")
        ab.send(Bus.U16, [hp_lo], kec, "sponge word (low)")
        ab.send(Bus.DIV8, [hp_hi * 32, hp_hi * 4, 0], kec, "sponge word below 2^27")
        # program and input words: the tables check the bounds and give value and limit
        data = [addr, limit, *init]
        # (the memory being image 0's: other images' words are fetched, never read as data yet)
        ab.send(Bus.PROGRAM_DATA, [*data, 0], kind["is_prog"], "program word")
        ab.send(Bus.INPUT_DATA, data, kind["is_input"], "input word")
        # sorted by address: real rows first, each address below the next one
        has_next = r.one("has_next")
        ab.when_transition().assert_eq(has_next, nxt.one("is_real"), "has_next")
        ab.when_last_row().assert_zero(has_next, "no next on the last row")
        ab.when_transition().assert_zero((1 - real) * nxt.one("is_real"), "real rows first")
        gap = r.one("gap_lo") + r.one("gap_hi") * 65536
        ab.when_transition().assert_zero(
            has_next * (nxt.one("addr") - addr - 1 - gap), "addresses strictly increase"
        )
        ab.send(Bus.U16, [r.one("gap_lo")], has_next, "address gap low")
        ab.send(Bus.U16, [r.one("gap_hi")], has_next, "address gap high")


def generate_boundary(
    scan: ScanResult, heap_size: int, lookups: LookupCounts
) -> tuple[NDArray[np.int64], dict[int, int], dict[int, int]]:
    """Boundary rows, and the program and input words it reads (word index → 1)."""
    addr = scan.boundary_addr
    n = addr.shape[0]
    t = np.zeros((n, BOUNDARY.width), dtype=np.int64)
    region = np.where(addr < NUM_REGISTERS, 0, addr // REGION_SHIFT)
    vword = addr - region * REGION_SHIFT
    t[:, BOUNDARY.index("is_real")] = 1
    t[:, BOUNDARY.index("addr")] = addr
    t[:, BOUNDARY.index("vword")] = vword
    t[:, BOUNDARY.index("limit")] = scan.boundary_limit
    t[:, BOUNDARY.span("init")] = limb_columns(scan.boundary_init)
    t[:, BOUNDARY.span("final")] = limb_columns(scan.boundary_final)
    t[:, BOUNDARY.index("t_init")] = scan.boundary_t_init
    t[:, BOUNDARY.index("t_final")] = scan.boundary_t_final
    for k in KINDS:
        t[:, BOUNDARY.index(k)] = region == _REGION_OF_KIND[k]
    t[:, BOUNDARY.index("is_r0")] = addr == 0
    t[:, BOUNDARY.index("is_cur")] = addr == OUTPUT_CURSOR
    lookups.u16(vword[region == REGION_OUTPUT])
    stack = region == REGION_STACK
    t[:, BOUNDARY.index("vw_lo")] = np.where(stack, vword & 0xFF, 0)
    t[:, BOUNDARY.index("vw_hi")] = np.where(stack, vword >> 8, 0)
    lookups.byte_pairs(vword[stack] & 0xFF, vword[stack] >> 8)
    lookups.bitwise(BitOp.AND, vword[stack] >> 8, np.full(int(stack.sum()), 2))
    heap = region == REGION_HEAP
    inside = heap_size // 8 - 1 - vword
    t[:, BOUNDARY.index("hp_lo")] = np.where(heap, inside & 0xFFFF, 0)
    t[:, BOUNDARY.index("hp_hi")] = np.where(heap, inside >> 16, 0)
    lookups.u16(inside[heap] & 0xFFFF)
    lookups.byte_pairs(inside[heap] >> 16, np.zeros(int(heap.sum()), np.int64))
    kec = region == REGION_KECCAK
    t[kec, BOUNDARY.index("hp_lo")] = vword[kec] & 0xFFFF
    t[kec, BOUNDARY.index("hp_hi")] = vword[kec] >> 16
    lookups.u16(vword[kec] & 0xFFFF)
    lookups.div8((vword[kec] >> 16) * 32)
    if n > 1:
        gap = addr[1:] - addr[:-1] - 1
        t[: n - 1, BOUNDARY.index("has_next")] = 1
        t[: n - 1, BOUNDARY.index("gap_lo")] = gap & 0xFFFF
        t[: n - 1, BOUNDARY.index("gap_hi")] = gap >> 16
        lookups.u16(gap & 0xFFFF)
        lookups.u16(gap >> 16)
    prog = {int(v): 1 for v in vword[region == REGION_PROGRAM]}
    inp = {int(v): 1 for v in vword[region == REGION_INPUT]}
    return t, prog, inp


KEEP = Layout()
KEEP.add("is_real")
KEEP.add("addr")
KEEP.add("limit")
KEEP.add("v", 4)
KEEP.add("t_prev")
KEEP.add("t")
KEEP.add("space")


class KeepAliveChip:
    """Re-send a value unchanged at a later time (t − t_prev − 1 < 2^16)."""

    name = "keep_alive"
    width = KEEP.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """One read and one write of the same value."""
        r = Row(ab.main.local, KEEP)
        real = r.one("is_real")
        ab.assert_bool(real, "is_real is boolean")
        head = [r.one("addr"), r.one("limit"), *r.many("v")]
        space = r.one("space")
        ab.receive(Bus.MEMORY, [*head, r.one("t_prev"), space], real, "keep-alive read")
        ab.send(Bus.MEMORY, [*head, r.one("t"), space], real, "keep-alive write")
        ab.send(Bus.U16, [r.one("t") - r.one("t_prev") - 1], real, "keep-alive gap")


def generate_keep_alive(scan: ScanResult, lookups: LookupCounts) -> NDArray[np.int64]:
    """Keep-alive rows from the scan."""
    n = scan.keep_addr.shape[0]
    t = np.zeros((n, KEEP.width), dtype=np.int64)
    t[:, KEEP.index("is_real")] = 1
    t[:, KEEP.index("addr")] = scan.keep_addr
    t[:, KEEP.index("limit")] = scan.keep_limit
    t[:, KEEP.span("v")] = limb_columns(scan.keep_value)
    t[:, KEEP.index("t_prev")] = scan.keep_t_prev
    t[:, KEEP.index("t")] = scan.keep_t
    lookups.u16(scan.keep_t - scan.keep_t_prev - 1)
    return t


INPUT = Layout()
for _name in ("is_real", "word", "v0", "v1", "v2", "v3", "limit", "is_last", "inv_last", "m_data"):
    INPUT.add(_name)


class InputChip:
    """The input region's touched words."""

    name = "input"
    width = INPUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Range-checked limbs, bounded word index, limit of the last word, INPUT_DATA."""
        r = Row(ab.main.local, INPUT)
        real, word = r.one("is_real"), r.one("word")
        last, tail = ab.public(pv.index("input_last")), ab.public(pv.index("input_tail"))
        ab.assert_bool(real, "is_real is boolean")
        ab.assert_bool(r.one("is_last"), "is_last is boolean")
        values = [r.one(f"v{k}") for k in range(4)]
        for k, v in enumerate(values):
            ab.send(Bus.U16, [v], real, f"limb {k}")
        ab.send(Bus.U16, [last - word], real, "word inside the input")
        ab.assert_zero(r.one("is_last") * (word - last), "the last word is the last")
        ab.assert_zero(
            real * ((word - last) * r.one("inv_last") - 1 + r.one("is_last")),
            "a word equal to the last is marked last",
        )
        ab.assert_zero(
            real * (r.one("limit") - 8 - r.one("is_last") * (tail - 8)), "limit of the word"
        )
        ab.receive(
            Bus.INPUT_DATA,
            [word + REGION_INPUT * REGION_SHIFT, r.one("limit"), *values],
            r.one("m_data"),
            "input word",
        )
        ab.send(Bus.MERKLE, [TREE_INPUT, 0, word, *values, 0, 0, 0, 0], real, "input leaf")


def generate_input(data: bytes, words: dict[int, int], lookups: LookupCounts) -> NDArray[np.int64]:
    """Rows for the input words the boundary reads."""
    order = sorted(words)
    n = len(order)
    t = np.zeros((n, INPUT.width), dtype=np.int64)
    last = (len(data) - 1) // 8
    tail = len(data) - 8 * last
    for i, word in enumerate(order):
        raw = data[8 * word : 8 * word + 8].ljust(8, b"\0")
        vals = [int.from_bytes(raw[2 * k : 2 * k + 2], "little") for k in range(4)]
        t[i, INPUT.index("is_real")] = 1
        t[i, INPUT.index("word")] = word
        for k, v in enumerate(vals):
            t[i, INPUT.index(f"v{k}")] = v
        t[i, INPUT.index("limit")] = tail if word == last else 8
        t[i, INPUT.index("is_last")] = int(word == last)
        t[i, INPUT.index("inv_last")] = 0 if word == last else pow((word - last) % P, P - 2, P)
        t[i, INPUT.index("m_data")] = words[word]
        lookups.u16(np.array([*vals, last - word]))
    return t
