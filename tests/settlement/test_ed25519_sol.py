"""The Solidity ed25519 verifier (contracts/src/rollup/Ed25519.sol) against the reference.

heliostat.primitives.ed25519 (Solana's acceptance rules) is the oracle: the contract must
return its exact VerifyCode on RFC 8032 §7.1's vectors, on every edge case of
heliostat.testing.ed25519_cases, and on random keys and messages with their signatures
honest or tampered (S flipped, S + L, S ≥ L, non-canonical or small-order A, R with a flipped
sign bit or non-canonical y, another message). Runs on anvil.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from solders.keypair import Keypair
from web3 import Web3
from web3.contract import Contract

from heliostat.primitives.ed25519 import L, P, VerifyCode, verify_code
from heliostat.settlement import rollup
from heliostat.settlement.toolchain import CONTRACTS_DIR, compile_sources
from heliostat.testing.ed25519_cases import (
    RFC8032_VECTORS,
    SMALL_ORDER_ENCODINGS,
    edge_cases,
    encode_y,
)

HARNESS = "test/Ed25519Harness.sol"
GAS_TARGET = 2_000_000


@pytest.fixture(scope="module")
def harness(w3: Web3) -> Contract:
    sources = rollup.rollup_sources()
    sources[HARNESS] = (CONTRACTS_DIR / HARNESS).read_text()
    return rollup.deploy(w3, compile_sources(sources)["Ed25519Harness"])


def _code(harness: Contract, signature: bytes, public_key: bytes, message: bytes) -> int:
    return int(harness.functions.verifyCode(public_key, signature, message).call())


@pytest.mark.parametrize("vector", RFC8032_VECTORS, ids=lambda v: v.name)
def test_rfc8032_vectors(harness: Contract, vector) -> None:
    """RFC 8032 §7.1 (Ed25519 TEST 1, 2, 3, 1024, SHA(abc)): valid, under 2M gas; the forge
    tests' signer reproduces the RFC's public key and signature from the seed."""
    call = harness.functions.measure(vector.public_key, vector.signature, vector.message)
    code, gas = call.call()
    assert code == VerifyCode.VALID
    assert gas < GAS_TARGET, gas
    assert harness.functions.signerPublicKey(vector.seed).call() == vector.public_key
    assert harness.functions.signerSign(vector.seed, vector.message).call() == vector.signature


@pytest.mark.parametrize("length", [0, 1, 55, 111, 112, 113, 127, 128, 129, 239, 240, 300])
def test_sha512_at_padding_boundaries(harness: Contract, length: int) -> None:
    data = bytes((7 * i + length) % 256 for i in range(length))
    assert harness.functions.sha512(data).call() == hashlib.sha512(data).digest()


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=600))
def test_sha512_matches_hashlib(harness: Contract, data: bytes) -> None:
    assert harness.functions.sha512(data).call() == hashlib.sha512(data).digest()


def test_every_edge_case_gets_the_references_verdict(harness: Contract) -> None:
    cases = edge_cases()
    verdicts = {int(verify_code(c.signature, c.public_key, c.message)) for c in cases}
    assert verdicts == {int(code) for code in VerifyCode}  # every rule is exercised
    for case in cases:
        expected = verify_code(case.signature, case.public_key, case.message)
        got = _code(harness, case.signature, case.public_key, case.message)
        assert got == expected, (case.name, got, expected)


TAMPERS = ("none", "s_bit", "s_plus_l", "s_large", "a_small_order", "a_non_canonical",
           "r_sign", "r_non_canonical", "message")  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=300),
    tamper=st.sampled_from(TAMPERS),
    pick=st.integers(min_value=0, max_value=2**256 - 1),
)
def test_random_signatures_get_the_references_verdict(
    harness: Contract, seed: bytes, message: bytes, tamper: str, pick: int
) -> None:
    keypair = Keypair.from_seed(seed)
    public_key = bytes(keypair.pubkey())
    signature = bytes(keypair.sign_message(message))
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    expected: set[VerifyCode] | None = None  # what the tamper must produce, when it is fixed
    if tamper == "none":
        expected = {VerifyCode.VALID}
    elif tamper == "s_bit":
        bit = pick % 256
        signature = r + (s ^ (1 << bit)).to_bytes(32, "little")
        expected = {VerifyCode.NON_CANONICAL_S, VerifyCode.R_MISMATCH}
    elif tamper == "s_plus_l":
        signature = r + (s + L).to_bytes(32, "little")
        expected = {VerifyCode.NON_CANONICAL_S}
    elif tamper == "s_large":
        signature = r + (L + pick % (2**256 - L)).to_bytes(32, "little")
        expected = {VerifyCode.NON_CANONICAL_S}
    elif tamper == "a_small_order":
        public_key = SMALL_ORDER_ENCODINGS[pick % len(SMALL_ORDER_ENCODINGS)]
        expected = {VerifyCode.SMALL_ORDER_PUBLIC_KEY}
    elif tamper == "a_non_canonical":
        public_key = encode_y(pick % 19 + P, pick >> 255)  # y ≥ p: decodes or not
    elif tamper == "r_sign":
        signature = bytes([*r[:31], r[31] ^ 0x80]) + signature[32:]
        expected = {VerifyCode.R_MISMATCH, VerifyCode.SMALL_ORDER_R}
    elif tamper == "r_non_canonical":
        signature = encode_y(pick % 19 + P, pick >> 255) + signature[32:]
        expected = {VerifyCode.R_MISMATCH, VerifyCode.SMALL_ORDER_R}
    else:
        message = message + b"\x00"
        expected = {VerifyCode.R_MISMATCH}
    reference = verify_code(signature, public_key, message)
    if expected is not None:
        assert reference in expected, (tamper, reference)
    assert _code(harness, signature, public_key, message) == reference
