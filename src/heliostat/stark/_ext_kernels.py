"""numba kernels for the degree-4 extension F_p[X]/(X^4 − 11); reference: ``extension.py``.

Extension arrays are flat ``(n, 4)`` uint32 here (the wrappers reshape). Products use the
Montgomery helpers of ``_field_kernels``: one operand is brought into Montgomery form once,
after which each coefficient product is a single ``mont_mul`` with a canonical result.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from heliostat.stark._field_kernels import (
    P_INT,
    R2_INT,
    add_mod,
    mont_mul,
    pow_mod,
    sub_mod,
    to_mont,
)

# 11·R² mod p: mont_mul(b, W_R2) = 11·b·R (Montgomery form of 11·b)
W_R2 = np.uint32(11 * R2_INT % P_INT)
# 11·R mod p: mont_mul(x, W_R) = 11·x for canonical x
W_R = np.uint32((11 << 32) % P_INT)
ONE = np.uint32(1)


@njit(cache=True, inline="always")
def ext_mul_into(
    a0: np.uint32,
    a1: np.uint32,
    a2: np.uint32,
    a3: np.uint32,
    b0: np.uint32,
    b1: np.uint32,
    b2: np.uint32,
    b3: np.uint32,
) -> tuple[np.uint32, np.uint32, np.uint32, np.uint32]:
    """Return (a·b) for canonical coefficient tuples."""
    m0 = to_mont(b0)
    m1 = to_mont(b1)
    m2 = to_mont(b2)
    m3 = to_mont(b3)
    w1 = mont_mul(b1, W_R2)
    w2 = mont_mul(b2, W_R2)
    w3 = mont_mul(b3, W_R2)
    c0 = add_mod(
        add_mod(mont_mul(a0, m0), mont_mul(a1, w3)), add_mod(mont_mul(a2, w2), mont_mul(a3, w1))
    )
    c1 = add_mod(
        add_mod(mont_mul(a0, m1), mont_mul(a1, m0)), add_mod(mont_mul(a2, w3), mont_mul(a3, w2))
    )
    c2 = add_mod(
        add_mod(mont_mul(a0, m2), mont_mul(a1, m1)), add_mod(mont_mul(a2, m0), mont_mul(a3, w3))
    )
    c3 = add_mod(
        add_mod(mont_mul(a0, m3), mont_mul(a1, m2)), add_mod(mont_mul(a2, m1), mont_mul(a3, m0))
    )
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def _ext_mul_block(a_t: np.ndarray, b_t: np.ndarray, c_t: np.ndarray, cnt: int) -> None:
    """c_t[:, l] = a_t[:, l]·b_t[:, l] for l < cnt, on transposed (4, lanes) blocks."""
    for lane in range(cnt):
        c0, c1, c2, c3 = ext_mul_into(
            a_t[0, lane], a_t[1, lane], a_t[2, lane], a_t[3, lane],
            b_t[0, lane], b_t[1, lane], b_t[2, lane], b_t[3, lane],
        )  # fmt: skip
        c_t[0, lane] = c0
        c_t[1, lane] = c1
        c_t[2, lane] = c2
        c_t[3, lane] = c3


@njit(cache=True, parallel=True)
def ext_mul_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray, lanes: int) -> None:
    """out[i] = a[i]·b[i] (or a[i]·b[0] when ``b`` has one row).

    Elements are moved into transposed (4, lanes) blocks so the arithmetic runs across lanes
    and vectorises; ``lanes`` is a runtime value on purpose (a constant trip count gets fully
    unrolled by LLVM, which then does not vectorise).
    """
    n = a.shape[0]
    broadcast = b.shape[0] == 1
    n_blocks = (n + lanes - 1) // lanes
    n_chunks = min(n_blocks, 64)
    for ch in prange(n_chunks):
        a_t = np.empty((4, lanes), dtype=np.uint32)
        b_t = np.empty((4, lanes), dtype=np.uint32)
        c_t = np.empty((4, lanes), dtype=np.uint32)
        if broadcast:
            for lane in range(lanes):
                for k in range(4):
                    b_t[k, lane] = b[0, k]
        for blk in range(ch * n_blocks // n_chunks, (ch + 1) * n_blocks // n_chunks):
            base = blk * lanes
            cnt = min(lanes, n - base)
            for lane in range(cnt):
                for k in range(4):
                    a_t[k, lane] = a[base + lane, k]
            if not broadcast:
                for lane in range(cnt):
                    for k in range(4):
                        b_t[k, lane] = b[base + lane, k]
            _ext_mul_block(a_t, b_t, c_t, cnt)
            for lane in range(cnt):
                for k in range(4):
                    out[base + lane, k] = c_t[k, lane]


@njit(cache=True, parallel=True)
def ext_mul_base_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """out[i] = a[i]·b[i] with ``b`` in the base field."""
    for i in prange(a.shape[0]):
        bm = to_mont(b[i])
        for k in range(4):
            out[i, k] = mont_mul(a[i, k], bm)


@njit(cache=True, inline="always")
def _norm_parts(
    a0: np.uint32, a1: np.uint32, a2: np.uint32, a3: np.uint32
) -> tuple[np.uint32, np.uint32, np.uint32]:
    """Return (n0, n1, d): N = n0 + n1·X² = x·x(−X) and d = n0² − 11·n1² ∈ F_p.

    Writing x = A + X·B with A, B in F_p[Y]/(Y² − 11), Y = X², gives x·(A − X·B) = A² − Y·B².
    """
    a0m = to_mont(a0)
    a1m = to_mont(a1)
    a2w = mont_mul(a2, W_R2)
    a3w = mont_mul(a3, W_R2)
    # n0 = a0² + 11·a2² − 2·11·a1·a3
    t = mont_mul(a1, a3w)
    n0 = sub_mod(add_mod(mont_mul(a0, a0m), mont_mul(a2, a2w)), add_mod(t, t))
    # n1 = 2·a0·a2 − a1² − 11·a3²
    u = mont_mul(a2, a0m)
    n1 = sub_mod(add_mod(u, u), add_mod(mont_mul(a1, a1m), mont_mul(a3, a3w)))
    d = sub_mod(mont_mul(n0, to_mont(n0)), mont_mul(n1, mont_mul(n1, W_R2)))
    return n0, n1, d


@njit(cache=True)
def _ext_inv_range(a: np.ndarray, out: np.ndarray, scratch: np.ndarray, lo: int, hi: int) -> int:
    """out[i] = a[i]⁻¹ for lo ≤ i < hi; return the index of a zero element, or −1.

    The norms d_i ∈ F_p are inverted together (one exponentiation for the range).
    """
    if hi <= lo:
        return -1
    acc = to_mont(ONE)
    for i in range(lo, hi):
        n0, n1, d = _norm_parts(a[i, 0], a[i, 1], a[i, 2], a[i, 3])
        if d == 0:  # the norm vanishes only at zero
            return i
        scratch[i] = acc
        acc = mont_mul(acc, to_mont(d))
    inv = to_mont(pow_mod(mont_mul(acc, ONE), np.uint64(P_INT - 2)))
    for i in range(hi - 1, lo - 1, -1):
        a0, a1, a2, a3 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        n0, n1, d = _norm_parts(a0, a1, a2, a3)
        d_inv_m = mont_mul(scratch[i], inv)  # d⁻¹ in Montgomery form
        inv = mont_mul(inv, to_mont(d))
        # N⁻¹ = (n0 − n1·Y)·d⁻¹ = m0 + m1·Y
        m0 = mont_mul(n0, d_inv_m)
        m1 = mont_mul(sub_mod(np.uint32(0), n1), d_inv_m)
        m0m = to_mont(m0)
        m1m = to_mont(m1)
        m1w = mont_mul(m1, W_R2)
        # x⁻¹ = (A − X·B)·N⁻¹
        out[i, 0] = add_mod(mont_mul(a0, m0m), mont_mul(a2, m1w))
        out[i, 1] = sub_mod(np.uint32(0), add_mod(mont_mul(a1, m0m), mont_mul(a3, m1w)))
        out[i, 2] = add_mod(mont_mul(a0, m1m), mont_mul(a2, m0m))
        out[i, 3] = sub_mod(np.uint32(0), add_mod(mont_mul(a1, m1m), mont_mul(a3, m0m)))
    return -1


@njit(cache=True, parallel=True)
def ext_inv_kernel(
    a: np.ndarray, out: np.ndarray, scratch: np.ndarray, zero_at: np.ndarray
) -> None:
    """Invert every element, one batch per chunk; ``zero_at[t]`` gets chunk t's first zero."""
    n = a.shape[0]
    n_chunks = zero_at.shape[0]
    for t in prange(n_chunks):
        zero_at[t] = _ext_inv_range(a, out, scratch, t * n // n_chunks, (t + 1) * n // n_chunks)


@njit(cache=True)
def ext_powers_kernel(x: np.ndarray, out: np.ndarray) -> None:
    """out[i] = x^i."""
    c0, c1, c2, c3 = ONE, np.uint32(0), np.uint32(0), np.uint32(0)
    for i in range(out.shape[0]):
        out[i, 0] = c0
        out[i, 1] = c1
        out[i, 2] = c2
        out[i, 3] = c3
        c0, c1, c2, c3 = ext_mul_into(c0, c1, c2, c3, x[0], x[1], x[2], x[3])


# Dot products of canonical values accumulate the 62-bit products split into 32-bit halves:
# each half-sum stays below 2^64 for up to 2^32 terms, and one reduction at the end replaces a
# Montgomery reduction per product (measured 1.5× faster).
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32_MOD_P = np.uint64((1 << 32) % P_INT)
_P64 = np.uint64(P_INT)


@njit(cache=True, inline="always")
def _fold_halves(lo: np.uint64, hi: np.uint64) -> np.uint32:
    """Return (hi·2^32 + lo) mod p."""
    return np.uint32(((hi % _P64) * _TWO32_MOD_P + lo % _P64) % _P64)


@njit(cache=True, parallel=True)
def combine_columns_kernel(m: np.ndarray, coeffs_t: np.ndarray, out: np.ndarray) -> None:
    """out[r, k] = Σ_c coeffs[c, k]·m[r, c]; ``coeffs_t`` is the (4, cols) transpose."""
    rows, cols = m.shape
    for r in prange(rows):
        for k in range(4):
            lo = np.uint64(0)
            hi = np.uint64(0)
            for c in range(cols):
                t = np.uint64(m[r, c]) * np.uint64(coeffs_t[k, c])
                lo += t & _LOW32
                hi += t >> np.uint64(32)
            out[r, k] = _fold_halves(lo, hi)


@njit(cache=True, parallel=True)
def weighted_column_sums_kernel(
    weights: np.ndarray, m: np.ndarray, n_chunks: int, partial: np.ndarray
) -> None:
    """partial[t, k, c] = Σ_{r in chunk t} weights[r, k]·m[r, c], reduced mod p."""
    rows, cols = m.shape
    chunk = (rows + n_chunks - 1) // n_chunks
    for t in prange(n_chunks):
        acc_lo = np.zeros((4, cols), dtype=np.uint64)
        acc_hi = np.zeros((4, cols), dtype=np.uint64)
        for r in range(t * chunk, min(rows, (t + 1) * chunk)):
            for k in range(4):
                w = np.uint64(weights[r, k])
                for c in range(cols):
                    prod = np.uint64(m[r, c]) * w
                    acc_lo[k, c] += prod & _LOW32
                    acc_hi[k, c] += prod >> np.uint64(32)
        for k in range(4):
            for c in range(cols):
                partial[t, k, c] = _fold_halves(acc_lo[k, c], acc_hi[k, c])
