"""Pointer translation for syscalls: agave's `translate_*` rules on top of `MemoryMap`.

agave (program-runtime memory.rs, syscalls lib.rs) translates a pointer in this order: map the
whole range (an access violation names the first failing range), then check alignment of the
element type, and a zero-length slice is never mapped at all. Syscalls with several outputs
("translate_mut!") first touch every output range for a store, then translate them, then
reject outputs that overlap. Host buffers are 16-byte aligned and regions start on 4 GiB
boundaries, so host alignment equals virtual-address alignment. Reads go through the
context so that the trace records them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from heliostat.svm.errors import AccessType
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls.errors import (
    CopyOverlappingError,
    InvalidLengthError,
    UnalignedPointerError,
)

_ISIZE_MAX = (1 << 63) - 1
_VM_SLICE = struct.Struct("<QQ")  # VmSlice<T>: u64 pointer, u64 length (align 8)


def _check_aligned(address: int, alignment: int) -> None:
    if address % alignment:
        raise UnalignedPointerError(address, alignment)


def _total_size(length: int, element_size: int) -> int:
    total = min(length * element_size, (1 << 64) - 1)  # saturating_mul on u64
    if total > _ISIZE_MAX:
        raise InvalidLengthError
    return total


def read_bytes(ctx: SyscallContext, address: int, length: int) -> bytes:
    """`translate_slice::<u8>`: the bytes of a readable range (empty when length is 0)."""
    if length == 0:
        return b""
    return ctx.read(address, _total_size(length, 1))


def read_type(ctx: SyscallContext, address: int, size: int, alignment: int) -> bytes:
    """`translate_type::<T>` for a T of `size` bytes and `alignment`: its raw bytes."""
    data = ctx.read(address, size)
    _check_aligned(address, alignment)
    return data


def read_slices(ctx: SyscallContext, address: int, count: int) -> list[tuple[int, int]]:
    """`translate_slice::<VmSlice<u8>>`: `count` (pointer, length) descriptors."""
    if count == 0:
        return []
    raw = ctx.read(address, _total_size(count, _VM_SLICE.size))
    _check_aligned(address, 8)
    return [_VM_SLICE.unpack_from(raw, i * _VM_SLICE.size) for i in range(count)]


def check_writable(ctx: SyscallContext, address: int, length: int, alignment: int = 1) -> None:
    """`translate_slice_mut` / `translate_type_mut` without writing: map for a store, align."""
    if length == 0:
        return
    ctx.check(AccessType.STORE, address, _total_size(length, 1))
    _check_aligned(address, alignment)


def check_outputs(ctx: SyscallContext, outputs: Sequence[tuple[int, int, int]]) -> None:
    """Run the checks of agave's `translate_mut!` on (address, length, alignment) outputs.

    Every range is touched for a store first (so the first unmapped one is reported), then
    each is translated with its alignment check, then any two overlapping outputs fail.
    """
    for address, length, _ in outputs:
        if length:
            ctx.check(AccessType.STORE, address, _total_size(length, 1))
    for address, length, alignment in outputs:
        check_writable(ctx, address, length, alignment)
    for i, (a_addr, a_len, _) in enumerate(outputs):
        for b_addr, b_len, _ in outputs[i + 1 :]:
            # an empty output maps to no memory at all, so it overlaps nothing
            if a_len and b_len and not is_nonoverlapping(a_addr, a_len, b_addr, b_len):
                raise CopyOverlappingError


def is_nonoverlapping(src: int, src_len: int, dst: int, dst_len: int) -> bool:
    """Tell whether two ranges are disjoint, as agave mem_ops.rs `is_nonoverlapping`."""
    if src > dst:
        return src - dst >= dst_len
    return dst - src >= src_len
