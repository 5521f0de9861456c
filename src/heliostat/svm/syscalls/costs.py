"""Compute-unit costs and limits of program execution, exactly as agave 4.1 defines them.

Source: agave program-runtime/src/execution_budget.rs (`SVMTransactionExecutionCost::default`,
`SVMTransactionExecutionBudget::new_with_defaults`, `DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT`),
at the agave version the LiteSVM inside solders 0.29 is built from (solana-program-runtime
4.1.2). tests/svm/test_syscalls.py checks every figure against solders' `ComputeBudget`, which
wraps that same struct, so a drift on either side fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass

# A transaction without a compute-budget instruction gets this many CUs per instruction
# (capped at MAX_COMPUTE_UNIT_LIMIT for the whole transaction).
DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT = 200_000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000

# solana-program-entrypoint: heap and realloc room.
HEAP_LENGTH = 32 * 1024
MAX_PERMITTED_DATA_INCREASE = 10 * 1024
# solana-system-interface: the largest account an instruction may grow to.
MAX_PERMITTED_DATA_LENGTH = 10 * 1024 * 1024
# solana-cpi: largest return data.
MAX_RETURN_DATA = 1024
# solana-pubkey: program-derived-address limits.
MAX_SEEDS = 16
MAX_SEED_LEN = 32


@dataclass(frozen=True)
class ExecutionBudget:
    """Limits of one transaction's execution (`SVMTransactionExecutionBudget`)."""

    compute_unit_limit: int = MAX_COMPUTE_UNIT_LIMIT
    max_instruction_stack_depth: int = 5
    max_instruction_trace_length: int = 64
    sha256_max_slices: int = 20_000
    max_call_depth: int = 64
    stack_frame_size: int = 4096
    heap_size: int = HEAP_LENGTH


@dataclass(frozen=True)
class ExecutionCost:
    """Compute-unit prices of syscalls (`SVMTransactionExecutionCost`), the ones Heliostat uses.

    Per-byte costs are divisions: a memory op on n bytes costs max(mem_op_base_cost,
    n // cpi_bytes_per_unit); logging a string of n bytes costs max(syscall_base_cost, n).
    """

    syscall_base_cost: int = 100
    log_64_units: int = 100
    log_pubkey_units: int = 100
    create_program_address_units: int = 1500
    invoke_units: int = 946
    sha256_base_cost: int = 85
    sha256_byte_cost: int = 1
    cpi_bytes_per_unit: int = 250
    sysvar_base_cost: int = 100
    mem_op_base_cost: int = 10
    heap_cost: int = 8
    get_remaining_compute_units_cost: int = 100
    secp256k1_recover_cost: int = 25_000
    curve25519_edwards_validate_point_cost: int = 159
    curve25519_edwards_add_cost: int = 473
    curve25519_edwards_subtract_cost: int = 475
    curve25519_edwards_multiply_cost: int = 2_177
    curve25519_ristretto_validate_point_cost: int = 169
    curve25519_ristretto_add_cost: int = 521
    curve25519_ristretto_subtract_cost: int = 519
    curve25519_ristretto_multiply_cost: int = 2_208

    def mem_op(self, n: int) -> int:
        """Cost of memcpy/memmove/memset/memcmp over n bytes (agave mem_ops.rs)."""
        return max(self.mem_op_base_cost, n // self.cpi_bytes_per_unit)

    def log(self, n: int) -> int:
        """Cost of `sol_log_` on a string of n bytes (agave logging.rs)."""
        return max(self.syscall_base_cost, n)


DEFAULT_COST = ExecutionCost()
DEFAULT_BUDGET = ExecutionBudget()


def heap_cost(heap_size: int, cost: ExecutionCost = DEFAULT_COST) -> int:
    """CUs charged before a program runs for heap beyond the first 32 KiB page.

    agave bpf_loader `calculate_heap_cost`: pages of 32 KiB, rounded up, the first one free.
    """
    page = 32 * 1024
    return ((heap_size + page - 1) // page - 1) * cost.heap_cost
