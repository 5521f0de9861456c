"""Heliostat's own loader and VM load and run every C test program as LiteSVM does."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import pytest
from litesvm_harness import PROGRAM_ID, run_on_litesvm
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from heliostat.svm.elf import load_elf
from heliostat.svm.instruction import LoadedProgram, execute_instruction
from heliostat.svm.programs import BPF_LOADER_2_ID
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing.host import TestHost
from heliostat.toolchain import list_programs, program_elf
from heliostat.toolchain.linker import LinkedProgram

SOURCE, DESTINATION = Pubkey(bytes([11] * 32)), Pubkey(bytes([12] * 32))
OTHER = Pubkey(bytes([13] * 32))
ACCOUNTS = {
    SOURCE: Account(5_000_000, bytes(16), PROGRAM_ID, False, 0),
    DESTINATION: Account(1_000_000, b"", Pubkey.default(), False, 0),
    OTHER: Account(10**9, b"\x09" * 13, Pubkey.default(), False, 0),
}
WRITABLE = [AccountMeta(SOURCE, False, True), AccountMeta(DESTINATION, False, True)]
MIXED = [*WRITABLE, AccountMeta(OTHER, False, False), AccountMeta(SOURCE, False, True)]


def u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


# (program, instruction data, account metas): at least one run of every program
SCENARIOS: list[tuple[str, bytes, Sequence[AccountMeta]]] = [
    ("noop", b"", ()),
    ("hello", b"\x01\x02\x03", WRITABLE),
    ("echo", u64(1000) + b"hello", WRITABLE),
    ("echo", u64(10**9) + b"x", WRITABLE),
    ("fault_divide_by_zero", b"", ()),
    ("fault_divide_by_zero", b"abcd", ()),
    ("fault_read_unmapped", b"", ()),
    ("fault_write_readonly", b"", ()),
    ("fault_call_depth", b"", ()),
    ("fault_call_depth", u64(62), ()),
    ("fault_compute_budget", b"", ()),
    ("custom_error", b"", ()),
    ("custom_error", b"\x03", ()),
    ("custom_error", b"\x04", ()),
    ("custom_error", b"\x05", ()),
    ("compute_heavy", u64(500), ()),
    ("memops", b"abcdef", WRITABLE),
    ("dispatch", bytes(range(7)), ()),
    ("accounts", b"", MIXED),
    ("accounts", u64(100), MIXED),
    ("accounts", u64(10**6), MIXED),
    ("ed25519_verify", bytes(95), ()),  # too short; full verifications: tests/crypto_c
    ("ed25519_verify", b"\xff" * 64 + bytes(32), ()),  # s >= L, rejected early
]

FAST = importlib.util.find_spec("heliostat.svm.fast_interpreter") is not None


@pytest.mark.parametrize("name", list_programs())
def test_every_program_loads(name: str) -> None:
    exe = load_elf(program_elf(name), default_registry())  # deployment-strict
    assert exe.entry_pc == 0
    assert exe.text_len > 0


def test_scenarios_cover_every_program() -> None:
    assert {name for name, _, _ in SCENARIOS} == set(list_programs())


@pytest.mark.parametrize(
    "fast",
    [False, pytest.param(True, marks=pytest.mark.skipif(not FAST, reason="no numba VM yet"))],
)
@pytest.mark.parametrize(("name", "data", "metas"), SCENARIOS)
def test_heliostat_runs_like_litesvm(
    name: str, data: bytes, metas: Sequence[AccountMeta], fast: bool
) -> None:
    elf = program_elf(name)
    expected = run_on_litesvm(elf, data, metas, ACCOUNTS)
    program = LoadedProgram.load(PROGRAM_ID, elf, BPF_LOADER_2_ID, default_registry())
    instruction = Instruction(PROGRAM_ID, data, list(metas))
    result = execute_instruction(program, instruction, ACCOUNTS, TestHost(PROGRAM_ID), fast=fast)
    assert result.logs == expected.logs
    assert result.compute_units_consumed == expected.compute_units
    assert (result.error is None) == (expected.error is None)
    assert result.return_data[1] == expected.return_data
    if expected.error is None:
        for key, account in expected.accounts.items():
            assert result.accounts[key] == account, key


def test_linked_program_reports_its_layout() -> None:
    from heliostat.toolchain import link_sources

    linked: LinkedProgram = link_sources("hello")
    assert linked.text_offset == 0x120
    assert linked.entry == linked.functions["entrypoint"]
    assert set(linked.syscalls) == {
        "sol_log_", "sol_log_64_", "sol_log_pubkey", "sol_log_data", "sol_log_compute_units_"
    }  # fmt: skip
