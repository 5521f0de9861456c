"""FRI pieces: the layer schedule, and the verifier's leaf fold against the prover's fold."""

from __future__ import annotations

import numpy as np
import pytest

from heliostat.stark.config import DEFAULT, FAST_TEST, StarkConfig
from heliostat.stark.errors import ConfigError
from heliostat.stark.extension import Ext4
from heliostat.stark.field import GENERATOR, P, two_adic_generator
from heliostat.stark.fri import FriSchedule, domain_point, evaluate_poly, fold_leaf, fri_schedule
from heliostat.stark.fri_prover import fold_binary, grind
from heliostat.stark.ntt import bit_reverse_rows, coset_ntt
from heliostat.stark.transcript import leading_zero_bits, pow_digest


def test_schedule_stops_at_every_input_size() -> None:
    s = fri_schedule([22, 12, 19], DEFAULT)
    sizes = s.layer_log_sizes()
    assert sizes[0] == 22 and 19 in sizes and 12 in sizes
    assert all(a <= DEFAULT.max_log_arity for a in s.log_arities)
    assert sizes[-1] - s.log_arities[-1] == s.log_final == DEFAULT.log_final_poly_len + 2
    tiny = fri_schedule([3, 2], FAST_TEST)  # heights 4 and 2: the final polynomial shrinks
    assert tiny.log_final_poly_len == 1 and tiny.log_final == 2


@pytest.mark.parametrize("log_arity", [1, 2, 3])
def test_leaf_fold_matches_array_fold(log_arity: int) -> None:
    rng = np.random.default_rng(log_arity)
    log_size, log_max = 8, 10
    values = rng.integers(0, P, size=(1 << log_size, 4), dtype=np.uint32)
    beta = Ext4(*map(int, rng.integers(0, P, 4)))
    shift = FriSchedule(log_max, (), 0, 0).shift(log_size)
    folded, b, size = values, beta, log_size
    for _ in range(log_arity):
        folded = fold_binary(folded, b, size, pow(GENERATOR, 1 << (log_max - size), P))
        b, size = b * b, size - 1
    for leaf in (0, 5, (1 << (log_size - log_arity)) - 1):
        chunk = [Ext4.from_array(v) for v in values[leaf << log_arity : (leaf + 1) << log_arity]]
        got = fold_leaf(chunk, log_arity, leaf, log_size, shift, beta)
        assert got == Ext4.from_array(folded[leaf])


def test_folding_a_low_degree_polynomial_keeps_it_low_degree() -> None:
    """Fold the evaluations of a degree-<8 polynomial on a coset of 64 points three times:
    the result is a constant (degree < 1) on the 8-point coset."""
    rng = np.random.default_rng(9)
    coeffs = np.zeros((64, 4), dtype=np.uint32)
    coeffs[:8] = rng.integers(0, P, size=(8, 4), dtype=np.uint32)
    layer = bit_reverse_rows(coset_ntt(coeffs, GENERATOR))
    beta, size = Ext4(3, 1, 4, 1), 6
    for _ in range(3):
        layer = fold_binary(layer, beta, size, pow(GENERATOR, 1 << (6 - size), P))
        beta, size = beta * beta, size - 1
    assert (layer == layer[0]).all()


def test_final_polynomial_evaluation_and_points() -> None:
    coeffs = [Ext4(1), Ext4(2), Ext4(0, 1)]
    assert evaluate_poly(coeffs, 3) == Ext4(1 + 6, 0) + Ext4(0, 9)
    # bit-reversed position 1 of an 8-point coset is the point shift·ω^4
    assert domain_point(3, 1, 7) == 7 * pow(two_adic_generator(3), 4, P) % P


def test_grinding_finds_a_valid_nonce() -> None:
    state = bytes(range(32))
    nonce = grind(state, 10)
    assert leading_zero_bits(pow_digest(state, nonce)) >= 10
    assert all(leading_zero_bits(pow_digest(state, k)) < 10 for k in range(nonce))


def test_config_bounds() -> None:
    with pytest.raises(ConfigError):
        StarkConfig("bad", log_blowup=0, num_queries=10, pow_bits=0, max_log_arity=1,
                    log_final_poly_len=0)  # fmt: skip
