"""numba kernels for BabyBear arithmetic; the readable reference is in ``field.py``.

Values stay canonical in [0, p) at every array boundary. Multiplication uses Montgomery
reduction with R = 2^32 internally: ``mont_mul(a, b) = a·b·R⁻¹``, so a constant kept in
Montgomery form (``c·R``) multiplies a canonical value straight to a canonical product. Every
intermediate is cast back to 32 bits explicitly: numba widens integer arithmetic to 64 bits,
and only with these casts does LLVM emit packed 32×32→64 multiplies (measured: FACTS.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

P_INT = 2013265921
P32 = np.uint32(P_INT)
P64 = np.uint64(P_INT)
# p⁻¹ mod 2^32 (Plonky3 BabyBear MONTY_MU = 0x88000001)
MU32 = np.uint32(0x88000001)
# R² mod p, to bring a canonical value into Montgomery form
R2_INT = pow(2, 64, P_INT)
R2 = np.uint32(R2_INT)
SHIFT32 = np.uint64(32)


@njit(cache=True, inline="always")
def mont_mul(a: np.uint32, b: np.uint32) -> np.uint32:
    """Return a·b·2⁻³² mod p for a, b < p (result canonical)."""
    t = np.uint64(a) * np.uint64(b)
    m = np.uint32(np.uint32(t) * MU32)
    u = np.uint64(m) * P64
    t_hi = np.uint32(t >> SHIFT32)
    u_hi = np.uint32(u >> SHIFT32)
    r = np.uint32(t_hi - u_hi)
    if t_hi < u_hi:
        r = np.uint32(r + P32)
    return r


@njit(cache=True, inline="always")
def add_mod(a: np.uint32, b: np.uint32) -> np.uint32:
    """Return a + b mod p for canonical a, b."""
    s = np.uint32(a + b)
    if s >= P32:
        s = np.uint32(s - P32)
    return s


@njit(cache=True, inline="always")
def sub_mod(a: np.uint32, b: np.uint32) -> np.uint32:
    """Return a − b mod p for canonical a, b."""
    d = np.uint32(a - b)
    if a < b:
        d = np.uint32(d + P32)
    return d


@njit(cache=True, inline="always")
def mul_mod(a: np.uint32, b: np.uint32) -> np.uint32:
    """Return a·b mod p for canonical a, b (two Montgomery steps)."""
    return mont_mul(mont_mul(a, b), R2)


@njit(cache=True, inline="always")
def to_mont(a: np.uint32) -> np.uint32:
    """Return a·R mod p (Montgomery form of a canonical value)."""
    return mont_mul(a, R2)


@njit(cache=True, inline="always")
def pow_mod(a: np.uint32, e: np.uint64) -> np.uint32:
    """Return a^e mod p by square-and-multiply in Montgomery form."""
    base = to_mont(a)
    acc = to_mont(np.uint32(1))
    while e > np.uint64(0):
        if e & np.uint64(1):
            acc = mont_mul(acc, base)
        base = mont_mul(base, base)
        e = e >> np.uint64(1)
    return mont_mul(acc, np.uint32(1))


# --- elementwise kernels over flat arrays -------------------------------------------------


@njit(cache=True, parallel=True)
def vadd_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for i in prange(a.shape[0]):
        out[i] = add_mod(a[i], b[i])


@njit(cache=True, parallel=True)
def vsub_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for i in prange(a.shape[0]):
        out[i] = sub_mod(a[i], b[i])


@njit(cache=True, parallel=True)
def vmul_kernel(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for i in prange(a.shape[0]):
        out[i] = mul_mod(a[i], b[i])


@njit(cache=True, parallel=True)
def vscale_mont_kernel(a: np.ndarray, s_mont: np.uint32, out: np.ndarray) -> None:
    """Multiply every element by s, given as ``s_mont`` in Montgomery form."""
    for i in prange(a.shape[0]):
        out[i] = mont_mul(a[i], s_mont)


@njit(cache=True, parallel=True)
def vpow_kernel(a: np.ndarray, e: np.uint64, out: np.ndarray) -> None:
    for i in prange(a.shape[0]):
        out[i] = pow_mod(a[i], e)


@njit(cache=True)
def powers_kernel(base: np.uint32, out: np.ndarray) -> None:
    """out[i] = base^i (canonical)."""
    b_mont = to_mont(base)
    acc = np.uint32(1)
    for i in range(out.shape[0]):
        out[i] = acc
        acc = mont_mul(acc, b_mont)


@njit(cache=True)
def _batch_inverse_range(a: np.ndarray, out: np.ndarray, lo: int, hi: int) -> int:
    """out[i] = a[i]⁻¹ for lo ≤ i < hi by Montgomery's trick; return a zero's index or −1."""
    if hi <= lo:
        return -1
    # prefix products in Montgomery form
    acc = to_mont(np.uint32(1))
    for i in range(lo, hi):
        if a[i] == 0:
            return i
        out[i] = acc
        acc = mont_mul(acc, to_mont(a[i]))
    # acc = (Π a)·R; its canonical value is inverted, then brought back to Montgomery form
    inv = to_mont(pow_mod(mont_mul(acc, np.uint32(1)), np.uint64(P_INT - 2)))
    for i in range(hi - 1, lo - 1, -1):
        # out[i] holds (Π_{k<i} a_k)·R; times inv (= (Π_{k≤i} a_k)⁻¹·R) gives a_i⁻¹·R
        out[i] = mont_mul(mont_mul(out[i], inv), np.uint32(1))
        inv = mont_mul(inv, to_mont(a[i]))
    return -1


@njit(cache=True, parallel=True)
def batch_inverse_kernel(a: np.ndarray, out: np.ndarray, zero_at: np.ndarray) -> None:
    """Invert every element, one Montgomery-trick batch per chunk (one chunk per zero_at slot).

    ``zero_at[t]`` receives the index of the first zero in chunk t, or −1.
    """
    n = a.shape[0]
    n_chunks = zero_at.shape[0]
    for t in prange(n_chunks):
        zero_at[t] = _batch_inverse_range(a, out, t * n // n_chunks, (t + 1) * n // n_chunks)
