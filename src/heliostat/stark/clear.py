"""Tables sent in the clear: small tables whose trace the proof carries instead of committing.

A table of at most 2^max_clear_log_height rows (a config field) costs fewer bytes as its
whole trace than as the rows, permutation columns, quotient chunks and out-of-domain values
that the queries would open. Its trace, without its trailing all-zero rows (the verifier puts
them back), is absorbed into the transcript right after the main root (before the LogUp
challenges); the verifier checks every own constraint on every row and computes the table's
bus contribution Σ ±m/(z − φ) itself, so the table has no permutation trace, quotient,
openings or FRI part. Shared by prover and verifier.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.air import CompiledAir, CompiledMachine
from heliostat.stark.config import StarkConfig
from heliostat.stark.errors import ClearTraceError, LogUpSumError, ProofShapeError
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P, two_adic_generator
from heliostat.stark.program import ExprProgram, Op
from heliostat.stark.proof import ABSENT, Proof

U64 = NDArray[np.uint64]
_P = np.uint64(P)


def clear_tables(
    machine: CompiledMachine, log_heights: Sequence[int], config: StarkConfig
) -> list[int]:
    """Return the tables of a proof sent in the clear, ascending.

    Those of the proof of at most 2^max_clear_log_height rows; none if that would leave no
    table to commit (the commitment rounds need one). A clear table's fixed columns stay in
    the fixed-column tree (it belongs to the key) but take no part in DEEP or FRI.
    """
    present = [t for t, log_n in enumerate(log_heights) if log_n != ABSENT]
    clear = [t for t in present if log_heights[t] <= config.max_clear_log_height]
    return [] if len(clear) == len(present) else clear


def check_clear_shape(machine: CompiledMachine, config: StarkConfig, proof: Proof) -> None:
    """Require one sent trace per clear table, of its width and at most its height."""
    clear = clear_tables(machine, proof.log_heights, config)
    if len(proof.clear_traces) != len(clear):
        raise ProofShapeError("clear trace count", expected=len(clear), got=len(proof.clear_traces))
    for t, sent in zip(clear, proof.clear_traces, strict=True):
        table = machine.tables[t]
        rows = sent.rows
        if (
            sent.width != table.width
            or len(rows) > 1 << proof.log_heights[t]
            or any(len(r) != table.width for r in rows)
        ):
            raise ProofShapeError(
                f"{table.name}: clear trace shape",
                expected=(1 << proof.log_heights[t], table.width),
            )


def committed_heights(log_heights: Sequence[int], clear: Sequence[int]) -> list[int]:
    """Return the heights with the clear tables ``ABSENT``: what the commitment rounds see."""
    return [ABSENT if t in clear else log_n for t, log_n in enumerate(log_heights)]


def clear_traces_bytes(traces: Sequence[Sequence[Sequence[int]]]) -> bytes:
    """Return what the transcript absorbs: per sent trace, u16 row count ‖ values (u32 BE)."""
    return b"".join(
        len(t).to_bytes(2, "big") + np.asarray(t, dtype=">u4").tobytes() for t in traces
    )


def sent_rows(trace: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """Return the rows a proof sends: the trace without its trailing all-zero rows."""
    nonzero = np.flatnonzero(trace.any(axis=1))
    return trace[: int(nonzero[-1]) + 1 if nonzero.size else 0]


def full_trace(rows: Sequence[Sequence[int]], log_n: int, width: int) -> U64:
    """Return the trace from its sent rows: zero rows appended up to 2^log_n."""
    out = np.zeros((1 << log_n, width), dtype=np.uint64)
    if rows:
        out[: len(rows)] = np.array(rows, dtype=np.uint64)
    return out


def _row_selectors(log_n: int) -> tuple[U64, U64, U64]:
    n = 1 << log_n
    first = np.zeros(n, dtype=np.uint64)
    first[0] = 1
    last = np.zeros(n, dtype=np.uint64)
    last[-1] = 1
    omega = two_adic_generator(log_n)
    points, x = [], 1
    for _ in range(n):
        points.append(x)
        x = x * omega % P
    omega_inv = pow(omega, n - 1, P)
    transition = np.array([(p - omega_inv) % P for p in points], dtype=np.uint64)
    return first, last, transition


def evaluate_on_rows(
    program: ExprProgram,
    outputs: Sequence[int],
    trace: U64,
    fixed: NDArray[np.uint32] | None,
    publics: Sequence[int],
) -> list[U64]:
    """Evaluate chosen outputs of a base-field program on every row of a trace."""
    n = trace.shape[0]
    needed = set(outputs)
    for k in range(len(program.instructions) - 1, -1, -1):
        ins = program.instructions[k]
        if k in needed and ins.op in (Op.ADD, Op.SUB, Op.MUL):
            needed.update((ins.a, ins.b))
        elif k in needed and ins.op == Op.NEG:
            needed.add(ins.a)
    selectors = _row_selectors(n.bit_length() - 1)
    following = np.roll(trace, -1, axis=0)
    pre = np.zeros((n, 0), np.uint64) if fixed is None else fixed.astype(np.uint64)
    pre_following = np.roll(pre, -1, axis=0)
    values: dict[int, U64] = {}
    for k, ins in enumerate(program.instructions):
        if k not in needed:
            continue
        op = ins.op
        if op == Op.ADD:
            v = (values[ins.a] + values[ins.b]) % _P
        elif op == Op.SUB:
            v = (values[ins.a] + _P - values[ins.b]) % _P
        elif op == Op.MUL:
            v = values[ins.a] * values[ins.b] % _P
        elif op == Op.NEG:
            v = (_P - values[ins.a]) % _P
        elif op == Op.CONST:
            v = np.full(n, ins.a, dtype=np.uint64)
        elif op == Op.PUBLIC:
            v = np.full(n, int(publics[ins.a]), dtype=np.uint64)
        elif op == Op.MAIN:
            v = trace[:, ins.a]
        elif op == Op.MAIN_NEXT:
            v = following[:, ins.a]
        elif op == Op.PRE:
            v = pre[:, ins.a]
        elif op == Op.PRE_NEXT:
            v = pre_following[:, ins.a]
        elif op in (Op.IS_FIRST_ROW, Op.IS_LAST_ROW, Op.IS_TRANSITION):
            v = selectors[op - Op.IS_FIRST_ROW]
        else:  # the own constraints and interactions of a table without fixed columns
            raise ClearTraceError(f"a clear table's program reads {op.name}")
        values[k] = v
    return [values[k] for k in outputs]


def check_clear_table(table: CompiledAir, trace: U64, publics: Sequence[int]) -> None:
    """Raise ``ClearTraceError`` unless every own constraint vanishes on every row."""
    own = table.program.outputs[: table.num_own_constraints]
    outputs = evaluate_on_rows(table.program, own, trace, table.preprocessed, publics)
    for k, values in enumerate(outputs):
        bad = np.flatnonzero(values)
        if bad.size:
            raise ClearTraceError(
                f"{table.name}: constraint {table.constraints[k].name!r} fails on row "
                f"{int(bad[0])} of the clear trace",
                got=int(bad[0]),
            )


def clear_logup_sum(
    table: CompiledAir, trace: U64, publics: Sequence[int], z: Ext4, beta: Ext4
) -> Ext4:
    """Return the table's bus contribution Σ_rows Σ_interactions ±m/(z − φ) from its trace."""
    program = table.interaction_program
    outputs = evaluate_on_rows(program, program.outputs, trace, table.preprocessed, publics)
    beta_powers = [beta]
    total, k = Ext4.zero(), 0
    for inter in table.interactions:
        mult, args = outputs[k], outputs[k + 1 : k + 1 + len(inter.values)]
        k += 1 + len(inter.values)
        while len(beta_powers) < len(args):
            beta_powers.append(beta_powers[-1] * beta)
        for r in np.flatnonzero(mult).tolist():
            phi = Ext4.from_base(inter.bus)
            for power, v in zip(beta_powers, args, strict=False):
                phi = phi + power * int(v[r])
            if phi == z:  # probability ~2^-124 over z; the trace was fixed before z
                raise LogUpSumError(f"{table.name}: a fingerprint equals the challenge z")
            term = Ext4.from_base(int(mult[r])) / (z - phi)
            total = total + term if inter.is_send else total - term
    return total
