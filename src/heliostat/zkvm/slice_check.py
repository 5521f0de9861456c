"""Proof that a byte range [p, p + n) is mapped (what agave's `translate_slice` checks).

p's limbs must be (offset_0, offset_1, region, 0) with region 1–4 (two bits). Outside the
stack: offset + n ≤ the region's length. In the stack (sBPF's gapped frames, where only the
first byte is checked against a gap): bit 12 of the offset is clear and host + n ≤ 256 KiB,
host = (offset >> 13)·4096 + (offset mod 4096). Stores may not target the program region.
The slack (length − end) is range-checked below 2^29, and the offset and n below 2^28
each: a 16-bit limb pair alone would represent every field element (p < 2^32), so "inside
the region" would prove nothing. With offset + n < 2^29 and lengths below 2^28, the integer
length − end lies in (−2^29, 2^28), and its negative values are p − 2^29 or more mod p, which
no slack below 2^29 equals. A range that large is never valid (regions are smaller), so the
bounds cost no honest proof. A zero-length range is never translated, so callers switch the
check off for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import BitOp, Bus
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.u16_chip import LookupCounts

STACK_SIZE = 1 << 18
LIMIT_BITS = 28  # offset and n below 2^28; slack below 2^(LIMIT_BITS + 1)
FIELDS = ("rb0", "rb1", "lo8", "nlo", "nhi", "s_lo", "s_hi")


def define(layout: Layout, prefix: str) -> None:
    """Define the columns of one slice check."""
    for name in FIELDS:
        layout.add(f"{prefix}_{name}")


def constrain(
    ab: AirBuilder,
    row: Row,
    prefix: str,
    p: Sequence[Expr],
    n: Expr,
    mult: Expr,
    lengths: dict[int, Expr],
    *,
    n_hi: Expr | int,
    store: Expr | int = 0,
) -> None:
    """Constraints and lookups (``mult`` switches them on; ``lengths`` by region 1, 3, 4).

    ``n_hi`` is n's limb above the low 16 bits (n = low + 2^16·n_hi, the caller range-checks
    both limbs); this bounds it, and the offset, below 2^28.
    """
    c = {f: row.one(f"{prefix}_{f}") for f in FIELDS}
    rb0, rb1 = c["rb0"], c["rb1"]
    ab.assert_bool(rb0, f"{prefix} region bit 0")
    ab.assert_bool(rb1, f"{prefix} region bit 1")
    ab.assert_zero(mult * (p[2] - 1 - rb0 - rb1 * 2), f"{prefix} region 1–4")
    ab.assert_zero(mult * p[3], f"{prefix} below 2^48")
    prog = (1 - rb0) * (1 - rb1)
    stack = rb0 * (1 - rb1)
    heap = (1 - rb0) * rb1
    inp = rb0 * rb1
    ab.assert_zero(mult * store * prog, f"{prefix} not a store to the program")
    read_only = ab.public(pv.index("input_read_only"))
    ab.assert_zero(mult * store * inp * read_only, f"{prefix} not a store to a read-only input")
    offset = p[1] * 65536 + p[0]
    slack = c["s_lo"] + c["s_hi"] * 65536
    flat = prog * lengths[1] + heap * lengths[3] + inp * lengths[4]
    host = c["nhi"] * 2048 + p[1] * 32768 + c["lo8"] + c["nlo"] * 256
    ab.assert_zero(
        mult * ((1 - stack) * (flat - offset - n) + stack * (STACK_SIZE - host - n) - slack),
        f"{prefix} inside its region",
    )
    ab.send(Bus.U16, [c["s_lo"]], mult, f"{prefix} slack low")
    ab.send(Bus.U16, [c["s_hi"]], mult, f"{prefix} slack high")
    ab.send(Bus.U16, [c["s_hi"] * 8], mult, f"{prefix} slack below 2^29")
    ab.send(Bus.U16, [p[1] * 16], mult, f"{prefix} offset below 2^28")
    ab.send(Bus.U16, [n_hi * 16], mult, f"{prefix} n below 2^28")
    # stack offset bits: offset = lo8 + 256·(nlo + 16·nhi) + 65536·p1, bit 12 = nhi & 1 = 0
    on_stack = mult * stack
    ab.assert_zero(
        on_stack * (p[0] - c["lo8"] - c["nlo"] * 256 - c["nhi"] * 4096), f"{prefix} stack offset"
    )
    ab.send(Bus.BYTES, [c["lo8"], c["nlo"] + c["nhi"] * 16], on_stack, f"{prefix} offset bytes")
    ab.send(
        Bus.BITWISE,
        [BitOp.AND, c["nlo"] + c["nhi"] * 16, 15, c["nlo"]],
        on_stack,
        f"{prefix} bits 8–11",
    )
    ab.send(Bus.BITWISE, [BitOp.AND, c["nhi"], 1, 0], on_stack, f"{prefix} not in a gap")


def fill(
    t: NDArray[np.int64],
    layout: Layout,
    prefix: str,
    p: NDArray[np.uint64],
    n: NDArray[np.int64],
    active: NDArray[np.bool_],
    lengths: dict[int, int],
    lookups: LookupCounts,
) -> None:
    """Fill the columns; raises if some active range is not mapped (a generator bug)."""
    pa = np.asarray(p, np.uint64)
    region = (pa >> np.uint64(32)).astype(np.int64)
    offset = (pa & np.uint64(0xFFFFFFFF)).astype(np.int64)
    rb = np.where(active, region - 1, 0)
    stack = active & (region == 2)
    lo8, hi8 = offset & 0xFF, (offset >> 8) & 0xFF
    nlo, nhi = hi8 & 15, hi8 >> 4
    host = ((offset >> 13) << 12) | (offset & 0xFFF)
    flat = np.array([lengths.get(int(r), 0) for r in region])
    slack = np.where(stack, STACK_SIZE - host - n, flat - offset - n)
    ok = (slack >= 0) & (region >= 1) & (region <= 4) & ~(stack & ((offset >> 12) & 1 == 1))
    ok &= (offset < 1 << LIMIT_BITS) & (n < 1 << LIMIT_BITS) & (slack < 1 << (LIMIT_BITS + 1))
    if (active & ~ok).any():
        raise ValueError("an unmapped range in a syscall")
    slack = np.where(active, slack, 0)
    cols = {
        "rb0": rb & 1,
        "rb1": rb >> 1,
        "lo8": np.where(stack, lo8, 0),
        "nlo": np.where(stack, nlo, 0),
        "nhi": np.where(stack, nhi, 0),
        "s_lo": slack & 0xFFFF,
        "s_hi": slack >> 16,
    }
    for name, v in cols.items():
        t[:, layout.index(f"{prefix}_{name}")] = v
    lookups.u16(slack[active] & 0xFFFF)
    lookups.u16(slack[active] >> 16)
    lookups.u16((slack[active] >> 16) * 8)
    lookups.u16((offset[active] >> 16) * 16)
    lookups.u16((np.broadcast_to(np.asarray(n, np.int64), active.shape)[active] >> 16) * 16)
    lookups.byte_pairs(lo8[stack], hi8[stack])
    lookups.bitwise(BitOp.AND, hi8[stack], np.full(int(stack.sum()), 15))
    lookups.bitwise(BitOp.AND, nhi[stack], np.full(int(stack.sum()), 1))
