"""numba kernel of the DEEP quotient (reference: ``pcs_prover.reduced_opening_reference``).

One pass over the extended [T | S] matrix computes, row by row, the point x, both
denominators 1/(x − ζ) and 1/(x − ζω) and the result, with no point, denominator or inverse
arrays in memory. 1/(x − z) = c_z(x)/m_z(x) with m_z the minimal polynomial of z (a quartic
over F_p, so m_z(x) ∈ F_p for x ∈ F_p) and c_z the cubic m_z(X)/(X − z); the two base-field
denominators of a row are inverted as their product d = m_ζ(x)·m_ζω(x) (1/m_ζ = m_ζω/d), and
the d of a chunk of rows by one Montgomery batch.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from heliostat.stark._eval_kernels import ext_mul_mont
from heliostat.stark._field_kernels import P_INT, add_mod, mont_mul, pow_mod, sub_mod, to_mont

_ONE = np.uint32(1)


@njit(cache=True, inline="always")
def _quartic_at(c: np.ndarray, x: np.uint32, xm: np.uint32) -> np.uint32:
    """x^4 + c3·x^3 + c2·x^2 + c1·x + c0 for canonical c and x (xm: x in Montgomery form)."""
    acc = add_mod(x, c[3])
    acc = add_mod(mont_mul(acc, xm), c[2])
    acc = add_mod(mont_mul(acc, xm), c[1])
    return add_mod(mont_mul(acc, xm), c[0])


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
def deep_kernel(
    ts: np.ndarray,
    base: np.ndarray,
    shifts_m: np.ndarray,
    log_lo: int,
    c1: np.ndarray,
    c2: np.ndarray,
    q1_m: np.ndarray,
    q2_m: np.ndarray,
    s_zeta: np.ndarray,
    t_next: np.ndarray,
    out: np.ndarray,
    zero_at: np.ndarray,
) -> None:
    """out[i] = (S_i − S(ζ))·c1(x)/m1(x) + (T_i − T(ζω))·c2(x)/m2(x), ts[i] = (T_i ‖ S_i).

    Row i is the point x = base[i mod 2^log_lo]·shift[i >> log_lo] (bit-reversed coset
    order); ``c1``/``c2`` are the minimal polynomials' low coefficients (canonical),
    ``q1_m``/``q2_m`` the cubic numerators (Montgomery, q2 already times α). One chunk of
    rows per ``zero_at`` slot, which receives the first row whose denominator is 0, or −1.
    """
    n = out.shape[0]
    n_par = zero_at.shape[0]
    mask = (1 << log_lo) - 1
    for ch in prange(n_par):
        i0 = ch * n // n_par
        m = (ch + 1) * n // n_par - i0
        xm_s = np.empty(m, dtype=np.uint32)
        v1_s = np.empty(m, dtype=np.uint32)
        v2_s = np.empty(m, dtype=np.uint32)
        prefix = np.empty(m, dtype=np.uint32)
        acc = to_mont(_ONE)
        zero = -1
        for j in range(m):
            i = i0 + j
            x = mont_mul(base[i & mask], shifts_m[i >> log_lo])
            xm = to_mont(x)
            v1 = to_mont(_quartic_at(c1, x, xm))
            v2 = to_mont(_quartic_at(c2, x, xm))
            d = mont_mul(v1, v2)  # Montgomery form of m1(x)·m2(x)
            if d == 0 and zero < 0:
                zero = i
            xm_s[j] = xm
            v1_s[j] = v1
            v2_s[j] = v2
            prefix[j] = acc
            acc = mont_mul(acc, d)
        zero_at[ch] = zero
        if m == 0 or zero >= 0:
            continue
        # acc = (Π d)·R: invert its canonical value, back to Montgomery form
        inv = to_mont(pow_mod(mont_mul(acc, _ONE), np.uint64(P_INT - 2)))
        for j in range(m - 1, -1, -1):
            i = i0 + j
            d_inv = mont_mul(prefix[j], inv)  # 1/d_j, Montgomery form
            inv = mont_mul(inv, mont_mul(v1_s[j], v2_s[j]))
            f1 = mont_mul(v2_s[j], d_inv)  # 1/m1(x), Montgomery form
            f2 = mont_mul(v1_s[j], d_inv)  # 1/m2(x)
            xm = xm_s[j]
            a0, a1, a2, a3 = _cubic_at(q1_m, xm)
            b0, b1, b2, b3 = _cubic_at(q2_m, xm)
            u0, u1, u2, u3 = ext_mul_mont(
                sub_mod(ts[i, 4], s_zeta[0]), sub_mod(ts[i, 5], s_zeta[1]),
                sub_mod(ts[i, 6], s_zeta[2]), sub_mod(ts[i, 7], s_zeta[3]), a0, a1, a2, a3,
            )  # fmt: skip
            w0, w1, w2, w3 = ext_mul_mont(
                sub_mod(ts[i, 0], t_next[0]), sub_mod(ts[i, 1], t_next[1]),
                sub_mod(ts[i, 2], t_next[2]), sub_mod(ts[i, 3], t_next[3]), b0, b1, b2, b3,
            )  # fmt: skip
            out[i, 0] = add_mod(mont_mul(u0, f1), mont_mul(w0, f2))
            out[i, 1] = add_mod(mont_mul(u1, f1), mont_mul(w1, f2))
            out[i, 2] = add_mod(mont_mul(u2, f1), mont_mul(w2, f2))
            out[i, 3] = add_mod(mont_mul(u3, f1), mont_mul(w3, f2))
