"""Errors of the runtime layer: bad inputs to the Python face, and kernel failures.

A transaction that Solana would reject is not an exception: it is an `ExecutionOutcome` with a
`TransactionError`. These classes are for callers' mistakes (a batch that cannot be encoded)
and for the kernel itself misbehaving (a fault inside the runtime image is a bug, never a
transaction outcome).
"""

from __future__ import annotations

from heliostat.primitives.errors import HeliostatError


class RuntimeLayerError(HeliostatError):
    """Base of every error raised by `heliostat.runtime`."""

    reason = "runtime_error"


class BatchEncodingError(RuntimeLayerError):
    """A batch or transaction input the kernel's input format cannot carry."""

    reason = "batch_encoding"

    def __init__(self, message: str, *, limit: int | None = None, got: int | None = None) -> None:
        super().__init__(message)
        self.limit, self.got = limit, got


class KernelFaultError(RuntimeLayerError):
    """The runtime image faulted or broke the kernel-switch protocol: a bug in the runtime."""

    reason = "kernel_fault"


class KernelOutputError(RuntimeLayerError):
    """The kernel published or reported bytes that do not decode (expected vs got sizes)."""

    reason = "kernel_output"

    def __init__(self, message: str, *, expected: int | None = None, got: int | None = None):
        super().__init__(message)
        self.expected, self.got = expected, got


class ProvingUnavailableError(RuntimeLayerError):
    """Proving a batch needs the zkVM, which is not wired into the runtime yet."""

    reason = "proving_unavailable"
