"""Shared helpers for the VM tests: run assembly on either interpreter, test syscalls."""

from __future__ import annotations

import struct

from heliostat.svm.assembler import assemble
from heliostat.svm.errors import SvmError
from heliostat.svm.executable import Executable
from heliostat.svm.memory import MM_INPUT_START, MemoryMap
from heliostat.svm.syscall_api import SyscallContext, SyscallRegistry
from heliostat.svm.vm import ExecutionResult, run

U64 = (1 << 64) - 1


class ProgramAbortError(SvmError):
    """A syscall-raised program error (like agave's SyscallError::Abort)."""

    reason = "test_abort"


def sys_copy(ctx: SyscallContext, src: int, n: int, dst: int, units: int, salt: int) -> int:
    """Charge ``units % 64``, copy ``n % 64`` bytes from src to dst, return a checksum."""
    ctx.consume(units % 64)
    data = ctx.read(src, n % 64)
    ctx.write(dst, data)
    return (sum(data) * 0x9E3779B97F4A7C15 ^ salt) & U64


def sys_abort_if_odd(ctx: SyscallContext, value: int, r2: int, r3: int, r4: int, r5: int) -> int:
    """Stop the program when r1 is odd, else return r1 + r2."""
    ctx.consume(7)
    if value & 1:
        raise ProgramAbortError("aborted by test syscall")
    return value + r2


def make_registry() -> SyscallRegistry:
    registry = SyscallRegistry()
    registry.register("sys_copy", sys_copy)
    registry.register("sys_abort_if_odd", sys_abort_if_odd)
    return registry


def program_input(data: bytes = b"", program_id: bytes = bytes(32)) -> bytes:
    """The ABI v1 input of an instruction with no accounts."""
    return struct.pack("<Q", 0) + struct.pack("<Q", len(data)) + data + program_id


def load_asm(
    source: str, *, rodata: bytes = b"", registry: SyscallRegistry | None = None
) -> Executable:
    text, functions = assemble(source, rodata=rodata)
    return Executable.from_text(text, registry or make_registry(), functions, rodata=rodata)


def run_asm(
    source: str,
    *,
    fast: bool,
    budget: int = 10_000,
    input_data: bytes = b"",
    rodata: bytes = b"",
    trace: bool = False,
    registry: SyscallRegistry | None = None,
) -> tuple[ExecutionResult, MemoryMap]:
    exe = load_asm(source, rodata=rodata, registry=registry)
    memory = MemoryMap.for_executable(exe, input_data)
    result = run(
        exe, memory, None, budget, fast=fast, trace=trace, registers={2: MM_INPUT_START + 16}
    )
    return result, memory
