"""The sequencer's stateful executor over the runtime, and a dictionary-backed state.

`PendingStateExecutor` implements `TransactionExecutor` (the node's protocol): it keeps the
pending state in memory, runs each transaction through `Runtime.execute` and keeps the
effects of included ones. `state_root` is the Poseidon2 state tree's root (docs/state.md),
brought up to date with the changes since the last call. The root depends on where accounts
sit in the tree: a node that restarts restores the layout (`tree_leaves` / `restore_layout`),
not just the accounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from heliostat.runtime import state_witness
from heliostat.runtime.genesis import SYSTEM_PROGRAM_ID
from heliostat.runtime.interface import BlockContext, ExecutionOutcome, ForcedTransaction
from heliostat.runtime.runtime import Runtime
from heliostat.runtime.state_tree import AccountValue, StateTree


class DictState:
    """Accounts in a dictionary; an `AccountSource`. Zero-lamport accounts do not exist."""

    def __init__(self, accounts: Mapping[Pubkey, Account] | Iterable[tuple[Pubkey, Account]] = ()):
        self.accounts: dict[Pubkey, Account] = dict(accounts)

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the account, or None when it does not exist."""
        account = self.accounts.get(pubkey)
        return account if account is not None and account.lamports else None

    def apply(self, changes: Iterable[tuple[Pubkey, Account]]) -> None:
        """Store post-states (dropping accounts left with no lamports)."""
        for key, account in changes:
            if account.lamports:
                self.accounts[key] = account
            else:
                self.accounts.pop(key, None)


class PendingStateExecutor:
    """`TransactionExecutor` for the sequencer: pending state in memory, effects kept."""

    def __init__(
        self, runtime: Runtime | None = None, genesis: Iterable[tuple[Pubkey, Account]] = ()
    ):
        self.runtime = runtime or Runtime()
        genesis = tuple(genesis)
        self.state = DictState(self.runtime.genesis_accounts())
        self.state.apply(genesis)
        self._genesis = genesis
        self.tree = StateTree.from_accounts(self.state.accounts)
        self._dirty: dict[bytes | Pubkey, AccountValue | None] = {}
        self._block = BlockContext(0, 0, frozenset([Hash.default()]))
        self._processed: set[Signature] = set()

    def begin_slot(self, context: BlockContext) -> None:
        """Open a slot: later transactions see this clock and these blockhashes."""
        self._block = context

    def _run(self, tx: VersionedTransaction, verify: bool) -> ExecutionOutcome:
        (outcome,) = self.runtime.execute(
            [bytes(tx)], self.state, self._block, verify_signatures=verify,
            processed=frozenset(self._processed),
        )  # fmt: skip
        return outcome

    def execute(self, tx: VersionedTransaction, *, require_success: bool) -> ExecutionOutcome:
        """Run ``tx`` against pending state; keep its effects if it is included.

        With ``require_success``, only a successful transaction is kept.
        """
        outcome = self._run(tx, True)
        if require_success and not outcome.succeeded:
            return _not_included(outcome)
        if outcome.included:
            self._apply(outcome.changed_accounts)
            self._processed.add(outcome.signature)
        return outcome

    def execute_forced(self, forced: ForcedTransaction) -> ExecutionOutcome:
        """Run an L1-forced transaction against pending state; keep its effects if included."""
        outcome = self.runtime.execute_forced(forced, self.state, self._block)
        if outcome.included:
            self._apply(outcome.changed_accounts)
            self._processed.add(outcome.signature)
        return outcome

    def _apply(self, changes: Iterable[tuple[Pubkey, Account]]) -> None:
        changes = tuple(changes)
        self.state.apply(changes)
        for key, account in changes:
            self._dirty[bytes(key)] = AccountValue.of(account) if account.lamports else None

    def simulate(self, tx: VersionedTransaction, *, verify_signatures: bool) -> ExecutionOutcome:
        """Run ``tx`` against pending state and discard its effects."""
        return self._run(tx, verify_signatures)

    def credit(self, pubkey: Pubkey, lamports: int) -> Account:
        """Apply an L1 deposit (the kernel does the same for batches)."""
        current = self.state.get_account(pubkey) or Account(0, b"", SYSTEM_PROGRAM_ID, False, 0)
        account = Account(
            current.lamports + lamports, current.data, current.owner, current.executable,
            current.rent_epoch,
        )  # fmt: skip
        self._apply([(pubkey, account)])
        return account

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the pending state of one account, None if it does not exist."""
        return self.state.get_account(pubkey)

    def restore(self, accounts: Iterable[tuple[Pubkey, Account]]) -> None:
        """Overwrite accounts with stored post-states."""
        self._apply(accounts)

    def state_root(self) -> bytes:
        """Return the state tree's root over the pending state (32 bytes)."""
        if self._dirty:
            state_witness.update(self.tree, self._dirty)
            self._dirty = {}
        return self.tree.root()

    def tree_leaves(self) -> list[tuple[int, bytes, AccountValue]]:
        """Return the tree's layout (leaf index, key, value), for storage across restarts."""
        self.state_root()
        return list(self.tree.leaves())

    def restore_layout(self, leaves: Iterable[tuple[int, bytes, AccountValue]]) -> None:
        """Rebuild the tree and the state from a stored layout."""
        self.tree = StateTree.from_leaves(leaves)
        self._dirty = {}
        self.state = DictState(
            (Pubkey(key), value.to_account()) for _, key, value in self.tree.leaves()
        )

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        """Lamports an account of ``data_len`` bytes needs to be rent-exempt."""
        return self.runtime.minimum_balance_for_rent_exemption(data_len)

    def genesis_accounts(self) -> Sequence[tuple[Pubkey, Account]]:
        """Return the accounts given at genesis beyond the builtins and sysvars."""
        return self._genesis


def _not_included(outcome: ExecutionOutcome) -> ExecutionOutcome:
    from dataclasses import replace

    return replace(outcome, included=False, fee=0, changed_accounts=())
