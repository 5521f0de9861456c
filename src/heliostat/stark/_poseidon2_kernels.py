"""numba Poseidon2 (BabyBear, width 16) over many states; reference: ``poseidon2.py``.

States are processed in blocks of ``LANES`` rows transposed to (16, LANES), so every step is
a loop over lanes that LLVM vectorises. Inside the kernel values are in Montgomery form
(additions are form-agnostic; constants are stored pre-multiplied by R).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from heliostat.stark._field_kernels import add_mod, mont_mul, to_mont

LANES = 16
WIDTH = 16


@njit(cache=True, inline="always")
def _sbox(x: np.uint32) -> np.uint32:
    x2 = mont_mul(x, x)
    x3 = mont_mul(x2, x)
    x4 = mont_mul(x2, x2)
    return mont_mul(x3, x4)


@njit(cache=True, inline="always")
def _external_linear(st: np.ndarray) -> None:
    """M4 on each 4-chunk, then add the sum of each residue class mod 4."""
    for lane in range(LANES):
        for k in range(4):
            x0 = st[4 * k, lane]
            x1 = st[4 * k + 1, lane]
            x2 = st[4 * k + 2, lane]
            x3 = st[4 * k + 3, lane]
            t01 = add_mod(x0, x1)
            t23 = add_mod(x2, x3)
            t0123 = add_mod(t01, t23)
            t01123 = add_mod(t0123, x1)
            t01233 = add_mod(t0123, x3)
            st[4 * k + 3, lane] = add_mod(t01233, add_mod(x0, x0))  # 3x0 + x1 + x2 + 2x3
            st[4 * k + 1, lane] = add_mod(t01123, add_mod(x2, x2))  # x0 + 2x1 + 3x2 + x3
            st[4 * k, lane] = add_mod(t01123, t01)  # 2x0 + 3x1 + x2 + x3
            st[4 * k + 2, lane] = add_mod(t01233, t23)  # x0 + x1 + 2x2 + 3x3
        for r in range(4):
            s = add_mod(
                add_mod(st[r, lane], st[4 + r, lane]), add_mod(st[8 + r, lane], st[12 + r, lane])
            )
            for k in range(4):
                st[4 * k + r, lane] = add_mod(st[4 * k + r, lane], s)


@njit(cache=True, inline="always")
def _full_round(st: np.ndarray, rc: np.ndarray) -> None:
    for i in range(WIDTH):
        c = rc[i]
        for lane in range(LANES):
            st[i, lane] = _sbox(add_mod(st[i, lane], c))
    _external_linear(st)


@njit(cache=True, parallel=True)
def permute_kernel(
    states: np.ndarray,
    out: np.ndarray,
    ext_initial: np.ndarray,
    ext_final: np.ndarray,
    internal: np.ndarray,
    diagonal: np.ndarray,
) -> None:
    """out[i] = Poseidon2(states[i]); constants and diagonal in Montgomery form."""
    n = states.shape[0]
    n_blocks = (n + LANES - 1) // LANES
    for blk in prange(n_blocks):
        st = np.zeros((WIDTH, LANES), dtype=np.uint32)
        lo = blk * LANES
        cnt = min(LANES, n - lo)
        for lane in range(cnt):
            for i in range(WIDTH):
                st[i, lane] = to_mont(states[lo + lane, i])
        _external_linear(st)
        for r in range(ext_initial.shape[0]):
            _full_round(st, ext_initial[r])
        for r in range(internal.shape[0]):
            c = internal[r]
            for lane in range(LANES):
                st[0, lane] = _sbox(add_mod(st[0, lane], c))
                total = np.uint32(0)
                for i in range(WIDTH):
                    total = add_mod(total, st[i, lane])
                for i in range(WIDTH):
                    st[i, lane] = add_mod(total, mont_mul(st[i, lane], diagonal[i]))
        for r in range(ext_final.shape[0]):
            _full_round(st, ext_final[r])
        for lane in range(cnt):
            for i in range(WIDTH):
                out[lo + lane, i] = mont_mul(st[i, lane], np.uint32(1))
