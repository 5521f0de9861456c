"""What the node needs from the runtime: the runtime's own interface, re-exported.

The sequencer depends only on `TransactionExecutor` (heliostat.runtime.interface, converged
with the runtime architect). Production wiring takes the runtime's implementation; tests may
use `heliostat.testing.litesvm_executor`, a double that runs the same transactions through
LiteSVM. See docs/node.md, "Executor".
"""

from heliostat.runtime.interface import (
    BlockContext,
    ExecutionOutcome,
    TransactionError,
    TransactionErrorJson,
    TransactionExecutor,
)

__all__ = [
    "BlockContext",
    "ExecutionOutcome",
    "TransactionError",
    "TransactionErrorJson",
    "TransactionExecutor",
]
