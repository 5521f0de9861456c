"""The debug constraint checker: evaluate every constraint on a concrete trace, name failures.

``check_machine`` runs each table's own constraints on its trace domain (rows 0…n−1, the next
row of the last being row 0, selectors at their true values on H) and checks every bus for
balance by exact multiset counting, reporting each unmatched message. The evaluator here is
plain NumPy over whole columns: the readable reference the numba kernel is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import CompiledAir, CompiledMachine
from heliostat.stark.errors import ConstraintViolationError, TraceError
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P, coset_points, two_adic_generator
from heliostat.stark.program import ExprProgram, Op

U64 = NDArray[np.uint64]
_P = np.uint64(P)
_W = np.uint64(11)


def _ext_mul(a: U64, b: U64) -> U64:
    # a, b: (n, 4) canonical; products < p² < 2^62, so three of them sum below 2^64
    out = np.empty_like(a)
    prod = [[(a[:, i] * b[:, j]) % _P for j in range(4)] for i in range(4)]
    for k in range(4):
        low = sum((prod[i][k - i] for i in range(k + 1)), np.zeros(len(a), np.uint64)) % _P
        high = sum((prod[i][k + 4 - i] for i in range(k + 1, 4)), np.zeros(len(a), np.uint64))
        out[:, k] = (low + (high % _P) * _W) % _P
    return out


@dataclass
class RowEnv:
    """Columns over n rows (uint64, canonical) that a program reads; ext arrays are (n, 4)."""

    main: U64
    main_next: U64
    pre: U64
    pre_next: U64
    perm: U64  # (n, ext_columns, 4)
    perm_next: U64
    selectors: tuple[U64, U64, U64]
    publics: Sequence[int]
    challenges: Sequence[Ext4]
    logup_sum: Ext4


def evaluate_rows(program: ExprProgram, env: RowEnv) -> list[U64]:
    """Every output at every row: (n,) arrays for base values, (n, 4) for extension values."""
    n = env.main.shape[0]
    values: list[U64] = []

    def ext(v: U64) -> U64:
        if v.ndim == 2:
            return v
        out = np.zeros((n, 4), dtype=np.uint64)
        out[:, 0] = v
        return out

    def const_ext(e: Ext4) -> U64:
        return np.tile(np.array(e.coeffs, dtype=np.uint64), (n, 1))

    needed = [False] * len(program.instructions)
    for out in program.outputs:
        needed[out] = True
    for k in range(len(needed) - 1, -1, -1):
        ins = program.instructions[k]
        if needed[k] and ins.op in (Op.ADD, Op.SUB, Op.MUL):
            needed[ins.a] = needed[ins.b] = True
        elif needed[k] and ins.op == Op.NEG:
            needed[ins.a] = True
    for k, ins in enumerate(program.instructions):
        op = ins.op
        if not needed[k]:  # e.g. LogUp values when only the AIR's own constraints are asked
            v = np.zeros(0, dtype=np.uint64)
        elif op in (Op.ADD, Op.SUB, Op.MUL):
            x, y = values[ins.a], values[ins.b]
            if x.ndim != y.ndim:
                x, y = ext(x), ext(y)
            if op == Op.ADD:
                v = (x + y) % _P
            elif op == Op.SUB:
                v = (x + _P - y) % _P
            elif x.ndim == 1:
                v = (x * y) % _P
            else:
                v = _ext_mul(x, y)
        elif op == Op.NEG:
            v = (_P - values[ins.a]) % _P
        elif op == Op.CONST:
            v = np.full(n, ins.a, dtype=np.uint64)
        elif op == Op.MAIN:
            v = env.main[:, ins.a]
        elif op == Op.MAIN_NEXT:
            v = env.main_next[:, ins.a]
        elif op == Op.PRE:
            v = env.pre[:, ins.a]
        elif op == Op.PRE_NEXT:
            v = env.pre_next[:, ins.a]
        elif op == Op.PERM:
            v = env.perm[:, ins.a, :]
        elif op == Op.PERM_NEXT:
            v = env.perm_next[:, ins.a, :]
        elif op == Op.PUBLIC:
            v = np.full(n, env.publics[ins.a], dtype=np.uint64)
        elif op == Op.CHALLENGE:
            v = const_ext(env.challenges[ins.a])
        elif op == Op.LOGUP_SUM:
            v = const_ext(env.logup_sum)
        else:
            v = env.selectors[int(op) - int(Op.IS_FIRST_ROW)]
        values.append(v)
    return [values[i] for i in program.outputs]


def trace_selectors(log_n: int) -> tuple[U64, U64, U64]:
    """is_first_row, is_last_row, is_transition at the points of H (their true values)."""
    n = 1 << log_n
    first = np.zeros(n, dtype=np.uint64)
    first[0] = 1
    last = np.zeros(n, dtype=np.uint64)
    last[-1] = 1
    points = coset_points(log_n).astype(np.uint64)
    omega_inv = pow(two_adic_generator(log_n), n - 1, P)
    transition = (points + _P - np.uint64(omega_inv)) % _P
    return first, last, transition


@dataclass(frozen=True)
class Failure:
    """One failing check: which table and constraint (or bus), the first row, how many rows."""

    table: str
    check: str
    first_row: int
    rows: int

    def __str__(self) -> str:
        where = f"row {self.first_row}" if self.first_row >= 0 else "bus"
        more = f" (and {self.rows - 1} more rows)" if self.rows > 1 else ""
        return f"{self.table}: {self.check!r} fails at {where}{more}"


def _row_env(table: CompiledAir, trace: NDArray[np.uint32], publics: Sequence[int]) -> RowEnv:
    main = trace.astype(np.uint64)
    pre = (
        np.zeros((len(main), 0), np.uint64)
        if table.preprocessed is None
        else table.preprocessed.astype(np.uint64)
    )
    log_n = len(main).bit_length() - 1
    empty = np.zeros((len(main), 0, 4), np.uint64)
    return RowEnv(
        main=main,
        main_next=np.roll(main, -1, axis=0),
        pre=pre,
        pre_next=np.roll(pre, -1, axis=0),
        perm=empty,
        perm_next=empty,
        selectors=trace_selectors(log_n),
        publics=publics,
        challenges=(),
        logup_sum=Ext4.zero(),
    )


def check_table(
    table: CompiledAir, trace: NDArray[np.uint32], publics: Sequence[int]
) -> list[Failure]:
    """Evaluate the table's own constraints (not the LogUp ones) on every row."""
    own = table.num_own_constraints
    roots = [table.program.outputs[k] for k in range(own)]
    program = ExprProgram(table.program.instructions, tuple(roots))
    failures = []
    outputs = evaluate_rows(program, _row_env(table, trace, publics))
    for constraint, values in zip(table.constraints[:own], outputs, strict=True):
        bad = np.flatnonzero(values if values.ndim == 1 else values.any(axis=1))
        if bad.size:
            failures.append(Failure(table.name, constraint.name, int(bad[0]), int(bad.size)))
    return failures


def bus_imbalances(
    machine: CompiledMachine, traces: Sequence[NDArray[np.uint32]], publics: Sequence[int]
) -> list[Failure]:
    """Count every message on every bus (sends − receives); report each non-zero net count."""
    net: dict[tuple[int, tuple[int, ...]], int] = {}
    for table, trace in zip(machine.tables, traces, strict=True):
        if not table.interactions:
            continue
        outputs = evaluate_rows(table.interaction_program, _row_env(table, trace, publics))
        k = 0
        for inter in table.interactions:
            mult = outputs[k]
            vals = outputs[k + 1 : k + 1 + len(inter.values)]
            k += 1 + len(inter.values)
            sign = 1 if inter.is_send else -1
            for row in np.flatnonzero(mult):
                key = (inter.bus, tuple(int(v[row]) for v in vals))
                net[key] = (net.get(key, 0) + sign * int(mult[row])) % P
    if machine.public_interactions:
        k = 0
        for inter in machine.public_interactions:
            prog = ExprProgram(
                machine.public_program.instructions,
                machine.public_program.outputs[k : k + 1 + len(inter.values)],
            )
            k += 1 + len(inter.values)
            scalar_env = RowEnv(
                main=np.zeros((1, 0), np.uint64),
                main_next=np.zeros((1, 0), np.uint64),
                pre=np.zeros((1, 0), np.uint64),
                pre_next=np.zeros((1, 0), np.uint64),
                perm=np.zeros((1, 0, 4), np.uint64),
                perm_next=np.zeros((1, 0, 4), np.uint64),
                selectors=(np.zeros(1, np.uint64),) * 3,
                publics=publics,
                challenges=(),
                logup_sum=Ext4.zero(),
            )
            scalars = [int(v[0]) for v in evaluate_rows(prog, scalar_env)]
            sign = 1 if inter.is_send else -1
            key = (inter.bus, tuple(scalars[1:]))
            net[key] = (net.get(key, 0) + sign * scalars[0]) % P
    failures = []
    for (bus, values), count in sorted(net.items()):
        if count:
            signed = count if count <= P // 2 else count - P
            label = f"bus {bus}: message {values} unbalanced by {signed:+d}"
            failures.append(Failure("bus", label, -1, 1))
    return failures


def check_machine(
    machine: CompiledMachine, traces: Sequence[NDArray[np.uint32]], publics: Sequence[int]
) -> list[Failure]:
    """Every failing constraint of every table, then every unbalanced bus message."""
    if len(traces) != len(machine.tables):
        raise TraceError("one trace per table", expected=len(machine.tables), got=len(traces))
    failures: list[Failure] = []
    for table, trace in zip(machine.tables, traces, strict=True):
        failures += check_table(table, trace, publics)
    return failures + bus_imbalances(machine, traces, publics)


def assert_machine(
    machine: CompiledMachine, traces: Sequence[NDArray[np.uint32]], publics: Sequence[int]
) -> None:
    """Raise ``ConstraintViolationError`` listing every failure (no-op if the traces are valid)."""
    failures = check_machine(machine, traces, publics)
    if failures:
        shown = "; ".join(str(f) for f in failures[:10])
        more = f" (+{len(failures) - 10} more)" if len(failures) > 10 else ""
        raise ConstraintViolationError(
            f"{len(failures)} failing checks: {shown}{more}", got=failures
        )
