"""Websocket subscriptions deliver what happened: signature, account, logs, slot; unsubscribes
stop them. And the token read methods return the values the transactions produced."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from node_harness import NodeProcess
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import VersionedTransaction

from heliostat.testing import spl_token

TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")


def _send(node: NodeProcess, ixs: list[Any], payer: Keypair, signers: list[Keypair]) -> str:
    blockhash = Hash.from_string(node.result("getLatestBlockhash")["value"]["blockhash"])
    tx = VersionedTransaction(Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), signers)
    encoded = base64.b64encode(bytes(tx)).decode()
    signature: str = node.result("sendTransaction", encoded, {"encoding": "base64"})
    return signature


class _Socket:
    """A websocket whose messages are kept until a reader asks for them."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.backlog: list[dict[str, Any]] = []

    async def send(self, request_id: int, method: str, *p: Any) -> None:
        request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(p)}
        await self.ws.send_str(json.dumps(request))

    async def take(
        self, wanted: Callable[[dict[str, Any]], bool], what: str, seconds: float = 10
    ) -> dict[str, Any]:
        for message in self.backlog:
            if wanted(message):
                self.backlog.remove(message)
                return message
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = json.loads((await self.ws.receive(timeout=left)).data)
            except TimeoutError:
                break
            if wanted(message):
                return message
            self.backlog.append(message)
        raise AssertionError(f"no {what}")

    async def subscribe(self, request_id: int, method: str, *p: Any) -> int:
        await self.send(request_id, method, *p)
        answer = await self.take(lambda m: m.get("id") == request_id, f"answer to {method}")
        sub_id: int = answer["result"]
        return sub_id

    async def notification(self, method: str, sub_id: int) -> dict[str, Any]:
        message = await self.take(
            lambda m: m.get("method") == method and m["params"]["subscription"] == sub_id, method
        )
        result: dict[str, Any] = message["params"]["result"]
        return result


def test_subscriptions_notify_and_unsubscribe(node: NodeProcess) -> None:
    payer, watched = Keypair(), Keypair().pubkey()
    node.result("requestAirdrop", str(payer.pubkey()), 10**11)

    async def session() -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(node.ws_url) as raw:
            ws = _Socket(raw)
            account_sub = await ws.subscribe(
                1,
                "accountSubscribe",
                str(watched),
                {"encoding": "base64", "commitment": "processed"},
            )
            logs_sub = await ws.subscribe(
                2, "logsSubscribe", {"mentions": [str(watched)]}, {"commitment": "processed"}
            )
            slot_sub = await ws.subscribe(3, "slotSubscribe")
            ix = transfer(
                TransferParams(from_pubkey=payer.pubkey(), to_pubkey=watched, lamports=2_000_000)
            )
            signature = await asyncio.to_thread(_send, node, [ix], payer, [payer])
            signature_sub = await ws.subscribe(
                4, "signatureSubscribe", signature, {"commitment": "confirmed"}
            )
            account = await ws.notification("accountNotification", account_sub)
            assert account["value"]["lamports"] == 2_000_000
            assert account["value"]["owner"] == "11111111111111111111111111111111"
            logs = await ws.notification("logsNotification", logs_sub)
            assert logs["value"]["signature"] == signature and logs["value"]["err"] is None
            assert any(
                "11111111111111111111111111111111 success" in line for line in logs["value"]["logs"]
            )
            status = await ws.notification("signatureNotification", signature_sub)
            assert status["value"] == {"err": None} and status["context"]["slot"] >= 1
            slot = await ws.notification("slotNotification", slot_sub)
            assert slot["slot"] == slot["parent"] + 1
            for request_id, (method, sub_id) in enumerate(
                [
                    ("accountUnsubscribe", account_sub),
                    ("logsUnsubscribe", logs_sub),
                    ("slotUnsubscribe", slot_sub),
                ],
                start=10,
            ):
                await ws.send(request_id, method, sub_id)
            for request_id in (10, 11, 12):
                answer = await ws.take(lambda m, i=request_id: m.get("id") == i, "unsubscribe")
                assert answer["result"] is True
            # Once answered, nothing more for those subscriptions, even for a further transfer.
            ws.backlog.clear()
            ix = transfer(
                TransferParams(from_pubkey=payer.pubkey(), to_pubkey=watched, lamports=1_000)
            )
            await asyncio.to_thread(_send, node, [ix], payer, [payer])
            with pytest.raises(AssertionError, match="no notification"):
                await ws.take(lambda m: "method" in m, "notification", seconds=1.5)

    asyncio.run(session())


def test_token_reads_match_the_transactions(node: NodeProcess) -> None:
    authority, owner, mint, account = Keypair(), Keypair(), Keypair(), Keypair()
    node.result("requestAirdrop", str(authority.pubkey()), 10**11)
    rent_mint = node.result("getMinimumBalanceForRentExemption", 82)
    rent_account = node.result("getMinimumBalanceForRentExemption", 165)
    create_mint = create_account(
        CreateAccountParams(
            from_pubkey=authority.pubkey(),
            to_pubkey=mint.pubkey(),
            lamports=rent_mint,
            space=82,
            owner=TOKEN_PROGRAM,
        )
    )
    create_token_account = create_account(
        CreateAccountParams(
            from_pubkey=authority.pubkey(),
            to_pubkey=account.pubkey(),
            lamports=rent_account,
            space=165,
            owner=TOKEN_PROGRAM,
        )
    )
    _send(
        node,
        [
            create_mint,
            spl_token.initialize_mint2(mint.pubkey(), 6, authority.pubkey()),
            create_token_account,
            spl_token.initialize_account3(account.pubkey(), mint.pubkey(), owner.pubkey()),
            spl_token.mint_to(mint.pubkey(), account.pubkey(), authority.pubkey(), 1_234_567),
        ],
        authority,
        [authority, mint, account],
    )
    supply = node.result("getTokenSupply", str(mint.pubkey()))["value"]
    assert (supply["amount"], supply["decimals"], supply["uiAmountString"]) == (
        "1234567",
        6,
        "1.234567",
    )
    balance = node.result("getTokenAccountBalance", str(account.pubkey()))["value"]
    assert balance["amount"] == "1234567"
    held = node.result(
        "getTokenAccountsByOwner",
        str(owner.pubkey()),
        {"mint": str(mint.pubkey())},
        {"encoding": "jsonParsed"},
    )["value"]
    assert [h["pubkey"] for h in held] == [str(account.pubkey())]
    info = held[0]["account"]["data"]["parsed"]["info"]
    assert info["mint"] == str(mint.pubkey()) and info["owner"] == str(owner.pubkey())
    assert info["tokenAmount"]["amount"] == "1234567"
    by_program = node.result(
        "getProgramAccounts",
        str(TOKEN_PROGRAM),
        {
            "encoding": "base64",
            "filters": [
                {"dataSize": 165},
                {"memcmp": {"offset": 32, "bytes": str(owner.pubkey())}},
            ],
        },
    )
    assert [a["pubkey"] for a in by_program] == [str(account.pubkey())]
    none = node.result(
        "getProgramAccounts",
        str(TOKEN_PROGRAM),
        {"filters": [{"memcmp": {"offset": 32, "bytes": str(Keypair().pubkey())}}]},
    )
    assert none == []
