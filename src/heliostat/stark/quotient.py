"""Prover side: the quotient Q = Σ_k α^k·C_k / Z_H of one table, split into chunks.

Q is evaluated on the coset g·K of size n·2^log_quotient_degree (bit-reversed order, so it is
a prefix of the committed LDE when the blowup is at least as large), interpolated, and cut
into ``max_degree − 1`` polynomials of degree < n: Q(X) = Σ_c X^(c·n)·q_c(X).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark.constraint_eval import KernelProgram, evaluate_quotient_numerator
from heliostat.stark.errors import ConstraintViolationError
from heliostat.stark.extension import Ext4
from heliostat.stark.field import (
    GENERATOR,
    P,
    batch_inverse,
    coset_points,
    inv,
    two_adic_generator,
    vscale,
)
from heliostat.stark.ntt import bit_reverse_indices, bit_reverse_rows, interpolate_coset

U32Array = NDArray[np.uint32]


@dataclass(frozen=True)
class QuotientDomain:
    """Points of g·K (|K| = 2^log_size, bit-reversed), the next-row map and the selectors."""

    next_index: NDArray[np.int64]
    selectors: U32Array  # (3, N): is_first_row, is_last_row, is_transition
    inv_vanishing: U32Array  # 1 / (x^n − 1)


def quotient_domain(log_n: int, log_quotient_degree: int) -> QuotientDomain:
    """Precompute what the constraint kernel needs on the quotient domain of a table.

    In bit-reversed order the domain is q = 2^log_quotient_degree blocks of n positions; block
    c is the coset s_c·H with s_c = g·ω_(qn)^rev(c), itself in bit-reversed order. So a point
    is s_c times a point of H, the next row stays in the block, and x^n = s_c^n per block.
    """
    n, q = 1 << log_n, 1 << log_quotient_degree
    size = n * q
    rev_n = bit_reverse_indices(log_n)
    h_points = coset_points(log_n)[rev_n]
    next_in_block = rev_n[(rev_n + 1) & (n - 1)]
    omega_big = two_adic_generator(log_n + log_quotient_degree)
    omega_inv = inv(two_adic_generator(log_n))
    last_scale = n * two_adic_generator(log_n) % P
    next_index = np.empty(size, dtype=np.int64)
    selectors = np.empty((3, size), dtype=np.uint32)
    inv_vanishing = np.empty(size, dtype=np.uint32)
    for c, r in enumerate(bit_reverse_indices(log_quotient_degree)):
        block = slice(c * n, (c + 1) * n)
        shift = GENERATOR * pow(omega_big, int(r), P) % P
        x = vscale(h_points, shift)
        vanishing = (pow(shift, n, P) - 1) % P
        next_index[block] = next_in_block + c * n
        # Lagrange polynomials of the first and last points of H (1 there, 0 elsewhere on
        # H): L_0 = Z_H/(n·(x − 1)) and L_(n−1) = ω^−1·Z_H/(n·(x − ω^−1))
        x_minus_1 = ((x.astype(np.int64) - 1) % P).astype(np.uint32)
        transition = ((x.astype(np.int64) - omega_inv) % P).astype(np.uint32)
        selectors[0, block] = vscale(batch_inverse(x_minus_1), vanishing * inv(n) % P)
        selectors[1, block] = vscale(batch_inverse(transition), vanishing * inv(last_scale) % P)
        selectors[2, block] = transition
        inv_vanishing[block] = inv(vanishing)
    return QuotientDomain(next_index, selectors, inv_vanishing)


def quotient_chunks(
    kernel: KernelProgram,
    domain: QuotientDomain,
    *,
    log_n: int,
    num_chunks: int,
    main: U32Array,
    pre: U32Array | None,
    perm: U32Array | None,
    publics: Sequence[int],
    challenges: Sequence[Ext4],
    logup_sum: Ext4,
    alpha: Ext4,
    n_constraints: int,
    check: bool,
    table_name: str,
) -> U32Array:
    """Return the chunk coefficients as an (n, 4·num_chunks) matrix (coordinates per chunk).

    ``main``/``pre``/``perm`` are the traces on the quotient domain (bit-reversed). With
    ``check``, a quotient of too high a degree (the constraints do not vanish on H) raises.
    """
    alpha_powers = [Ext4.one()]
    for _ in range(n_constraints - 1):
        alpha_powers.append(alpha_powers[-1] * alpha)
    values = evaluate_quotient_numerator(
        kernel,
        main=main,
        pre=pre,
        perm=perm,
        next_index=domain.next_index,
        selectors=domain.selectors,
        publics=list(publics),
        challenges=list(challenges),
        logup_sum=logup_sum,
        alpha_powers=alpha_powers,
        scale=domain.inv_vanishing,
    )
    coeffs = interpolate_coset(bit_reverse_rows(values), GENERATOR)
    n = 1 << log_n
    if check and coeffs[num_chunks * n :].any():
        raise ConstraintViolationError(
            f"{table_name}: the quotient has degree ≥ {num_chunks}·n: a constraint fails on H",
            reason="quotient_degree",
        )
    chunks = coeffs[: num_chunks * n].reshape(num_chunks, n, 4)
    return np.ascontiguousarray(chunks.transpose(1, 0, 2).reshape(n, 4 * num_chunks))
