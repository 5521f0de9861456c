"""The kernel switch: a small C kernel enters assembled programs, serves their kernel calls,
nests a second activation, copies between address spaces and publishes what it saw."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from heliostat.svm import kernel_abi as abi
from heliostat.svm.elf import load_elf
from heliostat.svm.elf_builder import assemble_elf
from heliostat.svm.executable import Executable
from heliostat.svm.kernel import KernelSession, kernel_registry, run_kernel
from heliostat.svm.kernel_abi import program_registry
from heliostat.toolchain import build_program
from heliostat.toolchain.build import C_DIR

KERNEL_SOURCE = Path(__file__).parent / "kernel_programs" / "switch_kernel.c"
KERNEL_SYSCALLS = [
    "heliostat_program_enter",
    "heliostat_program_resume",
    "heliostat_caller_read",
    "heliostat_caller_write",
    "heliostat_publish",
    "heliostat_receipt",
    "heliostat_log",
]
IMAGE_A, IMAGE_B = bytes([0xA] * 32), bytes([0xB] * 32)

PROGRAM_A = """
    mov64 r6, r1
    call sol_get_stack_height
    stxdw [r6+0], r0
    mov64 r1, r6
    add64 r1, 8
    mov64 r2, 4
    call sol_set_return_data
    ldxdw r0, [r6+16]
    exit
"""
A_INSTRUCTIONS = 9
PROGRAM_B = """
    mov64 r2, 0x55
    stxb [r1+0], r2
    mov64 r0, 3
    exit
"""
DIVIDE_BY_ZERO = """
    mov64 r2, 0
    div64 r1, r2
    exit
"""
CLOCK_CALL = """
    mov64 r1, r10
    sub64 r1, 64
    call sol_get_clock_sysvar
    exit
"""
BAD_LOG = """
    lddw r1, 0x500000000
    mov64 r2, 8
    call sol_log_
    exit
"""
BAD_RETURN_DATA = """
    lddw r1, 0x500000000
    mov64 r2, 8
    call sol_set_return_data
    exit
"""


@pytest.fixture(scope="module")
def kernel() -> Executable:
    path = build_program(
        [KERNEL_SOURCE],
        name="test_switch_kernel",
        include_dirs=[C_DIR / "runtime"],
        extra_syscalls=KERNEL_SYSCALLS,
    )
    return load_elf(path.read_bytes(), kernel_registry())


def program(source: str) -> Executable:
    return load_elf(assemble_elf(source), program_registry(), reject_broken_elfs=False)


def kernel_input(program_input: bytes, data_offset: int = 0, budget: int = 1000) -> bytes:
    return (
        IMAGE_A
        + IMAGE_B
        + struct.pack("<Q", len(program_input))
        + program_input
        + struct.pack("<QQ", data_offset, budget)
    )


def run(kernel: Executable, a: str, b: str = PROGRAM_B, *, trace: bool = False, budget=1000):
    images = {IMAGE_A: program(a), IMAGE_B: program(b)}
    session = KernelSession(images.__getitem__, trace=trace)
    data = bytes(range(32))
    result = run_kernel(kernel, kernel_input(data, budget=budget), session, trace=trace)
    assert result.execution.fault is None, result.execution.fault
    return result, session, data


def records(published: bytes, count: int) -> tuple[list[tuple[int, ...]], bytes]:
    out = [abi.RECORD.unpack_from(published, i * abi.ACTIVATION_SIZE) for i in range(count)]
    return out, published[count * abi.ACTIVATION_SIZE :]


def test_enter_nest_resume_and_aliasing(kernel: Executable) -> None:
    result, _, data = run(kernel, PROGRAM_A)
    published = result.published
    (b_record,), rest = records(published, 1)
    # B ran nested (depth 2) over its own copy, exited with r0 = 3 after 4 instructions
    assert b_record[5:7] == (abi.EXITED, 3)
    assert b_record[14:16] == (2, 4)
    assert b_record[4] == 1000 - 2 - 4  # B got what A had left after 2 instructions
    returned, rest = rest[:4], rest[4:]
    assert returned == data[8:12]  # caller_read saw A's memory
    (a_record,), a_input = records(rest, 1)
    assert a_record[5] == abi.EXITED
    assert a_record[14:16] == (1, A_INSTRUCTIONS)
    assert a_record[4] == 1000 - A_INSTRUCTIONS - 200  # two kernel calls charged 100 each
    expected = bytearray(data)
    expected[0:8] = (7).to_bytes(8, "little")  # A's store through its input region
    expected[8:10] = b"OK"  # the kernel's caller_write
    assert a_input == bytes(expected)
    assert a_record[6] == int.from_bytes(data[16:24], "little")
    assert result.activations == 2


def test_b_budget_is_what_a_had_left(kernel: Executable) -> None:
    result, _, _ = run(kernel, PROGRAM_A, budget=500)
    (b_record,), _ = records(result.published, 1)
    # A had run 2 instructions (mov, call) when it suspended; B got the rest
    assert b_record[4] == 500 - 2 - 4


@pytest.mark.parametrize(
    ("source", "fault_class"),
    [
        (DIVIDE_BY_ZERO, abi.FAULT_VM),
        (CLOCK_CALL, abi.FAULT_KERNEL),
        (BAD_LOG, abi.FAULT_SYSCALL),
        (BAD_RETURN_DATA, abi.FAULT_KERNEL),
    ],
)
def test_faults_reach_the_kernel(kernel: Executable, source: str, fault_class: int) -> None:
    result, session, _ = run(kernel, source)
    (a_record,), _ = records(result.published, 1)
    assert a_record[5:7] == (abi.FAULTED, fault_class)
    assert session.last_fault is not None
    if source is BAD_RETURN_DATA:
        assert session.last_violation is not None
        assert "Access violation" in str(session.last_violation)


def test_budget_exhaustion_in_a_program(kernel: Executable) -> None:
    result, session, _ = run(kernel, PROGRAM_A, budget=1)
    (a_record,), _ = records(result.published, 1)
    assert a_record[5:7] == (abi.FAULTED, abi.FAULT_VM)
    assert a_record[4] == 0
    assert "exceeded CUs meter" in str(session.last_fault)


def test_trace_records_every_switch(kernel: Executable) -> None:
    plain, _, _ = run(kernel, PROGRAM_A)
    traced, _, _ = run(kernel, PROGRAM_A, trace=True)
    assert traced.published == plain.published
    trace = traced.trace
    assert trace is not None and trace.publish == traced.published
    kinds = [(s.kind, s.activation, s.status) for s in trace.switches]
    assert kinds == [
        ("enter", 1, abi.KERNEL_CALL),
        ("enter", 2, abi.EXITED),
        ("resume", 1, abi.KERNEL_CALL),
        ("resume", 1, abi.EXITED),
    ]
    a, b = trace.activations
    assert (a.depth, b.depth, b.parent) == (1, 2, 1)
    assert a.trace is not None and b.trace is not None
    assert len(a.trace) == A_INSTRUCTIONS and len(b.trace) == 4
    # the rows of A are split between its switches, in order, without gaps
    a_rows = [s.rows for s in trace.switches if s.activation == 1]
    assert a_rows == [(0, 1), (1, 6), (6, A_INSTRUCTIONS)]
    # the kernel-call rows carry the r0 the kernel gave back, and the charged units
    calls = [(e.name, e.r0, e.units) for e in a.trace.syscalls]
    assert calls == [("sol_get_stack_height", 7, 100), ("sol_set_return_data", 0, 100)]
    # the copies are memory events on A's set_return_data row
    row = a.trace.syscalls[1].step
    assert [(m.step, m.write, len(m.data)) for m in a.trace.memory] == [
        (row, False, 4),
        (row, True, 2),
    ]
    # every switch happened at a kernel row that is a syscall call
    kernel_steps = {e.step for e in trace.kernel.syscalls}
    assert all(s.kernel_step in kernel_steps for s in trace.switches)
