"""The demo flow on a running devnet, each step printed with its time.

Deposit ETH on L1 → the node credits the lamports → SOL transfers sent through solana-py
(`HeliostatClient`, receipts verified) → an L2 bridge withdrawal → its batch sealed, proven,
committed, proven and executed on L1 → the withdrawal claimed on L1 with its Merkle proof.
`run_flow` returns what it measured; the end-to-end test checks the L1 balances it reports.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from heliostat.devnet.config import anvil_key
from heliostat.devnet.runner import Devnet
from heliostat.sdk import bridge
from heliostat.sdk.client import HeliostatClient

LAMPORTS_PER_SOL = 10**9
GWEI = 10**9


@dataclass
class FlowResult:
    """What the flow did and measured."""

    deposit_lamports: int
    transfers: int
    withdraw_lamports: int
    batch: int = 0
    l1_recipient: str = ""
    l1_paid_wei: int = 0
    l2_balance: int = 0
    steps: list[tuple[str, float]] = field(default_factory=list)


async def run_flow(
    devnet: Devnet,
    *,
    transfers: int = 3,
    deposit_lamports: int = 2 * LAMPORTS_PER_SOL,
    withdraw_lamports: int = LAMPORTS_PER_SOL // 2,
    finality_timeout_s: float = 900.0,
    out: Callable[[str], None] = print,
) -> FlowResult:
    """Run the demo flow (see the module docstring) on a started devnet."""
    assert devnet.w3 is not None and devnet.deployment is not None
    w3 = devnet.w3
    contract = bridge.rollup_contract(w3, devnet.deployment.rollup)
    depositor, recipient, claimer = anvil_key(1), anvil_key(2), anvil_key(3)
    user = Keypair()
    result = FlowResult(
        deposit_lamports, transfers, withdraw_lamports, l1_recipient=recipient.address
    )
    started = last = time.monotonic()

    def step(text: str) -> None:
        nonlocal last
        now = time.monotonic()
        result.steps.append((text, now - last))
        out(f"[{now - started:6.1f} s] {text} ({now - last:.2f} s)")
        last = now

    receipt = await asyncio.to_thread(
        bridge.deposit, w3, contract, depositor, user.pubkey(), deposit_lamports
    )
    step(f"L1: deposited {deposit_lamports / 1e9:g} ETH for {user.pubkey()} "
         f"(queue id {receipt.l1_index}, tx {receipt.l1_transaction[:18]}…)")  # fmt: skip
    async with HeliostatClient(devnet.rpc_url) as client:
        await _wait_balance(client, user.pubkey(), deposit_lamports, 120.0)
        step(f"L2: {deposit_lamports:,} lamports credited by the node")

        for i in range(transfers):
            to = Keypair().pubkey()
            ix = transfer(TransferParams(from_pubkey=user.pubkey(), to_pubkey=to,
                                         lamports=LAMPORTS_PER_SOL // 10))  # fmt: skip
            sent = await client.send_transaction(await _signed(client, user, [ix]))
            step(f"L2: transfer {i + 1}/{transfers} of 0.1 SOL soft-confirmed via solana-py, "
                 f"receipt verified (slot {sent.receipt.body.slot})")  # fmt: skip

        sent = await bridge.withdraw(client, user, withdraw_lamports, recipient.address)
        step(f"L2: withdrawal of {withdraw_lamports:,} lamports to {recipient.address} "
             f"soft-confirmed ({sent.signature})")  # fmt: skip

        batch = await _batch_of(client, str(sent.signature), 120.0)
        result.batch = batch
        step(f"L2: batch {batch} sealed")
        waited = await asyncio.to_thread(
            bridge.wait_for_l1_finality, contract, batch, timeout_s=finality_timeout_s
        )
        step(f"L1: batch {batch} proven and executed (waited {waited:.1f} s)")
        await client.wait_for(sent.signature, "finalized", timeout_s=60.0)
        step("L2: the withdrawal's commitment is finalized")
        result.l2_balance = (await client.solana.get_balance(user.pubkey())).value

    before = await asyncio.to_thread(w3.eth.get_balance, recipient.address)
    claim = await asyncio.to_thread(
        bridge.claim, w3, contract, claimer, batch, user.pubkey(), recipient.address,
        withdraw_lamports,
    )  # fmt: skip
    after = await asyncio.to_thread(w3.eth.get_balance, recipient.address)
    result.l1_paid_wei = after - before
    step(f"L1: withdrawal claimed, {result.l1_paid_wei / 1e18:g} ETH paid to "
         f"{recipient.address} (tx {claim.l1_transaction[:18]}…)")  # fmt: skip
    return result


async def _signed(
    client: HeliostatClient, payer: Keypair, ixs: list[Instruction]
) -> VersionedTransaction:
    blockhash = (await client.solana.get_latest_blockhash()).value.blockhash
    return VersionedTransaction(Message.new_with_blockhash(ixs, payer.pubkey(), blockhash), [payer])


async def _wait_balance(
    client: HeliostatClient, key: Pubkey, at_least: int, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while (await client.solana.get_balance(key)).value < at_least:
        if time.monotonic() > deadline:
            raise bridge.BridgeError(f"the deposit did not reach L2 within {timeout_s:.0f} s")
        await asyncio.sleep(0.1)


async def _batch_of(client: HeliostatClient, signature: str, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        raw = await client.call("heliostat_getReceipt", signature)
        if raw is not None and raw.get("batch") is not None:
            return int(raw["batch"])
        if time.monotonic() > deadline:
            raise bridge.BridgeError(f"{signature} not in a sealed batch after {timeout_s:.0f} s")
        await asyncio.sleep(0.1)
