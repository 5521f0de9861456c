"""The debug checker names each failing constraint with its first row, and unbalanced buses."""

from __future__ import annotations

import numpy as np

from heliostat.stark.air import compile_machine
from heliostat.stark.debug import check_machine
from heliostat.stark.examples import fibonacci, lookup, range_counter, synthetic


def test_valid_traces_have_no_failures() -> None:
    trace, publics = fibonacci.generate_trace(4)
    assert check_machine(compile_machine([fibonacci.FibonacciAir()], 3), [trace], publics) == []
    reader, counts = lookup.generate_traces(6, np.random.default_rng(0))
    machine = compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()])
    assert check_machine(machine, [reader, counts], []) == []
    syn = synthetic.generate_trace(5, 9, np.random.default_rng(1))
    assert check_machine(compile_machine([synthetic.SyntheticAir(9)]), [syn], []) == []


def test_names_constraints_and_rows() -> None:
    machine = compile_machine([range_counter.RangeCounterAir()], 2)
    trace, publics = range_counter.generate_trace(4, start=0)
    trace[6, 3] = 1  # bit 2 of c = 6 is already 1: set bit 2 of row 6 to 1 → breaks nothing
    trace[5, 4] = 1  # c = 5 = 0b101: bit 3 set → the sum no longer matches on row 5
    trace[0, 0] = 9  # first row: start value, sum and the step to row 1 all break
    failures = {(f.check, f.first_row, f.rows) for f in check_machine(machine, [trace], publics)}
    assert failures == {
        ("c = Σ bits", 0, 2),
        ("c' = c + 1", 0, 1),
        ("c starts at the public start", 0, 1),
    }


def test_reports_each_unbalanced_message() -> None:
    machine = compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()])
    reader, counts = lookup.generate_traces(5, np.random.default_rng(2))
    reader[:, 1] = 0
    reader[3] = (300, 1)  # one lookup of a non-byte
    counts[:] = 0
    counts[17] = 2  # the table claims byte 17 was read twice
    text = sorted(str(f) for f in check_machine(machine, [reader, counts], []))
    assert text == [
        "bus: 'bus 7: message (17,) unbalanced by -2' fails at bus",
        "bus: 'bus 7: message (300,) unbalanced by +1' fails at bus",
    ]
