"""Drive the batch lifecycle on L1 from the chain's own state: commit, prove, execute.

``BatchSubmitter.step(outputs, proofs)`` reads ``totalCommitted/Proven/Executed`` from the
rollup and sends the one transaction that moves it forward (execute before prove before
commit), through an ``L1Sender``; a commit whose state diff exceeds one chunk first posts the
chunks not on chain yet (``postDiffChunk``, one transaction each). Everything it needs after a
restart is on chain: the last committed batch comes back from its ``BatchCommitted`` event and
the posted chunks from ``diffChunkHash``, so a restarted node repeats no step and skips none.
"""

from __future__ import annotations

from collections.abc import Mapping

from web3.contract import Contract

from heliostat.runtime.interface import BatchPublicOutput
from heliostat.settlement import rollup
from heliostat.settlement.errors import ChainError
from heliostat.settlement.l1_sender import L1Sender
from heliostat.settlement.rollup import StoredBatch


class BatchSubmitter:
    """Commit, prove and execute batches of one rollup."""

    def __init__(self, sender: L1Sender, contract: Contract, genesis_root: bytes) -> None:
        self.sender = sender
        self.contract = contract
        self.genesis_root = genesis_root

    def totals(self) -> tuple[int, int, int]:
        """Return (committed, proven, executed) batch counts on chain."""
        f = self.contract.functions
        return (
            int(f.totalCommitted().call()),
            int(f.totalProven().call()),
            int(f.totalExecuted().call()),
        )

    def stored(self, number: int) -> StoredBatch:
        """Return committed batch ``number`` as the contract stored it (from its event)."""
        if number == 0:
            return rollup.genesis(self.genesis_root)
        logs = self.contract.events.BatchCommitted().get_logs(
            from_block=0, argument_filters={"number": number}
        )
        expected = bytes(self.contract.functions.batchHashes(number).call())
        for log in reversed(logs):  # a reverted and recommitted batch has several
            if bytes(log["args"]["batchHash"]) == expected:
                return StoredBatch.from_tuple(log["args"]["batch"])
        raise ChainError(f"no BatchCommitted event matches batch {number}")

    def step(self, outputs: Mapping[int, BatchPublicOutput], proofs: Mapping[int, bytes]) -> str:
        """Send the next transaction the lifecycle needs; return what was done ('' if none)."""
        committed, proven, executed = self.totals()
        f = self.contract.functions
        if executed < proven:
            self.sender.send(f.executeBatch(self.stored(executed + 1).as_tuple()))
            return f"executed {executed + 1}"
        if proven < committed and proven + 1 in proofs:
            batch = self.stored(proven + 1).as_tuple()
            self.sender.send(f.proveBatch(batch, proofs[proven + 1]))
            return f"proved {proven + 1}"
        if committed + 1 in outputs:
            timestamp = int(self.sender.w3.eth.get_block("latest")["timestamp"])
            output = outputs[committed + 1]
            for post in rollup.post_chunk_calls(self.contract, output):
                self.sender.send(post)
            commit = rollup.commit_input(output, timestamp)
            self.sender.send(f.commitBatch(self.stored(committed).as_tuple(), commit))
            return f"committed {committed + 1}"
        return ""
