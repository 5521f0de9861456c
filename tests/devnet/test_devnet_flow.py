"""The devnet's plumbing end to end on a real anvil: deposit ETH on L1 → credited on L2 →
SOL transfers through solana-py → a bridge withdrawal → its batch built from the node's
storage (the kernel's root must equal the node's), queued, "proven", committed, proven and
executed on L1 → the withdrawal claimed on L1.

PLUMBING ONLY: the rollup uses the test-only MockBatchVerifier and the job kind is the native
replay stand-in of plumbing.py (no proof is made; see that module). The same flow against the
real zkVM verifier is test_devnet_e2e.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from plumbing import plumbing_devnet

from heliostat.devnet.flow import run_flow
from heliostat.sdk import bridge

GWEI = 10**9


def test_demo_flow_settles_and_pays_the_withdrawal_on_l1(tmp_path: Path) -> None:
    lines: list[str] = []
    devnet = plumbing_devnet(tmp_path / "devnet", lines)

    async def scenario():
        await devnet.start()
        try:
            result = await run_flow(devnet, transfers=3, finality_timeout_s=120, out=lines.append)
            assert devnet.w3 is not None and devnet.deployment is not None
            contract = bridge.rollup_contract(devnet.w3, devnet.deployment.rollup)
            executed = contract.functions.totalExecuted().call()
            events = contract.events.BatchExecuted().get_logs(
                from_block=0, argument_filters={"number": result.batch}
            )
            stored = devnet.node.storage.batch(result.batch)
            return result, executed, events, stored
        finally:
            await devnet.stop()

    result, executed, events, stored = asyncio.run(scenario())
    # L1: the recipient got exactly the withdrawn lamports as gwei (the claim was sent by
    # another account, so no gas is mixed in)
    assert result.l1_paid_wei == result.withdraw_lamports * GWEI
    # L2: deposit − 3 × 0.1 SOL − the withdrawal − 4 fees of 5000 lamports
    assert result.l2_balance == 2 * 10**9 - 3 * 10**8 - result.withdraw_lamports - 4 * 5000
    # the executed batch on L1 is the node's batch, root for root
    assert executed >= result.batch and len(events) == 1
    assert bytes(events[0]["args"]["newRoot"]) == stored.state_root
    assert str(stored.status) == "finalized" and stored.l1_transaction
    # every batch went through each step once, in order
    for number in range(1, result.batch + 1):
        steps = [step for n, step in devnet.events if n == number]
        assert steps[0] == "sealed and queued for proving", steps
        assert steps[-1] == "executed on L1 (finalized)", steps
        assert len(steps) == len(set(steps)), steps
    # each step of the flow was printed with its time
    assert any(line.startswith("[") and "withdrawal claimed" in line for line in lines)
