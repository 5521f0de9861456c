"""The flat expression program: format, canonical bytes, and evaluation at one point.

An ``ExprProgram`` is a list of instructions in topological order; instruction k defines value
k. Leaves read a column (current or next row of the main, preprocessed or permutation trace),
a constant, a public value, a challenge, the table's LogUp sum or a row selector; inner nodes
add, subtract, multiply or negate earlier values. ``outputs`` name the values that must vanish
(the constraints). The verifier evaluates it here at the out-of-domain point; the prover's
numba kernel (``constraint_eval``) and the Solidity generator read the same instructions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from heliostat.stark.extension import Ext4
from heliostat.stark.keccak import keccak256


class Op(IntEnum):
    """Instruction codes; the numbers are part of the AIR digest and the Solidity format."""

    CONST = 0  # a = canonical value
    MAIN = 1  # a = column
    MAIN_NEXT = 2
    PRE = 3
    PRE_NEXT = 4
    PERM = 5  # a = extension column
    PERM_NEXT = 6
    PUBLIC = 7  # a = public value index
    CHALLENGE = 8  # a = challenge index
    LOGUP_SUM = 9
    IS_FIRST_ROW = 10
    IS_LAST_ROW = 11
    IS_TRANSITION = 12
    ADD = 13  # a, b = earlier values
    SUB = 14
    MUL = 15
    NEG = 16  # a = earlier value


LEAF_OPS = frozenset(op for op in Op if op < Op.ADD)
COLUMN_OPS = frozenset({Op.MAIN, Op.MAIN_NEXT, Op.PRE, Op.PRE_NEXT, Op.PERM, Op.PERM_NEXT})


@dataclass(frozen=True)
class Instruction:
    """One step: ``op`` with operands ``a`` and ``b`` (their meaning depends on ``op``)."""

    op: Op
    a: int
    b: int = 0


@dataclass(frozen=True)
class ExprProgram:
    """Instructions in topological order and the values that are the program's outputs."""

    instructions: tuple[Instruction, ...]
    outputs: tuple[int, ...]

    def to_bytes(self) -> bytes:
        """Canonical encoding: u32 counts, then op (u8) ‖ a (u32) ‖ b (u32) each, big-endian."""
        parts = [len(self.instructions).to_bytes(4, "big"), len(self.outputs).to_bytes(4, "big")]
        for ins in self.instructions:
            parts.append(bytes([int(ins.op)]) + ins.a.to_bytes(4, "big") + ins.b.to_bytes(4, "big"))
        parts.extend(out.to_bytes(4, "big") for out in self.outputs)
        return b"".join(parts)

    def digest(self) -> bytes:
        """keccak256 of the canonical encoding."""
        return keccak256(self.to_bytes())

    def uses(self, op: Op) -> bool:
        """Return True if some instruction has code ``op``."""
        return any(ins.op == op for ins in self.instructions)


@dataclass(frozen=True)
class PointEnv:
    """Everything a program reads, at one point: every value is an extension element.

    ``perm_local``/``perm_next`` hold the extension-valued permutation columns (already
    recombined from their four committed base coordinates); ``selectors`` is
    (is_first_row, is_last_row, is_transition) evaluated at the point.
    """

    main_local: Sequence[Ext4]
    main_next: Sequence[Ext4]
    pre_local: Sequence[Ext4]
    pre_next: Sequence[Ext4]
    perm_local: Sequence[Ext4]
    perm_next: Sequence[Ext4]
    publics: Sequence[int]
    challenges: Sequence[Ext4]
    logup_sum: Ext4
    selectors: tuple[Ext4, Ext4, Ext4]


def evaluate_at_point(program: ExprProgram, env: PointEnv) -> list[Ext4]:
    """Run the program once over extension values; return the outputs in order.

    Operand indices come from a program built by ``symbolic.lower`` for a checked AIR, so an
    out-of-range index here is a bug, not bad input (the proof cannot choose the program).
    """
    values: list[Ext4] = []
    leaf_sources: dict[Op, Sequence[Ext4]] = {
        Op.MAIN: env.main_local,
        Op.MAIN_NEXT: env.main_next,
        Op.PRE: env.pre_local,
        Op.PRE_NEXT: env.pre_next,
        Op.PERM: env.perm_local,
        Op.PERM_NEXT: env.perm_next,
        Op.CHALLENGE: env.challenges,
    }
    for ins in program.instructions:
        op = ins.op
        if op == Op.ADD:
            v = values[ins.a] + values[ins.b]
        elif op == Op.SUB:
            v = values[ins.a] - values[ins.b]
        elif op == Op.MUL:
            v = values[ins.a] * values[ins.b]
        elif op == Op.NEG:
            v = -values[ins.a]
        elif op == Op.CONST:
            v = Ext4(ins.a)
        elif op == Op.PUBLIC:
            v = Ext4(env.publics[ins.a])
        elif op == Op.LOGUP_SUM:
            v = env.logup_sum
        elif op == Op.IS_FIRST_ROW:
            v = env.selectors[0]
        elif op == Op.IS_LAST_ROW:
            v = env.selectors[1]
        elif op == Op.IS_TRANSITION:
            v = env.selectors[2]
        else:
            v = leaf_sources[op][ins.a]
        values.append(v)
    return [values[i] for i in program.outputs]
