"""A batch the zkVM cannot prove yet is reported as such and the devnet carries on.

Production job kind ("batch": `Runtime.prove_batch`) in production worker processes; the rollup
uses the test-only MockBatchVerifier, which never matters here since no proof is made. The
batch holds an SPL Token instruction (a program run through a kernel switch, which the zkVM
does not prove yet): the devnet must say "not provable yet" with the runtime's reason instead
of waiting for a proof forever, commit the batch's data on L1 all the same, and keep serving.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from plumbing import MockPoster
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import (
    CreateAccountParams,
    TransferParams,
    create_account,
    transfer,
)
from solders.transaction import VersionedTransaction

from heliostat.devnet.config import DevnetConfig
from heliostat.devnet.runner import Devnet
from heliostat.sdk import bridge
from heliostat.sdk.client import HeliostatClient
from heliostat.svm.programs import SPL_TOKEN_ID
from heliostat.testing import spl_token as tk

MINT_SIZE = 82


def test_an_spl_batch_is_reported_not_provable(tmp_path: Path) -> None:
    lines: list[str] = []
    devnet = Devnet(
        DevnetConfig(data_dir=tmp_path / "devnet", slot_ms=100, batch_max_age_s=0.3,
                     prover_attempts=1),
        verifier="mock", poster=MockPoster, out=lines.append,
    )  # fmt: skip

    async def scenario():
        await devnet.start()
        try:
            assert devnet.faucet is not None
            payer, mint = devnet.faucet, Keypair()
            async with HeliostatClient(devnet.rpc_url) as client:
                rent = (await client.solana.get_minimum_balance_for_rent_exemption(MINT_SIZE)).value
                blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
                ixs = [
                    create_account(CreateAccountParams(
                        from_pubkey=payer.pubkey(), to_pubkey=mint.pubkey(), lamports=rent,
                        space=MINT_SIZE, owner=SPL_TOKEN_ID)),
                    tk.initialize_mint2(mint.pubkey(), 6, payer.pubkey()),
                ]  # fmt: skip
                message = Message.new_with_blockhash(ixs, payer.pubkey(), blockhash)
                sent = await client.send_transaction(VersionedTransaction(message, [payer, mint]))
                batch = None
                deadline = time.monotonic() + 240  # a prover process starts cold
                while time.monotonic() < deadline:
                    raw = await client.call("heliostat_getReceipt", str(sent.signature))
                    batch = raw.get("batch")
                    if batch is not None and (batch, "NOT PROVABLE YET") in devnet.events:
                        break
                    await asyncio.sleep(0.2)
                assert batch is not None
                # the devnet still serves transactions
                blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
                ix = transfer(
                    TransferParams(
                        from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10**9
                    )
                )
                message = Message.new_with_blockhash([ix], payer.pubkey(), blockhash)
                again = await client.send_transaction(VersionedTransaction(message, [payer]))
            assert devnet.w3 is not None and devnet.deployment is not None
            f = bridge.rollup_contract(devnet.w3, devnet.deployment.rollup).functions
            deadline = time.monotonic() + 30
            while f.totalCommitted().call() < batch and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            return batch, f.totalCommitted().call(), f.totalProven().call(), again
        finally:
            await devnet.stop()

    batch, committed, proven, again = asyncio.run(scenario())
    assert again.receipt.body.slot > 0
    failures = [line for line in lines if f"batch {batch}: NOT PROVABLE YET" in line]
    assert failures, lines
    assert "ProvingUnavailableError" in failures[0]
    assert committed >= batch > proven  # its data is on L1; no proof, so never proven
