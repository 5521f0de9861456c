"""Errors raised by the STARK kernels (field, NTT, hashing, Merkle) at their typed edges."""

from __future__ import annotations

from heliostat.stark.errors import StarkError


class KernelError(StarkError):
    """Base of the kernel errors: bad input to a field, NTT, hash or Merkle routine."""

    reason = "kernel_error"


class FieldError(KernelError):
    """A value is not a canonical field element, or an inverse of zero was asked for."""

    reason = "field_error"


class ShapeError(KernelError):
    """An array has the wrong dtype, rank or size (sizes must often be powers of two)."""

    reason = "bad_shape"


class MerkleError(KernelError):
    """Base of the Merkle errors."""

    reason = "merkle_error"


class MerkleProofError(MerkleError):
    """A Merkle (multi-)opening does not verify, or its encoding is malformed."""

    reason = "merkle_proof_invalid"
