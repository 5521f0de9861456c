"""Memory regions: translation rules, permissions, input segments, the stack pool."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vm_helpers import run_asm

from heliostat.svm.errors import AccessType, AccessViolation, StackAccessViolation, SvmError
from heliostat.svm.memory import (
    MM_HEAP_START,
    MM_INPUT_START,
    MM_PROGRAM_START,
    MM_STACK_START,
    STACK_SIZE,
    InputSegment,
    MemoryMap,
)

PROGRAM = bytes(range(64))


def test_program_region_is_read_only() -> None:
    memory = MemoryMap(PROGRAM)
    assert memory.read(MM_PROGRAM_START + 8, 4) == bytes([8, 9, 10, 11])
    with pytest.raises(AccessViolation, match="program section at address 0x100000008 of size 1"):
        memory.write(MM_PROGRAM_START + 8, b"\x00")
    with pytest.raises(AccessViolation):
        memory.read(MM_PROGRAM_START + 60, 8)  # runs past the region


def test_stack_frames_and_gaps() -> None:
    memory = MemoryMap(PROGRAM)
    memory.store(MM_STACK_START, 8, 0x1122)  # frame 0 starts the host stack
    memory.store(MM_STACK_START + 8192, 8, 0x3344)  # frame 1 follows it in host memory
    assert memory.stack[:2].tolist() == [0x22, 0x11] and memory.stack[4096] == 0x44
    for address in (MM_STACK_START + 4096, MM_STACK_START + 8191, MM_STACK_START + 7 * 4096):
        with pytest.raises(StackAccessViolation):  # gaps after frames 0, 0 and 3
            memory.load(address, 1)
    with pytest.raises(AccessViolation, match="stack section"):  # "frame" > 64: named by region
        memory.load(MM_STACK_START + 64 * 8192, 1)


def test_heap_and_input_bounds() -> None:
    memory = MemoryMap(PROGRAM, b"abcdef", heap_size=64)
    memory.write(MM_HEAP_START + 60, b"wxyz")
    with pytest.raises(AccessViolation, match="heap section at address 0x300000040 of size 1"):
        memory.write(MM_HEAP_START + 64, b"!")
    assert memory.read(MM_INPUT_START + 2, 4) == b"cdef"
    with pytest.raises(AccessViolation, match="input section"):
        memory.read(MM_INPUT_START + 3, 4)
    with pytest.raises(SvmError):
        MemoryMap(PROGRAM, heap_size=512 * 1024)


def test_input_segments_split_permissions() -> None:
    segments = [InputSegment(0, 8, True), InputSegment(8, 8, False), InputSegment(16, 8, True)]
    memory = MemoryMap(PROGRAM, bytes(24), input_segments=segments)
    memory.write(MM_INPUT_START + 4, b"1234")
    memory.write(MM_INPUT_START + 16, b"ok")
    assert memory.read(MM_INPUT_START + 8, 8) == bytes(8)
    with pytest.raises(AccessViolation):
        memory.write(MM_INPUT_START + 8, b"x")  # read-only segment
    with pytest.raises(AccessViolation):
        memory.read(MM_INPUT_START + 6, 4)  # crosses two segments
    with pytest.raises(SvmError):
        MemoryMap(PROGRAM, bytes(8), input_segments=[InputSegment(4, 8, True)])


@pytest.mark.parametrize("fast", [False, True], ids=["reference", "numba"])
def test_programs_obey_input_segments(fast: bool) -> None:
    from vm_helpers import load_asm

    from heliostat.svm.vm import run

    exe = load_asm("stb [r1+9], 1\nexit")
    segments = [InputSegment(0, 8, True), InputSegment(8, 8, False)]
    result = run(exe, MemoryMap.for_executable(exe, bytes(16), input_segments=segments), fast=fast)
    assert isinstance(result.fault, AccessViolation)
    assert str(result.fault) == "Access violation in input section at address 0x400000009 of size 1"


def test_view_is_zero_copy() -> None:
    memory = MemoryMap(PROGRAM, bytes(16))
    view = memory.view(AccessType.STORE, MM_INPUT_START + 4, 4)
    view[:] = b"abcd"
    assert memory.input_bytes()[4:8] == b"abcd"
    assert memory.view(AccessType.LOAD, MM_INPUT_START, 8).readonly


@settings(max_examples=30, deadline=None)
@given(
    writes=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 4095 - 8)), max_size=12),
    fast=st.booleans(),
)
def test_released_stacks_come_back_zeroed(writes: list[tuple[int, int]], fast: bool) -> None:
    stores = "\n".join(
        f"lddw r1, {MM_STACK_START + frame * 8192 + offset}\nstdw [r1+0], -1"
        for frame, offset in writes
    )
    for _ in range(3):
        result, memory = run_asm(stores + "\nstdw [r10-8], -1\nexit", fast=fast)
        assert result.fault is None
        assert memory.stack.any()
        memory.release()
        assert memory.released
        fresh = MemoryMap(PROGRAM)
        assert not fresh.stack.any() and fresh.stack.shape == (STACK_SIZE,)
        fresh.release()


def test_a_released_map_cannot_run() -> None:
    from vm_helpers import load_asm

    from heliostat.svm.vm import run

    exe = load_asm("exit")
    memory = MemoryMap.for_executable(exe)
    memory.release()
    for fast in (False, True):
        with pytest.raises(SvmError, match="released"):
            run(exe, memory, fast=fast)


def test_syscall_writes_mark_the_stack_dirty() -> None:
    memory = MemoryMap(PROGRAM)
    memory.write(MM_STACK_START + 8 * 8192 + 100, b"\xff" * 8)
    memory.release()
    fresh = MemoryMap(PROGRAM)
    assert not np.any(fresh.stack)


@settings(max_examples=30, deadline=None)
@given(
    stack_writes=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 4095 - 8)), max_size=8),
    heap_writes=st.lists(st.integers(0, 32 * 1024 - 8), max_size=8),
    fast=st.booleans(),
)
def test_reset_zeroes_everything_a_run_wrote(
    stack_writes: list[tuple[int, int]], heap_writes: list[int], fast: bool
) -> None:
    stores = [
        f"lddw r1, {MM_STACK_START + frame * 8192 + offset}\nstdw [r1+0], -1"
        for frame, offset in stack_writes
    ] + [f"lddw r1, {MM_HEAP_START + offset}\nstxdw [r1+0], r10" for offset in heap_writes]
    result, memory = run_asm("\n".join(stores) + "\nexit", fast=fast, input_data=b"in")
    assert result.fault is None
    assert memory.stack_buffer.any() == bool(stack_writes)
    assert memory.heap_buffer.any() == bool(heap_writes)
    memory.reset(b"IN")
    assert not memory.stack_buffer.any() and not memory.heap_buffer.any()
    assert memory.input_bytes() == b"IN"
