"""Build and run the C ed25519 verifier as an sBPF program, on Heliostat's VM or on LiteSVM.

Used by the tests of c/lib/ed25519 and by the runtime benchmark. The programs compile the
library's .c files into their one translation unit (the toolchain's cache follows includes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from solders.compute_budget import set_compute_unit_limit
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import InstructionErrorCustom

from heliostat.svm.instruction import LoadedProgram, execute_instruction
from heliostat.svm.programs import BPF_LOADER_2_ID
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing.host import TestHost
from heliostat.toolchain import build_program
from heliostat.toolchain.build import C_DIR, REPO_ROOT

LIB_DIR = C_DIR / "lib" / "ed25519"
VERIFY_PROGRAM = "ed25519_verify"
INTERNALS_SOURCE = REPO_ROOT / "tests" / "crypto_c" / "programs" / "ed25519_internals.c"
LINKED_SOURCE = REPO_ROOT / "tests" / "crypto_c" / "programs" / "ed25519_linked.c"
PROGRAM_ID = Pubkey(bytes([7] * 32))
MAX_COMPUTE_UNITS = 1_400_000  # agave MAX_COMPUTE_UNIT_LIMIT: the most a transaction may ask


def verify_program_elf() -> bytes:
    """Return the ELF of c/programs/ed25519_verify.c."""
    return build_program(VERIFY_PROGRAM).read_bytes()


def internals_program_elf() -> bytes:
    """Return the ELF of tests/crypto_c/programs/ed25519_internals.c (the library in pieces)."""
    return build_program(INTERNALS_SOURCE, name="ed25519_internals").read_bytes()


def linked_program_elf() -> bytes:
    """Return the verify program with the library as separate translation units.

    Every source is named to the toolchain, so its cache key covers them all.
    """
    sources = [LINKED_SOURCE, *sorted(LIB_DIR.glob("*.c"))]
    return build_program(sources, name="ed25519_linked", include_dirs=[C_DIR / "lib"]).read_bytes()


@dataclass(frozen=True)
class Run:
    """One instruction's outcome: None or the custom error code, CU, the return data."""

    code: int | None
    error: str | None
    compute_units: int
    return_data: bytes


class HeliostatRunner:
    """Runs instruction data through one program on Heliostat's VM (numba interpreter)."""

    def __init__(self, elf: bytes, *, fast: bool = True) -> None:
        self._program = LoadedProgram.load(PROGRAM_ID, elf, BPF_LOADER_2_ID, default_registry())
        self._fast = fast

    def run(self, data: bytes) -> Run:
        """Execute one instruction with the largest compute budget a transaction can ask."""
        result = execute_instruction(
            self._program,
            Instruction(PROGRAM_ID, data, []),
            {},
            TestHost(PROGRAM_ID),
            compute_budget=MAX_COMPUTE_UNITS,
            fast=self._fast,
        )
        error = result.error
        code = None if error is None else error.custom_code
        return Run(
            code=code,
            error=None if error is None else str(error),
            compute_units=result.compute_units_consumed,
            return_data=result.return_data[1],
        )


def verify_data(signature: bytes, public_key: bytes, message: bytes) -> bytes:
    """Return the instruction data of ed25519_verify: signature ‖ public key ‖ message."""
    return signature + public_key + message


@cache
def verify_runner() -> HeliostatRunner:
    """Return a runner of the verify program, built once per process."""
    return HeliostatRunner(verify_program_elf())


@cache
def internals_runner() -> HeliostatRunner:
    """Return a runner of the internals program, built once per process."""
    return HeliostatRunner(internals_program_elf())


def run_on_litesvm(elf: bytes, data: bytes) -> Run:
    """Deploy ``elf`` in a fresh LiteSVM and send one instruction with a 1.4M CU limit.

    LiteSVM counts the compute-budget instruction too; ``compute_units`` is the program's
    own consumption, read from its "consumed N of M" log line.
    """
    svm = LiteSVM()
    svm.add_program(PROGRAM_ID, elf)
    payer = Keypair.from_seed(bytes([1] * 32))
    svm.airdrop(payer.pubkey(), 10**10)
    instructions = [
        set_compute_unit_limit(MAX_COMPUTE_UNITS),
        Instruction(PROGRAM_ID, data, []),
    ]
    message = Message(instructions, payer.pubkey())
    result = svm.send_transaction(Transaction([payer], message, svm.latest_blockhash()))
    if isinstance(result, FailedTransactionMetadata):
        logs, inner = list(result.meta().logs()), getattr(result.err(), "err", None)
    else:
        logs, inner = list(result.logs()), None
    prefix = f"Program {PROGRAM_ID} consumed "
    consumed = [int(line[len(prefix) :].split()[0]) for line in logs if line.startswith(prefix)]
    if len(consumed) != 1:
        raise RuntimeError(f"no consumed line for the program in {logs}")
    if not isinstance(result, FailedTransactionMetadata):
        return Run(code=None, error=None, compute_units=consumed[0], return_data=b"")
    # TransactionErrorInstructionError(index, err): the program's own error
    code = inner.code if isinstance(inner, InstructionErrorCustom) else None
    return Run(code=code, error=str(inner), compute_units=consumed[0], return_data=b"")
