"""A `SequencerExecutor` double backed by LiteSVM, for tests of the executor interface.

LiteSVM is the project's oracle; here it stands in for the runtime in tests that are about the
interface itself (and, with `heliostat node --executor litesvm-double`, in development). It is
never the executor `heliostat node` runs by default.
The node owns blockhashes (its own recent blocks) and duplicate detection, so LiteSVM's
blockhash check and transaction history are off; the blockhash check is redone here against
the slot's `BlockContext`. The state root is a SHA-256 over every non-builtin account, sorted
by key: a stand-in for the runtime's Poseidon2 account tree.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from solders.account import Account
from solders.clock import Clock
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.rpc.responses import RpcSimulateTransactionResult
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import (
    FailedTransactionMetadata,
    SimulatedTransactionInfo,
    TransactionMetadata,
)

from heliostat.node.execution import (
    BlockContext,
    ExecutionOutcome,
    GroupItem,
    StoredAccount,
    TransactionError,
    TransactionErrorJson,
)
from heliostat.node.transactions import writable_keys
from heliostat.runtime.interface import FORCED_BLOCKHASH, ForcedTransaction
from heliostat.runtime.runtime import first_signature
from heliostat.svm.instruction_error import InstructionError, InstructionErrorKind

_SYSTEM_PROGRAM = Pubkey.from_string("11111111111111111111111111111111")
_EMPTY = Account(lamports=0, data=b"", owner=_SYSTEM_PROGRAM, executable=False, rent_epoch=0)


def error_json(err: Any) -> TransactionErrorJson:
    """Solana's RPC JSON for a solders `TransactionErrorType` (as agave serialises it)."""
    wrapped = RpcSimulateTransactionResult(
        err=err, logs=None, accounts=None, units_consumed=None, return_data=None
    )
    value: TransactionErrorJson = json.loads(wrapped.to_json())["err"]
    return value


_INSTRUCTION_KINDS = {kind.rust_name: kind for kind in InstructionErrorKind}


def transaction_error(value: TransactionErrorJson) -> TransactionError:
    """Return the runtime's typed `TransactionError` from its RPC JSON shape."""
    if isinstance(value, str):
        return TransactionError(value)
    ((kind, detail),) = value.items()
    if kind == "InstructionError":
        index, inner = detail
        if isinstance(inner, dict):
            error = InstructionError.custom(int(inner["Custom"]))
        else:
            error = InstructionError(_INSTRUCTION_KINDS[inner])
        return TransactionError.instruction(int(index), error)
    if isinstance(detail, dict):
        return TransactionError(kind, int(detail["account_index"]))
    return TransactionError(kind, int(detail))


def account_digest(pubkey: Pubkey, account: Account) -> bytes:
    """SHA-256 of an account's key and fields, the leaf of the double's state root."""
    header = struct.pack(
        "<Q32s?Q", account.lamports, bytes(account.owner), account.executable, account.rent_epoch
    )
    return hashlib.sha256(bytes(pubkey) + header + bytes(account.data)).digest()


class LiteSvmExecutor:
    """Executes transactions with LiteSVM and tracks written accounts for the state root."""

    def __init__(self, genesis: Sequence[tuple[Pubkey, Account]] = ()) -> None:
        self._svm = LiteSVM().with_blockhash_check(False).with_transaction_history(0)
        self._genesis = tuple(genesis)
        self._accounts: dict[Pubkey, Account] = {}
        self._context = BlockContext(slot=0, unix_timestamp=0, recent_blockhashes=frozenset())
        for pubkey, account in self._genesis:
            self._set(pubkey, account)

    def _set(self, pubkey: Pubkey, account: Account) -> None:
        self._svm.set_account(pubkey, account)
        self._accounts[pubkey] = account

    def begin_slot(self, context: BlockContext) -> None:
        """Open a slot: set LiteSVM's clock and remember the valid blockhashes."""
        self._context = context
        self._svm.set_clock(
            Clock(
                slot=context.slot,
                epoch_start_timestamp=0,
                epoch=0,
                leader_schedule_epoch=0,
                unix_timestamp=context.unix_timestamp,
            )
        )

    def _refused(self, tx: VersionedTransaction, err: str) -> ExecutionOutcome:
        return ExecutionOutcome(tx.signatures[0], False, TransactionError(err), (), 0, 0, None, ())

    def _outcome(
        self,
        tx: VersionedTransaction,
        result: TransactionMetadata | FailedTransactionMetadata | SimulatedTransactionInfo,
        included: bool,
        changed: tuple[tuple[Pubkey, Account], ...],
    ) -> ExecutionOutcome:
        if isinstance(result, FailedTransactionMetadata):
            meta = result.meta()
            err: TransactionError | None = transaction_error(error_json(result.err()))
        else:
            meta = result.meta() if isinstance(result, SimulatedTransactionInfo) else result
            err = None
        ret = meta.return_data()
        return_data = None
        if ret is not None and bytes(ret.data):
            return_data = (ret.program_id, bytes(ret.data))
        return ExecutionOutcome(
            signature=tx.signatures[0],
            included=included,
            error=err,
            logs=tuple(meta.logs()),
            compute_units=meta.compute_units_consumed(),
            fee=meta.fee() if included else 0,
            return_data=return_data,
            changed_accounts=changed,
        )

    @staticmethod
    def _writable(tx: VersionedTransaction) -> list[Pubkey]:
        return writable_keys(tx.message)

    def execute(self, tx: VersionedTransaction, *, require_success: bool) -> ExecutionOutcome:
        """Run `tx`; keep its effects if included (and, with `require_success`, if it succeeds)."""
        if tx.message.recent_blockhash not in self._context.recent_blockhashes:
            return self._refused(tx, "BlockhashNotFound")
        return self._execute(tx, require_success)

    def execute_forced(self, forced: ForcedTransaction) -> ExecutionOutcome:
        """Run an L1-forced transaction: FORCED_BLOCKHASH instead of a recent one."""
        try:
            tx = VersionedTransaction.from_bytes(forced.transaction)
        except ValueError:
            signature = first_signature(forced.transaction)
            error = TransactionError("SanitizeFailure")
            return ExecutionOutcome(signature, False, error, (), 0, 0, None, ())
        if tx.message.recent_blockhash != FORCED_BLOCKHASH:
            return self._refused(tx, "BlockhashNotFound")
        return self._execute(tx, False)

    def _execute(self, tx: VersionedTransaction, require_success: bool) -> ExecutionOutcome:
        writable = self._writable(tx)
        if require_success:
            # One execution: simulate, and on success write the post-states back.
            simulated = self._svm.simulate_transaction(tx)
            if isinstance(simulated, FailedTransactionMetadata):
                return self._outcome(tx, simulated, False, ())
            wanted = set(writable)
            changed = tuple((k, a) for k, a in simulated.post_accounts() if k in wanted)
            for pubkey, account in changed:
                self._set(pubkey, account)
            return self._outcome(tx, simulated, True, changed)
        payer = writable[0]
        before = self._svm.get_account(payer)
        result = self._svm.send_transaction(tx)
        after = self._svm.get_account(payer)
        included = isinstance(result, TransactionMetadata) or (
            before is not None and (after is None or after.lamports < before.lamports)
        )
        if not included:
            return self._outcome(tx, result, False, ())
        changed_list = []
        for pubkey in writable:
            account = self._svm.get_account(pubkey) or _EMPTY
            if self._accounts.get(pubkey) != account:
                changed_list.append((pubkey, account))
                self._accounts[pubkey] = account
        return self._outcome(tx, result, True, tuple(changed_list))

    def execute_many(self, items: Sequence[GroupItem]) -> list[ExecutionOutcome]:
        """Run queued transactions one after another."""
        return [self.execute(tx, require_success=required) for tx, _, required in items]

    def simulate(self, tx: VersionedTransaction, *, verify_signatures: bool) -> ExecutionOutcome:
        """Run `tx` against pending state and discard its effects."""
        if tx.message.recent_blockhash not in self._context.recent_blockhashes:
            return self._refused(tx, "BlockhashNotFound")
        self._svm.with_sigverify(verify_signatures)
        try:
            simulated = self._svm.simulate_transaction(tx)
        finally:
            self._svm.with_sigverify(True)
        if isinstance(simulated, FailedTransactionMetadata):
            return self._outcome(tx, simulated, False, ())
        wanted = set(self._writable(tx))
        changed = tuple((k, a) for k, a in simulated.post_accounts() if k in wanted)
        return self._outcome(tx, simulated, False, changed)

    def credit(self, pubkey: Pubkey, lamports: int) -> Account:
        """Add lamports to an account, creating a system account if absent."""
        current = self._svm.get_account(pubkey) or _EMPTY
        account = Account(
            lamports=current.lamports + lamports,
            data=bytes(current.data),
            owner=current.owner,
            executable=current.executable,
            rent_epoch=current.rent_epoch,
        )
        self._set(pubkey, account)
        return account

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the pending state of one account, None if absent or emptied."""
        account = self._svm.get_account(pubkey)
        if account is None or (account.lamports == 0 and not account.executable):
            return None
        return account

    def restore(self, accounts: Iterable[tuple[Pubkey, Account]]) -> None:
        """Overwrite accounts with stored post-states."""
        for pubkey, account in accounts:
            self._set(pubkey, account)

    def leaf_indices(self, keys: Iterable[bytes]) -> list[tuple[bytes, int]]:
        """Return nothing: the double's root has no tree layout to store."""
        return []

    def restore_state(self, stored: Iterable[StoredAccount]) -> None:
        """Load every stored account (the root does not depend on any layout)."""
        self.restore((pubkey, account) for pubkey, account, _ in stored)

    def state_root(self) -> bytes:
        """SHA-256 over the digests of every tracked non-empty account, sorted by key."""
        digest = hashlib.sha256(b"heliostat:litesvm-double-root:v1")
        for pubkey in sorted(self._accounts, key=bytes):
            account = self._accounts[pubkey]
            if account.lamports or account.data or account.executable:
                digest.update(account_digest(pubkey, account))
        return digest.digest()

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        """LiteSVM's rent-exempt minimum for `data_len` bytes."""
        return int(self._svm.minimum_balance_for_rent_exemption(data_len))

    def genesis_accounts(self) -> Sequence[tuple[Pubkey, Account]]:
        """Return the accounts given at construction."""
        return self._genesis
