"""The fast interpreter's Python face: runs the numba loop, serves its syscalls, builds results.

The loop (`fast_kernel.run_loop`) stops at every syscall; this wrapper calls the syscall with
the same `SyscallContext` the reference interpreter uses, writes r0 and resumes. Tracing picks
the loop's traced specialisation once per run; without it no trace buffer exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from heliostat.svm import fast_kernel as k
from heliostat.svm.errors import SvmError, SyscallFault, VmFault, fault_from_code
from heliostat.svm.executable import Executable
from heliostat.svm.memory import MM_INPUT_START, MM_STACK_START, STACK_FRAME_SIZE, MemoryMap
from heliostat.svm.native_syscalls import NativeSyscalls
from heliostat.svm.result import ExecutionResult
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.trace import SyscallEvent, TraceRecorder

U64 = (1 << 64) - 1
# Entry state, copied for each run: r1 = input region, r10 = top of stack frame 0.
_MACHINE = np.zeros(k.MACHINE_WORDS, dtype=np.uint64)
_MACHINE[1] = MM_INPUT_START
_MACHINE[10] = MM_STACK_START + STACK_FRAME_SIZE
_STATE = np.zeros(k.STATE_SIZE, dtype=np.int64)


def run_loop(
    executable: Executable,
    memory: MemoryMap,
    machine: Any,
    state: Any,
    recorder: TraceRecorder | None,
    tables: Any,
) -> int:
    """Run the numba loop on ``memory`` until it stops; return its status."""
    return int(
        k.run_loop(
            executable.code,
            memory.program,
            memory.stack_buffer,
            memory.heap_buffer,
            memory.input,
            memory.segments,
            machine,
            state,
            recorder.buffer if recorder is not None else None,
            tables,
        )
    )


def execute(
    executable: Executable,
    memory: MemoryMap,
    host: Any,
    compute_budget: int,
    registers: Mapping[int, int] | None,
    *,
    trace: bool = False,
    native: NativeSyscalls | None = None,
) -> ExecutionResult:
    """Run to exit or fault with the numba loop (use `heliostat.svm.vm.run`).

    ``registers`` presets some of r0..r9 over the entry state (r1 = input, r10 = stack).
    ``native`` serves some syscalls inside the loop (native mode; not with ``trace``).
    """
    if memory.released:  # the loop trusts the stack's length
        raise SvmError("this memory map was released")
    if native is not None and trace:
        raise SvmError("syscalls are served natively only without a trace")
    tables = native.tables if native is not None else None
    machine = _MACHINE.copy()
    if registers:
        for index, value in registers.items():
            machine[index] = value
    state = _STATE.copy()
    state[k.S_PC] = executable.entry_pc
    state[k.S_REMAINING] = compute_budget
    state[k.S_TEXT_LEN] = executable.text_len
    state[k.S_TEXT_VADDR] = executable.text_vaddr
    state[k.S_PROG_VADDR] = memory.program_vaddr
    recorder = TraceRecorder() if trace else None
    ctx: SyscallContext | None = None  # built at the first syscall
    fault: VmFault | None = None
    while True:
        status = run_loop(executable, memory, machine, state, recorder, tables)
        if status == k.ST_EXIT:
            break
        if status == k.ST_SYSCALL:
            if native is not None:  # the host sees side-channel records in call order
                native.drain()
            if ctx is None:
                ctx = SyscallContext(memory, host, compute_budget, recorder)
            fault = _syscall(executable, ctx, machine, state, recorder)
            if fault is not None:
                break
            continue
        if status == k.ST_TRACE_FULL:
            if recorder is None:  # only the traced specialisation can report a full buffer
                raise RuntimeError("untraced loop reported a full trace buffer")
            recorder.count = int(state[k.S_TCOUNT])
            recorder.grow()
            continue
        fault = fault_from_code(
            int(state[k.S_FAULT]),
            int(state[k.S_PC]),
            address=int(state[k.S_ADDR]) & U64,
            size=int(state[k.S_SIZE]),
            access=int(state[k.S_ACCESS]) or 1,
        )
        break
    if native is not None:
        native.drain()
    final = state.tolist()
    memory.stack_dirty = max(memory.stack_dirty, final[k.S_STACK_DIRTY])
    memory.heap_dirty = max(memory.heap_dirty, final[k.S_HEAP_DIRTY])
    registers_out = machine[:11].tolist()
    remaining = final[k.S_REMAINING]
    if recorder is not None:
        recorder.count = final[k.S_TCOUNT]
    return ExecutionResult(
        None if fault else registers_out[0],
        fault,
        compute_budget - remaining,
        remaining,
        final[k.S_CHARGED],
        tuple(registers_out),
        final[k.S_PC],
        recorder.finish() if recorder is not None else None,
    )


def _syscall(
    executable: Executable,
    ctx: SyscallContext,
    reg: np.ndarray,
    state: np.ndarray,
    recorder: TraceRecorder | None,
) -> VmFault | None:
    """Serve the syscall the loop stopped at; resume state, or return its fault."""
    syscall = executable.syscalls[int(state[k.S_AUX])]
    pc = int(state[k.S_PC])
    before = int(state[k.S_REMAINING])
    step = int(state[k.S_TCOUNT])
    ctx.remaining, ctx.pc, ctx.step = before, pc, step
    args = (int(reg[1]), int(reg[2]), int(reg[3]), int(reg[4]), int(reg[5]))
    try:
        r0 = syscall.function(ctx, *args) & U64
    except SvmError as error:
        state[k.S_REMAINING] = ctx.remaining
        if recorder is not None:
            recorder.syscall(
                SyscallEvent(
                    step, pc, syscall.key, syscall.name, args, None, before - ctx.remaining
                )
            )
        return SyscallFault(error, pc=pc)
    state[k.S_REMAINING] = ctx.remaining
    if recorder is not None:
        recorder.syscall(
            SyscallEvent(step, pc, syscall.key, syscall.name, args, r0, before - ctx.remaining)
        )
        recorder.count = step
        row = executable.code[pc]
        recorder.step(pc, int(reg[int(row[1])]), int(row[4]) & U64, r0, pc + 1)
        state[k.S_TCOUNT] = recorder.count
    reg[0] = r0
    state[k.S_PC] = pc + 1
    return None
