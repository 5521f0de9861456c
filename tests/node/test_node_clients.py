"""Real clients against a running node: solana-py, @solana/web3.js + spl-token, @solana/kit.

Afterwards every confirmed block is replayed, through the RPC, into a fresh LiteSVM, and the
balances the clients read back must equal what LiteSVM computes for the same transactions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess

import pytest
from node_harness import ROOT, NodeProcess
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solders.account import Account
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

JS = ROOT / "clients" / "js"
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")


@pytest.fixture(scope="module")
def js_clients() -> None:
    """Require the JS clients: `make setup` installs them, so their absence is a failure."""
    assert shutil.which("node") is not None, "node (Node.js) is not on PATH"
    assert (JS / "node_modules" / "@solana" / "kit").is_dir(), "clients/js: run `make setup`"


def _run_js(script: str, *args: str) -> dict[str, object]:
    done = subprocess.run(
        ["node", str(JS / script), *args], capture_output=True, text=True, timeout=120, cwd=JS
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _oracle(node: NodeProcess) -> LiteSVM:
    """Replay every confirmed block's transactions into a fresh LiteSVM."""
    svm = LiteSVM().with_blockhash_check(False)
    svm.set_account(node.faucet.pubkey(), Account(10**18, b"", SYSTEM, False, 0))
    top = node.result("getSlot", {"commitment": "confirmed"})
    for slot in node.result("getBlocks", 1, top, {"commitment": "confirmed"}):
        block = node.result(
            "getBlock",
            slot,
            {"commitment": "confirmed", "encoding": "base64", "maxSupportedTransactionVersion": 0},
        )
        for item in block["transactions"]:
            tx = VersionedTransaction.from_bytes(base64.b64decode(item["transaction"][0]))
            svm.send_transaction(tx)
    return svm


def _token_amount(svm: LiteSVM, key: str) -> int:
    account = svm.get_account(Pubkey.from_string(key))
    assert account is not None
    return int.from_bytes(bytes(account.data)[64:72], "little")


def test_solana_py_transfers_and_confirms(node: NodeProcess) -> None:
    payer, receiver = Keypair(), Keypair()
    asyncio.run(_solana_py_session(node, payer, receiver))
    oracle = _oracle(node)
    assert oracle.get_balance(receiver.pubkey()) == 700_000_000
    assert oracle.get_balance(payer.pubkey()) == 2_000_000_000 - 700_000_000 - 5000


async def _solana_py_session(node: NodeProcess, payer: Keypair, receiver: Keypair) -> None:
    async with AsyncClient(node.url) as client:
        airdrop = await client.request_airdrop(payer.pubkey(), 2_000_000_000, commitment=Confirmed)
        await client.confirm_transaction(airdrop.value, commitment=Confirmed, sleep_seconds=0.05)
        blockhash = (await client.get_latest_blockhash(Confirmed)).value.blockhash
        ix = transfer(
            TransferParams(
                from_pubkey=payer.pubkey(), to_pubkey=receiver.pubkey(), lamports=700_000_000
            )
        )
        tx = VersionedTransaction(
            Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer]
        )
        sent = await client.send_transaction(tx)
        confirmed = await client.confirm_transaction(
            sent.value, commitment=Confirmed, sleep_seconds=0.05
        )
        assert confirmed.value[0].err is None
        assert (await client.get_balance(receiver.pubkey(), Confirmed)).value == 700_000_000
        assert (
            await client.get_balance(payer.pubkey(), Confirmed)
        ).value == 2_000_000_000 - 700_000_000 - 5000
        got = await client.get_transaction(sent.value, commitment=Confirmed)
        assert got.value is not None and got.value.transaction.meta.fee == 5000


@pytest.mark.usefixtures("js_clients")
def test_web3js_and_spl_token(node: NodeProcess) -> None:
    seen = _run_js("web3-spl.mjs", node.url)
    assert seen["sameAta"] is True
    assert seen["mineAmount"] == "3750000" and seen["theirsAmount"] == "1250000"
    assert seen["supply"] == "5000000" and seen["parsedAmount"] == "1250000"
    assert seen["byOwnerCount"] == 1 and seen["uiBalance"] == "1.25"
    assert seen["friendLamports"] == 1_000_000_000
    oracle = _oracle(node)
    for key in ("payer", "friend", "mine", "theirs", "mint"):
        account = oracle.get_account(Pubkey.from_string(str(seen[key])))
        assert account is not None
        assert (
            node.result("getBalance", seen[key], {"commitment": "confirmed"})["value"]
            == account.lamports
        )
    assert oracle.get_balance(Pubkey.from_string(str(seen["payer"]))) == seen["payerLamports"]
    assert _token_amount(oracle, str(seen["mine"])) == 3_750_000
    assert _token_amount(oracle, str(seen["theirs"])) == 1_250_000


@pytest.mark.usefixtures("js_clients")
def test_kit_sends_and_confirms_over_websocket(node: NodeProcess) -> None:
    seen = _run_js("kit-send.mjs", node.url, node.ws_url)
    assert seen["receiverLamports"] == "500000000"
    assert seen["senderLamports"] == str(2_000_000_000 - 500_000_000 - 5000)
    status = node.result("getSignatureStatuses", [seen["signature"]])["value"][0]
    assert status["err"] is None
    oracle = _oracle(node)
    assert oracle.get_balance(Pubkey.from_string(str(seen["receiver"]))) == 500_000_000
    assert (
        str(oracle.get_balance(Pubkey.from_string(str(seen["sender"])))) == seen["senderLamports"]
    )
