"""The C ed25519 verifier, run as sBPF on Heliostat's VM, matches the jet and Solana.

Three verdicts are compared on every input: the C code (c/programs/ed25519_verify.c in
Heliostat's numba interpreter), the Python reference / jet (heliostat.primitives.ed25519,
which must return the same code) and Solana's verifier (solders). LiteSVM runs the same ELF
as a second executor for the RFC 8032 vectors.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from heliostat.primitives.ed25519 import L, VerifyCode, verify_code
from heliostat.testing.ed25519_cases import RFC8032_VECTORS, EdgeCase, Rfc8032Vector, edge_cases
from heliostat.testing.ed25519_sbpf import (
    HeliostatRunner,
    linked_program_elf,
    run_on_litesvm,
    verify_data,
    verify_program_elf,
    verify_runner,
)

EDGE_CASES = edge_cases()
# A regression guard on the proving cost of one verification (measured: 0.79M–0.83M for a
# 100-byte message; benchmarks/runtime.py reports the figures).
MAX_VERIFY_INSTRUCTIONS = 870_000


def solana_accepts(signature: bytes, public_key: bytes, message: bytes) -> bool:
    return bool(Signature(signature).verify(Pubkey(public_key), message))


def c_code(signature: bytes, public_key: bytes, message: bytes) -> int:
    """The C verifier's code: 0, or the custom error the program returned."""
    run = verify_runner().run(verify_data(signature, public_key, message))
    if run.code is None and run.error is not None:
        raise AssertionError(f"the program failed without a code: {run.error}")
    return 0 if run.code is None else run.code


@pytest.mark.parametrize("vector", RFC8032_VECTORS, ids=lambda v: v.name)
def test_rfc8032_vectors(vector: Rfc8032Vector) -> None:
    run = verify_runner().run(verify_data(vector.signature, vector.public_key, vector.message))
    assert run.error is None
    assert run.compute_units <= MAX_VERIFY_INSTRUCTIONS + 8 * 7000  # + SHA-512 blocks
    assert solana_accepts(vector.signature, vector.public_key, vector.message)


@pytest.mark.parametrize("vector", RFC8032_VECTORS[:3], ids=lambda v: v.name)
def test_litesvm_runs_the_same_elf_identically(vector: Rfc8032Vector) -> None:
    data = verify_data(vector.signature, vector.public_key, vector.message)
    ours, theirs = verify_runner().run(data), run_on_litesvm(verify_program_elf(), data)
    assert (theirs.error, theirs.compute_units) == (ours.error, ours.compute_units)
    tampered = bytes([data[0] ^ 1]) + data[1:]
    ours, theirs = verify_runner().run(tampered), run_on_litesvm(verify_program_elf(), tampered)
    assert theirs.code == ours.code == VerifyCode.R_MISMATCH
    assert theirs.compute_units == ours.compute_units


@pytest.mark.parametrize("case", EDGE_CASES, ids=lambda c: c.name)
def test_edge_cases(case: EdgeCase) -> None:
    code = c_code(case.signature, case.public_key, case.message)
    assert code == verify_code(case.signature, case.public_key, case.message)
    assert (code == 0) == solana_accepts(case.signature, case.public_key, case.message)


def test_library_links_as_separate_translation_units() -> None:
    # how the runtime will use it: c/lib/ed25519/*.c as sources of their own
    runner = HeliostatRunner(linked_program_elf())
    for vector in RFC8032_VECTORS:
        data = verify_data(vector.signature, vector.public_key, vector.message)
        assert runner.run(data).error is None
        tampered = data[:40] + bytes([data[40] ^ 4]) + data[41:]
        assert runner.run(tampered).code == VerifyCode.R_MISMATCH


def test_short_instruction_data_is_rejected() -> None:
    run = verify_runner().run(bytes(95))
    assert run.code is None and run.error is not None
    assert "invalid instruction data" in run.error.lower()


def test_instruction_count_of_one_verification() -> None:
    keypair = Keypair.from_seed(bytes(range(32)))
    message = bytes(100)
    signature = bytes(keypair.sign_message(message))
    run = verify_runner().run(verify_data(signature, bytes(keypair.pubkey()), message))
    assert run.error is None
    assert 500_000 < run.compute_units <= MAX_VERIFY_INSTRUCTIONS


@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=400),
    corrupt=st.one_of(st.none(), st.integers(min_value=0, max_value=(96 + 400) * 8 - 1)),
)
def test_random_signatures(seed: bytes, message: bytes, corrupt: int | None) -> None:
    keypair = Keypair.from_seed(seed)
    blob = bytearray(bytes(keypair.sign_message(message)) + bytes(keypair.pubkey()) + message)
    if corrupt is not None:
        corrupt %= len(blob) * 8
        blob[corrupt // 8] ^= 1 << (corrupt % 8)
    signature, public_key, message = bytes(blob[:64]), bytes(blob[64:96]), bytes(blob[96:])
    code = c_code(signature, public_key, message)
    assert code == verify_code(signature, public_key, message)
    assert (code == 0) == solana_accepts(signature, public_key, message) == (corrupt is None)


@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=64),
    s_offset=st.sampled_from([L, 2 * L, 3 * L, 4 * L, 5 * L]),
)
def test_malleated_s_is_rejected(seed: bytes, message: bytes, s_offset: int) -> None:
    keypair = Keypair.from_seed(seed)
    signature = bytes(keypair.sign_message(message))
    s = int.from_bytes(signature[32:], "little") + s_offset
    if s >= 2**256:
        return
    malleated = signature[:32] + s.to_bytes(32, "little")
    public_key = bytes(keypair.pubkey())
    assert c_code(malleated, public_key, message) == VerifyCode.NON_CANONICAL_S
    assert not solana_accepts(malleated, public_key, message)


def test_messages_across_sha512_block_boundaries() -> None:
    keypair = Keypair.from_seed(hashlib.sha256(b"block boundaries").digest())
    public_key = bytes(keypair.pubkey())
    # R ‖ A ‖ M: 64 + len(M) bytes; the padding needs 17 more, so 47/48 and 175/176 cross
    for length in (0, 46, 47, 48, 63, 64, 111, 112, 175, 176, 191, 192, 300):
        message = bytes((i * 7 + length) % 256 for i in range(length))
        signature = bytes(keypair.sign_message(message))
        assert c_code(signature, public_key, message) == 0, length
        assert c_code(signature, public_key, message + b"\0") == VerifyCode.R_MISMATCH
