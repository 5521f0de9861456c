"""Syscalls that end the program with an error: abort and sol_panic_ (agave syscalls lib.rs)."""

from __future__ import annotations

from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.errors import AbortError, PanicError
from heliostat.svm.syscalls.logging import decode_string
from heliostat.svm.syscalls.translate import read_bytes


def abort(ctx: SyscallContext, _1: int, _2: int, _3: int, _4: int, _5: int) -> int:
    """`abort()`: stop with "SBF program panicked"; costs nothing."""
    raise AbortError


def sol_panic(ctx: SyscallContext, file: int, length: int, line: int, column: int, _5: int) -> int:
    """`sol_panic_(file, len, line, column)`: stop with the location; costs `len` CUs."""
    ctx.consume(length)
    raise PanicError(decode_string(read_bytes(ctx, file, length)), line, column)
