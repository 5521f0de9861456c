"""Ed25519 signature verification with exactly the acceptance rules of Solana's sigverify.

The readable reference of the C verifier in c/lib/ed25519 and, in native mode, its jet:
`verify_code` returns the same code as the C function `ed25519_verify` for every input.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import NamedTuple

from heliostat.primitives.errors import HeliostatError

# Curve constants (RFC 8032 §5.1): the field prime, the group order, the twisted Edwards
# coefficient d = −121665/121666 and a square root of −1.
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

SIGNATURE_LENGTH = 64
PUBLIC_KEY_LENGTH = 32


class VerifyCode(IntEnum):
    """Why a signature is rejected; the C function returns the same numbers.

    The checks are all required, so their order only decides which code a signature that
    fails several of them gets. It is the C code's order, cheapest first.
    """

    VALID = 0
    NON_CANONICAL_S = 1  # s ≥ L
    INVALID_PUBLIC_KEY = 2  # A does not decode to a curve point
    SMALL_ORDER_PUBLIC_KEY = 3  # [8]A is the identity
    SMALL_ORDER_R = 4  # R decodes to a point with [8]R the identity
    R_MISMATCH = 5  # R does not decode, or encode([s]B − [k]A) differs from R's bytes


class Ed25519Error(HeliostatError):
    """Base of the errors raised by this module (malformed inputs, never a bad signature)."""

    reason = "ed25519_error"


class Ed25519LengthError(Ed25519Error):
    """A signature or public key of the wrong length."""

    reason = "ed25519_length"

    def __init__(self, what: str, expected: int, got: int) -> None:
        super().__init__(f"{what} must be {expected} bytes, got {got}")
        self.what = what
        self.expected = expected
        self.got = got


class Point(NamedTuple):
    """A point in extended twisted Edwards coordinates: x = X/Z, y = Y/Z, x·y = T/Z."""

    X: int
    Y: int
    Z: int
    T: int


IDENTITY = Point(0, 1, 1, 0)


def _recover_x(y: int, sign: int) -> int | None:
    """Return the x of the curve point with this y and sign bit, as curve25519-dalek does.

    x² = (y² − 1)/(d·y² + 1) (RFC 8032 §5.1.3 steps 2–3, one exponentiation). The root
    with low bit 0 is taken and negated when the sign bit is set — also when x = 0, where
    RFC 8032 would reject the encoding and dalek's `decompress` does not.
    """
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == u:
        pass
    elif v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    else:
        return None
    if x & 1:
        x = P - x
    return (P - x) % P if sign else x


def decompress(encoding: bytes) -> Point | None:
    """Decode 32 bytes to a point with curve25519-dalek 4's rules, or None when off the curve.

    Unlike RFC 8032 §5.1.3, a y ≥ p is not rejected (it is used modulo p, so a few points
    have two encodings) and neither is the sign bit on x = 0.
    """
    value = int.from_bytes(encoding, "little")
    y = (value & ((1 << 255) - 1)) % P
    x = _recover_x(y, value >> 255)
    if x is None:
        return None
    return Point(x, y, 1, x * y % P)


def compress(point: Point) -> bytes:
    """Encode a point canonically: y < p in 255 bits, the low bit of x in bit 255."""
    z_inv = pow(point.Z, P - 2, P)
    x = point.X * z_inv % P
    y = point.Y * z_inv % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def point_add(p: Point, q: Point) -> Point:
    """Add two points (the unified formulas of RFC 8032 §5.1.4, valid for every pair)."""
    a = (p.Y - p.X) * (q.Y - q.X) % P
    b = (p.Y + p.X) * (q.Y + q.X) % P
    c = 2 * D * p.T * q.T % P
    d = 2 * p.Z * q.Z % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return Point(e * f % P, g * h % P, f * g % P, e * h % P)


def point_negate(p: Point) -> Point:
    """Return −P = (−x, y)."""
    return Point((-p.X) % P, p.Y, p.Z, (-p.T) % P)


def scalar_mult(scalar: int, p: Point) -> Point:
    """Return [scalar]P by double-and-add from the top bit (variable time: inputs are public)."""
    result = IDENTITY
    for bit in reversed(range(scalar.bit_length())):
        result = point_add(result, result)
        if (scalar >> bit) & 1:
            result = point_add(result, p)
    return result


def points_equal(p: Point, q: Point) -> bool:
    """Whether two projective representations are the same point."""
    return (p.X * q.Z - q.X * p.Z) % P == 0 and (p.Y * q.Z - q.Y * p.Z) % P == 0


def is_small_order(p: Point) -> bool:
    """Whether [8]P is the identity (P is one of the 8 points of the torsion subgroup)."""
    return points_equal(scalar_mult(8, p), IDENTITY)


_BASE_Y = 4 * pow(5, P - 2, P) % P
_base = decompress(_BASE_Y.to_bytes(32, "little"))  # x even: RFC 8032 §5.1's B
if _base is None:  # pragma: no cover - a constant of the curve
    raise RuntimeError("the base point does not decode")
BASE: Point = _base


def challenge(r_bytes: bytes, public_key: bytes, message: bytes) -> int:
    """Return k = SHA-512(R ‖ A ‖ M) mod L over the encodings as received (RFC 8032 §5.1.7)."""
    digest = hashlib.sha512(r_bytes + public_key + message).digest()
    return int.from_bytes(digest, "little") % L


def verify_code(signature: bytes, public_key: bytes, message: bytes) -> VerifyCode:
    """Check an ed25519 signature as Solana does; VALID (0) or why not.

    Solana's transaction sigverify (agave perf/src/sigverify.rs `verify_packet` calls
    `Signature::verify`; solana-signature 3.4.1, the version inside solders 0.29) is
    ed25519-dalek 2.1.1's `VerifyingKey::try_from` then `verify_strict`:
    the RFC 8032 §5.1.7 check with s < L, minus the canonical-encoding rules for A and R
    (see `decompress`), plus: A and R must not have small order, and the cofactorless
    equation is checked by re-encoding [s]B − [k]A and comparing bytes with R, so an R
    with a non-canonical encoding never verifies.
    """
    if len(signature) != SIGNATURE_LENGTH:
        raise Ed25519LengthError("signature", SIGNATURE_LENGTH, len(signature))
    if len(public_key) != PUBLIC_KEY_LENGTH:
        raise Ed25519LengthError("public key", PUBLIC_KEY_LENGTH, len(public_key))
    r_bytes, s_bytes = signature[:32], signature[32:]
    s = int.from_bytes(s_bytes, "little")
    if s >= L:
        return VerifyCode.NON_CANONICAL_S
    a = decompress(public_key)
    if a is None:
        return VerifyCode.INVALID_PUBLIC_KEY
    if is_small_order(a):
        return VerifyCode.SMALL_ORDER_PUBLIC_KEY
    r = decompress(r_bytes)
    if r is None:
        return VerifyCode.R_MISMATCH
    if is_small_order(r):
        return VerifyCode.SMALL_ORDER_R
    k = challenge(r_bytes, public_key, message)
    expected_r = point_add(scalar_mult(s, BASE), point_negate(scalar_mult(k, a)))
    if compress(expected_r) != r_bytes:
        return VerifyCode.R_MISMATCH
    return VerifyCode.VALID


def verify(signature: bytes, public_key: bytes, message: bytes) -> bool:
    """Whether Solana accepts ``signature`` by ``public_key`` on ``message``."""
    return verify_code(signature, public_key, message) == VerifyCode.VALID
