"""The zkVM layer's errors: one base, leaves that carry the numbers and a stable reason."""

from __future__ import annotations

from heliostat.primitives.errors import HeliostatError


class ZkvmError(HeliostatError):
    """Base of every error raised on purpose by `heliostat.zkvm`."""

    reason = "zkvm_error"

    def __init__(
        self,
        message: str,
        *,
        expected: object = None,
        got: object = None,
        reason: str | None = None,
    ) -> None:
        detail = []
        if expected is not None:
            detail.append(f"expected {expected!r}")
        if got is not None:
            detail.append(f"got {got!r}")
        super().__init__(f"{message} ({', '.join(detail)})" if detail else message, reason=reason)
        self.expected = expected
        self.got = got


class UnsupportedExecutionError(ZkvmError):
    """An execution this machine cannot prove (e.g. a syscall without a chip)."""

    reason = "unsupported_execution"


class TraceGenerationError(ZkvmError):
    """The recorded execution is inconsistent with a replay (a VM or generator bug)."""

    reason = "trace_generation"


class PublicValuesError(ZkvmError):
    """Public values that are malformed (wrong length, out-of-range fields)."""

    reason = "bad_public_values"


class ZkvmVerificationError(ZkvmError):
    """A proof the verifier rejects; ``cause`` is the STARK layer's error when there is one."""

    reason = "proof_rejected"

    def __init__(self, message: str, *, reason: str, cause: Exception | None = None) -> None:
        super().__init__(message, reason=reason)
        self.cause = cause
