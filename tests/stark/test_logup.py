"""The permutation trace (numba) against a plain Ext4 reference, and the LogUp balance."""

from __future__ import annotations

import numpy as np

from heliostat.stark.air import CompiledAir, compile_machine
from heliostat.stark.constraint_eval import compile_kernel_program
from heliostat.stark.debug import RowEnv, evaluate_rows
from heliostat.stark.examples import lookup, synthetic
from heliostat.stark.extension import Ext4
from heliostat.stark.logup import public_logup_sum
from heliostat.stark.logup_trace import permutation_trace


def _reference(
    table: CompiledAir, trace: np.ndarray, z: Ext4, beta: Ext4
) -> tuple[list[list[Ext4]], Ext4]:
    """Rows of [h_0, …, h_(B−1), s] from the definition, one interaction at a time; the sum."""
    u = np.uint64
    n = trace.shape[0]
    pre = table.preprocessed if table.preprocessed is not None else np.zeros((n, 0), np.uint32)
    env = RowEnv(
        main=trace.astype(u), main_next=trace.astype(u), pre=pre.astype(u),
        pre_next=pre.astype(u), perm=np.zeros((n, 0, 4), u), perm_next=np.zeros((n, 0, 4), u),
        selectors=(np.zeros(n, u),) * 3, publics=(), challenges=(), logup_sum=Ext4.zero(),
    )  # fmt: skip
    outputs = [np.broadcast_to(v, (n,)) for v in evaluate_rows(table.interaction_program, env)]
    starts, k = [], 0
    for inter in table.interactions:
        starts.append(k)
        k += 1 + len(inter.values)
    rows, running = [], Ext4.zero()
    for r in range(n):
        helpers = []
        for batch in table.logup_batches:
            h = Ext4.zero()
            for i in batch:
                inter, first = table.interactions[i], starts[i]
                phi = Ext4(inter.bus)
                for j in range(len(inter.values)):
                    phi = phi + beta ** (j + 1) * int(outputs[first + 1 + j][r])
                term = Ext4(int(outputs[first][r])) / (z - phi)
                h = h + term if inter.is_send else h - term
            helpers.append(h)
        rows.append([*helpers, running])  # the running sum of the rows before this one
        running = running + sum(helpers, Ext4.zero())
    return rows, running


def _check(table: CompiledAir, trace: np.ndarray, z: Ext4, beta: Ext4) -> None:
    kp = compile_kernel_program(table.interaction_program, raw_outputs=True)
    perm, claimed = permutation_trace(table, kp, trace, [], z, beta)
    width = table.permutation_width
    assert perm.shape == (trace.shape[0], 4 * width)
    rows, total = _reference(table, trace, z, beta)
    for r, expected in enumerate(rows):
        got = [Ext4(*map(int, perm[r, 4 * k : 4 * k + 4])) for k in range(width)]
        assert got == expected, r
    assert claimed == total


def test_reader_trace_matches_reference() -> None:
    table = compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()]).tables[0]
    reader, _ = lookup.generate_traces(4, np.random.default_rng(5))
    _check(table, reader, Ext4(5, 6, 7, 8), Ext4(9, 10, 11, 12))


def test_byte_table_with_fixed_column_matches_reference() -> None:
    table = compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()]).tables[1]
    _, counts = lookup.generate_traces(4, np.random.default_rng(5))
    _check(table, counts, Ext4(5, 6, 7, 8), Ext4(9, 10, 11, 12))


def test_two_interactions_in_one_batch_match_reference() -> None:
    table = compile_machine([synthetic.SyntheticAir(6)]).tables[0]
    assert table.logup_batches == ((0, 1),)
    trace = synthetic.generate_trace(4, 6, np.random.default_rng(6))
    _check(table, trace, Ext4(1, 2, 3, 4), Ext4(4, 3, 2, 1))


def test_balanced_tables_sum_to_zero() -> None:
    machine = compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()])
    reader, counts = lookup.generate_traces(6, np.random.default_rng(8))
    z, beta = Ext4(3, 1, 4, 1), Ext4(5, 9, 2, 6)
    total = public_logup_sum(machine, [], z, beta)
    for table, trace in zip(machine.tables, (reader, counts), strict=True):
        kp = compile_kernel_program(table.interaction_program, raw_outputs=True)
        total = total + permutation_trace(table, kp, trace, [], z, beta)[1]
    assert total == Ext4.zero()
