"""Instruction semantics, faults, compute metering and traces, on both interpreters.

Expected values are worked out by hand from sbpf v0.21's interpreter.rs (v0 rules).
"""

from __future__ import annotations

import pytest
from vm_helpers import ProgramAbortError, program_input, run_asm

from heliostat.svm.errors import (
    AccessViolation,
    CallDepthExceeded,
    CallOutsideTextSegment,
    ComputeBudgetExceeded,
    DivideByZero,
    ExceededMaxInstructions,
    ExecutionOverrun,
    StackAccessViolation,
    SyscallFault,
    UnsupportedInstruction,
)
from heliostat.svm.memory import MM_HEAP_START, MM_INPUT_START, MM_PROGRAM_START, MM_STACK_START
from heliostat.svm.trace import COL_MEM, COL_MEM_ADDR, COL_NEXT_PC, COL_PC, COL_RESULT, MEM_STORE

BOTH = pytest.mark.parametrize("fast", [False, True], ids=["reference", "numba"])
U64 = (1 << 64) - 1


def r0_of(source: str, fast: bool, **kw: object) -> int:
    result, _ = run_asm(source + "\nexit", fast=fast, **kw)  # type: ignore[arg-type]
    assert result.fault is None, result.fault
    assert result.r0 is not None
    return result.r0


ALU_CASES = [
    # v0: add32/sub32/mul32 sign-extend their 32-bit result
    ("mov32 r0, 0x7fffffff\nadd32 r0, 1", 0xFFFFFFFF80000000),
    ("mov64 r0, 0\nsub32 r0, 1", U64),
    ("mov32 r0, 0x40000000\nmul32 r0, 2", 0xFFFFFFFF80000000),
    ("mov32 r0, 0x10000\nmul32 r0, 0x10000", 0),
    # the other 32-bit operations zero-extend
    ("lddw r0, 0xFFFFFFFF00000000\nor32 r0, 0", 0),
    ("lddw r0, 0x1000000000000000A\ndiv32 r0, 3", 3),
    ("lddw r1, -1\nmov32 r0, r1", 0xFFFFFFFF),
    ("mov32 r0, -1", 0xFFFFFFFF),
    ("mov64 r0, -1", U64),
    ("mov32 r0, 0x80000000\narsh32 r0, 4", 0xF8000000),
    ("mov64 r0, 1\nneg32 r0", 0xFFFFFFFF),
    ("mov64 r0, 1\nneg64 r0", U64),
    ("mov64 r0, 17\nmod32 r0, 5", 2),
    ("lddw r0, 0xFFFFFFFF00000011\nxor32 r0, 0x10", 1),
    # immediates are sign-extended to 64 bits
    ("mov64 r0, 5\ndiv64 r0, -1", 0),
    ("lddw r0, -1\ndiv64 r0, -1", 1),
    ("lddw r0, 0x1234\nand64 r0, -16", 0x1230),
    ("mov64 r0, 100\nmod64 r0, 7", 2),
    # shift amounts are masked to the operand width
    ("mov32 r0, 1\nmov64 r1, 33\nlsh32 r0, r1", 2),
    ("mov64 r0, 1\nmov64 r1, 65\nlsh64 r0, r1", 2),
    ("lddw r0, 0x8000000000000000\nmov64 r1, 68\nrsh64 r0, r1", 0x0800000000000000),
    ("lddw r0, 0x8000000000000000\narsh64 r0, 4", 0xF800000000000000),
    # le truncates, be byte-swaps
    ("lddw r0, 0x1122334455667788\nle16 r0", 0x7788),
    ("lddw r0, 0x1122334455667788\nle32 r0", 0x55667788),
    ("lddw r0, 0x1122334455667788\nbe16 r0", 0x8877),
    ("lddw r0, 0x1122334455667788\nbe32 r0", 0x88776655),
    ("lddw r0, 0x1122334455667788\nbe64 r0", 0x8877665544332211),
    ("lddw r0, 0xfedcba9876543210\nmul64 r0, 3", (0xFEDCBA9876543210 * 3) & U64),
    ("mov64 r0, 3\nmov64 r1, 5\nsub64 r0, r1", U64 - 1),
]


@BOTH
@pytest.mark.parametrize(("source", "expected"), ALU_CASES)
def test_alu(source: str, expected: int, fast: bool) -> None:
    assert r0_of(source, fast) == expected


JUMP_CASES = [
    ("mov64 r1, -1\njsgt r1, 0, +1", 0),  # signed: -1 > 0 is false
    ("mov64 r1, -1\njgt r1, 0, +1", 1),  # unsigned: 2^64-1 > 0
    ("mov64 r1, 5\njgt r1, -1, +1", 0),  # imm -1 is 2^64-1 unsigned
    ("mov64 r1, 5\njsgt r1, -1, +1", 1),
    ("mov64 r1, 6\njset r1, 2, +1", 1),
    ("mov64 r1, 6\njset r1, 1, +1", 0),
    ("mov64 r1, 3\nmov64 r2, 3\njeq r1, r2, +1", 1),
    ("mov64 r1, 3\njne r1, 3, +1", 0),
    ("mov64 r1, 2\njle r1, 2, +1", 1),
    ("mov64 r1, -2\njslt r1, -1, +1", 1),
    ("mov64 r1, -1\njsle r1, -2, +1", 0),
    ("mov64 r1, 1\njlt r1, 1, +1", 0),
    ("mov64 r1, 1\njge r1, 1, +1", 1),
    ("mov64 r1, -1\njsge r1, 0, +1", 0),
]


@BOTH
@pytest.mark.parametrize(("source", "taken"), JUMP_CASES)
def test_conditional_jumps(source: str, taken: int, fast: bool) -> None:
    # r0 = 1 if the jump is not taken (the mov runs), 0 if it is
    program = "mov64 r0, 0\n" + source + "\nmov64 r0, 1"
    assert r0_of(program, fast) == (0 if taken else 1)


@BOTH
def test_memory_in_every_region(fast: bool) -> None:
    source = f"""
        lddw r1, {MM_HEAP_START + 100}
        stxdw [r1+0], r2          # heap: store the input-data address (r2)
        ldxdw r3, [r1+0]
        stw [r10-4], 0x01020304   # stack
        ldxh r4, [r10-4]
        ldxb r5, [r3+0]           # input: first byte of instruction data
        stb [r3+1], 0x5a
        lddw r6, rodata+2         # program region (read-only data)
        ldxw r7, [r6+0]
        mov64 r0, r4
        add64 r0, r5
        add64 r0, r7
        exit
    """
    result, memory = run_asm(
        source, fast=fast, input_data=program_input(b"\x07\x00"), rodata=b"\x00\x00\x10\x00\x00\x00"
    )
    assert result.fault is None
    assert result.r0 == 0x0304 + 7 + 0x10
    assert memory.load(MM_HEAP_START + 100, 8) == MM_INPUT_START + 16
    assert memory.input_bytes()[17] == 0x5A
    assert memory.read(MM_STACK_START + 4096 - 4, 4) == b"\x04\x03\x02\x01"


@BOTH
def test_stack_access_runs_across_a_frame_end_into_host_memory(fast: bool) -> None:
    # sbpf checks only the first byte against the gap: 8 bytes at the end of frame 0 read
    # 4 bytes of frame 0 and 4 bytes of frame 1's host memory (frame 1 is at vm +8 KiB).
    source = """
        stw [r10-4], 0x11111111
        lddw r1, 0x200002000
        stw [r1+0], 0x22222222
        ldxdw r0, [r10-4]
        exit
    """
    result, _ = run_asm(source, fast=fast)
    assert result.fault is None
    assert result.r0 == 0x2222222211111111


FAULT_CASES = [
    # (source, fault type, message, pc, compute units consumed)
    ("mov64 r0, 0\ndiv64 r0, r0\nexit", DivideByZero, "divide by zero at BPF instruction", 1, 2),
    ("mov64 r1, 0\nmod32 r0, r1\nexit", DivideByZero, None, 1, 2),
    ("lddw r1, 0x100000000\nmov32 r2, 0\ndiv32 r1, r2\nexit", DivideByZero, None, 3, 3),
    (
        "ldxdw r0, [r10+0]\nexit",
        StackAccessViolation,
        "Access violation in stack frame 1 at address 0x200001000 of size 8",
        0,
        1,
    ),
    (
        "mov64 r1, 0\nldxb r0, [r1+0]\nexit",
        AccessViolation,
        "Access violation in unknown section at address 0x0 of size 1",
        1,
        2,
    ),
    (
        "lddw r1, 0x100000000\nstb [r1+0], 1\nexit",
        AccessViolation,
        "Access violation in program section at address 0x100000000 of size 1",
        2,
        2,
    ),
    (
        "lddw r1, 0x300008000\nldxw r0, [r1-2]\nexit",
        AccessViolation,
        "Access violation in heap section at address 0x300007ffe of size 4",
        2,
        2,
    ),
    (
        "lddw r1, 0x1fffff000\nldxw r0, [r1+0]\nexit",
        StackAccessViolation,
        "Access violation in stack frame -1 at address 0x1fffff000 of size 4",
        2,
        2,
    ),
    (
        "lddw r1, 0x500000000\nstxdw [r1+0], r1\nexit",
        AccessViolation,
        "Access violation in unknown section at address 0x500000000 of size 8",
        2,
        2,
    ),
    ("mov64 r0, 0", ExecutionOverrun, None, 1, 2),
    ("ja +0\nja -2", ExceededMaxInstructions, "exceeded CUs meter at BPF instruction", 0, 50),
    ("mov64 r1, 8\ncallx r1\nexit", CallOutsideTextSegment, None, 1, 2),
    ("call nowhere\nexit", UnsupportedInstruction, "unsupported BPF instruction", 0, 1),
    ("f:\ncall f\nexit", CallDepthExceeded, "exceeded max BPF to BPF call depth", 0, 64),
]


@BOTH
@pytest.mark.parametrize(("source", "kind", "message", "pc", "units"), FAULT_CASES)
def test_faults(
    source: str, kind: type, message: str | None, pc: int, units: int, fast: bool
) -> None:
    budget = 100 if kind is CallDepthExceeded else 50
    result, _ = run_asm(source, fast=fast, budget=budget, input_data=program_input())
    assert type(result.fault) is kind
    assert result.fault is not None
    if message is not None:
        assert str(result.fault) == message
    assert result.fault.pc == pc
    assert result.compute_units_consumed == units
    assert result.r0 is None


@BOTH
def test_input_region_ends_at_the_input(fast: bool) -> None:
    data = program_input(b"abc")  # 8 + 8 + 3 + 32 = 51 bytes
    result, _ = run_asm("ldxdw r0, [r1+44]\nexit", fast=fast, input_data=data)
    assert str(result.fault) == "Access violation in input section at address 0x40000002c of size 8"
    result, _ = run_asm("ldxdw r0, [r1+43]\nexit", fast=fast, input_data=data)
    assert result.fault is None


@BOTH
def test_call_saves_registers_and_moves_the_frame(fast: bool) -> None:
    source = """
        mov64 r6, 6
        mov64 r9, 9
        call f
        add64 r0, r6        # r6 restored to 6
        add64 r0, r9
        exit
    f:
        mov64 r0, r10       # frame pointer inside the call: two frames (8 KiB) higher
        mov64 r6, 100
        mov64 r9, 100
        exit
    """
    result, _ = run_asm(source, fast=fast)
    assert result.r0 == MM_STACK_START + 4096 + 8192 + 15
    assert result.registers[10] == MM_STACK_START + 4096


@BOTH
def test_callx_jumps_to_any_instruction(fast: bool) -> None:
    source = f"""
        lddw r3, {MM_PROGRAM_START + 6 * 8}
        callx r3        # pc 2
        exit            # pc 3: returns what the callee left in r0
        mov64 r0, 1     # pc 4: skipped
        exit
        mov64 r0, 42    # pc 6
        exit
    """
    result, _ = run_asm(source, fast=fast)
    assert result.fault is None
    assert result.r0 == 42


@BOTH
def test_call_depth_limit_is_64_frames(fast: bool) -> None:
    # depth n of nested calls succeeds up to 63 (the 64th push faults)
    def program(depth: int) -> str:
        return f"""
            mov64 r1, {depth}
            call f
            exit
        f:
            jeq r1, 0, +2
            sub64 r1, 1
            call f
            exit
        """

    ok, _ = run_asm(program(62), fast=fast)
    assert ok.fault is None
    bad, _ = run_asm(program(63), fast=fast)
    assert isinstance(bad.fault, CallDepthExceeded)


@BOTH
def test_compute_meter_counts_every_started_instruction(fast: bool) -> None:
    ok, _ = run_asm("mov64 r0, 1\nexit", fast=fast, budget=2)
    assert ok.fault is None and ok.compute_units_consumed == 2 and ok.remaining == 0
    short, _ = run_asm("mov64 r0, 1\nexit", fast=fast, budget=1)
    assert isinstance(short.fault, ExceededMaxInstructions)
    assert short.fault.pc == 1 and short.compute_units_consumed == 1
    assert short.instruction_count == 1


@BOTH
def test_syscalls_charge_units_and_return_r0(fast: bool) -> None:
    source = f"""
        stdw [r10-8], 0x0102
        mov64 r1, r10
        sub64 r1, 8
        mov64 r2, 8
        lddw r3, {MM_HEAP_START}
        mov64 r4, 30        # charge 30 units
        mov64 r5, 0
        call sys_copy
        exit
    """
    result, memory = run_asm(source, fast=fast)
    assert result.fault is None
    assert result.r0 == (3 * 0x9E3779B97F4A7C15) & U64
    assert result.compute_units_consumed == 9 + 30
    assert memory.read(MM_HEAP_START, 8) == b"\x02\x01" + bytes(6)


@BOTH
def test_syscall_errors_become_syscall_faults(fast: bool) -> None:
    result, _ = run_asm("mov64 r1, 3\ncall sys_abort_if_odd\nexit", fast=fast)
    assert isinstance(result.fault, SyscallFault)
    assert isinstance(result.fault.cause, ProgramAbortError)
    assert result.fault.pc == 1
    assert result.compute_units_consumed == 2 + 7
    # an access violation while the syscall reads memory is a syscall error too (as in agave)
    result, _ = run_asm("mov64 r1, 0\nmov64 r2, 4\ncall sys_copy\nexit", fast=fast)
    assert isinstance(result.fault, SyscallFault)
    assert isinstance(result.fault.cause, AccessViolation)
    assert str(result.fault.cause) == "Access violation in unknown section at address 0x0 of size 4"


@BOTH
def test_syscall_that_exceeds_the_budget_empties_the_meter(fast: bool) -> None:
    source = """
        mov64 r1, r10
        sub64 r1, 8
        mov64 r3, r1
        mov64 r2, 0
        mov64 r4, 60
        call sys_copy
        exit
    """
    result, _ = run_asm(source, fast=fast, budget=40)
    assert isinstance(result.fault, SyscallFault)
    assert isinstance(result.fault.cause, ComputeBudgetExceeded)
    assert result.compute_units_consumed == 40 and result.remaining == 0
    # exactly enough units for the syscall: the next instruction finds the meter empty
    result, _ = run_asm(source, fast=fast, budget=66)
    assert isinstance(result.fault, ExceededMaxInstructions)
    assert result.fault.pc == 6


@BOTH
def test_trace_rows(fast: bool) -> None:
    source = """
        mov64 r1, 7
        stxdw [r10-8], r1
        ldxdw r2, [r10-8]
        jeq r2, 7, +1
        mov64 r0, 1
        exit
    """
    result, _ = run_asm(source, fast=fast, trace=True)
    assert result.trace is not None
    steps = result.trace.steps
    assert steps[:, COL_PC].tolist() == [0, 1, 2, 3, 5]
    assert steps[:, COL_NEXT_PC].tolist()[:4] == [1, 2, 3, 5]
    assert steps[1, COL_MEM] == 8 | MEM_STORE and steps[2, COL_MEM] == 8
    assert steps[1, COL_MEM_ADDR] == MM_STACK_START + 4096 - 8
    assert steps[2, COL_RESULT] == 7 and steps[3, COL_RESULT] == 1  # loaded value; jump taken


@BOTH
def test_trace_records_syscalls_and_their_memory(fast: bool) -> None:
    source = f"""
        stdw [r10-8], 0x0a0b
        mov64 r1, r10
        sub64 r1, 8
        mov64 r2, 2
        lddw r3, {MM_HEAP_START}
        mov64 r4, 5
        call sys_copy
        exit
    """
    result, _ = run_asm(source, fast=fast, trace=True)
    assert result.trace is not None
    (event,) = result.trace.syscalls
    assert event.name == "sys_copy" and event.pc == 7 and event.step == 6 and event.units == 5
    reads = [m for m in result.trace.memory if not m.write]
    writes = [m for m in result.trace.memory if m.write]
    assert reads[0].data == b"\x0b\x0a" and writes[0].address == MM_HEAP_START
    assert int(result.trace.steps[6, COL_RESULT]) == event.r0


def test_long_traces_grow_and_agree() -> None:
    # more rows than the recorder's first buffer (1024): the numba loop asks for more room
    source = "mov64 r1, 2000\nloop:\nsub64 r1, 1\nstxdw [r10-8], r1\njne r1, 0, loop\nexit"
    reference, _ = run_asm(source, fast=False, trace=True)
    numba, _ = run_asm(source, fast=True, trace=True)
    assert reference.trace is not None and len(reference.trace) == 1 + 3 * 2000 + 1
    assert reference.same_outcome(numba)
