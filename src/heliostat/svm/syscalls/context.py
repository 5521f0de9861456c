"""Syscalls about the instruction's place in the transaction.

Stack height, processed sibling instructions, epoch stake, and the cross-program-invocation
entry points (which the host performs). agave syscalls lib.rs and cpi.rs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal

from solders.pubkey import Pubkey

from heliostat.svm.host import CpiRequest
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_COST
from heliostat.svm.syscalls.translate import check_outputs, read_type

# ProcessedSiblingInstruction { data_len: u64, accounts_len: u64 } (#[repr(C)], align 8)
_SIBLING_HEADER = struct.Struct("<QQ")
# AccountMeta { pubkey: [u8; 32], is_signer: bool, is_writable: bool } (#[repr(C)], align 1)
_ACCOUNT_META_SIZE = 34


def sol_get_stack_height(ctx: SyscallContext, _1: int, _2: int, _3: int, _4: int, _5: int) -> int:
    """`sol_get_stack_height()`: 1 for a top-level instruction."""
    ctx.consume(DEFAULT_COST.syscall_base_cost)
    return int(ctx.host.stack_height())


def sol_get_processed_sibling_instruction(
    ctx: SyscallContext, index: int, meta: int, program_id: int, data: int, accounts: int
) -> int:
    """`sol_get_processed_sibling_instruction(index, &meta, &program_id, data, accounts)`.

    r0 = 1 when the sibling exists. If the caller's `meta` lengths match the sibling, the
    program id, data and account metas are copied out; otherwise `meta` is filled with the
    lengths the caller needs to allocate (the usual two-call pattern).
    """
    ctx.consume(DEFAULT_COST.syscall_base_cost)
    sibling = ctx.host.processed_sibling_instruction(index)
    if sibling is None:
        return 0
    check_outputs(ctx, [(meta, _SIBLING_HEADER.size, 8)])
    data_len, accounts_len = _SIBLING_HEADER.unpack(ctx.read(meta, _SIBLING_HEADER.size))
    if data_len == len(sibling.data) and accounts_len == len(sibling.accounts):
        check_outputs(
            ctx,
            [
                (program_id, 32, 1),
                (data, data_len, 1),
                (accounts, accounts_len * _ACCOUNT_META_SIZE, 1),
                (meta, _SIBLING_HEADER.size, 8),
            ],
        )
        ctx.write(program_id, bytes(sibling.program_id))
        if data_len:
            ctx.write(data, sibling.data)
        if accounts_len:
            metas = b"".join(
                bytes(m.pubkey) + bytes([m.is_signer, m.is_writable]) for m in sibling.accounts
            )
            ctx.write(accounts, metas)
    else:
        ctx.write(meta, _SIBLING_HEADER.pack(len(sibling.data), len(sibling.accounts)))
    return 1


def sol_get_epoch_stake(ctx: SyscallContext, vote: int, _2: int, _3: int, _4: int, _5: int) -> int:
    """`sol_get_epoch_stake(&vote)` (SIMD-0133); a null pointer asks for the total stake."""
    cost = DEFAULT_COST
    if vote == 0:
        ctx.consume(cost.syscall_base_cost)
        return int(ctx.host.epoch_stake(None))
    ctx.consume(cost.syscall_base_cost + 32 // cost.cpi_bytes_per_unit + cost.mem_op_base_cost)
    return int(ctx.host.epoch_stake(Pubkey(read_type(ctx, vote, 32, 1))))


def _invoke(abi: Literal["c", "rust"]) -> Callable[..., int]:
    def invoke_signed(
        ctx: SyscallContext,
        instruction: int,
        account_infos: int,
        account_infos_len: int,
        signers_seeds: int,
        signers_seeds_len: int,
    ) -> int:
        request = CpiRequest(
            abi, instruction, account_infos, account_infos_len, signers_seeds, signers_seeds_len
        )
        return int(ctx.host.invoke_signed(ctx, request))

    invoke_signed.__name__ = f"sol_invoke_signed_{abi}"
    invoke_signed.__doc__ = (
        f"`sol_invoke_signed_{abi}`: cross-program invocation, performed by the host "
        "(which charges agave's invoke cost and translates the arguments)."
    )
    return invoke_signed


sol_invoke_signed_c = _invoke("c")
sol_invoke_signed_rust = _invoke("rust")
