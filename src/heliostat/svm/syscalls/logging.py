"""Logging syscalls: sol_log_, sol_log_64_, sol_log_pubkey, sol_log_compute_units_, sol_log_data.

Costs and order of checks follow agave syscalls/src/logging.rs: charge first, then translate
(an access violation or invalid UTF-8 after the charge), then write the log line.
"""

from __future__ import annotations

from solders.pubkey import Pubkey

from heliostat.svm import log_collector
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_COST
from heliostat.svm.syscalls.errors import InvalidStringError
from heliostat.svm.syscalls.translate import read_bytes, read_slices, read_type


def decode_string(data: bytes) -> str:
    """Decode UTF-8, raising `InvalidStringError` as agave's `translate_string_and_do`."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidStringError(data) from None


def sol_log(ctx: SyscallContext, address: int, length: int, _3: int, _4: int, _5: int) -> int:
    """`sol_log_(message, len)`: "Program log: <message>"; costs max(100, len)."""
    ctx.consume(DEFAULT_COST.log(length))
    message = decode_string(read_bytes(ctx, address, length))
    log_collector.program_log(ctx.host.logs, message)
    return 0


def sol_log_64(ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """`sol_log_64_(a, b, c, d, e)`: the five registers in lowercase hex."""
    ctx.consume(DEFAULT_COST.log_64_units)
    log_collector.program_log(
        ctx.host.logs, ", ".join(f"{value:#x}" for value in (r1, r2, r3, r4, r5))
    )
    return 0


def sol_log_pubkey(ctx: SyscallContext, address: int, _2: int, _3: int, _4: int, _5: int) -> int:
    """`sol_log_pubkey(&key)`: the key in base58."""
    ctx.consume(DEFAULT_COST.log_pubkey_units)
    key = Pubkey(read_type(ctx, address, 32, 1))
    log_collector.program_log(ctx.host.logs, str(key))
    return 0


def sol_log_compute_units(ctx: SyscallContext, _1: int, _2: int, _3: int, _4: int, _5: int) -> int:
    """`sol_log_compute_units_()`: "Program consumption: <n> units remaining" (after its cost)."""
    ctx.consume(DEFAULT_COST.syscall_base_cost)
    ctx.host.logs.log(f"Program consumption: {ctx.remaining} units remaining")
    return 0


def sol_log_data(ctx: SyscallContext, address: int, count: int, _3: int, _4: int, _5: int) -> int:
    """`sol_log_data(&[&[u8]], n)`: "Program data: <base64> ..."; costs 100 + 100·n + bytes."""
    ctx.consume(DEFAULT_COST.syscall_base_cost)
    slices = read_slices(ctx, address, count)
    ctx.consume(DEFAULT_COST.syscall_base_cost * len(slices))
    ctx.consume(sum(length for _, length in slices))
    fields = [read_bytes(ctx, pointer, length) for pointer, length in slices]
    log_collector.program_data(ctx.host.logs, fields)
    return 0
