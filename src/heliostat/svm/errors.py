"""The sBPF layer's errors: load time (ELF, verifier) and run-time faults, worded as agave does.

Every class derives from `SvmError`. Messages reproduce the Display text of the matching
`solana-sbpf` 0.21 error (the version inside the LiteSVM we conform to), because agave writes
those strings into program logs ("Program failed: <message>"); `kind` names the upstream enum
variant and `reason` is the snake_case form that RPC responses carry.
"""

from __future__ import annotations

import enum
import re

from heliostat.primitives.errors import HeliostatError


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class SvmError(HeliostatError):
    """Base of every error raised by `heliostat.svm`."""

    reason = "svm_error"


# --------------------------------------------------------------------------------------------
# Load time


class ElfError(SvmError):
    """An ELF that the sBPF v0 loader rejects (upstream `ElfError`, or the parser's errors).

    ``kind`` is the upstream variant (``FailedToParse``, ``UnresolvedSymbol``, ...); the
    message is the upstream text. ``details`` carries the numbers (offsets, symbol names).
    """

    reason = "elf_error"

    def __init__(self, kind: str, message: str, **details: object) -> None:
        super().__init__(message, reason=f"elf_{_snake(kind)}")
        self.kind = kind
        self.details = details


class VerifierError(SvmError):
    """Bytecode that sbpf's `RequisiteVerifier` rejects; ``pc`` is the offending slot."""

    reason = "verifier_error"

    def __init__(self, kind: str, message: str, pc: int | None = None) -> None:
        super().__init__(message, reason=f"verifier_{_snake(kind)}")
        self.kind = kind
        self.pc = pc


# --------------------------------------------------------------------------------------------
# Run time


class FaultCode(enum.IntEnum):
    """Numeric fault codes shared by both interpreters (the numba loop can only return ints)."""

    NONE = 0
    DIVIDE_BY_ZERO = 1
    DIVIDE_OVERFLOW = 2
    EXECUTION_OVERRUN = 3
    CALL_OUTSIDE_TEXT_SEGMENT = 4
    EXCEEDED_MAX_INSTRUCTIONS = 5
    CALL_DEPTH_EXCEEDED = 6
    ACCESS_VIOLATION = 7  # AccessViolation or StackAccessViolation, decided by the address
    INVALID_INSTRUCTION = 8
    UNSUPPORTED_INSTRUCTION = 9
    SYSCALL_ERROR = 10


class VmFault(SvmError):  # noqa: N818 (named after agave's faults, like its variants)
    """A run-time fault that stops the program (upstream `EbpfError`).

    ``pc`` is the slot index of the instruction that faulted, as sbpf's interpreter leaves it in
    its pc register. It is filled in by the interpreter; syscall code raises faults without it.
    """

    reason = "vm_fault"
    kind = "VmFault"
    code = FaultCode.NONE
    message = "vm fault"

    def __init__(self, message: str | None = None, *, pc: int | None = None) -> None:
        super().__init__(message if message is not None else self.message)
        self.pc = pc

    def same_fault(self, other: VmFault) -> bool:
        """Whether two faults are the same outcome (kind, message, pc)."""
        return type(self) is type(other) and str(self) == str(other) and self.pc == other.pc

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, pc={self.pc})"


class DivideByZero(VmFault):
    """Integer division or remainder by a zero register."""

    reason, kind, code = "divide_by_zero", "DivideByZero", FaultCode.DIVIDE_BY_ZERO
    message = "divide by zero at BPF instruction"


class DivideOverflow(VmFault):
    """Signed division overflow (only reachable in sBPF v2; kept for completeness)."""

    reason, kind, code = "divide_overflow", "DivideOverflow", FaultCode.DIVIDE_OVERFLOW
    message = "division overflow at BPF instruction"


class ExecutionOverrun(VmFault):
    """The program counter ran past the end of the text section."""

    reason, kind, code = "execution_overrun", "ExecutionOverrun", FaultCode.EXECUTION_OVERRUN
    message = "attempted to execute past the end of the text segment at BPF instruction"


class CallOutsideTextSegment(VmFault):
    """A call (``callx`` in practice) whose target is not an instruction of the text."""

    reason, kind = "call_outside_text_segment", "CallOutsideTextSegment"
    code = FaultCode.CALL_OUTSIDE_TEXT_SEGMENT
    message = "callx attempted to call outside of the text segment"


class ExceededMaxInstructions(VmFault):
    """The compute meter reached zero before an instruction could run."""

    reason, kind = "exceeded_max_instructions", "ExceededMaxInstructions"
    code = FaultCode.EXCEEDED_MAX_INSTRUCTIONS
    message = "exceeded CUs meter at BPF instruction"


class CallDepthExceeded(VmFault):
    """A BPF-to-BPF call beyond the maximum call depth (64 frames)."""

    reason, kind, code = "call_depth_exceeded", "CallDepthExceeded", FaultCode.CALL_DEPTH_EXCEEDED
    message = "exceeded max BPF to BPF call depth"


class InvalidInstruction(VmFault):
    """An instruction with an invalid operand (e.g. ``le``/``be`` width) reached at run time."""

    reason, kind, code = "invalid_instruction", "InvalidInstruction", FaultCode.INVALID_INSTRUCTION
    message = "invalid BPF instruction"


class UnsupportedInstruction(VmFault):
    """An unknown opcode, or a call whose key names neither a syscall nor a function."""

    reason, kind = "unsupported_instruction", "UnsupportedInstruction"
    code = FaultCode.UNSUPPORTED_INSTRUCTION
    message = "unsupported BPF instruction"


class AccessType(enum.IntEnum):
    """Direction of a memory access (upstream `AccessType`)."""

    LOAD = 1
    STORE = 2


class AccessViolation(VmFault):
    """A load or store outside every mapped region, across a region's end, or to read-only memory.

    ``region`` is the name sbpf derives from the address's top bits (program, stack, heap,
    input, unknown).
    """

    reason, kind, code = "access_violation", "AccessViolation", FaultCode.ACCESS_VIOLATION

    def __init__(
        self, access: AccessType, address: int, size: int, region: str, *, pc: int | None = None
    ) -> None:
        super().__init__(
            f"Access violation in {region} section at address {address:#x} of size {size}", pc=pc
        )
        self.access, self.address, self.size, self.region = access, address, size, region


class StackAccessViolation(AccessViolation):
    """An access violation whose address falls within the stack's frames (frame -1 to 64)."""

    reason, kind = "stack_access_violation", "StackAccessViolation"

    def __init__(
        self, access: AccessType, address: int, size: int, frame: int, *, pc: int | None = None
    ) -> None:
        VmFault.__init__(
            self,
            f"Access violation in stack frame {frame} at address {address:#x} of size {size}",
            pc=pc,
        )
        self.access, self.address, self.size, self.region = access, address, size, "stack"
        self.frame = frame


class SyscallFault(VmFault):
    """A syscall failed; ``cause`` is the error it raised (upstream `EbpfError::SyscallError`).

    agave treats these differently from the other faults: it does not deplete the compute
    meter, and it maps the cause (an `InstructionError`, a syscall error, an access violation
    found while translating a syscall's pointer) to the instruction's error.
    """

    reason, kind, code = "syscall_error", "SyscallError", FaultCode.SYSCALL_ERROR

    def __init__(self, cause: SvmError, *, pc: int | None = None) -> None:
        super().__init__(f"Syscall error: {cause}", pc=pc)
        self.cause = cause

    def same_fault(self, other: VmFault) -> bool:
        """Return whether both are the same outcome: pc, and a cause of the same type and text."""
        return (
            isinstance(other, SyscallFault)
            and self.pc == other.pc
            and type(self.cause) is type(other.cause)
            and str(self.cause) == str(other.cause)
        )


class ComputeBudgetExceeded(SvmError):  # noqa: N818 (agave's name)
    """A syscall asked for more compute units than remain.

    agave's `InstructionError::ComputationalBudgetExceeded`, raised by `consume_checked`.

    Raised by `SyscallContext.consume`; the interpreter wraps it in a `SyscallFault`.
    """

    reason = "computational_budget_exceeded"

    def __init__(self, requested: int, remaining: int) -> None:
        super().__init__("Computational budget exceeded")
        self.requested, self.remaining = requested, remaining


# sbpf's region names by the top 32 bits of an address (memory_region.rs generate_access_violation)
_REGION_NAMES = {1: "program", 2: "stack", 3: "heap", 4: "input"}
_MM_STACK_START = 2 << 32
_STACK_FRAME_SIZE = 4096
_MAX_CALL_DEPTH = 64


def access_violation(
    access: AccessType, address: int, size: int, *, pc: int | None = None
) -> AccessViolation:
    """Build the access-violation fault sbpf reports for ``address`` (v0, fixed frames).

    sbpf names the stack frame when ``(address - MM_STACK_START) / 4096`` (signed, truncating
    division) lies in -1..=64, whatever region the address is in; otherwise it names the region.
    """
    address &= (1 << 64) - 1
    signed = address - (1 << 64) if address >= 1 << 63 else address
    delta = max(signed - _MM_STACK_START, -(1 << 63))  # saturating_sub on i64
    frame = abs(delta) // _STACK_FRAME_SIZE * (1 if delta >= 0 else -1)  # truncating division
    if -1 <= frame <= _MAX_CALL_DEPTH:
        return StackAccessViolation(access, address, size, frame, pc=pc)
    region = _REGION_NAMES.get(address >> 32, "unknown")
    return AccessViolation(access, address, size, region, pc=pc)


_SIMPLE_FAULTS: dict[FaultCode, type[VmFault]] = {
    cls.code: cls
    for cls in (
        DivideByZero,
        DivideOverflow,
        ExecutionOverrun,
        CallOutsideTextSegment,
        ExceededMaxInstructions,
        CallDepthExceeded,
        InvalidInstruction,
        UnsupportedInstruction,
    )
}


def fault_from_code(
    code: int, pc: int, *, address: int = 0, size: int = 0, access: int = 1
) -> VmFault:
    """Rebuild a fault from the numbers the numba interpreter returns (not syscall faults)."""
    if code == FaultCode.ACCESS_VIOLATION:
        return access_violation(AccessType(access), address, size, pc=pc)
    cls = _SIMPLE_FAULTS.get(FaultCode(code))
    if cls is None:
        raise ValueError(f"fault code {code} cannot be rebuilt from numbers alone")
    return cls(pc=pc)
