"""Straight-line Yul checking one row of a table sent in the clear (heliostat.stark.clear).

For each row the verifier fills the row image — main row r | row r+1 | fixed row r | fixed
row r+1 (from the key) | public values |
is_first, is_last, is_transition at ω^r | z, β | constraint flag | fingerprint flag | the bus
accumulator | scratch — and runs the segments: every own constraint that is non-zero sets
the constraint flag; every interaction with a non-zero multiplicity m adds ±m/(z − φ) to
the accumulator (φ = bus + Σ β^(i+1)·v_i) and sets the fingerprint flag if φ = z. Everything
but z, β and the accumulator is in the base field. StarkStatement._checkClearTables builds the
same image.
"""

from __future__ import annotations

from dataclasses import dataclass

from heliostat.settlement.errors import GeneratorError
from heliostat.settlement.verifier_gen.constraints import (
    DEFAULT_SEGMENT_BYTES,
    CompiledProgram,
    _addr,
    _combine,
    _Emitter,
    _Operand,
    _times,
)
from heliostat.stark.air import CompiledAir
from heliostat.stark.program import ExprProgram, Op

BYTES_PER_STATEMENT = 24


@dataclass(frozen=True)
class RowImage:
    """Word offsets of the row image."""

    main: int
    main_next: int
    fixed: int
    fixed_next: int
    publics: int
    selectors: int
    challenges: int
    flag: int
    fingerprint_flag: int
    accumulator: int

    @property
    def scratch(self) -> int:
        """Return the first scratch word."""
        return self.accumulator + 1


def row_image(table: CompiledAir, num_publics: int) -> RowImage:
    """Lay out the row image of ``table``."""
    w, fw = table.width, table.preprocessed_width
    selectors = 2 * w + 2 * fw + num_publics
    challenges = selectors + 3
    return RowImage(
        main=0,
        main_next=w,
        fixed=2 * w,
        fixed_next=2 * w + fw,
        publics=2 * w + 2 * fw,
        selectors=selectors,
        challenges=challenges,
        flag=challenges + 2,
        fingerprint_flag=challenges + 3,
        accumulator=challenges + 4,
    )


def _needed(program: ExprProgram, outputs: list[int]) -> set[int]:
    needed = set(outputs)
    for k in range(len(program.instructions) - 1, -1, -1):
        ins = program.instructions[k]
        if k in needed and ins.op >= Op.ADD:
            needed.add(ins.a)
            if ins.op != Op.NEG:
                needed.add(ins.b)
    return needed


def _leaf(op: Op, a: int, image: RowImage) -> _Operand:
    if op == Op.CONST:
        return _Operand(f"{a:#x}", True)
    offsets = {
        Op.PUBLIC: image.publics + a,
        Op.MAIN: image.main + a,
        Op.MAIN_NEXT: image.main_next + a,
        Op.PRE: image.fixed + a,
        Op.PRE_NEXT: image.fixed_next + a,
        Op.IS_FIRST_ROW: image.selectors,
        Op.IS_LAST_ROW: image.selectors + 1,
        Op.IS_TRANSITION: image.selectors + 2,
    }
    if op not in offsets:
        raise GeneratorError(f"a table sent in the clear reads {op.name} in its row program")
    return _Operand(f"mload({_addr(offsets[op])})", True)


def _lower_rows(
    program: ExprProgram, outputs: list[int], image: RowImage, em: _Emitter, *, flag: bool
) -> dict[int, _Operand]:
    """Emit the instructions ``outputs`` need.

    With ``flag``, each output that is non-zero sets the constraint flag; otherwise the
    outputs stay in scratch words and are returned.
    """
    needed = _needed(program, outputs)
    last: dict[int, int] = {}
    for k, ins in enumerate(program.instructions):
        if k in needed and ins.op >= Op.ADD:
            last[ins.a] = k
            if ins.op != Op.NEG:
                last[ins.b] = k
    keep = set() if flag else set(outputs)
    flagged = set(outputs) if flag else set()
    values: dict[int, _Operand] = {}
    for k, ins in enumerate(program.instructions):
        if k not in needed:
            continue
        if ins.op < Op.ADD:
            value = _leaf(ins.op, ins.a, image)
        else:
            a = values[ins.a]
            b = None if ins.op == Op.NEG else values[ins.b]
            expr, base, helpers = _combine(ins.op, a, b)
            if not base:
                raise GeneratorError("a clear table's row program left the base field")
            for operand in {ins.a} if b is None else {ins.a, ins.b}:
                word = values[operand].word
                if word is not None and last.get(operand) == k and operand not in keep:
                    em.release(word)
            if last.get(k, -1) > k or k in keep:
                word = em.allocate()
                em.emit(f"mstore({_addr(word)}, {expr})", BYTES_PER_STATEMENT, helpers)
                value = _Operand(f"mload({_addr(word)})", True, word)
            else:
                value = _Operand(expr, True)
        values[k] = value
        if k in flagged:
            em.emit(f"if {value.expr} {{ mstore({_addr(image.flag)}, 1) }}", 30, set())
            if value.word is not None and k not in last:
                em.release(value.word)
    return {k: values[k] for k in outputs}


def compile_clear_table(
    table: CompiledAir, image: RowImage, segment_bytes: int = DEFAULT_SEGMENT_BYTES
) -> CompiledProgram:
    """Segments checking one row of ``table`` and adding its bus terms."""
    em = _Emitter(image.scratch, segment_bytes)
    own = list(table.program.outputs[: table.num_own_constraints])
    _lower_rows(table.program, own, image, em, flag=True)
    program = table.interaction_program
    outs = _lower_rows(program, list(program.outputs), image, em, flag=False)
    z = f"mload({_addr(image.challenges)})"
    beta = f"mload({_addr(image.challenges + 1)})"
    accumulator = _addr(image.accumulator)
    k = 0
    for inter in table.interactions:
        mult = outs[program.outputs[k]]
        args = [outs[program.outputs[k + 1 + i]] for i in range(len(inter.values))]
        k += 1 + len(inter.values)
        lines = [f"let m := {mult.expr}", "if m {", f"    let phi := {inter.bus:#x}"]
        lines.append(f"    let pw := {beta}")
        for v in args:
            lines.append(f"    phi := eadd(phi, {_times(v, 'pw')})")
            lines.append(f"    pw := emul(pw, {beta})")
        lines.append(f"    let d := esub({z}, phi)")
        lines.append(f"    if iszero(d) {{ mstore({_addr(image.fingerprint_flag)}, 1) }}")
        combine = "eadd" if inter.is_send else "esub"
        lines.append(
            f"    mstore({accumulator}, {combine}(mload({accumulator}), escale(einv(d), m)))"
        )
        lines.append("}")
        em.emit(
            "{\n    " + "\n    ".join(lines) + "\n}",
            60 * (len(args) + 3),
            {"eadd", "esub", "emul", "escale", "einv"},
        )
    return em.finish()
