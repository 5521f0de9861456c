"""The BabyBear prime field: readable scalar operations on ints and validated array kernels.

Scalars are canonical Python ints in [0, P); arrays are canonical ``np.uint32``. The two-adic
generators and the multiplicative generator are Plonky3's (baby-bear/src/baby_bear.rs,
``TWO_ADIC_GENERATORS`` and ``MONTY_GEN``), so our domains match Plonky3's point for point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from heliostat.stark import _field_kernels as _k
from heliostat.stark.kernel_errors import FieldError, ShapeError

P = 2013265921  # 2^31 − 2^27 + 1
TWO_ADICITY = 27
GENERATOR = 31

# Plonky3 baby-bear/src/baby_bear.rs, TwoAdicData::TWO_ADIC_GENERATORS (canonical values):
# entry k generates the subgroup of order 2^k, and entry k squared is entry k − 1.
_TWO_ADIC_GENERATORS: tuple[int, ...] = (
    0x1, 0x78000000, 0x67055C21, 0x5EE99486, 0xBB4C4E4, 0x2D4CC4DA, 0x669D6090, 0x17B56C64,
    0x67456167, 0x688442F9, 0x145E952D, 0x4FE61226, 0x4C734715, 0x11C33E2A, 0x62C3D2B1,
    0x77CAD399, 0x54C131F4, 0x4CABD6A6, 0x5CF5713F, 0x3E9430E8, 0xBA067A3, 0x18ADC27D,
    0x21FD55BC, 0x4B859B3D, 0x3BD57996, 0x4483D85A, 0x3A26EEF8, 0x1A427A41,
)  # fmt: skip

U32Array = NDArray[np.uint32]


# --- scalars ------------------------------------------------------------------------------


def from_int(x: int) -> int:
    """Reduce any integer (negative included) to its canonical representative."""
    return x % P


def to_int(a: int) -> int:
    """Return ``a`` after checking that it is a canonical element."""
    if not 0 <= a < P:
        raise FieldError(
            f"{a} is not a canonical field element", reason="not_canonical", expected=P, got=a
        )
    return a


def add(a: int, b: int) -> int:
    """Return a + b."""
    return (a + b) % P


def sub(a: int, b: int) -> int:
    """Return a − b."""
    return (a - b) % P


def neg(a: int) -> int:
    """Return −a."""
    return (-a) % P


def mul(a: int, b: int) -> int:
    """Return a·b."""
    return (a * b) % P


def inv(a: int) -> int:
    """Return a⁻¹ (Fermat); zero has no inverse."""
    if a % P == 0:
        raise FieldError("zero has no inverse", reason="zero_inverse")
    return pow(a, P - 2, P)


def power(a: int, e: int) -> int:
    """Return a^e; a negative exponent means a power of the inverse."""
    if e < 0:
        return pow(inv(a), -e, P)
    return pow(a, e, P)


def two_adic_generator(log_n: int) -> int:
    """Return Plonky3's generator of the multiplicative subgroup of order 2^log_n."""
    if not 0 <= log_n <= TWO_ADICITY:
        raise ShapeError(
            f"no subgroup of order 2^{log_n}", reason="too_large", expected=TWO_ADICITY, got=log_n
        )
    return _TWO_ADIC_GENERATORS[log_n]


# --- array edge ---------------------------------------------------------------------------


def as_field_array(x: Any) -> U32Array:
    """Convert ``x`` (array or nested sequence) to a C-contiguous canonical uint32 array."""
    raw = np.asarray(x)
    if raw.dtype != np.uint32:
        if raw.dtype.kind not in "iu" and raw.size:
            raise ShapeError(
                f"field arrays hold integers, got dtype {raw.dtype}",
                reason="bad_dtype",
                expected="uint32",
                got=str(raw.dtype),
            )
        if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= P):
            raise FieldError("array holds non-canonical values", reason="not_canonical")
        return raw.astype(np.uint32, order="C")
    if raw.size and int(raw.max()) >= P:
        raise FieldError(
            "array holds non-canonical values",
            reason="not_canonical",
            expected=P,
            got=int(raw.max()),
        )
    # read-only arrays are copied: numba compiles a separate (slow to build) kernel for them
    usable = raw.flags.c_contiguous and raw.flags.writeable
    return raw if usable else raw.copy(order="C")


def _same_shape(a: U32Array, b: U32Array) -> None:
    if a.shape != b.shape:
        raise ShapeError(
            "operands differ in shape", reason="bad_shape", expected=a.shape, got=b.shape
        )


def _binary(kernel: Any, a: Any, b: Any) -> U32Array:
    aa, bb = as_field_array(a), as_field_array(b)
    _same_shape(aa, bb)
    out = np.empty_like(aa)
    kernel(aa.reshape(-1), bb.reshape(-1), out.reshape(-1))
    return out


def vadd(a: Any, b: Any) -> U32Array:
    """Elementwise a + b."""
    return _binary(_k.vadd_kernel, a, b)


def vsub(a: Any, b: Any) -> U32Array:
    """Elementwise a − b."""
    return _binary(_k.vsub_kernel, a, b)


def vmul(a: Any, b: Any) -> U32Array:
    """Elementwise a·b."""
    return _binary(_k.vmul_kernel, a, b)


def vneg(a: Any) -> U32Array:
    """Elementwise −a."""
    aa = as_field_array(a)
    return vsub(np.zeros_like(aa), aa)


def vscale(a: Any, s: int) -> U32Array:
    """Every element times the scalar ``s``."""
    aa = as_field_array(a)
    out = np.empty_like(aa)
    s_mont = np.uint32((to_int(s) << 32) % P)
    _k.vscale_mont_kernel(aa.reshape(-1), s_mont, out.reshape(-1))
    return out


def vpow(a: Any, e: int) -> U32Array:
    """Every element to the power ``e`` (e ≥ 0)."""
    if e < 0:
        return vpow(batch_inverse(a), -e)
    aa = as_field_array(a)
    out = np.empty_like(aa)
    # x^e = x^((e−1) mod (p−1) + 1) for every x, zero included, when e ≥ 1
    reduced = (e - 1) % (P - 1) + 1 if e else 0
    _k.vpow_kernel(aa.reshape(-1), np.uint64(reduced), out.reshape(-1))
    return out


def batch_chunks(n: int) -> int:
    """Return how many independent Montgomery-trick batches n elements are split into."""
    return max(1, min(64, n // 16384))


def batch_inverse(a: Any) -> U32Array:
    """Elementwise inverse by Montgomery's trick; raises ``FieldError`` on a zero."""
    aa = as_field_array(a)
    out = np.empty_like(aa)
    flat = aa.reshape(-1)
    zero_at = np.full(batch_chunks(flat.shape[0]), -1, dtype=np.int64)
    _k.batch_inverse_kernel(flat, out.reshape(-1), zero_at)
    zeros = zero_at[zero_at >= 0]
    if zeros.size:
        first = int(zeros.min())
        raise FieldError(
            f"element {first} is zero and has no inverse", reason="zero_inverse", got=first
        )
    return out


def powers(base: int, n: int) -> U32Array:
    """Return [1, base, base², …, base^(n−1)]."""
    if n < 0:
        raise ShapeError("negative length", reason="bad_shape", got=n)
    out = np.empty(n, dtype=np.uint32)
    _k.powers_kernel(np.uint32(to_int(base)), out)
    return out


def coset_points(log_n: int, shift: int = 1) -> U32Array:
    """Return shift·ω^i for i = 0..2^log_n − 1, ω = ``two_adic_generator(log_n)``."""
    pts = powers(two_adic_generator(log_n), 1 << log_n)
    return pts if shift == 1 else vscale(pts, shift)


def random_elements(rng: np.random.Generator, shape: int | Sequence[int]) -> U32Array:
    """Uniform canonical elements, for tests and benchmarks."""
    return rng.integers(0, P, size=shape, dtype=np.uint32)
