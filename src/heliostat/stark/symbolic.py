"""Symbolic expressions over trace columns: the one definition every constraint evaluator uses.

An AIR writes its constraints with these nodes and ordinary arithmetic (``a * b - c``);
``lower`` turns a list of root expressions into an ``ExprProgram`` — a flat, topologically
ordered list of instructions with shared sub-expressions once — which the numba prover
kernel, the Python verifier and (later) the Solidity code generator all interpret.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from heliostat.stark.errors import AirDefinitionError
from heliostat.stark.program import ExprProgram, Instruction, Op

P = 2013265921


class Trace(IntEnum):
    """Which committed trace a column lives in."""

    MAIN = 0
    PREPROCESSED = 1
    PERMUTATION = 2  # extension-field columns (LogUp helpers and running sum)


class Selector(IntEnum):
    """Row selectors; each counts as degree 1 (see docs/stark.md, "Quotient")."""

    IS_FIRST_ROW = 0
    IS_LAST_ROW = 1
    IS_TRANSITION = 2


_COLUMN_OPS = {
    (Trace.MAIN, False): Op.MAIN,
    (Trace.MAIN, True): Op.MAIN_NEXT,
    (Trace.PREPROCESSED, False): Op.PRE,
    (Trace.PREPROCESSED, True): Op.PRE_NEXT,
    (Trace.PERMUTATION, False): Op.PERM,
    (Trace.PERMUTATION, True): Op.PERM_NEXT,
}
_SELECTOR_OPS = {
    Selector.IS_FIRST_ROW: Op.IS_FIRST_ROW,
    Selector.IS_LAST_ROW: Op.IS_LAST_ROW,
    Selector.IS_TRANSITION: Op.IS_TRANSITION,
}


class Expr:
    """A node of a symbolic expression DAG; build with the helpers below and + − × and **."""

    __slots__ = ("args", "degree", "is_ext", "op", "operand")

    def __init__(
        self, op: Op, operand: int = 0, args: tuple[Expr, ...] = (), *, degree: int, is_ext: bool
    ) -> None:
        self.op = op
        self.operand = operand
        self.args = args
        self.degree = degree
        self.is_ext = is_ext

    # --- arithmetic -----------------------------------------------------------------------
    def __add__(self, other: Expr | int) -> Expr:
        return _binary(Op.ADD, self, as_expr(other))

    def __radd__(self, other: Expr | int) -> Expr:
        return _binary(Op.ADD, as_expr(other), self)

    def __sub__(self, other: Expr | int) -> Expr:
        return _binary(Op.SUB, self, as_expr(other))

    def __rsub__(self, other: Expr | int) -> Expr:
        return _binary(Op.SUB, as_expr(other), self)

    def __mul__(self, other: Expr | int) -> Expr:
        return _binary(Op.MUL, self, as_expr(other))

    def __rmul__(self, other: Expr | int) -> Expr:
        return _binary(Op.MUL, as_expr(other), self)

    def __neg__(self) -> Expr:
        if self.op == Op.CONST:
            return const(-self.operand)
        return Expr(Op.NEG, 0, (self,), degree=self.degree, is_ext=self.is_ext)

    def __pow__(self, exponent: int) -> Expr:
        if not isinstance(exponent, int) or exponent < 0:
            raise AirDefinitionError("expressions take non-negative integer powers only")
        result: Expr = const(1)
        base: Expr = self
        while exponent:
            if exponent & 1:
                result = result * base
            exponent >>= 1
            if exponent:
                base = base * base
        return result

    def __bool__(self) -> bool:
        # `if expr:` is almost always a bug in an AIR (it would test Python truthiness)
        raise AirDefinitionError("a symbolic expression has no truth value")

    def __repr__(self) -> str:
        return _render(self)


def as_expr(value: Expr | int) -> Expr:
    """Accept an expression or an integer (taken modulo p)."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise AirDefinitionError(f"cannot use {type(value).__name__} in a constraint")
    return const(value)


def const(value: int) -> Expr:
    """Return a base-field constant (reduced modulo p)."""
    return Expr(Op.CONST, value % P, degree=0, is_ext=False)


def column(trace: Trace, index: int, *, next_row: bool = False) -> Expr:
    """Column ``index`` of ``trace`` on the current row, or on the next one."""
    if index < 0:
        raise AirDefinitionError(f"negative column index {index}")
    return Expr(
        _COLUMN_OPS[(trace, next_row)],
        index,
        degree=1,
        is_ext=trace == Trace.PERMUTATION,
    )


def public(index: int) -> Expr:
    """Public value ``index`` (a base-field element shared by every table of the proof)."""
    if index < 0:
        raise AirDefinitionError(f"negative public value index {index}")
    return Expr(Op.PUBLIC, index, degree=0, is_ext=False)


def challenge(index: int) -> Expr:
    """Return verifier challenge ``index`` (extension field; see ``logup``)."""
    return Expr(Op.CHALLENGE, index, degree=0, is_ext=True)


def logup_sum() -> Expr:
    """Return the table's claimed LogUp sum (extension field, sent in the proof)."""
    return Expr(Op.LOGUP_SUM, 0, degree=0, is_ext=True)


def selector(kind: Selector) -> Expr:
    """Return a row selector (is_first_row, is_last_row, is_transition); degree 1."""
    return Expr(_SELECTOR_OPS[kind], 0, degree=1, is_ext=False)


def _binary(op: Op, a: Expr, b: Expr) -> Expr:
    # fold constants and trivial identities so generated programs stay small
    if a.op == Op.CONST and b.op == Op.CONST:
        if op == Op.ADD:
            return const(a.operand + b.operand)
        if op == Op.SUB:
            return const(a.operand - b.operand)
        return const(a.operand * b.operand)
    if op == Op.ADD:
        if a.op == Op.CONST and a.operand == 0:
            return b
        if b.op == Op.CONST and b.operand == 0:
            return a
    elif op == Op.SUB:
        if b.op == Op.CONST and b.operand == 0:
            return a
        if a.op == Op.CONST and a.operand == 0:
            return -b
    else:
        for x, y in ((a, b), (b, a)):
            if x.op == Op.CONST and x.operand == 1:
                return y
            if x.op == Op.CONST and x.operand == 0:
                return x
    degree = max(a.degree, b.degree) if op != Op.MUL else a.degree + b.degree
    return Expr(op, 0, (a, b), degree=degree, is_ext=a.is_ext or b.is_ext)


def sum_exprs(terms: Iterable[Expr | int]) -> Expr:
    """Sum of expressions (zero if empty)."""
    total: Expr = const(0)
    for term in terms:
        total = total + term
    return total


def product(factors: Iterable[Expr | int]) -> Expr:
    """Product of expressions (one if empty)."""
    total: Expr = const(1)
    for factor in factors:
        total = total * factor
    return total


def _render(expr: Expr) -> str:
    names = {
        Op.MAIN: "main[{}]",
        Op.MAIN_NEXT: "main'[{}]",
        Op.PRE: "pre[{}]",
        Op.PRE_NEXT: "pre'[{}]",
        Op.PERM: "perm[{}]",
        Op.PERM_NEXT: "perm'[{}]",
        Op.PUBLIC: "pub[{}]",
        Op.CHALLENGE: "ch[{}]",
    }
    if expr.op == Op.CONST:
        return str(expr.operand)
    if expr.op in names:
        return names[expr.op].format(expr.operand)
    if expr.op == Op.LOGUP_SUM:
        return "logup_sum"
    if expr.op in (Op.IS_FIRST_ROW, Op.IS_LAST_ROW, Op.IS_TRANSITION):
        return expr.op.name.lower()
    if expr.op == Op.NEG:
        return f"-({_render(expr.args[0])})"
    symbol = {Op.ADD: "+", Op.SUB: "-", Op.MUL: "*"}[expr.op]
    return f"({_render(expr.args[0])} {symbol} {_render(expr.args[1])})"


@dataclass(frozen=True)
class Lowered:
    """A program plus, for each output, the degree and whether it is extension-valued."""

    program: ExprProgram
    degrees: tuple[int, ...]


def lower(roots: Sequence[Expr]) -> Lowered:
    """Flatten root expressions into one program; equal sub-expressions appear once.

    Instructions come in post-order of a depth-first walk over the roots in order, so the
    program is deterministic for a given AIR (its bytes feed the transcript's AIR digest).
    Sharing is structural: two separately built but equal sub-expressions get one slot.
    """
    slot_of_key: dict[tuple[int, int, int], int] = {}
    slot_of_node: dict[int, int] = {}  # id(node) -> slot; the roots keep every node alive
    instructions: list[Instruction] = []

    def visit(root: Expr) -> int:
        # iterative post-order walk (deep expressions would overflow Python's recursion limit)
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in slot_of_node:
                continue
            if node.args and not expanded:
                stack.append((node, True))
                stack.extend((arg, False) for arg in reversed(node.args))
                continue
            if node.args:
                a = slot_of_node[id(node.args[0])]
                b = slot_of_node[id(node.args[1])] if len(node.args) > 1 else 0
            else:
                a, b = node.operand, 0
            key = (int(node.op), a, b)
            slot = slot_of_key.get(key)
            if slot is None:
                slot = len(instructions)
                slot_of_key[key] = slot
                instructions.append(Instruction(node.op, a, b))
            slot_of_node[id(node)] = slot
        return slot_of_node[id(root)]

    outputs = tuple(visit(root) for root in roots)
    program = ExprProgram(tuple(instructions), outputs)
    return Lowered(program, tuple(root.degree for root in roots))
