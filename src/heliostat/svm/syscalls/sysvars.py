"""Sysvar syscalls: the typed getters (clock, rent, epoch schedule, ...) and `sol_get_sysvar`.

agave syscalls/src/sysvar.rs. A typed getter costs 100 + size_of::<T>() CUs and writes the
Rust struct (`#[repr(C)]`, host layout) at an address aligned for it; the struct is built
here from the sysvar's account data (bincode) that the host holds. `sol_get_sysvar`
(SIMD-0127) copies a byte range of that account data and reports a missing sysvar or an
out-of-range slice in r0 instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from solders.pubkey import Pubkey

from heliostat.svm.instruction_error import InstructionErrorKind
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.costs import DEFAULT_COST
from heliostat.svm.syscalls.errors import InstructionFailureError
from heliostat.svm.syscalls.translate import check_outputs, read_type

SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
CLOCK = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
RENT = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
EPOCH_SCHEDULE = Pubkey.from_string("SysvarEpochSchedu1e111111111111111111111111")
EPOCH_REWARDS = Pubkey.from_string("SysvarEpochRewards1111111111111111111111111")
LAST_RESTART_SLOT = Pubkey.from_string("SysvarLastRestartS1ot1111111111111111111111")
SLOT_HASHES = Pubkey.from_string("SysvarS1otHashes111111111111111111111111111")
STAKE_HISTORY = Pubkey.from_string("SysvarStakeHistory1111111111111111111111111")

# The sysvars agave's sysvar cache serves to `sol_get_sysvar` (sysvar_cache.rs).
CACHED_SYSVARS = frozenset(
    {CLOCK, RENT, EPOCH_SCHEDULE, EPOCH_REWARDS, LAST_RESTART_SLOT, SLOT_HASHES, STAKE_HISTORY}
)

SYSVAR_NOT_FOUND = 2
OFFSET_LENGTH_EXCEEDS_SYSVAR = 1
_U64_LIMIT = 1 << 64


@dataclass(frozen=True)
class SysvarLayout:
    """How a sysvar's bincode bytes become its in-memory `#[repr(C)]` struct."""

    sysvar_id: Pubkey
    size: int  # size_of::<T>() on the host (part of the cost)
    alignment: int
    to_struct: Callable[[bytes], bytes]


def _padded(size: int) -> Callable[[bytes], bytes]:
    """Struct = the bincode bytes followed by zero padding (fields already in place)."""
    return lambda data: data[:size].ljust(size, b"\0")


def _epoch_schedule(data: bytes) -> bytes:
    # bincode: u64 slots_per_epoch, u64 leader_schedule_slot_offset, bool warmup,
    # u64 first_normal_epoch, u64 first_normal_slot; the struct pads the bool to 8 bytes.
    return data[:17] + bytes(7) + data[17:33]


def _epoch_rewards(data: bytes) -> bytes:
    # bincode: u64, u64, hash[32], u128 total_points, u64, u64, bool active (81 bytes);
    # #[repr(C, align(16))] puts every field at its bincode offset and pads to 96.
    return data[:81].ljust(96, b"\0")


LAYOUTS = {
    "sol_get_clock_sysvar": SysvarLayout(CLOCK, 40, 8, _padded(40)),
    "sol_get_rent_sysvar": SysvarLayout(RENT, 24, 8, _padded(24)),
    "sol_get_epoch_schedule_sysvar": SysvarLayout(EPOCH_SCHEDULE, 40, 8, _epoch_schedule),
    "sol_get_epoch_rewards_sysvar": SysvarLayout(EPOCH_REWARDS, 96, 16, _epoch_rewards),
    "sol_get_last_restart_slot": SysvarLayout(LAST_RESTART_SLOT, 8, 8, _padded(8)),
}


def typed_getter(name: str) -> Callable[[SyscallContext, int, int, int, int, int], int]:
    """Build the syscall `name` (a key of `LAYOUTS`): copy the sysvar struct to r1."""
    layout = LAYOUTS[name]

    def get_sysvar(ctx: SyscallContext, address: int, _2: int, _3: int, _4: int, _5: int) -> int:
        ctx.consume(DEFAULT_COST.sysvar_base_cost + layout.size)
        check_outputs(ctx, [(address, layout.size, layout.alignment)])
        data = ctx.host.sysvar(layout.sysvar_id)
        if data is None:
            raise InstructionFailureError.of(InstructionErrorKind.UNSUPPORTED_SYSVAR)
        ctx.write(address, layout.to_struct(bytes(data)))
        return 0

    get_sysvar.__name__ = name
    get_sysvar.__doc__ = f"`{name}(&mut var)`: the {layout.sysvar_id} sysvar."
    return get_sysvar


def sol_get_sysvar(
    ctx: SyscallContext, id_address: int, address: int, offset: int, length: int, _5: int
) -> int:
    """`sol_get_sysvar(&id, var, offset, length)`: bytes offset..offset+length of a sysvar.

    r0 is 0 on success, 2 when the sysvar is not cached, 1 when the range exceeds it.
    """
    cost = DEFAULT_COST
    ctx.consume(
        cost.sysvar_base_cost
        + 32 // cost.cpi_bytes_per_unit
        + max(length // cost.cpi_bytes_per_unit, cost.mem_op_base_cost)
    )
    check_outputs(ctx, [(address, length, 1)])
    sysvar_id = Pubkey(read_type(ctx, id_address, 32, 1))
    if offset + length >= _U64_LIMIT or address + length >= _U64_LIMIT:
        raise InstructionFailureError.of(InstructionErrorKind.ARITHMETIC_OVERFLOW)
    data = ctx.host.sysvar(sysvar_id) if sysvar_id in CACHED_SYSVARS else None
    if data is None:
        return SYSVAR_NOT_FOUND
    if offset + length > len(data):
        return OFFSET_LENGTH_EXCEEDS_SYSVAR
    if length:
        ctx.write(address, bytes(data[offset : offset + length]))
    return 0
