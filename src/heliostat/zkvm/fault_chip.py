"""Rows that end an execution with a fault, one row per fault that halts with its status.

DivideByZero and CallDepthExceeded are proven by their own chips. The faults here:

- meter: cu = 0 before an instruction (ExceededMaxInstructions; nothing is charged);
- overrun: pc = text length (ExecutionOverrun; the slot is charged);
- unsupported: the slot's opcode is 0 (a callx into an lddw's second slot) or a `call imm`
  resolves to nothing (UnsupportedInstruction);
- callx outside the text: target − text address ≥ 8·text length as 64-bit values (after the
  depth check, which comes first in sBPF);
- access violation: the load or store address A = base + offset is in no region (A ≥ 2^48,
  region 0 or ≥ 5), or a store to the program region, or past the end of the program, heap or
  input region, or in a stack gap (bit 12 of the stack offset), or past the stack's end.
Each case is a flag; the row shows that its case's condition holds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import AirBuilder
from heliostat.stark.symbolic import Expr, sum_exprs
from heliostat.svm import opcodes as op
from heliostat.zkvm import public_values as pv
from heliostat.zkvm.buses import CALL_TARGET_UNRESOLVED, HALT_BASE, BitOp, Bus
from heliostat.zkvm.call_chip import MAX_DEPTH, frame_pointer
from heliostat.zkvm.frame import access, inverse_or_zero, limb_columns
from heliostat.zkvm.layout import Layout, Row
from heliostat.zkvm.status import Status
from heliostat.zkvm.u16_chip import LookupCounts

KINDS = ("k_meter", "k_overrun", "k_zero", "k_unres", "k_callx", "k_mem")
STATUS = {
    "k_meter": Status.EXCEEDED_MAX_INSTRUCTIONS,
    "k_overrun": Status.EXECUTION_OVERRUN,
    "k_zero": Status.UNSUPPORTED_INSTRUCTION,
    "k_unres": Status.UNSUPPORTED_INSTRUCTION,
    "k_callx": Status.CALL_OUTSIDE_TEXT_SEGMENT,
    "k_mem": Status.ACCESS_VIOLATION,
}
MEM_OPS = {
    f"{kind}{s}": (cls | op.MODE_MEM | size, w)
    for kind, cls in (("ldx", op.CLS_LDX), ("st", op.CLS_ST), ("stx", op.CLS_STX))
    for s, size, w in (
        ("b", op.SIZE_B, 1),
        ("h", op.SIZE_H, 2),
        ("w", op.SIZE_W, 4),
        ("dw", op.SIZE_DW, 8),
    )
}
CASES = ("c_hi", "c_zero", "c_big", "c_store1", "c_len1", "c_len3", "c_len4", "c_gap", "c_sover")
STACK_SIZE = 1 << 18

LAYOUT = Layout()
for _n in (
    *KINDS,
    "pc",
    "ts",
    "cu",
    "image",
    "space",
    *MEM_OPS,
    "dst",
    "src",
    "off",
    "neg",
    "b_reg",
    "b_t",
    "fp_t",
    "d_lo",
    "d_hi",
    "e_lo",
    "e_hi",
    *CASES,
    "inv3",
    "lo8",
    "hi8",
    "nlo",
    "nhi",
    "g",
    "v0",
    "v1",
):
    LAYOUT.add(_n)
for _n in ("imm", "b_old", "a", "ac", "dd", "bw", "ee", "eb"):
    LAYOUT.add(_n, 4)


class FaultChip:
    """The AIR of fault rows."""

    name = "fault"
    width = LAYOUT.width

    def preprocessed_trace(self) -> None:
        """No fixed columns."""
        return None

    def eval(self, ab: AirBuilder) -> None:
        """Every case's condition; the halt message."""
        r = Row(ab.main.local, LAYOUT)
        c = {n: r.one(n) for n in LAYOUT.names() if LAYOUT.count(n) == 1}
        pub = {n: ab.public(i) for n, i in pv.FIELDS.items()}
        kinds = [c[k] for k in KINDS]
        for name in (*KINDS, *MEM_OPS, *CASES, "neg", "g"):
            ab.assert_bool(c[name], f"{name} is boolean")
        real = sum_exprs(kinds)
        ab.assert_bool(real, "one kind")
        pc, ts, cu, image, space = c["pc"], c["ts"], c["cu"], c["image"], c["space"]
        ab.receive(Bus.STATE, [pc, ts, cu, image, space], real, "state in")
        status = sum_exprs(c[k] * int(STATUS[k]) for k in KINDS)
        halt = [status + HALT_BASE, pc, cu - real + c["k_meter"], image, space]
        ab.send(Bus.STATE, halt, real, "halt")
        ab.assert_zero(c["k_meter"] * cu, "meter: no units left")
        ab.assert_zero(c["k_overrun"] * (pc - pub["text_len"]), "overrun: pc = text length")
        mem = c["k_mem"]
        load = sum_exprs(c[n] for n in MEM_OPS if n.startswith("ldx"))
        store = sum_exprs(c[n] for n in MEM_OPS if not n.startswith("ldx"))
        ab.assert_eq(load + store, mem, "memory rows have one memory opcode")
        width = sum_exprs(c[n] * w for n, (_, w) in MEM_OPS.items())
        opcode = (
            c["k_unres"] * op.CALL_IMM
            + c["k_callx"] * op.CALL_REG
            + sum_exprs(c[n] * code for n, (code, _) in MEM_OPS.items())
        )
        imm = r.many("imm")
        fetched = c["k_zero"] + c["k_unres"] + c["k_callx"] + mem
        ab.send(
            Bus.FETCH,
            [
                pc,
                opcode,
                c["dst"],
                c["src"],
                c["off"],
                c["neg"],
                *imm,
                c["k_unres"] * CALL_TARGET_UNRESOLVED,
                image,
            ],
            fetched,
            "fetch",
        )
        # the base (memory) or target (callx) register
        stx_or_st = store
        ab.assert_eq(
            c["b_reg"],
            load * c["src"] + stx_or_st * c["dst"] + c["k_callx"] * imm[0],
            "register read",
        )
        b = r.many("b_old")
        sp = c["space"]
        access(ab, c["b_reg"], b, b, c["b_t"], ts, c["k_callx"] + mem, "register", space=sp)
        self._callx(ab, r, c, pub, b, ts)
        self._memory(ab, r, c, pub, b, width, store)

    @staticmethod
    def _callx(
        ab: AirBuilder, r: Row, c: dict[str, Expr], pub: dict[str, Expr], x: list[Expr], ts: Expr
    ) -> None:
        k = c["k_callx"]
        d_lo, d_hi, e_lo, e_hi = c["d_lo"], c["d_hi"], c["e_lo"], c["e_hi"]
        fp = frame_pointer(d_lo, d_hi)
        access(ab, 10, fp, fp, c["fp_t"], ts + 1, k, "r10", space=c["space"])
        ab.assert_zero(k * (e_lo + e_hi * 8 - d_lo - d_hi * 8 - 1), "depth + 1")
        ab.send(Bus.DIV8, [e_lo + e_hi * 8, e_hi, e_lo], k, "new depth digits")
        ab.send(Bus.DIV8, [e_hi, 0, e_hi], k, "depth below the limit")
        tv: list[Expr | int] = [pub["text_vaddr_0"], pub["text_vaddr_1"], 1, 0]
        lt: list[Expr | int] = [pub["text_bytes_0"], pub["text_bytes_1"], 0, 0]
        dd, bw, ee, eb = r.many("dd"), r.many("bw"), r.many("ee"), r.many("eb")
        for j in range(4):
            ab.assert_bool(bw[j], "borrow is boolean")
            ab.assert_bool(eb[j], "borrow is boolean")
            cin: Expr | int = bw[j - 1] if j else 0
            ab.assert_zero(k * (dd[j] + tv[j] + cin - x[j] - bw[j] * 65536), f"target − text {j}")
            ein: Expr | int = eb[j - 1] if j else 0
            ab.assert_zero(k * (ee[j] + lt[j] + ein - dd[j] - eb[j] * 65536), f"− 8·len {j}")
            ab.send(Bus.U16, [dd[j]], k, f"target − text limb {j}")
            ab.send(Bus.U16, [ee[j]], k, f"excess limb {j}")
        ab.assert_zero(eb[3], "target − text ≥ 8·text length")

    @staticmethod
    def _memory(
        ab: AirBuilder,
        r: Row,
        c: dict[str, Expr],
        pub: dict[str, Expr],
        b: list[Expr],
        width: Expr,
        store: Expr,
    ) -> None:
        mem = c["k_mem"]
        a, ac = r.many("a"), r.many("ac")
        ext = c["neg"] * 0xFFFF
        sext = [c["off"], ext, ext, ext]
        for j in range(4):
            ab.assert_bool(ac[j], "address carry is boolean")
            cin: Expr | int = ac[j - 1] if j else 0
            ab.assert_zero(mem * (b[j] + sext[j] + cin - a[j] - ac[j] * 65536), f"address {j}")
            ab.send(Bus.U16, [a[j]], mem, f"address limb {j}")
        cases = {n: c[n] for n in CASES}
        ab.assert_eq(sum_exprs(cases.values()), mem, "one violation case")
        a2, a3 = a[2], a[3]
        ab.assert_zero(cases["c_hi"] * (a3 * c["inv3"] - 1), "A ≥ 2^48")
        ab.assert_zero((mem - cases["c_hi"]) * a3, "otherwise A < 2^48")
        ab.assert_zero(cases["c_zero"] * a2, "region 0")
        ab.send(Bus.U16, [a2 - 5], cases["c_big"], "region ≥ 5")
        ab.assert_zero((cases["c_store1"] + cases["c_len1"]) * (a2 - 1), "program region")
        ab.assert_zero(cases["c_store1"] * (1 - store), "a store to the program region")
        ab.assert_zero(cases["c_len1"] * store, "a load from the program region")
        ab.assert_zero(cases["c_len3"] * (a2 - 3), "heap region")
        ab.assert_zero(cases["c_len4"] * (a2 - 4), "input region")
        ab.assert_zero((cases["c_gap"] + cases["c_sover"]) * (a2 - 2), "stack region")
        offset = a[1] * 65536 + a[0]
        ro_len = pub["ro_last"] * 8 + pub["ro_tail"]
        input_len = pub["input_last"] * 8 + pub["input_tail"]
        length = cases["c_len1"] * ro_len + cases["c_len3"] * pub["heap_size"]
        length = length + cases["c_len4"] * input_len
        v = c["v0"] + c["v1"] * 65536
        past = cases["c_len1"] + cases["c_len3"] + cases["c_len4"]
        ab.assert_zero(past * (offset + width - 1 - v) - length, "offset + width − 1 − len ≥ 0")
        stack = cases["c_gap"] + cases["c_sover"]
        lo8, hi8, nlo, nhi, g = c["lo8"], c["hi8"], c["nlo"], c["nhi"], c["g"]
        ab.assert_zero(stack * (a[0] - lo8 - hi8 * 256), "stack offset bytes")
        ab.assert_zero(stack * (hi8 - nlo - nhi * 16), "stack offset nibbles")
        ab.send(Bus.BYTES, [lo8, hi8], stack, "stack offset bytes")
        ab.send(Bus.BITWISE, [BitOp.AND, hi8, 15, nlo], stack, "bits 8–11")
        ab.send(Bus.BITWISE, [BitOp.AND, nhi, 1, g], stack, "bit 12")
        ab.assert_zero(cases["c_gap"] * (1 - g), "in a gap")
        ab.assert_zero(cases["c_sover"] * g, "not in a gap")
        host = (nhi - g) * 2048 + a[1] * 32768 + lo8 + nlo * 256
        ab.assert_zero(cases["c_sover"] * (host + width - 1 - STACK_SIZE - v), "past the stack")
        ab.send(Bus.U16, [c["v0"]], past + cases["c_sover"], "excess low")
        ab.send(Bus.U16, [c["v1"]], past + cases["c_sover"], "excess high")


def fault_row(
    kind: str,
    *,
    pc: int,
    ts: int,
    cu: int,
    code: tuple[int, int, int, int, int],
    reg: int,
    reg_value: int,
    reg_t_prev: int,
    fp: int,
    fp_t_prev: int,
    publics: pv.PublicValues,
    lookups: LookupCounts,
) -> NDArray[np.int64]:
    """One fault row. ``code`` is (opcode, dst, src, off, imm) of the slot."""
    t = np.zeros(LAYOUT.width, dtype=np.int64)
    col = {n: LAYOUT.index(n) for n in LAYOUT.names()}
    t[col[kind]] = 1
    t[col["pc"]], t[col["ts"]], t[col["cu"]] = pc, ts, cu
    opcode, dst, src, off, imm = code
    if kind == "k_callx":
        t[col["imm"]] = imm
    if kind in ("k_callx", "k_mem"):
        t[col["b_reg"]] = reg
        t[LAYOUT.span("b_old")] = limb_columns(np.array([reg_value], np.uint64))[0]
        t[col["b_t"]] = reg_t_prev
        lookups.u16(np.array([ts - reg_t_prev - 1]))
    if kind == "k_callx":
        _fill_callx(t, col, reg_value, fp, fp_t_prev, ts, publics, lookups)
    if kind == "k_mem":
        name = next(n for n, (code_, _) in MEM_OPS.items() if code_ == opcode)
        t[col[name]] = 1
        t[col["dst"]], t[col["src"]] = dst, src if name.startswith(("ldx", "stx")) else 0
        t[col["off"]], t[col["neg"]] = off & 0xFFFF, int(off < 0)
        if name.startswith("st") and not name.startswith("stx"):
            t[LAYOUT.span("imm")] = limb_columns(np.array([imm], np.int64).view(np.uint64))[0]
        _fill_memory(
            t, col, reg_value, off, MEM_OPS[name][1], name.startswith("ldx"), publics, lookups
        )
    return t


def _fill_callx(
    t: NDArray[np.int64],
    col: dict[str, int],
    x: int,
    fp: int,
    fp_t_prev: int,
    ts: int,
    publics: pv.PublicValues,
    lookups: LookupCounts,
) -> None:
    from heliostat.zkvm.buses import FRAME_STRIDE, STACK_TOP, limbs

    d = (fp - STACK_TOP) // FRAME_STRIDE
    e = d + 1
    for name, v in (("d_lo", d & 7), ("d_hi", d >> 3), ("e_lo", e & 7), ("e_hi", e >> 3)):
        t[col[name]] = v
    t[col["fp_t"]] = fp_t_prev
    lookups.u16(np.array([ts + 1 - fp_t_prev - 1]))
    lookups.div8(np.array([e, e >> 3]))
    assert e < MAX_DEPTH
    tv = (1 << 32) + 8 * publics.text_start
    dd = (x - tv) % (1 << 64)
    ee = dd - 8 * publics.text_len
    xl, tvl, ddl, ll, eel = (limbs(v) for v in (x, tv, dd, 8 * publics.text_len, ee))
    bw = eb = 0
    for j in range(4):
        bw = (ddl[j] + tvl[j] + (bw if j else 0) - xl[j]) >> 16
        t[LAYOUT.index("bw") + j] = bw
        eb = (eel[j] + ll[j] + (eb if j else 0) - ddl[j]) >> 16
        t[LAYOUT.index("eb") + j] = eb
    t[LAYOUT.span("dd")] = ddl
    t[LAYOUT.span("ee")] = eel
    lookups.u16(np.array([*ddl, *eel]))


def _fill_memory(
    t: NDArray[np.int64],
    col: dict[str, int],
    base: int,
    off: int,
    width: int,
    load: bool,
    publics: pv.PublicValues,
    lookups: LookupCounts,
) -> None:
    from heliostat.zkvm.buses import limbs

    addr = (base + off) % (1 << 64)
    a = limbs(addr)
    bl, sx = limbs(base), limbs(off % (1 << 64))
    c = 0
    for j in range(4):
        c = (bl[j] + sx[j] + c) >> 16
        t[LAYOUT.index("ac") + j] = c
    t[LAYOUT.span("a")] = a
    lookups.u16(np.array(a))
    offset = addr & 0xFFFFFFFF
    region = addr >> 32
    lengths = {1: publics.ro_len, 3: publics.heap_size, 4: publics.input_len}
    excess = None
    if a[3]:
        case = "c_hi"
        t[col["inv3"]] = int(inverse_or_zero(np.array([a[3]]))[0])
    elif region == 0:
        case = "c_zero"
    elif region >= 5:
        case = "c_big"
        lookups.u16(np.array([region - 5]))
    elif region == 1 and not load:
        case = "c_store1"
    elif region in lengths:
        case = f"c_len{region}"
        excess = offset + width - 1 - lengths[region]
    else:
        lo8, hi8 = a[0] & 0xFF, a[0] >> 8
        nlo, nhi = hi8 & 15, hi8 >> 4
        g = nhi & 1
        for name, v in (("lo8", lo8), ("hi8", hi8), ("nlo", nlo), ("nhi", nhi), ("g", g)):
            t[col[name]] = v
        lookups.byte_pairs(np.array([lo8]), np.array([hi8]))
        lookups.bitwise(BitOp.AND, np.array([hi8]), np.array([15]))
        lookups.bitwise(BitOp.AND, np.array([nhi]), np.array([1]))
        if g:
            case = "c_gap"
        else:
            case = "c_sover"
            host = (nhi - g) * 2048 + a[1] * 32768 + lo8 + nlo * 256
            excess = host + width - 1 - STACK_SIZE
    t[col[case]] = 1
    if excess is not None:
        if not 0 <= excess < 1 << 32:
            raise ValueError(f"no violation at {addr:#x} (excess {excess})")
        t[col["v0"]], t[col["v1"]] = excess & 0xFFFF, excess >> 16
        lookups.u16(np.array([excess & 0xFFFF, excess >> 16]))
