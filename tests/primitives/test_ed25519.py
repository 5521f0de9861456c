"""The Python reference of ed25519 verification agrees with Solana's verifier (solders)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from heliostat.primitives import ed25519
from heliostat.primitives.ed25519 import (
    BASE,
    IDENTITY,
    L,
    P,
    VerifyCode,
    compress,
    decompress,
    is_small_order,
    point_add,
    points_equal,
    scalar_mult,
    verify,
    verify_code,
)
from heliostat.testing.ed25519_cases import (
    RFC8032_VECTORS,
    SMALL_ORDER_ENCODINGS,
    TORSION,
    EdgeCase,
    Rfc8032Vector,
    edge_cases,
    encode_y,
)

EDGE_CASES = edge_cases()


def solana_accepts(signature: bytes, public_key: bytes, message: bytes) -> bool:
    return bool(Signature(signature).verify(Pubkey(public_key), message))


@pytest.mark.parametrize("vector", RFC8032_VECTORS, ids=lambda v: v.name)
def test_rfc8032_vectors(vector: Rfc8032Vector) -> None:
    keypair = Keypair.from_seed(vector.seed)  # the transcription is checked by re-signing
    assert bytes(keypair.pubkey()) == vector.public_key
    assert bytes(keypair.sign_message(vector.message)) == vector.signature
    assert verify_code(vector.signature, vector.public_key, vector.message) == VerifyCode.VALID
    assert solana_accepts(vector.signature, vector.public_key, vector.message)


@pytest.mark.parametrize("case", EDGE_CASES, ids=lambda c: c.name)
def test_edge_cases_match_solana(case: EdgeCase) -> None:
    expected = solana_accepts(case.signature, case.public_key, case.message)
    assert verify(case.signature, case.public_key, case.message) == expected


def test_edge_cases_reach_every_code_and_both_verdicts() -> None:
    codes = {verify_code(c.signature, c.public_key, c.message) for c in EDGE_CASES}
    assert codes == set(VerifyCode)
    accepted = [c.name for c in EDGE_CASES if solana_accepts(c.signature, c.public_key, c.message)]
    # valid, the 7 mixed-order keys whose torsion cancels and the 7 mixed-order R
    assert len(accepted) == 15
    assert "valid" in accepted


def test_edge_case_codes() -> None:
    codes = {c.name: verify_code(c.signature, c.public_key, c.message) for c in EDGE_CASES}
    assert codes["s_plus_l"] == VerifyCode.NON_CANONICAL_S
    assert codes["s_l_minus_1"] == VerifyCode.R_MISMATCH
    assert codes["off_curve_key_y2"] == VerifyCode.INVALID_PUBLIC_KEY
    assert codes["off_curve_r_y2"] == VerifyCode.R_MISMATCH
    assert codes["mixed_order_key_t4_cancels"] == VerifyCode.VALID
    assert codes["mixed_order_key_t4_remains"] == VerifyCode.R_MISMATCH
    for i in range(len(SMALL_ORDER_ENCODINGS)):
        assert codes[f"small_order_key_{i}"] == VerifyCode.SMALL_ORDER_PUBLIC_KEY
        assert codes[f"small_order_r_{i}"] == VerifyCode.SMALL_ORDER_R


def test_small_order_encodings() -> None:
    # 8 points; y + p also fits for y = 0 and 1; the sign bit is ignored when x = 0
    assert len(SMALL_ORDER_ENCODINGS) == len(set(SMALL_ORDER_ENCODINGS)) == 14
    for encoding in SMALL_ORDER_ENCODINGS:
        point = decompress(encoding)
        assert point is not None and is_small_order(point)
    orders = []
    for point in TORSION:
        order, multiple = 1, point
        while not points_equal(multiple, IDENTITY):
            order, multiple = 2 * order, point_add(multiple, multiple)
        orders.append(order)
    assert sorted(orders) == [1, 2, 4, 4, 8, 8, 8, 8]
    assert not is_small_order(BASE)
    assert is_small_order(IDENTITY)


def test_decompress_follows_dalek_not_rfc() -> None:
    # y ≥ p decodes as y − p (RFC 8032 §5.1.3 would reject it)
    identity_plus_p = decompress(encode_y(1 + P))
    assert identity_plus_p is not None and points_equal(identity_plus_p, IDENTITY)
    # x = 0 with the sign bit set decodes (RFC 8032 would reject it)
    negative_zero = decompress(encode_y(1, sign=1))
    assert negative_zero is not None and points_equal(negative_zero, IDENTITY)
    # a y with no x on the curve
    assert decompress(encode_y(2)) is None
    # the base point round-trips, and its encoding is RFC 8032's
    assert compress(BASE).hex() == "58" + "66" * 31


def test_group_order() -> None:
    assert points_equal(scalar_mult(L, BASE), IDENTITY)
    assert points_equal(point_add(BASE, BASE), scalar_mult(2, BASE))


def test_challenge_is_sha512_mod_l() -> None:
    r, a, m = b"\x01" * 32, b"\x02" * 32, b"msg"
    digest = int.from_bytes(hashlib.sha512(r + a + m).digest(), "little")
    assert ed25519.challenge(r, a, m) == digest % L


def test_wrong_lengths_raise() -> None:
    with pytest.raises(ed25519.Ed25519LengthError) as info:
        verify(bytes(63), bytes(32), b"")
    assert (info.value.expected, info.value.got, info.value.reason) == (64, 63, "ed25519_length")
    with pytest.raises(ed25519.Ed25519LengthError):
        verify(bytes(64), bytes(33), b"")


@given(
    seed=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=300),
    corrupt=st.one_of(st.none(), st.integers(min_value=0, max_value=64 * 8 + 32 * 8 - 1)),
)
def test_random_signatures_match_solana(seed: bytes, message: bytes, corrupt: int | None) -> None:
    keypair = Keypair.from_seed(seed)
    signature, public_key = bytes(keypair.sign_message(message)), bytes(keypair.pubkey())
    if corrupt is not None:
        blob = bytearray(signature + public_key)
        blob[corrupt // 8] ^= 1 << (corrupt % 8)
        signature, public_key = bytes(blob[:64]), bytes(blob[64:])
    expected = solana_accepts(signature, public_key, message)
    assert verify(signature, public_key, message) == expected
    assert expected == (corrupt is None)
