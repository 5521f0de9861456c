"""The Poseidon2 precompile: the numba permutation against the reference, the syscall's effect,
cost, trace and errors on both interpreters, and its absence from mainnet's registry."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliostat.primitives.poseidon2 import P, compress, permute
from heliostat.primitives.poseidon2_fast import compress_rows, permute_words
from heliostat.svm.assembler import assemble
from heliostat.svm.elf import load_elf
from heliostat.svm.elf_builder import assemble_elf
from heliostat.svm.errors import AccessViolation, ElfError, SyscallFault
from heliostat.svm.executable import Executable
from heliostat.svm.memory import MM_INPUT_START, MemoryMap
from heliostat.svm.syscall_api import ComputeBudgetExceeded
from heliostat.svm.syscalls import poseidon2
from heliostat.svm.syscalls.errors import UnalignedPointerError
from heliostat.svm.syscalls.registry import default_registry
from heliostat.svm.vm import run

STATE_AT = MM_INPUT_START + 16  # the instruction data of an input with no accounts
PROGRAM = f"""
    lddw r1, {{pointer}}
    call {poseidon2.NAME}
    exit
"""
field = st.integers(min_value=0, max_value=P - 1)
states = st.lists(field, min_size=16, max_size=16)


def kernel_registry():
    return poseidon2.register_kernel_precompiles(default_registry())


def run_permute(words, *, fast, pointer=STATE_AT, budget=1_000, trace=False):
    text, functions = assemble(PROGRAM.format(pointer=pointer))
    exe = Executable.from_text(text, kernel_registry(), functions)
    data = struct.pack("<16I", *words)
    memory = MemoryMap.for_executable(exe, struct.pack("<QQ", 0, len(data)) + data + bytes(32))
    result = run(exe, memory, None, budget, fast=fast, trace=trace)
    return result, struct.unpack("<16I", memory.input_bytes()[16:80])


@given(states)
def test_native_permutation_matches_reference(state):
    assert tuple(int(x) for x in permute_words(np.array(state, dtype=np.uint32))) == permute(state)


def test_native_permutation_at_the_edges():
    for state in ([0] * 16, [P - 1] * 16, [P - 1 if i % 2 else 0 for i in range(16)]):
        assert tuple(int(x) for x in permute_words(np.array(state, dtype=np.uint32))) == permute(
            state
        )


@given(
    st.lists(
        st.tuples(st.lists(field, min_size=8, max_size=8), st.lists(field, min_size=8, max_size=8)),
        min_size=1,
        max_size=5,
    )
)
def test_native_compress_rows_matches_reference(pairs):
    left = np.array([a for a, _ in pairs], dtype=np.uint32)
    right = np.array([b for _, b in pairs], dtype=np.uint32)
    got = compress_rows(left, right)
    assert [tuple(int(x) for x in row) for row in got] == [compress(a, b) for a, b in pairs]


@pytest.mark.parametrize("fast", [True, False])
@given(state=states)
def test_syscall_permutes_in_place(fast, state):
    result, after = run_permute(state, fast=fast)
    assert result.fault is None and result.r0 == 0
    assert after == permute(state)
    # three instructions (lddw counts once) and the syscall's own units
    assert result.compute_units_consumed == 3 + poseidon2.POSEIDON2_PERMUTE_COST


@pytest.mark.parametrize("fast", [True, False])
def test_syscall_trace_records_one_read_and_one_write(fast):
    state = list(range(100, 116))
    result, after = run_permute(state, fast=fast, trace=True)
    (event,) = result.trace.syscalls
    assert (event.name, event.args[0], event.r0, event.units) == (
        poseidon2.NAME,
        STATE_AT,
        0,
        poseidon2.POSEIDON2_PERMUTE_COST,
    )
    read, write = result.trace.memory
    assert (read.address, read.write, read.data) == (STATE_AT, False, struct.pack("<16I", *state))
    assert (write.address, write.write, write.data) == (STATE_AT, True, struct.pack("<16I", *after))


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(("index", "value"), [(0, P), (5, P), (15, 0xFFFFFFFF)])
def test_non_canonical_word_stops_the_program(fast, index, value):
    state = [1] * 16
    state[index] = value
    result, after = run_permute(state, fast=fast)
    assert isinstance(result.fault, SyscallFault)
    cause = result.fault.cause
    assert isinstance(cause, poseidon2.Poseidon2NonCanonicalError)
    assert (cause.index, cause.value, cause.reason) == (index, value, "poseidon2_non_canonical")
    assert list(after) == state  # nothing written


@pytest.mark.parametrize("fast", [True, False])
def test_misaligned_state_is_refused(fast):
    result, _ = run_permute([0] * 16, fast=fast, pointer=STATE_AT + 4)
    assert isinstance(result.fault, SyscallFault)
    assert isinstance(result.fault.cause, UnalignedPointerError)
    assert str(result.fault.cause) == "Unaligned pointer"


@pytest.mark.parametrize("fast", [True, False])
def test_unmapped_state_is_an_access_violation(fast):
    result, _ = run_permute([0] * 16, fast=fast, pointer=0x5_0000_0000)
    assert isinstance(result.fault, SyscallFault)
    assert isinstance(result.fault.cause, AccessViolation)


@pytest.mark.parametrize("fast", [True, False])
def test_syscall_charges_before_it_works(fast):
    state = list(range(16))
    # lddw and call are charged before the syscall runs; it then lacks one unit
    result, after = run_permute(state, fast=fast, budget=2 + poseidon2.POSEIDON2_PERMUTE_COST - 1)
    assert isinstance(result.fault, SyscallFault)
    assert isinstance(result.fault.cause, ComputeBudgetExceeded)
    assert list(after) == state


def test_mainnet_registry_does_not_load_a_program_importing_it():
    elf = assemble_elf(PROGRAM.format(pointer=STATE_AT))
    assert poseidon2.NAME not in default_registry()
    with pytest.raises(ElfError) as refused:
        load_elf(elf, default_registry())
    assert refused.value.kind == "UnresolvedSymbol"
    assert poseidon2.NAME in load_elf(elf, kernel_registry()).imported_syscalls
