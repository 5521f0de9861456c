"""Generated programs for the zkVM: the VM tests' generator (tests/svm/vm_program_gen.py),
with its test-only syscalls turned into plain instructions (they have no chip), plus helpers
to run and check them."""

from __future__ import annotations

import struct

from hypothesis import strategies as st
from solders.pubkey import Pubkey
from vm_program_gen import GeneratedProgram, programs

from heliostat.svm import opcodes as op
from heliostat.svm.assembler import assemble
from heliostat.svm.executable import Executable, function_key
from heliostat.svm.syscall_api import SyscallRegistry, syscall_key
from heliostat.zkvm.execution import Execution, execute

_TEST_SYSCALLS = {syscall_key(name) for name in ("sys_copy", "sys_abort_if_odd")}
_NOP = struct.pack("<BBhi", op.CLS_ALU64 | op.SRC_K | op.ALU_ADD, 0, 0, 1)  # add64 r0, 1


def without_test_syscalls(program: GeneratedProgram) -> GeneratedProgram:
    """Replace each call of a test syscall by `add64 r0, 1`."""
    text = bytearray(program.text)
    for pc in range(len(text) // 8):
        opc, _, _, imm = struct.unpack_from("<BBhi", text, 8 * pc)
        if opc == op.CALL_IMM and imm & 0xFFFFFFFF in _TEST_SYSCALLS:
            text[8 * pc : 8 * pc + 8] = _NOP
    return GeneratedProgram(bytes(text), program.functions, program.input_data, program.budget)


@st.composite
def zk_programs(draw: st.DrawFn) -> GeneratedProgram:
    """A generated program the zkVM should prove (or prove the fault of)."""
    return without_test_syscalls(draw(programs()))


def run_generated(program: GeneratedProgram) -> Execution:
    """Load and run a generated program in proving mode."""
    exe = Executable.from_text(program.text, SyscallRegistry(), program.functions)
    return execute(exe, program.input_data, budget=program.budget)


def run_asm(
    source: str, input_data: bytes = b"", budget: int = 10_000, *, syscalls: bool = False
) -> Execution:
    """Assemble, load and run (with mainnet's syscalls and a test host if ``syscalls``)."""
    from heliostat.svm.syscalls.registry import default_registry
    from heliostat.testing import TestHost

    text, functions = assemble(source)
    registry = default_registry() if syscalls else SyscallRegistry()
    exe = Executable.from_text(text, registry, functions)
    host = TestHost(Pubkey(bytes(32))) if syscalls else None
    return execute(exe, input_data, budget=budget, host=host)


__all__ = ["function_key", "run_asm", "run_generated", "zk_programs"]
