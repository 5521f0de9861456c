"""Memo, the toolchain's C test programs (faults included) and the exec_probe program.

C programs are built on demand by `heliostat.toolchain` (cached under build/) and added to
LiteSVM with `add_program` (upgradeable loader, ABI v1), so both sides run the same bytes.
exec_probe (programs/exec_probe.c) drives syscalls and the write-back rules one by one.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path

from conformance_harness import ProgramSource, Scenario
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from heliostat.svm import programs
from heliostat.svm.syscalls import sysvars

MEMO = ProgramSource(
    "memo", programs.MEMO_ID, programs.BPF_LOADER_2_ID, lambda: programs.memo().elf, True
)
PROBE_SOURCE = Path(__file__).parent / "programs" / "exec_probe.c"


@functools.cache
def _c_elf(name: str) -> bytes:
    from heliostat.toolchain import build_program

    if name == "exec_probe":
        return build_program([PROBE_SOURCE], name="exec_probe").read_bytes()
    return build_program(name).read_bytes()


def _c_program(name: str, seed: int) -> ProgramSource:
    return ProgramSource(
        name,
        Pubkey(bytes([seed] * 32)),
        programs.BPF_LOADER_UPGRADEABLE_ID,
        functools.partial(_c_elf, name),
        preloaded=False,
    )


SIGNER_A = Keypair.from_seed(bytes([21] * 32))
SIGNER_B = Keypair.from_seed(bytes([22] * 32))
PLAIN = Pubkey(bytes([23] * 32))


def _memo(name: str, data: bytes, signers: tuple[Keypair, ...], expect: str = "ok",
          extra: tuple[AccountMeta, ...] = ()) -> Scenario:  # fmt: skip
    metas = [AccountMeta(s.pubkey(), True, False) for s in signers] + list(extra)
    return Scenario(f"memo_{name}", MEMO, Instruction(programs.MEMO_ID, data, metas), {},
                    signers, expect)  # fmt: skip


MEMO_SCENARIOS = [
    _memo("no_signers", b"hello, heliostat", ()),
    _memo("one_signer", "memo from a signer ✓".encode(), (SIGNER_A,)),
    _memo("two_signers", b"two", (SIGNER_A, SIGNER_B)),
    _memo("unsigned_account", b"x", (), "MissingRequiredSignature",
          (AccountMeta(PLAIN, False, False),)),
    # Memo v2 logs the raw memo with sol_log_, which rejects bytes that are not UTF-8
    _memo("invalid_utf8", b"ab\xff\xfe", (), "ProgramFailedToComplete"),
]  # fmt: skip

NOOP = _c_program("noop", 101)
HELLO = _c_program("hello", 102)
ECHO = _c_program("echo", 103)
DIVIDE = _c_program("fault_divide_by_zero", 104)
READ_UNMAPPED = _c_program("fault_read_unmapped", 105)
WRITE_READONLY = _c_program("fault_write_readonly", 106)
CALL_DEPTH = _c_program("fault_call_depth", 107)
BUDGET = _c_program("fault_compute_budget", 108)
CUSTOM = _c_program("custom_error", 109)
MEMOPS = _c_program("memops", 110)
PROBE = _c_program("exec_probe", 111)

ACCOUNT_A = Pubkey(bytes([31] * 32))
ACCOUNT_B = Pubkey(bytes([32] * 32))
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")


def _c(name: str, program: ProgramSource, data: bytes = b"", expect: str = "ok",
       metas: tuple[AccountMeta, ...] = (), accounts: dict[Pubkey, Account] | None = None,
       ) -> Scenario:  # fmt: skip
    instruction = Instruction(program.program_id, data, list(metas))
    return Scenario(f"{program.name}_{name}", program, instruction, accounts or {}, (), expect)


def _owned(program: ProgramSource, lamports: int = 5_000_000, data: bytes = bytes(16)) -> Account:
    return Account(lamports, data, program.program_id)


def _w(key: Pubkey) -> AccountMeta:
    return AccountMeta(key, False, True)


def _r(key: Pubkey) -> AccountMeta:
    return AccountMeta(key, False, False)


def _probe(name: str, selector: int, args: bytes = b"", expect: str = "ok",
           metas: tuple[AccountMeta, ...] = (), accounts: dict[Pubkey, Account] | None = None,
           ) -> Scenario:  # fmt: skip
    return _c(name, PROBE, bytes([selector]) + args, expect, metas, accounts)


def _u64(value: int) -> bytes:
    return struct.pack("<Q", value)


OWNED_PAIR = {ACCOUNT_A: _owned(PROBE), ACCOUNT_B: _owned(PROBE)}
FOREIGN_A = {ACCOUNT_A: Account(5_000_000, bytes(16), SYSTEM), ACCOUNT_B: _owned(PROBE)}

C_SCENARIOS = [
    _c("returns", NOOP),
    _c("all_log_syscalls", HELLO, b"data!", metas=(_r(ACCOUNT_A),),
       accounts={ACCOUNT_A: _owned(HELLO)}),
    _c("writes_data_and_lamports", ECHO, _u64(1234) + b"payload",
       metas=(_w(ACCOUNT_A), _w(ACCOUNT_B)),
       accounts={ACCOUNT_A: _owned(ECHO), ACCOUNT_B: Account(1_000_000, b"", SYSTEM)}),
    _c("data_too_small", ECHO, _u64(1) + bytes(40), "AccountDataTooSmall",
       (_w(ACCOUNT_A), _w(ACCOUNT_B)), {ACCOUNT_A: _owned(ECHO), ACCOUNT_B: _owned(ECHO)}),
    _c("fault", DIVIDE, expect="ProgramFailedToComplete"),
    _c("nonzero_divisor", DIVIDE, b"xy"),
    _c("fault", READ_UNMAPPED, expect="ProgramFailedToComplete"),
    _c("fault", WRITE_READONLY, expect="ProgramFailedToComplete"),
    _c("fault", CALL_DEPTH, expect="ProgramFailedToComplete"),
    _c("depth_62_ok", CALL_DEPTH, _u64(62)),
    _c("fault", BUDGET, expect="ProgramFailedToComplete"),
    _c("default", CUSTOM, expect="Custom(42)"),
    _c("chosen_code", CUSTOM, b"\x01" + struct.pack("<I", 0xDEADBEEF), "Custom(3735928559)"),
    _c("invalid_argument", CUSTOM, b"\x02", "InvalidArgument"),
    _c("panic", CUSTOM, b"\x04", "ProgramFailedToComplete"),
    _c("abort", CUSTOM, b"\x05", "ProgramFailedToComplete"),
    _c("all_ops", MEMOPS, b"copy me", metas=(_w(ACCOUNT_A),), accounts={ACCOUNT_A: _owned(MEMOPS)}),
]  # fmt: skip

PROBE_SCENARIOS = [
    _probe("sysvars", 0, metas=(_r(sysvars.CLOCK), _r(sysvars.RENT))),
    _probe("pda", 1, bytes([5]) + b"vault" + bytes([32]) + bytes(range(32))),
    _probe("pda_too_many_seeds", 1, bytes([1, 7]) * 17, "ProgramFailedToComplete"),
    _probe("hashes", 2, b"the quick brown fox"),
    _probe("context", 3),
    _probe("return_data", 4, b"returned bytes"),
    _probe("memcpy_overlap", 5, expect="ProgramFailedToComplete"),
    _probe("log_invalid_utf8", 6, b"ok\xe2\x82", "ProgramFailedToComplete"),
    _probe("move_lamports", 7, _u64(1000), metas=(_w(ACCOUNT_A), _w(ACCOUNT_B)),
           accounts=OWNED_PAIR),
    _probe("readonly_lamport_change", 7, _u64(1000), "ReadonlyLamportChange",
           (_w(ACCOUNT_A), _r(ACCOUNT_B)), OWNED_PAIR),
    _probe("external_lamport_spend", 7, _u64(1000), "ExternalAccountLamportSpend",
           (_w(ACCOUNT_A), _w(ACCOUNT_B)), FOREIGN_A),
    _probe("rent_paying_after", 7, _u64(4_999_999), f"InsufficientFundsForRent({ACCOUNT_A})",
           (_w(ACCOUNT_A), _w(ACCOUNT_B)), OWNED_PAIR),
    _probe("write_data", 8, b"\x7f", metas=(_w(ACCOUNT_A),), accounts=OWNED_PAIR),
    _probe("readonly_data_modified", 8, b"\x7f", "ReadonlyDataModified", (_r(ACCOUNT_A),),
           OWNED_PAIR),
    _probe("external_data_modified", 8, b"\x7f", "ExternalAccountDataModified",
           (_w(ACCOUNT_A),), FOREIGN_A),
    _probe("realloc_grow", 9, _u64(16 + 10240), metas=(_w(ACCOUNT_A),),
           accounts={ACCOUNT_A: _owned(PROBE, lamports=10**9)}),
    _probe("realloc_too_far", 9, _u64(16 + 10241), "InvalidRealloc", (_w(ACCOUNT_A),),
           {ACCOUNT_A: _owned(PROBE, lamports=10**9)}),
    _probe("realloc_shrink", 9, _u64(3), metas=(_w(ACCOUNT_A),), accounts=OWNED_PAIR),
    _probe("program_account_as_input", 13, b"x", metas=(_r(PROBE.program_id), _w(ACCOUNT_A)),
           accounts=OWNED_PAIR),
    _probe("realloc_foreign", 9, _u64(8), "AccountDataSizeChanged", (_w(ACCOUNT_A),), FOREIGN_A),
    _probe("assign_nonzero_data", 10, b"", "ModifiedProgramId", (_w(ACCOUNT_A), _r(ACCOUNT_B)),
           {ACCOUNT_A: _owned(PROBE, data=b"\x01" * 16), ACCOUNT_B: _owned(PROBE)}),
    _probe("zero_and_assign", 21, metas=(_w(ACCOUNT_A), _r(ACCOUNT_B)), accounts=OWNED_PAIR),
    _probe("unbalanced", 11, b"", "UnbalancedInstruction", (_w(ACCOUNT_A),), OWNED_PAIR),
    _probe("memops", 12),
    _probe("log_misc", 13, b"\x00\x01\x02"),
    _probe("unaligned_sysvar_pointer", 14, expect="ProgramFailedToComplete"),
    _probe("syscall_bad_pointer", 15, expect="ProgramFailedToComplete"),
    _probe("panic_invalid_utf8_file", 16, expect="ProgramFailedToComplete"),
    _probe("return_data_too_large", 17, expect="ProgramFailedToComplete"),
    _probe("return_builtin_error", 18, _u64(6 << 32), "InsufficientFunds"),
    _probe("return_custom_zero", 18, _u64(1 << 32), "Custom(0)"),
    _probe("return_invalid_error", 18, _u64((7 << 32) | 5), "InvalidError"),
    _probe("syscall_exhausts_budget", 19, expect="ComputationalBudgetExceeded"),
    _probe("big_copy", 20, _u64(8000)),
]  # fmt: skip
