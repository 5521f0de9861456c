"""The execution hot path: in-place serialization into pooled memory, and the write-back.

`execute_instruction` packs the input straight into a recycled memory map and reads the
write-back from that map in place. These tests pin what that relies on: packing over a used
buffer gives exactly `abi.serialize`'s bytes, a recycled map carries nothing over from the
program that used it before, and the write-back agrees with a direct transcription of agave's
rules (`deserialize_parameters_for_abiv1` with `BorrowedAccount`'s setters) on generated edits.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from heliostat.svm import abi
from heliostat.svm.elf_builder import assemble_elf
from heliostat.svm.instruction import (
    LoadedProgram,
    _resolve_accounts,
    execute_instruction,
    instruction_accounts,
    write_back,
)
from heliostat.svm.instruction_error import InstructionErrorKind
from heliostat.svm.programs import BPF_LOADER_2_ID
from heliostat.svm.syscalls.costs import MAX_PERMITTED_DATA_INCREASE, MAX_PERMITTED_DATA_LENGTH
from heliostat.svm.syscalls.errors import InstructionFailureError
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing import TestHost

K = InstructionErrorKind
PROGRAM = Pubkey(bytes([9] * 32))
OTHER = Pubkey(bytes([8] * 32))
KEYS = [Pubkey(bytes([i] * 32)) for i in range(1, 5)]
_U64 = struct.Struct("<Q")

# -- packing into used memory -----------------------------------------------------------------

account_states = st.builds(
    Account,
    st.integers(0, 2**64 - 1),
    st.binary(max_size=40),
    st.sampled_from([PROGRAM, OTHER]),
    st.booleans(),
    st.integers(0, 2**64 - 1),
)


@given(
    st.lists(st.tuples(st.sampled_from(KEYS), st.booleans(), st.booleans()), max_size=6),
    st.dictionaries(st.sampled_from(KEYS), account_states),
    st.binary(max_size=20),
    st.integers(1, 255),
)
def test_packing_over_used_memory_gives_the_serialized_input(
    metas: list[tuple[Pubkey, bool, bool]],
    states: dict[Pubkey, Account],
    data: bytes,
    stale: int,
) -> None:
    instruction = Instruction(PROGRAM, data, [AccountMeta(*meta) for meta in metas])
    expected = abi.serialize(instruction_accounts(instruction, states), data, PROGRAM)
    distinct, originals = _resolve_accounts(instruction, states)
    plan, values = abi.prepare_input(originals, distinct, data, PROGRAM)
    used = np.full(plan.struct.size, stale, dtype=np.uint8)  # what a previous program left
    plan.struct.pack_into(used.data, 0, *values)
    assert used.tobytes() == expected.buffer
    assert plan.layouts == expected.layouts
    assert plan.instruction_data_offset == expected.instruction_data_offset


# -- recycled memory maps ----------------------------------------------------------------------

# Checks that its input is pristine (account count, a byte of realloc room, the rent epoch,
# the instruction data length), then scribbles over all of them and succeeds. A stale pooled
# map makes the next run fail with custom error 1.
_SCRIBBLER = """
    ldxdw r2, [r1+0]
    jne r2, 1, dirty
    ldxb r2, [r1+200]
    jne r2, 0, dirty
    ldxdw r2, [r1+10336]
    lddw r3, 0xffffffffffffffff
    jne r2, r3, dirty
    ldxdw r2, [r1+10344]
    jne r2, 0, dirty
    stdw [r1+0], 7
    stb [r1+200], 0x55
    stdw [r1+10336], 0
    stdw [r1+10344], 99
    mov64 r0, 0
    exit
dirty:
    mov64 r0, 1
    exit
"""


def test_a_recycled_memory_map_carries_nothing_over() -> None:
    program = LoadedProgram.load(
        PROGRAM, assemble_elf(_SCRIBBLER), BPF_LOADER_2_ID, default_registry()
    )
    key = KEYS[0]
    instruction = Instruction(PROGRAM, b"", [AccountMeta(key, False, True)])
    accounts = {key: Account(5, b"", PROGRAM)}
    for round_ in range(3):
        pooled = {id(memory) for memory in program._memory_pool}
        result = execute_instruction(program, instruction, accounts, TestHost(PROGRAM))
        assert result.ok, (round_, result.logs)
        assert result.accounts == accounts
        if round_:  # the second and third runs reuse the first run's (scribbled) map
            assert {id(memory) for memory in program._memory_pool} == pooled
        # another shape in between takes a map of its own
        other = Instruction(PROGRAM, b"", [AccountMeta(KEYS[1], False, True)])
        wide = {KEYS[1]: Account(5, b"\1" * 16, PROGRAM)}
        assert not execute_instruction(program, other, wide, TestHost(PROGRAM)).ok


# -- the write-back against agave's rules --------------------------------------------------------


def _reference_write_back(
    account: abi.SerializedAccount,
    layout: abi.AccountLayout,
    before: bytes,
    after: bytes,
    program_id: Pubkey,
) -> Account:
    """agave's per-account write-back, read field by field (raises `InstructionFailureError`)."""
    state = account.account
    lamports, data, owner = state.lamports, state.data, state.owner
    owned = owner == program_id
    (new_lamports,) = _U64.unpack_from(after, layout.lamports)
    if new_lamports != lamports:  # set_lamports
        if not owned and new_lamports < lamports:
            raise InstructionFailureError.of(K.EXTERNAL_ACCOUNT_LAMPORT_SPEND)
        if not account.is_writable:
            raise InstructionFailureError.of(K.READONLY_LAMPORT_CHANGE)
        lamports = new_lamports
    data_end = layout.data + layout.original_data_len
    if after[layout.data_len : data_end] != before[layout.data_len : data_end]:
        (new_len,) = _U64.unpack_from(after, layout.data_len)
        if new_len - len(data) > MAX_PERMITTED_DATA_INCREASE or new_len > MAX_PERMITTED_DATA_LENGTH:
            raise InstructionFailureError.of(K.INVALID_REALLOC)
        new_data = after[layout.data : layout.data + new_len]
        if new_len != len(data) and not owned:  # can_data_be_resized, can_data_be_changed
            refusal: InstructionErrorKind | None = K.ACCOUNT_DATA_SIZE_CHANGED
        elif not account.is_writable:
            refusal = K.READONLY_DATA_MODIFIED
        elif not owned:
            refusal = K.EXTERNAL_ACCOUNT_DATA_MODIFIED
        else:
            refusal = None
        if refusal is None:
            data = new_data
        elif new_data != data:
            raise InstructionFailureError.of(refusal)
    if after[layout.owner : layout.lamports] != before[layout.owner : layout.lamports]:  # set_owner
        if not owned or not account.is_writable or any(data):
            raise InstructionFailureError.of(K.MODIFIED_PROGRAM_ID)
        owner = Pubkey(after[layout.owner : layout.lamports])
    return Account(lamports, data, owner, state.executable, state.rent_epoch)


def _absolute(values: st.SearchStrategy[int]) -> st.SearchStrategy[tuple[str, int]]:
    return values.map(lambda value: ("absolute", value))


def _relative(values: st.SearchStrategy[int]) -> st.SearchStrategy[tuple[str, int]]:
    return values.map(lambda value: ("relative", value))


edits = st.fixed_dictionaries(
    {},
    optional={
        "lamports": st.one_of(_absolute(st.integers(0, 2**64 - 1)), _relative(st.integers(-3, 3))),
        # around the realloc limit too: growth by 10 KiB is allowed, one byte more is not
        "length": st.one_of(
            _absolute(st.integers(0, 64)),
            _relative(st.integers(-2, 2)),
            _relative(st.integers(10_238, 10_242)),
        ),
        "data": st.tuples(st.integers(0, 60), st.binary(min_size=1, max_size=8)),
        "owner": st.sampled_from([PROGRAM, OTHER, Pubkey(bytes(32))]),
        "header": st.binary(min_size=1, max_size=8),  # flags and key: never read back
        "room": st.integers(1, 255),  # realloc room past any data length read back
    },
)


def _value(edit: tuple[str, int], old: int) -> int:
    kind, value = edit
    return max(old + value, 0) % 2**64 if kind == "relative" else value


def _edit(
    buffer: bytearray, layout: abi.AccountLayout, state: Account, edit: dict[str, Any]
) -> None:
    if "lamports" in edit:
        _U64.pack_into(buffer, layout.lamports, _value(edit["lamports"], state.lamports))
    if "length" in edit:
        _U64.pack_into(buffer, layout.data_len, _value(edit["length"], len(state.data)))
    if "data" in edit:
        at, patch = edit["data"]
        buffer[layout.data + at : layout.data + at + len(patch)] = patch
    if "owner" in edit:
        buffer[layout.owner : layout.lamports] = bytes(edit["owner"])
    if "header" in edit:
        buffer[layout.key - 7 : layout.key - 7 + len(edit["header"])] = edit["header"]
    if "room" in edit:
        buffer[layout.data + MAX_PERMITTED_DATA_INCREASE + len(state.data) - 1] = edit["room"]


@pytest.mark.parametrize("as_view", [False, True], ids=["bytes", "memoryview"])
@given(st.lists(st.tuples(account_states, st.booleans(), edits), min_size=1, max_size=3))
@example([(Account(1, b"ab", PROGRAM), True, {"length": ("relative", 10_240)})])  # the limit
@example([(Account(1, b"ab", PROGRAM), True, {"length": ("relative", 10_241)})])  # past it
@example([(Account(1, b"ab", PROGRAM), True, {"owner": OTHER, "data": (0, b"\0\0")})])
def test_write_back_follows_agave(
    as_view: bool,
    accounts: list[tuple[Account, bool, dict[str, Any]]],
) -> None:
    entries = [
        abi.SerializedAccount(key, False, writable, state)
        for key, (state, writable, _) in zip(KEYS, accounts, strict=False)
    ]
    serialized = abi.serialize(entries, b"", PROGRAM)
    buffer = bytearray(serialized.buffer)
    for entry, layout, (_, _, edit) in zip(entries, serialized.layouts, accounts, strict=True):
        _edit(buffer, layout, entry.account, edit)
    after = bytes(buffer)
    try:
        expected: dict[Pubkey, Account] | InstructionErrorKind = {
            entry.key: _reference_write_back(entry, layout, serialized.buffer, after, PROGRAM)
            for entry, layout in zip(entries, serialized.layouts, strict=True)
        }
    except InstructionFailureError as failure:
        expected = failure.error.kind
    view = np.frombuffer(after, dtype=np.uint8).copy().data if as_view else after
    try:
        got: dict[Pubkey, Account] | InstructionErrorKind = write_back(
            entries, serialized, view, PROGRAM
        )
    except InstructionFailureError as failure:
        got = failure.error.kind
    assert got == expected
