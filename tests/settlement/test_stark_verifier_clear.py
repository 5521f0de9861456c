"""Tables sent in the clear, on chain: the Solidity verifier checks every row and the bus sums
as heliostat.stark.clear does, and rejects what the Python verifier rejects, with the same
check (constructions of tests/stark/test_absent_and_clear.py, default parameters)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from chain_cases import ChainCase
from test_stark_verifier_agrees import assert_both_reject, python_verdict

from heliostat.settlement.stark_verifier import OnChainVerifier
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark.air import compile_machine
from heliostat.stark.clear import clear_tables
from heliostat.stark.config import DEFAULT
from heliostat.stark.examples import fibonacci, lookup
from heliostat.stark.proof import ClearTrace
from heliostat.stark.prover import prove, setup


def test_an_honest_proof_with_a_clear_table(clear_chain: ChainCase) -> None:
    case = clear_chain
    proof = case.proof
    assert clear_tables(case.pk.machine, proof.log_heights, DEFAULT) == [0]
    assert len(proof.clear_traces) == 1
    assert python_verdict(case, proof.to_bytes(), []) is None
    report = case.onchain.verify_in_one(proof.to_bytes(), [])
    assert case.onchain.is_verified([]) and report.total_gas < 1 << 24


def test_a_clear_trace_breaking_a_constraint(clear_chain: ChainCase) -> None:
    reader, counts = (t.copy() for t in clear_chain.traces)
    reader[2, 1] = 2  # m must be boolean
    proof = prove(clear_chain.pk, [reader, counts], [], check_constraints=False)
    assert_both_reject(clear_chain, proof, [], "clear_trace_constraint")


def test_a_clear_table_looking_up_a_non_byte(clear_chain: ChainCase) -> None:
    reader, counts = (t.copy() for t in clear_chain.traces)
    reader[0] = (300, 1)  # not in the byte table
    proof = prove(clear_chain.pk, [reader, counts], [], check_constraints=False)
    assert_both_reject(clear_chain, proof, [], "logup_sum_nonzero")


def test_changing_a_sent_clear_value(clear_chain: ChainCase) -> None:
    (sent,) = clear_chain.proof.clear_traces
    rows = [list(r) for r in sent.rows]
    rows[0][0] = (rows[0][0] + 1) % 256
    changed = ClearTrace(2, tuple(map(tuple, rows)))
    assert_both_reject(clear_chain, replace(clear_chain.proof, clear_traces=(changed,)), [])


def test_clear_trace_shape_and_canonical_encoding(clear_chain: ChainCase) -> None:
    proof = clear_chain.proof
    (sent,) = proof.clear_traces
    too_long = ClearTrace(2, sent.rows + ((1, 1),) * (33 - len(sent.rows)))  # 33 of 32 rows
    for bad in ((), (sent, sent), (too_long,), (ClearTrace(3, ()),)):
        assert_both_reject(clear_chain, replace(proof, clear_traces=bad), [])
    padded = replace(proof, clear_traces=(ClearTrace(2, (*sent.rows, (0, 0))),))
    assert_both_reject(clear_chain, padded, [], "proof_format")


@pytest.mark.slow  # compiles and deploys one more verifier
def test_fibonacci_in_the_clear_checks_every_row_and_the_publics(w3, lookup_chain) -> None:
    """Transitions (next row), first- and last-row constraints with public values."""
    airs = [fibonacci.FibonacciAir(), lookup.ReaderAir(), lookup.ByteTableAir()]
    pk = setup(compile_machine(airs, fibonacci.NUM_PUBLIC_VALUES), DEFAULT)
    fib, publics = fibonacci.generate_trace(3)
    traces = [fib, *lookup_chain.traces]
    proof = prove(pk, traces, publics)
    assert clear_tables(pk.machine, proof.log_heights, DEFAULT) == [0]
    onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, "FibClear"))
    case = ChainCase(pk, traces, publics, proof, onchain)
    assert python_verdict(case, proof.to_bytes(), publics) is None
    onchain.check(proof.to_bytes(), publics)
    wrong = list(publics)
    wrong[fibonacci.PUBLIC_RESULT] += 1
    unchecked = prove(pk, traces, wrong, check_constraints=False)
    assert_both_reject(case, unchecked, wrong, "clear_trace_constraint")
    bad = fib.copy()
    bad[3, 1] += 1  # breaks b' = a + b and everything after it
    broken = prove(pk, [bad, *traces[1:]], publics, check_constraints=False)
    assert_both_reject(case, broken, publics, "clear_trace_constraint")
    assert np.array_equal(traces[0], fib)


class NibbleTableAir(lookup.ByteTableAir):
    """The byte table cut to 16 rows: a table with a fixed column small enough for the clear."""

    name = "nibbles"

    def preprocessed_trace(self):
        return np.arange(16, dtype=np.uint32).reshape(-1, 1)


@pytest.mark.slow  # compiles and deploys one more verifier
def test_a_clear_table_with_fixed_columns(w3) -> None:
    """The fixed table goes in the clear: its fixed columns come from the key for the row
    check and stay in the fixed-column tree, opened but outside DEEP."""
    rng = np.random.default_rng(4)
    values = rng.integers(0, 16, size=1 << 7, dtype=np.uint32)
    reader = np.ascontiguousarray(np.stack([values, np.ones_like(values)], axis=1))
    counts = np.bincount(values, minlength=16).astype(np.uint32).reshape(-1, 1)
    pk = setup(compile_machine([lookup.ReaderAir(), NibbleTableAir()]), DEFAULT)
    proof = prove(pk, [reader, counts], [])
    assert clear_tables(pk.machine, proof.log_heights, DEFAULT) == [1]
    onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, "Nibbles"))
    case = ChainCase(pk, [reader, counts], [], proof, onchain)
    assert python_verdict(case, proof.to_bytes(), []) is None
    onchain.check(proof.to_bytes(), [])
    bad = counts.copy()
    bad[3, 0] += 1  # a miscounted multiplicity in the clear table
    unchecked = prove(pk, [reader, bad], [], check_constraints=False)
    assert_both_reject(case, unchecked, [], "logup_sum_nonzero")
