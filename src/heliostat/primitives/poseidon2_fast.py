"""Poseidon2 (BabyBear, width 16) one state at a time in numba: the syscall, the state tree.

The readable reference and the constants are ``heliostat.primitives.poseidon2``; this is the
same permutation over uint64 words with constant-modulus reductions. It exists because the
reference costs ~0.4 ms a call and the prover's batch kernel (``heliostat.stark.poseidon2``,
which the svm layer may not import) is parallel and pays ~0.2 ms to start its threads, while
the kernel image calls the syscall thousands of times per batch, one state at a time.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from heliostat.primitives.poseidon2 import (
    EXTERNAL_FINAL,
    EXTERNAL_INITIAL,
    INTERNAL,
    INTERNAL_DIAGONAL,
    P,
)

# Module-level arrays are frozen into the compiled code as constants (numba globals).
_P = np.uint64(P)
_EXT_INITIAL = np.array(EXTERNAL_INITIAL, dtype=np.uint64)
_EXT_FINAL = np.array(EXTERNAL_FINAL, dtype=np.uint64)
_INTERNAL = np.array(INTERNAL, dtype=np.uint64)
_DIAGONAL = np.array(INTERNAL_DIAGONAL, dtype=np.uint64)


@njit(cache=True, inline="always")
def _sbox(x: np.uint64) -> np.uint64:
    x2 = (x * x) % _P
    x3 = (x2 * x) % _P
    x4 = (x2 * x2) % _P
    return (x3 * x4) % _P


@njit(cache=True, inline="always")
def _external_linear(s: NDArray[np.uint64]) -> None:
    # M4 = [[2,3,1,1],[1,2,3,1],[1,1,2,3],[3,1,1,2]] on each 4-chunk (inputs < p, so every
    # output is below 7p), then each element plus the sum of its residue class mod 4.
    for k in range(4):
        x0, x1, x2, x3 = s[4 * k], s[4 * k + 1], s[4 * k + 2], s[4 * k + 3]
        s[4 * k] = 2 * x0 + 3 * x1 + x2 + x3
        s[4 * k + 1] = x0 + 2 * x1 + 3 * x2 + x3
        s[4 * k + 2] = x0 + x1 + 2 * x2 + 3 * x3
        s[4 * k + 3] = 3 * x0 + x1 + x2 + 2 * x3
    for r in range(4):
        total = s[r] + s[4 + r] + s[8 + r] + s[12 + r]
        for k in range(4):
            s[4 * k + r] = (s[4 * k + r] + total) % _P


@njit(cache=True)
def permute_in_place(s: NDArray[np.uint64]) -> None:
    """Apply Poseidon2 to 16 canonical uint64 words in place."""
    _external_linear(s)
    for r in range(_EXT_INITIAL.shape[0]):
        for i in range(16):
            s[i] = _sbox((s[i] + _EXT_INITIAL[r, i]) % _P)
        _external_linear(s)
    for r in range(_INTERNAL.shape[0]):
        s[0] = _sbox((s[0] + _INTERNAL[r]) % _P)
        total = np.uint64(0)
        for i in range(16):
            total += s[i]
        for i in range(16):
            s[i] = (total + _DIAGONAL[i] * s[i]) % _P
    for r in range(_EXT_FINAL.shape[0]):
        for i in range(16):
            s[i] = _sbox((s[i] + _EXT_FINAL[r, i]) % _P)
        _external_linear(s)


@njit(cache=True)
def _compress_rows(
    left: NDArray[np.uint32], right: NDArray[np.uint32], out: NDArray[np.uint32]
) -> None:
    s = np.empty(16, dtype=np.uint64)
    for row in range(left.shape[0]):
        for i in range(8):
            s[i] = left[row, i]
            s[8 + i] = right[row, i]
        permute_in_place(s)
        for i in range(8):
            out[row, i] = s[i]


@njit(cache=True)
def permute_le_bytes(buffer: NDArray[np.uint8]) -> int:
    """Permute 16 little-endian u32 words held in 64 bytes, in place.

    Returns -1, or the position of the first word that is not canonical (nothing written).
    One call does the syscall's whole job, so the VM pays one numba dispatch per permutation.
    """
    s = np.empty(16, dtype=np.uint64)
    for i in range(16):
        word = np.uint64(0)
        for k in range(4):
            word |= np.uint64(buffer[4 * i + k]) << np.uint64(8 * k)
        if word >= _P:
            return i
        s[i] = word
    permute_in_place(s)
    for i in range(16):
        for k in range(4):
            buffer[4 * i + k] = np.uint8((s[i] >> np.uint64(8 * k)) & np.uint64(0xFF))
    return -1


def permute_words(words: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """Return Poseidon2 of 16 canonical words (the caller checks canonicity and shape)."""
    state = words.astype(np.uint64)
    permute_in_place(state)
    return state.astype(np.uint32)


def compress_rows(left: NDArray[np.uint32], right: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """Row-wise Plonky3 TruncatedPermutation of two (n, 8) canonical arrays, single-threaded."""
    out = np.empty_like(left)
    _compress_rows(np.ascontiguousarray(left), np.ascontiguousarray(right), out)
    return out
