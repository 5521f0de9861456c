"""`python -m heliostat.demo`: an SPL Token transfer run by the VM, by LiteSVM, and proven.

The SPL Token ELF is the mainnet build read out of the LiteSVM inside solders; Heliostat
loads it, serializes the instruction's accounts (ABI v1), runs it on the numba interpreter
and writes the accounts back. The same transfer then runs as a transaction in LiteSVM, and
the two outcomes are compared line by line: result, logs, compute units, balances. Last, the
transfer is run in proving mode, proven by the zkVM (a STARK at the default parameters) and
the proof verified.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.token.state import TokenAccount
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from heliostat.svm import programs
from heliostat.svm.instruction import LoadedProgram, execute_instruction
from heliostat.svm.instruction_error import InstructionError
from heliostat.svm.syscalls.registry import default_registry
from heliostat.testing import TestHost
from heliostat.testing import spl_token as tk

OWNER = Keypair.from_seed(bytes([1] * 32))
FEE_PAYER = Keypair.from_seed(bytes([2] * 32))
MINT = Pubkey(bytes([3] * 32))
SOURCE = Pubkey(bytes([4] * 32))
DESTINATION = Pubkey(bytes([5] * 32))


@dataclass(frozen=True)
class Outcome:
    """What one side reports for the transfer."""

    result: str
    compute_units: int
    logs: Sequence[str]
    balances: tuple[int, int]


def _balances(accounts: Mapping[Pubkey, Account | None]) -> tuple[int, int]:
    def amount(key: Pubkey) -> int:
        account = accounts[key]
        return TokenAccount.from_bytes(bytes(account.data)).amount if account else 0

    return amount(SOURCE), amount(DESTINATION)


def _initial_accounts() -> dict[Pubkey, Account]:
    return {
        MINT: tk.mint_account(OWNER.pubkey(), supply=1_000_000, decimals=6),
        SOURCE: tk.token_account(MINT, OWNER.pubkey(), 1_000_000),
        DESTINATION: tk.token_account(MINT, FEE_PAYER.pubkey(), 0),
    }


def _rust_name(error: InstructionError | None) -> str:
    if error is None:
        return ""
    if error.custom_code is not None:
        return f"Custom({error.custom_code})"
    return error.kind.rust_name


def run_heliostat(program: LoadedProgram, instruction: Instruction) -> tuple[Outcome, float]:
    """Run the transfer through Heliostat; return the outcome and µs per later call."""
    accounts = _initial_accounts()
    result = execute_instruction(program, instruction, accounts, TestHost(program.program_id))
    repeats = 200
    start = time.perf_counter()
    for _ in range(repeats):
        execute_instruction(program, instruction, accounts, TestHost(program.program_id))
    per_call = (time.perf_counter() - start) / repeats * 1e6
    outcome = Outcome(
        "success" if result.ok else f"failed: {result.error} ({_rust_name(result.error)})",
        result.compute_units_consumed,
        result.logs,
        _balances({**accounts, **result.accounts}),
    )
    return outcome, per_call


def run_litesvm(instruction: Instruction) -> Outcome:
    """Run the same transfer as a one-instruction transaction in LiteSVM."""
    svm = LiteSVM()
    for key, account in _initial_accounts().items():
        svm.set_account(key, account)
    svm.set_account(FEE_PAYER.pubkey(), Account(10**9, b"", Pubkey.default()))
    message = Message([instruction], FEE_PAYER.pubkey())
    transaction = Transaction([FEE_PAYER, OWNER], message, svm.latest_blockhash())
    sent = svm.send_transaction(transaction)
    error = sent.err() if isinstance(sent, FailedTransactionMetadata) else None
    meta = sent.meta() if isinstance(sent, FailedTransactionMetadata) else sent
    keys = (SOURCE, DESTINATION)
    if isinstance(error, TransactionErrorInstructionError):
        inner = error.err
        detail = f"Custom({inner.code})" if isinstance(inner, InstructionErrorCustom) else inner
        result = f"failed: instruction {error.index}: {detail}"
    else:
        result = "success" if error is None else f"failed: {error}"
    return Outcome(
        result,
        meta.compute_units_consumed(),
        list(meta.logs()),
        _balances({key: svm.get_account(key) for key in keys}),
    )


def _print(title: str, outcome: Outcome) -> None:
    print(f"  {title}")
    print(f"    result:        {outcome.result}")
    print(f"    compute units: {outcome.compute_units}")
    print(f"    balances:      source {outcome.balances[0]:,}, "
          f"destination {outcome.balances[1]:,}")  # fmt: skip
    print("    logs:")
    for line in outcome.logs:
        print(f"      {line}")


def prove_transfer(program: LoadedProgram, instruction: Instruction) -> None:
    """Prove the transfer's execution with the zkVM and verify the proof."""
    from heliostat.zkvm.execution import execute_program_instruction
    from heliostat.zkvm.prover import prove_execution, proving_key
    from heliostat.zkvm.verifier import verify

    execution = execute_program_instruction(
        program, instruction, _initial_accounts(), TestHost(program.program_id)
    )
    start = time.perf_counter()
    proving_key()  # once per process: the machine's constraints compiled, fixed tables committed
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    bundle = prove_execution(execution)
    prove_s = time.perf_counter() - start
    size = len(bundle.proof.to_bytes())
    start = time.perf_counter()
    verify(bundle.proof, bundle.public_values)
    verify_s = time.perf_counter() - start
    values = bundle.public_values
    image = "".join(f"{word:08x}" for word in values.image_hash)
    print("zkVM proof of the 250,000-token transfer (STARK, default parameters)")
    print(f"  executed      {execution.result.instruction_count} sBPF instructions, "
          f"status {values.status.name}, {values.compute_units} compute units")  # fmt: skip
    print(f"  rows          {sum(bundle.rows.values()):,} over {len(bundle.rows)} tables")
    print(f"  proven in     {prove_s:.2f} s (after {setup_s:.1f} s of one-time key setup)")
    print(f"  proof         {size:,} bytes; verified in {verify_s:.2f} s")
    print(f"  code image    {image} (Poseidon2 hash of the SPL Token program)")


def main() -> None:
    """Run the demo and print both outcomes."""
    binary = programs.spl_token()
    start = time.perf_counter()
    program = LoadedProgram.load(
        binary.program_id, binary.elf, binary.loader_id, default_registry()
    )
    load_ms = (time.perf_counter() - start) * 1e3
    print("Heliostat demo: SPL Token transfers run by Heliostat's sBPF VM and by LiteSVM\n")
    print(f"Program   SPL Token {binary.program_id} ({len(binary.elf):,}-byte mainnet ELF from")
    print(f"          solders' LiteSVM), loaded and verified by Heliostat in {load_ms:.0f} ms")
    print(f"Accounts  source      {SOURCE}  1,000,000 tokens")
    print(f"          destination {DESTINATION}  0 tokens")
    print(f"          owner       {OWNER.pubkey()}  signs\n")
    all_equal = True
    for label, amount in (("Transfer 250,000 tokens", 250_000), ("Transfer 2,000,000 (too many)",
                                                                  2_000_000)):  # fmt: skip
        instruction = tk.transfer(SOURCE, DESTINATION, OWNER.pubkey(), amount)
        print(f"{label}  (instruction data {bytes(instruction.data).hex()})")
        ours, per_call = run_heliostat(program, instruction)
        theirs = run_litesvm(instruction)
        _print(f"Heliostat (numba interpreter, {per_call:.0f} µs per instruction)", ours)
        _print("LiteSVM (agave 4.1 in solders)", theirs)
        same = (ours.compute_units, list(ours.logs), ours.balances) == (
            theirs.compute_units, list(theirs.logs), theirs.balances,
        )  # fmt: skip
        all_equal = all_equal and same
        print(f"  same logs, compute units and balances: {'yes' if same else 'NO'}\n")
    if not all_equal:
        raise SystemExit("Heliostat and LiteSVM disagree")
    prove_transfer(program, tk.transfer(SOURCE, DESTINATION, OWNER.pubkey(), 250_000))


if __name__ == "__main__":
    main()
