"""Run the same transactions through LiteSVM (the oracle) and Heliostat's runtime, compare.

A scenario builds its pre-state inside a fresh LiteSVM and returns the transactions to send.
Heliostat runs them first, in one kernel run, reading that same pre-state from the LiteSVM
(so both start from identical accounts and sysvars); then LiteSVM sends them one by one.
Compared per transaction: the error (JSON shape), whether it was included, logs, compute
units, fee and return data; and at the end the state of every account the transactions name.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from solders.account import Account
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_status import (
    InstructionErrorCustom,
    TransactionErrorDuplicateInstruction,
    TransactionErrorInstructionError,
    TransactionErrorInsufficientFundsForRent,
)

from heliostat.runtime.interface import BlockContext, ExecutionOutcome
from heliostat.runtime.programs import programdata_address
from heliostat.runtime.runtime import Runtime, RuntimeConfig
from heliostat.svm.syscalls.sysvars import CACHED_SYSVARS, CLOCK

AnyTransaction = Transaction | VersionedTransaction


@dataclass(frozen=True)
class TxScenario:
    """One row of the table: build state and transactions; what LiteSVM must report.

    ``expect`` holds one entry per transaction: "ok", a TransactionError variant name
    ("BlockhashNotFound"), or "Variant(detail)" as `outcome_name` spells it. It pins the
    scenario to the path it is meant to exercise.
    """

    name: str
    build: Callable[[LiteSVM], Sequence[AnyTransaction]]
    expect: tuple[str, ...]
    tags: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class TxOutcome:
    """What both sides must agree on for one transaction."""

    error: object
    included: bool
    logs: tuple[str, ...]
    compute_units: int
    fee: int
    return_data: tuple[str, bytes]


class LiteSvmState:
    """The LiteSVM's accounts as an `AccountSource` (read before LiteSVM runs anything)."""

    def __init__(self, svm: LiteSVM) -> None:
        self.svm = svm

    def get_account(self, pubkey: Pubkey) -> Account | None:
        return self.svm.get_account(pubkey)


def litesvm_error(err: object) -> object:
    """A solders TransactionError in the JSON-RPC shape."""
    if err is None:
        return None
    if isinstance(err, TransactionErrorInstructionError):
        inner = err.err
        detail: object = (
            {"Custom": inner.code}
            if isinstance(inner, InstructionErrorCustom)
            else str(inner).rsplit(".", 1)[-1]
        )
        return {"InstructionError": [err.index, detail]}
    if isinstance(err, TransactionErrorDuplicateInstruction):
        return {"DuplicateInstruction": err.index}
    if isinstance(err, TransactionErrorInsufficientFundsForRent):
        return {"InsufficientFundsForRent": {"account_index": err.account_index}}
    return str(err).rsplit(".", 1)[-1]


def outcome_name(error: object) -> str:
    """Compact name of an error JSON: "ok", "BlockhashNotFound", "Custom(1)@0", ..."""
    if error is None:
        return "ok"
    if isinstance(error, str):
        return error
    assert isinstance(error, dict)
    ((variant, detail),) = error.items()
    if variant == "InstructionError":
        index, inner = detail
        name = f"Custom({inner['Custom']})" if isinstance(inner, dict) else inner
        return f"{name}@{index}"
    return f"{variant}({detail})"


@functools.cache
def runtime_for(clock: bytes, sysvars: tuple[tuple[Pubkey, bytes], ...]) -> Runtime:
    return Runtime(RuntimeConfig(sysvars=dict(sysvars), clock=clock))


def _keys(txs: Sequence[AnyTransaction], svm: LiteSVM) -> list[Pubkey]:
    keys: dict[Pubkey, None] = {}
    for tx in txs:
        keys.update(dict.fromkeys(tx.message.account_keys))
    for key in list(keys):
        account = svm.get_account(key)
        if account is not None and (programdata := programdata_address(account)) is not None:
            keys[programdata] = None
    return list(keys)


def view(account: Account | None) -> tuple[int, bytes, str, bool, int] | None:
    """An account as compared (zero lamports = does not exist, as at commit)."""
    if account is None or account.lamports == 0:
        return None
    return (account.lamports, bytes(account.data), str(account.owner), account.executable,
            account.rent_epoch)  # fmt: skip


@dataclass
class Comparison:
    """Both sides' outcomes and final states."""

    ours: list[TxOutcome]
    theirs: list[TxOutcome]
    our_state: dict[str, object]
    their_state: dict[str, object]
    heliostat: list[ExecutionOutcome]


def run_both(scenario: TxScenario) -> Comparison:
    """Run a scenario through Heliostat, then LiteSVM."""
    svm = LiteSVM()
    txs = list(scenario.build(svm))
    clock = bytes(svm.get_account(CLOCK).data)
    sysvars = tuple(
        (key, bytes(a.data)) for key in sorted(CACHED_SYSVARS, key=bytes)
        if key != CLOCK and (a := svm.get_account(key)) is not None
    )  # fmt: skip
    runtime = runtime_for(clock, sysvars)
    block = BlockContext(0, 0, frozenset([svm.latest_blockhash()]))
    keys = _keys(txs, svm)
    pre = {key: svm.get_account(key) for key in keys}
    heliostat = runtime.execute([bytes(tx) for tx in txs], LiteSvmState(svm), block)
    ours = [
        TxOutcome(
            o.err, o.included, o.logs, o.compute_units, o.fee,
            (str(o.return_data[0]), o.return_data[1]) if o.return_data else ("", b""),
        )
        for o in heliostat
    ]  # fmt: skip
    state = dict(pre)
    for outcome in heliostat:
        state.update(dict(outcome.changed_accounts))
    theirs = []
    for tx in txs:
        payer = tx.message.account_keys[0]
        before = svm.get_balance(payer) or 0
        result = svm.send_transaction(tx)
        meta = result.meta() if hasattr(result, "err") else result
        error = litesvm_error(result.err() if hasattr(result, "err") else None)
        returned = meta.return_data()
        data = bytes(returned.data)
        theirs.append(
            TxOutcome(
                error,
                (svm.get_balance(payer) or 0) != before or error is None,
                tuple(meta.logs()),
                meta.compute_units_consumed(),
                meta.fee(),
                (str(returned.program_id), data) if data else ("", b""),
            )
        )
    return Comparison(
        ours,
        theirs,
        {str(k): view(state[k]) for k in keys},
        {str(k): view(svm.get_account(k)) for k in keys},
        heliostat,
    )
