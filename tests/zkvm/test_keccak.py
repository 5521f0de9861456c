"""The Keccak-f[1600] chip: the reference against pycryptodome, the trace against the
reference, proofs on a machine of the chip alone, and forged permutations rejected: a forged
output row, and a forged θ whose bit columns are made consistent with each other."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from Crypto.Hash import keccak as crypto_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from heliostat.stark.air import CompiledMachine, Interaction, compile_machine
from heliostat.stark.config import FAST_TEST
from heliostat.stark.debug import check_machine
from heliostat.stark.errors import VerificationError
from heliostat.stark.keys import VerifyingKey, verifying_key
from heliostat.stark.prover import ProvingKey, prove, setup
from heliostat.stark.symbolic import public
from heliostat.stark.verifier import verify
from heliostat.zkvm import keccak_chip as kc
from heliostat.zkvm.frame import to_field

PERMUTATIONS = 2  # the test machine's public values hold this many (input, output) pairs

lanes_strategy = st.lists(st.integers(0, (1 << 64) - 1), min_size=25, max_size=25)


@pytest.mark.parametrize("length", [0, 1, 31, 135, 136, 137, 300])
def test_reference_is_keccak256(length: int) -> None:
    data = bytes((7 * i + 3) & 0xFF for i in range(length))
    assert kc.keccak256(data) == crypto_keccak.new(data=data, digest_bits=256).digest()


@settings(max_examples=5, deadline=None)
@given(st.lists(lanes_strategy, min_size=1, max_size=3))
def test_trace_outputs_are_the_reference(states: list[list[int]]) -> None:
    inputs = np.array(states, dtype=np.uint64)
    rows = kc.generate(inputs, np.ones(len(states), np.int64))
    out = kc.output_lanes(rows)[: len(states)]
    assert out.tolist() == [kc.keccak_f(s) for s in states]


@functools.cache
def _machine() -> CompiledMachine:
    interactions = []
    for j in range(PERMUTATIONS):
        values = [public(j * 2 * kc.LIMBS + i) for i in range(2 * kc.LIMBS)]
        interactions.append(Interaction.send(kc.KECCAK_BUS, values, 1, f"permutation {j}"))
    return compile_machine([kc.KeccakChip()], PERMUTATIONS * 2 * kc.LIMBS, interactions)


def _limbs(lanes: list[int]) -> list[int]:
    return [(lane >> (16 * k)) & 0xFFFF for lane in lanes for k in range(4)]


def _instance(states: list[list[int]]) -> tuple[np.ndarray, list[int]]:
    rows = kc.generate(np.array(states, dtype=np.uint64), np.ones(len(states), np.int64))
    publics = [v for s in states for v in (*_limbs(s), *_limbs(kc.keccak_f(s)))]
    return rows, publics


@functools.cache
def _keys() -> tuple[ProvingKey, VerifyingKey]:
    return setup(_machine(), FAST_TEST), verifying_key(_machine(), FAST_TEST)


def _prove_and_verify(rows: np.ndarray, publics: list[int], *, check: bool = True) -> None:
    pk, vk = _keys()
    proof = prove(pk, [to_field(rows)], publics, check_constraints=check)
    verify(vk, proof, publics)


STATES = [list(range(25)), [(1 << 64) - 1 - 3 * i for i in range(25)]]


def test_permutations_are_proven() -> None:
    rows, publics = _instance(STATES)
    assert not check_machine(_machine(), [to_field(rows)], publics)
    _prove_and_verify(rows, publics)


def test_forged_output_in_the_statement_is_rejected() -> None:
    rows, publics = _instance(STATES)
    publics[2 * kc.LIMBS - 1] ^= 1  # the first permutation's last output limb
    with pytest.raises(VerificationError):
        _prove_and_verify(rows, publics, check=False)


def test_forged_output_row_is_rejected() -> None:
    # the prover claims a different output and writes it into the output row, so the lookup
    # balances; the last round's constraint must catch it
    rows, publics = _instance(STATES)
    forged = kc.keccak_f(STATES[0])
    forged[3] ^= 1 << 40
    rows[kc.ROUNDS, kc.LAYOUT.span("a")] = _limbs(forged)
    publics[: 2 * kc.LIMBS] = [*_limbs(STATES[0]), *_limbs(forged)]
    failures = check_machine(_machine(), [to_field(rows)], publics)
    assert any("round" in str(f) for f in failures)
    with pytest.raises(VerificationError):
        _prove_and_verify(rows, publics, check=False)


def test_a_consistent_but_wrong_theta_is_rejected() -> None:
    # the prover flips one column parity bit of round 0 and recomputes C' and A' from it, so
    # C' follows C and A' ⊕ C ⊕ C' is still A's limbs; the parity of A' no longer is C'
    rows, publics = _instance(STATES)
    c = rows[0, kc.LAYOUT.span("c")].reshape(5, 64).copy()
    c[2, 7] ^= 1
    d = np.roll(c, 1, axis=0) ^ np.roll(np.roll(c, -1, axis=0), 1, axis=1)
    a_bits = kc._bits(np.array([STATES[0]], np.uint64))[0].reshape(5, 5, 64)
    rows[0, kc.LAYOUT.span("c")] = c.reshape(-1)
    rows[0, kc.LAYOUT.span("cp")] = (c ^ d).reshape(-1)
    rows[0, kc.LAYOUT.span("ap")] = (a_bits ^ d[None, :, :]).reshape(-1)
    failures = check_machine(_machine(), [to_field(rows)], publics)
    assert any("column parity" in str(f) for f in failures), failures[:3]
    with pytest.raises(VerificationError):
        _prove_and_verify(rows, publics, check=False)
