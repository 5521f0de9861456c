"""Executing one instruction: error mapping, write-back rules, logs and compute units."""

from __future__ import annotations

import pytest
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey
from solders.token.state import TokenAccount

from heliostat.svm import abi, programs
from heliostat.svm.instruction import (
    LoadedProgram,
    ProgramLoadError,
    execute_instruction,
    instruction_accounts,
    rent_state_violations,
    write_back,
)
from heliostat.svm.instruction_error import (
    InstructionError,
    InstructionErrorKind,
    from_return_code,
    to_return_code,
)
from heliostat.svm.syscalls.errors import InstructionFailureError
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing import TestHost
from heliostat.testing import spl_token as tk

K = InstructionErrorKind
PROGRAM = Pubkey(bytes([9] * 32))
OTHER = Pubkey(bytes([8] * 32))
A = Pubkey(bytes([1] * 32))
B = Pubkey(bytes([2] * 32))


# -- return codes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (1, InstructionError.custom(1)),
        (0xFFFF_FFFF, InstructionError.custom(0xFFFF_FFFF)),
        (1 << 32, InstructionError.custom(0)),
        (2 << 32, InstructionError(K.INVALID_ARGUMENT)),
        (11 << 32, InstructionError(K.NOT_ENOUGH_ACCOUNT_KEYS)),
        (20 << 32, InstructionError(K.INVALID_REALLOC)),
        (26 << 32, InstructionError(K.INCORRECT_AUTHORITY)),
        (27 << 32, InstructionError(K.INVALID_ERROR)),
        ((2 << 32) | 1, InstructionError(K.INVALID_ERROR)),
        ((1 << 64) - 1, InstructionError(K.INVALID_ERROR)),
    ],
)
def test_return_codes_map_like_agave(code: int, error: InstructionError) -> None:
    assert from_return_code(code) == error


def test_return_codes_round_trip() -> None:
    for n in range(2, 27):
        error = from_return_code(n << 32)
        assert to_return_code(error) == n << 32
    assert to_return_code(InstructionError.custom(0)) == 1 << 32
    with pytest.raises(ValueError):
        to_return_code(InstructionError(K.UNBALANCED_INSTRUCTION))
    with pytest.raises(ValueError):
        InstructionError(K.CUSTOM)


def test_error_messages_are_agaves() -> None:
    assert str(InstructionError.custom(42)) == "custom program error: 0x2a"
    assert str(InstructionError(K.PROGRAM_FAILED_TO_COMPLETE)) == "Program failed to complete"
    assert K.MISSING_REQUIRED_SIGNATURE.rust_name == "MissingRequiredSignature"


# -- accounts and write-back -----------------------------------------------------------------


def test_duplicates_share_the_union_of_privileges() -> None:
    ix = Instruction(PROGRAM, b"", [AccountMeta(A, True, False), AccountMeta(B, False, False),
                                    AccountMeta(A, False, True)])  # fmt: skip
    entries = instruction_accounts(ix, {A: Account(1, b"", PROGRAM)})
    assert isinstance(entries[2], abi.DuplicateAccount)
    assert entries[2].position == 0
    distinct = [e for e in entries if isinstance(e, abi.SerializedAccount)]
    assert [(d.key, d.is_signer, d.is_writable) for d in distinct] == [
        (A, True, True),
        (B, False, False),
    ]
    assert distinct[1].account.lamports == 0  # a missing account is an empty system account


def _write_back(state: Account, writable: bool, edit: dict[str, object]) -> dict[Pubkey, Account]:
    account = abi.SerializedAccount(A, False, writable, state)
    serialized = abi.serialize([account], b"", PROGRAM)
    buffer = bytearray(serialized.buffer)
    (layout,) = serialized.layouts
    if "lamports" in edit:
        buffer[layout.lamports : layout.lamports + 8] = int(edit["lamports"]).to_bytes(8, "little")  # type: ignore[call-overload]
    if "length" in edit:
        buffer[layout.data_len : layout.data_len + 8] = int(edit["length"]).to_bytes(8, "little")  # type: ignore[call-overload]
    if "data" in edit:
        data = bytes(edit["data"])  # type: ignore[call-overload]
        buffer[layout.data : layout.data + len(data)] = data
    if "owner" in edit:
        buffer[layout.owner : layout.owner + 32] = bytes(edit["owner"])  # type: ignore[call-overload]
    return write_back([account], serialized, bytes(buffer), PROGRAM)


OWNED = Account(100, b"\x01\x02", PROGRAM)
FOREIGN = Account(100, b"\x01\x02", OTHER)


@pytest.mark.parametrize(
    ("state", "writable", "edit", "error"),
    [
        (OWNED, False, {"lamports": 99}, K.READONLY_LAMPORT_CHANGE),
        (FOREIGN, True, {"lamports": 99}, K.EXTERNAL_ACCOUNT_LAMPORT_SPEND),
        (OWNED, True, {"length": 2 + 10241}, K.INVALID_REALLOC),
        (FOREIGN, True, {"length": 3}, K.ACCOUNT_DATA_SIZE_CHANGED),
        (OWNED, False, {"data": b"\x07"}, K.READONLY_DATA_MODIFIED),
        (FOREIGN, True, {"data": b"\x07"}, K.EXTERNAL_ACCOUNT_DATA_MODIFIED),
        (OWNED, True, {"owner": OTHER}, K.MODIFIED_PROGRAM_ID),  # data not zeroed
        (FOREIGN, True, {"owner": PROGRAM, "data": b"\0\0"}, K.EXTERNAL_ACCOUNT_DATA_MODIFIED),
        (OWNED, False, {"owner": OTHER, "data": b"\0\0"}, K.READONLY_DATA_MODIFIED),
    ],
)
def test_write_back_refuses(
    state: Account, writable: bool, edit: dict[str, object], error: InstructionErrorKind
) -> None:
    with pytest.raises(InstructionFailureError) as caught:
        _write_back(state, writable, edit)
    assert caught.value.error == InstructionError(error)


def test_write_back_accepts_what_the_owner_may_do() -> None:
    assert _write_back(FOREIGN, True, {"lamports": 101})[A].lamports == 101  # anyone may credit
    grown = _write_back(OWNED, True, {"length": 5, "data": b"\1\2\3\4\5"})[A]
    assert grown.data == b"\1\2\3\4\5"
    shrunk = _write_back(OWNED, True, {"length": 1})[A]
    assert shrunk.data == b"\1"
    given_away = _write_back(OWNED, True, {"owner": OTHER, "data": b"\0\0"})[A]
    assert (given_away.owner, given_away.data) == (OTHER, b"\0\0")
    untouched = _write_back(FOREIGN, False, {})[A]
    assert untouched == FOREIGN


def test_rent_state_rules() -> None:
    def minimum(length: int) -> int:
        return (128 + length) * 10

    pre = {A: Account(500, b"", PROGRAM), B: Account(2000, b"", PROGRAM)}
    ok = {A: Account(0, b"", PROGRAM), B: Account(1280, b"", PROGRAM)}  # closed / exempt
    assert rent_state_violations(pre, ok, [A, B], minimum) == []
    paying = {A: Account(400, b"", PROGRAM), B: Account(1279, b"", PROGRAM)}
    # A stays rent-paying with fewer lamports (allowed); B falls from exempt to paying
    assert rent_state_violations(pre, paying, [A, B], minimum) == [B]
    grows = {A: Account(600, b"", PROGRAM), B: Account(2000, b"", PROGRAM)}
    assert rent_state_violations(pre, grows, [A, B], minimum) == [A]


# -- whole instructions ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token() -> LoadedProgram:
    binary = programs.spl_token()
    return LoadedProgram.load(binary.program_id, binary.elf, binary.loader_id, default_registry())


def _transfer_state() -> tuple[Instruction, dict[Pubkey, Account]]:
    mint, owner, source, destination = (Pubkey(bytes([i] * 32)) for i in (40, 41, 42, 43))
    accounts = {
        source: tk.token_account(mint, owner, 1000),
        destination: tk.token_account(mint, owner, 0),
    }
    return tk.transfer(source, destination, owner, 250), accounts


@pytest.mark.parametrize("fast", [False, True])
def test_spl_transfer(token: LoadedProgram, fast: bool) -> None:
    ix, accounts = _transfer_state()
    host = TestHost(programs.SPL_TOKEN_ID)
    result = execute_instruction(token, ix, accounts, host, fast=fast)
    assert result.ok
    source, destination = ix.accounts[0].pubkey, ix.accounts[1].pubkey
    assert TokenAccount.from_bytes(result.accounts[source].data).amount == 750
    assert TokenAccount.from_bytes(result.accounts[destination].data).amount == 250
    assert result.compute_units_consumed == 76  # LiteSVM's figure for p-token's transfer
    assert result.logs == host.logs.messages
    assert result.logs[-1] == f"Program {programs.SPL_TOKEN_ID} success"
    assert accounts[source] != result.accounts[source]  # the input mapping is not mutated


def test_failed_instruction_keeps_the_pre_state(token: LoadedProgram) -> None:
    ix, accounts = _transfer_state()
    ix = tk.transfer(ix.accounts[0].pubkey, ix.accounts[1].pubkey, ix.accounts[2].pubkey, 5000)
    result = execute_instruction(token, ix, accounts, TestHost(programs.SPL_TOKEN_ID))
    assert result.error == InstructionError.custom(1)
    assert {key: result.accounts[key] for key in accounts} == accounts
    assert result.logs[-1].endswith("failed: custom program error: 0x1")


def test_wrong_host_or_program_is_refused(token: LoadedProgram) -> None:
    ix, accounts = _transfer_state()
    with pytest.raises(ProgramLoadError):
        execute_instruction(token, ix, accounts, TestHost(PROGRAM))
    with pytest.raises(ProgramLoadError):
        LoadedProgram.load(PROGRAM, programs.spl_token().elf, PROGRAM, default_registry())


def test_too_many_accounts(token: LoadedProgram) -> None:
    metas = [AccountMeta(Pubkey(i.to_bytes(32, "little")), False, False) for i in range(256)]
    ix = Instruction(programs.SPL_TOKEN_ID, b"\3", metas)
    result = execute_instruction(token, ix, {}, TestHost(programs.SPL_TOKEN_ID))
    assert result.error == InstructionError(K.MAX_ACCOUNTS_EXCEEDED)
    assert result.logs[-1].endswith("failed: Max accounts exceeded")


def test_pooled_memory_comes_back_zeroed_with_the_new_input(token: LoadedProgram) -> None:
    first = token.acquire_memory(b"\1" * 64, 32 * 1024)
    first.stack[:8] = 7
    first.heap[-8:] = 7
    first.input[:] = 7
    token.release_memory(first)
    again = token.acquire_memory(b"\2" * 64, 32 * 1024)
    assert again is first  # reused, not reallocated
    assert not again.stack.any() and not again.heap.any()
    assert again.input_bytes() == b"\2" * 64
    other = token.acquire_memory(b"\3" * 65, 32 * 1024)  # another input size: a new map
    assert other is not first
