"""The reference sBPF v0 interpreter: plain Python, one handler per instruction family.

It is the specification the numba interpreter is tested against. Semantics follow anza-xyz/sbpf
v0.21 src/interpreter.rs for SBPFVersion::V0: add32/sub32/mul32 sign-extend their result, the
other 32-bit operations zero-extend; div/mod by a zero register fault; immediates are
sign-extended to 64 bits; shifts mask their amount; the meter is checked before every
instruction; `callx` takes its register from the immediate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from heliostat.svm import opcodes as op
from heliostat.svm.errors import (
    CallDepthExceeded,
    CallOutsideTextSegment,
    DivideByZero,
    ExceededMaxInstructions,
    ExecutionOverrun,
    InvalidInstruction,
    SvmError,
    SyscallFault,
    UnsupportedInstruction,
    VmFault,
)
from heliostat.svm.executable import C_AUX, CALL_UNRESOLVED, SYSCALL_BASE, Executable
from heliostat.svm.memory import MAX_CALL_DEPTH, STACK_FRAME_SIZE, MemoryMap, initial_registers
from heliostat.svm.result import ExecutionResult
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.trace import MEM_STORE, NO_NEXT_PC, SyscallEvent, TraceRecorder

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1


def signed64(x: int) -> int:
    """Reinterpret an unsigned 64-bit value as two's complement."""
    return x - (1 << 64) if x >> 63 else x


def signed32(x: int) -> int:
    """Reinterpret the low 32 bits as two's complement."""
    x &= U32
    return x - (1 << 32) if x >> 31 else x


@dataclass(frozen=True)
class Insn:
    """One decoded slot; ``imm`` is sign-extended (the full 64-bit value for lddw)."""

    pc: int
    opc: int
    dst: int
    src: int
    off: int
    imm: int
    aux: int


@dataclass
class Frame:
    """A saved call frame: r6..r9, the frame pointer and where to return."""

    saved: tuple[int, int, int, int]
    frame_pointer: int
    return_pc: int


class Machine:
    """Interpreter state for one run."""

    def __init__(
        self,
        executable: Executable,
        memory: MemoryMap,
        ctx: SyscallContext,
        registers: list[int],
        trace: TraceRecorder | None,
    ) -> None:
        self.exe = executable
        self.memory = memory
        self.ctx = ctx
        self.reg = list(registers)
        self.pc = executable.entry_pc
        self.next_pc = 0
        self.frames: list[Frame] = []
        self.remaining = ctx.remaining
        self.charged = 0  # instructions charged to the meter
        self.trace = trace
        self.result = 0  # the value the current instruction produced (trace column)
        self.mem_addr = 0
        self.mem = 0
        self.exited = False

    def load(self, address: int, width: int) -> int:
        """Load through the memory map, noting the access for the trace."""
        self.mem_addr, self.mem = address & U64, width
        return self.memory.load(address, width)

    def store(self, address: int, width: int, value: int) -> None:
        """Store through the memory map, noting the access and value for the trace."""
        self.mem_addr, self.mem = address & U64, width | MEM_STORE
        self.memory.store(address, width, value)
        self.result = value & ((1 << (8 * width)) - 1)

    def write(self, dst: int, value: int) -> None:
        """Write a register (wrapping to 64 bits); the value is the instruction's result."""
        self.reg[dst] = value & U64
        self.result = self.reg[dst]


# --------------------------------------------------------------------------------------------
# Instruction families


def _alu64(m: Machine, i: Insn, a: int, b: int) -> None:
    o = i.opc & 0xF0
    if o in (op.ALU_DIV, op.ALU_MOD) and b == 0:
        raise DivideByZero(pc=i.pc)
    if o == op.ALU_ADD:
        r = a + b
    elif o == op.ALU_SUB:
        r = a - b
    elif o == op.ALU_MUL:
        r = a * b
    elif o == op.ALU_DIV:
        r = a // b
    elif o == op.ALU_MOD:
        r = a % b
    elif o == op.ALU_OR:
        r = a | b
    elif o == op.ALU_AND:
        r = a & b
    elif o == op.ALU_XOR:
        r = a ^ b
    elif o == op.ALU_LSH:
        r = a << (b & 63)
    elif o == op.ALU_RSH:
        r = a >> (b & 63)
    elif o == op.ALU_ARSH:
        r = signed64(a) >> (b & 63)
    else:  # ALU_MOV
        r = b
    m.write(i.dst, r)


def _alu32(m: Machine, i: Insn, a: int, b: int) -> None:
    o = i.opc & 0xF0
    a32, b32 = a & U32, b & U32
    if o in (op.ALU_DIV, op.ALU_MOD) and b32 == 0:
        raise DivideByZero(pc=i.pc)
    if o in (op.ALU_ADD, op.ALU_SUB, op.ALU_MUL):
        # v0: these three sign-extend their 32-bit result to 64 bits
        r = {op.ALU_ADD: a32 + b32, op.ALU_SUB: a32 - b32, op.ALU_MUL: a32 * b32}[o]
        m.write(i.dst, signed32(r))
        return
    if o == op.ALU_DIV:
        r = a32 // b32
    elif o == op.ALU_MOD:
        r = a32 % b32
    elif o == op.ALU_OR:
        r = a32 | b32
    elif o == op.ALU_AND:
        r = a32 & b32
    elif o == op.ALU_XOR:
        r = a32 ^ b32
    elif o == op.ALU_LSH:
        r = a32 << (b32 & 31)
    elif o == op.ALU_RSH:
        r = a32 >> (b32 & 31)
    elif o == op.ALU_ARSH:
        r = signed32(a32) >> (b32 & 31)
    else:  # ALU_MOV: mov32 zero-extends in v0
        r = b32
    m.write(i.dst, r & U32)


def alu(m: Machine, i: Insn) -> None:
    """ALU32/ALU64 with a register or immediate operand."""
    b = i.imm & U64 if op.OPCODES[i.opc].uses_imm else m.reg[i.src]
    if i.opc & 0x07 == op.CLS_ALU64:
        _alu64(m, i, m.reg[i.dst], b)
    else:
        _alu32(m, i, m.reg[i.dst], b)


def neg(m: Machine, i: Insn) -> None:
    """neg64, and neg32 (which zero-extends)."""
    a = m.reg[i.dst]
    m.write(i.dst, -a if i.opc == op.NEG64 else -a & U32)


def endian(m: Machine, i: Insn) -> None:
    """Le (truncate to the width) and be (byte-swap the low ``imm`` bits)."""
    if i.imm not in (16, 32, 64):
        raise InvalidInstruction(pc=i.pc)
    width = i.imm // 8
    value = m.reg[i.dst] & ((1 << i.imm) - 1)
    if i.opc == op.BE:
        value = int.from_bytes(value.to_bytes(width, "little"), "big")
    m.write(i.dst, value)


def lddw(m: Machine, i: Insn) -> None:
    """Load a 64-bit immediate; skips the second slot."""
    m.write(i.dst, i.imm)
    m.next_pc = i.pc + 2


def load(m: Machine, i: Insn) -> None:
    """ldx{b,h,w,dw} dst, [src + off]."""
    width = op.OPCODES[i.opc].width
    m.write(i.dst, m.load(m.reg[i.src] + i.off, width))


def store(m: Machine, i: Insn) -> None:
    """st{b,h,w,dw} [dst + off], imm and stx{b,h,w,dw} [dst + off], src."""
    info = op.OPCODES[i.opc]
    value = i.imm & U64 if info.uses_imm else m.reg[i.src]
    m.store(m.reg[i.dst] + i.off, info.width, value)


_CONDITIONS: dict[int, Callable[[int, int], bool]] = {
    op.JMP_JEQ: lambda a, b: a == b,
    op.JMP_JNE: lambda a, b: a != b,
    op.JMP_JGT: lambda a, b: a > b,
    op.JMP_JGE: lambda a, b: a >= b,
    op.JMP_JLT: lambda a, b: a < b,
    op.JMP_JLE: lambda a, b: a <= b,
    op.JMP_JSET: lambda a, b: a & b != 0,
    op.JMP_JSGT: lambda a, b: signed64(a) > signed64(b),
    op.JMP_JSGE: lambda a, b: signed64(a) >= signed64(b),
    op.JMP_JSLT: lambda a, b: signed64(a) < signed64(b),
    op.JMP_JSLE: lambda a, b: signed64(a) <= signed64(b),
}


def jump(m: Machine, i: Insn) -> None:
    """Ja and the conditional jumps (64-bit comparisons in v0)."""
    m.result = 0
    if i.opc == op.JA:
        m.next_pc = i.pc + 1 + i.off
        return
    b = i.imm & U64 if op.OPCODES[i.opc].uses_imm else m.reg[i.src]
    if _CONDITIONS[i.opc & 0xF0](m.reg[i.dst], b):
        m.result = 1
        m.next_pc = i.pc + 1 + i.off


def _push_frame(m: Machine, i: Insn) -> None:
    """Save r6..r9 and r10, then move r10 two frames up (a frame and its gap)."""
    m.frames.append(Frame((m.reg[6], m.reg[7], m.reg[8], m.reg[9]), m.reg[10], i.pc + 1))
    if len(m.frames) == MAX_CALL_DEPTH:
        raise CallDepthExceeded(pc=i.pc)
    m.reg[10] = (m.reg[10] + 2 * STACK_FRAME_SIZE) & U64
    m.result = m.reg[10]


def call(m: Machine, i: Insn) -> None:
    """Call imm: a syscall if the key names one, else an internal function."""
    if i.aux <= SYSCALL_BASE:
        _syscall(m, i, m.exe.syscalls[SYSCALL_BASE - i.aux])
    elif i.aux == CALL_UNRESOLVED:
        raise UnsupportedInstruction(pc=i.pc)
    else:
        _push_frame(m, i)
        m.next_pc = i.aux  # the loader only registers targets inside the text


def callx(m: Machine, i: Insn) -> None:
    """callx: jump to the address in register ``imm`` (v0), as a call."""
    target = m.reg[i.imm]
    _push_frame(m, i)
    target_pc = ((target - m.exe.text_vaddr) & U64) // op.INSN_SIZE
    if (target_pc + 1) * op.INSN_SIZE > m.exe.text_len * op.INSN_SIZE:
        raise CallOutsideTextSegment(pc=i.pc)
    m.next_pc = target_pc


def exit_(m: Machine, i: Insn) -> None:
    """exit: return from a function, or end the program at depth 0."""
    if not m.frames:
        m.exited = True
        m.result = m.reg[0]
        m.next_pc = NO_NEXT_PC
        return
    frame = m.frames.pop()
    m.reg[6], m.reg[7], m.reg[8], m.reg[9] = frame.saved
    m.reg[10] = frame.frame_pointer
    m.result = m.reg[0]
    m.next_pc = frame.return_pc


def _syscall(m: Machine, i: Insn, syscall: Any) -> None:
    ctx = m.ctx
    ctx.remaining, ctx.pc, ctx.step = m.remaining, i.pc, m.trace.count if m.trace else 0
    args = (m.reg[1], m.reg[2], m.reg[3], m.reg[4], m.reg[5])
    before = m.remaining
    try:
        r0 = syscall.function(ctx, *args) & U64
    except SvmError as error:
        m.remaining = ctx.remaining
        if m.trace is not None:
            m.trace.syscall(
                SyscallEvent(
                    ctx.step, i.pc, syscall.key, syscall.name, args, None, before - m.remaining
                )
            )
        raise SyscallFault(error, pc=i.pc) from error
    m.remaining = ctx.remaining
    if m.trace is not None:
        m.trace.syscall(
            SyscallEvent(ctx.step, i.pc, syscall.key, syscall.name, args, r0, before - m.remaining)
        )
    m.write(0, r0)


HANDLERS: dict[op.Family, Callable[[Machine, Insn], None]] = {
    op.Family.ALU32: alu,
    op.Family.ALU64: alu,
    op.Family.NEG: neg,
    op.Family.ENDIAN: endian,
    op.Family.LDDW: lddw,
    op.Family.LOAD: load,
    op.Family.STORE_IMM: store,
    op.Family.STORE_REG: store,
    op.Family.JUMP: jump,
    op.Family.CALL: call,
    op.Family.CALLX: callx,
    op.Family.EXIT: exit_,
}


def step(m: Machine) -> None:
    """Execute one instruction: meter, fetch, dispatch to its family, record."""
    pc = m.pc
    if m.remaining == 0:
        raise ExceededMaxInstructions(pc=pc)
    m.remaining -= 1
    m.charged += 1
    if pc >= m.exe.text_len:
        raise ExecutionOverrun(pc=pc)
    row = m.exe.code[pc]
    i = Insn(pc, int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[C_AUX]))
    info = op.OPCODES.get(i.opc)
    if info is None:
        raise UnsupportedInstruction(pc=pc)
    dst_in = m.reg[i.dst]
    if info.family is op.Family.CALLX:
        src_in = m.reg[i.imm]
    else:
        src_in = i.imm & U64 if info.uses_imm else m.reg[i.src]
    m.next_pc, m.result, m.mem_addr, m.mem = pc + 1, 0, 0, 0
    HANDLERS[info.family](m, i)
    if m.trace is not None:
        m.trace.step(pc, dst_in, src_in, m.result, m.next_pc, m.mem_addr, m.mem)
    if not m.exited:  # sbpf leaves the pc on the final exit
        m.pc = m.next_pc


def execute(
    executable: Executable,
    memory: MemoryMap,
    host: Any,
    compute_budget: int,
    registers: Mapping[int, int] | None,
    *,
    trace: bool = False,
) -> ExecutionResult:
    """Run to exit or fault (use `heliostat.svm.vm.run`); ``registers`` presets r0..r9."""
    if memory.released:
        raise SvmError("this memory map was released")
    recorder = TraceRecorder() if trace else None
    ctx = SyscallContext(memory, host, compute_budget, recorder)
    m = Machine(executable, memory, ctx, initial_registers(registers), recorder)
    fault: VmFault | None = None
    try:
        while not m.exited:
            step(m)
    except VmFault as error:
        if error.pc is None:  # raised by the memory map, which does not know the pc
            error.pc = m.pc
        fault = error
    return ExecutionResult(
        r0=None if fault else m.reg[0],
        fault=fault,
        compute_units_consumed=compute_budget - m.remaining,
        remaining=m.remaining,
        instruction_count=m.charged,
        registers=tuple(m.reg),
        pc=m.pc,
        trace=recorder.finish() if recorder else None,
    )
