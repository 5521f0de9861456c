"""The memory-copy chip: memcpy, memmove and memset, one row per destination word.

A copy of n bytes from src to dst (or a fill with byte v) is a chain of rows started by the
syscall row (syscall_mem_chip) on COPY and ended with COPY_DONE. A row owns the bytes
[lo, hi) of destination word W, at timestamp t: it reads the source window (words W + q and
W + q + 1, where src − dst = 8q + s, only the ones its bytes need) at t and writes W at t + 1;
destination byte i takes window byte i + s (or v). Rows go forward (from dst's first word)
or, when dst is above src, backward (from its last word), so that an overlapping memmove reads
every source byte before the copy overwrites it. The chain carries (ts, kind, direction, n,
q, s, v) unchanged, the next word, its edge (the row's start byte going forward, its end
byte going backward), the bytes done and the next timestamp; a row fills its word to the
edge of the word unless it is the last, which sends COPY_DONE with the final timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.zkvm.buses import Bus
from heliostat.zkvm.frame import access, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.operands import byte_columns
from heliostat.zkvm.u16_chip import LookupCounts

KIND_MOVE, KIND_SET = 1, 2

LAYOUT = Layout()
for _n in (
    "is_real",
    "mv",
    "set",
    "dir",
    "ts0",
    "t",
    "n",
    "w",
    "lo",
    "hi",
    "edge",
    "p",
    "q",
    "s",
    "v",
    "need0",
    "need1",
    "last",
    "r_lo",
    "r_hi",
    "t_d",
    "t_s0",
    "t_s1",
    "lim_d",
    "lim_s0",
    "lim_s1",
):
    LAYOUT.add(_n)
for _n, _k in (("m", 8), ("sh", 8), ("do", 8), ("win", 16), ("dn", 4)):
    LAYOUT.add(_n, _k)


def _limbs(b: list[Expr]) -> list[Expr]:
    return [b[2 * i] + b[2 * i + 1] * 256 for i in range(len(b) // 2)]


class MemCopyChip:
    """The AIR."""

    name = "memcopy"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Byte run, chain, selection, accesses."""
        r = Row(ab.main.local, LAYOUT)
        c = {n: r.one(n) for n in LAYOUT.names() if LAYOUT.count(n) == 1}
        m, sh, do, win, dn = (r.many(n) for n in ("m", "sh", "do", "win", "dn"))
        real, mv, st, d = c["is_real"], c["mv"], c["set"], c["dir"]
        for name in ("is_real", "mv", "set", "dir", "need0", "need1", "last"):
            ab.assert_bool(c[name], f"{name} is boolean")
        ab.assert_eq(mv + st, real, "one kind")
        # the byte run m = [lo, hi), at least one byte
        for i in range(8):
            ab.assert_bool(m[i], f"m{i} is boolean")
        starts = [m[0], *(m[i] * (1 - m[i - 1]) for i in range(1, 8))]
        ab.assert_eq(sum_exprs(starts), real, "one contiguous run")
        count = sum_exprs(m)
        start = sum_exprs(starts[i] * i for i in range(1, 8))
        ab.assert_eq(c["lo"], start, "lo is where the run starts")
        ab.assert_eq(c["hi"], c["lo"] + count, "hi = lo + bytes")
        ab.send(Bus.DIV8, [count - 1, 0, count - 1], real, "at least one byte")
        # the chain: in at the edge, out at the next word (or done)
        ab.assert_eq(c["edge"], c["lo"] + d * (c["hi"] - c["lo"]), "edge by direction")
        head = [c["ts0"], mv * KIND_MOVE + st * KIND_SET, d, c["n"], c["q"], c["s"], c["v"]]
        ab.receive(Bus.COPY, [*head, c["w"], c["edge"], c["p"], c["t"]], real, "this word")
        more = real - c["last"]
        ab.send(
            Bus.COPY,
            [*head, c["w"] + 1 - d * 2, d * 8, c["p"] + count, c["t"] + 2],
            more,
            "next word",
        )
        ab.send(Bus.COPY_DONE, [c["ts0"], c["t"] + 2], c["last"], "copy done")
        ab.assert_zero(c["last"] * (c["n"] - c["p"] - count), "the last row ends the copy")
        remaining = c["r_lo"] + c["r_hi"] * 65536
        ab.assert_zero(more * (c["n"] - c["p"] - count - 1 - remaining), "not the last: more left")
        ab.send(Bus.U16, [c["r_lo"]], more, "bytes left low")
        ab.send(Bus.U16, [c["r_hi"]], more, "bytes left high")
        ab.assert_zero(more * ((1 - d) * (8 - c["hi"]) + d * c["lo"]), "inner rows fill the word")
        # the shift s (one-hot) and the source words the run needs
        for j in range(8):
            ab.assert_bool(sh[j], f"shift {j} is boolean")
        ab.assert_eq(sum_exprs(sh), real, "one shift")
        ab.assert_eq(sum_exprs(sh[j] * j for j in range(8)), c["s"], "shift value")
        first_src, end_src = c["lo"] + c["s"], c["hi"] + c["s"]
        # need0 ⟺ lo + s ≤ 7 ; need1 ⟺ hi + s ≥ 9 (moves only)
        a0 = c["need0"] * (7 - first_src) + (mv - c["need0"]) * (first_src - 8)
        a1 = c["need1"] * (end_src - 9) + (mv - c["need1"]) * (8 - end_src)
        ab.send(Bus.DIV8, [a0, 0, a0], mv, "first source word needed?")
        ab.send(Bus.DIV8, [a1, 0, a1], mv, "second source word needed?")
        ab.assert_zero(st * (c["need0"] + c["need1"]), "a fill reads no source")
        # new bytes: the run takes window[i + s] (move) or v (fill), the rest stays
        for k in range(4):
            nb = []
            for i in (2 * k, 2 * k + 1):
                src = sum_exprs(sh[j] * win[i + j] for j in range(8))
                nb.append(do[i] + m[i] * (mv * src + st * c["v"] - do[i]))
            ab.assert_eq(dn[k], nb[0] + nb[1] * 256, f"new limb {k}")
        for i in range(4):
            ab.send(Bus.BYTES, [do[2 * i], do[2 * i + 1]], real, f"old bytes {i}")
            ab.send(Bus.BYTES, [win[2 * i], win[2 * i + 1]], c["need0"], f"window bytes {i}")
            ab.send(
                Bus.BYTES, [win[8 + 2 * i], win[9 + 2 * i]], c["need1"], f"window bytes {4 + i}"
            )
        t = c["t"]
        src0 = c["w"] + c["q"]
        w0, w1 = _limbs(win[:8]), _limbs(win[8:])
        access(ab, src0, w0, w0, c["t_s0"], t, c["need0"], "source word", limit=c["lim_s0"])
        access(
            ab, src0 + 1, w1, w1, c["t_s1"], t, c["need1"], "next source word", limit=c["lim_s1"]
        )
        access(
            ab, c["w"], _limbs(do), dn, c["t_d"], t + 1, real, "destination word", limit=c["lim_d"]
        )


@dataclass
class CopyJob:
    """One copy as the syscall row starts it (byte addresses are virtual)."""

    ts0: int
    kind: int
    dst: int
    src: int  # the source address (moves), unused for fills
    n: int
    v: int
    first_t: int


def plan(job: CopyJob) -> list[dict[str, int]]:
    """Return the rows of a copy, in processing order (without memory values)."""
    from heliostat.zkvm.memory_scan import word_address

    def waddr(x: int) -> int:
        return int(word_address(np.array([x], np.uint64))[0])

    # backward only when dst is above src in the same region (as the syscall rows prove it)
    same_region = job.dst >> 32 == job.src >> 32
    backward = job.kind == KIND_MOVE and same_region and job.dst > job.src
    delta = job.src - job.dst
    s = delta % 8
    # q = W(src) − W(dst) − [src's byte < dst's byte] (W(src − s) would leave src's region
    # when src's offset is below s: a slice at the input's start copied to a higher byte)
    borrow = int((job.src & 7) < (job.dst & 7))
    q = waddr(job.src) - waddr(job.dst) - borrow if job.kind == KIND_MOVE else 0
    if job.kind != KIND_MOVE:
        s = 0
    words = list(range(job.dst // 8, (job.dst + job.n - 1) // 8 + 1))
    if backward:
        words.reverse()
    rows, done, t = [], 0, job.first_t
    for word in words:
        lo = max(job.dst, 8 * word) - 8 * word
        hi = min(job.dst + job.n, 8 * word + 8) - 8 * word
        rows.append(
            {
                "w": waddr(8 * word),
                "base": 8 * word,
                "lo": lo,
                "hi": hi,
                "p": done,
                "t": t,
                "q": q,
                "s": s,
                "dir": int(backward),
            }
        )
        done += hi - lo
        t += 2
    return rows


def accesses(
    job: CopyJob, rows: list[dict[str, int]], written: bytes
) -> list[tuple[int, int, int, int]]:
    """Return (word address, timestamp, write mask, write value) of every access of the rows.

    ``written`` is what the syscall wrote at dst (the VM records it).
    """
    out = []
    for row in rows:
        lo, hi, s = row["lo"], row["hi"], row["s"]
        if job.kind == KIND_MOVE:
            if lo + s <= 7:
                out.append((row["w"] + row["q"], row["t"], 0, 0))
            if hi + s >= 9:
                out.append((row["w"] + row["q"] + 1, row["t"], 0, 0))
        first = row["base"] + lo - job.dst
        chunk = written[first : first + hi - lo]
        mask = ((1 << (hi - lo)) - 1) << lo
        out.append((row["w"], row["t"] + 1, mask, int.from_bytes(chunk, "little") << (8 * lo)))
    return out


def generate(
    jobs: list[tuple[CopyJob, list[dict[str, int]], dict[tuple[int, int], tuple[int, int, int]]]],
    limits: dict[int, int],
    lookups: LookupCounts,
) -> NDArray[np.int64]:
    """Return the rows of every copy.

    ``jobs`` holds, per copy, its rows and the scan's results of its accesses: (word,
    timestamp) → (old value, new value, previous timestamp).
    """
    out = []
    col = {n: LAYOUT.index(n) for n in LAYOUT.names()}
    for job, rows, mem in jobs:
        for k, row in enumerate(rows):
            t = np.zeros(LAYOUT.width, dtype=np.int64)
            lo, hi, s, tt = row["lo"], row["hi"], row["s"], row["t"]
            last = k == len(rows) - 1
            values = {
                "is_real": 1,
                "mv": int(job.kind == KIND_MOVE),
                "set": int(job.kind == KIND_SET),
                "dir": row["dir"],
                "ts0": job.ts0,
                "t": tt,
                "n": job.n,
                "w": row["w"],
                "lo": lo,
                "hi": hi,
                "edge": hi if row["dir"] else lo,
                "p": row["p"],
                "q": row["q"],
                "s": s,
                "v": job.v,
                "last": int(last),
            }
            for name, v in values.items():
                t[col[name]] = v
            t[LAYOUT.index("m") + lo : LAYOUT.index("m") + hi] = 1
            t[LAYOUT.index("sh") + s] = 1
            old, new, tp = mem[(row["w"], tt + 1)]
            do = byte_columns(np.array([old], np.uint64))[0]
            t[LAYOUT.span("do")] = do
            t[LAYOUT.span("dn")] = limb_columns(np.array([new], np.uint64))[0]
            t[col["t_d"]], t[col["lim_d"]] = tp, limits.get(row["w"], 8)
            lookups.byte_pairs(do[0::2], do[1::2])
            lookups.u16(np.array([tt + 1 - tp - 1]))
            lookups.div8(np.array([hi - lo - 1]))
            if job.kind == KIND_MOVE:
                need0, need1 = lo + s <= 7, hi + s >= 9
                t[col["need0"]], t[col["need1"]] = need0, need1
                a0 = 7 - lo - s if need0 else lo + s - 8
                a1 = hi + s - 9 if need1 else 8 - hi - s
                lookups.div8(np.array([a0, a1]))
                for j, (flag, name) in enumerate(((need0, "s0"), (need1, "s1"))):
                    if not flag:
                        continue
                    addr = row["w"] + row["q"] + j
                    value, _, prev = mem[(addr, tt)]
                    wb = byte_columns(np.array([value], np.uint64))[0]
                    t[LAYOUT.index("win") + 8 * j : LAYOUT.index("win") + 8 * j + 8] = wb
                    t[col[f"t_{name}"]], t[col[f"lim_{name}"]] = prev, limits.get(addr, 8)
                    lookups.byte_pairs(wb[0::2], wb[1::2])
                    lookups.u16(np.array([tt - prev - 1]))
            if not last:
                left = job.n - row["p"] - (hi - lo) - 1
                t[col["r_lo"]], t[col["r_hi"]] = left & 0xFFFF, left >> 16
                lookups.u16(np.array([left & 0xFFFF, left >> 16]))
            out.append(t)
    return np.array(out, dtype=np.int64).reshape(-1, LAYOUT.width)
