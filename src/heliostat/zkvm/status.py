"""How an execution ended, as the proof states it (the ``status`` public value)."""

from __future__ import annotations

import enum

from heliostat.svm.errors import FaultCode


class Status(enum.IntEnum):
    """Exit or the fault that stopped the program.

    The VM faults keep `heliostat.svm.errors.FaultCode`'s numbers; syscall failures get their
    own codes above them, one per cause the proof distinguishes.
    """

    EXITED = 0
    DIVIDE_BY_ZERO = FaultCode.DIVIDE_BY_ZERO
    EXECUTION_OVERRUN = FaultCode.EXECUTION_OVERRUN
    CALL_OUTSIDE_TEXT_SEGMENT = FaultCode.CALL_OUTSIDE_TEXT_SEGMENT
    EXCEEDED_MAX_INSTRUCTIONS = FaultCode.EXCEEDED_MAX_INSTRUCTIONS
    CALL_DEPTH_EXCEEDED = FaultCode.CALL_DEPTH_EXCEEDED
    ACCESS_VIOLATION = FaultCode.ACCESS_VIOLATION
    UNSUPPORTED_INSTRUCTION = FaultCode.UNSUPPORTED_INSTRUCTION
    SYSCALL_ABORT = 32  # `abort`
    SYSCALL_PANIC = 33  # `sol_panic_`
    SYSCALL_ACCESS_VIOLATION = 34  # a syscall's pointer outside mapped memory
    SYSCALL_COMPUTE_EXCEEDED = 35  # a syscall's cost above the remaining units
    SYSCALL_INVALID_ARGUMENT = 36  # e.g. overlapping memcpy, return data too long
