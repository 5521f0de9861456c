"""Prover side of the commitment scheme: LDEs, round trees, openings, DEEP reduced openings."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from heliostat.stark._deep_kernels import deep_kernel
from heliostat.stark.extension import (
    Ext4,
    ext_add,
    ext_combine_columns,
    ext_from_base,
    ext_inv,
    ext_mul,
    ext_scale,
    ext_sub,
)
from heliostat.stark.field import GENERATOR, P, coset_points, two_adic_generator, vadd, vscale
from heliostat.stark.kernel_errors import FieldError
from heliostat.stark.merkle import MatrixCommitment
from heliostat.stark.ntt import (
    bit_reverse_indices,
    bit_reverse_rows,
    coset_lde,
    coset_ntt,
    intt,
)
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
    """Open every matrix of the round at the queries: each matrix at its distinct rows."""
    tree_max = rc.tree.log_max_height
    indices = sorted({i >> (log_max - tree_max) for i in query_indices})
    opening = rc.tree.open(indices)
    rows = []
    for slot, matrix_rows in zip(rc.slots, opening.rows, strict=True):
        shift = tree_max - slot.log_height
        keep = [k for k, i in enumerate(indices) if k == 0 or indices[k - 1] >> shift != i >> shift]
        rows.append(tuple(tuple(int(v) for v in matrix_rows[k]) for k in keep))
    return TreeOpening(tuple(rows), tuple(opening.proof.siblings))


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


def _mont_ext(values: Sequence[Ext4]) -> U32Array:
    return np.array([[(c << 32) % P for c in e.coeffs] for e in values], dtype=np.uint32)


@dataclass(frozen=True)
class DeepSource:
    """A committed matrix as the DEEP batch needs it: values on H, or coefficients."""

    data: U32Array
    is_coefficients: bool


def _combined_sources(
    n: int,
    entries: Sequence[DeepEntry],
    sources: dict[tuple[Round, int], DeepSource],
    alpha_powers: Sequence[Ext4],
) -> tuple[U32Array, U32Array, U32Array]:
    """Return S's and T's trace parts on H and S's quotient part as coefficients ((n, 4) each)."""
    s_evals = np.zeros((n, 4), dtype=np.uint32)
    t_evals = np.zeros((n, 4), dtype=np.uint32)
    q_coeffs = np.zeros((n, 4), dtype=np.uint32)
    for entry in entries:
        source = sources[(entry.slot.round, entry.slot.table)]
        coeffs = np.array(
            [c.coeffs for c in column_coefficients(entry, alpha_powers)], dtype=np.uint32
        )
        comb = ext_combine_columns(source.data, coeffs)
        if source.is_coefficients:
            q_coeffs = vadd(q_coeffs, comb)
            continue
        s_evals = vadd(s_evals, comb)
        cols = list(entry.next_columns)
        if len(cols) == entry.slot.width:
            t_evals = vadd(t_evals, comb)
        elif cols:
            part = np.ascontiguousarray(source.data[:, cols])
            t_evals = vadd(t_evals, ext_combine_columns(part, np.ascontiguousarray(coeffs[cols])))
    return s_evals, t_evals, q_coeffs


def reduced_opening_reference(
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
    """Readable reference of ``reduced_opening``: the formula, column by column."""
    n = 1 << (log_size - log_blowup)
    s_evals, t_evals, q_coeffs = _combined_sources(n, entries, sources, alpha_powers)
    t = coset_lde(t_evals, log_blowup, GENERATOR, bit_reversed=True)
    s = coset_lde(s_evals, log_blowup, GENERATOR, bit_reversed=True)
    s = vadd(s, bit_reverse_rows(coset_ntt(q_coeffs, GENERATOR, log_blowup)))
    s_zeta, t_next = class_point_sums(entries, alpha_powers, openings)
    x = ext_from_base(bitrev_points(log_size))
    inv1 = ext_inv(ext_sub(x, np.broadcast_to(zeta.to_array(), x.shape)))
    inv2 = ext_inv(ext_sub(x, np.broadcast_to(zeta_next.to_array(), x.shape)))
    first = ext_mul(ext_sub(s, np.broadcast_to(s_zeta.to_array(), s.shape)), inv1)
    second = ext_mul(ext_sub(t, np.broadcast_to(t_next.to_array(), t.shape)), inv2)
    return ext_add(first, ext_scale(second, alpha))


@functools.lru_cache(maxsize=8)
def _point_parts(log_size: int) -> tuple[U32Array, U32Array, int]:
    """Bit-reversed points of g·K (|K| = 2^log_size) as base[i mod 2^lo]·shift[i >> lo].

    base holds the subgroup of size 2^lo in bit-reversed order, shift[c] = g·ω^rev(c)
    (Montgomery form): the top bits of a bit-reversed index pick the coset of that subgroup.
    """
    lo = min(log_size, 16)
    hi = log_size - lo
    base = coset_points(lo)[bit_reverse_indices(lo)]
    omega = two_adic_generator(log_size)
    shifts = [(GENERATOR * pow(omega, int(r), P) << 32) % P for r in bit_reverse_indices(hi)]
    return base, np.array(shifts, dtype=np.uint32), lo


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
    extended once, instead of combining every column of the (larger) LDE: T's coefficients
    and S's (trace part plus the quotient chunks') side by side are one 8-column extension.
    """
    n = 1 << (log_size - log_blowup)
    s_evals, t_evals, q_coeffs = _combined_sources(n, entries, sources, alpha_powers)
    both = np.empty((n, 8), dtype=np.uint32)
    both[:, :4] = intt(t_evals)
    both[:, 4:] = vadd(intt(s_evals), q_coeffs)
    ts = coset_ntt(both, GENERATOR, log_blowup, bit_reversed=True)
    s_zeta, t_next = class_point_sums(entries, alpha_powers, openings)
    base, shifts, lo = _point_parts(log_size)
    m1, m2 = minimal_polynomial(zeta), minimal_polynomial(zeta_next)
    q1 = inverse_numerator(zeta, m1)
    q2 = [alpha * c for c in inverse_numerator(zeta_next, m2)]
    out = np.empty((1 << log_size, 4), dtype=np.uint32)
    zero_at = np.full(max(1, min(256, out.shape[0] >> 12)), -1, dtype=np.int64)
    deep_kernel(
        ts, base, shifts, lo, np.array(m1, dtype=np.uint32), np.array(m2, dtype=np.uint32),
        _mont_ext(q1), _mont_ext(q2), s_zeta.to_array(), t_next.to_array(), out, zero_at,
    )  # fmt: skip
    if (zero_at >= 0).any():  # ζ or ζω in the base field: probability ~2^-93
        first = int(zero_at[zero_at >= 0].min())
        raise FieldError(f"x − ζ vanishes at row {first}", reason="zero_inverse", got=first)
    return out
