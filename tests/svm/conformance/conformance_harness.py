"""Run one scenario through LiteSVM (the oracle) and through Heliostat, and normalise both.

LiteSVM runs a whole transaction: a fee payer (not an instruction account) pays the fee and
signs with the scenario's signers. What belongs to the instruction is compared: its error,
the log lines, compute units (LiteSVM's transaction figure equals the instruction's with one
instruction and no compute-budget instruction; test_conformance.py checks that assumption),
return data, and the post-state of every instruction account. Heliostat starts from exactly
the accounts and sysvars LiteSVM holds after setup.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from solders.account import Account
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.rent import Rent
from solders.transaction import Transaction
from solders.transaction_status import (
    InstructionErrorCustom,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
)

from heliostat.svm.instruction import (
    InstructionResult,
    LoadedProgram,
    execute_instruction,
    rent_state_violations,
)
from heliostat.svm.syscalls import sysvars
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing import TestHost

SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")
FEE_PAYER = Keypair.from_seed(bytes([250] * 32))
FEE_PAYER_LAMPORTS = 10**12


@dataclass(frozen=True)
class ProgramSource:
    """A program both sides run: LiteSVM preloads it, or it is added from `elf()`."""

    name: str
    program_id: Pubkey
    loader_id: Pubkey
    elf: Callable[[], bytes]
    preloaded: bool

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Scenario:
    """One entry of the conformance table.

    `accounts` is the pre-state (accounts not listed are whatever LiteSVM has: sysvars, or
    nothing); `signers` sign the transaction besides the fee payer; `expect` is what LiteSVM
    must report ("ok", an `InstructionError` variant name, "Custom(n)") so that a scenario
    cannot silently drift off the path it is meant to exercise.
    """

    name: str
    program: ProgramSource
    instruction: Instruction
    accounts: Mapping[Pubkey, Account]
    signers: tuple[Keypair, ...] = ()
    expect: str = "ok"


AccountView = tuple[int, bytes, str, bool, int] | None


def account_view(account: Account | None) -> AccountView:
    """An account as compared: None when it does not exist (or holds no lamports, which the
    runtime garbage-collects at commit)."""
    if account is None or account.lamports == 0:
        return None
    return (
        account.lamports,
        bytes(account.data),
        str(account.owner),
        account.executable,
        account.rent_epoch,
    )


@dataclass(frozen=True)
class Outcome:
    """The instruction-level outcome that both sides must agree on."""

    error: str | None
    logs: tuple[str, ...]
    compute_units: int
    return_data: tuple[str, bytes]
    accounts: dict[str, AccountView] = field(default_factory=dict)


@dataclass(frozen=True)
class OracleRun:
    """LiteSVM's outcome plus what Heliostat needs to start from the same state."""

    outcome: Outcome
    pre_state: dict[Pubkey, Account]
    sysvar_data: dict[Pubkey, bytes]
    fee: int
    fee_payer_delta: int
    logged_units: int | None


def _error_name(error: object, account_keys: list[Pubkey]) -> str | None:
    if error is None:
        return None
    if isinstance(error, TransactionErrorInstructionError):
        inner = error.err
        if isinstance(inner, InstructionErrorCustom):
            return f"Custom({inner.code})"
        return str(inner).rsplit(".", 1)[-1]
    if isinstance(error, TransactionErrorInsufficientFundsForRent):
        return f"InsufficientFundsForRent({account_keys[error.account_index]})"
    return repr(error)


def _distinct_keys(instruction: Instruction) -> list[Pubkey]:
    keys: list[Pubkey] = []
    for meta in instruction.accounts:
        if meta.pubkey not in keys:
            keys.append(meta.pubkey)
    return keys


def run_litesvm(scenario: Scenario) -> OracleRun:
    """Run the scenario as a one-instruction transaction in a fresh LiteSVM."""
    svm = LiteSVM()
    program = scenario.program
    if not program.preloaded:
        svm.add_program(program.program_id, program.elf())
    for key, account in scenario.accounts.items():
        svm.set_account(key, account)
    svm.set_account(FEE_PAYER.pubkey(), Account(FEE_PAYER_LAMPORTS, b"", SYSTEM_PROGRAM))
    keys = _distinct_keys(scenario.instruction)
    pre_state = {key: svm.get_account(key) or Account(0, b"", SYSTEM_PROGRAM) for key in keys}
    sysvar_data = {
        key: bytes(account.data)
        for key in sysvars.CACHED_SYSVARS
        if (account := svm.get_account(key)) is not None
    }
    message = Message([scenario.instruction], FEE_PAYER.pubkey())
    blockhash: Hash = svm.latest_blockhash()
    transaction = Transaction([FEE_PAYER, *scenario.signers], message, blockhash)
    result = svm.send_transaction(transaction)
    meta = result.meta() if hasattr(result, "err") else result
    error = result.err() if hasattr(result, "err") else None
    return_program, return_bytes = meta.return_data().program_id, bytes(meta.return_data().data)
    outcome = Outcome(
        error=_error_name(error, list(message.account_keys)),
        logs=tuple(meta.logs()),
        compute_units=meta.compute_units_consumed(),
        return_data=(str(return_program), return_bytes),
        accounts={str(key): account_view(svm.get_account(key)) for key in keys},
    )
    logged = [line for line in meta.logs() if " consumed " in line]
    return OracleRun(
        outcome=outcome,
        pre_state=pre_state,
        sysvar_data=sysvar_data,
        fee=meta.fee(),
        fee_payer_delta=FEE_PAYER_LAMPORTS - (svm.get_balance(FEE_PAYER.pubkey()) or 0),
        logged_units=int(logged[0].split()[3]) if logged else None,
    )


@functools.cache
def loaded_program(program: ProgramSource) -> LoadedProgram:
    """Load a scenario's program once per test session."""
    return LoadedProgram.load(
        program.program_id, program.elf(), program.loader_id, default_registry()
    )


def run_heliostat(
    scenario: Scenario, oracle: OracleRun, *, fast: bool
) -> tuple[Outcome, InstructionResult]:
    """Run the scenario's instruction through Heliostat from LiteSVM's pre-state."""
    program = loaded_program(scenario.program)
    host = TestHost(scenario.program.program_id, sysvar_data=oracle.sysvar_data)
    result = execute_instruction(program, scenario.instruction, oracle.pre_state, host, fast=fast)
    error = None
    if result.error is not None:
        error = (
            f"Custom({result.error.custom_code})"
            if result.error.custom_code is not None
            else result.error.kind.rust_name
        )
    else:
        rent = Rent.from_bytes(oracle.sysvar_data[sysvars.RENT])
        writable = [
            key
            for key in _distinct_keys(scenario.instruction)
            if any(m.is_writable for m in scenario.instruction.accounts if m.pubkey == key)
        ]
        violations = rent_state_violations(
            oracle.pre_state, result.accounts, writable, rent.minimum_balance
        )
        if violations:
            error = f"InsufficientFundsForRent({violations[0]})"
    post = result.accounts if error is None else oracle.pre_state
    program_id, data = result.return_data
    outcome = Outcome(
        error=error,
        logs=tuple(result.logs),
        compute_units=result.compute_units_consumed,
        return_data=(str(program_id), data),
        accounts={
            str(key): account_view(post[key]) for key in _distinct_keys(scenario.instruction)
        },
    )
    return outcome, result
