"""The kernel switch's fixed numbers: the activation record, statuses, fault classes, call numbers.

These constants are shared with the runtime's C headers (c/runtime/kernel_abi.h) and the zkVM;
docs/svm.md ("Kernel switch") is the specification. Which of a program's syscalls are kernel
calls (they suspend the program and return to the kernel) is fixed here: everything that reads
or writes transaction state. `program_registry()` binds those names to `KernelCall` markers so
that a program loaded under the kernel stops at them instead of running a host function.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from heliostat.svm.errors import SvmError
from heliostat.svm.syscall_api import SyscallContext, SyscallRegistry
from heliostat.svm.syscalls.registry import default_registry

# The activation record `hs_activation` in kernel memory: 16 little-endian u64 fields.
ACTIVATION_SIZE = 128
ACTIVATION_ALIGN = 8
A_INPUT_ADDR, A_INPUT_LEN, A_HEAP_SIZE, A_DATA_OFFSET = 0, 8, 16, 24
A_COMPUTE_UNITS, A_STATUS, A_VALUE, A_ARGS = 32, 40, 48, 56
A_RESULT, A_FAIL, A_DEPTH, A_INSTRUCTIONS = 96, 104, 112, 120
RECORD = struct.Struct("<16Q")
# Output fields written back after every switch: compute_units .. args[4].
OUT_FIELDS = struct.Struct("<8Q")  # at A_COMPUTE_UNITS: compute_units, status, value, args[5]
TAIL_FIELDS = struct.Struct("<2Q")  # at A_DEPTH: depth, instructions

# Statuses (r0 of enter/resume, and the record's status field).
EXITED, FAULTED, KERNEL_CALL = 0, 1, 2

# Fault classes (the record's value when FAULTED).
FAULT_VM = 1  # a VM fault by an instruction; agave depletes the meter
FAULT_SYSCALL = 2  # a VM service or precompile failed: ProgramFailedToComplete
FAULT_BUDGET = 3  # a VM service ran out of compute units: ComputationalBudgetExceeded
FAULT_INSTRUCTION_ERROR = 4  # a VM service failed with an InstructionError (index in args[0])
FAULT_KERNEL = 5  # the kernel ended the program (resume with `fail`)

# Limits the VM enforces on the kernel (agave's are the kernel's business).
MAX_ACTIVATION_DEPTH = 8
MAX_PROGRAM_HEAP = 256 * 1024
HEAP_GRANULE = 1024
KERNEL_BUDGET = 1 << 62  # the kernel is not metered; its meter only counts

# Kernel calls: number -> the program syscall that raises it.
KERNEL_CALLS: dict[int, str] = {
    1: "sol_invoke_signed_c",
    2: "sol_invoke_signed_rust",
    3: "sol_set_return_data",
    4: "sol_get_return_data",
    5: "sol_get_stack_height",
    6: "sol_get_sysvar",
    7: "sol_get_clock_sysvar",
    8: "sol_get_rent_sysvar",
    9: "sol_get_epoch_schedule_sysvar",
    10: "sol_get_epoch_rewards_sysvar",
    11: "sol_get_last_restart_slot",
    12: "sol_get_processed_sibling_instruction",
    13: "sol_get_epoch_stake",
}
KERNEL_CALL_NUMBERS: dict[str, int] = {name: number for number, name in KERNEL_CALLS.items()}


class KernelProtocolError(SvmError):
    """The kernel broke the switch protocol (a runtime bug): the kernel run faults."""

    reason = "kernel_protocol"


@dataclass(frozen=True)
class KernelCall:
    """Marker bound to a kernel-call name in a program's registry.

    The activation loop recognises it and suspends the program; it is never called as a
    function (doing so means a program ran outside the kernel switch with a kernel registry).
    """

    number: int
    name: str

    def __call__(self, ctx: SyscallContext, r1: int, r2: int, r3: int, r4: int, r5: int) -> int:
        """Refuse: kernel calls only exist under the kernel switch."""
        raise KernelProtocolError(f"kernel call {self.name} outside the kernel switch")


@functools.cache
def _program_registry() -> SyscallRegistry:
    registry = default_registry()
    for number, name in KERNEL_CALLS.items():
        registry.register(name, KernelCall(number, name))
    return registry


def program_registry() -> SyscallRegistry:
    """Return a registry for programs run under the kernel: mainnet's set, kernel calls marked."""
    return _program_registry().copy()
