"""The node's executor: heliostat.runtime's `PendingStateExecutor`, driven a group at a time.

The runtime runs many transactions in one kernel run far cheaper than one per run, so the
sequencer hands over everything queued at once (`execute_many`). The result is exactly that
of consecutive `execute` calls: a transaction that must succeed (preflight) but fails while
paying its fee is dropped, and the rest of the group runs again from the state before it.
Duplicate signatures across kernel runs are the node's status cache's job (docs/runtime.md);
within a group the signatures included so far are passed to the kernel.

The state root is the runtime's Poseidon2 state tree. Its root depends on where each account
sits, so storage keeps every account's leaf index (`leaf_indices`) and `restore_state`
rebuilds the tree from that layout, leaving only accounts placed after the last sealed batch
to be placed again, in the same (key) order the live node would have used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from solders.account import Account
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from heliostat.node.errors import StorageError
from heliostat.node.execution import (
    BlockContext,
    ExecutionOutcome,
    ForcedTransaction,
    GroupItem,
    StoredAccount,
)
from heliostat.runtime.executor import PendingStateExecutor
from heliostat.runtime.interface import AccountSource
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.state_tree import DEFAULT_ACCOUNT, AccountValue


class LayoutError(StorageError):
    """Storage names a leaf for an account that another account already holds."""

    reason = "tree_layout_conflict"

    def __init__(self, key: bytes, leaf: int) -> None:
        super().__init__(f"account {Pubkey(key)} is stored at leaf {leaf}, which is taken")
        self.key = key
        self.leaf = leaf


class RuntimeExecutor:
    """`SequencerExecutor` over the rollup runtime (see the module docstring)."""

    def __init__(
        self, genesis: Iterable[tuple[Pubkey, Account]] = (), runtime: Runtime | None = None
    ) -> None:
        self.pending = PendingStateExecutor(runtime or Runtime(), tuple(genesis))
        self.runtime = self.pending.runtime
        self._context = BlockContext(0, 0, frozenset())

    # -- TransactionExecutor ------------------------------------------------------------

    def begin_slot(self, context: BlockContext) -> None:
        """Open a slot: later transactions see this clock and these blockhashes."""
        self._context = context
        self.pending.begin_slot(context)

    def execute(self, tx: VersionedTransaction, *, require_success: bool) -> ExecutionOutcome:
        """Run one transaction against pending state; keep its effects if it is included."""
        return self.execute_many([(tx, bytes(tx), require_success)])[0]

    def execute_many(self, items: Sequence[GroupItem]) -> list[ExecutionOutcome]:
        """Run queued transactions in as few kernel runs as their results allow.

        All or nothing: if the runtime raises, no effect of the group is kept.
        """
        outcomes: list[ExecutionOutcome] = []
        written = _Overlay(self.pending.state)
        included: set[Signature] = set()
        start = 0
        while start < len(items):
            chunk = items[start:]
            results = self.runtime.execute(
                [wire for _, wire, _ in chunk],
                written,
                self._context,
                verify_signatures=True,
                processed=frozenset(included),
            )
            for (_, _, require_success), outcome in zip(chunk, results, strict=True):
                start += 1
                if require_success and outcome.included and not outcome.succeeded:
                    # Later transactions saw this one's fee being charged: run them again.
                    outcomes.append(_not_included(outcome))
                    break
                if outcome.included:
                    written.apply(outcome.changed_accounts)
                    included.add(outcome.signature)
                outcomes.append(outcome)
        self.pending.restore(written.changes.items())
        return outcomes

    def execute_forced(self, forced: ForcedTransaction) -> ExecutionOutcome:
        """Run an L1-forced transaction against pending state (see `SequencerExecutor`)."""
        return self.pending.execute_forced(forced)

    def simulate(self, tx: VersionedTransaction, *, verify_signatures: bool) -> ExecutionOutcome:
        """Run ``tx`` against pending state and discard its effects."""
        return self.pending.simulate(tx, verify_signatures=verify_signatures)

    def credit(self, pubkey: Pubkey, lamports: int) -> Account:
        """Apply an L1 deposit."""
        return self.pending.credit(pubkey, lamports)

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the pending state of one account, None if it does not exist."""
        return self.pending.get_account(pubkey)

    def restore(self, accounts: Iterable[tuple[Pubkey, Account]]) -> None:
        """Overwrite accounts with stored post-states (placed at the next `state_root`)."""
        self.pending.restore(accounts)

    def state_root(self) -> bytes:
        """Return the Poseidon2 state tree's root over the pending state (32 bytes)."""
        return self.pending.state_root()

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        """Lamports an account of ``data_len`` bytes needs to be rent-exempt."""
        return self.pending.minimum_balance_for_rent_exemption(data_len)

    def genesis_accounts(self) -> Sequence[tuple[Pubkey, Account]]:
        """Return the operator's genesis accounts (the runtime adds its programs, sysvars)."""
        return self.pending.genesis_accounts()

    # -- the tree layout ----------------------------------------------------------------

    def leaf_indices(self, keys: Iterable[bytes]) -> list[tuple[bytes, int]]:
        """(key, leaf index) of every given key that has a leaf in the state tree."""
        tree = self.pending.tree
        found = []
        for key in keys:
            record = tree.record(key)
            if record is not None:
                found.append((key, record.index))
        return found

    def restore_state(self, stored: Iterable[StoredAccount]) -> None:
        """Rebuild the tree from the genesis layout and the stored leaves, then the rest."""
        layout = {key: (index, value) for index, key, value in self.pending.tree_leaves()}
        placed_indices = {index for index, _ in layout.values()}
        unplaced: list[tuple[Pubkey, Account]] = []
        for pubkey, account, leaf in stored:
            key = bytes(pubkey)
            value = AccountValue.of(account) if account.lamports else DEFAULT_ACCOUNT
            if key in layout:  # a genesis account: its leaf is the genesis one
                layout[key] = (layout[key][0], value)
            elif leaf is not None:
                if leaf in placed_indices:
                    raise LayoutError(key, leaf)
                layout[key] = (leaf, value)
                placed_indices.add(leaf)
            else:
                unplaced.append((pubkey, account))
        self.pending.restore_layout((index, key, value) for key, (index, value) in layout.items())
        self.pending.restore(unplaced)


class _Overlay:
    """Pending state with a group's writes on top (an `AccountSource`)."""

    def __init__(self, base: AccountSource) -> None:
        self.base = base
        self.changes: dict[Pubkey, Account] = {}

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the group's latest write of the account, else the pending state's."""
        account = self.changes.get(pubkey)
        if account is None:
            return self.base.get_account(pubkey)
        return account if account.lamports else None

    def apply(self, changes: Iterable[tuple[Pubkey, Account]]) -> None:
        """Record post-states (the last write of a key wins)."""
        self.changes.update(changes)


def _not_included(outcome: ExecutionOutcome) -> ExecutionOutcome:
    return replace(outcome, included=False, fee=0, changed_accounts=())
