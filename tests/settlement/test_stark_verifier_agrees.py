"""The generated Solidity verifier and the Python verifier agree, on anvil.

Honest proofs of the example machines (default parameters) are accepted by both; every
tampered-proof class of tests/stark/test_tampering.py and test_soundness.py is rebuilt here
under the default parameters and rejected by both, the contract's revert naming the same
failed check as the Python verifier's error class.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from chain_cases import ChainCase

from heliostat.settlement.errors import ProofRejectedOnChainError
from heliostat.settlement.stark_verifier import OnChainVerifier
from heliostat.settlement.verifier_gen.generator import generate_verifier
from heliostat.stark import fri_prover
from heliostat.stark import prover as prover_module
from heliostat.stark.air import compile_machine
from heliostat.stark.config import COMPACT, DEFAULT
from heliostat.stark.errors import StarkError
from heliostat.stark.examples import lookup
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.pcs import recombine
from heliostat.stark.program import PointEnv, evaluate_at_point
from heliostat.stark.proof import VERSION, Proof, TreeOpening
from heliostat.stark.prover import prove, setup
from heliostat.stark.transcript import Tag, Transcript, leading_zero_bits, pow_digest
from heliostat.stark.verifier import selectors_at_point, verify


def python_verdict(case: ChainCase, data: bytes, publics: list[int]) -> tuple[str, str] | None:
    """(check, reason) of the Python verifier's rejection of ``data``, or None if accepted."""
    try:
        verify(case.pk.vk, Proof.from_bytes(data), publics)
    except StarkError as err:
        return type(err).reason, err.reason
    return None


def chain_verdict(case: ChainCase, data: bytes, publics: list[int]) -> tuple[str, str] | None:
    """(check, reason) of the contract's rejection of ``data``, or None if accepted."""
    try:
        case.onchain.check(data, publics)
    except ProofRejectedOnChainError as err:
        return err.check, err.detail
    return None


def assert_both_reject(
    case: ChainCase, proof: Proof | bytes, publics: list[int] | None = None, *checks: str
) -> str:
    """Both verifiers reject with the same check (one of ``checks`` if given); return it."""
    data = proof if isinstance(proof, bytes) else proof.to_bytes()
    values = case.publics if publics is None else publics
    expected = python_verdict(case, data, values)
    got = chain_verdict(case, data, values)
    assert expected is not None, "the Python verifier accepted a tampered proof"
    assert got is not None, f"the contract accepted a proof Python rejects with {expected}"
    assert got[0] == expected[0], f"contract says {got}, Python says {expected}"
    if expected[0] == "proof_format":
        assert got[1] == expected[1]
    if checks:
        assert got[0] in checks
    return got[0]


# --- honest proofs -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fib_chain", "counter_chain", "lookup_chain"])
def test_honest_proofs_are_accepted_by_both(request, name: str) -> None:
    case: ChainCase = request.getfixturevalue(name)
    data = case.proof.to_bytes()
    assert python_verdict(case, data, case.publics) is None
    statement = case.onchain.check(data, case.publics)
    assert statement == case.onchain.contract.functions.statementOf(case.publics).call()


def test_one_transaction_records_the_statement(counter_chain: ChainCase) -> None:
    case = counter_chain
    assert not case.onchain.is_verified(case.publics)
    report = case.onchain.verify_in_one(case.proof.to_bytes(), case.publics)
    assert case.onchain.is_verified(case.publics)
    assert len(report.transactions) == 1
    assert 0 < report.total_gas < 1 << 24


def test_several_transactions_record_the_statement(lookup_chain: ChainCase) -> None:
    """A budget smaller than the proof forces a session over several transactions."""
    case = lookup_chain
    data = case.proof.to_bytes()
    report = case.onchain.verify_in_steps(data, case.publics, budget=len(data) // 3)
    assert len(report.transactions) >= 3
    assert case.onchain.is_verified(case.publics)
    assert all(t.gas_used < 1 << 24 for t in report.transactions)


def test_a_session_step_with_a_forged_state_is_refused(fib_chain: ChainCase) -> None:
    case = fib_chain
    fn = case.onchain.contract.functions.continueVerification(b"\x01" * 32, b"\x00" * 64, b"")
    with pytest.raises(ProofRejectedOnChainError) as err:
        case.onchain._call(fn, "continueVerification")
    assert (err.value.check, err.value.detail) == ("session", "unknown_state")


# --- tampering (tests/stark/test_tampering.py) ---------------------------------------------


def _bump(v: int) -> int:
    return (v + 1) % P


def _flip(digest: bytes, at: int = 0) -> bytes:
    return digest[:at] + bytes([digest[at] ^ 0x01]) + digest[at + 1 :]


def _with_row_value(opening: TreeOpening, matrix: int, row: int, col: int) -> TreeOpening:
    rows = [list(map(list, m)) for m in opening.rows]
    rows[matrix][row][col] = _bump(rows[matrix][row][col])
    return replace(opening, rows=tuple(tuple(map(tuple, m)) for m in rows))


@pytest.mark.parametrize(
    "field_name",
    ["main_opening", "quotient_opening", "permutation_opening", "preprocessed_opening"],
)
def test_flipped_opened_row_value(lookup_chain: ChainCase, field_name: str) -> None:
    opening = getattr(lookup_chain.proof, field_name)
    bad = replace(lookup_chain.proof, **{field_name: _with_row_value(opening, 0, 0, 0)})
    assert_both_reject(lookup_chain, bad, None, "merkle_path_invalid")


@pytest.mark.parametrize("table", [0, 1])
def test_flipped_out_of_domain_value(lookup_chain: ChainCase, table: int) -> None:
    """Each opened vector (main, fixed, permutation at ζ and ζω, quotient) of each table."""
    proof = lookup_chain.proof
    vectors = list(proof.openings[table].vectors())
    flipped = 0
    for v, vector in enumerate(vectors):
        if not vector:  # e.g. nothing read on the next row: the proof opens nothing there
            continue
        bad_vectors = list(vectors)
        bad_vectors[v] = (vector[0] + 1, *vector[1:])
        openings = list(proof.openings)
        openings[table] = type(openings[table])(*bad_vectors)
        assert_both_reject(lookup_chain, replace(proof, openings=tuple(openings)))
        flipped += 1
    assert flipped >= 3


def test_consistent_lie_about_a_next_row_value(lookup_chain: ChainCase, monkeypatch) -> None:
    honest = prover_module.compute_openings

    def lie(run, zeta):
        openings = honest(run, zeta)
        t, v = next((t, v) for t in range(2) for v in (1, 3, 5) if openings[t].vectors()[v])
        vectors = list(openings[t].vectors())  # a value opened at ζω
        vectors[v] = (vectors[v][0] + 1, *vectors[v][1:])
        openings[t] = type(openings[t])(*vectors)
        return openings

    monkeypatch.setattr(prover_module, "compute_openings", lie)
    proof = prove(lookup_chain.pk, lookup_chain.traces, [], check_constraints=False)
    assert_both_reject(lookup_chain, proof)


@pytest.mark.parametrize(
    "field_name",
    ["main_opening", "quotient_opening", "permutation_opening", "preprocessed_opening"],
)
def test_wrong_merkle_sibling(lookup_chain: ChainCase, field_name: str) -> None:
    opening = getattr(lookup_chain.proof, field_name)
    siblings = (_flip(opening.siblings[0], 5), *opening.siblings[1:])
    bad = replace(lookup_chain.proof, **{field_name: replace(opening, siblings=siblings)})
    assert_both_reject(lookup_chain, bad, None, "merkle_path_invalid")


def test_missing_and_extra_merkle_sibling(fib_chain: ChainCase) -> None:
    opening = fib_chain.proof.main_opening
    for siblings in (opening.siblings[:-1], (*opening.siblings, bytes(32))):
        bad = replace(fib_chain.proof, main_opening=replace(opening, siblings=siblings))
        assert_both_reject(fib_chain, bad, None, "merkle_path_invalid")


def test_wrong_fri_layer_leaf_value(fib_chain: ChainCase) -> None:
    layers = list(fib_chain.proof.fri_openings)
    leaves = [list(leaf) for leaf in layers[0].leaves]
    leaves[0][0] = leaves[0][0] + 1
    layers[0] = replace(layers[0], leaves=tuple(map(tuple, leaves)))
    bad = replace(fib_chain.proof, fri_openings=tuple(layers))
    assert_both_reject(fib_chain, bad, None, "merkle_path_invalid")


def test_wrong_fri_layer_root(fib_chain: ChainCase) -> None:
    roots = fib_chain.proof.fri_roots
    assert len(roots) >= 2
    bad = replace(fib_chain.proof, fri_roots=(roots[0], _flip(roots[1]), *roots[2:]))
    assert_both_reject(fib_chain, bad)


def test_consistently_committed_wrong_fri_layer(fib_chain: ChainCase, monkeypatch) -> None:
    honest = fri_prover.fold_binary
    calls: list[int] = []

    def corrupt(values, beta, log_size, shift):
        out = honest(values, beta, log_size, shift)
        calls.append(log_size)
        if len(calls) == 1:  # the first fold feeds layer 1
            out = out.copy()
            out[:, 1] = (out[:, 1].astype(np.int64) + 1) % P
        return out

    monkeypatch.setattr(fri_prover, "fold_binary", corrupt)
    proof = prove(fib_chain.pk, fib_chain.traces, fib_chain.publics, check_constraints=False)
    assert_both_reject(fib_chain, proof, None, "fri_fold_mismatch")


def test_wrong_final_polynomial(fib_chain: ChainCase, monkeypatch) -> None:
    honest = fri_prover.commit_phase

    def tweak(*args, **kwargs):
        fri = honest(*args, **kwargs)
        fri.final_poly[0] = fri.final_poly[0] + 1
        return fri

    monkeypatch.setattr("heliostat.stark.prover.commit_phase", tweak)
    proof = prove(fib_chain.pk, fib_chain.traces, fib_chain.publics, check_constraints=False)
    assert_both_reject(fib_chain, proof, None, "fri_final_poly_mismatch")


def test_bad_proof_of_work_nonce(fib_chain: ChainCase) -> None:
    recorded = Transcript(record=True)
    proof = prove(fib_chain.pk, fib_chain.traces, fib_chain.publics, transcript=recorded)
    at = [e.tag for e in recorded.events].index(Tag.POW_NONCE)
    state = recorded.events[at - 1].state
    bits = fib_chain.pk.config.pow_bits
    nonce = next(k for k in range(1, 1000) if leading_zero_bits(pow_digest(state, k)) < bits)
    bad = replace(proof, pow_nonce=nonce)
    assert_both_reject(fib_chain, bad, None, "proof_of_work_invalid")


@pytest.mark.parametrize("heights", [(6, 8), (4, 8), (5, 9), (5,), (5, 8, 8)])
def test_wrong_table_heights(lookup_chain: ChainCase, heights: tuple[int, ...]) -> None:
    assert_both_reject(lookup_chain, replace(lookup_chain.proof, log_heights=heights))


def test_wrong_logup_sum(lookup_chain: ChainCase) -> None:
    sums = (lookup_chain.proof.logup_sums[0] + Ext4(0, 1), lookup_chain.proof.logup_sums[1])
    assert_both_reject(lookup_chain, replace(lookup_chain.proof, logup_sums=sums))


def test_missing_permutation_commitment(lookup_chain: ChainCase) -> None:
    bad = replace(lookup_chain.proof, permutation_root=None)
    assert_both_reject(lookup_chain, bad, None, "proof_shape_mismatch")


def test_truncated_proof(lookup_chain: ChainCase) -> None:
    data = lookup_chain.proof.to_bytes()
    for cut in sorted({*range(0, 64, 7), *range(64, len(data), 997), len(data) - 1}):
        assert_both_reject(lookup_chain, data[:cut], None, "proof_format")


def test_trailing_bytes_and_bad_header(fib_chain: ChainCase) -> None:
    data = fib_chain.proof.to_bytes()
    other_version = (VERSION + 1).to_bytes(2, "big")
    for bad in (data + b"\x00", b"HSTX" + data[4:], data[:4] + other_version + data[6:], b""):
        assert_both_reject(fib_chain, bad, None, "proof_format")


def test_non_canonical_field_element(fib_chain: ChainCase) -> None:
    data = bytearray(fib_chain.proof.to_bytes())
    # magic, version, table count, height, main root, clear count, perm flag, sum count,
    # quotient root, vector count: then the first opened value
    offset = 4 + 2 + 1 + 1 + 32 + 1 + 1 + 4 + 32 + 4
    first = fib_chain.proof.openings[0].main_local[0].coeffs[0]
    assert int.from_bytes(data[offset : offset + 4], "big") == first
    data[offset : offset + 4] = P.to_bytes(4, "big")
    assert_both_reject(fib_chain, bytes(data), None, "proof_format")


def test_random_single_bit_flips(lookup_chain: ChainCase) -> None:
    data = lookup_chain.proof.to_bytes()
    rng = np.random.default_rng(2024)
    for pos in rng.choice(len(data), size=40, replace=False):
        mutated = bytearray(data)
        mutated[pos] ^= 1 << int(rng.integers(8))
        assert_both_reject(lookup_chain, bytes(mutated))


# --- bad statements and traces (tests/stark/test_soundness.py) ----------------------------


def _unchecked(case: ChainCase, traces: list, publics: list[int]) -> Proof:
    return prove(case.pk, traces, publics, check_constraints=False)


def test_wrong_public_value(fib_chain: ChainCase) -> None:
    wrong = list(fib_chain.publics)
    wrong[2] = (wrong[2] + 1) % P
    assert_both_reject(fib_chain, fib_chain.proof, wrong, "constraint_mismatch")
    proof = _unchecked(fib_chain, fib_chain.traces, wrong)  # the prover claims it, checks off
    assert_both_reject(fib_chain, proof, wrong, "constraint_mismatch")


def test_wrong_number_of_public_values(fib_chain: ChainCase) -> None:
    assert_both_reject(fib_chain, fib_chain.proof, fib_chain.publics[:2])


def test_wrong_trace_cell(fib_chain: ChainCase) -> None:
    bad = fib_chain.traces[0].copy()
    bad[9, 0] = (int(bad[9, 0]) + 1) % P
    proof = _unchecked(fib_chain, [bad], fib_chain.publics)
    assert_both_reject(fib_chain, proof, None, "constraint_mismatch")


def test_constraint_broken_only_on_the_last_row(counter_chain: ChainCase) -> None:
    bad = counter_chain.traces[0].copy()
    assert int(bad[-1, 0]) == 22  # bits …10110: set b0 = 2, b1 = 0 keeps c = Σ b_i·2^i
    bad[-1, 1], bad[-1, 2] = 2, 0
    proof = _unchecked(counter_chain, [bad], counter_chain.publics)
    assert_both_reject(counter_chain, proof, None, "constraint_mismatch")


def test_last_transition_broken(fib_chain: ChainCase) -> None:
    bad = fib_chain.traces[0].copy()
    bad[-1, 1] = (int(bad[-1, 1]) + 5) % P
    publics = [*fib_chain.publics[:2], int(bad[-1, 1])]
    proof = _unchecked(fib_chain, [bad], publics)
    assert_both_reject(fib_chain, proof, publics, "constraint_mismatch")


def test_lookup_with_one_unmatched_entry(lookup_chain: ChainCase) -> None:
    reader, counts = (t.copy() for t in lookup_chain.traces)
    reader[int(np.flatnonzero(reader[:, 1])[0]), 0] = 300  # not a byte
    proof = _unchecked(lookup_chain, [reader, counts], [])
    assert_both_reject(lookup_chain, proof, [], "logup_sum_nonzero")


def test_lookup_with_one_miscounted_multiplicity(lookup_chain: ChainCase) -> None:
    reader, counts = (t.copy() for t in lookup_chain.traces)
    counts[int(np.flatnonzero(counts[:, 0])[0]), 0] += 1
    proof = _unchecked(lookup_chain, [reader, counts], [])
    assert_both_reject(lookup_chain, proof, [], "logup_sum_nonzero")


def test_lying_about_the_quotient_at_zeta(fib_chain: ChainCase, monkeypatch) -> None:
    """A bad trace and a quotient value at ζ fixed so the OOD check passes: FRI rejects."""
    table = fib_chain.pk.machine.tables[0]
    honest = prover_module.compute_openings
    seen_alpha: list[Ext4] = []
    original_quotient_round = prover_module._quotient_round

    def record_alpha(run) -> None:
        state = run.tr.state
        original_quotient_round(run)
        seen_alpha.append(Transcript(state=state).sample_ext())

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
    bad = fib_chain.traces[0].copy()
    bad[9, 0] = (int(bad[9, 0]) + 1) % P
    proof = _unchecked(fib_chain, [bad], fib_chain.publics)
    assert_both_reject(fib_chain, proof, None, "fri_fold_mismatch", "fri_final_poly_mismatch")


def _other_verifier(w3, case: ChainCase, pk, name: str) -> ChainCase:
    """The same proof in front of a verifier generated for another key."""
    onchain = OnChainVerifier.deploy(w3, generate_verifier(pk.vk, name))
    return replace(case, pk=pk, onchain=onchain)


@pytest.mark.slow  # compiles and deploys one more verifier
def test_fixed_columns_cannot_be_swapped(w3, lookup_chain: ChainCase) -> None:
    """A verifier generated for other fixed data rejects a proof made with the real one."""

    class OddBytes(lookup.ByteTableAir):
        def preprocessed_trace(self):
            return (np.arange(256, dtype=np.uint32) * 3 % 256).reshape(-1, 1)

    other = setup(compile_machine([lookup.ReaderAir(), OddBytes()]), DEFAULT)
    assert other.vk.machine.digest == lookup_chain.pk.vk.machine.digest
    assert_both_reject(_other_verifier(w3, lookup_chain, other, "OddBytes"), lookup_chain.proof)


@pytest.mark.slow  # compiles and deploys one more verifier
def test_proof_for_another_parameter_set(w3, counter_chain: ChainCase) -> None:
    other = setup(counter_chain.pk.machine, COMPACT)
    case = _other_verifier(w3, counter_chain, other, "CompactCounter")
    assert_both_reject(case, counter_chain.proof)


def test_a_table_left_out_of_the_proof(lookup_chain: ChainCase) -> None:
    """No lookups: the reader's trace is all zero, the prover leaves it out (log height 0),
    and both verifiers accept; claiming a required table absent is refused by both."""
    reader, counts = (np.zeros_like(t) for t in lookup_chain.traces)
    proof = prove(lookup_chain.pk, [reader, counts], [])
    assert proof.log_heights[0] == 0
    data = proof.to_bytes()
    assert python_verdict(lookup_chain, data, []) is None
    lookup_chain.onchain.check(data, [])
    assert not lookup_chain.pk.machine.tables[1].may_be_absent
    assert_both_reject(lookup_chain, replace(proof, log_heights=(5, 0)))
