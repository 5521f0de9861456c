"""NTT, coset LDE and point evaluation against a schoolbook DFT and Horner's rule."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.stark import field as bf
from heliostat.stark import ntt as nt
from heliostat.stark.extension import Ext4
from heliostat.stark.kernel_errors import KernelError, ShapeError

P = bf.P


def eval_poly(coeffs, x):
    """Horner over Python ints (x an int) for every column of coeffs (n, cols)."""
    acc = [0] * coeffs.shape[1]
    for row in coeffs[::-1]:
        acc = [(a * x + int(c)) % P for a, c in zip(acc, row, strict=True)]
    return acc


def schoolbook(coeffs, points):
    """O(n·|points|) evaluation: the reference DFT."""
    return np.array([eval_poly(coeffs, int(x)) for x in points], dtype=np.uint32)


def rev(i, bits):
    return int(format(i, f"0{bits}b")[::-1], 2) if bits else 0


@pytest.mark.parametrize("log_n", range(0, 7))
def test_ntt_is_the_dft_on_the_subgroup(log_n):
    rng = np.random.default_rng(log_n)
    coeffs = bf.random_elements(rng, (1 << log_n, 3))
    expect = schoolbook(coeffs, bf.coset_points(log_n))
    assert np.array_equal(nt.ntt(coeffs), expect)
    assert np.array_equal(nt.intt(expect), coeffs)


def test_shapes_one_and_three_dimensional():
    rng = np.random.default_rng(9)
    v = bf.random_elements(rng, 16)
    assert np.array_equal(nt.ntt(v), nt.ntt(v.reshape(16, 1)).reshape(16))
    e = bf.random_elements(rng, (16, 2, 4))
    flat = nt.ntt(e.reshape(16, 8)).reshape(16, 2, 4)
    assert np.array_equal(nt.ntt(e), flat)
    assert nt.coset_lde(e, 1).shape == (32, 2, 4)


@given(st.integers(0, 2**32 - 1), st.integers(0, 10), st.integers(1, 12))
def test_intt_inverts_ntt(seed, log_n, cols):
    m = bf.random_elements(np.random.default_rng(seed), (1 << log_n, cols))
    assert np.array_equal(nt.intt(nt.ntt(m)), m)
    assert np.array_equal(nt.ntt(nt.intt(m)), m)


@pytest.mark.parametrize("cache_bytes", [16, 64, 1000])
def test_small_cache_plans_use_many_stage_groups(monkeypatch, cache_bytes):
    # a tiny cache budget forces several groups of few stages, strided gathers included
    monkeypatch.setattr(nt, "_CACHE_BYTES", cache_bytes)
    assert len(nt._group_plan(0, 9, 3)) >= 2
    rng = np.random.default_rng(cache_bytes)
    coeffs = bf.random_elements(rng, (1 << 9, 3))
    expect = schoolbook(coeffs[:, :1], bf.coset_points(9))
    evals = nt.ntt(coeffs)
    assert np.array_equal(evals[:, :1], expect)
    assert np.array_equal(nt.intt(evals), coeffs)
    lde = nt.coset_lde(evals, 2, 7, bit_reversed=False)
    assert np.array_equal(nt.coset_lde(evals, 2, 7, bit_reversed=True), nt.bit_reverse_rows(lde))
    # values on 7·H' are the values of f(7X) on H': its coefficients are f_i·7^i, then zeros
    back = nt.intt(lde)
    assert np.array_equal(back[: 1 << 9], lde_coeffs(coeffs, 7))
    assert not back[1 << 9 :].any()


def lde_coeffs(coeffs, shift):
    """Coefficients of f(shift·X): coefficient i times shift^i."""
    factors = bf.powers(shift, coeffs.shape[0]).astype(object)
    return np.array((coeffs.astype(object) * factors[:, None]) % P, dtype=np.uint32)


def test_large_matrix_round_trip_and_spot_values():
    # 2^12 rows × 64 columns: more than the cache budget, so two stage groups with gathers
    rng = np.random.default_rng(11)
    coeffs = bf.random_elements(rng, (1 << 12, 64))
    assert len(nt._group_plan(0, 12, 64)) == 2
    evals = nt.ntt(coeffs)
    w = bf.two_adic_generator(12)
    for i in (0, 1, 777, 4095):
        assert evals[i].tolist() == eval_poly(coeffs, pow(w, i, P))
    assert np.array_equal(nt.intt(evals), coeffs)


@pytest.mark.parametrize("width", [1, 3, 7])
def test_narrow_matrices_take_the_four_step_path(monkeypatch, width):
    rng = np.random.default_rng(width)
    log_n = 11
    coeffs = bf.random_elements(rng, (1 << log_n, width))
    assert nt._is_narrow(coeffs, log_n)
    evals = nt.ntt(coeffs)
    w = bf.two_adic_generator(log_n)
    for i in (0, 1, 1000, 2047):
        assert evals[i].tolist() == eval_poly(coeffs, pow(w, i, P))
    assert np.array_equal(nt.intt(evals), coeffs)
    lde = nt.coset_lde(evals, 1, 7)
    lde_br = nt.coset_lde(evals, 1, 7, bit_reversed=True)
    coset = nt.coset_ntt(coeffs, 7, 1)
    monkeypatch.setattr(nt, "_FOUR_STEP_MAX_WIDTH", 0)  # the same on the radix-2 path
    assert not nt._is_narrow(coeffs, log_n)
    assert np.array_equal(nt.ntt(coeffs), evals)
    assert np.array_equal(nt.coset_lde(evals, 1, 7), lde)
    assert np.array_equal(nt.coset_lde(evals, 1, 7, bit_reversed=True), lde_br)
    assert np.array_equal(nt.coset_ntt(coeffs, 7, 1), coset)


@pytest.mark.parametrize("log_n,log_blowup", [(0, 0), (0, 2), (1, 1), (3, 0), (3, 1), (4, 3)])
@pytest.mark.parametrize("shift", [1, bf.GENERATOR, 12345])
def test_coset_lde_evaluates_the_interpolant_on_the_coset(log_n, log_blowup, shift):
    rng = np.random.default_rng(log_n * 10 + log_blowup)
    coeffs = bf.random_elements(rng, (1 << log_n, 2))
    evals = schoolbook(coeffs, bf.coset_points(log_n))
    big = bf.coset_points(log_n + log_blowup, shift)
    expect = schoolbook(coeffs, big)
    lde = nt.coset_lde(evals, log_blowup, shift)
    assert np.array_equal(lde, expect)
    lde_br = nt.coset_lde(evals, log_blowup, shift, bit_reversed=True)
    bits = log_n + log_blowup
    assert np.array_equal(lde_br, expect[[rev(i, bits) for i in range(1 << bits)]])
    assert np.array_equal(nt.bit_reverse_rows(lde), lde_br)
    assert np.array_equal(nt.coset_ntt(coeffs, shift, log_blowup), expect)
    small = schoolbook(coeffs, bf.coset_points(log_n, shift))
    assert np.array_equal(nt.interpolate_coset(small, shift), coeffs)


def test_default_shift_is_the_generator():
    evals = bf.random_elements(np.random.default_rng(2), (8, 1))
    assert np.array_equal(nt.coset_lde(evals, 1), nt.coset_lde(evals, 1, bf.GENERATOR))


def test_bit_reverse_helpers():
    assert nt.bit_reverse_indices(3).tolist() == [0, 4, 2, 6, 1, 5, 3, 7]
    m = np.arange(8, dtype=np.uint32)
    assert nt.bit_reverse_rows(m).tolist() == [0, 4, 2, 6, 1, 5, 3, 7]
    assert np.array_equal(nt.bit_reverse_rows(nt.bit_reverse_rows(m)), m)


@given(st.integers(0, 2**32 - 1), st.integers(0, 6), st.booleans())
def test_evaluate_at_point_matches_horner(seed, log_n, bit_reversed):
    rng = np.random.default_rng(seed)
    n = 1 << log_n
    coeffs = bf.random_elements(rng, (n, 3))
    shift = int(rng.integers(1, P))
    z = Ext4.from_array(bf.random_elements(rng, 4))
    evals = schoolbook(coeffs, bf.coset_points(log_n, shift))
    if bit_reversed:
        evals = evals[[rev(i, log_n) for i in range(n)]]
    got = nt.evaluate_at_point(evals, z, shift, bit_reversed=bit_reversed)
    for c in range(3):
        expect = Ext4.zero()
        for j in range(n - 1, -1, -1):
            expect = expect * z + int(coeffs[j, c])
        assert Ext4.from_array(got[c]) == expect


def test_evaluate_extension_columns_and_single_column():
    rng = np.random.default_rng(4)
    log_n = 4
    z = Ext4(9, 8, 7, 6)
    ext_coeffs = bf.random_elements(rng, (16, 2, 4))  # two extension-valued polynomials
    evals = nt.ntt(ext_coeffs)
    got = nt.evaluate_at_point(evals, z, ext_columns=True)
    for c in range(2):
        expect = Ext4.zero()
        for j in range(15, -1, -1):
            expect = expect * z + Ext4.from_array(ext_coeffs[j, c])
        assert Ext4.from_array(got[c]) == expect
    column = nt.ntt(ext_coeffs[:, 0, 0])
    one = nt.evaluate_at_point(column, z)
    assert one.shape == (4,)
    expect = Ext4.zero()
    for j in range(15, -1, -1):
        expect = expect * z + int(ext_coeffs[j, 0, 0])
    assert Ext4.from_array(one) == expect
    assert nt.barycentric_weights(log_n, z).shape == (16, 4)


def test_point_in_domain_is_rejected():
    evals = np.zeros((8, 1), dtype=np.uint32)
    w = bf.two_adic_generator(3)
    with pytest.raises(KernelError) as err:
        nt.evaluate_at_point(evals, Ext4(5 * pow(w, 3, P) % P), 5)
    assert err.value.reason == "point_in_domain"


def test_bad_sizes_are_rejected():
    with pytest.raises(ShapeError) as err:
        nt.ntt(np.zeros((6, 2), dtype=np.uint32))
    assert err.value.reason == "not_power_of_two"
    with pytest.raises(ShapeError):
        nt.coset_lde(np.zeros((1 << 26, 0), dtype=np.uint32), 2)
    with pytest.raises(ShapeError):
        nt.ntt(np.uint32(3))
