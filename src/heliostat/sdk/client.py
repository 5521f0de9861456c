"""`HeliostatClient`: solana-py's async client plus what Solana clients lack.

Everything Solana has a word for goes through `client.solana` (solana-py's `AsyncClient`,
unchanged). This layer adds the rollup's own guarantees: a transaction sent through
`send_transaction` returns only with the sequencer's signed soft-confirmation receipt,
verified against the sequencer's key, the chain's genesis hash and the transaction's own
bytes; `receipts_chain` checks that receipts follow each other without reordering; and the
batch methods follow a transaction's way to L1 finality.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from solana.rpc.async_api import AsyncClient
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction, VersionedTransaction

from heliostat.node.base58 import b58decode
from heliostat.primitives.errors import HeliostatError
from heliostat.sdk.receipts import Receipt, verify_receipt, verify_sequence

COMMITMENTS = ("processed", "confirmed", "finalized")


class ClientError(HeliostatError):
    """A node answer the client cannot accept (an RPC error, a timeout, a bad receipt)."""


@dataclass(frozen=True)
class SequencerInfo:
    """Who signs receipts, for which chain."""

    sequencer: Pubkey
    genesis_hash: bytes
    chain: str
    slot_ms: int


@dataclass(frozen=True)
class SoftConfirmation:
    """A sent transaction's signature and its verified receipt."""

    signature: Signature
    receipt: Receipt
    batch: int | None


class HeliostatClient:
    """An async client of a Heliostat node. Use as ``async with HeliostatClient(url) as c:``."""

    def __init__(self, url: str, *, sequencer: Pubkey | None = None) -> None:
        self.url = url
        self.solana = AsyncClient(url)
        self._expected_sequencer = sequencer
        self._info: SequencerInfo | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HeliostatClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close both HTTP sessions."""
        await self.solana.close()
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, *params: Any) -> Any:
        """Call a JSON-RPC method (for the `heliostat_*` ones solana-py does not know)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        try:
            async with self._session.post(self.url, json=body) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as err:
            raise ClientError(f"{method}: {err}", reason="transport") from err
        if "error" in answer:
            raise ClientError(f"{method}: {answer['error'].get('message')}", reason="rpc_error")
        return answer.get("result")

    async def sequencer_info(self) -> SequencerInfo:
        """Return the sequencer's key and chain; refuse a node signing with an unexpected key."""
        if self._info is None:
            raw = await self.call("heliostat_getSequencerInfo")
            info = SequencerInfo(
                Pubkey.from_string(raw["sequencer"]),
                b58decode(raw["genesisHash"]),
                raw["chain"],
                int(raw["slotMs"]),
            )
            if self._expected_sequencer not in (None, info.sequencer):
                raise ClientError(
                    f"node signs with {info.sequencer}, expected {self._expected_sequencer}",
                    reason="wrong_sequencer",
                )
            self._info = info
        return self._info

    async def receipt(self, signature: Signature, transaction: bytes | None = None) -> Receipt:
        """Fetch and verify a transaction's receipt (against its bytes, when given)."""
        info = await self.sequencer_info()
        raw = await self.call("heliostat_getReceipt", str(signature))
        if raw is None:
            raise ClientError(f"no receipt for {signature}", reason="unknown_transaction")
        return verify_receipt(
            base64.b64decode(raw["receipt"]),
            info.sequencer,
            genesis_hash=info.genesis_hash,
            transaction=transaction,
        )

    async def send_transaction(
        self, transaction: Transaction | VersionedTransaction, *, timeout_s: float = 30.0
    ) -> SoftConfirmation:
        """Send, and return once the sequencer's receipt for exactly these bytes verifies."""
        wire = bytes(transaction)
        sent = await self.call("sendTransaction", base64.b64encode(wire).decode(),
                               {"encoding": "base64"})  # fmt: skip
        signature = Signature.from_string(sent)
        await self.wait_for(signature, "processed", timeout_s=timeout_s)
        receipt = await self.receipt(signature, wire)
        raw = await self.call("heliostat_getReceipt", str(signature))
        return SoftConfirmation(signature, receipt, raw.get("batch"))

    async def wait_for(
        self, signature: Signature, commitment: str = "finalized", *, timeout_s: float = 60.0
    ) -> dict[str, Any]:
        """Wait until a transaction reaches ``commitment`` (finalized: its batch executed on L1)."""
        if commitment not in COMMITMENTS:
            raise ClientError(f"commitment must be one of {COMMITMENTS}", reason="bad_commitment")
        wanted = COMMITMENTS.index(commitment)
        deadline = time.monotonic() + timeout_s
        while True:
            answer = await self.call("getSignatureStatuses", [str(signature)])
            status = answer["value"][0]
            if status is not None and COMMITMENTS.index(status["confirmationStatus"]) >= wanted:
                return dict(status)
            if time.monotonic() > deadline:
                raise ClientError(
                    f"{signature} not {commitment} after {timeout_s:.0f} s", reason="timeout"
                )
            await asyncio.sleep(0.05)

    async def batch_status(self, number: int) -> dict[str, Any] | None:
        """Return a batch's range, state root and L1 status (None before it is sealed)."""
        result: dict[str, Any] | None = await self.call("heliostat_getBatchStatus", number)
        return result

    async def receipts_chain(self, receipts: list[Receipt]) -> list[Receipt]:
        """Check receipts of consecutive positions chain through their running hashes."""
        info = await self.sequencer_info()
        return verify_sequence([r.raw for r in receipts], info.sequencer)
