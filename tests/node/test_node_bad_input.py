"""Bad input gets proper JSON-RPC errors, and the node stays up."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator

import aiohttp
import pytest
from node_harness import NodeProcess, free_port_pair
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction


def _error(node: NodeProcess, body: str | bytes) -> dict[str, object]:
    status, answer = node.post(body)
    assert status == 200, (status, answer)
    assert isinstance(answer, dict) and "error" in answer, answer
    error: dict[str, object] = answer["error"]
    return error


def _call_error(node: NodeProcess, method: str, *params: object) -> dict[str, object]:
    answer = node.call(method, *params)
    assert "error" in answer, answer
    error: dict[str, object] = answer["error"]
    return error


def _funded(node: NodeProcess, lamports: int) -> Keypair:
    payer = Keypair()
    node.result("requestAirdrop", str(payer.pubkey()), lamports)
    return payer


def _transfer_tx(
    node: NodeProcess, payer: Keypair, lamports: int, blockhash: Hash | None = None
) -> VersionedTransaction:
    if blockhash is None:
        blockhash = Hash.from_string(node.result("getLatestBlockhash")["value"]["blockhash"])
    ix = transfer(
        TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=lamports)
    )
    return VersionedTransaction(
        Message.new_with_blockhash([ix], payer.pubkey(), blockhash), [payer]
    )


def _b64(tx: VersionedTransaction | bytes) -> str:
    return base64.b64encode(bytes(tx)).decode()


def test_malformed_json_and_envelopes(node: NodeProcess) -> None:
    assert _error(node, "{not json")["code"] == -32700
    assert _error(node, b"\xff\xfe\x00garbage")["code"] == -32700
    assert _error(node, '{"id": 1, "method": "getSlot"}')["code"] == -32600  # no jsonrpc
    assert _error(node, '{"jsonrpc": "2.0", "id": {"x": 1}, "method": "getSlot"}')["code"] == -32600
    assert _error(node, '{"jsonrpc": "2.0", "id": 1, "method": 7}')["code"] == -32600
    assert _error(node, "[]")["code"] == -32600
    assert _error(node, "42")["code"] == -32600
    _, answer = node.post(
        json.dumps([{"jsonrpc": "2.0", "id": i, "method": "getSlot"} for i in range(101)])
    )
    assert answer["error"]["code"] == -32600
    # A batch answers each member on its own.
    _, answer = node.post(
        '[{"jsonrpc":"2.0","id":1,"method":"getSlot"},{"jsonrpc":"2.0","id":2,"method":"nope"},7]'
    )
    assert [("result" in a, a.get("error", {}).get("code")) for a in answer] == [
        (True, None),
        (False, -32601),
        (False, -32600),
    ]


def test_unknown_methods_and_wrong_types(node: NodeProcess) -> None:
    assert _call_error(node, "getEverything")["code"] == -32601
    assert _call_error(node, "eth_blockNumber")["code"] == -32601
    assert _call_error(node, "getBalance", 123)["code"] == -32602
    assert _call_error(node, "getBalance", "not-a-key")["code"] == -32602
    assert _call_error(node, "getBalance")["code"] == -32602
    assert _call_error(node, "getSlot", {"commitment": 5})["code"] == -32602
    assert _call_error(node, "getSlot", {"commitment": "eventually"})["code"] == -32602
    assert (
        _call_error(node, "getAccountInfo", str(Pubkey.new_unique()), {"encoding": "hex"})["code"]
        == -32602
    )
    assert _call_error(node, "getSignatureStatuses", "not-a-list")["code"] == -32602
    assert _call_error(node, "getSignatureStatuses", ["x" * 200])["code"] == -32602
    assert _call_error(node, "getBlock", -1)["code"] == -32602
    assert _call_error(node, "getBlock", True)["code"] == -32602
    assert _call_error(node, "getBlock", 10**9, {"commitment": "confirmed"})["code"] == -32004
    assert _call_error(node, "getMinimumBalanceForRentExemption", 1.5)["code"] == -32602
    assert (
        _call_error(node, "getMultipleAccounts", [str(Pubkey.new_unique())] * 101)["code"] == -32602
    )
    named = node.post('{"jsonrpc":"2.0","id":1,"method":"getBalance","params":{"pubkey":"x"}}')[1]
    assert named["error"]["code"] == -32602
    assert _call_error(node, "getSlot", {"minContextSlot": 10**12})["code"] == -32016


def test_oversized_body_is_refused(node: NodeProcess) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": ["x" * 60_000]})
    status, answer = node.post(body)
    assert status == 413 and answer["error"]["code"] == -32600


def test_garbage_and_oversized_transactions(node: NodeProcess) -> None:
    error = _call_error(node, "sendTransaction", "!!!not base64", {"encoding": "base64"})
    assert error["code"] == -32602
    error = _call_error(
        node, "sendTransaction", base64.b64encode(os.urandom(300)).decode(), {"encoding": "base64"}
    )
    assert error["code"] == -32602 and "deserialize" in str(error["message"])
    error = _call_error(node, "sendTransaction", "0OIl", {"encoding": "base58"})
    assert error["code"] == -32602
    error = _call_error(
        node, "sendTransaction", base64.b64encode(bytes(1300)).decode(), {"encoding": "base64"}
    )
    assert error["code"] == -32602 and "too large" in str(error["message"])
    error = _call_error(node, "sendTransaction", "AA==", {"encoding": "hex"})
    assert error["code"] == -32602
    payer = _funded(node, 10**9)
    tx = _transfer_tx(node, payer, 1000)
    error = _call_error(node, "sendTransaction", _b64(bytes(tx) + b"\x00"), {"encoding": "base64"})
    assert error["code"] == -32602


def test_invalid_signature_is_refused(node: NodeProcess) -> None:
    payer = _funded(node, 10**9)
    tx = _transfer_tx(node, payer, 1_000_000)
    forged = VersionedTransaction.populate(tx.message, [Keypair().sign_message(bytes(tx.message))])
    for skip in (False, True):
        error = _call_error(
            node, "sendTransaction", _b64(forged), {"encoding": "base64", "skipPreflight": skip}
        )
        assert error["code"] == -32003, error
    assert node.result("getBalance", str(payer.pubkey()))["value"] == 10**9
    zero = VersionedTransaction.populate(tx.message, [Signature.default()])
    assert (
        _call_error(node, "sendTransaction", _b64(zero), {"encoding": "base64"})["code"] == -32003
    )


def test_replay_and_double_spend(node: NodeProcess) -> None:
    payer = _funded(node, 1_000_000_000)
    blockhash = Hash.from_string(node.result("getLatestBlockhash")["value"]["blockhash"])
    first = _transfer_tx(node, payer, 900_000_000, blockhash)
    assert node.result("sendTransaction", _b64(first), {"encoding": "base64"}) == str(
        first.signatures[0]
    )
    replay = _call_error(node, "sendTransaction", _b64(first), {"encoding": "base64"})
    assert replay["code"] == -32002 and replay["data"]["err"] == "AlreadyProcessed"
    replay = _call_error(
        node, "sendTransaction", _b64(first), {"encoding": "base64", "skipPreflight": True}
    )
    assert replay["code"] == -32002
    second = _transfer_tx(node, payer, 900_000_000, blockhash)  # the same lamports again
    spend = _call_error(node, "sendTransaction", _b64(second), {"encoding": "base64"})
    assert spend["code"] == -32002 and spend["data"]["err"] == {
        "InstructionError": [0, {"Custom": 1}]
    }
    assert node.result("getBalance", str(payer.pubkey()))["value"] == 100_000_000 - 5000
    # Without preflight the failed spend is included and pays its fee, as on Solana.
    assert node.result(
        "sendTransaction", _b64(second), {"encoding": "base64", "skipPreflight": True}
    )
    assert node.result("getBalance", str(payer.pubkey()))["value"] == 100_000_000 - 10_000
    stale = _transfer_tx(node, payer, 1, Hash.new_unique())
    error = _call_error(node, "sendTransaction", _b64(stale), {"encoding": "base64"})
    assert error["code"] == -32002 and error["data"]["err"] == "BlockhashNotFound"
    broke = Keypair()
    error = _call_error(
        node, "sendTransaction", _b64(_transfer_tx(node, broke, 1)), {"encoding": "base64"}
    )
    assert error["code"] == -32002 and error["data"]["err"] == "AccountNotFound"


def test_websocket_bad_messages(node: NodeProcess) -> None:
    async def session() -> list[dict[str, object]]:
        async with aiohttp.ClientSession() as http, http.ws_connect(node.ws_url) as ws:
            answers = []
            for text in (
                "{bad",
                "[]",
                '{"jsonrpc":"2.0","id":1,"method":"nope"}',
                '{"jsonrpc":"2.0","id":2,"method":"accountSubscribe","params":[5]}',
                '{"jsonrpc":"2.0","id":3,"method":"slotUnsubscribe","params":[999]}',
                '{"jsonrpc":"2.0","id":4,"method":"ping"}',
            ):
                await ws.send_str(text)
                answers.append(json.loads((await ws.receive(timeout=5)).data))
            await ws.send_str('{"jsonrpc":"2.0","method":"ping"}')  # a notification: no answer
            await ws.send_str('{"jsonrpc":"2.0","id":5,"method":"slotSubscribe"}')
            answers.append(json.loads((await ws.receive(timeout=5)).data))
            answers.append(json.loads((await ws.receive(timeout=5)).data))
            return answers

    answers = asyncio.run(session())
    codes = [a.get("error", {}).get("code") for a in answers[:5]]  # type: ignore[union-attr]
    assert codes == [-32700, -32600, -32601, -32602, -32602]
    assert answers[5]["result"] == "pong"
    assert isinstance(answers[6]["result"], int)
    assert answers[7]["method"] == "slotNotification"
    assert node.result("getHealth") == "ok"


@pytest.fixture(scope="module")
def limited_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    base = tmp_path_factory.mktemp("limited")
    env = {"HELIOSTAT_NODE_RATE_LIMIT_RPS": "2", "HELIOSTAT_NODE_RATE_LIMIT_BURST": "5"}
    process = NodeProcess(base / "data", free_port_pair(), Keypair(), env=env).start()
    yield process
    process.stop()


def test_rate_limit(limited_node: NodeProcess) -> None:
    statuses = [
        limited_node.post('{"jsonrpc":"2.0","id":1,"method":"getSlot"}')[0] for _ in range(12)
    ]
    assert statuses[:4] == [200] * 4
    assert 429 in statuses
