"""What the zkVM proves: one run of an executable, recorded by the VM in proving mode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heliostat.svm.executable import Executable
from heliostat.svm.memory import DEFAULT_HEAP_SIZE, MemoryMap, initial_registers
from heliostat.svm.result import ExecutionResult
from heliostat.svm.vm import run
from heliostat.zkvm.errors import UnsupportedExecutionError


@dataclass(frozen=True)
class Execution:
    """An executable, the state it started from, and the recorded run."""

    executable: Executable
    input: bytes
    heap_size: int
    budget: int
    registers: tuple[int, ...]  # r0..r10 at entry
    result: ExecutionResult
    input_read_only: bool = False  # a kernel's input: stores to it fault

    def __post_init__(self) -> None:
        if self.result.trace is None:
            raise UnsupportedExecutionError("the run was not recorded (trace=True)")


def execute(
    executable: Executable,
    input_data: bytes = b"",
    *,
    budget: int = 200_000,
    registers: Mapping[int, int] | None = None,
    heap_size: int = DEFAULT_HEAP_SIZE,
    host: Any = None,
) -> Execution:
    """Run ``executable`` in proving mode (the numba interpreter with a trace)."""
    memory = MemoryMap.for_executable(executable, input_data, heap_size)
    result = run(executable, memory, host, budget, trace=True, fast=True, registers=registers)
    return Execution(
        executable=executable,
        input=bytes(input_data),
        heap_size=heap_size,
        budget=budget,
        registers=tuple(initial_registers(registers)),
        result=result,
    )


def execute_program_instruction(
    program: Any,
    instruction: Any,
    accounts: Mapping[Any, Any],
    host: Any,
    *,
    budget: int = 200_000,
    heap_size: int = DEFAULT_HEAP_SIZE,
) -> Execution:
    """Run one program instruction as the BPF loader sets it up, recording it for the prover.

    The input is ABI v1 and r2 points at the instruction data.

    ``program`` is a `heliostat.svm.instruction.LoadedProgram`; this is the VM run inside
    `heliostat.svm.instruction.execute_instruction` (serialisation and registers the same),
    without the write-back that follows it.
    """
    from heliostat.svm import abi
    from heliostat.svm.instruction import instruction_accounts
    from heliostat.svm.syscalls.costs import heap_cost

    entries = instruction_accounts(instruction, accounts)
    serialized = abi.serialize(entries, bytes(instruction.data), program.program_id)
    return execute(
        program.executable,
        serialized.buffer,
        budget=budget - heap_cost(heap_size),
        registers={2: serialized.instruction_data_address},
        heap_size=heap_size,
        host=host,
    )
