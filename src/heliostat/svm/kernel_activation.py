"""One activation of a program image under the kernel: a run that can stop at a kernel call.

An activation is the numba interpreter's run of one program instruction, made resumable: it
runs until the program exits, faults, or calls a kernel call (a syscall bound to a
`KernelCall` marker); then it stays suspended at that `call` until the kernel resumes it with
an r0 and a new meter reading, or ends it. VM services and precompiles are served in place,
exactly as `fast_interpreter` serves them (same code path), so a program behaves the same
under the kernel as under `heliostat.svm.instruction`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heliostat.svm import fast_kernel as k
from heliostat.svm.errors import (
    ComputeBudgetExceeded,
    SvmError,
    SyscallFault,
    VmFault,
    fault_from_code,
)
from heliostat.svm.executable import Executable
from heliostat.svm.fast_interpreter import _MACHINE, _STATE, _syscall, run_loop
from heliostat.svm.instruction_error import InstructionErrorKind
from heliostat.svm.kernel_abi import (
    EXITED,
    FAULT_BUDGET,
    FAULT_INSTRUCTION_ERROR,
    FAULT_KERNEL,
    FAULT_SYSCALL,
    FAULT_VM,
    FAULTED,
    KERNEL_CALL,
    KernelCall,
    KernelProtocolError,
)
from heliostat.svm.memory import MM_INPUT_START, MemoryMap
from heliostat.svm.syscall_api import BoundSyscall, SyscallContext
from heliostat.svm.syscalls.errors import InstructionFailureError
from heliostat.svm.trace import SyscallEvent, Trace, TraceRecorder

U64 = (1 << 64) - 1
_INSTRUCTION_ERROR_INDEX = {kind: i for i, kind in enumerate(InstructionErrorKind)}


class KernelEndedProgramError(SvmError):
    """The cause of a program's fault when the kernel ended it at a kernel call."""

    reason = "kernel_ended_program"

    def __init__(self, call: str, code: int) -> None:
        super().__init__(f"the kernel failed {call} (code {code})")
        self.call, self.code = call, code


@dataclass(frozen=True)
class Stop:
    """Why an activation stopped: status, value and args as the activation record gives them."""

    status: int
    value: int
    args: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


@dataclass
class _Pending:
    """The kernel call an activation is suspended at."""

    syscall: BoundSyscall
    pc: int
    step: int
    args: tuple[int, int, int, int, int]
    remaining: int  # the meter when it stopped


class Activation:
    """A program image running in its own registers, stack and heap over an aliased input."""

    def __init__(
        self,
        number: int,
        image_id: bytes,
        executable: Executable,
        memory: MemoryMap,
        host: Any,
        compute_units: int,
        data_offset: int,
        *,
        trace: bool,
    ) -> None:
        self.number = number
        self.depth = 1  # nesting depth (the session sets it)
        self.image_id = image_id
        self.executable = executable
        self.memory = memory
        self.machine = _MACHINE.copy()
        self.machine[2] = MM_INPUT_START + data_offset  # r2: instruction data (SIMD-0321)
        self.state = _STATE.copy()
        self.state[k.S_PC] = executable.entry_pc
        self.state[k.S_REMAINING] = compute_units
        self.state[k.S_TEXT_LEN] = executable.text_len
        self.state[k.S_TEXT_VADDR] = executable.text_vaddr
        self.state[k.S_PROG_VADDR] = memory.program_vaddr
        self.recorder = TraceRecorder() if trace else None
        self.ctx = SyscallContext(memory, host, compute_units, self.recorder)
        self.pending: _Pending | None = None
        self.fault: VmFault | None = None
        self.r0: int | None = None

    # -----------------------------------------------------------------------------------------
    # Running

    @property
    def remaining(self) -> int:
        """Compute units left on this activation's meter."""
        return int(self.state[k.S_REMAINING])

    @property
    def instructions(self) -> int:
        """Instructions started so far (sbpf's count, faulting ones included)."""
        return int(self.state[k.S_CHARGED])

    @property
    def rows(self) -> int:
        """Trace rows recorded so far (0 without a trace)."""
        return int(self.state[k.S_TCOUNT]) if self.recorder is not None else 0

    def run(self) -> Stop:
        """Run until exit, fault or a kernel call."""
        if self.pending is not None or self.fault is not None or self.r0 is not None:
            raise KernelProtocolError(f"activation {self.number} is not runnable")
        memory, executable, state, machine = self.memory, self.executable, self.state, self.machine
        recorder = self.recorder
        while True:
            status = run_loop(executable, memory, machine, state, recorder, None)
            if status == k.ST_EXIT:
                self.r0 = int(machine[0])
                return Stop(EXITED, self.r0)
            if status == k.ST_SYSCALL:
                bound = executable.syscalls[int(state[k.S_AUX])]
                if isinstance(bound.function, KernelCall):
                    return self._suspend(bound)
                fault = _syscall(executable, self.ctx, machine, state, recorder)
                if fault is not None:
                    return self._end(fault)
                continue
            if status == k.ST_TRACE_FULL:
                if recorder is None:
                    raise RuntimeError("untraced loop reported a full trace buffer")
                recorder.count = int(state[k.S_TCOUNT])
                recorder.grow()
                continue
            return self._end(
                fault_from_code(
                    int(state[k.S_FAULT]),
                    int(state[k.S_PC]),
                    address=int(state[k.S_ADDR]) & U64,
                    size=int(state[k.S_SIZE]),
                    access=int(state[k.S_ACCESS]) or 1,
                )
            )

    def _suspend(self, bound: BoundSyscall) -> Stop:
        machine = self.machine
        args = (int(machine[1]), int(machine[2]), int(machine[3]), int(machine[4]), int(machine[5]))
        step = int(self.state[k.S_TCOUNT])
        self.pending = _Pending(bound, int(self.state[k.S_PC]), step, args, self.remaining)
        if not isinstance(bound.function, KernelCall):  # narrowed by the caller; for mypy
            raise KernelProtocolError("not a kernel call")
        return Stop(KERNEL_CALL, bound.function.number, args)

    def resume(self, result: int, compute_units: int) -> Stop:
        """Return ``result`` to the pending kernel call with the meter at ``compute_units``."""
        pending = self._take_pending()
        if compute_units > pending.remaining:
            raise KernelProtocolError("a kernel call cannot give compute units back")
        result &= U64
        state, machine, recorder = self.state, self.machine, self.recorder
        if recorder is not None:
            syscall = pending.syscall
            units = pending.remaining - compute_units
            recorder.syscall(
                SyscallEvent(
                    pending.step, pending.pc, syscall.key, syscall.name, pending.args, result, units
                )
            )
            recorder.count = pending.step
            row = self.executable.code[pending.pc]
            dst_in = int(machine[int(row[1])])
            recorder.step(pending.pc, dst_in, int(row[4]) & U64, result, pending.pc + 1)
            state[k.S_TCOUNT] = recorder.count
        machine[0] = result
        state[k.S_PC] = pending.pc + 1
        state[k.S_REMAINING] = compute_units
        self.ctx.remaining = compute_units
        return self.run()

    def end_by_kernel(self, code: int, compute_units: int) -> Stop:
        """End the program at its pending kernel call (the kernel's `fail`)."""
        pending = self._take_pending()
        if compute_units > pending.remaining:
            raise KernelProtocolError("a kernel call cannot give compute units back")
        self.state[k.S_REMAINING] = compute_units
        if self.recorder is not None:
            syscall = pending.syscall
            self.recorder.syscall(
                SyscallEvent(
                    pending.step,
                    pending.pc,
                    syscall.key,
                    syscall.name,
                    pending.args,
                    None,
                    pending.remaining - compute_units,
                )
            )
        cause = KernelEndedProgramError(pending.syscall.name, code)
        self.fault = SyscallFault(cause, pc=pending.pc)
        return Stop(FAULTED, FAULT_KERNEL)

    def _take_pending(self) -> _Pending:
        pending = self.pending
        if pending is None:
            raise KernelProtocolError(f"activation {self.number} has no pending kernel call")
        self.pending = None
        return pending

    def _end(self, fault: VmFault) -> Stop:
        self.fault = fault
        if not isinstance(fault, SyscallFault):
            return Stop(FAULTED, FAULT_VM)
        cause = fault.cause
        if isinstance(cause, ComputeBudgetExceeded):
            return Stop(FAULTED, FAULT_BUDGET)
        if isinstance(cause, InstructionFailureError):
            index = _INSTRUCTION_ERROR_INDEX[cause.error.kind]
            return Stop(FAULTED, FAULT_INSTRUCTION_ERROR, (index, 0, 0, 0, 0))
        return Stop(FAULTED, FAULT_SYSCALL)

    # -----------------------------------------------------------------------------------------
    # The kernel's copy services

    @property
    def pending_step(self) -> int:
        """The trace row of the pending kernel call (copies are recorded on it)."""
        if self.pending is None:
            raise KernelProtocolError(f"activation {self.number} is not suspended")
        return self.pending.step

    def read(self, address: int, length: int) -> bytes:
        """Read the program's memory (checked with its region rules; recorded when tracing)."""
        data = self.memory.read(address, length)
        if self.recorder is not None:
            self.recorder.syscall_memory(self.pending_step, address, data, write=False)
        return data

    def write(self, address: int, data: bytes) -> None:
        """Write the program's memory (checked; recorded when tracing)."""
        self.memory.write(address, data)
        if self.recorder is not None:
            self.recorder.syscall_memory(self.pending_step, address, data, write=True)

    def finish_trace(self) -> Trace | None:
        """Return the activation's rows and events (None without a trace)."""
        if self.recorder is None:
            return None
        self.recorder.count = int(self.state[k.S_TCOUNT])
        return self.recorder.finish()
