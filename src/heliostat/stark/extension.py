"""The degree-4 extension F_p[X]/(X^4 − 11) of BabyBear: the ``Ext4`` scalar and array kernels.

Extension arrays are uint32 with a trailing axis of 4 holding c0 + c1·X + c2·X² + c3·X³.
``Ext4`` is the readable reference (the verifier's scalar type); the ``ext_*`` functions are
validated wrappers around numba kernels for bulk work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from heliostat.stark import _ext_kernels as _k
from heliostat.stark.field import (
    P,
    as_field_array,
    batch_chunks,
    inv,
    to_int,
    vadd,
    vneg,
    vsub,
)
from heliostat.stark.kernel_errors import FieldError, ShapeError

W = 11  # X^4 = 11; 11 is not a square mod p (and p ≡ 1 mod 4), so X^4 − 11 is irreducible
DEGREE = 4

U32Array = NDArray[np.uint32]

# Elements per transposed block in the vectorised product kernel (measured best of 16/64/256).
_LANES = 16


class Ext4:
    """An element c0 + c1·X + c2·X² + c3·X³ of F_p[X]/(X^4 − 11); immutable and hashable."""

    __slots__ = ("coeffs",)
    coeffs: tuple[int, int, int, int]

    def __init__(self, c0: int, c1: int = 0, c2: int = 0, c3: int = 0) -> None:
        object.__setattr__(self, "coeffs", (to_int(c0), to_int(c1), to_int(c2), to_int(c3)))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Ext4 is immutable")

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_base(cls, x: int) -> Ext4:
        """Embed a base-field element (any int, reduced mod p)."""
        return cls(x % P)

    @classmethod
    def from_coeffs(cls, coeffs: Sequence[int]) -> Ext4:
        """Build from four canonical coefficients."""
        if len(coeffs) != DEGREE:
            raise ShapeError(
                "an extension element has 4 coefficients",
                reason="bad_shape",
                expected=DEGREE,
                got=len(coeffs),
            )
        return cls(*(int(c) for c in coeffs))

    @classmethod
    def zero(cls) -> Ext4:
        """Return 0."""
        return cls(0)

    @classmethod
    def one(cls) -> Ext4:
        """Return 1."""
        return cls(1)

    @classmethod
    def from_array(cls, a: Any) -> Ext4:
        """Build from a (4,) array."""
        return cls.from_coeffs([int(c) for c in np.asarray(a).reshape(-1)])

    @classmethod
    def from_bytes(cls, data: bytes) -> Ext4:
        """Decode 16 bytes: four 4-byte big-endian canonical coefficients."""
        if len(data) != 4 * DEGREE:
            raise ShapeError(
                "an encoded extension element is 16 bytes",
                reason="bad_shape",
                expected=16,
                got=len(data),
            )
        return cls(*(int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(DEGREE)))

    # --- encoding ---------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Encode as c0‖c1‖c2‖c3, each 4 bytes big-endian (the Merkle leaf convention)."""
        return b"".join(c.to_bytes(4, "big") for c in self.coeffs)

    def to_array(self) -> U32Array:
        """Return the coefficients as a (4,) uint32 array."""
        return np.array(self.coeffs, dtype=np.uint32)

    def is_base(self) -> bool:
        """Tell whether the element lies in the base field."""
        return self.coeffs[1:] == (0, 0, 0)

    # --- arithmetic -------------------------------------------------------------------

    @staticmethod
    def _lift(other: object) -> Ext4 | None:
        if isinstance(other, Ext4):
            return other
        if isinstance(other, int | np.integer):
            return Ext4.from_base(int(other))
        return None

    def __add__(self, other: object) -> Ext4:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        return Ext4(*((a + b) % P for a, b in zip(self.coeffs, o.coeffs, strict=True)))

    __radd__ = __add__

    def __sub__(self, other: object) -> Ext4:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        return Ext4(*((a - b) % P for a, b in zip(self.coeffs, o.coeffs, strict=True)))

    def __rsub__(self, other: object) -> Ext4:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        return o - self

    def __neg__(self) -> Ext4:
        return Ext4(*((-a) % P for a in self.coeffs))

    def __mul__(self, other: object) -> Ext4:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        a, b = self.coeffs, o.coeffs
        # schoolbook product, then fold X^(4+k) = 11·X^k
        prod = [0] * 7
        for i in range(DEGREE):
            for j in range(DEGREE):
                prod[i + j] += a[i] * b[j]
        return Ext4(*((prod[k] + W * (prod[k + 4] if k < 3 else 0)) % P for k in range(DEGREE)))

    __rmul__ = __mul__

    def inverse(self) -> Ext4:
        """Return the inverse, via the norm to F_p[X²] and then to F_p."""
        if self == Ext4.zero():
            raise FieldError("zero has no inverse", reason="zero_inverse")
        a0, a1, a2, a3 = self.coeffs
        # x = A + X·B with A = a0 + a2·Y, B = a1 + a3·Y, Y = X² (Y² = 11);
        # x·(A − X·B) = A² − Y·B² = n0 + n1·Y, and (n0 + n1·Y)(n0 − n1·Y) = n0² − 11·n1².
        n0 = (a0 * a0 + W * a2 * a2 - 2 * W * a1 * a3) % P
        n1 = (2 * a0 * a2 - a1 * a1 - W * a3 * a3) % P
        d_inv = inv((n0 * n0 - W * n1 * n1) % P)
        m0, m1 = n0 * d_inv % P, (-n1) * d_inv % P
        return Ext4(
            (a0 * m0 + W * a2 * m1) % P,
            (-(a1 * m0 + W * a3 * m1)) % P,
            (a0 * m1 + a2 * m0) % P,
            (-(a1 * m1 + a3 * m0)) % P,
        )

    def __truediv__(self, other: object) -> Ext4:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        return self * o.inverse()

    def __rtruediv__(self, other: object) -> Ext4:
        o = self._lift(other)
        if o is None:
            return NotImplemented
        return o * self.inverse()

    def __pow__(self, e: int) -> Ext4:
        base = self if e >= 0 else self.inverse()
        e = abs(e)
        acc = Ext4.one()
        while e:
            if e & 1:
                acc = acc * base
            base = base * base
            e >>= 1
        return acc

    def __eq__(self, other: object) -> bool:
        o = self._lift(other)
        return o is not None and self.coeffs == o.coeffs

    def __hash__(self) -> int:
        return hash(("Ext4", self.coeffs))

    def __repr__(self) -> str:
        return f"Ext4{self.coeffs}"


# --- array kernels ------------------------------------------------------------------------


def _ext_array(a: Any) -> U32Array:
    arr = as_field_array(a)
    if arr.ndim == 0 or arr.shape[-1] != DEGREE:
        raise ShapeError(
            "extension arrays need a trailing axis of 4",
            reason="bad_shape",
            expected=DEGREE,
            got=arr.shape,
        )
    return arr


def _pair(a: Any, b: Any) -> tuple[U32Array, U32Array]:
    aa, bb = _ext_array(a), _ext_array(b)
    if aa.shape != bb.shape:
        raise ShapeError("operands differ in shape", expected=aa.shape, got=bb.shape)
    return aa, bb


def ext_add(a: Any, b: Any) -> U32Array:
    """Elementwise sum of extension arrays."""
    return vadd(*_pair(a, b))


def ext_sub(a: Any, b: Any) -> U32Array:
    """Elementwise difference of extension arrays."""
    return vsub(*_pair(a, b))


def ext_neg(a: Any) -> U32Array:
    """Elementwise negation."""
    return vneg(_ext_array(a))


def ext_mul(a: Any, b: Any) -> U32Array:
    """Elementwise product of extension arrays."""
    aa, bb = _pair(a, b)
    out = np.empty_like(aa)
    _k.ext_mul_kernel(aa.reshape(-1, 4), bb.reshape(-1, 4), out.reshape(-1, 4), _LANES)
    return out


def ext_square(a: Any) -> U32Array:
    """Elementwise square."""
    aa = _ext_array(a)
    return ext_mul(aa, aa)


def ext_scale(a: Any, s: Ext4) -> U32Array:
    """Every element times the extension scalar ``s``."""
    aa = _ext_array(a)
    out = np.empty_like(aa)
    _k.ext_mul_kernel(aa.reshape(-1, 4), s.to_array().reshape(1, 4), out.reshape(-1, 4), _LANES)
    return out


def ext_mul_base(a: Any, b: Any) -> U32Array:
    """Elementwise a·b with ``a`` extension (..., 4) and ``b`` base (...)."""
    aa, bb = _ext_array(a), as_field_array(b)
    if aa.shape[:-1] != bb.shape:
        raise ShapeError(
            "base operand must match the leading shape", expected=aa.shape[:-1], got=bb.shape
        )
    out = np.empty_like(aa)
    _k.ext_mul_base_kernel(aa.reshape(-1, 4), bb.reshape(-1), out.reshape(-1, 4))
    return out


def ext_inv(a: Any) -> U32Array:
    """Elementwise inverse; raises ``FieldError`` if any element is zero."""
    aa = _ext_array(a)
    flat = aa.reshape(-1, 4)
    out = np.empty_like(flat)
    scratch = np.empty(flat.shape[0], dtype=np.uint32)
    zero_at = np.full(batch_chunks(flat.shape[0]), -1, dtype=np.int64)
    _k.ext_inv_kernel(flat, out, scratch, zero_at)
    zeros = zero_at[zero_at >= 0]
    if zeros.size:
        first = int(zeros.min())
        raise FieldError(
            f"element {first} is zero and has no inverse", reason="zero_inverse", got=first
        )
    return out.reshape(aa.shape)


def ext_from_base(b: Any) -> U32Array:
    """Embed a base array (...) as an extension array (..., 4)."""
    bb = as_field_array(b)
    out = np.zeros((*bb.shape, DEGREE), dtype=np.uint32)
    out[..., 0] = bb
    return out


def ext_powers(x: Ext4, n: int) -> U32Array:
    """Return [1, x, x², …, x^(n−1)] as an (n, 4) array."""
    if n < 0:
        raise ShapeError("negative length", got=n)
    out = np.empty((n, DEGREE), dtype=np.uint32)
    _k.ext_powers_kernel(x.to_array(), out)
    return out


def ext_sum(a: Any) -> Ext4:
    """Sum of all elements of an (..., 4) array."""
    aa = _ext_array(a).reshape(-1, 4)
    # each term is below 2^31, so a u64 sum cannot overflow for fewer than 2^33 elements
    sums = aa.astype(np.uint64).sum(axis=0, dtype=np.uint64)
    return Ext4(*(int(s) % P for s in sums))


def ext_combine_columns(m: Any, coeffs: Any) -> U32Array:
    """Row-wise random linear combination: out[r] = Σ_c coeffs[c]·m[r, c] (→ (n, 4))."""
    mm = as_field_array(m)
    cc = _ext_array(coeffs)
    if mm.ndim != 2 or cc.shape != (mm.shape[1], DEGREE):
        raise ShapeError(
            "need m (n, cols) and coeffs (cols, 4)", expected=(mm.shape[-1], 4), got=cc.shape
        )
    out = np.empty((mm.shape[0], DEGREE), dtype=np.uint32)
    _k.combine_columns_kernel(mm, np.ascontiguousarray(cc.T), out)
    return out


def ext_weighted_column_sums(weights: Any, m: Any) -> U32Array:
    """Column-wise weighted sums: out[c] = Σ_r weights[r]·m[r, c] (→ (cols, 4))."""
    ww = _ext_array(weights)
    mm = as_field_array(m)
    if mm.ndim != 2 or ww.shape != (mm.shape[0], DEGREE):
        raise ShapeError(
            "need weights (n, 4) and m (n, cols)", expected=(mm.shape[0], 4), got=ww.shape
        )
    n_chunks = max(1, min(64, mm.shape[0] // 4096))
    partial = np.empty((n_chunks, DEGREE, mm.shape[1]), dtype=np.uint32)
    _k.weighted_column_sums_kernel(ww.reshape(-1, 4), mm, n_chunks, partial)
    total = partial.astype(np.uint64).sum(axis=0) % np.uint64(P)
    return np.ascontiguousarray(total.T.astype(np.uint32))
