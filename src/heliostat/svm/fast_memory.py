"""Memory access inside the numba loop: sBPF v0 address translation, little-endian loads/stores.

Shared by the interpreter loop (`fast_kernel`) and the syscalls it serves natively
(`fast_syscalls`); the rules are `MemoryMap.translate`'s (heliostat.svm.memory).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

U0 = np.uint64(0)
STACK_START = np.uint64(2 << 32)


# `translate` takes scalars only: numba increfs and decrefs every array handed to a function
# (inlined or not), two atomic calls per memory access. The input region's permission
# segments are scalars when there is one starting at 0 (every kernel-switch map); otherwise
# the caller resolves the INPUT_SEGMENTS answer with `translate_segments`.
INPUT_SEGMENTS = -2


@njit(inline="always", cache=True)
def translate(addr, size, store, prog_vaddr, prog_len, heap_len, input_len, input_writable):  # type: ignore[no-untyped-def]
    """(buffer id, offset) of an access, or (-1, 0). Buffer ids: 0 program .. 3 input.

    ``input_len`` < 0: the input has several segments; the answer is (INPUT_SEGMENTS, 0).
    """
    idx = addr >> np.uint64(32)
    if idx == np.uint64(2):
        off = np.int64(addr - STACK_START)
        if (off >> 12) & 1:
            return -1, 0
        host = ((off >> 13) << 12) | (off & 4095)
        if host + size <= 64 * 4096:
            return 1, host
        return -1, 0
    if idx == np.uint64(3):
        off = np.int64(addr - np.uint64(3 << 32))
        if off + size <= heap_len:
            return 2, off
        return -1, 0
    if idx == np.uint64(4):
        if input_len < 0:
            return INPUT_SEGMENTS, 0
        off = np.int64(addr - np.uint64(4 << 32))
        if (input_writable or not store) and off + size <= input_len:
            return 3, off
        return -1, 0
    if idx == np.uint64(1) and not store and addr >= np.uint64(prog_vaddr):
        off = np.int64(addr - np.uint64(prog_vaddr))
        if off + size <= prog_len:
            return 0, off
    return -1, 0


@njit(cache=True)
def translate_segments(addr, size, store, segs):  # type: ignore[no-untyped-def]
    """`translate` for an input-region address when the input has several segments."""
    off = np.int64(addr - np.uint64(4 << 32))
    found = -1
    for k in range(segs.shape[0]):
        if segs[k, 0] <= off:
            found = k
    if found >= 0 and (segs[found, 2] != 0 or not store):
        rel = off - segs[found, 0]
        if rel + size <= segs[found, 1]:
            return 3, off
    return -1, 0


@njit(inline="always", cache=True)
def single_segment(segs):  # type: ignore[no-untyped-def]
    """(input length, writable) for `translate`, or (-1, False) with several segments."""
    if segs.shape[0] == 1 and segs[0, 0] == 0:
        return segs[0, 1], segs[0, 2] != 0
    return -1, False


@njit(inline="always", cache=True)
def _load(buf, off, size):  # type: ignore[no-untyped-def]
    # Unsigned indices: numba adds a negative-index fixup to every signed one, which also
    # stops LLVM from merging the byte loads (of a constant count) into one load.
    base = np.uint64(off)
    value = U0
    for k in range(size):
        value |= np.uint64(buf[base + np.uint64(k)]) << np.uint64(8 * k)
    return value


@njit(inline="always", cache=True)
def _store(buf, off, size, value):  # type: ignore[no-untyped-def]
    base = np.uint64(off)
    for k in range(size):  # likewise merged into one store
        buf[base + np.uint64(k)] = np.uint8((value >> np.uint64(8 * k)) & np.uint64(0xFF))


@njit(inline="always", cache=True)
def read(buf, off, size):  # type: ignore[no-untyped-def]
    """Little-endian load of 1, 2, 4 or 8 bytes (each width its own unrolled code)."""
    if size == 8:
        return _load(buf, off, 8)
    if size == 4:
        return _load(buf, off, 4)
    if size == 2:
        return _load(buf, off, 2)
    return _load(buf, off, 1)


@njit(inline="always", cache=True)
def write(buf, off, size, value):  # type: ignore[no-untyped-def]
    """Little-endian store of the low 1, 2, 4 or 8 bytes of ``value``."""
    if size == 8:
        _store(buf, off, 8, value)
    elif size == 4:
        _store(buf, off, 4, value)
    elif size == 2:
        _store(buf, off, 2, value)
    else:
        _store(buf, off, 1, value)


# Raw loads and stores at a host address, for the interpreter's hot path: one unaligned
# machine load/store instead of byte-wise array indexing. Callers pass addresses that
# `translate` checked (base of the buffer it names + offset + width within the buffer).


def _loader(bits: int):  # type: ignore[no-untyped-def]
    @intrinsic
    def load(typingctx, address):  # type: ignore[no-untyped-def]
        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ptr = builder.inttoptr(args[0], ir.IntType(bits).as_pointer())
            value = builder.load(ptr, align=1)
            return builder.zext(value, ir.IntType(64)) if bits < 64 else value

        return types.uint64(types.uint64), codegen

    return load


def _storer(bits: int):  # type: ignore[no-untyped-def]
    @intrinsic
    def store(typingctx, address, value):  # type: ignore[no-untyped-def]
        def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
            ptr = builder.inttoptr(args[0], ir.IntType(bits).as_pointer())
            low = builder.trunc(args[1], ir.IntType(bits)) if bits < 64 else args[1]
            builder.store(low, ptr, align=1)
            return context.get_dummy_value()

        return types.none(types.uint64, types.uint64), codegen

    return store


_load8, _load16, _load32, _load64 = (_loader(bits) for bits in (8, 16, 32, 64))
_store8, _store16, _store32, _store64 = (_storer(bits) for bits in (8, 16, 32, 64))


@njit(inline="always", cache=True)
def peek(address, size):  # type: ignore[no-untyped-def]
    """Little-endian load of ``size`` (1, 2, 4, 8) bytes at a checked host address."""
    if size == 8:
        return _load64(address)
    if size == 4:
        return _load32(address)
    if size == 2:
        return _load16(address)
    return _load8(address)


@njit(inline="always", cache=True)
def poke(address, size, value):  # type: ignore[no-untyped-def]
    """Store the low ``size`` bytes of ``value`` at a checked host address."""
    if size == 8:
        _store64(address, value)
    elif size == 4:
        _store32(address, value)
    elif size == 2:
        _store16(address, value)
    else:
        _store8(address, value)
