"""Execution events for the zkVM: one row per executed instruction, plus syscall events.

The format is what the proving side consumes (issue 4) and is documented in docs/svm.md.
Rows are unsigned 64-bit integers in a (steps × `STEP_COLUMNS`) array so that the numba
interpreter can write them directly; syscalls and the memory they touch are Python events.
Recording is chosen once per run: with tracing off no code path touches this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

# Columns of a step row.
COL_PC = 0  # slot index of the instruction
COL_DST_IN = 1  # value of the dst register before the instruction
COL_SRC_IN = 2  # second operand as used: src register value, or the (sign-extended) immediate
COL_RESULT = 3  # value produced (see RESULT below)
COL_NEXT_PC = 4  # slot index executed next (NO_NEXT_PC after the final exit)
COL_MEM_ADDR = 5  # address of the load or store, 0 when none
COL_MEM = 6  # width in bytes (1, 2, 4, 8) | MEM_STORE for a store; 0 when no memory access
STEP_COLUMNS = 7

MEM_STORE = 0x10
NO_NEXT_PC = (1 << 64) - 1

RESULT = """\
ALU, neg, le/be, lddw, loads: the new value of dst. Stores: the value written (truncated to
the width). Conditional jumps: 1 if taken, else 0; ja: 0. call/callx into a function: the new
frame pointer r10. Syscall calls: the r0 the syscall returned. exit: r0.
"""

Steps = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class SyscallEvent:
    """One syscall: where it was called, its arguments, its result and the units it charged.

    ``r0`` is None when the syscall failed (the run then ends with a `SyscallFault`).
    ``units`` counts only what the syscall itself consumed.
    """

    step: int
    pc: int
    key: int
    name: str
    args: tuple[int, int, int, int, int]
    r0: int | None
    units: int


@dataclass(frozen=True)
class SyscallMemoryEvent:
    """Bytes a syscall read or wrote through its context (`SyscallContext.read`/`write`)."""

    step: int
    address: int
    data: bytes
    write: bool


@dataclass
class Trace:
    """The events of one execution.

    ``steps`` has one row per instruction that completed (a faulting instruction has no row;
    the fault and its pc are in the `ExecutionResult`). Syscall events point at the row of
    their call instruction by ``step``.
    """

    steps: Steps
    syscalls: list[SyscallEvent] = field(default_factory=list)
    memory: list[SyscallMemoryEvent] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.steps.shape[0])

    def same_as(self, other: Trace) -> bool:
        """Whether two traces record the same execution."""
        return (
            self.steps.shape == other.steps.shape
            and bool(np.array_equal(self.steps, other.steps))
            and self.syscalls == other.syscalls
            and self.memory == other.memory
        )


class TraceRecorder:
    """Collects events while a program runs (used by both interpreters)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.buffer: Steps = np.zeros((max(capacity, 16), STEP_COLUMNS), dtype=np.uint64)
        self.count = 0
        self.syscalls: list[SyscallEvent] = []
        self.memory: list[SyscallMemoryEvent] = []

    def grow(self) -> None:
        """Double the row buffer (the numba loop returns to Python to ask for this)."""
        bigger = np.zeros((2 * self.buffer.shape[0], STEP_COLUMNS), dtype=np.uint64)
        bigger[: self.count] = self.buffer[: self.count]
        self.buffer = bigger

    def step(
        self,
        pc: int,
        dst_in: int,
        src_in: int,
        result: int,
        next_pc: int,
        mem_addr: int = 0,
        mem: int = 0,
    ) -> None:
        """Append one row (reference interpreter)."""
        if self.count == self.buffer.shape[0]:
            self.grow()
        self.buffer[self.count] = (pc, dst_in, src_in, result, next_pc, mem_addr, mem)
        self.count += 1

    def syscall(self, event: SyscallEvent) -> None:
        """Record a syscall call."""
        self.syscalls.append(event)

    def syscall_memory(self, step: int, address: int, data: bytes, *, write: bool) -> None:
        """Record bytes a syscall read or wrote."""
        self.memory.append(SyscallMemoryEvent(step, address, data, write))

    def finish(self) -> Trace:
        """Return the recorded trace."""
        return Trace(self.buffer[: self.count].copy(), self.syscalls, self.memory)
