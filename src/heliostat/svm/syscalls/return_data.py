"""Return-data syscalls: sol_set_return_data and sol_get_return_data (agave syscalls lib.rs)."""

from __future__ import annotations

from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_COST, MAX_RETURN_DATA
from heliostat.svm.syscalls.errors import ReturnDataTooLargeError
from heliostat.svm.syscalls.translate import check_outputs, read_bytes


def sol_set_return_data(
    ctx: SyscallContext, address: int, length: int, _3: int, _4: int, _5: int
) -> int:
    """`sol_set_return_data(data, len)`: costs 100 + len / 250; at most 1024 bytes."""
    cost = DEFAULT_COST
    ctx.consume(length // cost.cpi_bytes_per_unit + cost.syscall_base_cost)
    if length > MAX_RETURN_DATA:
        raise ReturnDataTooLargeError(length, MAX_RETURN_DATA)
    data = read_bytes(ctx, address, length)
    ctx.host.set_return_data(ctx.host.program_id, data)
    return 0


def sol_get_return_data(
    ctx: SyscallContext, address: int, length: int, program_id_address: int, _4: int, _5: int
) -> int:
    """`sol_get_return_data(buf, len, &program_id)`: copy up to len bytes; r0 = full length."""
    cost = DEFAULT_COST
    ctx.consume(cost.syscall_base_cost)
    program_id, data = ctx.host.return_data()
    length = min(length, len(data))
    if length:
        ctx.consume((length + 32) // cost.cpi_bytes_per_unit)
        check_outputs(ctx, [(address, length, 1), (program_id_address, 32, 1)])
        ctx.write(address, data[:length])
        ctx.write(program_id_address, bytes(program_id))
    return len(data)
