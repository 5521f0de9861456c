"""The AIR interface: a table's columns, fixed columns, constraints and bus interactions.

An ``Air`` describes itself once, symbolically, by calling an ``AirBuilder``; ``compile_machine``
turns a list of them (the tables proven together) into ``CompiledAir`` records holding the
constraint program, the interaction program and the LogUp layout. Prover, verifier and debug
checker all work from these records, never from the ``Air`` objects again.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from heliostat.stark import logup
from heliostat.stark.absent import zero_trace_is_empty
from heliostat.stark.errors import AirDefinitionError
from heliostat.stark.keccak import keccak256
from heliostat.stark.program import ExprProgram, Op
from heliostat.stark.symbolic import (
    Expr,
    Selector,
    Trace,
    as_expr,
    column,
    lower,
    public,
    selector,
)

U32Array = NDArray[np.uint32]
MAX_WIDTH = 1 << 16  # columns per trace; a bound for decoders as much as for AIRs
MAX_DEGREE = 8  # effective constraint degree (selectors count 1)


class Air(Protocol):
    """One table of a machine. ``eval`` declares constraints and interactions on ``ab``."""

    @property
    def name(self) -> str:
        """A short name (used in error messages and debug reports)."""
        ...

    @property
    def width(self) -> int:
        """Number of main-trace columns."""
        ...

    def preprocessed_trace(self) -> U32Array | None:
        """Return the fixed columns (height, width) known to the verifier, or None."""
        ...

    def eval(self, ab: AirBuilder) -> None:
        """Declare every constraint and interaction of the table."""
        ...


@dataclass(frozen=True)
class Constraint:
    """A named expression that must vanish on every row (selectors restrict it)."""

    name: str
    expr: Expr


@dataclass(frozen=True)
class Interaction:
    """One bus message per row: ``multiplicity`` copies of ``values`` sent (or received).

    The expressions may read the current row of the main and preprocessed traces, the row
    selectors (e.g. a message sent on the first row only), public values and constants.
    Sends count +multiplicity, receives −multiplicity; a balanced bus sums to zero over all
    tables and the public interactions.
    """

    bus: int
    values: tuple[Expr, ...]
    multiplicity: Expr
    is_send: bool
    name: str

    @staticmethod
    def send(
        bus: int, values: Sequence[Expr | int], multiplicity: Expr | int = 1, name: str = ""
    ) -> Interaction:
        """Build a sending interaction (for the machine's public interactions)."""
        return Interaction(
            bus, tuple(as_expr(v) for v in values), as_expr(multiplicity), True, name
        )

    @staticmethod
    def receive(
        bus: int, values: Sequence[Expr | int], multiplicity: Expr | int = 1, name: str = ""
    ) -> Interaction:
        """Build a receiving interaction (for the machine's public interactions)."""
        return Interaction(
            bus, tuple(as_expr(v) for v in values), as_expr(multiplicity), False, name
        )


class Window:
    """The columns of one trace: ``local[i]`` on the current row, ``next[i]`` on the next."""

    def __init__(self, trace: Trace, width: int) -> None:
        self.local = [column(trace, i) for i in range(width)]
        self.next = [column(trace, i, next_row=True) for i in range(width)]


class _Assertions:
    """assert_zero and friends, all multiplied by a fixed condition."""

    def __init__(self, builder: AirBuilder, condition: Expr | None) -> None:
        self._builder = builder
        self._condition = condition

    def assert_zero(self, expr: Expr | int, name: str | None = None) -> None:
        """Require ``expr`` = 0 (where the condition holds)."""
        e = as_expr(expr)
        if self._condition is not None:
            e = self._condition * e
        self._builder._add_constraint(e, name)

    def assert_eq(self, a: Expr | int, b: Expr | int, name: str | None = None) -> None:
        """Require a = b."""
        self.assert_zero(as_expr(a) - as_expr(b), name)

    def assert_bool(self, x: Expr | int, name: str | None = None) -> None:
        """Require x ∈ {0, 1}."""
        e = as_expr(x)
        self.assert_zero(e * (e - 1), name)

    def when(self, condition: Expr | int) -> _Assertions:
        """Further restrict to rows where ``condition`` is non-zero."""
        c = as_expr(condition)
        return _Assertions(self._builder, c if self._condition is None else self._condition * c)


class AirBuilder(_Assertions):
    """What ``Air.eval`` receives: windows on the traces, selectors, assertions, bus calls."""

    def __init__(self, width: int, preprocessed_width: int, num_public_values: int) -> None:
        super().__init__(self, None)
        self.main = Window(Trace.MAIN, width)
        self.preprocessed = Window(Trace.PREPROCESSED, preprocessed_width)
        self.is_first_row = selector(Selector.IS_FIRST_ROW)
        self.is_last_row = selector(Selector.IS_LAST_ROW)
        self.is_transition = selector(Selector.IS_TRANSITION)
        self.constraints: list[Constraint] = []
        self.interactions: list[Interaction] = []
        self._num_public_values = num_public_values

    def public(self, index: int) -> Expr:
        """Public value ``index`` of the proof."""
        if not 0 <= index < self._num_public_values:
            raise AirDefinitionError(
                f"public value {index} out of range",
                expected=self._num_public_values,
                got=index,
            )
        return public(index)

    def when_first_row(self) -> _Assertions:
        """Restrict assertions to the first row."""
        return self.when(self.is_first_row)

    def when_last_row(self) -> _Assertions:
        """Restrict assertions to the last row."""
        return self.when(self.is_last_row)

    def when_transition(self) -> _Assertions:
        """Restrict assertions to transitions (every row but the last)."""
        return self.when(self.is_transition)

    def send(
        self,
        bus: int,
        values: Sequence[Expr | int],
        multiplicity: Expr | int = 1,
        name: str | None = None,
    ) -> None:
        """Send ``values`` on ``bus``, ``multiplicity`` times per row."""
        self._add_interaction(bus, values, multiplicity, True, name)

    def receive(
        self,
        bus: int,
        values: Sequence[Expr | int],
        multiplicity: Expr | int = 1,
        name: str | None = None,
    ) -> None:
        """Receive ``values`` from ``bus``, ``multiplicity`` times per row."""
        self._add_interaction(bus, values, multiplicity, False, name)

    def _add_constraint(self, expr: Expr, name: str | None) -> None:
        label = name if name is not None else f"constraint {len(self.constraints)}"
        self.constraints.append(Constraint(label, expr))

    def _add_interaction(
        self,
        bus: int,
        values: Sequence[Expr | int],
        multiplicity: Expr | int,
        is_send: bool,
        name: str | None,
    ) -> None:
        label = name if name is not None else f"interaction {len(self.interactions)}"
        self.interactions.append(
            Interaction(
                bus, tuple(as_expr(v) for v in values), as_expr(multiplicity), is_send, label
            )
        )


@dataclass(frozen=True)
class CompiledAir:
    """A table, ready for the prover and the verifier.

    ``constraints`` are the AIR's own followed by the LogUp ones; ``program`` outputs them in
    that order. ``interaction_program`` outputs, per interaction, its multiplicity and then
    its values. ``max_degree`` counts selectors as degree 1 and is at least 2; the quotient
    is split into ``max_degree − 1`` chunks of the trace height. ``may_be_absent``: a proof
    may leave the table out (see ``compile_machine``).
    """

    name: str
    width: int
    preprocessed: U32Array | None
    constraints: tuple[Constraint, ...]
    degrees: tuple[int, ...]
    interactions: tuple[Interaction, ...]
    logup_batches: tuple[tuple[int, ...], ...]
    program: ExprProgram
    interaction_program: ExprProgram
    max_degree: int
    may_be_absent: bool = False

    @functools.cached_property
    def main_next_columns(self) -> tuple[int, ...]:
        """Main columns some constraint reads on the next row (opened at ζ·ω), ascending."""
        return _read_columns(self.program, Op.MAIN_NEXT)

    @functools.cached_property
    def preprocessed_next_columns(self) -> tuple[int, ...]:
        """Fixed columns some constraint reads on the next row, ascending."""
        return _read_columns(self.program, Op.PRE_NEXT)

    @functools.cached_property
    def permutation_next_columns(self) -> tuple[int, ...]:
        """Extension columns of the permutation trace read on the next row, ascending."""
        return _read_columns(self.program, Op.PERM_NEXT)

    @property
    def preprocessed_width(self) -> int:
        """Number of fixed columns."""
        return 0 if self.preprocessed is None else int(self.preprocessed.shape[1])

    @property
    def fixed_log_height(self) -> int | None:
        """log2 of the height a table with fixed columns must have, else None."""
        if self.preprocessed is None:
            return None
        return int(self.preprocessed.shape[0]).bit_length() - 1

    @property
    def num_own_constraints(self) -> int:
        """How many of ``constraints`` the AIR wrote (the LogUp ones follow them)."""
        return len(self.constraints) - (len(self.logup_batches) + 3 if self.interactions else 0)

    @property
    def permutation_width(self) -> int:
        """Extension columns of the permutation trace (LogUp helpers + running sum)."""
        return len(self.logup_batches) + 1 if self.interactions else 0

    @property
    def num_quotient_chunks(self) -> int:
        """Quotient chunks, each a polynomial of degree below the trace height."""
        return self.max_degree - 1

    @property
    def log_quotient_degree(self) -> int:
        """log2 of the quotient domain size over the trace height."""
        return (self.num_quotient_chunks - 1).bit_length()

    def digest_bytes(self) -> bytes:
        """Return what identifies the table to the transcript (names excluded)."""
        parts = [
            self.width.to_bytes(4, "big"),
            self.preprocessed_width.to_bytes(4, "big"),
            (self.fixed_log_height or 0).to_bytes(1, "big"),
            self.max_degree.to_bytes(1, "big"),
            len(self.interactions).to_bytes(4, "big"),
            bytes([self.may_be_absent]),
        ]
        for inter in self.interactions:
            parts.append(inter.bus.to_bytes(4, "big") + bytes([inter.is_send, len(inter.values)]))
        parts.append(len(self.logup_batches).to_bytes(4, "big"))
        for batch in self.logup_batches:
            parts.append(bytes([len(batch)]) + b"".join(i.to_bytes(4, "big") for i in batch))
        parts.append(self.program.to_bytes())
        parts.append(self.interaction_program.to_bytes())
        return b"".join(parts)


@dataclass(frozen=True)
class CompiledMachine:
    """The tables proven together, the public-value count and the public interactions."""

    tables: tuple[CompiledAir, ...]
    num_public_values: int
    public_interactions: tuple[Interaction, ...]
    public_program: ExprProgram
    digest: bytes

    @property
    def uses_logup(self) -> bool:
        """True if some table has interactions."""
        return any(t.interactions for t in self.tables)


def _read_columns(program: ExprProgram, op: Op) -> tuple[int, ...]:
    return tuple(sorted({ins.a for ins in program.instructions if ins.op == op}))


def _walk(expr: Expr) -> Iterable[Expr]:
    stack, seen = [expr], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(node.args)


def _check_expr(
    expr: Expr, air: str, what: str, width: int, pre_width: int, num_publics: int
) -> None:
    for node in _walk(expr):
        op, index = node.op, node.operand
        if op in (Op.MAIN, Op.MAIN_NEXT) and index >= width:
            raise AirDefinitionError(
                f"{air}: {what} reads main column {index}", expected=width, got=index
            )
        if op in (Op.PRE, Op.PRE_NEXT) and index >= pre_width:
            raise AirDefinitionError(
                f"{air}: {what} reads fixed column {index}", expected=pre_width, got=index
            )
        if op == Op.PUBLIC and index >= num_publics:
            raise AirDefinitionError(
                f"{air}: {what} reads public value {index}", expected=num_publics, got=index
            )
        if op in (Op.PERM, Op.PERM_NEXT, Op.CHALLENGE, Op.LOGUP_SUM):
            raise AirDefinitionError(f"{air}: {what} reads LogUp internals ({op.name})")


def _check_interaction_expr(expr: Expr, air: str, what: str) -> None:
    allowed = {Op.CONST, Op.MAIN, Op.PRE, Op.PUBLIC, Op.ADD, Op.SUB, Op.MUL, Op.NEG}
    allowed |= {Op.IS_FIRST_ROW, Op.IS_LAST_ROW, Op.IS_TRANSITION}
    for node in _walk(expr):
        if node.op not in allowed:
            raise AirDefinitionError(
                f"{air}: {what} may read only the current row, selectors, publics, constants",
                got=node.op.name,
            )


def compile_air(air: Air, num_public_values: int) -> CompiledAir:
    """Run ``air.eval`` symbolically, add the LogUp constraints and lower everything."""
    name, width = air.name, air.width
    pre = air.preprocessed_trace()
    if not 1 <= width <= MAX_WIDTH:
        raise AirDefinitionError(f"{name}: width out of range", expected=MAX_WIDTH, got=width)
    if pre is not None:
        pre = np.ascontiguousarray(pre, dtype=np.uint32)
        height = pre.shape[0] if pre.ndim == 2 else 0
        if pre.ndim != 2 or height < 4 or height & (height - 1) or pre.shape[1] < 1:
            raise AirDefinitionError(
                f"{name}: fixed columns must be a (2^k ≥ 4, w ≥ 1) matrix", got=pre.shape
            )
    pre_width = 0 if pre is None else int(pre.shape[1])
    ab = AirBuilder(width, pre_width, num_public_values)
    air.eval(ab)
    for c in ab.constraints:
        _check_expr(c.expr, name, f"constraint {c.name!r}", width, pre_width, num_public_values)
    for inter in ab.interactions:
        what = f"interaction {inter.name!r}"
        for e in (*inter.values, inter.multiplicity):
            _check_expr(e, name, what, width, pre_width, num_public_values)
            _check_interaction_expr(e, name, what)
        if not 0 <= inter.bus < 1 << 30:
            raise AirDefinitionError(f"{name}: bus id out of range", got=inter.bus)
    user_degree = max((c.expr.degree for c in ab.constraints), default=0)
    interactions = tuple(ab.interactions)
    batches = logup.batch_interactions(interactions, max(user_degree, 3))
    constraints = list(ab.constraints)
    if interactions:
        constraints += logup.permutation_constraints(interactions, batches)
    degrees = tuple(c.expr.degree for c in constraints)
    max_degree = max(2, *degrees) if degrees else 2
    if max_degree > MAX_DEGREE:
        raise AirDefinitionError(
            f"{name}: constraint degree too high", expected=MAX_DEGREE, got=max_degree
        )
    program = lower([c.expr for c in constraints]).program
    inter_roots: list[Expr] = []
    for inter in interactions:
        inter_roots.append(inter.multiplicity)
        inter_roots.extend(inter.values)
    return CompiledAir(
        name=name,
        width=width,
        preprocessed=pre,
        constraints=tuple(constraints),
        degrees=degrees,
        interactions=interactions,
        logup_batches=batches,
        program=program,
        interaction_program=lower(inter_roots).program,
        max_degree=max_degree,
    )


def compile_machine(
    airs: Sequence[Air],
    num_public_values: int = 0,
    public_interactions: Sequence[Interaction] = (),
    required_tables: Collection[str] = (),
) -> CompiledMachine:
    """Compile the tables proven together; check that each bus has one arity everywhere.

    A proof may leave out a table whose all-zero trace is a valid empty instance
    (``zero_trace_is_empty``: no fixed columns, every own constraint and every multiplicity
    vanishes when the main columns are 0); the prover leaves out such a table when its trace
    is all zero. ``required_tables`` names tables that every proof must include anyway.
    """
    if not airs:
        raise AirDefinitionError("a machine needs at least one table")
    if not 0 <= num_public_values <= 1 << 16:
        raise AirDefinitionError("too many public values", got=num_public_values)
    compiled = [compile_air(air, num_public_values) for air in airs]
    unknown = set(required_tables) - {t.name for t in compiled}
    if unknown:
        raise AirDefinitionError("required tables not in the machine", got=sorted(unknown))
    tables = tuple(
        dataclasses.replace(
            t,
            may_be_absent=t.name not in required_tables
            and zero_trace_is_empty(t, num_public_values),
        )
        for t in compiled
    )
    arity: dict[int, int] = {}
    everything = [(t.name, i) for t in tables for i in t.interactions]
    everything += [("public", i) for i in public_interactions]
    for owner, inter in everything:
        if arity.setdefault(inter.bus, len(inter.values)) != len(inter.values):
            raise AirDefinitionError(
                f"{owner}: bus {inter.bus} used with {len(inter.values)} values",
                expected=arity[inter.bus],
                got=len(inter.values),
            )
    public_roots: list[Expr] = []
    for inter in public_interactions:
        for e in (inter.multiplicity, *inter.values):
            for node in _walk(e):
                if node.op not in (Op.CONST, Op.PUBLIC, Op.ADD, Op.SUB, Op.MUL, Op.NEG):
                    raise AirDefinitionError(
                        "public interactions read only public values and constants",
                        got=node.op.name,
                    )
                if node.op == Op.PUBLIC and node.operand >= num_public_values:
                    raise AirDefinitionError(
                        "public interaction reads a missing public value", got=node.operand
                    )
        public_roots.append(inter.multiplicity)
        public_roots.extend(inter.values)
    public_program = lower(public_roots).program
    parts = [len(tables).to_bytes(4, "big"), num_public_values.to_bytes(4, "big")]
    parts += [keccak256(t.digest_bytes()) for t in tables]
    parts.append(len(public_interactions).to_bytes(4, "big"))
    for inter in public_interactions:
        parts.append(inter.bus.to_bytes(4, "big") + bytes([inter.is_send, len(inter.values)]))
    parts.append(public_program.to_bytes())
    return CompiledMachine(
        tables=tables,
        num_public_values=num_public_values,
        public_interactions=tuple(public_interactions),
        public_program=public_program,
        digest=keccak256(b"".join(parts)),
    )
