"""The runtime's interfaces: what the node and the prover call, and the values they exchange.

The runtime is Heliostat's state transition function (C compiled to sBPF, run by the kernel
switch; see docs/runtime.md). Three faces, narrowest first:

- `TransactionRuntime`: execute transactions against state the caller owns (pure: state in,
  outcomes and post-states out). `heliostat.runtime.Runtime` implements it.
- `TransactionExecutor`: the sequencer's stateful view (pending state inside, one transaction
  at a time, slots opened by `begin_slot`). `heliostat.runtime.PendingStateExecutor`
  implements it over a `TransactionRuntime`; the node drives only this protocol.
- `BatchRuntime`: execute (natively) and prove a batch — the proving unit: old root, L1
  priority operations, blocks of L2 transactions; public output for L1.

All values are immutable; solders types (Pubkey, Hash, Account, Signature,
VersionedTransaction) are used at this boundary because every Solana client speaks them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from solders.account import Account
from solders.hash import Hash
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from heliostat.runtime.transaction_error import TransactionError, TransactionErrorJson

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


# ---------------------------------------------------------------------------------------------
# Transactions


@dataclass(frozen=True, slots=True)
class BlockContext:
    """What a transaction may see of the chain: the open slot, its clock, valid blockhashes.

    ``recent_blockhashes`` is the set a transaction's `recent_blockhash` must belong to (the
    rollup's own recent blocks; Solana keeps 150). ``unix_timestamp`` feeds the Clock sysvar.
    """

    slot: int
    unix_timestamp: int
    recent_blockhashes: frozenset[Hash]


@dataclass(frozen=True, slots=True)
class ExecutionOutcome:
    """The result of one transaction.

    ``included`` is true when the transaction changed state: it succeeded, or it failed after
    its fee was charged (an instruction error, or a rent-state violation). A transaction
    refused before execution (sanitize failure, bad signature, unknown blockhash, duplicate,
    fee payer missing or unable to pay) is not included, changes nothing and has fee 0.
    ``changed_accounts`` holds the post-state of every account the transaction wrote, in
    first-write order (a closed account appears with zero lamports and no data; a failed
    included transaction changes only its fee payer). ``compute_units`` is what agave reports
    (`compute_units_consumed`); ``return_data`` is (program, data) or None when empty.
    """

    signature: Signature
    included: bool
    error: TransactionError | None
    logs: tuple[str, ...]
    compute_units: int
    fee: int
    return_data: tuple[Pubkey, bytes] | None
    changed_accounts: tuple[tuple[Pubkey, Account], ...]

    @property
    def succeeded(self) -> bool:
        """True when the transaction ran to completion without error."""
        return self.error is None

    @property
    def err(self) -> TransactionErrorJson | None:
        """The error in the JSON-RPC shape ("BlockhashNotFound", {"InstructionError": ...})."""
        return None if self.error is None else self.error.to_json()


class AccountSource(Protocol):
    """Read access to the state a transaction runs against (the sequencer's pending state)."""

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the account, or None when it does not exist (or holds no lamports)."""
        ...


class TransactionRuntime(Protocol):
    """Pure transaction execution: state is read through `AccountSource`, never written.

    Deterministic: the same state, context and transactions give the same outcomes.
    Duplicate signatures are refused (`AlreadyProcessed`) within one call and against
    ``processed``; the caller keeps the signature history beyond that (Solana's status cache).
    """

    def execute(
        self,
        transactions: Sequence[VersionedTransaction | bytes],
        state: AccountSource,
        block: BlockContext,
        *,
        verify_signatures: bool = True,
        processed: frozenset[Signature] = frozenset(),
    ) -> list[ExecutionOutcome]:
        """Run transactions in order, each seeing the effects of the included ones before it.

        ``transactions`` are parsed objects or raw wire bytes (legacy or v0; a malformed one
        fails with `SanitizeFailure`). ``verify_signatures=False`` is simulation's
        `sigVerify: false`.
        """
        ...

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        """Lamports an account of ``data_len`` bytes needs to be rent-exempt."""
        ...

    def genesis_accounts(self) -> Sequence[tuple[Pubkey, Account]]:
        """Accounts present at genesis: SPL Token, ATA, Memo, the bridge, the sysvars."""
        ...


class TransactionExecutor(Protocol):
    """The state transition the sequencer drives, one transaction at a time (stateful).

    Calls are synchronous and deterministic: the same genesis, the same `begin_slot` contexts
    and the same transactions in the same order give the same outcomes and the same root.
    """

    def begin_slot(self, context: BlockContext) -> None:
        """Open a slot: later transactions see this clock and these blockhashes."""
        ...

    def execute(self, tx: VersionedTransaction, *, require_success: bool) -> ExecutionOutcome:
        """Run ``tx`` against pending state and keep its effects if it is included.

        With ``require_success`` (preflight), a transaction that would fail changes nothing
        and comes back with ``included`` false and its error, logs and compute units.
        """
        ...

    def simulate(self, tx: VersionedTransaction, *, verify_signatures: bool) -> ExecutionOutcome:
        """Run ``tx`` against pending state and discard its effects."""
        ...

    def credit(self, pubkey: Pubkey, lamports: int) -> Account:
        """Apply an L1 deposit: add lamports to an account (a system account if absent)."""
        ...

    def get_account(self, pubkey: Pubkey) -> Account | None:
        """Return the pending state of one account, None if it does not exist."""
        ...

    def restore(self, accounts: Iterable[tuple[Pubkey, Account]]) -> None:
        """Overwrite accounts with stored post-states (restart from the node's database)."""
        ...

    def state_root(self) -> bytes:
        """Return a 32-byte commitment to the whole pending state."""
        ...

    def minimum_balance_for_rent_exemption(self, data_len: int) -> int:
        """Lamports an account of ``data_len`` bytes needs to be rent-exempt."""
        ...

    def genesis_accounts(self) -> Sequence[tuple[Pubkey, Account]]:
        """Return the accounts present at genesis beyond the built-in programs and sysvars."""
        ...


# ---------------------------------------------------------------------------------------------
# Batches


@dataclass(frozen=True, slots=True)
class Deposit:
    """An L1 deposit: ``lamports`` (1 lamport = 1 gwei) credited to ``recipient``."""

    l1_index: int  # position in the L1 priority queue
    recipient: Pubkey
    lamports: int


# The recent blockhash a forced transaction must carry: no block has it, so an L2
# transaction cannot be replayed through L1 and a forced one cannot run as an L2 transaction
# (L1 queues each forced signature once). c/runtime/transaction.c holds the same bytes.
FORCED_BLOCKHASH = Hash(hashlib.sha256(b"heliostat/forced-transaction").digest())


@dataclass(frozen=True, slots=True)
class ForcedTransaction:
    """An L2 transaction queued on L1 (forced inclusion); runs before the L2 transactions.

    Its recent blockhash must be `FORCED_BLOCKHASH` (else `BlockhashNotFound`, no fee).
    """

    l1_index: int
    transaction: bytes  # wire bytes, exactly as queued


PriorityOperation = Deposit | ForcedTransaction


@dataclass(frozen=True, slots=True)
class Block:
    """One sequencer block of a batch: its context and its ordered L2 transactions."""

    context: BlockContext
    transactions: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class BatchInput:
    """Everything a batch means: old root, number, priority operations, blocks of transactions.

    Priority operations run first, in L1 order, in the first block's context.
    """

    batch_number: int
    old_root: bytes
    priority_operations: tuple[PriorityOperation, ...]
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """Lamports burned on L2 by the bridge program, to be released on L1 to ``recipient``."""

    sender: Pubkey
    recipient: bytes  # 20-byte Ethereum address
    lamports: int


@dataclass(frozen=True, slots=True)
class BatchPublicOutput:
    """What a batch proves to L1 (layout and encoding: docs/runtime.md).

    ``state_diff`` lists every changed account's final state (key order), enough to rebuild
    state from L1 data alone; ``state_diff_hash`` commits to its encoding;
    ``priority_hash`` is the rolling hash of the priority operations consumed.
    """

    batch_number: int
    old_root: bytes
    new_root: bytes
    state_diff_hash: bytes
    priority_hash: bytes
    priority_count: int
    withdrawals: tuple[Withdrawal, ...]
    state_diff: tuple[tuple[Pubkey, Account], ...] = field(repr=False)
    encoded: bytes = field(repr=False)  # the exact bytes the kernel published
    # the state-tree leaf of each diff entry (2^64-1 when the batch ran without the tree);
    # an ELF account's data is never in the diff (it cannot change here): b"" stands in
    state_diff_leaves: tuple[int, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A batch executed natively: its public output and one outcome per transaction.

    ``outcomes`` lists forced transactions first (L1 order), then each block's transactions.
    """

    public_output: BatchPublicOutput
    outcomes: tuple[ExecutionOutcome, ...]


@dataclass(frozen=True, slots=True)
class BatchProof:
    """A proof that the kernel run over a batch published ``public_output``."""

    public_output: BatchPublicOutput
    proof: bytes


class BatchRuntime(Protocol):
    """Execute and prove batches. Proving re-executes the same kernel bytes with a trace."""

    def execute_batch(self, batch: BatchInput, state: AccountSource) -> BatchResult:
        """Run a batch natively over ``state`` (the accounts as of ``batch.old_root``)."""
        ...

    def prove_batch(self, batch: BatchInput, state: AccountSource) -> BatchProof:
        """Run a batch in proving mode and prove it (raises until the zkVM is wired in)."""
        ...
