"""The demo flow with real batch proofs.

1. `test_real_proofs_flow_to_l1_finality`: every batch is proven by the zkVM in a prover worker
   process (`Runtime`'s kernel run in proving mode over the batch's state witness) and the
   proof is checked by `heliostat.runtime.proving.verify_batch` before it is stored. On L1 the
   rollup uses the test-only MockBatchVerifier, told the output hash is proven once the
   checked proof exists, because a zkVM batch proof cannot be verified on chain yet.
2. `test_demo_flow_with_the_real_l1_verifier`: the same flow with the generated zkVM verifier
   behind StarkBatchVerifier on L1, as `heliostat devnet` runs: every batch's STARK is
   verified on chain (over several transactions) against the statement the contract builds
   from the batch's output hash, and only then does the batch execute and the claim pay.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from plumbing import MockPoster

from heliostat.devnet.config import DevnetConfig
from heliostat.devnet.flow import FlowResult, run_flow
from heliostat.devnet.runner import Devnet

pytestmark = pytest.mark.slow  # proves SOL transfers with their ed25519 checks (~1.5 min each)
GWEI = 10**9


async def _flow_or_failure(devnet: Devnet, lines: list[str], transfers: int) -> FlowResult:
    """Run the flow; raise the devnet's reason as soon as a batch cannot reach L1 finality."""
    flow = asyncio.create_task(
        run_flow(devnet, transfers=transfers, finality_timeout_s=1500, out=lines.append)
    )
    while not flow.done():
        if devnet.failures:
            flow.cancel()
            raise next(iter(devnet.failures.values()))
        await asyncio.sleep(0.5)
    return flow.result()


def _run(devnet: Devnet, lines: list[str], transfers: int = 1) -> FlowResult:
    async def scenario() -> FlowResult:
        await devnet.start()
        try:
            return await _flow_or_failure(devnet, lines, transfers)
        finally:
            await devnet.stop()

    return asyncio.run(scenario())


def test_real_proofs_flow_to_l1_finality(tmp_path: Path) -> None:
    lines: list[str] = []
    devnet = Devnet(
        DevnetConfig(data_dir=tmp_path / "devnet", slot_ms=100, batch_max_age_s=1.0,
                     prover_attempts=1),
        verifier="mock", poster=MockPoster, out=lines.append,
    )  # fmt: skip
    result = _run(devnet, lines)
    assert result.l1_paid_wei == result.withdraw_lamports * GWEI, lines
    proved = [line for line in lines if ": proved (" in line]
    assert len(proved) >= result.batch  # every batch up to the withdrawal's was proven
    assert all("verified" in line and " 0 proof bytes" not in line for line in proved)


def test_demo_flow_with_the_real_l1_verifier(tmp_path: Path) -> None:
    lines: list[str] = []
    devnet = Devnet(
        DevnetConfig(data_dir=tmp_path / "devnet", slot_ms=100, batch_max_age_s=1.0,
                     prover_attempts=1),
        out=lines.append,
    )  # fmt: skip
    # the flow without the extra transfers: the withdrawal is its one signed transaction
    result = _run(devnet, lines, transfers=0)
    assert result.l1_paid_wei == result.withdraw_lamports * GWEI, lines
