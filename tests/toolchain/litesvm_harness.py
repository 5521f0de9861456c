"""Runs a program on LiteSVM (one instruction in a fresh VM) and summarises what it reported."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_status import InstructionErrorCustom

PROGRAM_ID = Pubkey(bytes([7] * 32))
PAYER = Keypair.from_seed(bytes([1] * 32))  # signs every transaction; usable as a signer meta
BUDGET = 200_000
_CONSUMED = re.compile(r"^Program \S+ consumed (\d+) of (\d+) compute units$")


@dataclass(frozen=True)
class Outcome:
    """What LiteSVM reported for one single-instruction transaction."""

    error: str | None  # "Custom(42)", "ProgramFailedToComplete", ... or None on success
    logs: list[str]
    compute_units: int  # the transaction's compute_units_consumed()
    return_data: bytes
    accounts: dict[Pubkey, Account]

    def _consumed_line(self) -> int:
        lines = [i for i, line in enumerate(self.logs) if _CONSUMED.match(line)]
        assert len(lines) == 1, self.logs
        return lines[0]

    @property
    def program_logs(self) -> list[str]:
        """The lines the program itself wrote (between invoke and consumed)."""
        return self.logs[1 : self._consumed_line()]

    @property
    def consumed_logged(self) -> int:
        """The N of the "consumed N of M compute units" log line (what actually ran)."""
        match = _CONSUMED.match(self.logs[self._consumed_line()])
        assert match is not None
        return int(match.group(1))


def _error_name(err: object) -> str:
    inner = getattr(err, "err", None)  # TransactionErrorInstructionError(index, err)
    if inner is None:
        return f"transaction: {err}"  # a transaction-level error, e.g. rent
    if isinstance(inner, InstructionErrorCustom):
        return f"Custom({inner.code})"
    return str(inner).rsplit(".", 1)[-1]


RunProgram = Callable[..., Outcome]


def run_on_litesvm(
    elf: bytes,
    data: bytes = b"",
    metas: Sequence[AccountMeta] = (),
    accounts: Mapping[Pubkey, Account] | None = None,
) -> Outcome:
    """Deploy ``elf`` at PROGRAM_ID in a fresh LiteSVM and send one instruction to it."""
    svm = LiteSVM()
    svm.add_program(PROGRAM_ID, elf)
    payer = PAYER
    svm.airdrop(payer.pubkey(), 10**10)
    for key, account in (accounts or {}).items():
        svm.set_account(key, account)
    instruction = Instruction(PROGRAM_ID, data, list(metas))
    message = Message([instruction], payer.pubkey())
    result = svm.send_transaction(Transaction([payer], message, svm.latest_blockhash()))
    after = {m.pubkey: svm.get_account(m.pubkey) for m in metas}
    if hasattr(result, "err"):
        meta = result.meta()
        return Outcome(
            _error_name(result.err()),
            list(meta.logs()),
            meta.compute_units_consumed(),
            bytes(meta.return_data().data),
            {k: v for k, v in after.items() if v is not None},
        )
    return Outcome(
        None,
        list(result.logs()),
        result.compute_units_consumed(),
        bytes(result.return_data().data),
        {k: v for k, v in after.items() if v is not None},
    )
