"""Forced inclusion on a running devnet: a transaction queued on L1 (as a user the sequencer
ignores would) is taken by the node in L1 order, runs at the start of a batch, and the batch
that consumes it executes on L1, so the queue never overruns its deadline. A replay of an
L2 transaction through L1 runs nothing; the same signature cannot be queued twice.

PLUMBING ONLY: MockBatchVerifier on L1 and the native replay stand-in (plumbing.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from plumbing import plumbing_devnet, started_rollup
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.cli import main
from heliostat.devnet.config import anvil_key
from heliostat.sdk import bridge
from heliostat.sdk.client import HeliostatClient


def test_a_forced_transaction_is_included_and_its_batch_executes(tmp_path: Path) -> None:
    lines: list[str] = []
    devnet = plumbing_devnet(tmp_path / "devnet", lines)

    async def scenario():
        await devnet.start()
        try:
            faucet, contract = started_rollup(devnet)
            to, other = Keypair(), Keypair()
            pay = transfer(
                TransferParams(from_pubkey=faucet.pubkey(), to_pubkey=to.pubkey(), lamports=10**9)
            )
            forced = bridge.forced_transaction(faucet, [pay])
            async with HeliostatClient(devnet.rpc_url) as client:
                # an L2 transfer, then its exact bytes queued on L1: a replay that runs nothing
                blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
                plain = VersionedTransaction(
                    Message.new_with_blockhash(
                        [transfer(TransferParams(from_pubkey=faucet.pubkey(),
                                                 to_pubkey=other.pubkey(), lamports=10**9))],
                        faucet.pubkey(), blockhash,
                    ),
                    [faucet],
                )  # fmt: skip
                await client.send_transaction(plain)
                replayed = await asyncio.to_thread(
                    devnet.w3.eth.contract(address=contract.address, abi=contract.abi)
                    .functions.forceTransaction(bytes(plain))
                    .transact,
                    {"from": devnet.w3.eth.accounts[2]},
                )
                devnet.w3.eth.wait_for_transaction_receipt(replayed)
                receipt = await asyncio.to_thread(
                    bridge.force_transaction, devnet.w3, contract, anvil_key(1), forced
                )
                with pytest.raises(bridge.BridgeError, match="already queued"):
                    bridge.force_transaction(devnet.w3, contract, anvil_key(1), forced)
                while (await client.solana.get_balance(to.pubkey())).value < 10**9:
                    await asyncio.sleep(0.1)
                while contract.functions.executedOps().call() < receipt.l1_index + 1:
                    await asyncio.sleep(0.1)
                other_balance = (await client.solana.get_balance(other.pubkey())).value
                # the same through the command line, waiting until it ran on L2
                cli = Keypair()
                key = "0x" + bytes(anvil_key(3).key).hex()
                assert devnet.anvil is not None
                argv = ["force", "--l1-rpc", devnet.anvil.rpc_url, "--rollup", contract.address,
                        "--url", devnet.rpc_url, "--keypair", str(devnet.path("faucet.json")),
                        "--to", str(cli.pubkey()), "--lamports", str(10**9), "--private-key", key,
                        "--wait"]  # fmt: skip
                assert await asyncio.to_thread(main, argv) == 0
                cli_balance = (await client.solana.get_balance(cli.pubkey())).value
            return receipt, other_balance, cli_balance, contract.functions.escapeMode().call()
        finally:
            await devnet.stop()

    receipt, other_balance, cli_balance, escape = asyncio.run(scenario())
    assert cli_balance == 10**9
    assert receipt.l1_index == 1  # after the replayed one
    assert other_balance == 10**9  # the L2 transfer ran once: its replay through L1 did not
    assert not escape
    assert any(f"forced transaction {receipt.l1_index} taken from L1" in line for line in lines)
    assert not [line for line in lines if "REFUSED" in line]
