"""What the node needs from the runtime: the runtime's interface, and the node's additions.

The sequencer depends on `TransactionExecutor` (heliostat.runtime.interface, converged with
the runtime architect) plus `SequencerExecutor`'s methods: run a group of queued
transactions in one call (one kernel run for the real runtime), run an L1-forced one, name
the state-tree leaves of accounts so storage can keep the tree layout, and restore from
storage with that layout.
Production wiring uses `heliostat.node.runtime_executor.RuntimeExecutor`; tests of the
executor interface may use `heliostat.testing.litesvm_executor`. See docs/node.md,
"Executor".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from solders.account import Account
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from heliostat.runtime.interface import (
    BlockContext,
    ExecutionOutcome,
    ForcedTransaction,
    TransactionError,
    TransactionErrorJson,
    TransactionExecutor,
)

__all__ = [
    "BlockContext",
    "ExecutionOutcome",
    "ForcedTransaction",
    "GroupItem",
    "SequencerExecutor",
    "StoredAccount",
    "TransactionError",
    "TransactionErrorJson",
    "TransactionExecutor",
]

# A queued transaction: parsed, its wire bytes, and whether only success may be kept.
GroupItem = tuple[VersionedTransaction, bytes, bool]
# An account as storage keeps it: key, latest state, and its state-tree leaf once placed.
StoredAccount = tuple[Pubkey, Account, int | None]


class SequencerExecutor(TransactionExecutor, Protocol):
    """A `TransactionExecutor` the sequencer can drive in groups and restore with its layout."""

    def execute_many(self, items: Sequence[GroupItem]) -> list[ExecutionOutcome]:
        """Execute items in order, exactly as consecutive `execute` calls would."""
        ...

    def execute_forced(self, forced: ForcedTransaction) -> ExecutionOutcome:
        """Run an L1-forced transaction as a batch's kernel run does; keep it if included.

        Its blockhash must be FORCED_BLOCKHASH; unparseable bytes are not included.
        """
        ...

    def leaf_indices(self, keys: Iterable[bytes]) -> list[tuple[bytes, int]]:
        """Return (key, leaf index) of every key with a state-tree leaf (after `state_root`).

        An executor whose root has no layout returns nothing.
        """
        ...

    def restore_state(self, stored: Iterable[StoredAccount]) -> None:
        """Load storage's accounts at start-up: placed ones at their leaves, then the rest."""
        ...
