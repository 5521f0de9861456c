"""Every mutation class of an honest proof is rejected, through the byte encoding.

Each test changes one thing in a valid proof, re-encodes it, decodes the bytes as a verifier
would and checks which error the verifier raises.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark import fri_prover
from heliostat.stark import prover as prover_module
from heliostat.stark.air import compile_machine
from heliostat.stark.config import FAST_TEST
from heliostat.stark.errors import (
    ConstraintMismatchError,
    FriFinalPolyError,
    FriFoldError,
    MerklePathError,
    ProofFormatError,
    ProofOfWorkError,
    ProofShapeError,
    VerificationError,
)
from heliostat.stark.examples import fibonacci
from heliostat.stark.extension import Ext4
from heliostat.stark.field import P
from heliostat.stark.proof import Proof, TreeOpening
from heliostat.stark.prover import prove, setup
from heliostat.stark.transcript import Tag, Transcript, leading_zero_bits, pow_digest
from heliostat.stark.verifier import is_valid, verify


def _verify_bytes(case, proof: Proof) -> None:
    verify(case.pk.vk, Proof.from_bytes(proof.to_bytes()), case.publics)


def _bump(v: int) -> int:
    return (v + 1) % P


def _flip(digest: bytes, at: int = 0) -> bytes:
    return digest[:at] + bytes([digest[at] ^ 0x01]) + digest[at + 1 :]


def _with_row_value(opening: TreeOpening, matrix: int, row: int, col: int) -> TreeOpening:
    rows = [list(map(list, m)) for m in opening.rows]
    rows[matrix][row][col] = _bump(rows[matrix][row][col])
    return replace(opening, rows=tuple(tuple(map(tuple, m)) for m in rows))


@pytest.mark.parametrize("field_name", ["main_opening", "quotient_opening", "permutation_opening"])
def test_flipped_opened_row_value(lookup_case, field_name: str) -> None:
    opening = getattr(lookup_case.proof, field_name)
    bad = replace(lookup_case.proof, **{field_name: _with_row_value(opening, 0, 0, 0)})
    with pytest.raises(MerklePathError):
        _verify_bytes(lookup_case, bad)


def test_flipped_fixed_column_row_value(lookup_case) -> None:
    opening = lookup_case.proof.preprocessed_opening
    bad = replace(lookup_case.proof, preprocessed_opening=_with_row_value(opening, 0, 0, 0))
    with pytest.raises(MerklePathError):
        _verify_bytes(lookup_case, bad)


@pytest.mark.parametrize("vector", [0, 4, 5, 6])  # main ζ, perm ζ, perm ζω, quotient
def test_flipped_out_of_domain_value(lookup_case, vector: int) -> None:
    opened = lookup_case.proof.openings[0]
    vectors = list(opened.vectors())
    vectors[vector] = (vectors[vector][0] + 1, *vectors[vector][1:])
    bad = replace(
        lookup_case.proof, openings=(type(opened)(*vectors), lookup_case.proof.openings[1])
    )
    with pytest.raises(ConstraintMismatchError):
        _verify_bytes(lookup_case, bad)


def test_value_at_the_next_point_for_a_column_no_constraint_reads_is_refused(lookup_case) -> None:
    """The reader's constraints never read its main columns on the next row: a proof opens
    none of them at ζω, and one that adds such a value does not fit the AIR."""
    opened = lookup_case.proof.openings[0]
    assert opened.main_next == ()
    vectors = list(opened.vectors())
    vectors[1] = (opened.main_local[0],)
    bad = replace(
        lookup_case.proof, openings=(type(opened)(*vectors), lookup_case.proof.openings[1])
    )
    with pytest.raises(ProofShapeError):
        _verify_bytes(lookup_case, bad)


class _SpareColumnFibonacci(fibonacci.FibonacciAir):
    """Fibonacci with a third column that no constraint reads."""

    width = 3

    def eval(self, ab) -> None:  # type: ignore[no-untyped-def]
        a, b, _ = ab.main.local
        a_next, b_next, _ = ab.main.next
        ab.when_first_row().assert_eq(a, ab.public(fibonacci.PUBLIC_A0))
        ab.when_first_row().assert_eq(b, ab.public(fibonacci.PUBLIC_B0))
        ab.when_transition().assert_eq(a_next, b)
        ab.when_transition().assert_eq(b_next, a + b)
        ab.when_last_row().assert_eq(b, ab.public(fibonacci.PUBLIC_RESULT))


def test_consistent_lie_about_an_unconstrained_value_is_caught_by_fri(monkeypatch) -> None:
    """A lie about a column no constraint reads, made by the prover before the transcript
    absorbs it (so the proof of work and the queries are consistent): only FRI can see it,
    because the DEEP quotient is no longer low degree."""
    trace, publics = fibonacci.generate_trace(5)
    spare = np.random.default_rng(4).integers(0, P, (trace.shape[0], 1), dtype=np.uint32)
    traces = [np.concatenate([trace, spare], axis=1)]
    pk = setup(compile_machine([_SpareColumnFibonacci()], fibonacci.NUM_PUBLIC_VALUES), FAST_TEST)
    verify(pk.vk, prove(pk, traces, publics), publics)  # honest: accepted
    honest = prover_module.compute_openings

    def lie(run, zeta):
        openings = honest(run, zeta)
        vectors = list(openings[0].vectors())
        vectors[0] = (*vectors[0][:2], vectors[0][2] + 1)
        openings[0] = type(openings[0])(*vectors)
        return openings

    monkeypatch.setattr(prover_module, "compute_openings", lie)
    proof = prove(pk, traces, publics, check_constraints=False)
    with pytest.raises((FriFoldError, FriFinalPolyError)):
        verify(pk.vk, Proof.from_bytes(proof.to_bytes()), publics)


@pytest.mark.parametrize(
    "field_name",
    ["main_opening", "quotient_opening", "permutation_opening", "preprocessed_opening"],
)
def test_wrong_merkle_sibling(lookup_case, field_name: str) -> None:
    opening = getattr(lookup_case.proof, field_name)
    siblings = (_flip(opening.siblings[0], 5), *opening.siblings[1:])
    bad = replace(lookup_case.proof, **{field_name: replace(opening, siblings=siblings)})
    with pytest.raises(MerklePathError):
        _verify_bytes(lookup_case, bad)


def test_missing_and_extra_merkle_sibling(fib_case) -> None:
    opening = fib_case.proof.main_opening
    for siblings in (opening.siblings[:-1], (*opening.siblings, bytes(32))):
        bad = replace(fib_case.proof, main_opening=replace(opening, siblings=siblings))
        with pytest.raises(MerklePathError):
            _verify_bytes(fib_case, bad)


def test_wrong_fri_layer_leaf_value(fib_case) -> None:
    layers = list(fib_case.proof.fri_openings)
    leaves = [list(leaf) for leaf in layers[0].leaves]
    leaves[0][0] = leaves[0][0] + 1
    layers[0] = replace(layers[0], leaves=tuple(map(tuple, leaves)))
    with pytest.raises(MerklePathError):
        _verify_bytes(fib_case, replace(fib_case.proof, fri_openings=tuple(layers)))


def test_wrong_fri_layer_root(fib_case) -> None:
    roots = (fib_case.proof.fri_roots[0], _flip(fib_case.proof.fri_roots[1]))
    roots += fib_case.proof.fri_roots[2:]
    with pytest.raises(VerificationError):
        _verify_bytes(fib_case, replace(fib_case.proof, fri_roots=roots))


def test_consistently_committed_wrong_fri_layer(fib_case, monkeypatch) -> None:
    """The prover commits a layer that is not the fold of the previous one (Merkle-valid)."""
    honest = fri_prover.fold_binary
    calls = []

    def corrupt(values, beta, log_size, shift):
        out = honest(values, beta, log_size, shift)
        calls.append(log_size)
        if len(calls) == 1:  # the first fold feeds layer 1
            out = out.copy()
            out[:, 1] = (out[:, 1].astype(np.int64) + 1) % P
        return out

    monkeypatch.setattr(fri_prover, "fold_binary", corrupt)
    proof = prove(fib_case.pk, fib_case.traces, fib_case.publics, check_constraints=False)
    assert len(proof.fri_roots) >= 2
    with pytest.raises(FriFoldError, match="FRI layer 1"):
        _verify_bytes(fib_case, proof)


def test_wrong_final_polynomial(fib_case, monkeypatch) -> None:
    """The prover sends (and grinds on) a final polynomial that is not the last fold."""
    honest = fri_prover.commit_phase

    def tweak(*args, **kwargs):
        fri = honest(*args, **kwargs)
        fri.final_poly[0] = fri.final_poly[0] + 1
        return fri

    monkeypatch.setattr("heliostat.stark.prover.commit_phase", tweak)
    proof = prove(fib_case.pk, fib_case.traces, fib_case.publics, check_constraints=False)
    with pytest.raises(FriFinalPolyError):
        _verify_bytes(fib_case, proof)


def test_bad_proof_of_work_nonce(fib_case) -> None:
    recorded = Transcript(record=True)
    proof = prove(fib_case.pk, fib_case.traces, fib_case.publics, transcript=recorded)
    at = [e.tag for e in recorded.events].index(Tag.POW_NONCE)
    state = recorded.events[at - 1].state
    bits = fib_case.pk.config.pow_bits
    assert leading_zero_bits(pow_digest(state, proof.pow_nonce)) >= bits
    nonce = next(k for k in range(1, 1000) if leading_zero_bits(pow_digest(state, k)) < bits)
    with pytest.raises(ProofOfWorkError):
        _verify_bytes(fib_case, replace(proof, pow_nonce=nonce))


def test_wrong_table_heights(lookup_case) -> None:
    for heights in ((6, 8), (4, 8), (5, 9)):
        with pytest.raises(VerificationError):
            _verify_bytes(lookup_case, replace(lookup_case.proof, log_heights=heights))
    for heights in ((5,), (5, 8, 8)):  # the table count drives the layout: bytes misparse
        with pytest.raises((VerificationError, ProofFormatError)):
            _verify_bytes(lookup_case, replace(lookup_case.proof, log_heights=heights))


def test_wrong_logup_sum(lookup_case) -> None:
    sums = (lookup_case.proof.logup_sums[0] + Ext4(0, 1), lookup_case.proof.logup_sums[1])
    with pytest.raises(VerificationError):
        _verify_bytes(lookup_case, replace(lookup_case.proof, logup_sums=sums))


def test_missing_permutation_commitment(lookup_case) -> None:
    with pytest.raises(ProofShapeError):
        _verify_bytes(lookup_case, replace(lookup_case.proof, permutation_root=None))


def test_truncated_proof(lookup_case) -> None:
    data = lookup_case.proof.to_bytes()
    cuts = sorted({*range(0, 64), *range(64, len(data), 97), len(data) - 1})
    for cut in cuts:
        with pytest.raises(ProofFormatError):
            Proof.from_bytes(data[:cut])


def test_trailing_bytes_and_bad_header(fib_case) -> None:
    data = fib_case.proof.to_bytes()
    for bad in (data + b"\x00", b"HSTX" + data[4:], data[:4] + b"\x00\x01" + data[6:], b""):
        with pytest.raises(ProofFormatError):
            Proof.from_bytes(bad)


def test_non_canonical_field_element(fib_case) -> None:
    data = bytearray(fib_case.proof.to_bytes())
    # the first opened value sits after magic, version, heights, root, clear trace count,
    # flag, sums, root, count
    offset = 4 + 2 + 1 + 1 + 32 + 1 + 1 + 4 + 32 + 4
    assert (
        int.from_bytes(data[offset : offset + 4], "big")
        == fib_case.proof.openings[0].main_local[0].coeffs[0]
    )
    data[offset : offset + 4] = P.to_bytes(4, "big")
    with pytest.raises(ProofFormatError, match="non-canonical"):
        Proof.from_bytes(bytes(data))


def test_huge_counts_are_refused_before_allocating() -> None:
    header = b"HSTK" + (2).to_bytes(2, "big") + b"\x01\x05" + bytes(32) + b"\x00\x00"
    with pytest.raises(ProofFormatError, match="too many"):
        Proof.from_bytes(header + (0xFFFFFFFF).to_bytes(4, "big"))
    with pytest.raises(ProofFormatError, match="truncated"):
        Proof.from_bytes(header + (200).to_bytes(4, "big"))


def test_random_single_byte_flips_are_all_rejected(lookup_case) -> None:
    data = lookup_case.proof.to_bytes()
    rng = np.random.default_rng(2024)
    positions = rng.choice(len(data), size=120, replace=False)
    for pos in positions:
        mutated = bytearray(data)
        mutated[pos] ^= 1 << int(rng.integers(8))
        assert not is_valid(lookup_case.pk.vk, bytes(mutated), lookup_case.publics), pos


def test_every_single_byte_flip_is_rejected(fib_case) -> None:
    data = fib_case.proof.to_bytes()
    for pos in range(len(data)):
        mutated = bytearray(data)
        mutated[pos] ^= 0x80
        assert not is_valid(fib_case.pk.vk, bytes(mutated), fib_case.publics), pos


@given(st.binary(max_size=600))
def test_decoding_garbage_raises_only_proof_format_errors(data: bytes) -> None:
    """Any bytes either decode to a proof that re-encodes to the same bytes (the encoding is
    canonical) or raise a ProofFormatError with a known reason — never anything else."""
    reasons = {"truncated", "bad_magic", "bad_version", "not_canonical", "bad_count",
               "bad_flag", "trailing_bytes"}  # fmt: skip
    for blob in (data, b"HSTK\x00\x02" + data):
        try:
            proof = Proof.from_bytes(blob)
        except ProofFormatError as err:
            assert err.reason in reasons
        else:
            assert proof.to_bytes() == blob


@given(st.integers(0, 10**9), st.integers(1, 255))
def test_near_valid_bytes_decode_canonically_or_fail_cleanly(fib_case, pos: int, xor: int) -> None:
    data = bytearray(fib_case.proof.to_bytes())
    data[pos % len(data)] ^= xor
    try:
        proof = Proof.from_bytes(bytes(data))
    except ProofFormatError:
        return
    assert proof.to_bytes() == bytes(data)
    assert not is_valid(fib_case.pk.vk, proof, fib_case.publics)
