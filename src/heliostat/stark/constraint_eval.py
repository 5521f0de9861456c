"""The prover's constraint evaluator: one numba kernel that interprets any ``ExprProgram``.

``compile_kernel_program`` types each value of a program (base or extension, as the prover
sees it: selectors are base values on the domain), drops what the outputs do not need, and
assigns registers. Trace columns, selectors, constants and challenges are registers filled
when a chunk of rows is loaded, so the emitted code is pure arithmetic. The kernel runs it
over chunks of rows, one instruction across the whole chunk at a time (the inner loops
vectorise), in Montgomery form. Outputs are either folded with powers of α into the quotient
numerator — grouped by their row selector, which multiplies the group's sum once — or
written out raw. One compiled kernel serves every AIR: no per-AIR numba compile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import NDArray

from heliostat.stark._eval_kernels import (
    K_ACC_B,
    K_ACC_E,
    K_BADD,
    K_BMUL,
    K_BNEG,
    K_BSUB,
    K_EADD,
    K_EADD_EB,
    K_EMUL,
    K_EMUL_EB,
    K_ENEG,
    K_ESUB,
    K_ESUB_BE,
    K_ESUB_EB,
    K_OUT_B,
    SEL_REGS,
    eval_kernel,
)
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.program import ExprProgram, Op

U32Array = NDArray[np.uint32]
I32Array = NDArray[np.int32]
CHUNK_ROWS = 256
# Blocks handed out one at a time (dynamic schedule), so that a core slowed by other work
# does not hold the others up; each block allocates its registers once.
MAX_BLOCKS = 64


_SELECTOR_GROUP = {Op.IS_FIRST_ROW: 1, Op.IS_LAST_ROW: 2, Op.IS_TRANSITION: 3}
_R = 1 << 32


def _mont(x: int) -> int:
    return x * _R % P


@dataclass(frozen=True)
class KernelProgram:
    """Register-allocated code and the register layout it expects.

    ``loads`` rows are (source, column, register) with source 0 = main, 1 = main next,
    2 = fixed, 3 = fixed next; ``ext_loads`` likewise for the permutation trace (0 = current,
    1 = next; the column is an extension column). ``consts`` are (register, Montgomery
    value); ``publics``/``challenges`` map registers to indices (``-1`` for the LogUp sum).
    """

    code: I32Array
    loads: I32Array
    ext_loads: I32Array
    consts: I32Array
    publics: I32Array
    challenges: I32Array
    n_base_regs: int
    n_ext_regs: int
    n_outputs: int


class _Allocator:
    def __init__(self, first_free: int) -> None:
        self.free: list[int] = []
        self.count = first_free

    def take(self) -> int:
        if self.free:
            return self.free.pop()
        self.count += 1
        return self.count - 1


def compile_kernel_program(program: ExprProgram, *, raw_outputs: bool = False) -> KernelProgram:
    """Lower ``program`` to kernel code; outputs are folded with α (or written raw)."""
    ins = program.instructions
    n = len(ins)
    is_ext = [False] * n
    for k, i in enumerate(ins):
        if i.op in (Op.PERM, Op.PERM_NEXT, Op.CHALLENGE, Op.LOGUP_SUM):
            is_ext[k] = True
        elif i.op in (Op.ADD, Op.SUB, Op.MUL):
            is_ext[k] = is_ext[i.a] or is_ext[i.b]
        elif i.op == Op.NEG:
            is_ext[k] = is_ext[i.a]
    # outputs: (value, output index, selector group); sel·x is accumulated as x in its group
    outputs: list[tuple[int, int, int]] = []
    for index, v in enumerate(program.outputs):
        if raw_outputs and is_ext[v]:
            raise ValueError("raw outputs must be base-field values")
        group, value = 0, v
        i = ins[v]
        if not raw_outputs and i.op == Op.MUL:
            for sel, other in ((i.a, i.b), (i.b, i.a)):
                if ins[sel].op in _SELECTOR_GROUP:
                    group, value = _SELECTOR_GROUP[ins[sel].op], other
                    break
        outputs.append((value, index, group))
    # keep only what the outputs need
    needed = [False] * n
    for value, _, _ in outputs:
        needed[value] = True
    for k in range(n - 1, -1, -1):
        if needed[k] and ins[k].op in (Op.ADD, Op.SUB, Op.MUL):
            needed[ins[k].a] = needed[ins[k].b] = True
        elif needed[k] and ins[k].op == Op.NEG:
            needed[ins[k].a] = True
    last_use = list(range(n))
    for k, i in enumerate(ins):
        if needed[k] and i.op in (Op.ADD, Op.SUB, Op.MUL):
            last_use[i.a] = last_use[i.b] = k
        elif needed[k] and i.op == Op.NEG:
            last_use[i.a] = k
    outputs_at: dict[int, list[tuple[int, int]]] = {}
    for value, index, group in outputs:
        outputs_at.setdefault(value, []).append((index, group))

    # leaves: fixed registers
    reg = [0] * n
    loads: list[tuple[int, int, int]] = []
    ext_loads: list[tuple[int, int, int]] = []
    consts: list[tuple[int, int]] = []
    publics: list[tuple[int, int]] = []
    challenges: list[tuple[int, int]] = []
    base_regs, ext_regs = SEL_REGS, 0
    leaf_reg: dict[tuple[int, int], int] = {}
    sources = {Op.MAIN: 0, Op.MAIN_NEXT: 1, Op.PRE: 2, Op.PRE_NEXT: 3}
    for k, i in enumerate(ins):
        if not needed[k] or i.op >= Op.ADD:
            continue
        key = (int(i.op), i.a)
        if key in leaf_reg:
            reg[k] = leaf_reg[key]
            continue
        if i.op in _SELECTOR_GROUP:
            r = _SELECTOR_GROUP[i.op] - 1
        elif is_ext[k]:
            r, ext_regs = ext_regs, ext_regs + 1
            if i.op in (Op.PERM, Op.PERM_NEXT):
                ext_loads.append((int(i.op == Op.PERM_NEXT), i.a, r))
            else:
                challenges.append((r, -1 if i.op == Op.LOGUP_SUM else i.a))
        else:
            r, base_regs = base_regs, base_regs + 1
            if i.op in sources:
                loads.append((sources[i.op], i.a, r))
            elif i.op == Op.CONST:
                consts.append((r, _mont(i.a)))
            else:
                publics.append((r, i.a))
        leaf_reg[key] = reg[k] = r

    alloc = (_Allocator(base_regs), _Allocator(ext_regs))
    code: list[tuple[int, ...]] = []
    for k, i in enumerate(ins):
        if not needed[k]:
            continue
        if i.op < Op.ADD:
            for index, group in outputs_at.get(k, ()):
                code.append(_output_op(raw_outputs, is_ext[k], reg[k], index, group))
            continue
        operands = (i.a,) if i.op == Op.NEG else (i.a, i.b)
        for v in set(operands):  # kernels read an operand before writing the destination
            if last_use[v] == k and ins[v].op >= Op.ADD:
                alloc[is_ext[v]].free.append(reg[v])
        dst = alloc[is_ext[k]].take()
        reg[k] = dst
        if i.op == Op.NEG:
            code.append((K_ENEG if is_ext[k] else K_BNEG, dst, reg[i.a], 0))
        else:
            a, b = reg[i.a], reg[i.b]
            ea, eb = is_ext[i.a], is_ext[i.b]
            if not ea and not eb:
                kop = {Op.ADD: K_BADD, Op.SUB: K_BSUB, Op.MUL: K_BMUL}[i.op]
            elif ea and eb:
                kop = {Op.ADD: K_EADD, Op.SUB: K_ESUB, Op.MUL: K_EMUL}[i.op]
            elif i.op == Op.SUB:
                kop = K_ESUB_EB if ea else K_ESUB_BE
            else:
                kop = K_EADD_EB if i.op == Op.ADD else K_EMUL_EB
                if not ea:
                    a, b = b, a  # commutative: extension operand first
            code.append((kop, dst, a, b))
        for index, group in outputs_at.get(k, ()):
            code.append(_output_op(raw_outputs, is_ext[k], dst, index, group))
        if last_use[k] == k:  # an output nothing else reads
            alloc[is_ext[k]].free.append(dst)

    def arr(rows: Sequence[tuple[int, ...]], width: int) -> I32Array:
        return np.ascontiguousarray(np.array(rows, dtype=np.int64).reshape(-1, width), np.int32)

    return KernelProgram(
        code=arr(code, 4),
        loads=arr(sorted(loads), 3),  # grouped by source
        ext_loads=arr(ext_loads, 3),
        consts=arr(consts, 2),
        publics=arr(publics, 2),
        challenges=arr(challenges, 2),
        n_base_regs=max(alloc[0].count, 1),
        n_ext_regs=max(alloc[1].count, 1),
        n_outputs=len(program.outputs),
    )


def _output_op(raw: bool, ext: bool, register: int, index: int, group: int) -> tuple[int, ...]:
    if raw:
        return (K_OUT_B, register, index, 0)
    return (K_ACC_E if ext else K_ACC_B, register, index, group)


def _ext_mont(values: list[Ext4]) -> U32Array:
    arr = np.array([[_mont(c) for c in v.coeffs] for v in values], dtype=np.uint32)
    return arr.reshape(-1, 4)


def _empty(rows: int) -> U32Array:
    return np.zeros((rows, 0), dtype=np.uint32)


def _run(
    kp: KernelProgram,
    main: U32Array,
    pre: U32Array | None,
    perm: U32Array | None,
    next_index: NDArray[np.int64],
    selectors: U32Array,
    publics: list[int],
    challenges: list[Ext4],
    alpha_powers: list[Ext4],
    scale: U32Array,
    out: U32Array,
    raw: U32Array,
) -> None:
    n = next_index.shape[0]
    n_blocks = min((n + CHUNK_ROWS - 1) // CHUNK_ROWS, MAX_BLOCKS)
    previous_chunksize = numba.set_parallel_chunksize(1)
    try:
        eval_kernel(
            kp.code,
            kp.loads,
            kp.ext_loads,
            kp.consts,
            kp.publics,
            kp.challenges,
            kp.n_base_regs,
            kp.n_ext_regs,
            main,
            _empty(n) if pre is None else pre,
            _empty(n) if perm is None else perm,
            next_index,
            selectors,
            np.array([_mont(x) for x in publics] or [0], dtype=np.uint32),
            _ext_mont(challenges) if challenges else np.zeros((1, 4), dtype=np.uint32),
            _ext_mont(alpha_powers) if alpha_powers else np.zeros((1, 4), dtype=np.uint32),
            scale,
            out,
            raw,
            CHUNK_ROWS,
            n_blocks,
        )
    finally:
        numba.set_parallel_chunksize(previous_chunksize)


def evaluate_quotient_numerator(
    kp: KernelProgram,
    *,
    main: U32Array,
    pre: U32Array | None,
    perm: U32Array | None,
    next_index: NDArray[np.int64],
    selectors: U32Array,
    publics: list[int],
    challenges: list[Ext4],
    logup_sum: Ext4,
    alpha_powers: list[Ext4],
    scale: U32Array,
) -> U32Array:
    """Σ_k α^k·C_k(x) · scale(x) at every row: an (n, 4) extension array.

    All traces hold the same n rows (points of one domain); ``next_index[i]`` is the row of
    the point ω·x; ``selectors`` is (3, n): is_first_row, is_last_row, is_transition;
    ``scale`` is typically 1/Z_H(x).
    """
    n = next_index.shape[0]
    out = np.empty((n, 4), dtype=np.uint32)
    _run(
        kp, main, pre, perm, next_index, selectors, publics,
        [*challenges, logup_sum], alpha_powers, scale, out, np.zeros((0, n), dtype=np.uint32),
    )  # fmt: skip
    return out


def evaluate_outputs(
    kp: KernelProgram,
    *,
    main: U32Array,
    pre: U32Array | None,
    publics: list[int],
    selectors: U32Array | None = None,
) -> U32Array:
    """Every (base-valued) output at every row: a (n_outputs, n) array, canonical.

    Outputs read the current row only; ``selectors`` (3, n) are needed if they use any.
    """
    n = main.shape[0]
    raw = np.empty((kp.n_outputs, n), dtype=np.uint32)
    sel = np.zeros((3, n), dtype=np.uint32) if selectors is None else selectors
    _run(
        kp, main, pre, None, np.arange(n, dtype=np.int64), sel,
        publics, [Ext4.zero()], [], np.zeros(0, dtype=np.uint32),
        np.zeros((0, 4), dtype=np.uint32), raw,
    )  # fmt: skip
    return raw
