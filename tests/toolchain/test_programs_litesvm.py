"""Every C test program, built by the toolchain, runs on LiteSVM with the documented outcome."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litesvm_harness import BUDGET, PAYER, PROGRAM_ID, RunProgram, run_on_litesvm
from solders.account import Account
from solders.instruction import AccountMeta
from solders.pubkey import Pubkey

from heliostat.toolchain import list_programs, program_elf
from heliostat.toolchain.program_reference import (
    call_depth_result,
    compute_heavy,
    dispatch,
    format_log_64,
)

FAULT = "ProgramFailedToComplete"


def u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


def test_every_program_is_covered_here() -> None:
    covered = {
        "noop", "hello", "echo", "fault_divide_by_zero", "fault_read_unmapped",
        "fault_write_readonly", "fault_call_depth", "fault_compute_budget", "custom_error",
        "compute_heavy", "memops", "dispatch", "accounts",
        "ed25519_verify",  # on LiteSVM in tests/crypto_c/test_ed25519_sbpf.py
    }  # fmt: skip
    assert set(list_programs()) == covered


def test_noop_runs_two_instructions(run_program: RunProgram) -> None:
    out = run_program("noop")
    assert out.error is None
    assert out.compute_units == 2  # mov r0, 0; exit
    assert out.program_logs == []


def test_hello_logs_through_every_logging_syscall(run_program: RunProgram) -> None:
    out = run_program("hello", b"\x01\x02\x03")
    assert out.error is None
    logs = out.program_logs
    assert logs[:4] == [
        "Program log: Hello, Heliostat!",
        "Program log: 0x1, 0x2, 0x3, 0x4, 0x5",
        "Program log: 0x0, 0x3, 0x0, 0x0, 0x0",
        f"Program log: {PROGRAM_ID}",
    ]
    assert logs[4] == "Program data: " + " ".join(
        base64.b64encode(part).decode() for part in (b"heliostat", b"\x01\x02\x03")
    )
    remaining = int(re.fullmatch(r"Program consumption: (\d+) units remaining", logs[5])[1])  # type: ignore[index]
    assert BUDGET - out.compute_units < remaining < BUDGET
    assert out.consumed_logged == out.compute_units


def _echo_accounts(data_len: int = 16) -> tuple[Pubkey, Pubkey, dict[Pubkey, Account]]:
    source, destination = Pubkey(bytes([11] * 32)), Pubkey(bytes([12] * 32))
    accounts = {
        source: Account(5_000_000, bytes(data_len), PROGRAM_ID, False, 0),
        destination: Account(1_000_000, b"", Pubkey.default(), False, 0),
    }
    return source, destination, accounts


def test_echo_writes_data_moves_lamports_and_returns_payload(run_program: RunProgram) -> None:
    source, destination, accounts = _echo_accounts()
    metas = [AccountMeta(source, False, True), AccountMeta(destination, False, True)]
    out = run_program("echo", u64(1000) + b"hello", metas=metas, accounts=accounts)
    assert out.error is None
    assert out.program_logs == [
        "Program log: echo",
        "Program data: " + base64.b64encode(b"hello").decode(),
        format_log_64((1000, 5, 4_999_000, 1_001_000, 0)),
    ]
    assert out.logs[-2] == f"Program return: {PROGRAM_ID} " + base64.b64encode(b"hello").decode()
    assert out.return_data == b"hello"
    assert bytes(out.accounts[source].data) == b"hello" + bytes(11)
    assert out.accounts[source].lamports == 4_999_000
    assert out.accounts[destination].lamports == 1_001_000


@pytest.mark.parametrize(
    ("data", "writable", "data_len", "expected"),
    [
        (b"\x01\x02", True, 16, "InvalidInstructionData"),
        (u64(1) + b"x", False, 16, "InvalidArgument"),
        (u64(1) + b"too long for it", True, 4, "AccountDataTooSmall"),
        (u64(10**9) + b"x", True, 16, "InsufficientFunds"),
    ],
)
def test_echo_error_paths(
    run_program: RunProgram, data: bytes, writable: bool, data_len: int, expected: str
) -> None:
    source, destination, accounts = _echo_accounts(data_len)
    metas = [AccountMeta(source, False, writable), AccountMeta(destination, False, True)]
    out = run_program("echo", data, metas=metas, accounts=accounts)
    assert out.error == expected
    assert out.compute_units == out.consumed_logged  # a returned error is not a VM fault


def test_echo_needs_two_accounts(run_program: RunProgram) -> None:
    assert run_program("echo", u64(0)).error == "NotEnoughAccountKeys"


def test_echo_refuses_an_account_it_does_not_own(run_program: RunProgram) -> None:
    source, destination, accounts = _echo_accounts()
    accounts[source] = Account(5_000_000, bytes(16), Pubkey.default(), False, 0)
    metas = [AccountMeta(source, False, True), AccountMeta(destination, False, True)]
    assert run_program("echo", u64(0), metas=metas, accounts=accounts).error == (
        "IncorrectProgramId"
    )


FAULTS = [
    ("fault_divide_by_zero", b"", "dividing", "divide by zero at BPF instruction"),
    (
        "fault_read_unmapped",
        b"",
        "reading",
        "Access violation in unknown section at address 0x500000000 of size 8",
    ),
    ("fault_write_readonly", b"", "writing", "Access violation in program section at address"),
    ("fault_call_depth", b"", "recursing", "exceeded max BPF to BPF call depth"),
    ("fault_compute_budget", b"", "looping", "exceeded CUs meter at BPF instruction"),
]


@pytest.mark.parametrize(("name", "data", "first_log", "failure"), FAULTS)
def test_faulting_programs_fault_as_documented(
    run_program: RunProgram, name: str, data: bytes, first_log: str, failure: str
) -> None:
    out = run_program(name, data)
    assert out.error == FAULT
    assert out.program_logs == [f"Program log: {first_log}"]
    assert out.logs[-1].startswith(f"Program {PROGRAM_ID} failed: {failure}")
    assert out.compute_units == BUDGET  # a VM fault consumes the whole budget
    if name == "fault_compute_budget":
        assert out.consumed_logged == BUDGET
    else:
        assert out.consumed_logged < 1000


def test_write_fault_address_is_in_the_programs_rodata(run_program: RunProgram) -> None:
    out = run_program("fault_write_readonly")
    match = re.search(r"at address (0x[0-9a-f]+) of size 1", out.logs[-1])
    assert match is not None
    address = int(match[1], 16)
    assert 0x1_0000_0120 < address < 0x1_0000_0000 + 0x10000


def test_divide_succeeds_with_a_nonzero_divisor(run_program: RunProgram) -> None:
    out = run_program("fault_divide_by_zero", b"abcd")
    assert out.error is None
    assert out.program_logs[-1] == format_log_64((250, 0, 0, 0, 0))


def test_read_of_a_chosen_unmapped_address(run_program: RunProgram) -> None:
    out = run_program("fault_read_unmapped", u64(0x7_0000_0010))
    assert out.error == FAULT
    assert "at address 0x700000010 of size 8" in out.logs[-1]


@pytest.mark.parametrize(("depth", "faults"), [(10, False), (62, False), (63, True)])
def test_call_depth_limit_is_64_frames(run_program: RunProgram, depth: int, faults: bool) -> None:
    out = run_program("fault_call_depth", u64(depth))
    if faults:
        assert out.error == FAULT
        assert "exceeded max BPF to BPF call depth" in out.logs[-1]
    else:
        assert out.error is None
        assert out.program_logs[-1] == format_log_64((depth, call_depth_result(depth), 0, 0, 0))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "Custom(42)"),
        (b"\x00", "Custom(42)"),
        (b"\x01" + (7).to_bytes(4, "little"), "Custom(7)"),
        (b"\x01" + (0).to_bytes(4, "little"), "Custom(0)"),
        (b"\x01" + (0xDEADBEEF).to_bytes(4, "little"), f"Custom({0xDEADBEEF})"),
        (b"\x02", "InvalidArgument"),
        (b"\x03", "InvalidInstructionData"),
        (b"\x09", None),
    ],
)
def test_custom_error_returns(run_program: RunProgram, data: bytes, expected: str | None) -> None:
    out = run_program("custom_error", data)
    assert out.error == expected
    assert out.program_logs[0] == "Program log: failing"
    assert out.compute_units == out.consumed_logged


def test_custom_error_panics_and_aborts(run_program: RunProgram) -> None:
    panic = run_program("custom_error", b"\x04")
    assert panic.error == FAULT
    assert re.search(r"failed: SBF program Panicked in custom_error\.c at \d+:0$", panic.logs[-1])
    aborted = run_program("custom_error", b"\x05")
    assert aborted.error == FAULT
    assert aborted.logs[-1].endswith("failed: SBF program panicked")


def test_compute_heavy_matches_its_python_model(run_program: RunProgram) -> None:
    small = run_program("compute_heavy", u64(1000))
    large = run_program("compute_heavy", u64(3000))
    for out, n in ((small, 1000), (large, 3000)):
        assert out.error is None
        assert out.program_logs == [format_log_64(compute_heavy(n))]
    per_iteration, rest = divmod(large.compute_units - small.compute_units, 2000)
    assert rest == 0 and 20 <= per_iteration <= 40  # 33 with zig 0.17's LLVM
    assert run_program("compute_heavy").program_logs == [format_log_64(compute_heavy(1000))]


def test_memops_syscalls(run_program: RunProgram) -> None:
    target = Pubkey(bytes([21] * 32))
    accounts = {target: Account(1_000_000, bytes(8), PROGRAM_ID, False, 0)}
    metas = [AccountMeta(target, False, True)]
    out = run_program("memops", b"abcdef", metas=metas, accounts=accounts)
    assert out.error is None
    assert out.program_logs == [format_log_64((0, 0xAA, 0xAB, 0xAB, 1)), "Program log: copied"]
    assert bytes(out.accounts[target].data) == b"abcdef\x00\x00"


@pytest.mark.parametrize("data", [b"", bytes(range(6)), bytes(range(200, 256)) * 2])
def test_dispatch_tables_and_big_frame(run_program: RunProgram, data: bytes) -> None:
    out = run_program("dispatch", data)
    names, values = dispatch(data)
    assert out.error is None
    assert out.program_logs == [f"Program log: {n}" for n in names] + [format_log_64(values)]


def _accounts_case() -> tuple[list[AccountMeta], dict[Pubkey, Account]]:
    owned, other, empty = (Pubkey(bytes([i] * 32)) for i in (31, 32, 33))
    accounts = {
        owned: Account(10**9, b"\x05" * 3, PROGRAM_ID, False, 0),  # 3 bytes: padding follows
        other: Account(10**9 + 77, b"\x09" * 13, Pubkey.default(), False, 0),
        empty: Account(10**9 + 5, b"", Pubkey.default(), False, 0),
    }
    metas = [
        AccountMeta(owned, False, True),
        AccountMeta(other, False, False),
        AccountMeta(owned, False, True),  # a duplicate of account 0
        AccountMeta(PAYER.pubkey(), True, True),
        AccountMeta(empty, False, True),
        AccountMeta(other, False, False),  # a duplicate of account 1
    ]
    return metas, accounts


def test_accounts_parser_handles_duplicates_and_padding(run_program: RunProgram) -> None:
    metas, accounts = _accounts_case()
    out = run_program("accounts", b"", metas=metas, accounts=accounts)
    assert out.error is None
    expected = []
    for i, meta in enumerate(metas):
        # The payer's state after the transaction is what the program saw: the fee is
        # taken before execution and the program does not touch it.
        state = accounts.get(meta.pubkey) or out.accounts[meta.pubkey]
        flags = int(meta.is_signer) | int(meta.is_writable) << 1
        first = state.data[0] if state.data else 0
        lamports = state.lamports
        expected += [
            f"Program log: {meta.pubkey}",
            format_log_64((i, flags, lamports, len(state.data), first)),
        ]
    assert out.program_logs == [*expected, f"Program log: {PROGRAM_ID}"]


def test_accounts_resize_within_the_realloc_space(run_program: RunProgram) -> None:
    metas, accounts = _accounts_case()
    owned = metas[0].pubkey
    grown = run_program("accounts", u64(40), metas=metas, accounts=accounts)
    assert grown.error is None
    assert grown.program_logs[-1] == "Program log: resized"
    assert bytes(grown.accounts[owned].data) == b"\x05" * 3 + bytes(37)
    shrunk = run_program("accounts", u64(1), metas=metas, accounts=accounts)
    assert bytes(shrunk.accounts[owned].data) == b"\x05"
    too_far = run_program("accounts", u64(3 + 10 * 1024 + 1), metas=metas, accounts=accounts)
    assert too_far.error == "InvalidRealloc"


@given(data=st.binary(max_size=64))
def test_dispatch_matches_its_model_on_any_data(data: bytes) -> None:
    out = run_on_litesvm(program_elf("dispatch"), data)
    names, values = dispatch(data)
    assert out.program_logs == [f"Program log: {n}" for n in names] + [format_log_64(values)]


@given(iterations=st.integers(min_value=0, max_value=2000))
def test_compute_heavy_matches_its_model_for_any_count(iterations: int) -> None:
    out = run_on_litesvm(program_elf("compute_heavy"), u64(iterations))
    assert out.program_logs == [format_log_64(compute_heavy(iterations))]
