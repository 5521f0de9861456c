"""Errors of the STARK protocol layer: bad AIR definitions, bad proofs, failed verification.

``StarkError`` is the layer's base. A verifier raises a ``VerificationError`` leaf that says
which check failed and carries the numbers (expected vs got) where there are any; decoding
untrusted bytes raises ``ProofFormatError``. The ``reason`` codes are stable (snake_case) so
that the RPC and the contracts can report them.
"""

from __future__ import annotations

from heliostat.primitives.errors import HeliostatError


class StarkError(HeliostatError):
    """Base of every error the proof system raises on purpose."""

    reason = "stark_error"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        expected: object = None,
        got: object = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.expected = expected
        self.got = got


class AirDefinitionError(StarkError):
    """An AIR is malformed: bad column index, inconsistent bus arity, degree too high."""

    reason = "air_definition"


class ConfigError(StarkError):
    """A parameter set is unknown or out of range, or a trace does not fit the domain."""

    reason = "bad_config"


class TraceError(StarkError):
    """A trace handed to the prover has the wrong shape, dtype or height."""

    reason = "bad_trace"


class ConstraintViolationError(StarkError):
    """The prover's own check found a constraint that fails on the trace (names it and the row)."""

    reason = "constraint_violation"


class ProofFormatError(StarkError):
    """Proof bytes are malformed: bad magic or version, truncated, out of range, trailing data."""

    reason = "proof_format"


class VerificationError(StarkError):
    """Base of the reasons a well-formed proof is rejected."""

    reason = "verification_failed"


class ProofShapeError(VerificationError):
    """The proof's shape (tables, heights, widths, counts) does not fit the AIR and config."""

    reason = "proof_shape_mismatch"


class ConstraintMismatchError(VerificationError):
    """At the out-of-domain point, the constraints do not equal quotient × vanishing polynomial."""

    reason = "constraint_mismatch"


class MerklePathError(VerificationError):
    """An opened row or FRI leaf does not authenticate against its commitment root."""

    reason = "merkle_path_invalid"


class FriFoldError(VerificationError):
    """A FRI layer value does not equal the fold of the layer above (or the DEEP quotient)."""

    reason = "fri_fold_mismatch"


class FriFinalPolyError(VerificationError):
    """The last folded value does not equal the final polynomial sent in the clear."""

    reason = "fri_final_poly_mismatch"


class ProofOfWorkError(VerificationError):
    """The grinding nonce does not produce the required number of leading zero bits."""

    reason = "proof_of_work_invalid"


class LogUpSumError(VerificationError):
    """The tables' LogUp sums plus the public contributions do not add up to zero."""

    reason = "logup_sum_nonzero"


class ClearTraceError(VerificationError):
    """A trace sent in the clear breaks one of its table's constraints on some row."""

    reason = "clear_trace_constraint"


class OutOfDomainPointError(VerificationError):
    """The out-of-domain point landed on a trace domain (probability ~2^-100; re-prove)."""

    reason = "ood_point_in_domain"
