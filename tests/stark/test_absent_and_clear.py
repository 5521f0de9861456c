"""Tables left out of a proof (absent) and tables sent in the clear: honest proofs verify,
and every way of abusing either is rejected (bad traces proven with the prover's checks off,
or honest proofs changed through their bytes)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from heliostat.stark.air import compile_machine
from heliostat.stark.clear import clear_tables
from heliostat.stark.config import FAST_TEST
from heliostat.stark.errors import (
    AirDefinitionError,
    ClearTraceError,
    LogUpSumError,
    ProofFormatError,
    ProofShapeError,
    TraceError,
    VerificationError,
)
from heliostat.stark.examples import fibonacci, lookup
from heliostat.stark.extension import Ext4
from heliostat.stark.proof import ABSENT, ClearTrace, Proof
from heliostat.stark.prover import prove, setup
from heliostat.stark.verifier import verify

CLEAR_TEST = replace(FAST_TEST, name="clear-test", max_clear_log_height=4)


class _SecondReader(lookup.ReaderAir):
    name = "second reader"


class _AlwaysSends:
    """Sends (0) on the byte bus on its first row whatever its trace: never empty."""

    name, width = "always", 1

    def preprocessed_trace(self) -> None:
        return None

    def eval(self, ab) -> None:  # type: ignore[no-untyped-def]
        ab.send(lookup.BYTE_BUS, [ab.main.local[0]], ab.is_first_row)


def _airs() -> list:
    return [lookup.ReaderAir(), _SecondReader(), lookup.ByteTableAir()]


def _traces(log_first: int, log_second: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    first, _ = lookup.generate_traces(log_first, rng)
    second, _ = lookup.generate_traces(log_second, rng)
    active = np.concatenate([first[first[:, 1] == 1, 0], second[second[:, 1] == 1, 0]])
    counts = np.bincount(active, minlength=256).astype(np.uint32).reshape(-1, 1)
    return [first, second, counts]


def _one_reader_traces() -> list[np.ndarray]:
    """The second reader's trace all zero; the byte table counts the first one's lookups."""
    first, _, _ = _traces(5, 4)
    counts = np.bincount(first[first[:, 1] == 1, 0], minlength=256).astype(np.uint32)
    return [first, np.zeros((4, 2), np.uint32), counts.reshape(-1, 1)]


def _verify_bytes(pk, proof: Proof, publics=()) -> None:  # type: ignore[no-untyped-def]
    verify(pk.vk, Proof.from_bytes(proof.to_bytes()), list(publics))


# --- which tables may be absent --------------------------------------------------------------


def test_only_tables_whose_zero_trace_is_empty_may_be_absent() -> None:
    machine = compile_machine([*_airs(), _AlwaysSends(), fibonacci.FibonacciAir()], 3)
    absent = {t.name: t.may_be_absent for t in machine.tables}
    # readers: zero rows send nothing; the byte table has fixed columns; "always" sends on its
    # first row; Fibonacci's first row must equal the public a0, b0
    assert absent == {"reader": True, "second reader": True, "bytes": False, "always": False,
                      "fibonacci": False}  # fmt: skip


def test_required_tables_are_declared_by_name() -> None:
    machine = compile_machine(_airs(), required_tables=("second reader",))
    assert [t.may_be_absent for t in machine.tables] == [True, False, False]
    with pytest.raises(AirDefinitionError):
        compile_machine(_airs(), required_tables=("no such table",))


# --- absent tables ---------------------------------------------------------------------------


def test_an_all_zero_table_is_left_out_and_the_proof_is_smaller() -> None:
    traces = _one_reader_traces()
    pk = setup(compile_machine(_airs()), FAST_TEST)
    proof = prove(pk, traces, [])
    assert proof.log_heights[1] == ABSENT
    _verify_bytes(pk, proof)
    assert proof.openings[1].main_local == ()
    pk_all = setup(compile_machine(_airs(), required_tables=("second reader",)), FAST_TEST)
    with_table = prove(pk_all, traces, [])
    _verify_bytes(pk_all, with_table)
    assert len(proof.to_bytes()) < len(with_table.to_bytes())
    # the same absent proof does not verify where the table is required
    with pytest.raises(ProofShapeError):
        _verify_bytes(pk_all, proof)
    with pytest.raises(TraceError):
        prove(pk_all, [traces[0], None, traces[2]], [])


def test_dropping_a_table_with_real_rows_is_rejected() -> None:
    """The prover leaves out the second reader although the byte table counts its lookups."""
    traces = _traces(5, 4)
    pk = setup(compile_machine(_airs()), FAST_TEST)
    proof = prove(pk, [traces[0], None, traces[2]], [], check_constraints=False)
    assert proof.log_heights[1] == ABSENT
    with pytest.raises(LogUpSumError):
        _verify_bytes(pk, proof)


def test_a_logup_sum_for_an_absent_table_is_refused() -> None:
    pk = setup(compile_machine(_airs()), FAST_TEST)
    proof = prove(pk, _one_reader_traces(), [])
    sums = proof.logup_sums
    extra = replace(proof, logup_sums=(sums[0], Ext4(1), sums[1]))
    with pytest.raises(ProofShapeError):
        _verify_bytes(pk, extra)


def test_marking_a_present_table_absent_is_rejected() -> None:
    traces = _traces(5, 4)
    pk = setup(compile_machine(_airs()), FAST_TEST)
    proof = prove(pk, traces, [])
    heights = list(proof.log_heights)
    heights[1] = ABSENT
    with pytest.raises((VerificationError, ProofFormatError)):
        _verify_bytes(pk, replace(proof, log_heights=tuple(heights)))
    heights = list(proof.log_heights)
    heights[2] = ABSENT  # the byte table has fixed columns: never absent
    with pytest.raises((VerificationError, ProofFormatError)):
        _verify_bytes(pk, replace(proof, log_heights=tuple(heights)))


# --- tables in the clear ---------------------------------------------------------------------


def _clear_case() -> tuple:
    traces = _traces(4, 5)  # the first reader (16 rows) goes in the clear
    traces[0][-3:] = 0  # trailing zero rows are not sent
    first, second = traces[0], traces[1]
    active = np.concatenate([first[first[:, 1] == 1, 0], second[second[:, 1] == 1, 0]])
    traces[2] = np.bincount(active, minlength=256).astype(np.uint32).reshape(-1, 1)
    pk = setup(compile_machine(_airs()), CLEAR_TEST)
    return pk, traces


def test_a_small_table_is_sent_in_the_clear() -> None:
    pk, traces = _clear_case()
    proof = prove(pk, traces, [])
    assert clear_tables(pk.machine, proof.log_heights, CLEAR_TEST) == [0]
    (sent,) = proof.clear_traces
    assert sent.width == 2 and len(sent.rows) == 13
    assert np.array_equal(np.array(sent.rows), traces[0][:13])
    assert proof.openings[0].main_local == () and len(proof.logup_sums) == 2
    _verify_bytes(pk, proof)


def test_fibonacci_in_the_clear_checks_every_row_and_the_publics() -> None:
    """Transitions (next row), first- and last-row constraints with public values, no bus."""
    airs = [fibonacci.FibonacciAir(), *_airs()]
    pk = setup(compile_machine(airs, fibonacci.NUM_PUBLIC_VALUES), CLEAR_TEST)
    fib, publics = fibonacci.generate_trace(3)
    traces = [fib, *_clear_case()[1]]
    proof = prove(pk, traces, publics)
    assert clear_tables(pk.machine, proof.log_heights, CLEAR_TEST) == [0, 1]
    _verify_bytes(pk, proof, publics)
    wrong = list(publics)
    wrong[fibonacci.PUBLIC_RESULT] += 1
    with pytest.raises(ClearTraceError):
        _verify_bytes(pk, prove(pk, traces, wrong, check_constraints=False), wrong)
    bad = fib.copy()
    bad[3, 1] += 1  # breaks b' = a + b and everything after it
    traces_bad = [bad, *traces[1:]]
    with pytest.raises(ClearTraceError):
        _verify_bytes(pk, prove(pk, traces_bad, publics, check_constraints=False), publics)


def test_a_clear_trace_breaking_a_constraint_is_rejected() -> None:
    pk, traces = _clear_case()
    bad = traces[0].copy()
    bad[2, 1] = 2  # m must be boolean
    proof = prove(pk, [bad, *traces[1:]], [], check_constraints=False)
    with pytest.raises(ClearTraceError):
        _verify_bytes(pk, proof)


def test_a_clear_table_looking_up_a_non_byte_is_rejected() -> None:
    pk, traces = _clear_case()
    bad = traces[0].copy()
    bad[0] = (300, 1)  # not in the byte table; the counts stay honest for the other rows
    proof = prove(pk, [bad, *traces[1:]], [], check_constraints=False)
    with pytest.raises(LogUpSumError):
        _verify_bytes(pk, proof)


def test_changing_a_sent_clear_value_is_rejected() -> None:
    pk, traces = _clear_case()
    proof = prove(pk, traces, [])
    (sent,) = proof.clear_traces
    rows = [list(r) for r in sent.rows]
    rows[0][0] = (rows[0][0] + 1) % 256
    changed = replace(proof, clear_traces=(ClearTrace(2, tuple(map(tuple, rows))),))
    with pytest.raises(VerificationError):
        _verify_bytes(pk, changed)


def test_clear_trace_shape_and_canonical_encoding() -> None:
    pk, traces = _clear_case()
    proof = prove(pk, traces, [])
    (sent,) = proof.clear_traces
    too_long = ClearTrace(2, sent.rows + ((1, 1),) * 4)  # 17 rows for a 16-row table
    for bad in ((), (sent, sent), (too_long,), (ClearTrace(3, ()),)):
        with pytest.raises(ProofShapeError):
            verify(pk.vk, replace(proof, clear_traces=bad), [])
    padded = replace(proof, clear_traces=(ClearTrace(2, (*sent.rows, (0, 0))),))
    with pytest.raises(ProofFormatError, match="zero row"):
        Proof.from_bytes(padded.to_bytes())


def test_no_table_goes_in_the_clear_if_none_would_be_committed() -> None:
    machine = compile_machine([fibonacci.FibonacciAir()], fibonacci.NUM_PUBLIC_VALUES)
    pk = setup(machine, CLEAR_TEST)
    fib, publics = fibonacci.generate_trace(3)
    proof = prove(pk, [fib], publics)
    assert proof.clear_traces == () and proof.log_heights == (3,)
    _verify_bytes(pk, proof, publics)


def test_a_table_with_fixed_columns_in_the_clear() -> None:
    """The byte table (fixed column t) goes in the clear; its counts must still balance."""
    config = replace(FAST_TEST, name="clear-fixed", max_clear_log_height=8)
    pk = setup(compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()]), config)
    reader, counts = lookup.generate_traces(9, np.random.default_rng(3))
    proof = prove(pk, [reader, counts], [])
    assert clear_tables(pk.machine, proof.log_heights, config) == [1]
    assert proof.preprocessed_opening is not None  # the fixed tree is opened as before
    _verify_bytes(pk, proof)
    short = counts.copy()
    short[int(np.flatnonzero(counts[:, 0])[0]), 0] -= 1
    with pytest.raises(LogUpSumError):
        _verify_bytes(pk, prove(pk, [reader, short], [], check_constraints=False))
