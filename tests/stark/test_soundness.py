"""The verifier rejects bad statements and bad traces, proven with every prover check off.

Each bad trace is really built, the prover is told not to check anything
(``check_constraints=False``) and still produces a proof, and that proof must be rejected.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from heliostat.stark import prover as prover_module
from heliostat.stark.air import compile_machine
from heliostat.stark.config import FAST_TEST
from heliostat.stark.debug import check_table
from heliostat.stark.errors import (
    ConstraintMismatchError,
    ConstraintViolationError,
    FriFinalPolyError,
    FriFoldError,
    LogUpSumError,
    VerificationError,
)
from heliostat.stark.examples import lookup
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.pcs import recombine
from heliostat.stark.program import PointEnv, evaluate_at_point
from heliostat.stark.prover import prove, setup
from heliostat.stark.transcript import Transcript
from heliostat.stark.verifier import selectors_at_point, verify


def _unchecked(case, traces, publics):
    return prove(case.pk, traces, publics, check_constraints=False)


def test_wrong_public_value_is_rejected(fib_case) -> None:
    wrong = list(fib_case.publics)
    wrong[2] = (wrong[2] + 1) % P
    with pytest.raises(ConstraintMismatchError):
        verify(fib_case.pk.vk, fib_case.proof, wrong)


def test_proof_for_a_wrong_public_value_is_rejected(fib_case) -> None:
    """The prover claims a wrong result for an honest trace (checks off)."""
    wrong = list(fib_case.publics)
    wrong[2] = (wrong[2] + 1) % P
    proof = _unchecked(fib_case, fib_case.traces, wrong)
    with pytest.raises(ConstraintMismatchError):
        verify(fib_case.pk.vk, proof, wrong)


def test_wrong_trace_cell_is_rejected(fib_case) -> None:
    bad = fib_case.traces[0].copy()
    bad[9, 0] = (int(bad[9, 0]) + 1) % P
    proof = _unchecked(fib_case, [bad], fib_case.publics)
    with pytest.raises(ConstraintMismatchError):
        verify(fib_case.pk.vk, proof, fib_case.publics)


def test_constraint_broken_only_on_the_last_row_is_rejected(counter_case) -> None:
    """The last row keeps c = Σ b_i·2^i but uses a bit equal to 2: only that row fails."""
    bad = counter_case.traces[0].copy()
    c = int(bad[-1, 0])
    assert c & 1 == 0 and c & 2  # c = 22: bits …10110; set b0 = 2, b1 = 0
    bad[-1, 1], bad[-1, 2] = 2, 0
    found = check_table(counter_case.pk.machine.tables[0], bad, counter_case.publics)
    assert [(f.check, f.first_row, f.rows) for f in found] == [("bit 0 is boolean", 15, 1)]
    proof = _unchecked(counter_case, [bad], counter_case.publics)
    with pytest.raises(ConstraintMismatchError):
        verify(counter_case.pk.vk, proof, counter_case.publics)


def test_last_transition_broken_is_rejected(fib_case) -> None:
    """Only the step from row n−2 to row n−1 is wrong (the result public matches the trace)."""
    bad = fib_case.traces[0].copy()
    bad[-1, 1] = (int(bad[-1, 1]) + 5) % P
    publics = [*fib_case.publics[:2], int(bad[-1, 1])]
    proof = _unchecked(fib_case, [bad], publics)
    with pytest.raises(ConstraintMismatchError):
        verify(fib_case.pk.vk, proof, publics)


def test_lookup_with_one_unmatched_entry_is_rejected(lookup_case) -> None:
    reader, counts = (t.copy() for t in lookup_case.traces)
    active = int(np.flatnonzero(reader[:, 1])[0])
    reader[active, 0] = 300  # not a byte; the byte table's counts stay as they were
    proof = _unchecked(lookup_case, [reader, counts], [])
    with pytest.raises(LogUpSumError):
        verify(lookup_case.pk.vk, proof, [])


def test_lookup_with_one_miscounted_multiplicity_is_rejected(lookup_case) -> None:
    reader, counts = (t.copy() for t in lookup_case.traces)
    counts[int(np.flatnonzero(counts[:, 0])[0]), 0] += 1
    proof = _unchecked(lookup_case, [reader, counts], [])
    with pytest.raises(LogUpSumError):
        verify(lookup_case.pk.vk, proof, [])


def test_checking_prover_refuses_and_names_the_failure(fib_case, lookup_case) -> None:
    bad = fib_case.traces[0].copy()
    bad[9, 0] = (int(bad[9, 0]) + 1) % P
    with pytest.raises(ConstraintViolationError, match=r"a' = b.*row 8"):
        prove(fib_case.pk, [bad], fib_case.publics)
    reader, counts = (t.copy() for t in lookup_case.traces)
    active = int(np.flatnonzero(reader[:, 1])[0])
    reader[active, 0] = 300
    with pytest.raises(ConstraintViolationError, match=r"bus 7: message \(300,\)"):
        prove(lookup_case.pk, [reader, counts], [])


def test_lying_about_the_quotient_at_zeta_is_caught_by_fri(fib_case, monkeypatch) -> None:
    """A bad trace, and a prover that fixes the quotient's value at ζ so the out-of-domain
    check passes: the DEEP quotient of that column is then far from low degree, and FRI
    must reject."""
    table = fib_case.pk.machine.tables[0]
    honest = prover_module.compute_openings
    seen_alpha: list[Ext4] = []
    original_quotient_round = prover_module._quotient_round

    def record_alpha(run) -> None:
        state = run.tr.state
        original_quotient_round(run)
        replay = Transcript(state=state)
        seen_alpha.append(replay.sample_ext())

    def lie(run, zeta):
        openings = honest(run, zeta)
        o = openings[0]
        z_h, selectors = selectors_at_point(zeta, run.log_heights[0])
        env = PointEnv(
            o.main_local, o.main_next, (), (), (), (), run.publics, (), Ext4.zero(), selectors
        )
        folded, power = Ext4.zero(), Ext4.one()
        for value in evaluate_at_point(table.program, env):
            folded, power = folded + power * value, power * seen_alpha[0]
        (claimed,) = recombine(o.quotient)
        fixed = list(o.quotient)
        fixed[0] = fixed[0] + (folded / z_h - claimed)
        openings[0] = type(o)(*o.vectors()[:6], tuple(fixed))
        return openings

    monkeypatch.setattr(prover_module, "_quotient_round", record_alpha)
    monkeypatch.setattr(prover_module, "compute_openings", lie)
    bad = fib_case.traces[0].copy()
    bad[9, 0] = (int(bad[9, 0]) + 1) % P
    proof = _unchecked(fib_case, [bad], fib_case.publics)
    with pytest.raises((FriFoldError, FriFinalPolyError)):
        verify(fib_case.pk.vk, proof, fib_case.publics)


def test_unchecked_prover_on_a_valid_trace_still_verifies(counter_case) -> None:
    """Switching checks off changes nothing for a valid trace (the tests above are fair)."""
    proof = _unchecked(counter_case, counter_case.traces, counter_case.publics)
    assert proof.to_bytes() == counter_case.proof.to_bytes()
    verify(counter_case.pk.vk, proof, counter_case.publics)


def test_fixed_columns_cannot_be_swapped() -> None:
    """A verifier holding a different fixed table rejects a proof made with the real one."""

    class OddBytes(lookup.ByteTableAir):
        def preprocessed_trace(self):
            return (np.arange(256, dtype=np.uint32) * 3 % 256).reshape(-1, 1)

    reader, counts = lookup.generate_traces(4, np.random.default_rng(1))
    pk = setup(compile_machine([lookup.ReaderAir(), lookup.ByteTableAir()]), FAST_TEST)
    other = setup(compile_machine([lookup.ReaderAir(), OddBytes()]), FAST_TEST)
    assert pk.vk.machine.digest == other.vk.machine.digest  # same program, other fixed data
    proof = prove(pk, [reader, counts], [])
    with pytest.raises(VerificationError):
        verify(other.vk, proof, [])


def test_proof_for_another_parameter_set_is_rejected(counter_case) -> None:
    vk = replace(counter_case.pk.vk, config=replace(FAST_TEST, num_queries=13))
    with pytest.raises(VerificationError):
        verify(vk, counter_case.proof, counter_case.publics)
