"""The numba sBPF v0 interpreter loop: the same semantics as `interpreter.py`, over arrays.

`run_loop` executes until exit, a fault, a syscall (which it hands back to Python and is then
resumed) or a full trace buffer. Registers are uint64; all arithmetic is written with explicit
uint64 operands because numba promotes mixed int64/uint64 arithmetic to float. Passing
``trace=None`` compiles a specialisation in which numba prunes every recording branch, so
native mode pays nothing for tracing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from heliostat.svm.fast_memory import INPUT_SEGMENTS, single_segment, translate_segments
from heliostat.svm.fast_memory import peek as _peek
from heliostat.svm.fast_memory import poke as _poke
from heliostat.svm.fast_memory import translate as _translate
from heliostat.svm.fast_syscalls import native_call
from heliostat.svm.opcodes import OPCODES

# Status codes returned by run_loop.
ST_EXIT, ST_FAULT, ST_SYSCALL, ST_TRACE_FULL = 0, 1, 2, 3
# Slots of the int64 state array.
S_PC, S_REMAINING, S_DEPTH, S_CHARGED, S_TCOUNT = 0, 1, 2, 3, 4
S_FAULT, S_ADDR, S_SIZE, S_ACCESS, S_AUX = 5, 6, 7, 8, 9  # fault details; syscall index
S_STACK_DIRTY = 10  # end of the highest stack byte written (host offset)
S_TEXT_LEN, S_TEXT_VADDR, S_PROG_VADDR = 11, 12, 13  # inputs: the executable's layout
S_HEAP_DIRTY = 14  # end of the highest heap byte written
STATE_SIZE = 15
# The uint64 machine array: registers r0..r15 (r11..r15 never addressable), then the frames.
M_FRAMES = 16
FRAME_WORDS = 6  # r6..r9, r10, return pc
# Fault codes (errors.FaultCode).
F_DIV0, F_OVERRUN, F_OUTSIDE, F_METER = 1, 3, 4, 5
F_DEPTH, F_ACCESS, F_INVALID, F_UNSUPPORTED = 6, 7, 8, 9

U0 = np.uint64(0)
U1 = np.uint64(1)
M32 = np.uint64(0xFFFFFFFF)
SIGN32 = np.uint64(0x80000000)
HIGH32 = np.uint64(0xFFFFFFFF00000000)
U63 = np.uint64(63)
U31 = np.uint64(31)
FRAME2 = np.uint64(2 * 4096)
STACK_START = np.uint64(2 << 32)
NO_NEXT = np.uint64(0xFFFFFFFFFFFFFFFF)
STORE_FLAG = 0x10
MAX_DEPTH = 64
MACHINE_WORDS = M_FRAMES + MAX_DEPTH * FRAME_WORDS
VALID = np.zeros(256, dtype=np.bool_)
VALID[list(OPCODES)] = True  # the explicit opcode table; anything else is unsupported


@njit(inline="always", cache=True)
def _sext32(x):  # type: ignore[no-untyped-def]
    x = x & M32
    if x & SIGN32:
        return x | HIGH32
    return x


@njit(inline="always", cache=True)
def _bswap(value, width):  # type: ignore[no-untyped-def]
    out = U0
    for k in range(width):
        byte = (value >> np.uint64(8 * k)) & np.uint64(0xFF)
        out |= byte << np.uint64(8 * (width - 1 - k))
    return out


@njit(cache=True)
def run_loop(code, prog, stack, heap, inp, segs, machine, state, trace, native):  # type: ignore[no-untyped-def]
    """Run from ``state[S_PC]`` until exit, fault, syscall or a full trace buffer.

    Few arguments on purpose: each one costs time in numba's dispatcher on every call.
    ``native`` (None, or the tables of `fast_syscalls`; never with a trace) serves the
    syscalls it knows without stopping.
    """
    reg = machine[:M_FRAMES]
    frames = machine[M_FRAMES:].reshape((MAX_DEPTH, FRAME_WORDS))
    text_len = state[S_TEXT_LEN]
    text_vaddr = state[S_TEXT_VADDR]
    prog_vaddr = state[S_PROG_VADDR]
    pc = state[S_PC]
    remaining = state[S_REMAINING]
    depth = state[S_DEPTH]
    charged = state[S_CHARGED]
    tcount = state[S_TCOUNT]
    stack_dirty = state[S_STACK_DIRTY]
    heap_dirty = state[S_HEAP_DIRTY]
    prog_len = prog.shape[0]
    heap_len = heap.shape[0]
    input_len, input_writable = single_segment(segs)
    # host addresses of the four buffers: loads and stores are raw accesses once translated
    prog_base = np.uint64(prog.ctypes.data)
    stack_base = np.uint64(stack.ctypes.data)
    heap_base = np.uint64(heap.ctypes.data)
    inp_base = np.uint64(inp.ctypes.data)
    status = ST_EXIT
    while True:
        # `trace is not None` stands alone so that numba prunes it when trace is None
        if trace is not None:  # noqa: SIM102
            if tcount == trace.shape[0]:
                status = ST_TRACE_FULL
                break
        if remaining == 0:
            state[S_FAULT] = F_METER
            status = ST_FAULT
            break
        remaining -= 1
        charged += 1
        # unsigned indices throughout: numba adds a negative-index fixup to every signed one
        upc = np.uint64(pc)
        if upc >= np.uint64(text_len):
            state[S_FAULT] = F_OVERRUN
            status = ST_FAULT
            break
        opc = code[upc, 0]
        if not VALID[np.uint64(opc)]:
            state[S_FAULT] = F_UNSUPPORTED
            status = ST_FAULT
            break
        dst = np.uint64(code[upc, 1])
        src = np.uint64(code[upc, 2])
        off = code[upc, 3]
        imm = np.uint64(code[upc, 4])
        a = reg[dst]
        b = reg[src]
        next_pc = pc + 1
        result = U0
        mem_addr = U0
        mem = 0
        cls = opc & 7
        if cls == 7 or cls == 4:  # ALU64 / ALU32
            o = opc & 0xF0
            if opc & 8 == 0 and o != 0xD0:
                b = imm
            if o == 0xD0:  # le / be (ALU32 class only)
                b = imm
                if imm == np.uint64(16):
                    r = a & np.uint64(0xFFFF)
                    width = 2
                elif imm == np.uint64(32):
                    r = a & M32
                    width = 4
                elif imm == np.uint64(64):
                    r = a
                    width = 8
                else:
                    state[S_FAULT] = F_INVALID
                    status = ST_FAULT
                    break
                if opc == 0xDC:
                    r = _bswap(r, width)
            elif o == 0x80:  # neg
                b = reg[src]
                r = (U0 - a) if cls == 7 else ((U0 - a) & M32)
            elif cls == 7:
                if o == 0x00:
                    r = a + b
                elif o == 0x10:
                    r = a - b
                elif o == 0x20:
                    r = a * b
                elif o == 0x30:
                    if b == U0:
                        state[S_FAULT] = F_DIV0
                        status = ST_FAULT
                        break
                    r = a // b
                elif o == 0x40:
                    r = a | b
                elif o == 0x50:
                    r = a & b
                elif o == 0x60:
                    r = a << (b & U63)
                elif o == 0x70:
                    r = a >> (b & U63)
                elif o == 0x90:
                    if b == U0:
                        state[S_FAULT] = F_DIV0
                        status = ST_FAULT
                        break
                    r = a % b
                elif o == 0xA0:
                    r = a ^ b
                elif o == 0xB0:
                    r = b
                elif o == 0xC0:
                    r = np.uint64(np.int64(a) >> np.int64(b & U63))
                else:
                    state[S_FAULT] = F_UNSUPPORTED
                    status = ST_FAULT
                    break
            else:
                a32 = a & M32
                b32 = b & M32
                if o == 0x00:
                    r = _sext32(a32 + b32)
                elif o == 0x10:
                    r = _sext32(a32 - b32)
                elif o == 0x20:
                    r = _sext32(a32 * b32)
                elif o == 0x30:
                    if b32 == U0:
                        state[S_FAULT] = F_DIV0
                        status = ST_FAULT
                        break
                    r = a32 // b32
                elif o == 0x40:
                    r = a32 | b32
                elif o == 0x50:
                    r = a32 & b32
                elif o == 0x60:
                    r = (a32 << (b32 & U31)) & M32
                elif o == 0x70:
                    r = a32 >> (b32 & U31)
                elif o == 0x90:
                    if b32 == U0:
                        state[S_FAULT] = F_DIV0
                        status = ST_FAULT
                        break
                    r = a32 % b32
                elif o == 0xA0:
                    r = a32 ^ b32
                elif o == 0xB0:
                    r = b32
                elif o == 0xC0:
                    r = np.uint64(np.int64(_sext32(a32)) >> np.int64(b32 & U31)) & M32
                else:
                    state[S_FAULT] = F_UNSUPPORTED
                    status = ST_FAULT
                    break
            reg[dst] = r
            result = r
        elif cls == 5:  # JMP
            o = opc & 0xF0
            if opc & 8 == 0:
                b = imm
            if o == 0x00:  # ja
                b = imm
                next_pc = pc + 1 + off
            elif o == 0x80:  # call / callx
                if opc == 0x8D:
                    b = reg[np.uint64(code[upc, 4])]
                    aux = 0
                else:
                    aux = code[upc, 5]
                    if aux <= -2:  # syscall: served natively, or handed over to Python
                        handled = 0
                        if native is not None:  # noqa: SIM102 (numba prunes it when None)
                            if native[0][-2 - aux] != 0:
                                handled, r0, cost, dirty, end = native_call(
                                    native[0][-2 - aux], reg, remaining, prog_vaddr, prog,
                                    stack, heap, inp, segs, native,
                                )  # fmt: skip
                                if handled:
                                    remaining -= cost
                                    reg[0] = np.uint64(r0)
                                    if dirty == 1:
                                        stack_dirty = max(stack_dirty, end)
                                    elif dirty == 2:
                                        heap_dirty = max(heap_dirty, end)
                                    pc += 1
                                    continue
                        state[S_AUX] = -2 - aux
                        status = ST_SYSCALL
                        break
                    if aux == -1:
                        state[S_FAULT] = F_UNSUPPORTED
                        status = ST_FAULT
                        break
                frames[np.uint64(depth), 0] = reg[6]
                frames[np.uint64(depth), 1] = reg[7]
                frames[np.uint64(depth), 2] = reg[8]
                frames[np.uint64(depth), 3] = reg[9]
                frames[np.uint64(depth), 4] = reg[10]
                frames[np.uint64(depth), 5] = np.uint64(pc + 1)
                depth += 1
                if depth == MAX_DEPTH:
                    state[S_FAULT] = F_DEPTH
                    status = ST_FAULT
                    break
                reg[10] = reg[10] + FRAME2
                result = reg[10]
                if opc == 0x8D:
                    target = (b - np.uint64(text_vaddr)) // np.uint64(8)
                    if target >= np.uint64(text_len):
                        state[S_FAULT] = F_OUTSIDE
                        status = ST_FAULT
                        break
                    next_pc = np.int64(target)
                else:
                    next_pc = aux
            elif o == 0x90:  # exit
                b = reg[src]
                result = reg[0]
                if depth == 0:
                    if trace is not None:
                        _record(trace, tcount, pc, a, b, result, NO_NEXT, mem_addr, mem)
                        tcount += 1
                    status = ST_EXIT
                    break
                depth -= 1
                reg[6] = frames[np.uint64(depth), 0]
                reg[7] = frames[np.uint64(depth), 1]
                reg[8] = frames[np.uint64(depth), 2]
                reg[9] = frames[np.uint64(depth), 3]
                reg[10] = frames[np.uint64(depth), 4]
                next_pc = np.int64(frames[np.uint64(depth), 5])
            else:
                sa = np.int64(a)
                sb = np.int64(b)
                if o == 0x10:
                    taken = a == b
                elif o == 0x50:
                    taken = a != b
                elif o == 0x20:
                    taken = a > b
                elif o == 0x30:
                    taken = a >= b
                elif o == 0xA0:
                    taken = a < b
                elif o == 0xB0:
                    taken = a <= b
                elif o == 0x40:
                    taken = (a & b) != U0
                elif o == 0x60:
                    taken = sa > sb
                elif o == 0x70:
                    taken = sa >= sb
                elif o == 0xC0:
                    taken = sa < sb
                else:
                    taken = sa <= sb
                if taken:
                    result = U1
                    next_pc = pc + 1 + off
        elif opc == 0x18:  # lddw
            b = imm
            reg[dst] = imm
            result = imm
            next_pc = pc + 2
        else:  # LDX / ST / STX
            w = opc & 0x18
            size = 4 if w == 0x00 else (2 if w == 0x08 else (1 if w == 0x10 else 8))
            store = cls != 1
            if cls == 1:
                addr = b + np.uint64(off)
            else:
                addr = a + np.uint64(off)
                if cls == 2:
                    b = imm
            k, host = _translate(
                addr, size, store, prog_vaddr, prog_len, heap_len, input_len, input_writable
            )
            if k == INPUT_SEGMENTS:
                k, host = translate_segments(addr, size, store, segs)
            if k < 0:
                state[S_FAULT] = F_ACCESS
                state[S_ADDR] = np.int64(addr)
                state[S_SIZE] = size
                state[S_ACCESS] = 2 if store else 1
                status = ST_FAULT
                break
            mem_addr = addr
            if k == 1:
                ptr = stack_base + np.uint64(host)
            elif k == 2:
                ptr = heap_base + np.uint64(host)
            elif k == 3:
                ptr = inp_base + np.uint64(host)
            else:
                ptr = prog_base + np.uint64(host)
            if store:
                mem = size | STORE_FLAG
                value = b if size == 8 else b & ((U1 << np.uint64(8 * size)) - U1)
                _poke(ptr, size, value)
                if k == 1:
                    stack_dirty = max(stack_dirty, host + size)
                elif k == 2:
                    heap_dirty = max(heap_dirty, host + size)
                result = value
            else:
                mem = size
                value = _peek(ptr, size)
                reg[dst] = value
                result = value
        if trace is not None:
            _record(trace, tcount, pc, a, b, result, np.uint64(next_pc), mem_addr, mem)
            tcount += 1
        pc = next_pc
    state[S_PC] = pc
    state[S_REMAINING] = remaining
    state[S_DEPTH] = depth
    state[S_CHARGED] = charged
    state[S_TCOUNT] = tcount
    state[S_STACK_DIRTY] = stack_dirty
    state[S_HEAP_DIRTY] = heap_dirty
    return status


@njit(inline="always", cache=True)
def _record(trace, row, pc, a, b, result, next_pc, mem_addr, mem):  # type: ignore[no-untyped-def]
    trace[row, 0] = np.uint64(pc)
    trace[row, 1] = a
    trace[row, 2] = b
    trace[row, 3] = result
    trace[row, 4] = next_pc
    trace[row, 5] = mem_addr
    trace[row, 6] = np.uint64(mem)
