"""Poseidon2 (BabyBear, width 16): Plonky3's test vector, and the batch kernel vs the reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.primitives import poseidon2 as reference
from heliostat.stark import field as bf
from heliostat.stark import poseidon2 as p2
from heliostat.stark.kernel_errors import ShapeError

# Plonky3 baby-bear/src/poseidon2.rs, test_default_babybear_poseidon2_width_16
PLONKY3_INPUT = [
    894848333, 1437655012, 1200606629, 1690012884, 71131202, 1749206695, 1717947831, 120589055,
    19776022, 42382981, 1831865506, 724844064, 171220207, 1299207443, 227047920, 1783754913,
]  # fmt: skip
PLONKY3_OUTPUT = [
    516096821, 90309867, 1101817252, 1660784290, 360715097, 1789519026, 1788910906, 563338433,
    319524748, 1741414159, 1650859320, 894311162, 1121347488, 1692793758, 1052633829, 1344246938,
]  # fmt: skip


def test_parameters():
    assert (p2.WIDTH, p2.ROUNDS_F, p2.ROUNDS_P, p2.SBOX_DEGREE) == (16, 8, 13, 7)
    assert len(p2.EXTERNAL_INITIAL) == len(p2.EXTERNAL_FINAL) == p2.ROUNDS_F // 2
    assert all(len(rc) == 16 for rc in p2.EXTERNAL_INITIAL + p2.EXTERNAL_FINAL)
    assert len(p2.INTERNAL) == p2.ROUNDS_P
    # x ↦ x^7 is a permutation of F_p: gcd(7, p − 1) = 1
    assert (bf.P - 1) % 7 != 0
    # the diagonal is Plonky3's V: check a few entries by their defining products
    v = p2.INTERNAL_DIAGONAL
    assert v[0] == bf.P - 2 and v[4] == 3 and v[3] * 2 % bf.P == 1
    assert v[12] * pow(2, 27, bf.P) % bf.P == 1 and (v[15] + v[12]) % bf.P == 0


def test_plonky3_vector():
    assert list(p2.permute(PLONKY3_INPUT)) == PLONKY3_OUTPUT
    batch = p2.permute_batch(np.array([PLONKY3_INPUT] * 3, dtype=np.uint32))
    assert batch.tolist() == [PLONKY3_OUTPUT] * 3


def test_internal_layer_equals_its_matrix():
    # 1·1ᵀ + diag(V) applied by _internal_linear is the dense matrix product
    rng = np.random.default_rng(1)
    s = [int(x) for x in bf.random_elements(rng, 16)]
    dense = [
        sum(((1 + (p2.INTERNAL_DIAGONAL[i] if i == j else 0)) * s[j]) for j in range(16)) % bf.P
        for i in range(16)
    ]
    assert reference._internal_linear(s) == dense


@given(st.integers(0, 2**32 - 1), st.integers(1, 40))
def test_batch_matches_reference(seed, n):
    states = bf.random_elements(np.random.default_rng(seed), (n, 16))
    out = p2.permute_batch(states)
    assert out.tolist() == [list(p2.permute(row.tolist())) for row in states]


def test_edge_states():
    states = np.array([[0] * 16, [bf.P - 1] * 16, list(range(16))], dtype=np.uint32)
    assert p2.permute_batch(states).tolist() == [list(p2.permute(s)) for s in states.tolist()]


def test_compress():
    rng = np.random.default_rng(2)
    left, right = bf.random_elements(rng, (5, 8)), bf.random_elements(rng, (5, 8))
    out = p2.compress_batch(left, right)
    for i in range(5):
        expect = p2.compress(left[i].tolist(), right[i].tolist())
        assert tuple(out[i].tolist()) == expect
        assert expect == p2.permute(left[i].tolist() + right[i].tolist())[:8]


def test_validation():
    with pytest.raises(ValueError):
        p2.permute([0] * 15)
    with pytest.raises(ValueError):
        p2.permute([bf.P] + [0] * 15)
    with pytest.raises(ShapeError):
        p2.permute_batch(np.zeros((2, 15), dtype=np.uint32))
    with pytest.raises(ValueError):
        p2.compress([0] * 8, [0] * 7)
    with pytest.raises(ShapeError):
        p2.compress_batch(np.zeros((2, 8), dtype=np.uint32), np.zeros((3, 8), dtype=np.uint32))
