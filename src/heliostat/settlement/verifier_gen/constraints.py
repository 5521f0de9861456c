"""Turn a table's expression program into straight-line Yul over the evaluator's memory image.

Each arithmetic instruction of ``CompiledAir.program`` becomes one statement; leaves read
the image (``layout``) or are literals; a value used later lives in a scratch word, reused
once its last reader has run; each output is folded into the accumulator as
acc += α^k·C_k the moment it is computed. Values that only touch constants and public
values stay in the base field (addmod/mulmod, and a base × extension product is a scale).
The code is cut into segments of bounded length, each run by one call, so that no contract
outgrows Ethereum's 24 KiB code limit; scratch words carry values between segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from heliostat.settlement.errors import GeneratorError
from heliostat.settlement.verifier_gen.layout import PublicImage, TableImage
from heliostat.stark.air import CompiledAir, CompiledMachine
from heliostat.stark.program import ExprProgram, Op

P = 2013265921
# Measured on the synthetic AIR: about 21 bytes of code per arithmetic statement, 30 per
# accumulation; segments are cut to stay well inside one contract.
BYTES_PER_STATEMENT = 24
BYTES_PER_ACCUMULATION = 34
DEFAULT_SEGMENT_BYTES = 16_000


@dataclass(frozen=True)
class Segment:
    """Yul statements run by one evaluator call, the helpers they use, estimated code size."""

    code: str
    helpers: frozenset[str]
    size: int


@dataclass(frozen=True)
class CompiledProgram:
    """A program as segments, and the scratch words its image needs after the fixed part."""

    segments: tuple[Segment, ...]
    scratch_words: int


@dataclass(frozen=True)
class _Operand:
    expr: str
    base: bool  # known to lie in the base field
    word: int | None = None  # the scratch word holding it, if it was stored
    helpers: frozenset[str] = frozenset()  # helpers an inline expression calls


@dataclass
class _Emitter:
    """Accumulates statements into segments and hands out scratch words."""

    scratch_start: int
    segment_bytes: int
    lines: list[str] = field(default_factory=list)
    helpers: set[str] = field(default_factory=set)
    size: int = 0
    segments: list[Segment] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    high_water: int = 0

    def emit(self, line: str, size: int, helpers: set[str]) -> None:
        if self.size + size > self.segment_bytes and self.lines:
            self.cut()
        self.lines.append(line)
        self.helpers |= helpers
        self.size += size

    def cut(self) -> None:
        self.segments.append(Segment("\n".join(self.lines), frozenset(self.helpers), self.size))
        self.lines, self.helpers, self.size = [], set(), 0

    def allocate(self) -> int:
        if self.free:
            return self.free.pop()
        self.high_water += 1
        return self.scratch_start + self.high_water - 1

    def release(self, word: int) -> None:
        self.free.append(word)

    def finish(self) -> CompiledProgram:
        if self.lines or not self.segments:
            self.cut()
        return CompiledProgram(tuple(self.segments), self.high_water)


def _addr(word: int) -> str:
    return f"{32 * word:#x}"


def _combine(op: Op, a: _Operand, b: _Operand | None) -> tuple[str, bool, set[str]]:
    """Return the Yul expression of one op, whether it stays in the base field, its helpers."""
    if op == Op.NEG:
        if a.base:
            return f"mod(sub({P:#x}, {a.expr}), {P:#x})", True, set()
        return f"eneg({a.expr})", False, {"eneg"}
    assert b is not None  # binary ops (the program format guarantees two operands)
    both = a.base and b.base
    if op == Op.ADD:
        if both:
            return f"addmod({a.expr}, {b.expr}, {P:#x})", True, set()
        return f"eadd({a.expr}, {b.expr})", False, {"eadd"}
    if op == Op.SUB:
        if both:
            return f"addmod({a.expr}, sub({P:#x}, {b.expr}), {P:#x})", True, set()
        return f"esub({a.expr}, {b.expr})", False, {"esub"}
    if both:
        return f"mulmod({a.expr}, {b.expr}, {P:#x})", True, set()
    if a.base:
        return f"escale({b.expr}, {a.expr})", False, {"escale"}
    if b.base:
        return f"escale({a.expr}, {b.expr})", False, {"escale"}
    return f"emul({a.expr}, {b.expr})", False, {"emul"}


def _leaf(op: Op, a: int, image: TableImage | PublicImage) -> _Operand:
    if op == Op.CONST:
        return _Operand(f"{a:#x}", True)
    if op == Op.PUBLIC:
        return _Operand(f"mload({_addr(image.publics + a)})", True)
    if not isinstance(image, TableImage):
        raise GeneratorError(f"public interactions may not read {op.name}")
    offsets = {
        Op.MAIN: image.main,
        Op.PRE: image.fixed,
        Op.PERM: image.perm,
        Op.CHALLENGE: image.challenges,
    }
    if op in offsets:
        return _Operand(f"mload({_addr(offsets[op] + a)})", False)
    next_regions = {
        Op.MAIN_NEXT: (image.main_next, image.main_next_columns),
        Op.PRE_NEXT: (image.fixed_next, image.fixed_next_columns),
        Op.PERM_NEXT: (image.perm_next, image.perm_next_columns),
    }
    if op in next_regions:
        region, columns = next_regions[op]
        return _Operand(f"mload({_addr(image.next_word(region, columns, a))})", False)
    selectors = {
        Op.LOGUP_SUM: image.logup_sum,
        Op.IS_FIRST_ROW: image.selectors,
        Op.IS_LAST_ROW: image.selectors + 1,
        Op.IS_TRANSITION: image.selectors + 2,
    }
    return _Operand(f"mload({_addr(selectors[op])})", False)


def _last_uses(program: ExprProgram) -> list[int]:
    last = [-1] * len(program.instructions)
    for k, ins in enumerate(program.instructions):
        if ins.op >= Op.ADD:
            last[ins.a] = k
            if ins.op != Op.NEG:
                last[ins.b] = k
    return last


def _lower(
    program: ExprProgram,
    image: TableImage | PublicImage,
    em: _Emitter,
    on_output: dict[int, list[int]],
    keep: set[int],
) -> list[_Operand]:
    """Emit every arithmetic instruction, folding outputs into the accumulator as they appear.

    ``on_output[v]`` lists the output positions value v feeds (a table's constraints);
    values in ``keep`` stay in scratch to the end (the public program's outputs).
    """
    last = _last_uses(program)
    values: list[_Operand] = []
    accumulator = _addr(image.accumulator)
    for k, ins in enumerate(program.instructions):
        if ins.op < Op.ADD:
            value = _leaf(ins.op, ins.a, image)
        else:
            operands = [ins.a] if ins.op == Op.NEG else [ins.a, ins.b]
            a = values[ins.a]
            b = None if ins.op == Op.NEG else values[ins.b]
            expr, base, helpers = _combine(ins.op, a, b)
            helpers |= a.helpers | (b.helpers if b is not None else frozenset())
            for operand in set(operands):
                word = values[operand].word
                if word is not None and last[operand] == k and operand not in keep:
                    em.release(word)
            if last[k] > k or k in keep or len(on_output.get(k, ())) > 1:
                word = em.allocate()
                em.emit(f"mstore({_addr(word)}, {expr})", BYTES_PER_STATEMENT, helpers)
                value = _Operand(f"mload({_addr(word)})", base, word)
            else:
                value = _Operand(expr, base, None, frozenset(helpers))
        values.append(value)
        for position in on_output.get(k, ()):
            alpha = f"mload({_addr(position)})"  # α^position is word `position` of the image
            term = (
                f"escale({alpha}, {value.expr})" if value.base else f"emul({value.expr}, {alpha})"
            )
            em.emit(
                f"mstore({accumulator}, eadd(mload({accumulator}), {term}))",
                BYTES_PER_ACCUMULATION + (BYTES_PER_STATEMENT if value.helpers else 0),
                {"eadd", "escale" if value.base else "emul"} | value.helpers,
            )
        if value.word is not None and last[k] < 0 and k not in keep:
            em.release(value.word)  # read by outputs only, and they are folded in
    return values


def compile_table(
    table: CompiledAir, image: TableImage, segment_bytes: int = DEFAULT_SEGMENT_BYTES
) -> CompiledProgram:
    """Segments computing the accumulator Σ_k α^k·C_k(ζ) of one table."""
    em = _Emitter(image.scratch, segment_bytes)
    on_output: dict[int, list[int]] = {}
    for position, value in enumerate(table.program.outputs):
        on_output.setdefault(value, []).append(position)
    _lower(table.program, image, em, on_output, set())
    return em.finish()


def compile_public_interactions(
    machine: CompiledMachine, image: PublicImage, segment_bytes: int = DEFAULT_SEGMENT_BYTES
) -> CompiledProgram:
    """Segments computing Σ ±m/(z − φ) over the public interactions, and the z = φ flag."""
    program = machine.public_program
    em = _Emitter(image.scratch, segment_bytes)
    outputs = _lower(program, image, em, {}, set(program.outputs))
    z = f"mload({_addr(image.challenges)})"
    beta = f"mload({_addr(image.challenges + 1)})"
    accumulator = _addr(image.accumulator)
    k = 0
    for inter in machine.public_interactions:
        mult = outputs[program.outputs[k]]
        args = [outputs[program.outputs[k + 1 + i]] for i in range(len(inter.values))]
        k += 1 + len(inter.values)
        lines = [f"let phi := {inter.bus:#x}", f"let pw := {beta}"]
        for v in args:
            lines.append(f"phi := eadd(phi, {_times(v, 'pw')})")
            lines.append(f"pw := emul(pw, {beta})")
        lines.append(f"let d := esub({z}, phi)")
        lines.append(f"if iszero(d) {{ mstore({_addr(image.flag)}, 1) }}")
        lines.append(f"let term := {_times(mult, 'einv(d)')}")
        combine = "eadd" if inter.is_send else "esub"
        lines.append(f"mstore({accumulator}, {combine}(mload({accumulator}), term))")
        em.emit(
            "{\n    " + "\n    ".join(lines) + "\n}",
            60 * (len(args) + 2),
            {"eadd", "esub", "emul", "escale", "einv"},
        )
    return em.finish()


def _times(value: _Operand, ext: str) -> str:
    return f"escale({ext}, {value.expr})" if value.base else f"emul({ext}, {value.expr})"
