"""The slices of a `sol_keccak256` call: one row per (ptr, len) record.

Row i of the call at ts receives KECCAK_SLICE (ts, records word, count, i, pos, cost, t),
reads the record's two words (records word + 2i, + 2i + 1) at t, proves a non-empty slice
readable (slice_check; len below 2^32, and below 2^25 by its cost's range check), copies it
forward to sponge-buffer byte pos (word ts + pos / 8 of region 6) from t + 1 on (memcopy_chip;
the copy reports its end t_end; an empty slice takes t_end = t + 1), charges max(10, len / 2)
and sends (…, i + 1, pos + len, cost + that, t_end). pos stays below 2^27, so the buffer
bytes a call writes are exactly [0, L) of its own words.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.zkvm import keccak_sponge as ks
from heliostat.zkvm import slice_check
from heliostat.zkvm.buses import REGION_KECCAK, REGION_SHIFT, Bus
from heliostat.zkvm.chip import SlotResult
from heliostat.zkvm.frame import access, inverse_or_zero, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.memcopy_chip import KIND_MOVE
from heliostat.zkvm.syscall_chip import region_lengths
from heliostat.zkvm.u16_chip import LookupCounts

_SCALARS = (
    "is_real",
    "ts0",
    "rec",  # the records' first word
    "count",
    "i",
    "pos",
    "cost",
    "t",
    "t_end",
    "pos_lo",  # pos = pos_lo + 2^16·pos_hi, pos_lo = 8·pq + pk
    "pos_hi",
    "pq",
    "pk",
    "ptr_t",
    "len_t",
    "empty",
    "inv_n",
    "sq",  # ptr's low limb = 8·sq + sk
    "sk",
    "bs",
    "hl",  # len's low limb = 2·hl + hb
    "hb",
    "big",  # len / 2 ≥ 10
    "d_lo",  # len / 2 − 10 = d_lo + 2^16·d_hi
    "d_hi",
)
LAYOUT = Layout()
for _n in _SCALARS:
    LAYOUT.add(_n)
LAYOUT.add("ptr", 4)
LAYOUT.add("len", 4)
slice_check.define(LAYOUT, "sc")


class KeccakSliceChip:
    """The AIR."""

    name = "keccak_slice"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Chain, record reads, range, copy, cost."""
        r = Row(ab.main.local, LAYOUT)
        c = {n: r.one(n) for n in _SCALARS}
        ptr, ln = r.many("ptr"), r.many("len")
        real, empty, big = c["is_real"], c["empty"], c["big"]
        for name in ("is_real", "empty", "bs", "hb", "big"):
            ab.assert_bool(c[name], f"{name} is boolean")
        ab.assert_zero(empty * (1 - real), "empty only on real rows")
        ab.assert_zero(big * (1 - real), "big only on real rows")
        head = [c["ts0"], c["rec"], c["count"]]
        ab.receive(
            Bus.KECCAK_SLICE, [*head, c["i"], c["pos"], c["cost"], c["t"]], real, "this slice"
        )
        t = c["t"]
        word = c["rec"] + c["i"] * 2
        access(ab, word, ptr, ptr, c["ptr_t"], t, real, "slice pointer")
        access(ab, word + 1, ln, ln, c["len_t"], t, real, "slice length")
        ab.assert_zero(real * ln[2], "len below 2^32")
        ab.assert_zero(real * ln[3], "len below 2^48")
        n = ln[0] + ln[1] * 65536
        ab.assert_zero(empty * n, "empty ⇒ len = 0")
        ab.assert_zero(real - empty - n * c["inv_n"], "len = 0 ⇒ empty")
        work = real - empty
        slice_check.constrain(ab, r, "sc", ptr, n, work, region_lengths(ab), n_hi=ln[1])
        # where the bytes go: buffer byte pos of the call's words
        pos_lo, pos_hi = c["pos_lo"], c["pos_hi"]
        ab.assert_zero(real * (c["pos"] - pos_lo - pos_hi * 65536), "pos limbs")
        ab.send(Bus.DIV8, [pos_lo, c["pq"], c["pk"]], real, "pos low = 8·pq + pk")
        ab.send(Bus.DIV8, [pos_hi * 32, pos_hi * 4, 0], real, "pos below 2^27")
        ab.send(Bus.DIV8, [ptr[0], c["sq"], c["sk"]], work, "ptr = 8·word + k")
        s = c["sk"] - c["pk"] + c["bs"] * 8
        ab.send(Bus.DIV8, [s, 0, s], work, "shift in 0..7")
        w_dst = REGION_KECCAK * REGION_SHIFT + c["ts0"] + pos_hi * 8192 + c["pq"]
        w_src = ptr[2] * REGION_SHIFT + ptr[1] * 8192 + c["sq"]
        q = w_src - w_dst - c["bs"]
        ab.send(Bus.COPY, [t + 1, KIND_MOVE, 0, n, q, s, 0, w_dst, c["pk"], 0, t + 1], work, "copy")
        ab.receive(Bus.COPY_DONE, [t + 1, c["t_end"]], work, "copy done")
        ab.assert_zero(empty * (c["t_end"] - t - 1), "an empty slice takes one timestamp")
        # cost: max(10, h), h = len / 2
        ab.assert_zero(real * (ln[0] - c["hl"] * 2 - c["hb"]), "len low = 2·hl + hb")
        ab.send(Bus.U16, [c["hl"]], real, "hl is 15 bits or so")
        h = c["hl"] + ln[1] * 32768
        ab.assert_zero(big * (h - 10 - c["d_lo"] - c["d_hi"] * 65536), "h − 10 limbs")
        ab.send(Bus.U16, [c["d_lo"]], big, "h ≥ 10 (low)")
        ab.send(Bus.BYTES, [c["d_hi"], 0], big, "h ≥ 10 (high)")
        ab.send(Bus.U16, [9 - h], real - big, "h < 10")
        cost = big * h + (1 - big) * ks.MIN_SLICE_COST
        ab.send(
            Bus.KECCAK_SLICE,
            [*head, c["i"] + 1, c["pos"] + n, c["cost"] + cost, c["t_end"]],
            real,
            "next slice",
        )


def generate(
    plans: list[ks.CallPlan],
    rec_ptr: SlotResult,
    rec_len: SlotResult,
    region_sizes: dict[int, int],
    lookups: LookupCounts,
) -> NDArray[np.int64]:
    """Return the slice rows of ``plans`` (``rec_*``: the scan's results for their records)."""
    from heliostat.zkvm.memory_scan import word_address

    steps = [(p, s) for p in plans for s in p.slices]
    n = len(steps)
    t = np.zeros((n, LAYOUT.width), np.int64)
    if not n:
        return t
    col = LAYOUT.index
    ptr = np.array([s.ptr for _, s in steps], np.uint64)
    length = np.array([s.length for _, s in steps], np.int64)
    pos = np.array([s.pos for _, s in steps], np.int64)
    cost_before: list[int] = []
    acc: dict[int, int] = {}
    for p, s in steps:
        cost_before.append(acc.get(p.ts, 0))
        acc[p.ts] = acc.get(p.ts, 0) + ks.slice_cost(s.length)
    work = length > 0
    half = length >> 1
    big = half >= 10
    pk = pos & 7
    sk = (ptr & np.uint64(7)).astype(np.int64)
    bs = sk < pk
    values: dict[str, object] = {
        "is_real": 1,
        "ts0": [p.ts for p, _ in steps],
        "rec": [int(word_address(np.array([p.slices_ptr], np.uint64))[0]) for p, _ in steps],
        "count": [p.count for p, _ in steps],
        "i": [s.index for _, s in steps],
        "pos": pos,
        "cost": cost_before,
        "t": [s.t for _, s in steps],
        "t_end": [s.t_end for _, s in steps],
        "pos_lo": pos & 0xFFFF,
        "pos_hi": pos >> 16,
        "pq": (pos & 0xFFFF) >> 3,
        "pk": pk,
        "ptr_t": rec_ptr.t_prev,
        "len_t": rec_len.t_prev,
        "empty": ~work,
        "inv_n": inverse_or_zero(length),
        "sq": np.where(work, (ptr.astype(np.int64) & 0xFFFF) >> 3, 0),
        "sk": np.where(work, sk, 0),
        "bs": work & bs,
        "hl": (length & 0xFFFF) >> 1,
        "hb": length & 1,
        "big": big,
        "d_lo": np.where(big, (half - 10) & 0xFFFF, 0),
        "d_hi": np.where(big, (half - 10) >> 16, 0),
    }
    for name, v in values.items():
        t[:, col(name)] = np.asarray(v, np.int64)
    if (rec_ptr.old != ptr).any() or (rec_len.old.astype(np.int64) != length).any():
        from heliostat.zkvm.errors import TraceGenerationError

        raise TraceGenerationError("sol_keccak256: slice records differ from memory")
    t[:, LAYOUT.span("ptr")] = limb_columns(rec_ptr.old)
    t[:, LAYOUT.span("len")] = limb_columns(rec_len.old)
    ts_now = np.array([s.t for _, s in steps], np.int64)
    lookups.u16(ts_now - rec_ptr.t_prev - 1)
    lookups.u16(ts_now - rec_len.t_prev - 1)
    slice_check.fill(t, LAYOUT, "sc", ptr, length, work, region_sizes, lookups)
    lookups.div8(pos & 0xFFFF)
    lookups.div8((pos >> 16) * 32)
    lookups.div8((ptr.astype(np.int64) & 0xFFFF)[work])
    lookups.div8((sk - pk + 8 * bs)[work])
    lookups.u16((length & 0xFFFF) >> 1)
    lookups.u16(((half - 10) & 0xFFFF)[big])
    lookups.byte_pairs(((half - 10) >> 16)[big], np.zeros(int(big.sum()), np.int64))
    lookups.u16((9 - half)[~big])
    return t
