"""`TestHost`: the `InvocationHost` for running program instructions outside a transaction.

A complete host for everything except cross-program invocation: a log collector, a sysvar
cache (the account data of each sysvar), the return-data slot, a stack height and a trace of
previously processed instructions for `sol_get_processed_sibling_instruction`, and epoch
stakes. The runtime's host (issue 3) adds CPI; until then a CPI fails with a clear error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from solders.clock import Clock
from solders.epoch_schedule import EpochSchedule
from solders.pubkey import Pubkey
from solders.rent import Rent

from heliostat.svm.host import CpiRequest, SiblingInstruction
from heliostat.svm.log_collector import LogCollector
from heliostat.svm.syscall_api import SyscallContext
from heliostat.svm.syscalls import sysvars
from heliostat.svm.syscalls.errors import UnsupportedSyscallError

_DEFAULT_SYSVARS = {
    sysvars.CLOCK: bytes(
        Clock(slot=0, epoch_start_timestamp=0, epoch=0, leader_schedule_epoch=0, unix_timestamp=0)
    ),
    sysvars.RENT: bytes(Rent.default()),
    sysvars.EPOCH_SCHEDULE: bytes(EpochSchedule.default()),
}


def default_sysvars() -> dict[Pubkey, bytes]:
    """Clock at slot 0, and the Rent and EpochSchedule defaults of the agave version matched."""
    return dict(_DEFAULT_SYSVARS)


class TestHost:
    """An `InvocationHost` for one instruction at a time (no cross-program invocation)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        program_id: Pubkey,
        *,
        sysvar_data: Mapping[Pubkey, bytes] | None = None,
        stack_height: int = 1,
        processed: Sequence[tuple[int, SiblingInstruction]] = (),
        epoch_stakes: Mapping[Pubkey, int] | None = None,
        logs: LogCollector | None = None,
    ) -> None:
        if stack_height < 1:
            raise ValueError("the stack height of a running instruction is at least 1")
        self._program_id = program_id
        self._sysvars = dict(_DEFAULT_SYSVARS if sysvar_data is None else sysvar_data)
        self._stack_height = stack_height
        self._processed = list(processed)
        self._epoch_stakes = dict(epoch_stakes or {})
        self._logs = logs if logs is not None else LogCollector()
        self._return_data: tuple[Pubkey, bytes] = (program_id, b"")

    @property
    def logs(self) -> LogCollector:
        """The log collector (10 000-byte limit, as agave's)."""
        return self._logs

    @property
    def program_id(self) -> Pubkey:
        """The program of the running instruction."""
        return self._program_id

    def sysvar(self, sysvar_id: Pubkey) -> bytes | None:
        """Return a sysvar's account data, or None when it is not cached."""
        return self._sysvars.get(sysvar_id)

    def return_data(self) -> tuple[Pubkey, bytes]:
        """Return the program that last set return data, and the data."""
        return self._return_data

    def set_return_data(self, program_id: Pubkey, data: bytes) -> None:
        """Replace the return data."""
        self._return_data = (program_id, bytes(data))

    def stack_height(self) -> int:
        """Return the instruction stack height (1: a top-level instruction)."""
        return self._stack_height

    def record_processed(self, stack_height: int, instruction: SiblingInstruction) -> None:
        """Append an instruction that finished, for later sibling look-ups."""
        self._processed.append((stack_height, instruction))

    def processed_sibling_instruction(self, index: int) -> SiblingInstruction | None:
        """Return the `index`-th most recent processed instruction at the current height.

        Walks the trace backwards as agave does, stopping at the first instruction of a lower
        height (the caller's own invocation).
        """
        seen = 0
        for height, instruction in reversed(self._processed):
            if height < self._stack_height:
                break
            if height == self._stack_height:
                if seen == index:
                    return instruction
                seen += 1
        return None

    def epoch_stake(self, vote_account: Pubkey | None) -> int:
        """Return a vote account's stake (0 if unknown), or the total when None."""
        if vote_account is None:
            return sum(self._epoch_stakes.values())
        return self._epoch_stakes.get(vote_account, 0)

    def invoke_signed(self, ctx: SyscallContext, request: CpiRequest) -> int:
        """Refuse: cross-program invocation needs the runtime's host."""
        raise UnsupportedSyscallError(
            f"sol_invoke_signed_{request.abi}",
            "the test host runs a single instruction; cross-program invocation needs the runtime",
        )
