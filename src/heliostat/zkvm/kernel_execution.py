"""A kernel run (the runtime image K, `heliostat.svm.kernel`) as an `Execution` to prove.

Today's machine proves one execution of one image, so it covers a kernel run that enters no
program (a SOL transfer runs the System Program inside K). `kernel_execution` runs K in
proving mode and returns that execution; `unproven_syscalls` names the syscalls the run calls
that no chip proves yet (docs/zkvm.md, "Kernel runs", for what is missing and the design of
switches).

K is unmetered natively (`KERNEL_BUDGET` = 2^62, beyond the field); the proof meters it from
`PROOF_KERNEL_BUDGET` instead. The run is the same as long as K charges fewer units than that
and never reads its meter, which `kernel_execution` checks for the first and K's code
guarantees for the second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from heliostat.svm.executable import Executable
from heliostat.svm.kernel import ImageResolver, KernelResult, KernelSession, run_kernel
from heliostat.svm.memory import initial_registers
from heliostat.zkvm.errors import UnsupportedExecutionError
from heliostat.zkvm.execution import Execution
from heliostat.zkvm.machine import instruction_chips
from heliostat.zkvm.public_values import MAX_CU

PROOF_KERNEL_BUDGET = MAX_CU - 1
# syscalls that read the meter: K must not call them, or the proof's meter would show
METER_READERS = frozenset({"sol_log_compute_units_", "sol_remaining_compute_units"})


@dataclass(frozen=True)
class KernelExecution:
    """K's run as an execution to prove, and the kernel result it came from."""

    execution: Execution
    result: KernelResult


def proven_syscalls() -> frozenset[str]:
    """Return the names of the syscalls some chip proves."""
    return frozenset(
        o.name for chip in instruction_chips() if chip.name.startswith("sys") for o in chip.ops
    )


def unproven_syscalls(execution: Execution) -> list[str]:
    """Return the syscalls ``execution`` calls that no chip proves, in order of first call."""
    trace = execution.result.trace
    if trace is None:
        raise UnsupportedExecutionError("the run was not recorded (trace=True)")
    proven = proven_syscalls()
    seen: dict[str, None] = {}
    for event in trace.syscalls:
        if event.name not in proven:
            seen.setdefault(event.name, None)
    return list(seen)


def kernel_execution(
    kernel: Executable, input_data: bytes, heap_size: int, images: ImageResolver
) -> KernelExecution:
    """Run ``kernel`` over ``input_data`` in proving mode; return the execution to prove.

    ``kernel`` must be the image without jets (jets replace C code the proof must cover).
    Raise `UnsupportedExecutionError` when the run enters a program (no switch chip yet),
    faults, or reads its meter, or when K charged more than the proof's meter allows.
    """
    session = KernelSession(images, trace=True)
    result = run_kernel(kernel, input_data, session, heap_size=heap_size, trace=True)
    ex = result.execution
    if ex.fault is not None:
        raise UnsupportedExecutionError("the kernel faulted", got=str(ex.fault))
    if result.activations:
        raise UnsupportedExecutionError(
            "the kernel entered programs (kernel switches are not proven yet)",
            expected=0,
            got=result.activations,
        )
    if ex.trace is None:
        raise UnsupportedExecutionError("the run was not recorded (trace=True)")
    readers = sorted({e.name for e in ex.trace.syscalls} & METER_READERS)
    if readers:
        raise UnsupportedExecutionError("the kernel reads its meter", got=readers)
    if ex.compute_units_consumed >= PROOF_KERNEL_BUDGET:
        raise UnsupportedExecutionError(
            "the kernel charged more than the proof's meter",
            expected=PROOF_KERNEL_BUDGET,
            got=ex.compute_units_consumed,
        )
    execution = Execution(
        executable=kernel,
        input=bytes(input_data),
        heap_size=heap_size,
        budget=PROOF_KERNEL_BUDGET,
        registers=tuple(initial_registers(None)),
        # the meter as the proof runs it (the VM's reading starts at 2^62)
        result=replace(ex, remaining=PROOF_KERNEL_BUDGET - ex.compute_units_consumed),
        input_read_only=True,  # run_kernel maps K's input read-only
    )
    return KernelExecution(execution, result)
