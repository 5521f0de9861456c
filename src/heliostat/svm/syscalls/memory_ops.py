"""Memory syscalls: sol_memcpy_, sol_memmove_, sol_memset_, sol_memcmp_.

agave syscalls/src/mem_ops.rs: each costs max(10, n / 250) CUs, charged before anything is
checked. memcpy rejects overlapping ranges (on virtual addresses) before touching memory;
memmove maps the destination for a store, then the source for a load; memcmp reads both
ranges, then writes the i32 result (4-byte aligned) as the difference of the first differing
bytes.
"""

from __future__ import annotations

from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_COST
from heliostat.svm.syscalls.errors import CopyOverlappingError
from heliostat.svm.syscalls.translate import (
    check_outputs,
    check_writable,
    is_nonoverlapping,
    read_bytes,
)


def _memmove(ctx: SyscallContext, dst: int, src: int, n: int) -> None:
    check_writable(ctx, dst, n)
    data = read_bytes(ctx, src, n)
    if n:
        ctx.write(dst, data)


def sol_memcpy(ctx: SyscallContext, dst: int, src: int, n: int, _4: int, _5: int) -> int:
    """`sol_memcpy_(dst, src, n)`: copy n bytes; overlapping ranges are an error."""
    ctx.consume(DEFAULT_COST.mem_op(n))
    if not is_nonoverlapping(src, n, dst, n):
        raise CopyOverlappingError
    _memmove(ctx, dst, src, n)
    return 0


def sol_memmove(ctx: SyscallContext, dst: int, src: int, n: int, _4: int, _5: int) -> int:
    """`sol_memmove_(dst, src, n)`: copy n bytes, ranges may overlap."""
    ctx.consume(DEFAULT_COST.mem_op(n))
    _memmove(ctx, dst, src, n)
    return 0


def sol_memset(ctx: SyscallContext, dst: int, value: int, n: int, _4: int, _5: int) -> int:
    """`sol_memset_(dst, c, n)`: fill n bytes with the low byte of c."""
    ctx.consume(DEFAULT_COST.mem_op(n))
    check_outputs(ctx, [(dst, n, 1)])
    if n:
        ctx.write(dst, bytes([value & 0xFF]) * n)
    return 0


def memcmp_result(s1: bytes, s2: bytes) -> int:
    """Return agave's memcmp i32: s1[i] - s2[i] at the first difference, else 0."""
    for a, b in zip(s1, s2, strict=True):
        if a != b:
            return a - b
    return 0


def sol_memcmp(ctx: SyscallContext, s1: int, s2: int, n: int, result: int, _5: int) -> int:
    """`sol_memcmp_(s1, s2, n, &result)`: compare n bytes into an i32 at `result`."""
    ctx.consume(DEFAULT_COST.mem_op(n))
    left = read_bytes(ctx, s1, n)
    right = read_bytes(ctx, s2, n)
    check_outputs(ctx, [(result, 4, 4)])
    ctx.write(result, memcmp_result(left, right).to_bytes(4, "little", signed=True))
    return 0
