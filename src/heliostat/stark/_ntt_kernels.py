"""numba kernels for batched radix-2 NTTs over the rows of a (n, cols) matrix.

Butterflies combine whole rows, so the inner loop runs over contiguous columns and
vectorises. Stages are processed in groups of ``k`` consecutive stages: each group splits into
independent sub-transforms of 2^k rows that fit in the L2 cache, so a group costs one pass over
memory instead of ``k``. Every sub-transform is gathered into a contiguous buffer (strided
rows at power-of-two distances would otherwise map to the same cache sets), and the gather of
the first group also does the input permutation, scaling or zero-padding a transform needs,
so none of them costs a pass of its own.

Twiddle tables hold ω_{2h}^j·R mod p at index h + j (h = 2^s, j < h) for each stage s, in
Montgomery form, so one ``mont_mul`` multiplies a canonical value by the canonical twiddle.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from heliostat.stark._field_kernels import add_mod, mont_mul, sub_mod, to_mont

# Upper bound on parallel work items per kernel call (each allocates one scratch buffer).
_MAX_CHUNKS = 1024


@njit(cache=True, inline="always")
def bitrev(i: int, log_n: int) -> int:
    """Reverse the low ``log_n`` bits of ``i``."""
    j = 0
    for b in range(log_n):
        j |= ((i >> b) & 1) << (log_n - 1 - b)
    return j


@njit(cache=True)
def stage_twiddles_kernel(omegas: np.ndarray, out: np.ndarray) -> None:
    """out[h + j] = ω_{2h}^j·R for h = 2^s; ``omegas[s]`` is ω_{2^(s+1)} (canonical)."""
    n = out.shape[0]
    out[0] = 0
    h = 1
    s = 0
    while h < n:
        w_mont = to_mont(omegas[s])
        acc = to_mont(np.uint32(1))
        for j in range(h):
            out[h + j] = acc
            acc = mont_mul(acc, w_mont)
        h *= 2
        s += 1


@njit(cache=True, inline="always")
def _dit_stages(buf: np.ndarray, k: int, s_lo: int, r: int, tw: np.ndarray) -> None:
    """Run DIT stages s_lo .. s_lo+k−1 on the 2^k gathered rows of a sub-transform.

    Buffer row t is transform row (…)·2^(s_lo+k) + t·2^s_lo + r, so the twiddle of the pair
    (t, t + 2^ds) in stage s = s_lo + ds is ω_(2^(s+1))^((t mod 2^ds)·2^s_lo + r).
    """
    cols = buf.shape[1]
    size = 1 << k
    for ds in range(k):
        hs = 1 << ds  # butterfly distance in units of t
        h = hs << s_lo
        for tb in range(0, size, 2 * hs):
            for t_off in range(hs):
                w = tw[h + ((t_off << s_lo) | r)]
                i0 = tb + t_off
                i1 = i0 + hs
                for c in range(cols):
                    x = buf[i0, c]
                    y = mont_mul(buf[i1, c], w)
                    buf[i0, c] = add_mod(x, y)
                    buf[i1, c] = sub_mod(x, y)


@njit(cache=True, inline="always")
def _dif_stages(buf: np.ndarray, k: int, s_lo: int, r: int, tw: np.ndarray) -> None:
    """Run DIF stages s_lo+k−1 down to s_lo on the 2^k gathered rows (see ``_dit_stages``)."""
    cols = buf.shape[1]
    size = 1 << k
    for ds in range(k - 1, -1, -1):
        hs = 1 << ds
        h = hs << s_lo
        for tb in range(0, size, 2 * hs):
            for t_off in range(hs):
                w = tw[h + ((t_off << s_lo) | r)]
                i0 = tb + t_off
                i1 = i0 + hs
                for c in range(cols):
                    x = buf[i0, c]
                    y = buf[i1, c]
                    buf[i0, c] = add_mod(x, y)
                    buf[i1, c] = mont_mul(sub_mod(x, y), w)


@njit(cache=True, inline="always")
def _run_stages(buf: np.ndarray, k: int, s_lo: int, r: int, tw: np.ndarray, dif: bool) -> None:
    if dif:
        _dif_stages(buf, k, s_lo, r, tw)
    else:
        _dit_stages(buf, k, s_lo, r, tw)


@njit(cache=True, parallel=True)
def stage_group_kernel(
    src: np.ndarray,
    dst: np.ndarray,
    tw: np.ndarray,
    s_lo: int,
    k: int,
    dif: bool,
    src_bitrev: bool,
    factors_mont: np.ndarray,
) -> None:
    """Apply stages [s_lo, s_lo + k) of a DIT (or DIF, in reverse) transform.

    Input row i is ``src[j]`` with j = rev(i) if ``src_bitrev`` else i, times
    ``factors_mont[j]`` (n factors), ``factors_mont[0]`` (one) or nothing (none); results go
    to ``dst``. Each sub-transform reads and writes only its own rows, so ``src`` may be
    ``dst`` unless ``src_bitrev`` is set.
    """
    n, cols = dst.shape
    n_factors = factors_mont.shape[0]
    log_n = 0
    while (1 << log_n) < n:
        log_n += 1
    s_hi = s_lo + k
    n_sub = n >> k
    low_mask = (1 << s_lo) - 1
    stride = 1 << s_lo
    size = 1 << k
    n_chunks = min(n_sub, _MAX_CHUNKS)
    for ch in prange(n_chunks):
        buf = np.empty((size, cols), dtype=np.uint32)
        for sub in range(ch * n_sub // n_chunks, (ch + 1) * n_sub // n_chunks):
            r = sub & low_mask
            base = ((sub >> s_lo) << s_hi) | r
            for t in range(size):
                row = base + t * stride
                src_row = bitrev(row, log_n) if src_bitrev else row
                if n_factors:
                    f = factors_mont[src_row if n_factors > 1 else 0]
                    for c in range(cols):
                        buf[t, c] = mont_mul(src[src_row, c], f)
                else:
                    for c in range(cols):
                        buf[t, c] = src[src_row, c]
            _run_stages(buf, k, s_lo, r, tw, dif)
            for t in range(size):
                row = base + t * stride
                for c in range(cols):
                    dst[row, c] = buf[t, c]


@njit(cache=True, parallel=True)
def lde_first_group_kernel(
    coeffs: np.ndarray,
    dst: np.ndarray,
    tw: np.ndarray,
    log_blowup: int,
    k: int,
    coeffs_bitrev: bool,
    factors_mont: np.ndarray,
) -> None:
    """Spread n coefficients into a size n·2^b DIT and run its stages [b, b + k) at once.

    The bit-reversed input of the padded transform holds coefficient i (times factor[i]) at
    row rev(i)·2^b and zeros below it; the first b stages turn each block of 2^b rows into
    copies of its first row. So input row j·2^b + r′ equals coefficient rev_n(j) for every r′,
    and the sub-transforms of this group gather straight from ``coeffs`` (row j if
    ``coeffs_bitrev`` else row rev_n(j)) instead of from a materialised spread.
    """
    n, cols = coeffs.shape
    log_n = 0
    while (1 << log_n) < n:
        log_n += 1
    s_lo = log_blowup
    s_hi = s_lo + k
    n_sub = dst.shape[0] >> k
    low_mask = (1 << s_lo) - 1
    stride = 1 << s_lo
    size = 1 << k
    n_chunks = min(n_sub, _MAX_CHUNKS)
    for ch in prange(n_chunks):
        buf = np.empty((size, cols), dtype=np.uint32)
        for sub in range(ch * n_sub // n_chunks, (ch + 1) * n_sub // n_chunks):
            r = sub & low_mask
            block0 = (sub >> s_lo) << k  # first coefficient block j of this sub-transform
            for t in range(size):
                j = block0 + t
                i = bitrev(j, log_n)
                src_row = j if coeffs_bitrev else i
                f = factors_mont[i]
                for c in range(cols):
                    buf[t, c] = mont_mul(coeffs[src_row, c], f)
            _dit_stages(buf, k, s_lo, r, tw)
            base = ((sub >> s_lo) << s_hi) | r
            for t in range(size):
                row = base + t * stride
                for c in range(cols):
                    dst[row, c] = buf[t, c]


@njit(cache=True, parallel=True)
def bitrev_copy_kernel(src: np.ndarray, dst: np.ndarray, log_n: int) -> None:
    """dst[rev(i)] = src[i]."""
    n, cols = src.shape
    for i in prange(n):
        j = bitrev(i, log_n)
        for c in range(cols):
            dst[j, c] = src[i, c]


@njit(cache=True, parallel=True)
def scale_rows_kernel(src: np.ndarray, dst: np.ndarray, factors_mont: np.ndarray) -> None:
    """dst[i, c] = src[i, c]·f[i], factors in Montgomery form."""
    n, cols = src.shape
    for i in prange(n):
        f = factors_mont[i]
        for c in range(cols):
            dst[i, c] = mont_mul(src[i, c], f)


@njit(cache=True)
def bitrev_indices_kernel(log_n: int, out: np.ndarray) -> None:
    for i in range(out.shape[0]):
        out[i] = bitrev(i, log_n)


@njit(cache=True, parallel=True)
def four_step_twiddle_kernel(m: np.ndarray, n1: int, width: int, root_mont: np.ndarray) -> None:
    """Multiply entry [k2, j, c] of ``m``, viewed as (n2, n1, width), by ω^(j·k2).

    ``root_mont[k2]`` is ω^k2 in Montgomery form (ω a primitive (n1·n2)-th root of unity).
    """
    n2 = m.shape[0]
    one = to_mont(np.uint32(1))
    for k2 in prange(n2):
        step = root_mont[k2]
        f = one
        for j in range(n1):
            base = j * width
            for c in range(width):
                m[k2, base + c] = mont_mul(m[k2, base + c], f)
            f = mont_mul(f, step)
