"""Ethereum's Keccak-256 (original 0x01 padding): a reference wrapper and batched numba hashing.

``hash_rows`` implements the Merkle leaf rule: a row's field elements, each written as 4 bytes
big-endian, concatenated and hashed, so a Solidity verifier can hash the calldata slice of an
opened row directly. ``compress_pairs`` hashes two 32-byte digests into their parent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from Crypto.Hash import keccak as _pycryptodome_keccak
from numpy.typing import NDArray

from heliostat.stark import _keccak_kernels as _k
from heliostat.stark.field import as_field_array
from heliostat.stark.kernel_errors import ShapeError

DIGEST_BYTES = 32
RATE_BYTES = 136

U8Array = NDArray[np.uint8]


def keccak256(data: bytes) -> bytes:
    """Return Keccak-256 of ``data`` (as Ethereum's KECCAK256 opcode computes it)."""
    return bytes(_pycryptodome_keccak.new(digest_bits=256, data=data).digest())


def _digests_out(n: int) -> tuple[U8Array, NDArray[np.uint64]]:
    """Allocate a (n, 32) uint8 result and its (n, 4) little-endian u64 view for kernels."""
    out = np.empty((n, DIGEST_BYTES), dtype=np.uint8)
    return out, out.view("<u8")


def hash_rows(m: Any) -> U8Array:
    """Hash each row of a field matrix by the leaf rule → (rows, 32) uint8.

    ``m`` is (rows, cols) or (rows, cols, 4) (extension entries flattened as c0..c3).
    """
    arr = as_field_array(m)
    if arr.ndim < 1:
        raise ShapeError("need a matrix of rows", reason="bad_shape", got=arr.shape)
    mat = arr.reshape(arr.shape[0], -1)
    out, lanes = _digests_out(mat.shape[0])
    _k.hash_rows_kernel(mat, lanes)
    return out


def _digest_array(d: Any) -> U8Array:
    arr = np.ascontiguousarray(d)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != DIGEST_BYTES:
        raise ShapeError(
            "digests are a (n, 32) uint8 array",
            reason="bad_shape",
            expected=(None, DIGEST_BYTES),
            got=(arr.shape, str(arr.dtype)),
        )
    return arr


def compress_pairs(d: Any) -> U8Array:
    """Hash consecutive pairs of digests: out[i] = keccak256(d[2i] ‖ d[2i+1])."""
    arr = _digest_array(d)
    if arr.shape[0] % 2:
        raise ShapeError("need an even number of digests", got=arr.shape[0])
    out, lanes = _digests_out(arr.shape[0] // 2)
    _k.compress_pairs_kernel(arr.view("<u8"), lanes)
    return out


def hash_byte_rows(data: Any) -> U8Array:
    """Keccak-256 of each row of an (n, L) uint8 array → (n, 32)."""
    arr = np.ascontiguousarray(data)
    if arr.dtype != np.uint8 or arr.ndim != 2:
        raise ShapeError("need an (n, L) uint8 array", got=(arr.shape, str(arr.dtype)))
    n, length = arr.shape
    padded_len = (length // RATE_BYTES + 1) * RATE_BYTES
    padded = np.zeros((n, padded_len), dtype=np.uint8)
    padded[:, :length] = arr
    padded[:, length] ^= 0x01
    padded[:, padded_len - 1] ^= 0x80
    out, lanes = _digests_out(n)
    _k.hash_padded_lanes_kernel(padded.view("<u8"), lanes)
    return out
