"""Compute budget, BPF programs of the project's C toolchain, VM faults through the kernel."""

from __future__ import annotations

import functools
import struct

from runtime_harness import TxScenario
from runtime_sol_scenarios import ALICE, BOB, SOL, funded, send, tx
from solders.compute_budget import (
    request_heap_frame,
    set_compute_unit_limit,
    set_compute_unit_price,
)
from solders.instruction import AccountMeta, Instruction
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey

from heliostat.toolchain import program_elf

COMPUTE_BUDGET = Pubkey.from_string("ComputeBudget111111111111111111111111111111")


@functools.cache
def _elf(name: str) -> bytes:
    return program_elf(name)


def program(svm: LiteSVM, name: str, seed: int) -> Pubkey:
    key = Pubkey(bytes([seed] * 32))
    svm.add_program(key, _elf(name))
    return key


def call(
    svm: LiteSVM, name: str, seed: int, data: bytes = b"", *accounts: AccountMeta
) -> Instruction:
    return Instruction(program(svm, name, seed), data, list(accounts))


def limit_and_price(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ixs = [
        set_compute_unit_limit(10_000),
        set_compute_unit_price(2_500_000),
        send(ALICE, BOB.pubkey(), SOL),
    ]
    return [tx(svm, ixs, ALICE)]


def price_only(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    return [tx(svm, [set_compute_unit_price(1_000), send(ALICE, BOB.pubkey(), SOL)], ALICE)]


def duplicate_limit(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ixs = [
        set_compute_unit_limit(10_000),
        set_compute_unit_limit(20_000),
        send(ALICE, BOB.pubkey(), 1),
    ]
    return [tx(svm, ixs, ALICE)]


def bad_budget_data(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [Instruction(COMPUTE_BUDGET, bytes([9, 1, 2]), [])])]


def bad_heap(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [request_heap_frame(40_000)])]


def zero_loaded_size(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [Instruction(COMPUTE_BUDGET, bytes([4, 0, 0, 0, 0]), [])])]


def budget_too_small_for_transfer(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    return [tx(svm, [set_compute_unit_limit(200), send(ALICE, BOB.pubkey(), 1)], ALICE)]


def heap_frame_with_program(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [request_heap_frame(64 * 1024), call(svm, "noop", 101)])]


def exceeds_budget(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [set_compute_unit_limit(30_000), call(svm, "fault_compute_budget", 102)])]


def heavy_within_budget(svm: LiteSVM):
    funded(svm)
    data = struct.pack("<Q", 2000)
    return [tx(svm, [set_compute_unit_limit(200_000), call(svm, "compute_heavy", 103, data)])]


def custom_error(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [call(svm, "custom_error", 104)])]


def custom_panic(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [call(svm, "custom_error", 104, bytes([4]))])]


def hello(svm: LiteSVM):
    funded(svm, ALICE)
    return [
        tx(
            svm,
            [call(svm, "hello", 105, b"\x01\x02\x03", AccountMeta(ALICE.pubkey(), True, False))],
            ALICE,
        )
    ]


def echo(svm: LiteSVM):
    funded(svm, BOB)
    key = program(svm, "echo", 106)
    state = Pubkey(bytes([61] * 32))
    svm.set_account(
        state,
        __import__("solders.account", fromlist=["Account"]).Account(SOL, bytes(16), key, False, 0),
    )
    data = struct.pack("<Q", 7) + b"returned!"
    ix = Instruction(
        key, data, [AccountMeta(state, False, True), AccountMeta(BOB.pubkey(), False, True)]
    )
    return [tx(svm, [ix])]


def divide_by_zero(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [call(svm, "fault_divide_by_zero", 107)])]


def memops(svm: LiteSVM):
    funded(svm)
    return [tx(svm, [call(svm, "memops", 108)])]


def program_then_transfer_fails(svm: LiteSVM):
    funded(svm, ALICE, BOB)
    ixs = [call(svm, "hello", 105), send(ALICE, BOB.pubkey(), 100 * SOL)]
    return [tx(svm, ixs, ALICE)]


def two_programs(svm: LiteSVM):
    funded(svm)
    ixs = [call(svm, "noop", 101), call(svm, "compute_heavy", 103, struct.pack("<Q", 10))]
    return [tx(svm, ixs)]


def _p(name: str, expect: str, body) -> TxScenario:
    return TxScenario(name, body, (expect,), ("program",))


SCENARIOS = [
    _p("compute unit limit and price", "ok", limit_and_price),
    _p("compute unit price only", "ok", price_only),
    _p("compute budget instruction twice", "DuplicateInstruction(1)", duplicate_limit),
    _p("compute budget, invalid data", "InvalidInstructionData@0", bad_budget_data),
    _p("heap frame not a multiple of 1 KiB", "InvalidInstructionData@0", bad_heap),
    _p("loaded accounts data size limit 0", "InvalidLoadedAccountsDataSizeLimit", zero_loaded_size),
    _p(
        "compute limit too small for a transfer",
        "ComputationalBudgetExceeded@1",
        budget_too_small_for_transfer,
    ),
    _p("heap frame of 64 KiB with a program", "ok", heap_frame_with_program),
    _p("program exceeds its compute budget", "ProgramFailedToComplete@1", exceeds_budget),
    _p("compute-heavy program within budget", "ok", heavy_within_budget),
    _p("program returns a custom error", "Custom(42)@0", custom_error),
    _p("program panics", "ProgramFailedToComplete@0", custom_panic),
    _p("program logs through every log syscall", "ok", hello),
    _p("program sets return data and moves lamports", "ok", echo),
    _p("program divides by zero", "ProgramFailedToComplete@0", divide_by_zero),
    _p("program uses the memory syscalls", "ok", memops),
    _p("program succeeds, then a transfer fails", "Custom(1)@1", program_then_transfer_fails),
    _p("two programs in one transaction", "ok", two_programs),
]
