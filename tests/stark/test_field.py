"""BabyBear: constants, scalar laws, and the numba array kernels against Python integers."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark import field as bf
from heliostat.stark.kernel_errors import FieldError, ShapeError

P = 2013265921
elements = st.one_of(st.sampled_from([0, 1, 2, P - 2, P - 1, 1 << 27, (1 << 31) - 1 - P]),
                     st.integers(0, P - 1))  # fmt: skip
element_lists = st.lists(elements, min_size=0, max_size=300)


def test_modulus_and_two_adicity():
    assert bf.P == P == 2**31 - 2**27 + 1
    assert (P - 1) % (1 << bf.TWO_ADICITY) == 0
    assert ((P - 1) >> bf.TWO_ADICITY) % 2 == 1


def test_generator_generates_the_whole_group():
    # p − 1 = 2^27 · 3 · 5: a generator is not a q-th power for q in {2, 3, 5}
    assert P - 1 == 2**27 * 3 * 5
    for q in (2, 3, 5):
        assert pow(bf.GENERATOR, (P - 1) // q, P) != 1


@pytest.mark.parametrize("log_n", range(bf.TWO_ADICITY + 1))
def test_two_adic_generator_has_exact_order(log_n):
    g = bf.two_adic_generator(log_n)
    assert pow(g, 1 << log_n, P) == 1
    if log_n:
        assert pow(g, 1 << (log_n - 1), P) == P - 1  # order exactly 2^log_n
        assert g * g % P == bf.two_adic_generator(log_n - 1)


def test_two_adic_generator_out_of_range():
    with pytest.raises(ShapeError):
        bf.two_adic_generator(28)


@given(elements, elements, elements)
def test_scalar_field_laws(a, b, c):
    assert bf.add(a, b) == bf.add(b, a) == (a + b) % P
    assert bf.mul(a, b) == bf.mul(b, a) == a * b % P
    assert bf.mul(a, bf.add(b, c)) == bf.add(bf.mul(a, b), bf.mul(a, c))
    assert bf.add(bf.add(a, b), c) == bf.add(a, bf.add(b, c))
    assert bf.sub(bf.add(a, b), b) == a
    assert bf.add(a, bf.neg(a)) == 0
    if a:
        assert bf.mul(a, bf.inv(a)) == 1
        assert bf.power(a, -3) == bf.inv(bf.power(a, 3))


def test_scalar_edges():
    assert bf.from_int(-1) == P - 1
    assert bf.from_int(P) == 0
    assert bf.to_int(P - 1) == P - 1
    with pytest.raises(FieldError) as err:
        bf.to_int(P)
    assert err.value.reason == "not_canonical"
    with pytest.raises(FieldError) as err:
        bf.inv(0)
    assert err.value.reason == "zero_inverse"


@given(element_lists, st.data())
def test_vector_ops_match_python_ints(xs, data):
    ys = data.draw(st.lists(elements, min_size=len(xs), max_size=len(xs)))
    a = np.array(xs, dtype=np.uint32)
    b = np.array(ys, dtype=np.uint32)
    assert bf.vadd(a, b).tolist() == [(x + y) % P for x, y in zip(xs, ys, strict=True)]
    assert bf.vsub(a, b).tolist() == [(x - y) % P for x, y in zip(xs, ys, strict=True)]
    assert bf.vmul(a, b).tolist() == [x * y % P for x, y in zip(xs, ys, strict=True)]
    assert bf.vneg(a).tolist() == [(-x) % P for x in xs]
    s = data.draw(elements)
    assert bf.vscale(a, s).tolist() == [x * s % P for x in xs]


@given(element_lists, st.integers(0, 2**70))
def test_vpow_matches_python_pow(xs, e):
    a = np.array(xs, dtype=np.uint32)
    assert bf.vpow(a, e).tolist() == [pow(x, e, P) for x in xs]


def test_vpow_exponent_multiple_of_group_order_keeps_zero():
    a = np.array([0, 1, 5], dtype=np.uint32)
    assert bf.vpow(a, 2 * (P - 1)).tolist() == [0, 1, 1]
    assert bf.vpow(a, 0).tolist() == [1, 1, 1]
    assert bf.vpow(np.array([3], dtype=np.uint32), -1).tolist() == [bf.inv(3)]


@given(st.lists(st.integers(1, P - 1), min_size=0, max_size=200))
def test_batch_inverse(xs):
    a = np.array(xs, dtype=np.uint32)
    assert bf.batch_inverse(a).tolist() == [pow(x, P - 2, P) for x in xs]


def test_batch_inverse_reports_the_zero():
    with pytest.raises(FieldError) as err:
        bf.batch_inverse(np.array([3, 4, 0, 5], dtype=np.uint32))
    assert err.value.reason == "zero_inverse"
    assert err.value.got == 2


def test_batch_inverse_in_parallel_chunks():
    rng = np.random.default_rng(8)
    a = bf.random_elements(rng, 70_000)
    a[a == 0] = 1
    assert bf.batch_chunks(a.size) > 1
    inv = bf.batch_inverse(a)
    assert np.all(bf.vmul(a, inv) == 1)
    a[[60_001, 50_000]] = 0  # zeros in different chunks: the first one is reported
    with pytest.raises(FieldError) as err:
        bf.batch_inverse(a)
    assert err.value.got == 50_000


def test_arrays_keep_their_shape():
    rng = np.random.default_rng(1)
    a = bf.random_elements(rng, (3, 4, 5))
    b = bf.random_elements(rng, (3, 4, 5))
    out = bf.vmul(a, b)
    assert out.shape == (3, 4, 5)
    assert int(out[2, 3, 4]) == int(a[2, 3, 4]) * int(b[2, 3, 4]) % P


def test_edge_validation():
    with pytest.raises(FieldError):
        bf.as_field_array(np.array([P], dtype=np.uint32))
    with pytest.raises(FieldError):
        bf.as_field_array([-1, 2])
    with pytest.raises(ShapeError):
        bf.as_field_array(np.array([1.5]))
    with pytest.raises(ShapeError):
        bf.vadd(np.zeros(3, dtype=np.uint32), np.zeros(4, dtype=np.uint32))
    assert bf.as_field_array([[1, 2], [3, P - 1]]).dtype == np.uint32


def test_powers_and_coset_points():
    assert bf.powers(3, 6).tolist() == [pow(3, i, P) for i in range(6)]
    pts = bf.coset_points(4, shift=bf.GENERATOR)
    w = bf.two_adic_generator(4)
    assert pts.tolist() == [bf.GENERATOR * pow(w, i, P) % P for i in range(16)]
    assert len(set(pts.tolist())) == 16


def test_random_elements_are_canonical():
    a = bf.random_elements(np.random.default_rng(0), 10_000)
    assert a.dtype == np.uint32
    assert int(a.max()) < P
