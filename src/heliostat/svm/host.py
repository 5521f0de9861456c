"""The host interface: what a running program asks of the transaction around it.

Syscalls that need more than the VM's own memory and meter go through an `InvocationHost`:
the transaction log, sysvars, return data, the instruction stack and trace, and
cross-program invocation. The runtime implements it for real transactions (issue 3);
`heliostat.testing.host.TestHost` implements it for one instruction at a time.

Spec (agave's `InvokeContext` and `TransactionContext`, reduced to what syscalls use):
- ``logs`` is the transaction's `LogCollector`; every log line of the instruction goes there.
- ``program_id`` is the program of the running instruction (the owner of return data).
- ``sysvar(sysvar_id)`` returns the sysvar's account data (its bincode serialization, as the
  sysvar cache holds it) or None when the cache does not have it.
- ``return_data()`` / ``set_return_data(program_id, data)``: the transaction-wide return data
  slot; an instruction starts by clearing it (the executor does that, not the program).
- ``stack_height()`` is 1 for a top-level instruction, +1 per nested invocation.
- ``processed_sibling_instruction(index)`` is the `index`-th most recent instruction that
  finished at the current stack height (0 = the latest), or None.
- ``epoch_stake(vote_account)``: active stake of a vote account (None: the total).
- ``invoke_signed(ctx, request)`` performs a cross-program invocation from inside a syscall:
  it charges agave's invoke cost, reads the instruction, account infos and seeds from VM
  memory through ``ctx`` in the request's ABI ("c" or "rust"), runs the callee and returns
  r0, or raises a syscall error. A host without CPI raises `UnsupportedSyscallError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from solders.instruction import AccountMeta
from solders.pubkey import Pubkey

from heliostat.svm.log_collector import LogCollector
from heliostat.svm.syscall_api import SyscallContext


@dataclass(frozen=True)
class SiblingInstruction:
    """An instruction that already ran at the caller's stack height."""

    program_id: Pubkey
    data: bytes
    accounts: tuple[AccountMeta, ...]


@dataclass(frozen=True)
class CpiRequest:
    """The raw arguments of `sol_invoke_signed_c` / `sol_invoke_signed_rust`."""

    abi: Literal["c", "rust"]
    instruction_address: int
    account_infos_address: int
    account_infos_length: int
    signers_seeds_address: int
    signers_seeds_length: int


class InvocationHost(Protocol):
    """What the syscalls of one running instruction need from the transaction around it."""

    @property
    def logs(self) -> LogCollector:
        """The transaction's log collector."""
        ...

    @property
    def program_id(self) -> Pubkey:
        """The program of the running instruction."""
        ...

    def sysvar(self, sysvar_id: Pubkey) -> bytes | None:
        """Return a sysvar's account data, or None when the cache does not hold it."""
        ...

    def return_data(self) -> tuple[Pubkey, bytes]:
        """Return the program that last set return data, and the data."""
        ...

    def set_return_data(self, program_id: Pubkey, data: bytes) -> None:
        """Replace the transaction's return data."""
        ...

    def stack_height(self) -> int:
        """Return the height of the instruction stack: 1 for a top-level instruction."""
        ...

    def processed_sibling_instruction(self, index: int) -> SiblingInstruction | None:
        """Return the `index`-th most recent completed instruction at the current height."""
        ...

    def epoch_stake(self, vote_account: Pubkey | None) -> int:
        """Return the active stake of `vote_account` this epoch, or the total when None."""
        ...

    def invoke_signed(self, ctx: SyscallContext, request: CpiRequest) -> int:
        """Run a cross-program invocation for the program behind `ctx`."""
        ...
