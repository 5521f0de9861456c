"""The quartic extension: Ext4 against polynomial arithmetic mod X^4 − 11, and array kernels."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark import extension as ext
from heliostat.stark import field as bf
from heliostat.stark.extension import Ext4
from heliostat.stark.kernel_errors import FieldError, ShapeError

P = bf.P
coeff = st.one_of(st.sampled_from([0, 1, P - 1]), st.integers(0, P - 1))
ext_elements = st.builds(Ext4, coeff, coeff, coeff, coeff)
nonzero_ext = ext_elements.filter(lambda x: x != Ext4.zero())


def poly_mul_mod(a, b):
    """Reference: multiply as integer polynomials, then rewrite X^k (k ≥ 4) as 11·X^(k−4)."""
    prod = [0] * 7
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            prod[i + j] += x * y
    for k in range(6, 3, -1):
        prod[k - 4] += 11 * prod[k]
        prod[k] = 0
    return tuple(c % P for c in prod[:4])


def test_modulus_polynomial_is_irreducible():
    # X^4 − w is irreducible over F_p (p ≡ 1 mod 4) exactly when w is not a square
    assert P % 4 == 1
    assert pow(ext.W, (P - 1) // 2, P) == P - 1


@given(ext_elements, ext_elements)
def test_mul_matches_polynomial_reference(a, b):
    assert (a * b).coeffs == poly_mul_mod(a.coeffs, b.coeffs)


@given(ext_elements, ext_elements, ext_elements)
def test_field_laws(a, b, c):
    assert a + b == b + a
    assert a * b == b * a
    assert (a * b) * c == a * (b * c)
    assert a * (b + c) == a * b + a * c
    assert a - a == Ext4.zero()
    assert -a + a == 0
    assert a * 1 == a
    assert 3 * a == a + a + a


@given(nonzero_ext)
def test_inverse(a):
    assert a * a.inverse() == Ext4.one()
    assert a / a == 1
    assert a**-2 * a * a == 1


def test_inverse_agrees_with_fermat():
    a = Ext4(5, 7, 11, 13)
    assert a ** (P**4 - 2) == a.inverse()
    assert a ** (P**4 - 1) == 1
    with pytest.raises(FieldError):
        Ext4.zero().inverse()


def test_base_embedding_and_bytes():
    x = Ext4.from_base(-1)
    assert x.coeffs == (P - 1, 0, 0, 0) and x.is_base()
    a = Ext4(1, 2, 3, P - 1)
    assert a.to_bytes() == bytes.fromhex("00000001000000020000000378000000")
    assert Ext4.from_bytes(a.to_bytes()) == a
    assert Ext4.from_array(a.to_array()) == a
    with pytest.raises(FieldError):
        Ext4.from_bytes(b"\xff" * 16)
    with pytest.raises(ShapeError):
        Ext4.from_bytes(b"\x00" * 15)
    with pytest.raises(FieldError):
        Ext4(P)
    assert hash(Ext4(1, 2)) == hash(Ext4(1, 2, 0, 0))
    with pytest.raises(AttributeError):
        a.coeffs = (0, 0, 0, 0)  # type: ignore[misc]


def as_ext(arr):
    return [Ext4.from_array(x) for x in arr.reshape(-1, 4)]


@given(st.integers(0, 2**32 - 1), st.integers(0, 64))
def test_array_kernels_match_ext4(seed, n):
    rng = np.random.default_rng(seed)
    a = bf.random_elements(rng, (n, 4))
    b = bf.random_elements(rng, (n, 4))
    c = bf.random_elements(rng, n)
    s = Ext4.from_array(bf.random_elements(rng, 4))
    xa, xb = as_ext(a), as_ext(b)
    assert as_ext(ext.ext_mul(a, b)) == [x * y for x, y in zip(xa, xb, strict=True)]
    assert as_ext(ext.ext_add(a, b)) == [x + y for x, y in zip(xa, xb, strict=True)]
    assert as_ext(ext.ext_sub(a, b)) == [x - y for x, y in zip(xa, xb, strict=True)]
    assert as_ext(ext.ext_neg(a)) == [-x for x in xa]
    assert as_ext(ext.ext_square(a)) == [x * x for x in xa]
    assert as_ext(ext.ext_scale(a, s)) == [x * s for x in xa]
    assert as_ext(ext.ext_mul_base(a, c)) == [x * int(y) for x, y in zip(xa, c, strict=True)]
    assert as_ext(ext.ext_from_base(c)) == [Ext4(int(y)) for y in c]
    total = Ext4.zero()
    for x in xa:
        total = total + x
    assert ext.ext_sum(a) == total
    nonzero = [x for x in xa if x != Ext4.zero()]
    if nonzero:
        inv = ext.ext_inv(np.array([x.to_array() for x in nonzero]))
        assert as_ext(inv) == [x.inverse() for x in nonzero]


def test_ext_inv_special_values_and_zero():
    vals = [Ext4(1), Ext4(0, 1), Ext4(0, 0, 1), Ext4(0, 0, 0, 1), Ext4(P - 1, P - 1, P - 1, P - 1)]
    inv = ext.ext_inv(np.array([v.to_array() for v in vals]))
    assert as_ext(inv) == [v.inverse() for v in vals]
    arr = np.array([Ext4(3).to_array(), Ext4.zero().to_array()])
    with pytest.raises(FieldError) as err:
        ext.ext_inv(arr)
    assert err.value.got == 1


def test_ext_inv_in_parallel_chunks():
    rng = np.random.default_rng(9)
    a = bf.random_elements(rng, (70_000, 4))
    inv = ext.ext_inv(a)
    assert np.all(ext.ext_mul(a, inv) == np.array([1, 0, 0, 0], dtype=np.uint32))
    a[[65_000, 40_000]] = 0
    with pytest.raises(FieldError) as err:
        ext.ext_inv(a)
    assert err.value.got == 40_000


def test_ext_powers_and_higher_rank_shapes():
    x = Ext4(2, 3, 5, 7)
    assert as_ext(ext.ext_powers(x, 9)) == [x**i for i in range(9)]
    rng = np.random.default_rng(7)
    a = bf.random_elements(rng, (3, 5, 4))
    b = bf.random_elements(rng, (3, 5, 4))
    out = ext.ext_mul(a, b)
    assert out.shape == (3, 5, 4)
    assert Ext4.from_array(out[2, 4]) == Ext4.from_array(a[2, 4]) * Ext4.from_array(b[2, 4])
    with pytest.raises(ShapeError):
        ext.ext_mul(a, b[:2])
    with pytest.raises(ShapeError):
        ext.ext_mul(np.zeros((3, 3), dtype=np.uint32), np.zeros((3, 3), dtype=np.uint32))


@given(st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 9))
def test_column_helpers_match_ext4(seed, n, cols):
    rng = np.random.default_rng(seed)
    m = bf.random_elements(rng, (n, cols))
    coeffs = bf.random_elements(rng, (cols, 4))
    weights = bf.random_elements(rng, (n, 4))
    combined = ext.ext_combine_columns(m, coeffs)
    for r in range(n):
        acc = Ext4.zero()
        for c in range(cols):
            acc = acc + Ext4.from_array(coeffs[c]) * int(m[r, c])
        assert Ext4.from_array(combined[r]) == acc
    sums = ext.ext_weighted_column_sums(weights, m)
    for c in range(cols):
        acc = Ext4.zero()
        for r in range(n):
            acc = acc + Ext4.from_array(weights[r]) * int(m[r, c])
        assert Ext4.from_array(sums[c]) == acc


def test_weighted_column_sums_many_chunks():
    # enough rows that the kernel splits them over several partial sums
    rng = np.random.default_rng(3)
    n = 3 * 4096 + 17
    m = bf.random_elements(rng, (n, 3))
    weights = bf.random_elements(rng, (n, 4))
    sums = ext.ext_weighted_column_sums(weights, m)
    w = weights.astype(object)
    for c in range(3):
        expect = [int((w[:, k] * m[:, c].astype(object)).sum()) % P for k in range(4)]
        assert sums[c].tolist() == expect
