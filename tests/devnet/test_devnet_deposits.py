"""Deposits and transactions keep the kernel's order: a deposit seen while the open batch
already holds a transaction waits for the next batch, so every batch the node seals has its
priority operations first and reproduces exactly when the runtime re-runs it.

PLUMBING ONLY: MockBatchVerifier on L1 and the native replay stand-in (plumbing.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from plumbing import plumbing_devnet, started_rollup
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.devnet.config import anvil_key
from heliostat.sdk import bridge
from heliostat.sdk.client import HeliostatClient


async def _send(client: HeliostatClient, payer: Keypair, to: Pubkey) -> str:
    blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=10**9))
    message = Message.new_with_blockhash([ix], payer.pubkey(), blockhash)
    sent = await client.send_transaction(VersionedTransaction(message, [payer]))
    return str(sent.signature)


def test_a_deposit_during_a_batch_waits_for_the_next(tmp_path: Path) -> None:
    lines: list[str] = []
    # batches of exactly two entries: the first holds a transfer when the deposit is seen
    devnet = plumbing_devnet(
        tmp_path / "devnet", lines, batch_max_transactions=2, batch_max_age_s=600.0
    )

    async def scenario():
        await devnet.start()
        try:
            faucet, contract = started_rollup(devnet)
            user = Keypair()
            async with HeliostatClient(devnet.rpc_url) as client:
                first = await _send(client, faucet, Keypair().pubkey())
                await asyncio.to_thread(
                    bridge.deposit, devnet.w3, contract, anvil_key(1), user.pubkey(), 10**9
                )
                await asyncio.sleep(1.5)  # the L1 loop has seen it by now (0.25 s polls)
                held = (await client.solana.get_balance(user.pubkey())).value
                await _send(client, faucet, Keypair().pubkey())  # seals the first batch
                while (await client.solana.get_balance(user.pubkey())).value < 10**9:
                    await asyncio.sleep(0.1)
                await _send(client, faucet, Keypair().pubkey())  # completes the second
                while contract.functions.totalExecuted().call() < 2:
                    await asyncio.sleep(0.1)
                receipt = await client.call("heliostat_getReceipt", first)
            assert devnet.queue is not None
            return held, receipt["batch"], dict(devnet.queue.built)
        finally:
            await devnet.stop()

    held, first_batch, built = asyncio.run(scenario())
    assert held == 0  # not credited while the batch held a transaction
    deposit_batches = [n for n, b in built.items() if b.public_output.priority_count]
    assert deposit_batches == [first_batch + 1]
    assert not any(b.deposits_after_transactions for b in built.values())
    assert not [line for line in lines if "REFUSED" in line]
