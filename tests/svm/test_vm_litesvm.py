"""The VM against LiteSVM (agave's sbpf 0.21): the same assembled ELF on both, same outcome.

Each program is wrapped in an ELF by `assemble_elf`, deployed to solders' LiteSVM and run
in a transaction with no accounts; Heliostat loads the same bytes with `load_elf` and runs
them on both interpreters. Compared: success or the fault's message ("Program ... failed:
<message>"), the program's logged values (a test `sol_log_64_` with agave's cost), and the
compute units of the "consumed N of M" log line.
"""

from __future__ import annotations

import re
import struct

import pytest
from test_interpreter import ALU_CASES, FAULT_CASES, JUMP_CASES

from heliostat.svm.elf import load_elf
from heliostat.svm.elf_builder import assemble_elf
from heliostat.svm.memory import MM_INPUT_START, MemoryMap
from heliostat.svm.syscall_api import SyscallContext, SyscallRegistry
from heliostat.svm.vm import run

solders = pytest.importorskip("solders.litesvm")
from solders.instruction import Instruction  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.transaction import Transaction  # noqa: E402

BUDGET = 200_000
LOG_64_UNITS = 100  # agave execution budget: log_64_units


def _log_64(ctx: SyscallContext, a: int, b: int, c: int, d: int, e: int) -> int:
    ctx.consume(LOG_64_UNITS)
    ctx.host.append(f"Program log: {a:#x}, {b:#x}, {c:#x}, {d:#x}, {e:#x}")
    return 0


REGISTRY = SyscallRegistry()
REGISTRY.register("sol_log_64_", _log_64)


@pytest.fixture(scope="module")
def litesvm() -> object:
    return solders.LiteSVM()


Outcome = tuple[str | None, list[str], int]  # failure message, program logs, units consumed


def run_on_litesvm(svm: object, elf: bytes, data: bytes) -> tuple[Outcome, bytes]:
    """Deploy and invoke ``elf``; return its outcome and the program id it ran under."""
    program_id = Pubkey.new_unique()
    svm.add_program(program_id, elf)  # type: ignore[attr-defined]
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**9)  # type: ignore[attr-defined]
    message = Message([Instruction(program_id, data, [])], payer.pubkey())
    tx = Transaction([payer], message, svm.latest_blockhash())  # type: ignore[attr-defined]
    outcome = svm.send_transaction(tx)  # type: ignore[attr-defined]
    meta = outcome.meta() if hasattr(outcome, "err") else outcome
    logs = list(meta.logs())
    consumed = next(
        int(m.group(1)) for line in logs if (m := re.search(r"consumed (\d+) of", line))
    )
    failed = next((line.split(" failed: ", 1)[1] for line in logs if " failed: " in line), None)
    program_logs = [line for line in logs if line.startswith("Program log: ")]
    return (failed, program_logs, consumed), bytes(program_id)


def run_on_heliostat(elf: bytes, data: bytes, program_id: bytes, fast: bool) -> Outcome:
    exe = load_elf(elf, REGISTRY)
    input_data = struct.pack("<QQ", 0, len(data)) + data + program_id
    memory = MemoryMap.for_executable(exe, input_data)
    logs: list[str] = []
    result = run(exe, memory, logs, BUDGET, fast=fast, registers={2: MM_INPUT_START + 16})
    failed = None if result.fault is None else str(result.fault)
    return failed, logs, result.compute_units_consumed


def log_r0(source: str) -> str:
    return source + "\nmov64 r1, r0\ncall sol_log_64_\nmov64 r0, 0\nexit"


PROGRAMS = (
    [log_r0(source) for source, _ in ALU_CASES]
    + [log_r0("mov64 r0, 0\n" + source + "\nmov64 r0, 1") for source, _ in JUMP_CASES]
    + [
        source
        for source, *_ in FAULT_CASES
        if "nowhere" not in source and "ja -2" not in source  # unknown symbol; meter below
    ]
    + [
        "ja -1",  # runs the meter dry
        log_r0(
            "stw [r10-4], 0x11111111\nlddw r1, 0x200002000\nstw [r1+0], 0x22222222\n"
            "ldxdw r0, [r10-4]"
        ),
        log_r0("ldxdw r0, [r2-8]"),  # the instruction-data length, through r2
        "ldxdw r0, [r1+49]\nexit",  # past the end of the 56-byte input
        log_r0(
            "mov64 r1, 62\ncall f\nmov64 r0, r1\nja +4\nf:\njeq r1, 0, +2\nsub64 r1, 1\n"
            "call f\nexit"
        ),
        "mov64 r1, 63\ncall f\nexit\nf:\njeq r1, 0, +2\nsub64 r1, 1\ncall f\nexit",
    ]
)


@pytest.mark.parametrize("source", PROGRAMS)
def test_same_outcome_as_litesvm(litesvm: object, source: str) -> None:
    elf = assemble_elf(source)
    data = b"\x01\x02\x03\x04\x05\x06\x07\x08"
    expected, program_id = run_on_litesvm(litesvm, elf, data)
    for fast in (False, True):
        assert run_on_heliostat(elf, data, program_id, fast) == expected, (source, fast)
