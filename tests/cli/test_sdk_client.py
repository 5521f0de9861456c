"""heliostat.sdk's client against a running node: receipts verified, chained, and refused."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "node"))
from node_harness import NodeProcess, free_port_pair

from heliostat.sdk.client import ClientError, HeliostatClient
from heliostat.sdk.receipts import ReceiptError


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    process = NodeProcess(tmp_path_factory.mktemp("sdk") / "data", free_port_pair(), Keypair())
    yield process.start()
    process.stop()


async def _transfer(
    client: HeliostatClient, payer: Keypair, to: Pubkey, lamports: int
) -> Transaction:
    blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to, lamports=lamports))
    return Transaction([payer], Message([ix], payer.pubkey()), blockhash)


def test_send_returns_a_verified_receipt_and_receipts_chain(node: NodeProcess) -> None:
    async def scenario() -> None:
        async with HeliostatClient(node.url) as client:
            info = await client.sequencer_info()
            first_tx = await _transfer(client, node.faucet, Keypair().pubkey(), 2_000_000)
            first = await client.send_transaction(first_tx)
            second_tx = await _transfer(client, node.faucet, Keypair().pubkey(), 3_000_000)
            second = await client.send_transaction(second_tx)
            assert first.receipt.sequencer == info.sequencer
            assert second.receipt.body.seq == first.receipt.body.seq + 1
            assert await client.receipts_chain([first.receipt, second.receipt])
            with pytest.raises(ReceiptError):  # not in order: the running hashes do not chain
                await client.receipts_chain([second.receipt, first.receipt])
            with pytest.raises(ReceiptError):  # a receipt is about one transaction's bytes
                await client.receipt(first.signature, bytes(second_tx))
            balance = await client.solana.get_balance(second_tx.message.account_keys[1])
            assert balance.value == 3_000_000  # solana-py, unchanged, reads the same state

    asyncio.run(scenario())


def test_a_node_with_another_sequencer_key_is_refused(node: NodeProcess) -> None:
    async def scenario() -> None:
        async with HeliostatClient(node.url, sequencer=Keypair().pubkey()) as client:
            with pytest.raises(ClientError, match="expected"):
                await client.sequencer_info()

    asyncio.run(scenario())
