"""The outcome of running a program, shared by both interpreters."""

from __future__ import annotations

from dataclasses import dataclass

from heliostat.svm.errors import VmFault
from heliostat.svm.trace import Trace


@dataclass(slots=True)
class ExecutionResult:
    """The outcome of one run.

    ``fault`` is None when the program exited; then ``r0`` is its return value. Compute units
    are counted as sbpf counts them (one per instruction started, including a faulting one,
    plus what syscalls consumed); agave additionally depletes the whole meter after a fault
    that is not a `SyscallFault` (feature deplete_cu_meter_on_vm_failure), which is the exec
    layer's business. ``registers`` are r0..r10 at the end and ``pc`` the final (or faulting)
    slot.
    """

    r0: int | None
    fault: VmFault | None
    compute_units_consumed: int
    remaining: int
    instruction_count: int
    registers: tuple[int, ...]
    pc: int
    trace: Trace | None = None

    @property
    def ok(self) -> bool:
        """Whether the program exited without a fault."""
        return self.fault is None

    def same_outcome(self, other: ExecutionResult) -> bool:
        """Equal results: return value, fault (kind, text, pc), CU, registers, pc and trace."""
        if (self.fault is None) != (other.fault is None):
            return False
        if (
            self.fault is not None
            and other.fault is not None
            and not self.fault.same_fault(other.fault)
        ):
            return False
        traces_equal = (self.trace is None and other.trace is None) or (
            self.trace is not None and other.trace is not None and self.trace.same_as(other.trace)
        )
        return (
            self.r0 == other.r0
            and self.compute_units_consumed == other.compute_units_consumed
            and self.remaining == other.remaining
            and self.instruction_count == other.instruction_count
            and self.registers == other.registers
            and self.pc == other.pc
            and traces_equal
        )
