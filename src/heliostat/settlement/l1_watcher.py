"""The L1 watcher: the rollup's priority operations, read only once confirmed, reorg-safe.

``L1Watcher.poll()`` reads the ``DepositQueued`` and ``ForcedTransactionQueued`` events of
blocks at least ``confirmations`` deep and returns them as the runtime's priority operations,
in queue order. It remembers the hash of every block it read (a bounded window); when a block
it read is no longer on the chain (a reorg deeper than the confirmations), the operations
from the fork point on are retracted and the blocks read again. Pure reading: no state on
chain changes, so a restarted watcher starts from a block number and catches up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from solders.pubkey import Pubkey
from web3 import Web3
from web3.contract import Contract

from heliostat.runtime.interface import Deposit, ForcedTransaction, PriorityOperation
from heliostat.settlement.errors import ChainError

WINDOW = 1024  # block hashes kept to find a fork point
MAX_RANGE = 2000  # blocks per log query


@dataclass(frozen=True)
class Observed:
    """A priority operation and the L1 block that holds it."""

    operation: PriorityOperation
    block_number: int
    block_hash: bytes


@dataclass
class PollResult:
    """What changed since the last poll: operations retracted by a reorg, then new ones."""

    retracted: list[int] = field(default_factory=list)  # queue ids, ascending
    confirmed: list[Observed] = field(default_factory=list)  # queue order


class L1Watcher:
    """Follow one HeliostatRollup's priority queue."""

    def __init__(
        self, w3: Web3, rollup: Contract, *, confirmations: int = 12, start_block: int = 0
    ) -> None:
        if confirmations < 0:
            raise ValueError("confirmations must be non-negative")
        self.w3 = w3
        self.rollup = rollup
        self.confirmations = confirmations
        self.next_block = start_block  # the first block not read yet
        self._hashes: dict[int, bytes] = {}  # block number → hash, for blocks read
        self._seen: dict[int, Observed] = {}  # queue id → operation delivered

    def poll(self) -> PollResult:
        """Read newly confirmed blocks; retract what a reorg removed."""
        result = PollResult()
        fork = self._fork_point()
        if fork is not None:
            result.retracted = sorted(i for i, o in self._seen.items() if o.block_number >= fork)
            for i in result.retracted:
                del self._seen[i]
            for n in [n for n in self._hashes if n >= fork]:
                del self._hashes[n]
            self.next_block = fork
        head = int(self.w3.eth.block_number)
        last = head - self.confirmations
        while self.next_block <= last:
            end = min(last, self.next_block + MAX_RANGE - 1)
            observed, restart = self._read(self.next_block, end)
            result.confirmed += observed
            if restart is not None:  # a block changed while it was read: reread it next poll
                self.next_block = restart
                break
            self.next_block = end + 1
        return result

    def _fork_point(self) -> int | None:
        """Return the lowest remembered block whose hash changed, or None."""
        fork = None
        for number in sorted(self._hashes, reverse=True):
            if self._block_hash(number) == self._hashes[number]:
                break
            fork = number
        return fork

    def _block_hash(self, number: int) -> bytes | None:
        block = self.w3.eth.get_block(number)
        return None if block is None else bytes(block["hash"])

    def _read(self, first: int, last: int) -> tuple[list[Observed], int | None]:
        """Return the operations of blocks first..last in queue order, and a restart block.

        The restart block is set if a block was replaced while being read; then only the
        operations before it are returned.
        """
        found: list[tuple[int, Observed]] = []
        for event in (self.rollup.events.DepositQueued, self.rollup.events.ForcedTransactionQueued):
            for log in event().get_logs(from_block=first, to_block=last):
                found.append(self._observed(log))
        for number in range(max(first, last - WINDOW + 1), last + 1):
            block_hash = self._block_hash(number)
            if block_hash is None:
                raise ChainError(f"block {number} vanished while it was read")
            self._hashes[number] = block_hash
        for number in [n for n in self._hashes if n <= last - WINDOW]:
            del self._hashes[number]
        changed = [
            o.block_number
            for _, o in found
            if self._hashes.get(o.block_number, o.block_hash) != o.block_hash
        ]
        restart = min(changed) if changed else None
        if restart is not None:
            for number in [n for n in self._hashes if n >= restart]:
                del self._hashes[number]
        out = []
        for queue_id, observed in sorted(found, key=lambda pair: pair[0]):
            if restart is not None and observed.block_number >= restart:
                continue
            self._seen[queue_id] = observed
            out.append(observed)
        return out, restart

    def _observed(self, log: Any) -> tuple[int, Observed]:
        args = log["args"]
        queue_id = int(args["id"])
        operation: PriorityOperation
        if log["event"] == "DepositQueued":
            operation = Deposit(queue_id, Pubkey(bytes(args["recipient"])), int(args["lamports"]))
        else:
            operation = ForcedTransaction(queue_id, bytes(args["transaction"]))
        return queue_id, Observed(operation, int(log["blockNumber"]), bytes(log["blockHash"]))
