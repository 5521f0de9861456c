"""Prover side of the commitment scheme: LDEs, round trees, openings, DEEP reduced openings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from heliostat.stark._eval_kernels import ext_mul_mont
from heliostat.stark._field_kernels import add_mod, mont_mul, sub_mod, to_mont
from heliostat.stark.extension import Ext4, ext_combine_columns
from heliostat.stark.field import (
    GENERATOR,
    P,
    batch_inverse,
    coset_points,
    two_adic_generator,
    vadd,
    vscale,
)
from heliostat.stark.merkle import MatrixCommitment
from heliostat.stark.ntt import bit_reverse_indices, bit_reverse_rows, coset_lde, coset_ntt
from heliostat.stark.pcs import DeepEntry, MatrixSlot, Round, class_point_sums, column_coefficients
from heliostat.stark.proof import TableOpenings, TreeOpening

U32Array = NDArray[np.uint32]


def lde(trace: U32Array, log_blowup: int) -> U32Array:
    """Low-degree extension on g·K in bit-reversed row order (what the trees commit)."""
    return coset_lde(trace, log_blowup, GENERATOR, bit_reversed=True)


@dataclass
class RoundCommitment:
    """One round's matrices (bit-reversed LDEs, tree order) and their mixed-height tree."""

    rnd: Round
    slots: list[MatrixSlot]
    ldes: list[U32Array]
    tree: MatrixCommitment

    @property
    def root(self) -> bytes:
        """The tree's root."""
        return self.tree.root

    def lde_of(self, table: int) -> U32Array | None:
        """Return the LDE a table committed in this round, if any."""
        for slot, m in zip(self.slots, self.ldes, strict=True):
            if slot.table == table:
                return m
        return None


def commit_round(rnd: Round, slots: list[MatrixSlot], ldes: list[U32Array]) -> RoundCommitment:
    """Build the round's tree."""
    return RoundCommitment(rnd, slots, ldes, MatrixCommitment.commit(ldes))


def open_round(rc: RoundCommitment, query_indices: Sequence[int], log_max: int) -> TreeOpening:
    """Open every matrix of the round at the queries (distinct indices, ascending)."""
    shift = log_max - rc.tree.log_max_height
    indices = sorted({i >> shift for i in query_indices})
    opening = rc.tree.open(indices)
    rows = tuple(tuple(tuple(int(v) for v in row) for row in m) for m in opening.rows)
    return TreeOpening(rows, tuple(opening.proof.siblings))


def bitrev_points(log_size: int) -> U32Array:
    """Return the points of g·K (|K| = 2^log_size) in bit-reversed order.

    Built as 2^hi blocks: block c is g·ω^rev(c) times the points of the subgroup of size
    2^(log_size − hi) in bit-reversed order (no per-element bit reversal needed).
    """
    hi = min(4, log_size)
    lo = log_size - hi
    base = coset_points(lo)[bit_reverse_indices(lo)]
    omega = two_adic_generator(log_size)
    out = np.empty(1 << log_size, dtype=np.uint32)
    for c, r in enumerate(bit_reverse_indices(hi)):
        out[c << lo : (c + 1) << lo] = vscale(base, GENERATOR * pow(omega, int(r), P) % P)
    return out


def minimal_polynomial(z: Ext4) -> list[int]:
    """Base-field coefficients c0…c3 of Π_k (X − z^(p^k)) = X^4 + c3·X^3 + … + c0."""
    conjugates = [z]
    for _ in range(3):
        conjugates.append(conjugates[-1] ** P)
    poly = [Ext4.one()]  # coefficients, lowest first
    for c in conjugates:
        shifted = [Ext4.zero(), *poly]
        poly = [shifted[k] - c * (poly[k] if k < len(poly) else Ext4.zero())
                for k in range(len(shifted))]  # fmt: skip
    if not all(c.is_base() for c in poly):  # symmetric functions of conjugates: in F_p
        raise ArithmeticError("minimal polynomial has coefficients outside the base field")
    return [c.coeffs[0] for c in poly[:4]]


def inverse_numerator(z: Ext4, minpoly: list[int]) -> list[Ext4]:
    """Coefficients (lowest first) of the cubic m(X)/(X − z): 1/(x − z) = that(x)/m(x)."""
    b2 = z + minpoly[3]
    b1 = z * b2 + minpoly[2]
    b0 = z * b1 + minpoly[1]
    return [b0, b1, b2, Ext4.one()]


@njit(cache=True, parallel=True)
def _minpoly_values(x: np.ndarray, c: np.ndarray, out: np.ndarray) -> None:
    """out[i] = x^4 + c3·x^3 + c2·x^2 + c1·x + c0 (all canonical)."""
    for i in prange(x.shape[0]):
        xm = to_mont(x[i])
        acc = add_mod(x[i], c[3])
        acc = add_mod(mont_mul(acc, xm), c[2])
        acc = add_mod(mont_mul(acc, xm), c[1])
        out[i] = add_mod(mont_mul(acc, xm), c[0])


@njit(cache=True, inline="always")
def _cubic_at(q: np.ndarray, xm: np.uint32) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """q3·x^3 + … + q0 for Montgomery-form ext coefficients q (4, 4); x in Montgomery form."""
    v0, v1, v2, v3 = q[3, 0], q[3, 1], q[3, 2], q[3, 3]
    for k in range(2, -1, -1):
        v0 = add_mod(mont_mul(v0, xm), q[k, 0])
        v1 = add_mod(mont_mul(v1, xm), q[k, 1])
        v2 = add_mod(mont_mul(v2, xm), q[k, 2])
        v3 = add_mod(mont_mul(v3, xm), q[k, 3])
    return v0, v1, v2, v3


@njit(cache=True, parallel=True)
def _deep_kernel(
    s: np.ndarray,
    t: np.ndarray,
    x: np.ndarray,
    inv_m1: np.ndarray,
    inv_m2: np.ndarray,
    q1: np.ndarray,
    q2: np.ndarray,
    s_zeta: np.ndarray,
    t_next: np.ndarray,
    out: np.ndarray,
) -> None:
    """Set out = (S − S(ζ))·q1(x)/m1(x) + (T − T(ζω))·q2(x)/m2(x); q2 already carries α."""
    for i in prange(out.shape[0]):
        xm = to_mont(x[i])
        a0, a1, a2, a3 = _cubic_at(q1, xm)  # Montgomery form
        b0, b1, b2, b3 = _cubic_at(q2, xm)
        u0, u1, u2, u3 = ext_mul_mont(
            sub_mod(s[i, 0], s_zeta[0]), sub_mod(s[i, 1], s_zeta[1]),
            sub_mod(s[i, 2], s_zeta[2]), sub_mod(s[i, 3], s_zeta[3]), a0, a1, a2, a3,
        )  # fmt: skip
        w0, w1, w2, w3 = ext_mul_mont(
            sub_mod(t[i, 0], t_next[0]), sub_mod(t[i, 1], t_next[1]),
            sub_mod(t[i, 2], t_next[2]), sub_mod(t[i, 3], t_next[3]), b0, b1, b2, b3,
        )  # fmt: skip
        f1 = to_mont(inv_m1[i])
        f2 = to_mont(inv_m2[i])
        out[i, 0] = add_mod(mont_mul(u0, f1), mont_mul(w0, f2))
        out[i, 1] = add_mod(mont_mul(u1, f1), mont_mul(w1, f2))
        out[i, 2] = add_mod(mont_mul(u2, f1), mont_mul(w2, f2))
        out[i, 3] = add_mod(mont_mul(u3, f1), mont_mul(w3, f2))


def _mont_ext(values: Sequence[Ext4]) -> U32Array:
    return np.array([[(c << 32) % P for c in e.coeffs] for e in values], dtype=np.uint32)


def _inverse_parts(x: U32Array, point: Ext4) -> tuple[U32Array, list[Ext4]]:
    """1/m(x) for every x, and the cubic numerator's coefficients (1/(x − pt) = cubic/m)."""
    minpoly = minimal_polynomial(point)
    values = np.empty_like(x)
    _minpoly_values(x, np.array(minpoly, dtype=np.uint32), values)
    return batch_inverse(values), inverse_numerator(point, minpoly)


@dataclass(frozen=True)
class DeepSource:
    """A committed matrix as the DEEP batch needs it: values on H, or coefficients."""

    data: U32Array
    is_coefficients: bool


def reduced_opening(
    log_size: int,
    log_blowup: int,
    entries: Sequence[DeepEntry],
    sources: dict[tuple[Round, int], DeepSource],
    openings: Sequence[TableOpenings],
    alpha: Ext4,
    alpha_powers: Sequence[Ext4],
    zeta: Ext4,
    zeta_next: Ext4,
) -> U32Array:
    """Compute the DEEP quotient batch of one height class on its LDE domain (bit-reversed).

    S and T are linear in the columns, so they are combined on the trace (n rows) and
    extended once, instead of combining every column of the (larger) LDE.
    """
    n = 1 << (log_size - log_blowup)
    t_evals = np.zeros((n, 4), dtype=np.uint32)
    q_coeffs = np.zeros((n, 4), dtype=np.uint32)
    for entry in entries:
        source = sources[(entry.slot.round, entry.slot.table)]
        coeffs = np.array([c.coeffs for c in column_coefficients(entry, alpha_powers)])
        comb = ext_combine_columns(source.data, coeffs.astype(np.uint32))
        if source.is_coefficients:
            q_coeffs = vadd(q_coeffs, comb)
        else:
            t_evals = vadd(t_evals, comb)
    t = coset_lde(t_evals, log_blowup, GENERATOR, bit_reversed=True)
    q = bit_reverse_rows(coset_ntt(q_coeffs, GENERATOR, log_blowup))
    s = vadd(t, q)
    s_zeta, t_next = class_point_sums(entries, alpha_powers, openings)
    x = bitrev_points(log_size)
    inv_m1, q1 = _inverse_parts(x, zeta)
    inv_m2, q2 = _inverse_parts(x, zeta_next)
    out = np.empty((1 << log_size, 4), dtype=np.uint32)
    _deep_kernel(
        s, t, x, inv_m1, inv_m2, _mont_ext(q1), _mont_ext([alpha * c for c in q2]),
        s_zeta.to_array(), t_next.to_array(), out,
    )  # fmt: skip
    return out
