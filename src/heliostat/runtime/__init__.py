"""The rollup runtime: Solana transaction processing in C on the sBPF VM, and its Python face.

Interfaces (what the node and the prover depend on) live in `heliostat.runtime.interface`.
"""

from heliostat.runtime.interface import (
    AccountSource,
    BatchInput,
    BatchProof,
    BatchPublicOutput,
    BatchResult,
    BatchRuntime,
    Block,
    BlockContext,
    Deposit,
    ExecutionOutcome,
    ForcedTransaction,
    PriorityOperation,
    TransactionError,
    TransactionErrorJson,
    TransactionExecutor,
    TransactionRuntime,
    Withdrawal,
)

__all__ = [
    "AccountSource",
    "BatchInput",
    "BatchProof",
    "BatchPublicOutput",
    "BatchResult",
    "BatchRuntime",
    "Block",
    "BlockContext",
    "Deposit",
    "ExecutionOutcome",
    "ForcedTransaction",
    "PriorityOperation",
    "TransactionError",
    "TransactionErrorJson",
    "TransactionExecutor",
    "TransactionRuntime",
    "Withdrawal",
]
