"""The rollup runtime: Solana transaction processing in C on the sBPF VM, and its Python face.

Interfaces (what the node and the prover depend on) live in `heliostat.runtime.interface`;
`Runtime`, `PendingStateExecutor` and `DictState` are imported on first use (they load the VM).
"""

from typing import Any

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
    "DictState",
    "ExecutionOutcome",
    "ForcedTransaction",
    "PendingStateExecutor",
    "PriorityOperation",
    "Runtime",
    "TransactionError",
    "TransactionErrorJson",
    "TransactionExecutor",
    "TransactionRuntime",
    "Withdrawal",
]


def __getattr__(name: str) -> Any:
    if name == "Runtime":
        from heliostat.runtime.runtime import Runtime

        return Runtime
    if name in ("PendingStateExecutor", "DictState"):
        from heliostat.runtime import executor

        return getattr(executor, name)
    raise AttributeError(name)
