"""Syscalls served inside the numba loop (native mode only): no return to Python for them.

`run_loop` calls `native_call` when its `native` argument is given (never while tracing).
Each handler does exactly what the Python syscall does when that one succeeds — the same
checked translations, the same compute-unit charge, the same bytes written — and reports
"not handled" (0) before touching anything whenever the Python syscall would fail or do
something it does not know (an access violation, an overlap, too few units, a full buffer,
a jet result it was not given). The loop then hands the call to Python as usual, which raises
the exact error. tests/svm/test_native_syscalls.py checks every handler against the Python
syscall on random arguments.

``native`` is a tuple of arrays: (kinds, ctl, side, jets).
- ``kinds[i]``: how syscall number ``i`` of the executable is served (0: by Python).
- ``ctl``: CTL_SIDE_LEN (bytes used in ``side``), CTL_JET_CURSOR (next expected jet row).
- ``side``: the host side channel: receipt and log records in call order (`side_records`).
- ``jets``: precomputed jet results, rows (r1, r2, r3, r4, r0): valid only for arguments
  that point into the read-only input region, whose bytes cannot change during the run.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from heliostat.svm.fast_memory import INPUT_SEGMENTS, single_segment, translate, translate_segments

# Native kinds (the `kinds` table).
NK_PYTHON = 0
NK_MEMCPY, NK_MEMMOVE, NK_MEMSET, NK_MEMCMP = 1, 2, 3, 4
NK_RECEIPT, NK_LOG = 5, 6  # the kernel's side channel (heliostat_receipt, heliostat_log)
NK_JET_TABLE = 7  # a jet answered from precomputed rows

# Side-channel records: tag, kind, a, b, length (u64 each), then the data padded to 8.
SIDE_RECEIPT, SIDE_LOG = 1, 2
SIDE_HEADER = 40
CTL_SIDE_LEN, CTL_JET_CURSOR = 0, 1
CTL_SIZE = 2

MEM_OP_BASE_COST = 10  # agave mem_ops.rs: max(mem_op_base_cost, n / cpi_bytes_per_unit)
CPI_BYTES_PER_UNIT = 250
_MAX_NATIVE_LEN = 1 << 40  # longer ranges cannot be mapped: let Python report the error
U0 = np.uint64(0)


@njit(cache=True)
def _translate(addr, size, store, prog_vaddr, prog_len, heap_len, segs):  # type: ignore[no-untyped-def]
    input_len, input_writable = single_segment(segs)
    k, off = translate(addr, size, store, prog_vaddr, prog_len, heap_len, input_len, input_writable)
    if k == INPUT_SEGMENTS:
        return translate_segments(addr, size, store, segs)
    return k, off


@njit(inline="always", cache=True)
def _writable(k, stack, heap, inp):  # type: ignore[no-untyped-def]
    if k == 1:
        return stack
    if k == 2:
        return heap
    return inp


@njit(inline="always", cache=True)
def _put64(buf, off, value):  # type: ignore[no-untyped-def]
    for i in range(8):
        buf[off + i] = np.uint8((np.uint64(value) >> np.uint64(8 * i)) & np.uint64(0xFF))


@njit(inline="always", cache=True)
def _mem_cost(n):  # type: ignore[no-untyped-def]
    units = n // CPI_BYTES_PER_UNIT
    return units if units > MEM_OP_BASE_COST else MEM_OP_BASE_COST


@njit(cache=True)
def native_call(kind, reg, remaining, prog_vaddr, prog, stack, heap, inp, segs, native):  # type: ignore[no-untyped-def]
    """Serve a syscall natively: (handled, r0, cost, dirty buffer id, dirty end).

    Nothing is changed unless ``handled`` is 1; then r0 goes to the caller's r0, ``cost``
    is charged and the dirty mark (stack 1 / heap 2) is raised to ``dirty end``.
    """
    ctl = native[1]
    prog_len = prog.shape[0]
    heap_len = heap.shape[0]
    if kind <= NK_MEMCMP:
        n = np.int64(reg[3]) if reg[3] < np.uint64(_MAX_NATIVE_LEN) else np.int64(-1)
        if n < 0:
            return 0, 0, 0, 0, 0
        cost = _mem_cost(n)
        if remaining < cost:
            return 0, 0, 0, 0, 0
        if kind == NK_MEMCMP:
            s1, s2, out = reg[1], reg[2], reg[4]
            k1, o1 = _translate(s1, n, False, prog_vaddr, prog_len, heap_len, segs)
            k2, o2 = _translate(s2, n, False, prog_vaddr, prog_len, heap_len, segs)
            ko, oo = _translate(out, 4, True, prog_vaddr, prog_len, heap_len, segs)
            if n == 0:
                k1, k2 = 1, 1
            if k1 < 1 or k2 < 1 or ko < 1 or out % np.uint64(4) != np.uint64(0):
                return 0, 0, 0, 0, 0  # program-region operands or an error: Python
            a = _writable(k1, stack, heap, inp)
            b = _writable(k2, stack, heap, inp)
            diff = np.int64(0)
            for i in range(n):
                x = np.int64(a[o1 + i])
                y = np.int64(b[o2 + i])
                if x != y:
                    diff = x - y
                    break
            dst = _writable(ko, stack, heap, inp)
            value = np.uint64(diff) & np.uint64(0xFFFFFFFF)
            for i in range(4):
                dst[oo + i] = np.uint8((value >> np.uint64(8 * i)) & np.uint64(0xFF))
            return 1, 0, cost, ko, oo + 4
        dst_addr, src_addr = reg[1], reg[2]
        if n == 0:
            return 1, 0, cost, 0, 0
        kd, od = _translate(dst_addr, n, True, prog_vaddr, prog_len, heap_len, segs)
        if kd < 1:
            return 0, 0, 0, 0, 0
        dst = _writable(kd, stack, heap, inp)
        if kind == NK_MEMSET:
            fill = np.uint8(reg[2] & np.uint64(0xFF))
            for i in range(n):
                dst[od + i] = fill
            return 1, 0, cost, kd, od + n
        if kind == NK_MEMCPY:  # agave's is_nonoverlapping on virtual addresses
            if src_addr > dst_addr:
                if src_addr - dst_addr < np.uint64(n):
                    return 0, 0, 0, 0, 0
            elif dst_addr - src_addr < np.uint64(n):
                return 0, 0, 0, 0, 0
        ks, os_ = _translate(src_addr, n, False, prog_vaddr, prog_len, heap_len, segs)
        if ks < 1:
            return 0, 0, 0, 0, 0
        src = _writable(ks, stack, heap, inp)
        if ks == kd and od > os_:  # overlapping memmove: copy from the end
            for i in range(n - 1, -1, -1):
                dst[od + i] = src[os_ + i]
        else:
            for i in range(n):
                dst[od + i] = src[os_ + i]
        return 1, 0, cost, kd, od + n
    if kind in (NK_RECEIPT, NK_LOG):
        side = native[2]
        if kind == NK_RECEIPT:
            ptr, n, tag, sub, a, b = reg[1], reg[2], SIDE_RECEIPT, np.uint64(0), U0, U0
        else:
            ptr, n, tag, sub, a, b = reg[2], reg[3], SIDE_LOG, reg[1], reg[4], reg[5]
        if n >= np.uint64(_MAX_NATIVE_LEN):
            return 0, 0, 0, 0, 0
        length = np.int64(n)
        ks, os_ = _translate(ptr, length, False, prog_vaddr, prog_len, heap_len, segs)
        if length == 0:
            ks, os_ = 1, 0
        at = ctl[CTL_SIDE_LEN]
        padded = (length + 7) & ~7
        if ks < 1 or at + SIDE_HEADER + padded > side.shape[0]:
            return 0, 0, 0, 0, 0  # from the program region, or the buffer is full: Python
        src = _writable(ks, stack, heap, inp)
        _put64(side, at, tag)
        _put64(side, at + 8, sub)
        _put64(side, at + 16, a)
        _put64(side, at + 24, b)
        _put64(side, at + 32, length)
        body = at + SIDE_HEADER
        for i in range(length):
            side[body + i] = src[os_ + i]
        for i in range(length, padded):
            side[body + i] = 0
        ctl[CTL_SIDE_LEN] = body + padded
        return 1, 0, 0, 0, 0
    if kind == NK_JET_TABLE:
        jets = native[3]
        rows = jets.shape[0]
        r1, r2, r3, r4 = np.int64(reg[1]), np.int64(reg[2]), np.int64(reg[3]), np.int64(reg[4])
        cursor = ctl[CTL_JET_CURSOR]
        for step in range(rows):
            row = cursor + step
            if row >= rows:
                row -= rows
            hit = jets[row, 0] == r1 and jets[row, 1] == r2 and jets[row, 2] == r3
            if hit and jets[row, 3] == r4:
                ctl[CTL_JET_CURSOR] = row + 1
                return 1, jets[row, 4], 0, 0, 0
        return 0, 0, 0, 0, 0
    return 0, 0, 0, 0, 0
