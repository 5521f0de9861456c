"""Poseidon2 over BabyBear in bulk: the numba batch permutation and compression.

The permutation, its constants and the readable reference live in
``heliostat.primitives.poseidon2`` (every layer uses them); this module runs the same
permutation over many states at once for the prover.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from heliostat.primitives.poseidon2 import (
    DIGEST_WIDTH,
    EXTERNAL_FINAL,
    EXTERNAL_INITIAL,
    INTERNAL,
    INTERNAL_DIAGONAL,
    ROUNDS_F,
    ROUNDS_P,
    SBOX_DEGREE,
    WIDTH,
    compress,
    permute,
)
from heliostat.stark import _poseidon2_kernels as _k
from heliostat.stark.field import P, as_field_array
from heliostat.stark.kernel_errors import ShapeError

__all__ = [
    "DIGEST_WIDTH",
    "EXTERNAL_FINAL",
    "EXTERNAL_INITIAL",
    "INTERNAL",
    "INTERNAL_DIAGONAL",
    "ROUNDS_F",
    "ROUNDS_P",
    "SBOX_DEGREE",
    "WIDTH",
    "compress",
    "compress_batch",
    "permute",
    "permute_batch",
]


def _mont(values: Any) -> NDArray[np.uint32]:
    arr = np.asarray(values, dtype=np.uint64)
    return ((arr << np.uint64(32)) % np.uint64(P)).astype(np.uint32)


_EXT_INITIAL_MONT = _mont(EXTERNAL_INITIAL)
_EXT_FINAL_MONT = _mont(EXTERNAL_FINAL)
_INTERNAL_MONT = _mont(INTERNAL)
_DIAGONAL_MONT = _mont(INTERNAL_DIAGONAL)


def permute_batch(states: Any) -> NDArray[np.uint32]:
    """Apply the permutation to every row of an (n, 16) array of canonical elements."""
    arr = as_field_array(states)
    if arr.ndim != 2 or arr.shape[1] != WIDTH:
        raise ShapeError("states are an (n, 16) array", expected=WIDTH, got=arr.shape)
    out = np.empty_like(arr)
    _k.permute_kernel(arr, out, _EXT_INITIAL_MONT, _EXT_FINAL_MONT, _INTERNAL_MONT, _DIAGONAL_MONT)
    return out


def compress_batch(left: Any, right: Any) -> NDArray[np.uint32]:
    """Row-wise ``compress``: (n, 8) and (n, 8) → (n, 8)."""
    a, b = as_field_array(left), as_field_array(right)
    if a.ndim != 2 or a.shape[1] != DIGEST_WIDTH or a.shape != b.shape:
        raise ShapeError(
            "digests are (n, 8) arrays of equal shape", expected=DIGEST_WIDTH, got=b.shape
        )
    return np.ascontiguousarray(permute_batch(np.concatenate([a, b], axis=1))[:, :DIGEST_WIDTH])
