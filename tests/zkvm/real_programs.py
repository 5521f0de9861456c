"""Real programs for zkVM tests: the toolchain's C programs and SPL Token from its ELF."""

from __future__ import annotations

from functools import cache

from solders.account import Account
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.rent import Rent

from heliostat.svm import programs
from heliostat.svm.instruction import LoadedProgram
from heliostat.svm.programs import BPF_LOADER_2_ID
from heliostat.svm.syscalls.registry import default_registry
from heliostat.svm.syscalls.sysvars import RENT
from heliostat.testing import TestHost
from heliostat.testing import spl_token as tk
from heliostat.toolchain import program_elf
from heliostat.zkvm.execution import Execution, execute_program_instruction

C_PROGRAM_ID = Pubkey(bytes([7] * 32))
OWNER = Keypair.from_seed(bytes([1] * 32)).pubkey()
OTHER = Keypair.from_seed(bytes([2] * 32)).pubkey()
MINT = Pubkey(bytes([10] * 32))
SOURCE = Pubkey(bytes([12] * 32))
DEST = Pubkey(bytes([13] * 32))
SYSVAR_OWNER = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")


@cache
def c_program(name: str) -> LoadedProgram:
    """A toolchain test program, loaded."""
    return LoadedProgram.load(C_PROGRAM_ID, program_elf(name), BPF_LOADER_2_ID, default_registry())


def run_c(name: str, data: bytes = b"", budget: int = 200_000) -> Execution:
    """Run a C test program with no accounts."""
    ix = Instruction(C_PROGRAM_ID, data, [])
    return execute_program_instruction(
        c_program(name), ix, {}, TestHost(C_PROGRAM_ID), budget=budget
    )


@cache
def spl_token() -> LoadedProgram:
    """SPL Token (p-token) from the ELF shipped inside solders' LiteSVM."""
    binary = programs.spl_token()
    return LoadedProgram.load(binary.program_id, binary.elf, binary.loader_id, default_registry())


def _mint() -> Account:
    return tk.mint_account(OWNER, supply=1_000_000)


SPL_CASES: dict[str, tuple[Instruction, dict[Pubkey, Account]]] = {
    "initialize_mint": (
        tk.initialize_mint(MINT, 6, OWNER),
        {
            MINT: tk.mint_account(None, initialized=False),
            RENT: Account(1, bytes(Rent.default()), SYSVAR_OWNER),
        },
    ),
    "mint_to": (
        tk.mint_to(MINT, DEST, OWNER, 5),
        {MINT: _mint(), DEST: tk.token_account(MINT, OTHER, 5)},
    ),
    "transfer": (
        tk.transfer(SOURCE, DEST, OWNER, 10),
        {
            MINT: _mint(),
            SOURCE: tk.token_account(MINT, OWNER, 1000),
            DEST: tk.token_account(MINT, OTHER, 5),
        },
    ),
    "burn": (
        tk.burn(SOURCE, MINT, OWNER, 10),
        {MINT: _mint(), SOURCE: tk.token_account(MINT, OWNER, 1000)},
    ),
    "transfer_insufficient_funds": (
        tk.transfer(SOURCE, DEST, OWNER, 10**6),
        {
            MINT: _mint(),
            SOURCE: tk.token_account(MINT, OWNER, 1000),
            DEST: tk.token_account(MINT, OTHER, 5),
        },
    ),
}


def run_spl(name: str) -> Execution:
    """Run one SPL Token scenario."""
    instruction, accounts = SPL_CASES[name]
    token = spl_token()
    return execute_program_instruction(token, instruction, accounts, TestHost(token.program_id))
