"""Prover side: the quotient Q = Σ_k α^k·C_k / Z_H of one table, split into chunks.

Q is evaluated on the coset g·K of size n·2^log_quotient_degree (bit-reversed order, so it is
a prefix of the committed LDE when the blowup is at least as large), interpolated, and cut
into ``max_degree − 1`` polynomials of degree < n: Q(X) = Σ_c X^(c·n)·q_c(X).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from heliostat.stark._field_kernels import add_mod, mont_mul, pow_mod, to_mont
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
    log_q = (values.shape[0] >> log_n).bit_length() - 1
    chunks, high_nonzero = split_quotient(values, log_n, log_q, num_chunks)
    if check and high_nonzero:
        raise ConstraintViolationError(
            f"{table_name}: the quotient has degree ≥ {num_chunks}·n: a constraint fails on H",
            reason="quotient_degree",
        )
    return chunks


def split_quotient_reference(
    values: U32Array, log_n: int, num_chunks: int
) -> tuple[U32Array, bool]:
    """Readable reference of ``split_quotient``: interpolate on g·K, cut into chunks."""
    coeffs = interpolate_coset(bit_reverse_rows(values), GENERATOR)
    n = 1 << log_n
    chunks = coeffs[: num_chunks * n].reshape(num_chunks, n, 4)
    out = np.ascontiguousarray(chunks.transpose(1, 0, 2).reshape(n, 4 * num_chunks))
    return out, bool(coeffs[num_chunks * n :].any())


@njit(cache=True, parallel=True)
def _side_by_side_kernel(values: np.ndarray, n: int, out: np.ndarray) -> None:
    """out[k, 4t + c] = values[t·n + k, c]: the q blocks of n rows as 4q columns."""
    q = values.shape[0] // n
    for k in prange(n):
        for t in range(q):
            for c in range(4):
                out[k, 4 * t + c] = values[t * n + k, c]


@njit(cache=True, parallel=True)
def _combine_cosets_kernel(
    p: np.ndarray,
    s_inv: np.ndarray,
    w_m: np.ndarray,
    out: np.ndarray,
    nonzero: np.ndarray,
) -> None:
    """From each coset's interpolant to the chunks (see ``split_quotient``).

    ``p[k, 4t + c]`` is coefficient k of P_t(y) = Q(s_t·y) mod (y^n − 1); ``s_inv[t]`` is
    s_t^−1 (canonical); ``w_m[j, t]`` = (1/q)·ω_q^(−rev(t)·j)·g^(−n·j) in Montgomery form.
    ``nonzero[chunk]`` is set when a coefficient at or above num_chunks·n is not zero.
    """
    n = p.shape[0]
    q = s_inv.shape[0]
    n_out = out.shape[1] // 4
    n_par = nonzero.shape[0]
    for ch in prange(n_par):
        k0 = ch * n // n_par
        k1 = (ch + 1) * n // n_par
        twist = np.empty(q, dtype=np.uint32)  # s_t^−k in Montgomery form
        step = np.empty(q, dtype=np.uint32)
        b = np.empty((q, 4), dtype=np.uint32)
        for t in range(q):
            twist[t] = to_mont(pow_mod(s_inv[t], np.uint64(k0)))
            step[t] = to_mont(s_inv[t])
        flag = False
        for k in range(k0, k1):
            for t in range(q):
                for c in range(4):
                    b[t, c] = mont_mul(p[k, 4 * t + c], twist[t])
                twist[t] = mont_mul(twist[t], step[t])
            for j in range(q):
                for c in range(4):
                    acc = np.uint32(0)
                    for t in range(q):
                        acc = add_mod(acc, mont_mul(b[t, c], w_m[j, t]))
                    if j < n_out:
                        out[k, 4 * j + c] = acc
                    elif acc != 0:
                        flag = True
        nonzero[ch] = flag


def split_quotient(
    values: U32Array, log_n: int, log_q: int, num_chunks: int
) -> tuple[U32Array, bool]:
    """Cut Q, given on g·K (|K| = n·2^log_q, bit-reversed rows, (N, 4)), into chunks.

    Returns the (n, 4·num_chunks) chunk coefficients, and whether Q has a coefficient at or
    above num_chunks·n. Block t of the rows holds Q on the coset s_t·H (in bit-reversed
    order), so one batch of size-n interpolations (all blocks side by side: wide, fast)
    gives P_t(y) = Q(s_t·y) mod (y^n − 1), whose coefficient k is
    Σ_j q_(k+jn)·s_t^(k+jn). Twisting by s_t^−k leaves a size-q DFT over j at the points
    ω_q^rev(t) (as s_t^n = g^n·ω_q^rev(t)), inverted row by row.
    """
    n, q = 1 << log_n, 1 << log_q
    if q == 1 or values.shape[0] != n * q or num_chunks > q:
        return split_quotient_reference(values, log_n, num_chunks)
    side = np.empty((n, 4 * q), dtype=np.uint32)
    _side_by_side_kernel(values, n, side)
    p = interpolate_coset(side, 1, bit_reversed=True)
    omega_q = two_adic_generator(log_q)
    omega_big = two_adic_generator(log_n + log_q)
    rev_q = bit_reverse_indices(log_q)
    s_inv = np.array(
        [inv(GENERATOR * pow(omega_big, int(r), P) % P) for r in rev_q], dtype=np.uint32
    )
    g_n_inv = inv(pow(GENERATOR, n, P))
    q_inv = inv(q)
    w_m = np.array(
        [
            [
                (q_inv * pow(omega_q, (-int(rev_q[t]) * j) % q, P) * pow(g_n_inv, j, P) << 32) % P
                for t in range(q)
            ]
            for j in range(q)
        ],
        dtype=np.uint32,
    )
    out = np.empty((n, 4 * num_chunks), dtype=np.uint32)
    nonzero = np.zeros(max(1, min(64, n // 1024)), dtype=np.bool_)
    _combine_cosets_kernel(p, s_inv, w_m, out, nonzero)
    return out, bool(nonzero.any())
